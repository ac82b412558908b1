/*
 * The machine's memory-read ceiling, for benchmarks: a plain loop that
 * reads every word of a buffer once (summing so the reads are not removed).
 * Built with the same flags as the kernels, so the ratio is like for like.
 */
#include "read_ceiling.h"

uint64_t atomik_read_ceiling_sum(const uint64_t *words, size_t n) {
  uint64_t sum = 0;
  if (words == NULL) return 0;
  for (size_t i = 0; i < n; i++) sum += words[i];
  return sum;
}
