// Writes the package's entry files after tsup: dist/<entry>.cjs and
// dist/<entry>.js re-export one part of the single bundle (dist/atomik.cjs)
// by name, dist/<entry>.d.ts points at the declarations. `import` and
// `require` of any entry thus share one copy of every class.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const bundle = require('../dist/atomik.cjs');
const write = (file, text) => writeFileSync(new URL(`../dist/${file}`, import.meta.url), text);
for (const [entry, part] of [
  ['index', 'main'],
  ['serial', 'serial'],
  ['board', 'board'],
  ['replicate', 'replicate'],
  ['testing', 'testing'],
]) {
  const names = Object.keys(bundle[part]).sort();
  write(
    `${entry}.cjs`,
    `'use strict';\nconst { ${part} } = require('./atomik.cjs');\nmodule.exports = {\n${names.map((n) => `  ${n}: ${part}.${n},\n`).join('')}};\n`,
  );
  write(`${entry}.js`, `import bundle from './atomik.cjs';\n\nexport const {\n${names.map((n) => `  ${n},\n`).join('')}} = bundle.${part};\n`);
  write(`${entry}.d.ts`, `export * from './${entry}.cjs';\n`);
}
