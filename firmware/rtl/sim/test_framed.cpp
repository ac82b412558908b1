// RTL unit tests for the framed protocol, under Verilator: the golden
// vectors, and a differential run against the C device core on random
// streams of frames (valid, corrupted, truncated, repeated) and noise.
//
//   test-framed-<cpb> golden-vectors.json
//
// Built with the C core's limits (16 contexts named "golden", 256 ops,
// 2304 payload bytes, 16 cached replies) and the golden vectors' boot id,
// so both must answer alike, HELLO_REPLY (version 2) included.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "Vdesign.h"
#include "checks.h"
#include "device.h"
#include "line.h"

using Sim = Line<Vdesign>;

#define GOLDEN_BOOT_ID 0x5EED0B07u /* BOOT_ID in ../../tools/golden.py */

struct Bench {
  Vdesign design;
  Sim line;
  Bench() : line(design, CLKS_PER_BIT) {
    design.boot_id = GOLDEN_BOOT_ID;
    line.run_until_idle(1u << 20); // the contexts are cleared after reset
  }
  Bytes exchange(const Bytes &b) { return line.exchange(b, 4000ull * CLKS_PER_BIT * (b.size() + 300)); }
};

// ---- random traffic ----------------------------------------------------------

struct Rng {
  uint64_t s;
  uint32_t next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(s >> 33);
  }
  uint32_t below(uint32_t n) { return next() % n; }
  uint64_t u64() { return ((uint64_t)next() << 32) ^ next(); }
};

static void put16(Bytes &b, unsigned v) {
  b.push_back((uint8_t)(v >> 8));
  b.push_back((uint8_t)v);
}
static void put64(Bytes &b, uint64_t v) {
  for (int i = 7; i >= 0; i--) b.push_back((uint8_t)(v >> (8 * i)));
}

static Bytes frame(unsigned seq, uint8_t type, const Bytes &payload) {
  Bytes f{ATOMIK_SYNC};
  put16(f, (unsigned)payload.size());
  put16(f, seq);
  f.push_back(type);
  f.push_back(atomik_crc8(f.data() + 1, 5));
  f.insert(f.end(), payload.begin(), payload.end());
  uint32_t crc = atomik_crc32(f.data() + 1, f.size() - 1);
  for (int i = 3; i >= 0; i--) f.push_back((uint8_t)(crc >> (8 * i)));
  return f;
}

// Mostly valid batches over 16 contexts (some indices out of range), with
// the occasional unknown op, cut payload or long run.
static Bytes batch(Rng &r) {
  Bytes p;
  unsigned ops = 1 + r.below(r.below(8) == 0 ? 40 : 6);
  for (unsigned i = 0; i < ops; i++) {
    unsigned kind = r.below(100);
    unsigned index = r.below(20) == 0 ? 16 + r.below(3) : r.below(16);
    if (kind < 2) {
      p.push_back((uint8_t)(8 + r.below(240))); // no such op
      put16(p, index);
      continue;
    }
    uint8_t op = (uint8_t)(1 + r.below(7));
    p.push_back(op);
    put16(p, index);
    if (op == ATOMIK_BOP_LOAD || op == ATOMIK_BOP_ACCUM || op == ATOMIK_BOP_SWAP_TO)
      put64(p, r.below(4) == 0 ? r.below(3) : r.u64());
    if (op == ATOMIK_BOP_ACCUM_RUN) {
      unsigned n = r.below(10) == 0 ? r.below(200) : r.below(5);
      put16(p, n);
      for (unsigned k = 0; k < n; k++) put64(p, r.u64());
    }
  }
  if (r.below(15) == 0 && !p.empty()) p.resize(r.below((unsigned)p.size())); // cut short
  return p;
}

