/* Device protocol engine: see device.h and firmware/PROTOCOL.md. */
#include "device.h"

#include <string.h>

const uint8_t ATOMIK_HELLO_PROBE[8] = {0x7E, 'a', 't', 'o', 'm', 'i', 'k', '?'};

/* ---- checksums --------------------------------------------------------- */

uint8_t atomik_crc8(const uint8_t *data, size_t len) {
  uint8_t crc = 0;
  for (size_t i = 0; i < len; i++) {
    crc ^= data[i];
    for (int b = 0; b < 8; b++) crc = (uint8_t)((crc & 0x80) ? (crc << 1) ^ 0x07 : crc << 1);
  }
  return crc;
}

static uint32_t crc32_table[256];
static int crc32_ready;

uint32_t atomik_crc32(const uint8_t *data, size_t len) {
  if (!crc32_ready) {
    for (uint32_t n = 0; n < 256; n++) {
      uint32_t c = n;
      for (int b = 0; b < 8; b++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      crc32_table[n] = c;
    }
    crc32_ready = 1;
  }
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; i++) crc = crc32_table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

/* ---- big-endian helpers ------------------------------------------------ */

static uint16_t be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t be64(const uint8_t *p) { return ((uint64_t)be32(p) << 32) | be32(p + 4); }

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v) {
  put16(p, (uint16_t)(v >> 16));
  put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)(v >> 32));
  put32(p + 4, (uint32_t)v);
}

/* ---- init ------------------------------------------------------------------ */

void atomik_device_init(atomik_device *d, uint64_t *reference, uint64_t *accumulator, uint16_t contexts,
                        const char *name, atomik_tx_fn tx, void *user, int legacy) {
  memset(d, 0, sizeof *d);
  d->table.reference = reference;
  d->table.accumulator = accumulator;
  d->table.size = contexts;
  d->table.group = ATOMIK_XOR;
  d->legacy = legacy;
  d->name = name ? name : "atomik";
  d->tx = tx;
  d->user = user;
  for (uint32_t i = 0; i < contexts; i++) reference[i] = accumulator[i] = 0;
}

void atomik_device_set_boot_id(atomik_device *d, uint32_t boot_id) { d->boot_id = boot_id; }

/* ---- replies ----------------------------------------------------------------- */

/* Wraps `len` payload bytes already at out + 7 into a frame; returns its size. */
static size_t seal_frame(uint8_t *out, uint16_t seq, uint8_t type, size_t len) {
  out[0] = ATOMIK_SYNC;
  put16(out + 1, (uint16_t)len);
  put16(out + 3, seq);
  out[5] = type;
  out[6] = atomik_crc8(out + 1, 5);
  put32(out + ATOMIK_HEADER_BYTES + len, atomik_crc32(out + 1, 6 + len));
  return ATOMIK_FRAME_OVERHEAD + len;
}

static void send(atomik_device *d, const uint8_t *bytes, size_t len) {
  if (d->tx) d->tx(d->user, bytes, len);
}

static atomik_replay *find_replay(atomik_device *d, uint16_t seq) {
  for (unsigned i = 0; i < ATOMIK_REPLAY_DEPTH; i++) {
    if (d->replay[i].len && d->replay[i].seq == seq) return &d->replay[i];
  }
  return NULL;
}

/* Seals a reply built in a cache slot, remembers it for SEQ, and sends it. */
static void reply_cached(atomik_device *d, atomik_replay *slot, uint16_t seq, uint8_t type, size_t len) {
  slot->seq = seq;
  slot->len = (uint16_t)seal_frame(slot->bytes, seq, type, len);
  send(d, slot->bytes, slot->len);
}

static atomik_replay *next_slot(atomik_device *d) {
  atomik_replay *slot = &d->replay[d->replay_next];
  d->replay_next = (d->replay_next + 1) % ATOMIK_REPLAY_DEPTH;
  slot->len = 0;
  return slot;
}

static void reply_error(atomik_device *d, atomik_replay *slot, uint16_t seq, uint8_t code, uint16_t at) {
  uint8_t *p = slot ? slot->bytes : d->scratch;
  p[ATOMIK_HEADER_BYTES] = code;
  put16(p + ATOMIK_HEADER_BYTES + 1, at);
  if (slot) {
    reply_cached(d, slot, seq, ATOMIK_FT_ERROR, 3);
  } else {
    send(d, p, seal_frame(p, seq, ATOMIK_FT_ERROR, 3));
  }
}

static void reply_hello(atomik_device *d, uint16_t seq) {
  uint8_t *p = d->scratch + ATOMIK_HEADER_BYTES;
  size_t name_len = strlen(d->name);
  if (name_len > 64) name_len = 64;
  p[0] = ATOMIK_PROTOCOL_VERSION;
  p[1] = ATOMIK_FW_MAJOR;
  p[2] = ATOMIK_FW_MINOR;
  p[3] = ATOMIK_FW_PATCH;
  put16(p + 4, (uint16_t)d->table.size);
  put16(p + 6, ATOMIK_MAX_OPS);
  put16(p + 8, ATOMIK_MAX_PAYLOAD);
  p[10] = 0x03; /* xor and add */
  p[11] = ATOMIK_REPLAY_DEPTH;
  p[12] = (uint8_t)name_len;
  memcpy(p + 13, d->name, name_len);
  put32(p + 13 + name_len, d->session); /* version 2: tells a reconnect from a reboot */
  put32(p + 17 + name_len, d->boot_id);
  send(d, d->scratch, seal_frame(d->scratch, seq, ATOMIK_FT_HELLO_REPLY, 21 + name_len));
}

