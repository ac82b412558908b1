// Keyed authentication of a table's log entries and snapshots, for Redis
// servers shared with other clients: with `authKey`, every entry carries an
// HMAC-SHA256 tag (first 16 bytes) of its bytes, and every snapshot blob
// ends with one; a replica skips entries and refuses snapshots whose tag
// does not verify under its key. The checksum finds damage; this finds
// writers that do not hold the key.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { types } from 'node:util';
import { describe } from '../core/validate.js';
import { AtomikRangeError, AtomikTypeError } from '../core/errors.js';

export const TAG_BYTES = 16;
const MIN_KEY_BYTES = 16;

/** What is tagged, so an entry's tag never verifies a snapshot and the other way round. */
type Kind = 'entry' | 'snapshot';

export class Authenticator {
  constructor(private readonly key: Buffer) {}

  tag(kind: Kind, data: Uint8Array): Buffer {
    return createHmac('sha256', this.key).update(`atomik-${kind}-v1`).update(data).digest().subarray(0, TAG_BYTES);
  }

  verify(kind: Kind, data: Uint8Array, tag: Uint8Array): boolean {
    return tag.length === TAG_BYTES && timingSafeEqual(this.tag(kind, data), tag);
  }
}

/** options.authKey: a string or bytes of at least 16 bytes, copied once. */
export function authKeyOption(value: unknown): Buffer | null {
  if (value === undefined) return null;
  let key: Buffer;
  if (typeof value === 'string') key = Buffer.from(value, 'utf8');
  else if (types.isUint8Array(value) && !types.isProxy(value)) key = Buffer.from(new Uint8Array(value));
  else throw new AtomikTypeError('ERR_ATOMIK_INVALID_ARG_TYPE', `options.authKey must be a string or a Uint8Array, got ${describe(value)}`);
  if (key.length < MIN_KEY_BYTES)
    throw new AtomikRangeError('ERR_ATOMIK_OUT_OF_RANGE', `options.authKey must be at least ${MIN_KEY_BYTES} bytes, got ${key.length}`);
  return key;
}
