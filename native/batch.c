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

uint64_t atomik_batch_checksum(const uint8_t *entry, size_t len) {
  uint32_t a[4] = {0, 0, 0, 0}, b[4] = {0, 0, 0, 0};
  size_t words = len / 4, whole = words & ~(size_t)3;
  /* Four independent lanes: the compiler keeps each in a vector lane. */
  for (size_t i = 0; i < whole; i += 4) {
    for (int l = 0; l < 4; l++) {
      a[l] += load32(entry + 4 * (i + (size_t)l));
      b[l] += a[l];
    }
  }
  for (size_t i = whole; i < words; i++) {
    a[i & 3] += load32(entry + 4 * i);
    b[i & 3] += a[i & 3];
  }
  /* Take the checksum field's two words (lanes 2 and 3, lane position 2)
     back out: word w at lane position p added w to a and (count - p) * w to b. */
  for (size_t i = ATOMIK_BATCH_CHECKSUM_OFFSET / 4; i < ATOMIK_BATCH_CHECKSUM_OFFSET / 4 + 2 && i < words; i++) {
    uint32_t w = load32(entry + 4 * i);
    uint32_t count = (uint32_t)((words - (i & 3) + 3) / 4);
    a[i & 3] -= w;
    b[i & 3] -= (count - (uint32_t)(i / 4)) * w;
  }
  uint32_t sum_a = a[0] + a[1] + a[2] + a[3];
  uint32_t sum_b = b[0] + 3 * b[1] + 5 * b[2] + 7 * b[3];
  return (uint64_t)sum_b << 32 | sum_a;
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
