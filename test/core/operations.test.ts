// The operation table (lib/core/operations.ts) is the one definition: every
// generated copy in C and in the protocol document must match it, and the
// numbers must keep the compatibility they promise.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPERATIONS, RECORD_OP, WIRE_OP, MAX_RECORD_OP } from '../../lib/core/operations.js';
import { OP } from '../../lib/engine/ops.js';
import { WIRE_OP as FRAME_WIRE_OP } from '../../lib/serial/frame.js';
import { current, root, sections } from '../../scripts/generate-operations.js';

describe('operation table', () => {
  for (const s of sections()) {
    it(`${s.file} holds the generated copy (run npm run generate after changing lib/core/operations.ts)`, () => {
      const content = readFileSync(root + s.file, 'utf8');
      expect(current(content, s), `${s.file}: markers missing`).not.toBeNull();
      expect(current(content, s)).toBe(s.text);
    });
  }

  it('no hand-written opcode is left in the C sources outside the generated sections', () => {
    for (const file of ['native/atomik.h', 'native/atomik.c', 'firmware/core/device.h', 'firmware/core/device.c']) {
      const content = readFileSync(root + file, 'utf8');
      const outside = sections()
        .filter((s) => s.file === file)
        .reduce((text, s) => text.replace(s.text, ''), content);
      expect(outside, file).not.toMatch(/ATOMIK_B?OP_[A-Z_]+\s*=\s*\d/);
    }
  });

  it('keeps the reference kernel module numbering and the wire bytes', () => {
    expect(RECORD_OP).toEqual({ load: 0, accum: 1, read: 2, swap: 3, status: 4, swapTo: 5 });
    expect(WIRE_OP).toEqual({ load: 1, accum: 2, read: 3, swap: 4, swapTo: 5, status: 6, accumRun: 7 });
    expect(MAX_RECORD_OP).toBe(5);
    expect(OP).toBe(RECORD_OP);
    expect(FRAME_WIRE_OP).toBe(WIRE_OP);
  });

  it('opcodes are unique within each numbering', () => {
    const records = Object.values(OPERATIONS).flatMap((o) => (o.record === null ? [] : [o.record]));
    const wires = Object.values(OPERATIONS).map((o) => o.wire);
    expect(new Set(records).size).toBe(records.length);
    expect(new Set(wires).size).toBe(wires.length);
  });
});
