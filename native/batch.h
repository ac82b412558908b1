/*
 * Replication batches: one log entry carrying many updates for one table
 * partition, as columns, so that a received batch is applied by one scatter
 * with no per-update decoding. The byte layout is specified in
 * lib/replicate/BATCH-FORMAT.md; all fields are little-endian.
 *
 *   offset size field
 *        0    4 magic "AKDB"
 *        4    1 version (1)
 *        5    1 group (atomik_group)
 *        6    2 partition
 *        8    4 count: updates in the batch
 *       12    4 flags (0)
 *       16    8 origin: the publishing replica
 *       24    8 first counter  \ the origin's batch counters this entry
 *       32    8 last counter   / carries (first <= last)
 *       40    8 checksum of the whole entry, this field read as 0
 *       48   4n indices (u32), then zero padding to a multiple of 8
 *        .   8n deltas (u64)
 *
 * Like atomik.c, this makes no OS calls and allocates nothing.
 */
#ifndef ATOMIK_BATCH_H
#define ATOMIK_BATCH_H

#include "atomik.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ATOMIK_BATCH_MAGIC 0x42444b41u /* "AKDB" read as a little-endian u32 */
#define ATOMIK_BATCH_VERSION 1
#define ATOMIK_BATCH_HEADER_BYTES 48
#define ATOMIK_BATCH_CHECKSUM_OFFSET 40

enum {
  ATOMIK_BATCH_OK = 0,
  ATOMIK_BATCH_ERANGE = -1,   /* an index is outside the table */
  ATOMIK_BATCH_EGROUP = -3,   /* the batch's group is not the table's */
  ATOMIK_BATCH_EFORMAT = -4,  /* wrong magic, flags, or length for its count */
  ATOMIK_BATCH_EVERSION = -5, /* a version this library does not read */
  ATOMIK_BATCH_ECHECKSUM = -6 /* the checksum does not match */
};

/* Bytes of an entry holding n updates. */
size_t atomik_batch_bytes(uint32_t n);

/*
 * Fletcher-style sums in four lanes over the entry's little-endian u32
 * words w_i, the checksum field read as zero: lane l = i mod 4 keeps
 * a_l = sum of its words and b_l = sum of its running a_l, all mod 2^32;
 * checksum = (b_0 + 3 b_1 + 5 b_2 + 7 b_3) << 32 | (a_0 + a_1 + a_2 + a_3).
 * Four lanes let both C (vectors) and JS (independent chains) run it at
 * memory speed. It detects damaged, reordered and misframed entries; it is
 * not a message authentication code.
 */
uint64_t atomik_batch_checksum(const uint8_t *entry, size_t len);

/*
 * Checks an entry completely (magic, version, flags, length, checksum,
 * group, every index) and only then applies all its deltas to the table:
 * all or nothing. `entry` may sit at any alignment. Each index is read once
 * while applying and bounds-checked again there, so memory changed by
 * another thread during the call cannot make it write out of bounds.
 */
int atomik_batch_apply(atomik_table *t, uint16_t partition, const uint8_t *entry, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* ATOMIK_BATCH_H */
