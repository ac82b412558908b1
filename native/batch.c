/* Replication batches: see batch.h. */
#include "batch.h"

#include <string.h>

/* Unaligned little-endian loads; compilers turn the memcpy into one move. */
static uint32_t load32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

static uint64_t load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

static size_t padded_index_bytes(uint32_t n) { return ((size_t)n * 4 + 7) & ~(size_t)7; }

size_t atomik_batch_bytes(uint32_t n) { return ATOMIK_BATCH_HEADER_BYTES + padded_index_bytes(n) + (size_t)n * 8; }

int atomik_batch_compact_fits(uint32_t n, uint32_t index_bytes, size_t len) {
  /* Each varint takes at least one byte: a count beyond either column cannot be met. */
  return len >= ATOMIK_BATCH_HEADER_BYTES && len - ATOMIK_BATCH_HEADER_BYTES >= index_bytes && n <= index_bytes &&
         n <= len - ATOMIK_BATCH_HEADER_BYTES - index_bytes;
}

/* Word i of the entry; the last one padded with zero bytes when len is not a multiple of 4. */
static uint32_t word_at(const uint8_t *entry, size_t len, size_t i) {
  if (4 * i + 4 <= len) return load32(entry + 4 * i);
  uint8_t tail[4] = {0, 0, 0, 0};
  memcpy(tail, entry + 4 * i, len - 4 * i);
  return load32(tail);
}

uint64_t atomik_batch_checksum(const uint8_t *entry, size_t len) {
  uint32_t a[4] = {0, 0, 0, 0}, b[4] = {0, 0, 0, 0};
  size_t words = (len + 3) / 4, whole = (len / 4) & ~(size_t)3;
  /* Four independent lanes: the compiler keeps each in a vector lane. */
  for (size_t i = 0; i < whole; i += 4) {
    for (int l = 0; l < 4; l++) {
      a[l] += load32(entry + 4 * (i + (size_t)l));
      b[l] += a[l];
    }
  }
  for (size_t i = whole; i < words; i++) {
    a[i & 3] += word_at(entry, len, i);
    b[i & 3] += a[i & 3];
  }
  /* Take the checksum field's two words (lanes 2 and 3, lane position 2)
     back out: word w at lane position p added w to a and (count - p) * w to b. */
  for (size_t i = ATOMIK_BATCH_CHECKSUM_OFFSET / 4; i < ATOMIK_BATCH_CHECKSUM_OFFSET / 4 + 2 && i < words; i++) {
    uint32_t w = word_at(entry, len, i);
    uint32_t count = (uint32_t)((words - (i & 3) + 3) / 4);
    a[i & 3] -= w;
    b[i & 3] -= (count - (uint32_t)(i / 4)) * w;
  }
  uint32_t sum_a = a[0] + a[1] + a[2] + a[3];
  uint32_t sum_b = b[0] + 3 * b[1] + 5 * b[2] + 7 * b[3];
  return (uint64_t)sum_b << 32 | sum_a;
}

/*
 * Reads one LEB128 varint of at most `bits` (32 or 64) from [*p, end).
 * Returns 0 or the status refusing it; *p moves past it.
 */
static inline int read_varint(const uint8_t **p, const uint8_t *end, unsigned bits, uint64_t *out) {
  const uint8_t *q = *p;
  if (q == end) return ATOMIK_BATCH_ETRUNCATED;
  uint8_t byte = *q++;
  uint64_t v = byte & 0x7f;
  if (byte & 0x80) {
    unsigned shift = 7;
    for (;;) {
      if (q == end) return ATOMIK_BATCH_ETRUNCATED;
      byte = *q++;
      /* The last byte a width allows holds only its remaining bits, and no continuation. */
      if (shift + 7 > bits && byte >> (bits - shift) != 0) return ATOMIK_BATCH_EOVERLONG;
      v |= (uint64_t)(byte & 0x7f) << shift;
      if (!(byte & 0x80)) break;
      shift += 7;
    }
    if (byte == 0) return ATOMIK_BATCH_EOVERLONG; /* not minimal */
  }
  *p = q;
  *out = v;
  return ATOMIK_BATCH_OK;
}

/*
 * Walks the first `count` updates of a compact entry's columns in stream
 * order, adding (or with `undo`, taking back) each one whose index is below
 * `size` into `acc` (when not NULL). Returns the first structural fault or
 * 0; *done says how many updates were walked whole, *beyond whether an
 * index was past `size`. A full walk (count = n) also refuses bytes left
 * in either column.
 */
