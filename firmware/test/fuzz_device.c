/*
 * libFuzzer target: any byte stream, in either dialect, fed in chunks of
 * any size. The device must never read or write out of bounds, and every
 * frame it sends must be well formed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"

static void check_reply(void *user, const uint8_t *p, size_t n) {
  int legacy = *(int *)user;
  if (legacy) {
    if (n != 1 && n != 8) abort();
    return;
  }
  if (n < ATOMIK_FRAME_OVERHEAD || p[0] != ATOMIK_SYNC) abort();
  size_t len = (size_t)(p[1] << 8 | p[2]);
  if (n != ATOMIK_FRAME_OVERHEAD + len || atomik_crc8(p + 1, 5) != p[6]) abort();
  uint32_t crc = (uint32_t)p[n - 4] << 24 | (uint32_t)p[n - 3] << 16 | (uint32_t)p[n - 2] << 8 | p[n - 1];
  if (atomik_crc32(p + 1, n - 5) != crc) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint64_t ref[40], acc[40];
  static atomik_device dev;
  if (size < 2) return 0;
  int legacy = data[0] & 1;
  uint16_t contexts = (uint16_t)(1 + (data[0] >> 1) % 40);
  size_t chunk = 1 + data[1] % 64;
  atomik_device_init(&dev, ref, acc, contexts, "fuzz", check_reply, &legacy, legacy);
  for (size_t at = 2; at < size; at += chunk) {
    size_t n = size - at < chunk ? size - at : chunk;
    atomik_device_feed(&dev, data + at, n);
  }
  return 0;
}