/* ---- batches --------------------------------------------------------------------- */

static const uint8_t OPERAND_BYTES[] = ATOMIK_BOP_OPERAND_BYTES;
static const uint8_t EXEC_OP[] = ATOMIK_BOP_EXEC_OP;
static const uint8_t RESULT_BYTES[] = ATOMIK_OP_RESULT_BYTES;

/* Operand bytes after the opcode (a run adds 8 per delta); 0 for an unknown op. */
static size_t operand_bytes(uint8_t op) { return op <= ATOMIK_BOP_MAX ? OPERAND_BYTES[op] : 0; }

/*
 * Checks a whole batch without applying anything. At most ATOMIK_MAX_OPS
 * ops with at most 8 result bytes each, so every reply fits its buffer. Returns 0 when it is
 * valid, else an error code with *at set to the offending operation.
 */
static uint8_t validate_batch(const atomik_device *d, const uint8_t *p, size_t len, uint16_t *at) {
  size_t pos = 0;
  uint16_t n = 0;
  while (pos < len) {
    *at = n;
    uint8_t op = p[pos];
    size_t need = operand_bytes(op);
    if (need == 0) return ATOMIK_ERR_UNKNOWN_OP;
    if (n >= ATOMIK_MAX_OPS || len - pos - 1 < need) return ATOMIK_ERR_BAD_LENGTH;
    if (op == ATOMIK_BOP_ACCUM_RUN) {
      size_t deltas = be16(p + pos + 3);
      if ((len - pos - 5) / 8 < deltas) return ATOMIK_ERR_BAD_LENGTH;
      need += 8 * deltas;
    }
    if (be16(p + pos + 1) >= d->table.size) return ATOMIK_ERR_INDEX_RANGE;
    pos += 1 + need;
    n++;
  }
  return 0;
}

/*
 * Runs a validated batch through the library's executor: decodes the wire
 * ops into atomik_op records (a run becomes one ACCUM of its combined
 * deltas), executes them, and writes the results to out. Returns their size.
 */
static size_t apply_batch(atomik_device *d, const uint8_t *p, size_t len, uint8_t *out) {
  const atomik_group g = d->table.group;
  size_t pos = 0, n = 0, w = 0;
  while (pos < len) {
    uint8_t op = p[pos];
    const uint8_t *arg = p + pos + 3;
    atomik_op *rec = &d->ops[n++];
    memset(rec, 0, sizeof *rec);
    rec->opcode = EXEC_OP[op];
    rec->addr = be16(p + pos + 1);
    if (op == ATOMIK_BOP_ACCUM_RUN) {
      uint16_t count = be16(arg);
      uint64_t run = 0; /* the identity of both groups */
      for (uint16_t k = 0; k < count; k++) run = atomik_combine(g, run, be64(arg + 2 + 8 * k));
      rec->value = run;
      pos += 8 * (size_t)count;
    } else if (operand_bytes(op) == 10) {
      rec->value = be64(arg);
    }
    pos += 1 + operand_bytes(op);
  }
  if (atomik_table_exec(&d->table, d->ops, n, NULL) != ATOMIK_OK) return 0; /* validated: cannot happen */
  for (size_t i = 0; i < n; i++) {
    if (RESULT_BYTES[d->ops[i].opcode] == 8) {
      put64(out + w, d->ops[i].value);
      w += 8;
    } else if (RESULT_BYTES[d->ops[i].opcode] == 1) {
      out[w++] = (uint8_t)d->ops[i].value;
    }
  }
  return w;
}

static void handle_frame(atomik_device *d, uint16_t seq, uint8_t type, const uint8_t *p, size_t len) {
  if (type == ATOMIK_FT_HELLO) {
    reply_hello(d, seq);
    return;
  }
  if (type != ATOMIK_FT_BATCH && type != ATOMIK_FT_OPEN) {
    reply_error(d, NULL, seq, ATOMIK_ERR_UNKNOWN_OP, 0xFFFF);
    return;
  }
  /* Exactly once: a sequence number seen recently gets its old reply, unrun. */
  int new_session = type == ATOMIK_FT_OPEN && len == 5 && be32(p) != d->session;
  atomik_replay *seen = new_session ? NULL : find_replay(d, seq);
  if (seen) {
    d->stats.replays++;
    send(d, seen->bytes, seen->len);
    return;
  }
  d->stats.frames++;
  if (type == ATOMIK_FT_OPEN) {
    if (len != 5) {
      reply_error(d, next_slot(d), seq, ATOMIK_ERR_BAD_LENGTH, 0xFFFF);
      return;
    }
    if (p[4] > ATOMIK_ADD) {
      reply_error(d, next_slot(d), seq, ATOMIK_ERR_BAD_GROUP, 0xFFFF);
      return;
    }
    if (new_session) {
      for (unsigned i = 0; i < ATOMIK_REPLAY_DEPTH; i++) d->replay[i].len = 0;
      d->session = be32(p);
    }
    d->table.group = (atomik_group)p[4];
    reply_cached(d, next_slot(d), seq, ATOMIK_FT_RESULT, 0);
    return;
  }
  uint16_t at = 0;
  uint8_t err = validate_batch(d, p, len, &at);
  atomik_replay *slot = next_slot(d);
  if (err) {
    reply_error(d, slot, seq, err, at);
    return;
  }
  size_t out = apply_batch(d, p, len, slot->bytes + ATOMIK_HEADER_BYTES);
  reply_cached(d, slot, seq, ATOMIK_FT_RESULT, out);
}

