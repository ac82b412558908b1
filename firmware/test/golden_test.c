/*
 * Replays firmware/golden-vectors.json against fresh devices and compares
 * every reply byte. The file is produced by tools/golden.py from the
 * specification; this reads only the "dialect", "send" and "expect" fields,
 * which appear in document order. Cases for "framed-v1" (the RTL's HELLO)
 * are skipped: the C core speaks version 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "golden_fields.h"

#define GOLDEN_BOOT_ID 0x5EED0B07u /* BOOT_ID in tools/golden.py */

static uint8_t out[8192];
static size_t out_len;

static void capture(void *user, const uint8_t *data, size_t len) {
  (void)user;
  if (out_len + len <= sizeof out) memcpy(out + out_len, data, len);
  out_len += len;
}

int main(int argc, char **argv) {
  const char *file = argc > 1 ? argv[1] : "golden-vectors.json";
  FILE *f = fopen(file, "rb");
  if (!f) {
    perror(file);
    return 2;
  }
  static char text[1 << 20];
  size_t size = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[size] = '\0';

  static uint64_t ref[16], acc[16];
  static atomik_device dev;
  static uint8_t send[8192];
  static uint8_t want[8192];
  int cases = 0, steps = 0, failures = 0, skip = 0;
  char *at = text, *value, *sent = NULL;
  const char *key;
  while ((value = next_field(&at, &key)) != NULL) {
    if (strcmp(key, "dialect") == 0) {
      skip = strcmp(value, "framed-v1") == 0;
      atomik_device_init(&dev, ref, acc, 16, "golden", capture, NULL, strcmp(value, "legacy") == 0);
      atomik_device_set_boot_id(&dev, GOLDEN_BOOT_ID);
      cases += !skip;
    } else if (skip) {
      continue;
    } else if (strcmp(key, "send") == 0) {
      sent = value;
      out_len = 0;
      atomik_device_feed(&dev, send, unhex(value, send));
    } else {
      size_t want_len = unhex(value, want);
      steps++;
      if (out_len != want_len || memcmp(out, want, want_len) != 0) {
        failures++;
        printf("FAIL case %d step %d: sent %s\n  expected %s\n  got      ", cases, steps, sent, value);
        for (size_t i = 0; i < out_len && i < sizeof out; i++) printf("%02x", out[i]);
        printf("\n");
      }
    }
  }
  printf("golden vectors: %d cases, %d steps, %d failures\n", cases, steps, failures);
  return failures || steps == 0 ? 1 : 0;
}
