#include "stream.h"

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Trailing one bits of x (32 when all are set). */
static uint32_t trailing_ones(uint32_t x) {
  uint32_t zeros = ~x;
  if (zeros == 0) return 32;
#if defined(__GNUC__) || defined(__clang__)
  return (uint32_t)__builtin_ctz(zeros);
#else
  uint32_t n = 0;
  while ((zeros & 1u) == 0) {
    zeros >>= 1;
    n++;
  }
  return n;
#endif
}

static int has_record(const atomik_delivery *d, uint32_t origin, size_t words) {
  int32_t at = d->offset[origin];
  return at >= 0 && (size_t)at <= d->bits_words && d->bits_words - (size_t)at >= words;
}

/* Moves the record past the delivered counters at the start of its ring, a word at a time. */
static void advance(atomik_delivery *d, uint32_t origin) {
  uint32_t *bits = d->bits + d->offset[origin];
  uint32_t mask = d->window - 1;
  uint32_t head = d->head[origin] & mask;
  uint64_t moved = 0;
  for (;;) {
    uint32_t w = head >> 5, shift = head & 31;
    uint32_t ones = trailing_ones(bits[w] >> shift); /* at most 32 - shift: zeros are shifted in */
    if (ones == 0) break;
    bits[w] = ones == 32 ? 0 : bits[w] & ~(((1u << ones) - 1u) << shift);
    head = (head + ones) & mask;
    moved += ones;
    if (shift + ones < 32) break;
  }
  if (moved == 0) return;
  d->head[origin] = head;
  d->through[origin] += (double)moved;
  d->next[origin] =
      (uint32_t)((((uint64_t)d->next[origin] + ATOMIK_STREAM_WIRE_MAX - 1 + moved) % ATOMIK_STREAM_WIRE_MAX) + 1);
}

int atomik_stream_receive(atomik_group group, uint64_t *acc, size_t contexts, const uint8_t *msgs, size_t n,
                          atomik_delivery *d, uint8_t *receipts, double counts[4]) {
  uint32_t window = d->window;
  if (window < 32 || (window & (window - 1)) != 0) return ATOMIK_STREAM_EWINDOW;
  if (group != ATOMIK_XOR && group != ATOMIK_ADD) return ATOMIK_EGROUP;
  size_t words = window / 32;
  uint32_t mask = window - 1;
  for (size_t k = 0; k < n; k++) {
    const uint8_t *m = msgs + 16 * k;
    uint32_t seq = be32(m + 12), origin = seq >> 24;
    if (origin == 0 || (seq & ATOMIK_STREAM_WIRE_MAX) == 0) return ATOMIK_STREAM_ENOORIGIN;
    if (!has_record(d, origin, words)) return ATOMIK_STREAM_ERECORD;
    if (be32(m) >= contexts) return ATOMIK_ERANGE;
  }
  uint8_t touched[ATOMIK_STREAM_ORIGINS] = {0};
  size_t tally[4] = {0, 0, 0, 0};
  for (size_t k = 0; k < n; k++) {
    const uint8_t *m = msgs + 16 * k;
    uint32_t seq = be32(m + 12), origin = seq >> 24, addr = be32(m);
    /* Checked again: the caller's memory may have changed since the first pass. */
    if (origin == 0 || !has_record(d, origin, words) || addr >= contexts) continue;
    touched[origin] = 1;
    int64_t off = (int64_t)(seq & ATOMIK_STREAM_WIRE_MAX) - (int64_t)d->next[origin];
    if (off < 0) off += ATOMIK_STREAM_WIRE_MAX;
    int code;
    if (off >= 0 && off < (int64_t)window) {
      uint32_t slot = (d->head[origin] + (uint32_t)off) & mask;
      uint32_t *word = d->bits + d->offset[origin] + (slot >> 5);
      uint32_t bit = 1u << (slot & 31);
      code = (*word & bit) == 0 ? ATOMIK_RECEIPT_APPLIED : ATOMIK_RECEIPT_DUPLICATE;
      *word |= bit;
      double counter = d->through[origin] + 1.0 + (double)off;
      if (counter > d->highest[origin]) d->highest[origin] = counter;
    } else if (off >= 0 && off < (int64_t)ATOMIK_STREAM_AHEAD_SPAN) {
      code = ATOMIK_RECEIPT_AHEAD;
      double counter = d->through[origin] + 1.0 + (double)off;
      if (counter > d->highest[origin]) d->highest[origin] = counter;
    } else {
      double behind = (double)ATOMIK_STREAM_WIRE_MAX - (double)off;
      code = behind <= (double)window && behind <= d->through[origin] ? ATOMIK_RECEIPT_DUPLICATE : ATOMIK_RECEIPT_STALE;
    }
    if (receipts != NULL) receipts[k] = (uint8_t)code;
    tally[code]++;
    if (code == ATOMIK_RECEIPT_APPLIED) {
      uint64_t delta = ((uint64_t)be32(m + 4) << 32) | (uint64_t)be32(m + 8);
      acc[addr] = atomik_combine(group, acc[addr], delta);
    }
  }
  for (uint32_t origin = 1; origin < ATOMIK_STREAM_ORIGINS; origin++) {
    if (touched[origin] && has_record(d, origin, words)) advance(d, origin);
  }
  for (int code = 0; code < 4; code++) counts[code] += (double)tally[code];
  return ATOMIK_OK;
}
