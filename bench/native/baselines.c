/*
 * Baselines for the benchmarks, built with the bench only (never shipped):
 * plain C loops over the same buffers as the kernels, with the same flags,
 * so each ratio is like for like.
 */
#include "baselines.h"

/*
 * The machine's memory-read ceiling: reads every word once (summing so the
 * reads are not removed), with four accumulators so the compiler keeps two
 * vectors in flight.
 */
uint64_t baseline_read_sum(const uint64_t *words, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  if (words == NULL) return 0;
  for (; i + 4 <= n; i += 4) {
    a += words[i];
    b += words[i + 1];
    c += words[i + 2];
    d += words[i + 3];
  }
  for (; i < n; i++) a += words[i];
  return a + b + c + d;
}

/*
 * The plain scatter loop: no range check, no all-or-nothing. `mask` is the
 * table size minus one (a power of two), so no index can leave the table;
 * the AND costs one register operation next to the loads and the store.
 */
void baseline_scatter(int add, uint64_t *acc, uint32_t mask, const uint32_t *idx, const uint64_t *deltas, size_t n) {
  if (add) {
    for (size_t i = 0; i < n; i++) acc[idx[i] & mask] += deltas[i];
  } else {
    for (size_t i = 0; i < n; i++) acc[idx[i] & mask] ^= deltas[i];
  }
}