static int walk_compact(const uint8_t *entry, size_t len, uint32_t n, uint32_t count, int add, int undo, uint64_t *acc,
                        uint32_t size, uint32_t *done, int *beyond) {
  const uint8_t *ip = entry + ATOMIK_BATCH_HEADER_BYTES, *iend = ip + load32(entry + 12);
  const uint8_t *dp = iend, *dend = entry + len;
  uint64_t k = 0;
  *done = 0;
  *beyond = 0;
  for (uint32_t i = 0; i < count; i++) {
    uint64_t gap, d;
    int s = read_varint(&ip, iend, 32, &gap);
    if (s != ATOMIK_BATCH_OK) return s;
    if (i > 0 && gap == 0) return ATOMIK_BATCH_EORDER;
    k = k + gap > UINT32_MAX ? (uint64_t)UINT32_MAX + 1 : k + gap; /* saturates: stays out of range */
    s = read_varint(&dp, dend, 64, &d);
    if (s != ATOMIK_BATCH_OK) return s;
    *done = i + 1;
    if (k >= size) {
      *beyond = 1;
    } else if (acc != NULL) {
      if (add) {
        uint64_t v = (d >> 1) ^ (0 - (d & 1));
        acc[k] += undo ? 0 - v : v;
      } else {
        acc[k] ^= d;
      }
    }
  }
  if (count == n && (ip != iend || dp != dend)) return ATOMIK_BATCH_ETRAILING;
  return ATOMIK_BATCH_OK;
}

/*
 * One pass for a valid entry: updates are applied while decoding; a fault
 * found later (or an index past the table) takes back the ones applied
 * before it by walking them again, so the table is left as it was.
 */
static int apply_compact(atomik_table *t, const uint8_t *entry, size_t len, uint32_t n) {
  int add = t->group == ATOMIK_ADD;
  uint32_t done, undone;
  int beyond, again;
  int s = walk_compact(entry, len, n, n, add, 0, t->accumulator, t->size, &done, &beyond);
  if (s == ATOMIK_BATCH_OK && !beyond) return ATOMIK_BATCH_OK;
  if (done > 0) walk_compact(entry, len, n, done, add, 1, t->accumulator, t->size, &undone, &again);
  return s != ATOMIK_BATCH_OK ? s : ATOMIK_BATCH_ERANGE;
}

int atomik_batch_apply(atomik_table *t, uint16_t partition, const uint8_t *entry, size_t len) {
  if (len < ATOMIK_BATCH_HEADER_BYTES || load32(entry) != ATOMIK_BATCH_MAGIC) return ATOMIK_BATCH_EFORMAT;
  uint8_t version = entry[4];
  if (version != ATOMIK_BATCH_VERSION && version != ATOMIK_BATCH_COMPACT_VERSION) return ATOMIK_BATCH_EVERSION;
  uint32_t n = load32(entry + 8);
  if ((entry[6] | entry[7] << 8) != partition) return ATOMIK_BATCH_EFORMAT;
  if (version == ATOMIK_BATCH_VERSION ? load32(entry + 12) != 0 || len != atomik_batch_bytes(n)
                                      : !atomik_batch_compact_fits(n, load32(entry + 12), len))
    return ATOMIK_BATCH_EFORMAT;
  if (atomik_batch_checksum(entry, len) != load64(entry + ATOMIK_BATCH_CHECKSUM_OFFSET)) return ATOMIK_BATCH_ECHECKSUM;
  if (entry[5] != (uint8_t)t->group) return ATOMIK_BATCH_EGROUP;
  if (version == ATOMIK_BATCH_COMPACT_VERSION) return apply_compact(t, entry, len, n);
  if (n > 0 && (t->accumulator == NULL || t->size == 0)) return ATOMIK_BATCH_ERANGE;

  const uint8_t *idx = entry + ATOMIK_BATCH_HEADER_BYTES;
  const uint8_t *deltas = idx + padded_index_bytes(n);
  uint32_t size = t->size;
  uint32_t high = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t k = load32(idx + 4 * (size_t)i);
    high = k > high ? k : high;
  }
  if (n > 0 && high >= size) return ATOMIK_BATCH_ERANGE;

  /* The `k < size` tests only matter if another thread rewrote the entry
     since the pass above; they keep every write inside the table. */
  uint64_t *acc = t->accumulator;
  if (t->group == ATOMIK_ADD) {
    for (uint32_t i = 0; i < n; i++) {
      uint32_t k = load32(idx + 4 * (size_t)i);
      if (k < size) acc[k] += load64(deltas + 8 * (size_t)i);
    }
  } else {
    for (uint32_t i = 0; i < n; i++) {
      uint32_t k = load32(idx + 4 * (size_t)i);
      if (k < size) acc[k] ^= load64(deltas + 8 * (size_t)i);
    }
  }
  return ATOMIK_BATCH_OK;
}
