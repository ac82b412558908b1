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

size_t atomik_batch_bytes(uint32_t n) {
  return ATOMIK_BATCH_HEADER_BYTES + padded_index_bytes(n) + (size_t)n * 8;
}

static void fletcher(const uint8_t *p, size_t len, uint32_t *a, uint32_t *b) {
  uint32_t x = *a, y = *b;
  for (size_t i = 0; i + 4 <= len; i += 4) {
    x += load32(p + i);
    y += x;
  }
  *a = x;
  *b = y;
}

uint64_t atomik_batch_checksum(const uint8_t *entry, size_t len) {
  uint32_t a = 0, b = 0;
  size_t after = ATOMIK_BATCH_CHECKSUM_OFFSET + 8;
  if (len < after) {
    fletcher(entry, len, &a, &b);
    return (uint64_t)b << 32 | a;
  }
  fletcher(entry, ATOMIK_BATCH_CHECKSUM_OFFSET, &a, &b);
  b += 2 * a; /* the checksum field's two words, read as zero */
  fletcher(entry + after, len - after, &a, &b);
  return (uint64_t)b << 32 | a;
}

int atomik_batch_apply(atomik_table *t, uint16_t partition, const uint8_t *entry, size_t len) {
  if (len < ATOMIK_BATCH_HEADER_BYTES || load32(entry) != ATOMIK_BATCH_MAGIC) return ATOMIK_BATCH_EFORMAT;
  if (entry[4] != ATOMIK_BATCH_VERSION) return ATOMIK_BATCH_EVERSION;
  uint32_t n = load32(entry + 8);
  if (load32(entry + 12) != 0 || (entry[6] | entry[7] << 8) != partition || len != atomik_batch_bytes(n))
    return ATOMIK_BATCH_EFORMAT;
  if (atomik_batch_checksum(entry, len) != load64(entry + ATOMIK_BATCH_CHECKSUM_OFFSET)) return ATOMIK_BATCH_ECHECKSUM;
  if (entry[5] != (uint8_t)t->group) return ATOMIK_BATCH_EGROUP;
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
