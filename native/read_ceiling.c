/*
 * The machine's memory-read ceiling, for benchmarks: a plain loop that
 * reads every word of a buffer once (summing so the reads are not removed),
 * with four accumulators so the compiler keeps two vectors in flight. Built
 * with the same flags as the kernels, so the ratio is like for like.
 */
#include "read_ceiling.h"

uint64_t atomik_read_ceiling_sum(const uint64_t *words, size_t n) {
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
