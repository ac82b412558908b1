/*
 * atomik: delta-state accumulation kernels (C99, freestanding-friendly).
 *
 * A context holds a reference and an accumulator; its state is
 * reference (+) accumulator, where (+) is the context's group operation:
 *   ATOMIK_XOR  bitwise XOR on 64-bit words (ATOMiK; every delta is its own inverse)
 *   ATOMIK_ADD  addition modulo 2^64 (counters; the inverse of d is -d)
 * Both groups are commutative, so deltas may be applied in any order.
 *
 * The library makes no OS calls and allocates nothing: callers own all
 * memory (Node TypedArrays in the addon, static arrays in firmware).
 * Every function that takes an index checks it, so no input can make it
 * read or write out of bounds.
 */
#ifndef ATOMIK_H
#define ATOMIK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATOMIK_ABI_VERSION 1

typedef enum { ATOMIK_XOR = 0, ATOMIK_ADD = 1 } atomik_group;

typedef enum {
  ATOMIK_OK = 0,
  ATOMIK_ERANGE = -1, /* an index is outside the table */
  ATOMIK_EOP = -2,    /* unknown opcode in a batch */
  ATOMIK_EGROUP = -3  /* unknown group */
} atomik_status;

/* ---- group arithmetic ---------------------------------------------- */

static inline uint64_t atomik_combine(atomik_group g, uint64_t a, uint64_t b) {
  return g == ATOMIK_ADD ? a + b : a ^ b; /* unsigned: wraps mod 2^64 */
}

static inline uint64_t atomik_inverse(atomik_group g, uint64_t d) { return g == ATOMIK_ADD ? (uint64_t)0 - d : d; }

/* ---- one context ----------------------------------------------------- */

typedef struct {
  uint64_t reference;
  uint64_t accumulator;
  uint64_t delta_count; /* accumulates since the last load or swap */
  atomik_group group;
} atomik_ctx;

void atomik_ctx_init(atomik_ctx *c, atomik_group g);
void atomik_ctx_load(atomik_ctx *c, uint64_t value);
void atomik_ctx_accum(atomik_ctx *c, uint64_t delta);
void atomik_ctx_rollback(atomik_ctx *c, uint64_t delta);
uint64_t atomik_ctx_read(const atomik_ctx *c);
/* Returns the state before the swap; the new reference is that state. */
uint64_t atomik_ctx_swap(atomik_ctx *c);
/* Returns the state before the swap; the new reference is `reference`. */
uint64_t atomik_ctx_swap_to(atomik_ctx *c, uint64_t reference);
/* Folds other's accumulator into c (both must share a reference to mean anything). */
void atomik_ctx_merge(atomik_ctx *c, const atomik_ctx *other);
int atomik_ctx_is_clean(const atomik_ctx *c);

/* ---- batch kernels ------------------------------------------------- */

/* Combines n deltas into one value (the group identity when n == 0). */
uint64_t atomik_reduce(atomik_group g, const uint64_t *deltas, size_t n);

/*
 * A table is two caller-owned arrays of `size` words. The kernels below
 * check every index against `size` before touching memory, reading it once
 * for each use, so no input (not even indices another thread rewrites
 * during the call) makes them read or write outside the arrays. On
 * ATOMIK_ERANGE the table is unchanged (scatter takes back what it applied;
 * load and exec check everything first); gather may have written part of
 * `out`. All-or-nothing assumes the indices do not change during the call:
 * callers copy shared memory first.
 */
typedef struct {
  uint64_t *reference;
  uint64_t *accumulator;
  uint32_t size;
  atomik_group group;
} atomik_table;

/* accumulator[idx[i]] (+)= deltas[i] for every i. */
int atomik_table_scatter(atomik_table *t, const uint32_t *idx, const uint64_t *deltas, size_t n);
/* out[i] = state of context idx[i]; correct when out overlaps idx. */
int atomik_table_gather(const atomik_table *t, const uint32_t *idx, uint64_t *out, size_t n);
/* reference[idx[i]] = values[i], accumulator[idx[i]] = 0. */
int atomik_table_load(atomik_table *t, const uint32_t *idx, const uint64_t *values, size_t n);
/* out[i] = state of context i, for all contexts. */
void atomik_table_states(const atomik_table *t, uint64_t *out);

/*
 * Mixed batches: 16 bytes per operation, native byte order, the same
 * layout as the reference kernel module plus two opcodes of ours.
 * Results are written back into `value`.
 */
/* clang-format off */
/* Generated from lib/core/operations.ts by `npm run generate`: do not edit. */
enum {
  ATOMIK_OP_LOAD = 0,    /* reference = value, accumulator = identity */
  ATOMIK_OP_ACCUM = 1,   /* accumulator (+)= delta */
  ATOMIK_OP_READ = 2,    /* value <- the state */
  ATOMIK_OP_SWAP = 3,    /* value <- the state before; the new reference is that state */
  ATOMIK_OP_STATUS = 4,  /* value <- 1 if the accumulator is the identity, else 0 */
  ATOMIK_OP_SWAP_TO = 5  /* value <- the state before; the new reference is the operand */
};
#define ATOMIK_OP_MAX 5
/* End of generated section. */
/* clang-format on */

typedef struct {
  uint8_t opcode;
  uint8_t pad[3];
  uint32_t addr;
  uint64_t value;
} atomik_op;

/*
 * Validates every op first; on failure nothing is applied, and *bad (if not
 * NULL) receives the position of the first invalid op.
 */
int atomik_table_exec(atomik_table *t, atomik_op *ops, size_t n, size_t *bad);

/* ---- fingerprints ---------------------------------------------------- */

/*
 * Reference fold: XOR of the data taken as little-endian 64-bit chunks, the
 * last chunk zero-padded. Blind to swapped chunks and to the same change
 * made in two chunks.
 */
uint64_t atomik_fold_xor(const uint8_t *data, size_t len);

/*
 * Position-aware fold: XOR over chunks i of mix(chunk_i ^ key(i)), with
 * key(i) = (i + 1) * 0x9E3779B97F4A7C15, XOR mix(len ^ 0xA076_1D64_78BD_642F).
 * mix is the SplitMix64 finaliser (a bijection). A chunk's term can be
 * replaced in O(1) with atomik_fold_positional_term.
 */
uint64_t atomik_fold_positional(const uint8_t *data, size_t len);
uint64_t atomik_fold_positional_term(uint64_t chunk, uint64_t position);
uint64_t atomik_mix64(uint64_t z);

#ifdef __cplusplus
}
#endif

#endif /* ATOMIK_H */
