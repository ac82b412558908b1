// RTL unit tests for the official dialect, under Verilator: the UART
// (baud tolerance, stop-bit check, glitches, breaks), the dialect's quirks,
// the golden vectors, and a differential run against the C device core.
//
//   test-legacy-<cpb> golden-vectors.json
//
// Prints one line per check and exits non-zero on the first failure.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "Vdesign.h"
#include "checks.h"
#include "device.h"
#include "line.h"

using Sim = Line<Vdesign>;

static Bytes cmd(uint8_t c, uint64_t v) {
  Bytes b{c};
  for (int i = 7; i >= 0; i--) b.push_back((uint8_t)(v >> (8 * i)));
  return b;
}

static Bytes be(uint64_t v) {
  Bytes b = cmd(0, v);
  b.erase(b.begin());
  return b;
}

/** A fresh design and the line to it, at the given host bit time (clocks). */
struct Bench {
  Vdesign design;
  Sim line;
  explicit Bench(double host_cpb = CLKS_PER_BIT) : line(design, host_cpb) {}
  Bytes exchange(const Bytes &b) { return line.exchange(b, 2000ull * CLKS_PER_BIT * (b.size() + 10)); }
};

static void uart_tests() {
  // Every byte value through the receiver and back through the transmitter,
  // with the host 2% fast (the limit for back-to-back bytes at 16 clocks a bit is 3%) and 4% slow.
  for (double skew : {0.98, 1.0, 1.04}) {
    Bench b(CLKS_PER_BIT * skew);
    Bytes got, want;
    for (unsigned v = 0; v < 256; v += 8) {
      uint64_t word = 0;
      for (unsigned k = 0; k < 8; k++) word = (word << 8) | (v + k);
      Bytes r = b.exchange(cmd('L', word));
      r = b.exchange({'R'});
      got.insert(got.end(), r.begin(), r.end());
      Bytes w = be(word);
      want.insert(want.end(), w.begin(), w.end());
    }
    char what[96];
    snprintf(what, sizeof what, "all 256 byte values in and out, host bit time x%.2f", skew);
    expect(got, want, what);
    if (b.line.framing_errors) {
      printf("FAIL %u framing errors from the transmitter\n", b.line.framing_errors);
      exit(1);
    }
  }

  {
    Bench b;
    Bytes part = cmd('L', 0x0102030405060708ull);
    part.pop_back();
    b.exchange(part);
    b.line.send_frame(0x000); // a zero byte whose stop bit is low: discarded
    b.exchange({});
    b.exchange({0x99});
    expect(b.exchange({'R'}), be(0x0102030405060799ull), "a byte with a low stop bit is discarded");
  }
  {
    Bench b;
    Bytes part = cmd('A', 0xffull);
    part.pop_back();
    b.exchange(part);
    b.line.hold_low(true); // a break of 30 bit times
    b.line.run(30ull * CLKS_PER_BIT);
    b.line.hold_low(false);
    b.line.run(CLKS_PER_BIT); // a bit time of idle line before the next start bit
    b.exchange({0x42});
    expect(b.exchange({'R'}), be(0x42), "a line held low yields no bytes (it does not finish a payload)");
  }
  {
    Bench b;
    Bytes part = cmd('L', 0x1111111111111111ull);
    part.pop_back();
    b.exchange(part);
    b.line.hold_low(true); // a glitch shorter than half a bit
    b.line.run(CLKS_PER_BIT / 3);
    b.line.hold_low(false);
    b.exchange({0x22});
    expect(b.exchange({'R'}), be(0x1111111111111122ull), "a glitch on the idle line is not a start bit");
  }
}

static void quirk_tests() {
  Bench b;
  expect(b.exchange({'S'}), {0x80}, "after reset the accumulator is clean");
  expect(b.exchange({'R', 'D'}), Bytes(8, 0), "a command sent during a reply is dropped (D after R)");
  Bytes burst{'R'};
  Bytes a = cmd('A', 0x11);
  burst.insert(burst.end(), a.begin(), a.end());
  expect(b.exchange(burst), Bytes(8, 0), "an A sent during a reply is lost");
  expect(b.exchange({'R'}), Bytes(8, 0), "... and changed nothing");
  expect(b.exchange(Bytes(8, 0)), {}, "8 zero bytes on an idle board: no reply");
  Bytes half = cmd('A', 0x5555);
  half.resize(4);
  b.exchange(half);
  expect(b.exchange({'R'}), {}, "a partial payload swallows R");
  b.exchange(Bytes(4, 0)); // payload 00 00 00 52 ('R') 00 00 00 00
  expect(b.exchange({'S', 'D'}), {0x00}, "after the payload completes, S answers and D during the reply is dropped");
  expect(b.exchange({'R'}), be(0x0000005200000000ull), "the swallowed R became payload");
}

/**
 * Random byte streams, rich in command bytes, into the RTL and into the C
 * core; one byte at a time, each after the previous reply (the C core has
 * no line, so it cannot drop bytes), and every byte out must match.
 */
static void differential(uint32_t seed, int length) {
  Bench b;
  static uint64_t ref[1], acc[1];
  static atomik_device dev;
  Bytes want;
  atomik_device_init(&dev, ref, acc, 1, "diff", capture, &want, 1);
  uint32_t s = seed;
  auto next = [&s] { return s = s * 1664525u + 1013904223u; };
  static const uint8_t commands[] = {'L', 'A', 'R', 'S', 'D', 0x00};
  Bytes got;
  for (int i = 0; i < length; i++) {
    uint32_t r = next();
    uint8_t byte = (r >> 24) < 90 ? commands[(r >> 8) % sizeof commands] : (uint8_t)(r >> 16);
    atomik_device_feed(&dev, &byte, 1);
    b.line.received().clear();
    b.line.send(&byte, 1);
    b.line.run_until_idle(200ull * CLKS_PER_BIT);
    got.insert(got.end(), b.line.received().begin(), b.line.received().end());
    if (got.size() != want.size() || got != want) {
      printf("FAIL differential seed %u: after byte %d (%02x) the RTL sent %zu bytes, the C core %zu\n", seed, i, byte,
             got.size(), want.size());
      exit(1);
    }
  }
  char what[96];
  snprintf(what, sizeof what, "differential vs the C core, seed %u: %d bytes in, %zu out, identical", seed, length,
           want.size());
  expect(got, want, what);
}

int main(int argc, char **argv) {
  printf("RTL official dialect, %d clocks per bit\n", CLKS_PER_BIT);
  uart_tests();
  quirk_tests();
  int steps = golden_tests<Bench>(argc > 1 ? argv[1] : "golden-vectors.json", "legacy", "official dialect");
  if (steps == 0) {
    printf("FAIL no golden vectors for the official dialect\n");
    return 1;
  }
  for (uint32_t seed : {1u, 2u, 3u}) differential(seed, 6000);
  printf("%d checks passed\n", checks);
  return 0;
}
