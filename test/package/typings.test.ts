// The typings as an app meets them: a scratch app that imports the package
// and every subpath is type-checked under each module resolution a project
// may use (node10, node16, nodenext, bundler), from ESM and CommonJS, with
// @types/node installed as the package's typings need (and named by an
// error when it is not). A misuse must still
// be a type error there, so the types cannot have fallen back to `any`.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** Uses every entry, and misuses each once (each misuse must be an error). */
const APP = (from: (entry: string) => string) => `
import { AtomikTable, AtomikContext, open, type Group } from ${from('atomik-node')};
import { startBoard, type VirtualBoard } from ${from('atomik-node/board')};
import { probe, type Transport } from ${from('atomik-node/serial')};
import { encodeLogEntry } from ${from('atomik-node/replicate')};
import { startRedisServer } from ${from('atomik-node/testing')};

const group: Group = 'add';
const table = new AtomikTable(4, { group });
table.accum(0, -1n);
const size: number = table.size;
const state: bigint = new AtomikContext().read();
export async function use(t: Transport): Promise<[number, bigint, string, unknown, unknown, unknown]> {
  const acc = await open({ contexts: 4 });
  const board: VirtualBoard = await startBoard({ board: 'host' });
  return [size + acc.contexts, state, board.port, await probe(t), encodeLogEntry, startRedisServer];
}
// @ts-expect-error a group is 'xor' or 'add'
new AtomikTable(4, { group: 'sub' });
// @ts-expect-error a delta is a bigint
table.accum(0, 1);
// @ts-expect-error there is no such board
void startBoard({ board: 'esp32' });
`;

const RESOLUTIONS: [string, Record<string, string>, 'module' | 'commonjs'][] = [
  ['node10 (moduleResolution node)', { module: 'commonjs', moduleResolution: 'node' }, 'commonjs'],
  ['node16', { module: 'node16', moduleResolution: 'node16' }, 'module'],
  ['node16, a CommonJS app', { module: 'node16', moduleResolution: 'node16' }, 'commonjs'],
  ['nodenext', { module: 'nodenext', moduleResolution: 'nodenext' }, 'module'],
  ['bundler', { module: 'esnext', moduleResolution: 'bundler' }, 'module'],
];

describe('the typings in an app of its own', () => {
  let app: string;
  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'atomik-types-'));
    mkdirSync(join(app, 'node_modules', '@types'), { recursive: true });
    symlinkSync(root, join(app, 'node_modules', 'atomik-node'));
    symlinkSync(join(root, 'node_modules', '@types', 'node'), join(app, 'node_modules', '@types', 'node'));
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  for (const [name, options, type] of RESOLUTIONS) {
    it(`type-check under ${name}`, async () => {
      const dir = join(app, name.replace(/\W+/g, '-'));
      mkdirSync(dir);
      symlinkSync(join(app, 'node_modules'), join(dir, 'node_modules'));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type }));
      writeFileSync(
        join(dir, 'app.ts'),
        APP((entry) => `'${entry}'`),
      );
      const compilerOptions = { ...options, target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['app.ts'] }));
      const result = await promisify(execFile)(process.execPath, [tsc, '-p', dir]).then(
        () => '',
        (err: { stdout: string }) => err.stdout,
      );
      expect(result).toBe('');
    }, 60_000);
  }

  it('without @types/node an error names the missing Node typings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomik-types-bare-'));
    try {
      // A copy, as npm installs it: a link would find the @types/node of this repository.
      const pkg = join(dir, 'node_modules', 'atomik-node');
      mkdirSync(pkg, { recursive: true });
      for (const part of ['package.json', 'dist']) cpSync(join(root, part), join(pkg, part), { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(join(dir, 'app.ts'), "import { AtomikTable } from 'atomik-node';\nexport const t = new AtomikTable(4);\n");
      const compilerOptions = { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: [] };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['app.ts'] }));
      const result = await promisify(execFile)(process.execPath, [tsc, '-p', dir]).then(
        () => '',
        (err: { stdout: string }) => err.stdout,
      );
      expect(result).toContain("error TS2688: Cannot find type definition file for 'node'.");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
