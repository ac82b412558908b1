/*
 * libFuzzer target for replication entries (native/batch.c): any bytes,
 * with a valid magic and checksum written in so that the fuzzer reaches
 * the column decoders. atomik_batch_apply must never read or write out of
 * bounds, must answer a known status, and must leave the table unchanged
 * whenever it refuses an entry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

#define CONTEXTS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint64_t ref[CONTEXTS], acc[CONTEXTS], before[CONTEXTS];
  if (size < ATOMIK_BATCH_HEADER_BYTES) return 0;
  /* A private copy of exactly `size` bytes: ASan sees any read past it. */
  uint8_t *entry = malloc(size);
  if (entry == NULL) return 0;
  memcpy(entry, data, size);
  memcpy(entry, "AKDB", 4);
  entry[6] = entry[7] = 0;
  uint64_t sum = atomik_batch_checksum(entry, size);
  for (int i = 0; i < 8; i++) entry[ATOMIK_BATCH_CHECKSUM_OFFSET + i] = (uint8_t)(sum >> (8 * i));

  atomik_table t = {.reference = ref,
                    .accumulator = acc,
                    .size = (uint32_t)(1 + data[size - 1] % CONTEXTS),
                    .group = (entry[5] & 1) ? ATOMIK_ADD : ATOMIK_XOR};
  for (int i = 0; i < CONTEXTS; i++) acc[i] = (uint64_t)i * 0x9e3779b97f4a7c15u;
  memcpy(before, acc, sizeof acc);
  int status = atomik_batch_apply(&t, 0, entry, size);
  if (status > 0 || status < ATOMIK_BATCH_ETRAILING || status == -2) abort();
  if (status != ATOMIK_BATCH_OK && memcmp(before, acc, sizeof acc) != 0) abort();
  free(entry);
  return 0;
}
