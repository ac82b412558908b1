// The layering of lib/ (docs/design.md): each folder may import from its
// own folder and from the folders below it in LAYERS, never from one above;
// the files at the top of lib/ (open.ts, limits.ts, index.ts, entries.ts)
// sit on top of every folder. No file may take part in an import cycle,
// type-only imports included: a cycle of types still ties the files into one.
// `npm run lint` runs this (`vite-node scripts/layers.ts --check`, or
// `--check <dir>` for another tree); test/package/layers.test.ts plants
// violations and sees it fail.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** lib/'s folders, lowest first. `testing` (the Redis test server) imports none of the others. */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['engine'],
  ['table'],
  ['stream'],
  ['backend'],
  ['serial'],
  ['replicate'],
  ['board', 'testing'],
  ['cli'],
  ['.'], // open.ts, limits.ts, index.ts, entries.ts
];

/** The layer of a file of lib/ given relative to lib/: its folder, '.' for a top-level file. */
function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 1 ? parts[0]! : '.';
}

const label = (folder: string) => (folder === '.' ? 'the top of lib/' : `${folder}/`);

function rank(folder: string): number {
  return LAYERS.findIndex((layer) => layer.includes(folder));
}

function sources(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path, base);
    return /\.m?ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [relative(base, path).split(sep).join('/')] : [];
  });
}

/** The files of lib/ that `file` imports (static, dynamic, `export ... from` and type-only). */
function importsOf(lib: string, file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(lib, file), 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) =>
      normalize(join(dirname(file), name))
        .split(sep)
        .join('/')
        .replace(/\.m?js$/, '.ts'),
    );
}

/** Every layering violation and import cycle under `lib`, one line each; empty when the layout holds. */
export function checkLayers(lib: string): string[] {
  const files = sources(lib).sort();
  const graph = new Map(files.map((f) => [f, importsOf(lib, f)]));
  const problems: string[] = [];
  for (const [file, targets] of graph) {
    const from = folderOf(file);
    if (rank(from) < 0) problems.push(`lib/${file}: the folder ${from}/ has no place in the layering (scripts/layers.ts LAYERS)`);
    for (const target of targets) {
      if (target.startsWith('..')) {
        problems.push(`lib/${file} imports ${target.replace(/^(\.\.\/)+/, '')}, outside lib/`);
        continue;
      }
      const to = folderOf(target);
      if (rank(from) >= 0 && rank(to) > rank(from))
        problems.push(`lib/${file} imports lib/${target}: ${label(from)} may not import from ${label(to)}, a layer above it`);
    }
  }
  for (const cycle of cycles(graph)) problems.push(`import cycle: ${[...cycle, cycle[0]].map((f) => `lib/${f}`).join(' -> ')}`);
  return problems;
}

/** The cycles of the import graph: one per strongly connected component, as a path through it. */
function cycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's strongly connected components.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1 || graph.get(v)!.includes(v)) found.push(pathThrough(graph, new Set(component), component.sort()[0]!));
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** A shortest cycle from `start` back to itself inside `component`. */
function pathThrough(graph: Map<string, string[]>, component: Set<string>, start: string): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of graph.get(v)!) {
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return path;
      }
      if (component.has(w) && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

const flag = process.argv.indexOf('--check');
if (flag >= 0) {
  const lib = process.argv[flag + 1] ?? fileURLToPath(new URL('../lib', import.meta.url));
  const problems = checkLayers(lib);
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`layers: ${problems.length} problem(s); the layering is in scripts/layers.ts and docs/design.md`);
    process.exit(1);
  }
}
