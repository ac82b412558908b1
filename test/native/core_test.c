/*
 * The C library's context API (used by C callers; the addon and firmware
 * use the table kernels), checked with exact states in both groups.
 * Built and run by test/native/run-asan.sh under ASan and UBSan.
 */
#include <stdio.h>

#include "atomik.h"

static int failures;

static void check(int ok, const char *what) {
  if (!ok) {
    failures++;
    printf("FAIL %s\n", what);
  }
}

int main(void) {
  const uint64_t MAX = ~(uint64_t)0;
  atomik_ctx x, y, a, b;

  atomik_ctx_init(&x, ATOMIK_XOR);
  check(atomik_ctx_read(&x) == 0 && atomik_ctx_is_clean(&x), "xor: starts at zero and clean");
  atomik_ctx_load(&x, 0xCAFE);
  atomik_ctx_accum(&x, 0xFF);
  check(atomik_ctx_read(&x) == 0xCA01 && x.delta_count == 1 && !atomik_ctx_is_clean(&x), "xor: load, accum, read");
  atomik_ctx_rollback(&x, 0xFF);
  check(atomik_ctx_read(&x) == 0xCAFE && atomik_ctx_is_clean(&x) && x.delta_count == 2, "xor: rollback re-applies");
  atomik_ctx_accum(&x, 0x0F);
  check(atomik_ctx_swap(&x) == 0xCAF1 && x.reference == 0xCAF1 && x.accumulator == 0 && x.delta_count == 0,
        "xor: swap");
  check(atomik_ctx_swap_to(&x, 7) == 0xCAF1 && atomik_ctx_read(&x) == 7, "xor: swap_to");
  atomik_ctx_init(&y, ATOMIK_XOR);
  atomik_ctx_load(&y, 7);
  atomik_ctx_accum(&y, 1);
  atomik_ctx_accum(&y, 2);
  atomik_ctx_merge(&x, &y);
  check(atomik_ctx_read(&x) == 4 && x.delta_count == 2, "xor: merge");

  atomik_ctx_init(&a, ATOMIK_ADD);
  atomik_ctx_load(&a, MAX);
  atomik_ctx_accum(&a, 2);
  check(atomik_ctx_read(&a) == 1, "add: wraps modulo 2^64");
  atomik_ctx_accum(&a, 40);
  atomik_ctx_rollback(&a, 2);
  check(atomik_ctx_read(&a) == 39 && a.accumulator == 40 && a.delta_count == 3, "add: rollback subtracts");
  atomik_ctx_init(&b, ATOMIK_ADD);
  atomik_ctx_accum(&b, MAX); /* -1 */
  atomik_ctx_merge(&a, &b);
  check(atomik_ctx_read(&a) == 38 && a.delta_count == 4, "add: merge");
  check(atomik_ctx_swap(&a) == 38 && a.reference == 38 && atomik_ctx_is_clean(&a), "add: swap");

  uint64_t d[5] = {1, 2, 3, MAX, 5};
  check(atomik_reduce(ATOMIK_XOR, d, 5) == (1 ^ 2 ^ 3 ^ MAX ^ 5), "reduce xor");
  check(atomik_reduce(ATOMIK_ADD, d, 5) == 10, "reduce add");
  check(atomik_reduce(ATOMIK_ADD, NULL, 3) == 0, "reduce of nothing");

  printf("C core: %d failures\n", failures);
  return failures != 0;
}
