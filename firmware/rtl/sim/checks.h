// Shared by the RTL unit tests: byte checks that print one line each, the
// golden-vector replay, and the C device core's tx hook.
#ifndef ATOMIK_RTL_CHECKS_H
#define ATOMIK_RTL_CHECKS_H

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "golden_fields.h"

using Bytes = std::vector<uint8_t>;

inline int checks;

inline std::string hex(const Bytes &b) {
  std::string s;
  char t[3];
  for (uint8_t x : b) {
    snprintf(t, sizeof t, "%02x", x);
    s += t;
  }
  return s;
}

/** Prints "ok   what", or "FAIL what" with both byte strings and exits. */
inline void expect(const Bytes &got, const Bytes &want, const char *what) {
  checks++;
  if (got != want) {
    printf("FAIL %s\n  expected %s\n  got      %s\n", what, hex(want).c_str(), hex(got).c_str());
    exit(1);
  }
  printf("ok   %s\n", what);
}

/** The C device core's tx callback: appends to the Bytes given as user. */
inline void capture(void *user, const uint8_t *data, size_t len) {
  static_cast<Bytes *>(user)->insert(static_cast<Bytes *>(user)->end(), data, data + len);
}

/**
 * Replays the cases of golden-vectors.json written for `dialect`, each on a
 * fresh Bench (a design and its line, with Bytes exchange(const Bytes &)),
 * and checks every reply; returns the number of steps checked.
 */
template <class Bench>
int golden_tests(const char *file, const char *dialect, const char *label) {
  FILE *f = fopen(file, "rb");
  if (!f) {
    perror(file);
    exit(2);
  }
  static char text[1 << 20];
  size_t size = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[size] = '\0';
  char *at = text, *value;
  const char *key;
  Bench *b = nullptr;
  static uint8_t bytes[8192];
  Bytes got;
  int steps = 0;
  while ((value = next_field(&at, &key)) != nullptr) {
    if (strcmp(key, "dialect") == 0) {
      delete b;
      b = strcmp(value, dialect) == 0 ? new Bench() : nullptr;
    } else if (b && strcmp(key, "send") == 0) {
      size_t n = unhex(value, bytes);
      got = b->exchange(Bytes(bytes, bytes + n));
    } else if (b) {
      size_t n = unhex(value, bytes);
      char what[80];
      snprintf(what, sizeof what, "golden vector, %s, step %d", label, ++steps);
      expect(got, Bytes(bytes, bytes + n), what);
    }
  }
  delete b;
  return steps;
}

#endif
