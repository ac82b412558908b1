// The one definition of every operation on a context: its name, its
// opcode in the 16-byte batch record that the C executor runs
// (atomik_table_exec; the reference kernel module's numbering), its opcode
// on the framed serial protocol, its operands and its result. The engines
// and the wire codec import it; the C header, the firmware and
// firmware/PROTOCOL.md carry generated copies (`npm run generate`), and
// test/core/operations.test.ts fails when a copy drifts.

export type OperandKind = 'none' | 'value' | 'deltas';
export type ResultKind = 'none' | 'u64' | 'bool';

export interface Operation {
  /** Opcode of the 16-byte record (native byte order), or null when the executor has no such op. */
  readonly record: number | null;
  /** Opcode in a BATCH frame of the framed protocol. */
  readonly wire: number;
  /** After the u16 index: a u64 value, a u16 count and that many u64 deltas, or nothing. */
  readonly operand: OperandKind;
  readonly result: ResultKind;
  /** What it does, in the words of the docs. */
  readonly doc: string;
  /** The operand's name in the docs. */
  readonly operandName?: string;
  /** For a run: the record op each delta is (the run is combined into one). */
  readonly runOf?: string;
}

export const OPERATIONS = {
  load: { record: 0, wire: 0x01, operand: 'value', operandName: 'value', result: 'none', doc: 'reference = value, accumulator = identity' },
  accum: { record: 1, wire: 0x02, operand: 'value', operandName: 'delta', result: 'none', doc: 'accumulator (+)= delta' },
  read: { record: 2, wire: 0x03, operand: 'none', result: 'u64', doc: 'the state' },
  swap: { record: 3, wire: 0x04, operand: 'none', result: 'u64', doc: 'the state before; the new reference is that state' },
  status: { record: 4, wire: 0x06, operand: 'none', result: 'bool', doc: '1 if the accumulator is the identity, else 0' },
  swapTo: { record: 5, wire: 0x05, operand: 'value', operandName: 'reference', result: 'u64', doc: 'the state before; the new reference is the operand' },
  accumRun: {
    record: null,
    runOf: 'accum',
    wire: 0x07,
    operand: 'deltas',
    operandName: 'deltas',
    result: 'none',
    doc: 'accumulator (+)= every delta of the run',
  },
} as const satisfies Record<string, Operation>;

export type OpName = keyof typeof OPERATIONS;
type RecordOpName = { [K in OpName]: (typeof OPERATIONS)[K]['record'] extends number ? K : never }[OpName];

/**
 * The one internal shape of an operation, from validation to every engine
 * and the wire. (The public BatchOp is converted into it once.)
 */
export type Op =
  | { op: 'load' | 'accum' | 'swapTo'; index: number; value: bigint }
  | { op: 'read' | 'swap' | 'status'; index: number }
  | { op: 'accumRun'; index: number; deltas: BigUint64Array };

/** One result per op: the u64 for 'u64' results, a boolean for 'bool', null otherwise. */
export type OpResult = bigint | boolean | null;

/** Record opcodes by name: what the engines' executors switch on. */
export const RECORD_OP = Object.fromEntries(Object.entries(OPERATIONS).flatMap(([name, o]) => (o.record === null ? [] : [[name, o.record]]))) as {
  readonly [K in RecordOpName]: (typeof OPERATIONS)[K]['record'];
};

/** Wire opcodes by name. */
export const WIRE_OP = Object.fromEntries(Object.entries(OPERATIONS).map(([name, o]) => [name, o.wire])) as {
  readonly [K in OpName]: (typeof OPERATIONS)[K]['wire'];
};

/** The largest record opcode: anything above is refused by the executors. */
export const MAX_RECORD_OP = Math.max(...Object.values(OPERATIONS).map((o) => o.record ?? 0));

/** Turns the raw u64 an executor or a device produced into an op's result. */
export function toResult(op: OpName, raw: bigint): OpResult {
  const kind = OPERATIONS[op].result;
  return kind === 'u64' ? raw : kind === 'bool' ? raw === 1n : null;
}
