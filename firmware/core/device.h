/*
 * The device side of atomik-node: a byte-in / byte-out protocol engine over
 * the atomik C library, with no OS calls and no allocation, so every board
 * (a Linux PTY, a Cortex-M3, ...) runs the same code.
 *
 * Two dialects:
 *  - framed (default): firmware/PROTOCOL.md
 *  - legacy: the official ATOMiK FPGA protocol (L/A/R/S/D, one context, XOR)
 * A board feeds received bytes to atomik_device_feed(); replies leave through
 * the tx callback given at init.
 */
#ifndef ATOMIK_DEVICE_H
#define ATOMIK_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "atomik.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ATOMIK_PROTOCOL_VERSION 2
#define ATOMIK_FW_MAJOR 0
#define ATOMIK_FW_MINOR 1
#define ATOMIK_FW_PATCH 0

#define ATOMIK_SYNC 0xA5
#define ATOMIK_HEADER_BYTES 7
#define ATOMIK_FRAME_OVERHEAD 11 /* header + CRC-32 */
#define ATOMIK_MAX_PAYLOAD 2304
#define ATOMIK_MAX_OPS 256
/* Replies remembered for retransmitted frames. A host keeps at most half
   this many frames in its window; a board with RAM to spare may raise it
   (HELLO_REPLY carries it in one byte). */
#ifndef ATOMIK_REPLAY_DEPTH
#define ATOMIK_REPLAY_DEPTH 16
#endif
#if ATOMIK_REPLAY_DEPTH < 2 || ATOMIK_REPLAY_DEPTH > 255
#error "ATOMIK_REPLAY_DEPTH must be in 2..255"
#endif
#define ATOMIK_MAX_REPLY_PAYLOAD (ATOMIK_MAX_OPS * 8)
#define ATOMIK_MAX_CONTEXTS 65535

/* Frame types */
enum {
  ATOMIK_FT_HELLO = 0x01,
  ATOMIK_FT_BATCH = 0x02,
  ATOMIK_FT_OPEN = 0x03,
  ATOMIK_FT_HELLO_REPLY = 0x81,
  ATOMIK_FT_RESULT = 0x82,
  ATOMIK_FT_ERROR = 0x83
};

/* clang-format off */
/* Generated from lib/core/operations.ts by `npm run generate`: do not edit. */
/* Batch operations on the wire (PROTOCOL.md) */
enum {
  ATOMIK_BOP_LOAD = 0x01,
  ATOMIK_BOP_ACCUM = 0x02,
  ATOMIK_BOP_READ = 0x03,
  ATOMIK_BOP_SWAP = 0x04,
  ATOMIK_BOP_SWAP_TO = 0x05,
  ATOMIK_BOP_STATUS = 0x06,
  ATOMIK_BOP_ACCUM_RUN = 0x07
};
#define ATOMIK_BOP_MAX 0x07
/* By wire opcode: operand bytes after the opcode (0: no such op; a run adds 8 per delta). */
#define ATOMIK_BOP_OPERAND_BYTES { 0, 10, 10, 2, 2, 10, 2, 4 }
/* By wire opcode: the executor opcode it runs as (a run is combined into one). */
#define ATOMIK_BOP_EXEC_OP { 0xFF, ATOMIK_OP_LOAD, ATOMIK_OP_ACCUM, ATOMIK_OP_READ, ATOMIK_OP_SWAP, ATOMIK_OP_SWAP_TO, ATOMIK_OP_STATUS, ATOMIK_OP_ACCUM }
/* By executor opcode: its result bytes in a RESULT payload. */
#define ATOMIK_OP_RESULT_BYTES { 0, 0, 8, 8, 1, 8 }
/* End of generated section. */
/* clang-format on */

/* Error codes */
enum {
  ATOMIK_ERR_BAD_CRC = 0x01,
  ATOMIK_ERR_BAD_LENGTH = 0x02,
  ATOMIK_ERR_UNKNOWN_OP = 0x03,
  ATOMIK_ERR_INDEX_RANGE = 0x04,
  ATOMIK_ERR_BAD_GROUP = 0x05
};

typedef void (*atomik_tx_fn)(void *user, const uint8_t *data, size_t len);

typedef struct {
  uint16_t seq;
  uint16_t len; /* 0: empty slot */
  uint8_t bytes[ATOMIK_FRAME_OVERHEAD + ATOMIK_MAX_REPLY_PAYLOAD];
} atomik_replay;

typedef struct {
  uint32_t frames;     /* frames executed */
  uint32_t replays;    /* duplicates answered from the cache */
  uint32_t crc_errors; /* frames dropped for a bad CRC */
  uint32_t dropped;    /* bytes skipped while hunting for a frame */
} atomik_device_stats;

typedef struct {
  atomik_table table;
  int legacy;
  const char *name;
  atomik_tx_fn tx;
  void *user;
  uint32_t session; /* of the last OPEN since boot; 0: none */
  uint32_t boot_id; /* given by the board (atomik_device_set_boot_id); 0: unknown */
  atomik_device_stats stats;
  /* framed receiver: unparsed bytes are rx[start .. start+len) */
  uint8_t rx[ATOMIK_FRAME_OVERHEAD + ATOMIK_MAX_PAYLOAD];
  size_t rx_start, rx_len;
  uint8_t probe_pos;
  atomik_replay replay[ATOMIK_REPLAY_DEPTH];
  unsigned replay_next;
  uint8_t scratch[ATOMIK_FRAME_OVERHEAD + ATOMIK_MAX_REPLY_PAYLOAD];
  atomik_op ops[ATOMIK_MAX_OPS]; /* a batch, decoded for atomik_table_exec */
  /* legacy receiver */
  uint8_t lg_cmd, lg_have, lg_buf[8];
} atomik_device;

/*
 * reference/accumulator: caller-owned arrays of `contexts` words (1 ..
 * ATOMIK_MAX_CONTEXTS). legacy != 0 selects the official FPGA dialect.
 */
void atomik_device_init(atomik_device *d, uint64_t *reference, uint64_t *accumulator, uint16_t contexts,
                        const char *name, atomik_tx_fn tx, void *user, int legacy);

/*
 * Sets the boot id that HELLO_REPLY reports (PROTOCOL.md, version 2): a
 * value the board draws at boot from whatever entropy it has, so a host can
 * tell a reboot from a reconnect. 0 (the default) says the board cannot
 * tell its boots apart. The core has no entropy source of its own.
 */
void atomik_device_set_boot_id(atomik_device *d, uint32_t boot_id);

/* Feeds received bytes; replies are sent through tx before it returns. */
void atomik_device_feed(atomik_device *d, const uint8_t *data, size_t len);

/* The 8-byte hello probe (PROTOCOL.md). */
extern const uint8_t ATOMIK_HELLO_PROBE[8];

uint8_t atomik_crc8(const uint8_t *data, size_t len);
uint32_t atomik_crc32(const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif
