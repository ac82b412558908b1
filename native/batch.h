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
 * Version 2 ("compact") has the same header except that bytes 12..15 hold
 * L, the byte length of the index column, and the columns are varints:
 *
 *       48    L indices: n LEB128 varints, the first index, then the gap to
 *                the previous one (>= 1: indices strictly ascend)
 *   48 + L    . deltas: n LEB128 varints up to the entry's end; in the add
 *                group zigzag-coded (-1 -> 1, +1 -> 2), in xor the word
 *
 * A varint is minimal (its last byte is not 0 unless it is the only one)
 * and fits its width (u32 indices: 5 bytes, u64 deltas: 10).
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
#define ATOMIK_BATCH_COMPACT_VERSION 2
#define ATOMIK_BATCH_HEADER_BYTES 48
#define ATOMIK_BATCH_CHECKSUM_OFFSET 40

enum {
  ATOMIK_BATCH_OK = 0,
  ATOMIK_BATCH_ERANGE = -1,     /* an index is outside the table */
  ATOMIK_BATCH_EGROUP = -3,     /* the batch's group is not the table's */
  ATOMIK_BATCH_EFORMAT = -4,    /* wrong magic, flags, or length for its count */
  ATOMIK_BATCH_EVERSION = -5,   /* a version this library does not read */
  ATOMIK_BATCH_ECHECKSUM = -6,  /* the checksum does not match */
  ATOMIK_BATCH_ETRUNCATED = -7, /* compact: a varint runs past its column */
  ATOMIK_BATCH_EORDER = -8,     /* compact: indices do not strictly ascend */
  ATOMIK_BATCH_EOVERLONG = -9,  /* compact: a varint not minimal or too wide */
  ATOMIK_BATCH_ETRAILING = -10  /* compact: a column has bytes after its n varints */
};

/* Bytes of a version 1 entry holding n updates. */
size_t atomik_batch_bytes(uint32_t n);

/* Whether a version 2 entry of len bytes can hold n updates with an index column of index_bytes. */
int atomik_batch_compact_fits(uint32_t n, uint32_t index_bytes, size_t len);

/*
 * Fletcher-style sums in four lanes over the entry's little-endian u32
 * words w_i (a last partial word padded with zero bytes), the checksum
 * field read as zero: lane l = i mod 4 keeps
 * a_l = sum of its words and b_l = sum of its running a_l, all mod 2^32;
 * checksum = (b_0 + 3 b_1 + 5 b_2 + 7 b_3) << 32 | (a_0 + a_1 + a_2 + a_3).
 * Four lanes let both C (vectors) and JS (independent chains) run it at
 * memory speed. It detects damaged, reordered and misframed entries; it is
 * not a message authentication code.
 */
uint64_t atomik_batch_checksum(const uint8_t *entry, size_t len);

/*
 * Checks an entry of either version completely (magic, version, flags,
 * length, checksum, group, then for version 2 every varint in stream order,
 * then every index against the table) and only then applies all its
 * deltas to the table: all or nothing. `entry` may sit at any alignment. Each index is read once
 * while applying and bounds-checked again there, so memory changed by
 * another thread during the call cannot make it write out of bounds.
 */
int atomik_batch_apply(atomik_table *t, uint16_t partition, const uint8_t *entry, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* ATOMIK_BATCH_H */
