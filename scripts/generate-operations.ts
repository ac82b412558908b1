// Writes the copies of lib/core/operations.ts that other languages need: the
// record opcodes in native/atomik.h, the wire opcodes and their sizes in
// firmware/core/device.h, and the operations table of firmware/PROTOCOL.md.
// `npm run generate` rewrites them; test/core/operations.test.ts fails when a
// checked-in copy differs from what this would write.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OPERATIONS, type Operation } from '../lib/core/operations.js';

const C_BEGIN = '/* Generated from lib/core/operations.ts by `npm run generate`: do not edit. */';
const C_END = '/* End of generated section. */';
const MD_BEGIN = '<!-- Generated from lib/core/operations.ts by `npm run generate`: do not edit. -->';
const MD_END = '<!-- End of generated section. -->';

export interface Section {
  /** Path from the package root. */
  file: string;
  begin: string;
  end: string;
  text: string;
}

const ops = Object.entries(OPERATIONS) as [string, Operation][];
const upper = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
const hex2 = (n: number) => `0x${n.toString(16).padStart(2, '0').toUpperCase()}`;
const RESULT_BYTES = { none: 0, u64: 8, bool: 1 } as const;
const operandBytes = (o: Operation) => (o.operand === 'value' ? 10 : o.operand === 'none' ? 2 : 4);
const recorded = ops.filter(([, o]) => o.record !== null).sort((a, b) => a[1].record! - b[1].record!);
const byWire = [...ops].sort((a, b) => a[1].wire - b[1].wire);
const maxWire = Math.max(...ops.map(([, o]) => o.wire));
const maxRecord = Math.max(...recorded.map(([, o]) => o.record!));

function atomikHeader(): string {
  const width = Math.max(...recorded.map(([name]) => `ATOMIK_OP_${upper(name)} = 0,`.length));
  const lines = recorded.map(
    ([name, o]) => `  ${`ATOMIK_OP_${upper(name)} = ${o.record},`.padEnd(width)} /* ${o.result === 'none' ? o.doc : `value <- ${o.doc}`} */`,
  );
  return ['enum {', ...lines.map((l, i) => (i === lines.length - 1 ? l.replace(/,(\s*\/\*)/, ' $1') : l)), '};', `#define ATOMIK_OP_MAX ${maxRecord}`].join(
    '\n',
  );
}

function deviceHeader(): string {
  const table = (pick: (o: Operation) => string, none: string) => {
    const cells: string[] = [];
    for (let code = 0; code <= maxWire; code++) {
      const entry = ops.find(([, o]) => o.wire === code);
      cells.push(entry ? pick(entry[1]) : none);
    }
    return `{ ${cells.join(', ')} }`;
  };
  const execOp = (o: Operation) => {
    const name = o.record !== null ? ops.find(([, p]) => p === o)![0] : o.runOf!;
    return `ATOMIK_OP_${upper(name)}`;
  };
  return [
    '/* Batch operations on the wire (PROTOCOL.md) */',
    'enum {',
    ...byWire.map(([name, o], i) => `  ATOMIK_BOP_${upper(name)} = ${hex2(o.wire)}${i === byWire.length - 1 ? '' : ','}`),
    '};',
    `#define ATOMIK_BOP_MAX ${hex2(maxWire)}`,
    '/* By wire opcode: operand bytes after the opcode (0: no such op; a run adds 8 per delta). */',
    `#define ATOMIK_BOP_OPERAND_BYTES ${table((o) => String(operandBytes(o)), '0')}`,
    '/* By wire opcode: the executor opcode it runs as (a run is combined into one). */',
    `#define ATOMIK_BOP_EXEC_OP ${table(execOp, '0xFF')}`,
    '/* By executor opcode: its result bytes in a RESULT payload. */',
    `#define ATOMIK_OP_RESULT_BYTES { ${recorded.map(([, o]) => RESULT_BYTES[o.result]).join(', ')} }`,
  ].join('\n');
}

function protocolTable(): string {
  const operands = (o: Operation) =>
    o.operand === 'value' ? `u16 index, u64 ${o.operandName}` : o.operand === 'none' ? 'u16 index' : `u16 index, u16 count, count x u64 ${o.operandName}`;
  const result = (o: Operation) =>
    o.result === 'none' ? `none; ${o.doc}` : o.result === 'bool' ? `u8: \`01\` if the accumulator is the identity, else \`00\`` : `u64: ${o.doc}`;
  return [
    '| op | name | operands | result |',
    '|---|---|---|---|',
    ...byWire.map(([name, o]) => `| \`${o.wire.toString(16).padStart(2, '0')}\` | ${upper(name)} | ${operands(o)} | ${result(o)} |`),
  ].join('\n');
}

export function sections(): Section[] {
  return [
    { file: 'native/atomik.h', begin: C_BEGIN, end: C_END, text: atomikHeader() },
    { file: 'firmware/core/device.h', begin: C_BEGIN, end: C_END, text: deviceHeader() },
    { file: 'firmware/PROTOCOL.md', begin: MD_BEGIN, end: MD_END, text: protocolTable() },
  ];
}

export const root = fileURLToPath(new URL('..', import.meta.url));

/** The text between a section's markers in `content`. */
export function current(content: string, s: Section): string | null {
  const a = content.indexOf(s.begin);
  const b = content.indexOf(s.end, a);
  return a < 0 || b < 0 ? null : content.slice(a + s.begin.length + 1, b - 1);
}

if (process.argv.includes('--write')) {
  for (const s of sections()) {
    const path = root + s.file;
    const content = readFileSync(path, 'utf8');
    const a = content.indexOf(s.begin);
    const b = content.indexOf(s.end, a);
    if (a < 0 || b < 0) throw new Error(`${s.file}: the generated section's markers are missing`);
    writeFileSync(path, content.slice(0, a + s.begin.length) + '\n' + s.text + '\n' + content.slice(b));
    console.log(`wrote ${s.file}`);
  }
}
