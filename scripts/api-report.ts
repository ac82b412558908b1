// The public API, as the built package declares it: every name each entry
// exports, with its kind, read from dist/*.d.ts by the TypeScript compiler.
// `npm run api:report` writes api-report.json; test/package/api.test.ts fails when
// the build and the checked-in report differ, so a change of the public
// surface shows in review.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ENTRIES = {
  'atomik-node': 'index',
  'atomik-node/serial': 'serial',
  'atomik-node/board': 'board',
  'atomik-node/replicate': 'replicate',
  'atomik-node/testing': 'testing',
};
export const REPORT = fileURLToPath(new URL('../api-report.json', import.meta.url));

function kind(symbol: ts.Symbol, checker: ts.TypeChecker): string {
  const s = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const f = s.flags;
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & ts.SymbolFlags.Variable) return 'const';
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.TypeAlias) return 'type';
  if (f & ts.SymbolFlags.Enum) return 'enum';
  return 'other';
}

/** { entry: { name: kind } } for the built declarations. */
export function apiOf(): Record<string, Record<string, string>> {
  const files = Object.values(ENTRIES).map((e) => fileURLToPath(new URL(`../dist/${e}.d.ts`, import.meta.url)));
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const report: Record<string, Record<string, string>> = {};
  for (const [entry, file] of Object.entries(ENTRIES)) {
    const source = program.getSourceFile(fileURLToPath(new URL(`../dist/${file}.d.ts`, import.meta.url)));
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(source!)!);
    report[entry] = Object.fromEntries(exports.map((s): [string, string] => [s.getName(), kind(s, checker)]).sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  return report;
}

export function checkedIn(): Record<string, Record<string, string>> {
  return JSON.parse(readFileSync(REPORT, 'utf8')) as Record<string, Record<string, string>>;
}

if (process.argv.includes('--write')) {
  writeFileSync(REPORT, JSON.stringify(apiOf(), null, 2) + '\n');
  console.log(`wrote ${REPORT}`);
}
