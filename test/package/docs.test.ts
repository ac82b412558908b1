// The documentation holds together: every TypeScript example in README.md
// and docs/*.md compiles against the package's published declarations
// (dist/*.d.ts, resolved by the package's own name), so the documented API
// cannot drift from the real one; and every relative link and #anchor in
// them leads to a file and a heading that exist.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const text = (file: string) => readFileSync(join(root, file), 'utf8');
const blocksOf = (file: string) => [...text(file).matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

// What the examples leave to the reader, with the types they need (unless a block declares it itself).
const GIVEN: [string, string][] = [
  ['deltas', 'BigUint64Array'],
  ['values', 'BigUint64Array'],
  ['out', 'BigUint64Array'],
  ['indices', 'Uint32Array'],
  ['other', "InstanceType<typeof import('atomik-node')['AtomikContext']>"],
  ['msg', "InstanceType<typeof import('atomik-node')['DeltaMessage']>"],
  ['ops', "import('atomik-node').BatchOp[]"],
  ['addr', 'number'],
  ['epoch', 'number'],
  ['seq', 'number'],
  ['position', 'number'],
  ['delta', 'bigint'],
  ['oldChunk', 'bigint'],
  ['newChunk', 'bigint'],
  ['data', 'Uint8Array'],
  ['changed', 'Uint8Array'],
  ['route', 'number'],
  ['log', '{ warn(...args: unknown[]): void }'],
];

function given(block: string): string {
  return GIVEN.filter(([name]) => !new RegExp(`\\b(const|let|var)\\s+${name}\\b`).test(block))
    .map(([name, type]) => `declare const ${name}: ${type};`)
    .join('\n');
}

/** Type errors of each example, all compiled in one program (each example a module of its own). */
function diagnostics(sources: string[]): string[][] {
  const files = sources.map((_, k) => `${root}doc-example-${k}.mts`);
  const byName = new Map(files.map((f, k) => [f, sources[k]!]));
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  };
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) => {
    const source = byName.get(name);
    return source === undefined ? read(name, version, ...rest) : ts.createSourceFile(name, source, version);
  };
  const exists = host.fileExists.bind(host);
  host.fileExists = (name) => byName.has(name) || exists(name);
  const program = ts.createProgram(files, options, host);
  const global = program.getGlobalDiagnostics().map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  return files.map((f) => {
    const file = program.getSourceFile(f)!;
    const own = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map((d) => {
      const at = d.start !== undefined ? file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      return `line ${at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    return [...global, ...own];
  });
}

/** An example as a module: its imports, the names it leaves to the reader, its body. */
function asModule(block: string): string {
  const imports = block.split('\n').filter((l) => l.startsWith('import '));
  const body = block.split('\n').filter((l) => !l.startsWith('import '));
  return [...imports, given(block), ...body, 'export {};'].join('\n');
}

const examples = DOCS.flatMap((file) => blocksOf(file).map((block, k) => ({ file, k, block })));
let compiled: string[][] | undefined;
const errorsOf = (i: number) => (compiled ??= diagnostics(examples.map((e) => asModule(e.block))))[i];

describe('TypeScript examples', () => {
  it('the README and the API reference have examples', () => {
    expect(blocksOf('README.md').length).toBeGreaterThanOrEqual(5);
    expect(blocksOf('docs/api.md').length).toBeGreaterThanOrEqual(2);
  });
  examples.forEach(({ file, k }, i) => {
    it(`${file}, example ${k + 1} type-checks against the published declarations`, () => {
      expect(errorsOf(i)).toEqual([]);
    });
  });
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings (outside code blocks); a repeated heading gets -1, -2, ... */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, title] of markdown.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = slug(title!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The relative links of a Markdown file (outside code and inline code): [text](target). */
function links(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/i.test(t));
}

/** Why `target`, linked from `file`, does not resolve; null when it does. */
function broken(file: string, target: string): string | null {
  const [path, anchor] = target.split('#') as [string, string | undefined];
  const dest = path === '' ? join(root, file) : join(root, dirname(file), path);
  if (relative(root, dest).startsWith('..')) return `${target}: outside the repository`;
  if (!existsSync(dest)) return `${target}: no such file`;
  if (anchor === undefined) return null;
  if (!dest.endsWith('.md')) return `${target}: an anchor into a file that is not Markdown`;
  return anchors(readFileSync(dest, 'utf8')).has(anchor) ? null : `${target}: no heading with that anchor in ${relative(root, dest)}`;
}

describe('links', () => {
  it('the README links to every guide in docs/', () => {
    const targets = new Set(links(text('README.md')).map((t) => t.split('#')[0]));
    expect(DOCS.filter((f) => f !== 'README.md' && !targets.has(f))).toEqual([]);
  });
  for (const file of DOCS) {
    it(`${file}: every relative link and anchor resolves`, () => {
      const found = links(text(file));
      expect(found.length).toBeGreaterThan(0);
      expect(found.map((t) => broken(file, t)).filter((why) => why !== null)).toEqual([]);
    });
  }

  it('the check sees a missing file, a missing anchor and a link out of the repository', () => {
    expect(broken('README.md', 'docs/nope.md')).toBe('docs/nope.md: no such file');
    expect(broken('README.md', 'docs/api.md#no-such-heading')).toBe('docs/api.md#no-such-heading: no heading with that anchor in docs/api.md');
    expect(broken('docs/api.md', '#errors')).toBeNull();
    expect(broken('docs/api.md', '../../etc/passwd')).toBe('../../etc/passwd: outside the repository');
    expect(broken('README.md', 'package.json#x')).toBe('package.json#x: an anchor into a file that is not Markdown');
    expect(slug('Serial links: recovery, failure, reconnection')).toBe('serial-links-recovery-failure-reconnection');
    expect(slug("Running this package's suite on a real board")).toBe('running-this-packages-suite-on-a-real-board');
    expect(slug('Contexts, tables, streams, fingerprints and open()')).toBe('contexts-tables-streams-fingerprints-and-open');
    expect([...anchors('# A\n## A\n```\n# not a heading\n```\n### A\n')]).toEqual(['a', 'a-1', 'a-2']);
    expect(links('see [x](a.md#b), `[y](c.md)`, [z](https://example.com) and\n```\n[w](d.md)\n```\n')).toEqual(['a.md#b']);
  });
});
