// The addon's exactly-once receive kernel (native/stream.c through
// native/stream_binding.cc), when the addon is loaded.
import { loadNative } from '../engine/native.js';

/** The addon's export for receiveMany() (native/stream_binding.cc). */
export interface StreamBinding {
  streamReceive(
    group: 0 | 1,
    acc: BigUint64Array,
    msgs: Uint8Array,
    through: Float64Array,
    highest: Float64Array,
    next: Uint32Array,
    head: Uint32Array,
    offset: Int32Array,
    bits: Uint32Array,
    window: number,
    receipts: Uint8Array | null,
    counts: Float64Array,
  ): number;
}

export function streamBinding(): StreamBinding | null {
  const b = loadNative().binding as unknown as Partial<StreamBinding> | null;
  return b !== null && typeof b.streamReceive === 'function' ? (b as StreamBinding) : null;
}
