// Writes the ES module entries after tsup: dist/<entry>.js re-exports its
// CommonJS twin by name and dist/<entry>.d.ts its types, so `import` and
// `require` share one copy of every class.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
for (const entry of ['index', 'serial', 'board']) {
  const names = Object.keys(require(`../dist/${entry}.cjs`)).filter((n) => n !== '__esModule' && n !== 'default');
  writeFileSync(new URL(`../dist/${entry}.js`, import.meta.url), `export {\n${names.map((n) => `  ${n},\n`).join('')}} from './${entry}.cjs';\n`);
  writeFileSync(new URL(`../dist/${entry}.d.ts`, import.meta.url), `export * from './${entry}.cjs';\n`);
}
