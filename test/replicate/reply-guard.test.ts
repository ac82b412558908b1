// The scanner that bounds what a Redis connection may receive: it follows
// RESP framing byte by byte, however the replies are cut into chunks, and
// names the first reply beyond the limits.
import { describe, expect, it } from 'vitest';
import { ReplyScanner, replyLimits } from '../../lib/replicate/reply-guard.js';

const limits = { bulkBytes: 16, lineBytes: 32, elements: 4 };

/** Feeds `text` in chunks of `size` bytes; returns the first complaint, or null. */
function scan(text: string | Buffer, size = Infinity): string | null {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const scanner = new ReplyScanner(limits);
  for (let i = 0; i < bytes.length; i += Math.min(size, bytes.length)) {
    const why = scanner.scan(bytes.subarray(i, i + size));
    if (why) return why;
  }
  return null;
}

describe('reply guard', () => {
  // Replies a replica gets: statuses, errors, integers, nulls, bulk strings
  // (holding CR, LF and '*' bytes in their payload), nested arrays (an XREAD reply).
  const replies =
    '+OK\r\n-ERR unknown command\r\n:12345\r\n$-1\r\n*-1\r\n_\r\n$0\r\n\r\n' +
    '$16\r\n*9\r\n$99\r\n\n\r\n\r+ab\r\n' +
    '*1\r\n*2\r\n$6\r\nstream\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nd\r\n$4\r\nabcd\r\n';

  it('lets every reply within the limits through, in one chunk or byte by byte', () => {
    for (const size of [Infinity, 1, 2, 3, 5, 7]) {
      expect(scan(replies, size)).toBe(null);
      // Still in step after them: the next header is read as one.
      expect(scan(`${replies}$17\r\n`, size)).toBe('a reply of 17 bytes (at most 16 are expected)');
    }
  });

  it('names a bulk string, an aggregate or a line beyond the limits, wherever the chunks are cut', () => {
    for (const size of [Infinity, 1, 3]) {
      expect(scan(`+OK\r\n$17\r\n${'x'.repeat(17)}\r\n`, size)).toBe('a reply of 17 bytes (at most 16 are expected)');
      expect(scan('=2147483648\r\n', size)).toBe('a reply of 2147483648 bytes (at most 16 are expected)');
      expect(scan('*1\r\n*5\r\n', size)).toBe('a reply of 5 elements (at most 4 are expected)');
      expect(scan('%9\r\n', size)).toBe('a reply of 9 elements (at most 4 are expected)');
      expect(scan(`-${'E'.repeat(33)}`, size)).toBe('a reply line longer than 32 bytes');
      // A number too large for a double still counts as too large.
      expect(scan(`$${'9'.repeat(30)}\r\n`, size)).toBe(`a reply of ${Number.MAX_SAFE_INTEGER} bytes (at most 16 are expected)`);
    }
  });

  it('a payload is skipped whole: bytes in it that look like headers are not read as replies', () => {
    expect(scan(`$16\r\n$9999999999999\r\n\r\n`)).toBe(null);
    expect(scan(`$16\r\n$9999999999999\r\n\r\n$17\r\n`)).toBe('a reply of 17 bytes (at most 16 are expected)');
  });

  it("a replica's limits follow its largest partition and read count", () => {
    expect(replyLimits(4, 64)).toEqual({ bulkBytes: 48 + 64 * 2 ** 20, lineBytes: 2 ** 20, elements: 2 ** 24 });
    expect(replyLimits(2 ** 24, 2 ** 23)).toEqual({ bulkBytes: 12 * 2 ** 24 + 64 * 2 ** 20, lineBytes: 2 ** 20, elements: 2 ** 25 });
  });
});
