/* atomik: see atomik.h. Loops are kept simple so -O3 vectorises them. */
#include "atomik.h"

#include <string.h>

/* ---- one context ----------------------------------------------------- */

void atomik_ctx_init(atomik_ctx *c, atomik_group g) {
  c->reference = 0;
  c->accumulator = 0;
  c->delta_count = 0;
  c->group = g;
}

void atomik_ctx_load(atomik_ctx *c, uint64_t value) {
  c->reference = value;
  c->accumulator = 0;
  c->delta_count = 0;
}

void atomik_ctx_accum(atomik_ctx *c, uint64_t delta) {
  c->accumulator = atomik_combine(c->group, c->accumulator, delta);
  c->delta_count++;
}

void atomik_ctx_rollback(atomik_ctx *c, uint64_t delta) { atomik_ctx_accum(c, atomik_inverse(c->group, delta)); }

uint64_t atomik_ctx_read(const atomik_ctx *c) { return atomik_combine(c->group, c->reference, c->accumulator); }

uint64_t atomik_ctx_swap_to(atomik_ctx *c, uint64_t reference) {
  uint64_t before = atomik_ctx_read(c);
  atomik_ctx_load(c, reference);
  return before;
}

uint64_t atomik_ctx_swap(atomik_ctx *c) { return atomik_ctx_swap_to(c, atomik_ctx_read(c)); }

void atomik_ctx_merge(atomik_ctx *c, const atomik_ctx *other) {
  c->accumulator = atomik_combine(c->group, c->accumulator, other->accumulator);
  c->delta_count += other->delta_count;
}

int atomik_ctx_is_clean(const atomik_ctx *c) { return c->accumulator == 0; }

/* ---- batch kernels ------------------------------------------------- */

/*
 * Separate loops per group keep each one branch-free. Four independent
 * accumulators let -O3 vectorise with two vectors in flight, which makes the
 * speed insensitive to where the loop lands in the instruction stream.
 */
static uint64_t reduce_xor(const uint64_t *d, size_t n) {
  uint64_t a = 0, b = 0, c = 0, e = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a ^= d[i];
    b ^= d[i + 1];
    c ^= d[i + 2];
    e ^= d[i + 3];
  }
  for (; i < n; i++) a ^= d[i];
  return a ^ b ^ c ^ e;
}

static uint64_t reduce_add(const uint64_t *d, size_t n) {
  uint64_t a = 0, b = 0, c = 0, e = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += d[i];
    b += d[i + 1];
    c += d[i + 2];
    e += d[i + 3];
  }
  for (; i < n; i++) a += d[i];
  return a + b + c + e;
}

uint64_t atomik_reduce(atomik_group g, const uint64_t *deltas, size_t n) {
  if (deltas == NULL || n == 0) return 0;
  return g == ATOMIK_ADD ? reduce_add(deltas, n) : reduce_xor(deltas, n);
}

/*
 * Indices live in caller memory that another thread may write during a call
 * (a SharedArrayBuffer). Every index is loaded once into a local and checked
 * before that same local is used, so no change can make a kernel touch
 * memory outside the table; the relaxed atomic load keeps the compiler from
 * loading it twice.
 */
static inline uint32_t load_index(const uint32_t *p) {
#if defined(__GNUC__) || defined(__clang__)
  return __atomic_load_n(p, __ATOMIC_RELAXED);
#else
  return *(const volatile uint32_t *)p;
#endif
}

static int indices_in_range(const uint32_t *idx, size_t n, uint32_t size) {
  uint32_t max = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t k = load_index(&idx[i]);
    max = k > max ? k : max;
  }
  return n == 0 || max < size;
}

static int table_usable(const atomik_table *t, size_t n) {
  return n == 0 || (t->reference != NULL && t->accumulator != NULL);
}

