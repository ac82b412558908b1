#ifndef ATOMIK_BENCH_BASELINES_H
#define ATOMIK_BENCH_BASELINES_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
uint64_t baseline_read_sum(const uint64_t *words, size_t n);
void baseline_scatter(int add, uint64_t *acc, uint32_t mask, const uint32_t *idx, const uint64_t *deltas, size_t n);
#ifdef __cplusplus
}
#endif
#endif
