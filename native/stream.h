/*
 * Exactly-once receiving of 16-byte reference DeltaMessages (lib/stream/message.ts):
 * big-endian u32 addr, u64 delta, u32 seq, where seq = 8-bit origin and a
 * 24-bit wire counter that cycles through 1..0xFFFFFF. Each origin 1..255
 * has a delivery record: every counter through `through` arrived, and a
 * ring bitmap of `window` bits marks the counters after it that arrived.
 * The records live in caller-owned arrays (struct of arrays, 256 entries
 * each) that the TypeScript side reads and writes too.
 *
 * Like atomik.c, this makes no OS calls and allocates nothing.
 */
#ifndef ATOMIK_STREAM_H
#define ATOMIK_STREAM_H

#include "atomik.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ATOMIK_STREAM_ORIGINS 256
#define ATOMIK_STREAM_WIRE_MAX 0xFFFFFFu
/* Wire counters less than this far ahead of a record count as ahead, the rest as behind. */
#define ATOMIK_STREAM_AHEAD_SPAN 0x800000u

/* Receipt codes, as RECEIPT in lib/stream/delivery.ts. Session messages (wire
 * counter 0, receipts 'restarted' = 4 and 'session' = 5) are taken in TypeScript: this kernel
 * refuses them with ATOMIK_STREAM_ENOORIGIN. */
enum { ATOMIK_RECEIPT_APPLIED = 0, ATOMIK_RECEIPT_DUPLICATE = 1, ATOMIK_RECEIPT_STALE = 2, ATOMIK_RECEIPT_AHEAD = 3 };

/* Status codes beyond atomik_status. */
enum {
  ATOMIK_STREAM_ENOORIGIN = -10, /* a message has origin 0 or wire counter 0 */
  ATOMIK_STREAM_ERECORD = -11,   /* a message's origin has no record */
  ATOMIK_STREAM_EWINDOW = -12    /* window is not a power of two >= 32 */
};

typedef struct {
  double *through; /* [256] counters delivered without a gap (exact below 2^53) */
  double *highest; /* [256] highest counter delivered or refused as ahead */
  uint32_t *next;  /* [256] wire counter of through + 1 */
  uint32_t *head;  /* [256] ring slot of through + 1 */
  int32_t *offset; /* [256] first word of the origin's ring in bits, -1: no record */
  uint32_t *bits;  /* the rings, window / 32 words each */
  size_t bits_words;
  uint32_t window;
} atomik_delivery;

/*
 * Checks every message first (origin and counter set, a record for the
 * origin, addr < contexts) and returns a negative status without changing
 * anything when one fails. Then classifies each message against its
 * origin's record as it stood before the call plus the counters marked
 * earlier in the call, applies the new ones to acc (xor or add), writes a
 * receipt per message when receipts is not NULL, adds to counts[receipt],
 * and finally moves each touched record past its delivered counters.
 */
int atomik_stream_receive(atomik_group group, uint64_t *acc, size_t contexts, const uint8_t *msgs, size_t n,
                          atomik_delivery *d, uint8_t *receipts, double counts[4]);

#ifdef __cplusplus
}
#endif

#endif