/* Takes back the first n deltas of a scatter that met a bad index. */
static void scatter_undo(atomik_table *t, const uint32_t *idx, const uint64_t *deltas, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t k = load_index(&idx[i]);
    if (k < t->size)
      t->accumulator[k] = atomik_combine(t->group, t->accumulator[k], atomik_inverse(t->group, deltas[i]));
  }
}

int atomik_table_scatter(atomik_table *t, const uint32_t *idx, const uint64_t *deltas, size_t n) {
  if (t->group != ATOMIK_XOR && t->group != ATOMIK_ADD) return ATOMIK_EGROUP;
  if (!table_usable(t, n)) return ATOMIK_ERANGE;
  uint64_t *acc = t->accumulator;
  const uint32_t size = t->size;
  size_t i = 0;
  /* One pass: each index is read once, checked and applied. */
  if (t->group == ATOMIK_ADD) {
    for (; i < n; i++) {
      uint32_t k = load_index(&idx[i]);
      if (k >= size) break;
      acc[k] += deltas[i];
    }
  } else {
    for (; i < n; i++) {
      uint32_t k = load_index(&idx[i]);
      if (k >= size) break;
      acc[k] ^= deltas[i];
    }
  }
  if (i == n) return ATOMIK_OK;
  scatter_undo(t, idx, deltas, i);
  return ATOMIK_ERANGE;
}

/*
 * How many leading elements of a gather must run in ascending order when
 * out overlaps idx; the rest run descending. Writing out[i] overwrites the
 * indices at byte distance (out - idx) + 8i; ascending is safe while those
 * are at or below i, descending once they are at or above i. Types align
 * both pointers, so the distance is a multiple of 4.
 */
static size_t gather_split(const uint32_t *idx, const uint64_t *out, size_t n) {
  uintptr_t p = (uintptr_t)idx, o = (uintptr_t)out;
  if (o >= p + 4 * (uintptr_t)n || p >= o + 8 * (uintptr_t)n) return n; /* disjoint */
  if (o >= p) return 0;
  size_t s = (size_t)((p - o) / 4);
  return s < n ? s : n;
}

int atomik_table_gather(const atomik_table *t, const uint32_t *idx, uint64_t *out, size_t n) {
  if (t->group != ATOMIK_XOR && t->group != ATOMIK_ADD) return ATOMIK_EGROUP;
  if (!table_usable(t, n)) return ATOMIK_ERANGE;
  const uint64_t *ref = t->reference, *acc = t->accumulator;
  const uint32_t size = t->size;
  const atomik_group g = t->group;
  const size_t split = gather_split(idx, out, n);
  /* One pass: each index is read once, before anything can overwrite it. */
  for (size_t i = 0; i < split; i++) {
    uint32_t k = load_index(&idx[i]);
    if (k >= size) return ATOMIK_ERANGE;
    out[i] = atomik_combine(g, ref[k], acc[k]);
  }
  for (size_t i = n; i > split; i--) {
    uint32_t k = load_index(&idx[i - 1]);
    if (k >= size) return ATOMIK_ERANGE;
    out[i - 1] = atomik_combine(g, ref[k], acc[k]);
  }
  return ATOMIK_OK;
}

int atomik_table_load(atomik_table *t, const uint32_t *idx, const uint64_t *values, size_t n) {
  if (!table_usable(t, n) || !indices_in_range(idx, n, t->size)) return ATOMIK_ERANGE;
  for (size_t i = 0; i < n; i++) {
    uint32_t k = load_index(&idx[i]); /* checked again: the memory may have changed */
    if (k >= t->size) return ATOMIK_ERANGE;
    t->reference[k] = values[i];
    t->accumulator[k] = 0;
  }
  return ATOMIK_OK;
}

void atomik_table_states(const atomik_table *t, uint64_t *out) {
  const uint64_t *ref = t->reference, *acc = t->accumulator;
  if (t->size == 0 || ref == NULL || acc == NULL) return;
  if (t->group == ATOMIK_ADD) {
    for (uint32_t i = 0; i < t->size; i++) out[i] = ref[i] + acc[i];
  } else {
    for (uint32_t i = 0; i < t->size; i++) out[i] = ref[i] ^ acc[i];
  }
}

