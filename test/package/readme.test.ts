// The README's TypeScript examples compile against the package's published
// declarations (dist/*.d.ts, resolved by the package's own name), so the
// documented API cannot drift from the real one.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

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

function diagnostics(source: string): string[] {
  const file = `${root}readme-example.mts`;
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
  host.getSourceFile = (name, version, ...rest) => (name === file ? ts.createSourceFile(name, source, version) : read(name, version, ...rest));
  const exists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || exists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    return `line ${at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('README examples', () => {
  it('has TypeScript examples', () => expect(blocks.length).toBeGreaterThanOrEqual(2));
  blocks.forEach((block, k) => {
    it(`example ${k + 1} type-checks against the published declarations`, () => {
      const imports = block.split('\n').filter((l) => l.startsWith('import '));
      const body = block.split('\n').filter((l) => !l.startsWith('import '));
      expect(diagnostics([...imports, given(block), ...body, 'export {};'].join('\n'))).toEqual([]);
    });
  });
});