static Bytes traffic(Rng &r, unsigned &seq) {
  unsigned kind = r.below(100);
  if (r.below(3) != 0) seq = r.below(6) == 0 ? r.below(40) : seq + 1; // repeats hit the replay cache
  Bytes out;
  if (kind < 55) {
    out = frame(seq & 0xFFFF, ATOMIK_FT_BATCH, batch(r));
  } else if (kind < 63) {
    Bytes p;
    p.push_back(0);
    p.push_back(0);
    p.push_back(0);
    p.push_back((uint8_t)(1 + r.below(3))); // a few sessions
    p.push_back((uint8_t)(r.below(8) == 0 ? 2 + r.below(3) : r.below(2)));
    if (r.below(10) == 0) p.pop_back();
    out = frame(seq & 0xFFFF, ATOMIK_FT_OPEN, p);
  } else if (kind < 66) {
    out = frame(seq & 0xFFFF, ATOMIK_FT_HELLO, Bytes(r.below(3), 0x55));
  } else if (kind < 69) {
    out = frame(seq & 0xFFFF, (uint8_t)(4 + r.below(250)), Bytes(r.below(4), 0x11));
  } else if (kind < 73) {
    out.assign(ATOMIK_HELLO_PROBE, ATOMIK_HELLO_PROBE + 8);
  } else if (kind < 80) {
    for (unsigned n = r.below(12); n > 0; n--) out.push_back(r.below(4) == 0 ? ATOMIK_SYNC : (uint8_t)r.next());
  } else if (kind < 83) {
    out = frame(seq & 0xFFFF, ATOMIK_FT_BATCH, Bytes());
    out[1] = 0x09; // LEN 2304 + 1 .. : too long (the header check is recomputed)
    out[2] = 0x01;
    out[6] = atomik_crc8(out.data() + 1, 5);
    out.resize(7);
  } else {
    out = frame(seq & 0xFFFF, ATOMIK_FT_BATCH, batch(r));
    unsigned at = r.below((unsigned)out.size());
    if (r.below(2)) out[at] ^= (uint8_t)(1u << r.below(8)); // corrupted
    else out.erase(out.begin() + at);                       // a byte lost
  }
  return out;
}

static void differential(uint64_t seed, int items) {
  Bench b;
  static uint64_t ref[16], acc[16];
  static atomik_device dev;
  Bytes want, got;
  atomik_device_init(&dev, ref, acc, 16, "golden", capture, &want, 0);
  atomik_device_set_boot_id(&dev, GOLDEN_BOOT_ID);
  Rng r{seed};
  unsigned seq = 1;
  size_t in = 0;
  for (int i = 0; i < items; i++) {
    Bytes chunk = traffic(r, seq);
    in += chunk.size();
    atomik_device_feed(&dev, chunk.data(), chunk.size());
    Bytes out = b.exchange(chunk);
    got.insert(got.end(), out.begin(), out.end());
    if (got != want) {
      size_t at = 0;
      while (at < got.size() && at < want.size() && got[at] == want[at]) at++;
      printf("FAIL differential seed %llu: item %d (%s...) output differs at byte %zu\n  C core %s\n  RTL    %s\n",
             (unsigned long long)seed, i,
             hex(Bytes(chunk.begin(), chunk.begin() + (chunk.size() < 24 ? chunk.size() : 24))).c_str(), at,
             hex(Bytes(want.begin() + (long)at, want.begin() + (long)(at + 40 < want.size() ? at + 40 : want.size())))
                 .c_str(),
             hex(Bytes(got.begin() + (long)at, got.begin() + (long)(at + 40 < got.size() ? at + 40 : got.size())))
                 .c_str());
      exit(1);
    }
  }
  char what[128];
  snprintf(what, sizeof what, "differential vs the C core, seed %llu: %d items, %zu bytes in, %zu out, identical",
           (unsigned long long)seed, items, in, want.size());
  expect(got, want, what);
}

int main(int argc, char **argv) {
  printf("RTL framed protocol, %d clocks per bit\n", CLKS_PER_BIT);
  const char *file = argc > 1 ? argv[1] : "golden-vectors.json";
  int steps = golden_tests<Bench>(file, "framed", "framed protocol") +
              golden_tests<Bench>(file, "framed-v2", "framed protocol (version 2 HELLO)");
  if (steps == 0) {
    printf("FAIL no golden vectors for the framed protocol\n");
    return 1;
  }
  for (uint64_t seed : {1ull, 2ull, 3ull}) differential(seed, 400);
  printf("%d checks passed\n", checks);
  return 0;
}
