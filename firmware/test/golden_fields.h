/*
 * Reads golden-vectors.json without a JSON library: the file is produced by
 * tools/golden.py, and the fields these tests need ("dialect", "send",
 * "expect") are plain strings that appear in document order. Shared by the
 * C device tests and the RTL tests.
 */
#ifndef ATOMIK_GOLDEN_FIELDS_H
#define ATOMIK_GOLDEN_FIELDS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/*
 * Returns the next string value of "dialect", "send" or "expect" after *at,
 * with the key in *key; the value is NUL-terminated in place.
 */
static inline char *next_field(char **at, const char **key) {
  static const char *const keys[] = {"dialect", "send", "expect"};
  char *best = NULL;
  size_t best_len = 0;
  for (int k = 0; k < 3; k++) {
    char pattern[32];
    snprintf(pattern, sizeof pattern, "\"%s\": \"", keys[k]);
    char *p = strstr(*at, pattern);
    if (p && (!best || p < best)) {
      best = p;
      best_len = strlen(pattern);
      *key = keys[k];
    }
  }
  if (!best) return NULL;
  char *value = best + best_len;
  char *end = strchr(value, '"');
  if (!end) return NULL;
  *end = '\0';
  *at = end + 1;
  return value;
}

static inline size_t unhex(const char *hex, uint8_t *bytes) {
  size_t n = strlen(hex) / 2;
  for (size_t i = 0; i < n; i++) sscanf(hex + 2 * i, "%2hhx", &bytes[i]);
  return n;
}

#endif
