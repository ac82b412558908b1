import { defineConfig } from 'tsup';

// One copy of the code: CommonJS chunks shared by every entry, so a class
// is the same object whether it came through import or require, from the
// main entry or a subpath. Each ES module entry (dist/<entry>.js) only
// re-exports its CommonJS twin by name (scripts/esm-entries.mjs, run after).

export default defineConfig({
  entry: { index: 'lib/index.ts', serial: 'lib/serial/index.ts', board: 'lib/board/index.ts', cli: 'lib/cli.ts' },
  format: ['cjs'],
  splitting: true,
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  keepNames: true,
  // import.meta.url in the CommonJS build
  shims: true,
});
