#ifndef ATOMIK_READ_CEILING_H
#define ATOMIK_READ_CEILING_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
uint64_t atomik_read_ceiling_sum(const uint64_t *words, size_t n);
#ifdef __cplusplus
}
#endif
#endif