int atomik_table_exec(atomik_table *t, atomik_op *ops, size_t n, size_t *bad) {
  if (t->group != ATOMIK_XOR && t->group != ATOMIK_ADD) return ATOMIK_EGROUP;
  if (!table_usable(t, n)) return ATOMIK_ERANGE;
  for (size_t i = 0; i < n; i++) {
    int status = ATOMIK_OK;
    if (ops[i].opcode > ATOMIK_OP_MAX) status = ATOMIK_EOP;
    else if (ops[i].addr >= t->size) status = ATOMIK_ERANGE;
    if (status != ATOMIK_OK) {
      if (bad != NULL) *bad = i;
      return status;
    }
  }
  const atomik_group g = t->group;
  for (size_t i = 0; i < n; i++) {
    atomik_op *op = &ops[i];
    const uint32_t addr = load_index(&op->addr);
    if (addr >= t->size) return ATOMIK_ERANGE; /* changed since the check: never trust it */
    uint64_t *ref = &t->reference[addr], *acc = &t->accumulator[addr];
    uint64_t state = atomik_combine(g, *ref, *acc);
    switch (op->opcode) {
      case ATOMIK_OP_LOAD:
        *ref = op->value;
        *acc = 0;
        break;
      case ATOMIK_OP_ACCUM: *acc = atomik_combine(g, *acc, op->value); break;
      case ATOMIK_OP_READ: op->value = state; break;
      case ATOMIK_OP_SWAP:
        *ref = state;
        *acc = 0;
        op->value = state;
        break;
      case ATOMIK_OP_STATUS: op->value = *acc == 0; break;
      case ATOMIK_OP_SWAP_TO:
        *ref = op->value;
        *acc = 0;
        op->value = state;
        break;
      default: return ATOMIK_EOP; /* changed since the check */
    }
  }
  return ATOMIK_OK;
}

/* ---- fingerprints ---------------------------------------------------- */

static uint64_t load_le64(const uint8_t *p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t v; /* memcpy: unaligned-safe, one load, and the fold loop vectorises */
  memcpy(&v, p, sizeof v);
  return v;
#else
  uint64_t v = 0;
  for (int b = 7; b >= 0; b--) v = (v << 8) | p[b];
  return v;
#endif
}

static uint64_t load_tail(const uint8_t *p, size_t len) {
  uint8_t chunk[8] = {0};
  memcpy(chunk, p, len);
  return load_le64(chunk);
}

uint64_t atomik_fold_xor(const uint8_t *data, size_t len) {
  if (data == NULL || len == 0) return 0;
  size_t whole = len / 8;
  uint64_t acc = 0;
  for (size_t i = 0; i < whole; i++) acc ^= load_le64(data + 8 * i);
  if (len % 8) acc ^= load_tail(data + 8 * whole, len % 8);
  return acc;
}

uint64_t atomik_mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

#define ATOMIK_POSITION_KEY UINT64_C(0x9E3779B97F4A7C15)
#define ATOMIK_LENGTH_SALT UINT64_C(0xA0761D6478BD642F)

uint64_t atomik_fold_positional_term(uint64_t chunk, uint64_t position) {
  return atomik_mix64(chunk ^ ((position + 1) * ATOMIK_POSITION_KEY));
}

uint64_t atomik_fold_positional(const uint8_t *data, size_t len) {
  uint64_t acc = atomik_mix64((uint64_t)len ^ ATOMIK_LENGTH_SALT);
  if (data == NULL || len == 0) return acc;
  size_t whole = len / 8;
  for (size_t i = 0; i < whole; i++) acc ^= atomik_fold_positional_term(load_le64(data + 8 * i), i);
  if (len % 8) acc ^= atomik_fold_positional_term(load_tail(data + 8 * whole, len % 8), whole);
  return acc;
}
