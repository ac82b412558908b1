import { defineConfig } from 'tsup';

// One copy of the code: everything is bundled once into dist/atomik.cjs;
// dist/<entry>.cjs and dist/<entry>.js only re-export its parts by name
// (scripts/esm-entries.mjs, run after), so a class is the same object
// whether it came through import or require, from any entry.
export default defineConfig({
  entry: { atomik: 'lib/entries.ts', cli: 'lib/cli/main.ts' },
  format: ['cjs'],
  dts: {
    // The typings use Node's own (EventEmitter, Buffer, ioredis): without @types/node
    // the compiler then says which types are missing instead of failing further in.
    banner: '/// <reference types="node" />',
    entry: {
      index: 'lib/index.ts',
      serial: 'lib/serial/index.ts',
      board: 'lib/board/index.ts',
      replicate: 'lib/replicate/index.ts',
      testing: 'lib/testing/index.ts',
    },
  },
  sourcemap: true,
  clean: true,
  target: 'node20',
  keepNames: true,
  // import.meta.url in the CommonJS build
  shims: true,
});
