// Mixed-batch encoding shared by both engines and the C library
// (atomik_op): 16 bytes per op in native byte order:
// u8 opcode, 3 pad bytes, u32 addr, u64 value (results are written back).
// The opcodes come from lib/core/operations.ts.
import { endianness } from 'node:os';
import { MAX_RECORD_OP, RECORD_OP } from '../core/operations.js';

export const OP = RECORD_OP;
export const MAX_OP = MAX_RECORD_OP;
export type OpCode = (typeof OP)[keyof typeof OP];

export const NATIVE_LE = endianness() === 'LE';
export const OP_BYTES = 16;

export function opsView(ops: BigUint64Array): DataView {
  return new DataView(ops.buffer, ops.byteOffset, ops.byteLength);
}

export function writeOp(view: DataView, i: number, opcode: OpCode, addr: number, value: bigint): void {
  const at = i * OP_BYTES;
  view.setUint32(at, 0, NATIVE_LE);
  view.setUint8(at, opcode);
  view.setUint32(at + 4, addr, NATIVE_LE);
  view.setBigUint64(at + 8, value, NATIVE_LE);
}

export function opcodeAt(view: DataView, i: number): number {
  return view.getUint8(i * OP_BYTES);
}

export function addrAt(view: DataView, i: number): number {
  return view.getUint32(i * OP_BYTES + 4, NATIVE_LE);
}

export function valueAt(view: DataView, i: number): bigint {
  return view.getBigUint64(i * OP_BYTES + 8, NATIVE_LE);
}

export function setValueAt(view: DataView, i: number, value: bigint): void {
  view.setBigUint64(i * OP_BYTES + 8, value, NATIVE_LE);
}
