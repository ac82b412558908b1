// The layering check of `npm run lint` (scripts/layers.ts): lib/ as it is
// passes; planted upward imports, cycles and unplaced folders fail it, by
// name, and the command exits non-zero.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { LAYERS, checkLayers } from '../../scripts/layers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string | undefined;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

/** A lib/ tree of the given files (path -> source) in a fresh directory. */
function plant(files: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), 'atomik-layers-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('layering check', () => {
  it('lib/ as it is: no upward import, no cycle', () => {
    expect(checkLayers(join(root, 'lib'))).toEqual([]);
  });

  it('the layers, lowest first', () => {
    expect(LAYERS.flat()).toEqual(['core', 'engine', 'table', 'stream', 'backend', 'serial', 'replicate', 'board', 'testing', 'cli', '.']);
  });

  it('imports down the layers and within a folder pass', () => {
    const lib = plant({
      'core/a.ts': 'export const a = 1;\n',
      'core/b.ts': "import { a } from './a.js';\nexport const b = a;\n",
      'table/t.ts': "import { b } from '../core/b.js';\nexport const t = b;\n",
      'open.ts': "export { t } from './table/t.js';\n",
      'index.ts': "export * from './open.js';\nexport const later = () => import('./cli/main.js');\n",
      'cli/main.ts': "import { t } from '../table/t.js';\nconsole.log(t);\n",
    });
    expect(checkLayers(lib)).toEqual([]);
  });

  it('fails on an import that climbs: a static import, an export-from, a dynamic import, a type', () => {
    const lib = plant({
      'core/a.ts': "import { s } from '../serial/s.js';\nexport const a = s;\n",
      'engine/e.ts': "export { s } from '../serial/s.js';\n",
      'table/t.ts': "export const t = () => import('../open.js');\n",
      'stream/m.ts': "import type { B } from '../backend/b.js';\nexport type M = B;\n",
      'serial/s.ts': 'export const s = 1;\n',
      'backend/b.ts': 'export type B = number;\n',
      'open.ts': 'export const o = 1;\n',
    });
    expect(checkLayers(lib)).toEqual([
      'lib/core/a.ts imports lib/serial/s.ts: core/ may not import from serial/, a layer above it',
      'lib/engine/e.ts imports lib/serial/s.ts: engine/ may not import from serial/, a layer above it',
      'lib/stream/m.ts imports lib/backend/b.ts: stream/ may not import from backend/, a layer above it',
      'lib/table/t.ts imports lib/open.ts: table/ may not import from the top of lib/, a layer above it',
    ]);
  });

  it('fails on a planted cycle inside one folder, type-only imports included, and names its path', () => {
    const lib = plant({
      'serial/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'serial/b.ts': "import type { C } from './c.js';\nexport const b: C = 1;\n",
      'serial/c.ts': "import { a } from './a.js';\nexport type C = typeof a;\n",
      'serial/d.ts': "import { d2 } from './d.js';\nexport const d2 = 1;\nexport { d2 as d };\n",
    });
    expect(checkLayers(lib)).toEqual([
      'import cycle: lib/serial/a.ts -> lib/serial/b.ts -> lib/serial/c.ts -> lib/serial/a.ts',
      'import cycle: lib/serial/d.ts -> lib/serial/d.ts',
    ]);
  });

  it('fails on a folder the layering does not place and on an import out of lib/', () => {
    const lib = plant({ 'extras/x.ts': "import { y } from '../../bench/y.js';\nexport const x = y;\n" });
    expect(checkLayers(lib)).toEqual([
      'lib/extras/x.ts: the folder extras/ has no place in the layering (scripts/layers.ts LAYERS)',
      'lib/extras/x.ts imports bench/y.ts, outside lib/',
    ]);
  });

  it('the lint command exits non-zero and prints each problem', async () => {
    const lib = plant({
      'core/a.ts': "import { b } from '../table/b.js';\nexport const a = b;\n",
      'table/b.ts': "import { a } from '../core/a.js';\nexport const b = () => a;\n",
    });
    const vite = join(root, 'node_modules/vite-node/vite-node.mjs');
    const run = promisify(execFile)(process.execPath, [vite, 'scripts/layers.ts', '--check', lib], { cwd: root });
    const err = (await run.then(
      () => null,
      (e: unknown) => e,
    )) as { code: number; stderr: string } | null;
    expect(err?.code).toBe(1);
    expect(err?.stderr.trim().split('\n')).toEqual([
      'lib/core/a.ts imports lib/table/b.ts: core/ may not import from table/, a layer above it',
      'import cycle: lib/core/a.ts -> lib/table/b.ts -> lib/core/a.ts',
      'layers: 2 problem(s); the layering is in scripts/layers.ts and docs/design.md',
    ]);
  });
});