/* ---- framed receiver ----------------------------------------------------------------- */

/* Drops the first unparsed byte, watching for the hello probe among such bytes. */
static void drop_byte(atomik_device *d) {
  uint8_t b = d->rx[d->rx_start];
  d->rx_start++;
  d->rx_len--;
  d->stats.dropped++;
  if (b == ATOMIK_HELLO_PROBE[d->probe_pos]) {
    if (++d->probe_pos == sizeof ATOMIK_HELLO_PROBE) {
      d->probe_pos = 0;
      d->stats.dropped -= (uint32_t)sizeof ATOMIK_HELLO_PROBE;
      reply_hello(d, 0);
    }
  } else {
    d->probe_pos = b == ATOMIK_HELLO_PROBE[0];
  }
}

static void parse_frames(atomik_device *d) {
  while (d->rx_len > 0) {
    const uint8_t *f = d->rx + d->rx_start;
    if (f[0] != ATOMIK_SYNC) {
      drop_byte(d);
      continue;
    }
    if (d->rx_len < ATOMIK_HEADER_BYTES) return;
    uint16_t len = be16(f + 1), seq = be16(f + 3);
    if (atomik_crc8(f + 1, 5) != f[6]) {
      drop_byte(d);
      continue;
    }
    if (len > ATOMIK_MAX_PAYLOAD) {
      reply_error(d, NULL, seq, ATOMIK_ERR_BAD_LENGTH, 0xFFFF);
      drop_byte(d);
      continue;
    }
    size_t total = ATOMIK_FRAME_OVERHEAD + (size_t)len;
    if (d->rx_len < total) return;
    if (atomik_crc32(f + 1, 6 + (size_t)len) != be32(f + ATOMIK_HEADER_BYTES + len)) {
      d->stats.crc_errors++;
      reply_error(d, NULL, seq, ATOMIK_ERR_BAD_CRC, 0xFFFF);
      drop_byte(d);
      continue;
    }
    handle_frame(d, seq, f[5], f + ATOMIK_HEADER_BYTES, len);
    d->rx_start += total;
    d->rx_len -= total;
  }
  d->rx_start = 0;
}

static void feed_framed(atomik_device *d, const uint8_t *data, size_t len) {
  while (len > 0) {
    if (d->rx_start + d->rx_len == sizeof d->rx) {
      memmove(d->rx, d->rx + d->rx_start, d->rx_len);
      d->rx_start = 0;
    }
    size_t room = sizeof d->rx - d->rx_start - d->rx_len;
    size_t take = len < room ? len : room;
    memcpy(d->rx + d->rx_start + d->rx_len, data, take);
    d->rx_len += take;
    data += take;
    len -= take;
    parse_frames(d);
  }
}

/* ---- legacy receiver (official FPGA protocol, context 0, XOR) ------------------------- */

static void feed_legacy(atomik_device *d, const uint8_t *data, size_t len) {
  uint64_t *ref = &d->table.reference[0], *acc = &d->table.accumulator[0];
  for (size_t i = 0; i < len; i++) {
    uint8_t b = data[i];
    if (d->lg_cmd) { /* a payload swallows whatever follows, as on the board */
      d->lg_buf[d->lg_have++] = b;
      if (d->lg_have == 8) {
        if (d->lg_cmd == 'L') {
          *ref = be64(d->lg_buf);
          *acc = 0;
        } else {
          *acc ^= be64(d->lg_buf);
        }
        d->lg_cmd = 0;
      }
      continue;
    }
    uint8_t out[8];
    switch (b) {
      case 'L':
      case 'A':
        d->lg_cmd = b;
        d->lg_have = 0;
        break;
      case 'R':
        put64(out, *ref ^ *acc);
        send(d, out, 8);
        break;
      case 'D':
        put64(out, *ref);
        send(d, out, 8);
        break;
      case 'S':
        out[0] = *acc == 0 ? 0x80 : 0x00;
        send(d, out, 1);
        break;
      default: break; /* unknown bytes are ignored while idle */
    }
  }
}

void atomik_device_feed(atomik_device *d, const uint8_t *data, size_t len) {
  if (data == NULL || len == 0) return;
  if (d->legacy) {
    feed_legacy(d, data, len);
  } else {
    feed_framed(d, data, len);
  }
}
