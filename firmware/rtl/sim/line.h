// A simulated serial line around a Verilated design with the ports
// clk, rst, uart_rx, uart_tx and busy: the host side of the UART, bit by
// bit. Bytes queued with send() are shifted into uart_rx back to back, as a
// USB-serial bridge does; uart_tx is decoded into received().
//
// The host's bit time may differ from the design's (a fractional number of
// clocks) to check the receiver's tolerance.
#ifndef ATOMIK_RTL_LINE_H
#define ATOMIK_RTL_LINE_H

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <vector>

template <class Model>
class Line {
public:
  Line(Model &m, double host_clks_per_bit) : m_(m), host_cpb_(host_clks_per_bit) {
    m_.clk = 0;
    m_.uart_rx = 1;
    m_.rst = 1;
    for (int i = 0; i < 8; i++) tick();
    m_.rst = 0;
    tick();
  }

  /** Queues bytes for the design's receiver. */
  void send(const uint8_t *p, size_t n) { pending_.insert(pending_.end(), p, p + n); }
  void send(const std::vector<uint8_t> &v) { send(v.data(), v.size()); }

  /** Holds the receive line low (a break) or releases it, between bytes. */
  void hold_low(bool low) { held_low_ = low; }

  /**
   * Sends a raw 10-bit frame: bit 0 is the start bit, bit 9 the stop bit.
   * Lets tests send a byte with a bad stop bit.
   */
  void send_frame(uint16_t frame) { raw_.push_back(frame); }

  /** Bytes decoded from the design's transmitter so far. */
  std::vector<uint8_t> &received() { return out_; }

  /** Nothing queued or on the line in either direction, and the design is not busy. */
  bool idle() const { return pending_.empty() && raw_.empty() && !driving_ && !decoding_ && !m_.busy && m_.uart_tx; }

  size_t queued() const { return pending_.size() + raw_.size() + (driving_ ? 1 : 0); }

  uint64_t cycles() const { return cycles_; }

  /** One clock cycle: host side first, then a rising edge. */
  void tick() {
    drive();
    decode();
    m_.clk = 0;
    m_.eval();
    m_.clk = 1;
    m_.eval();
    cycles_++;
  }

  /** Runs until idle (or max_cycles); returns true when idle. */
  bool run_until_idle(uint64_t max_cycles) {
    for (uint64_t i = 0; i < max_cycles; i++) {
      if (idle()) return true;
      tick();
    }
    return idle();
  }

  void run(uint64_t n) {
    for (uint64_t i = 0; i < n; i++) tick();
  }

  /**
   * Sends bytes, runs until everything is answered (at most max_cycles,
   * else it reports and exits: a test that hangs tells nothing), then a
   * byte time more for anything late; returns what came back.
   */
  std::vector<uint8_t> exchange(const std::vector<uint8_t> &b, uint64_t max_cycles) {
    out_.clear();
    send(b);
    if (!run_until_idle(max_cycles)) {
      printf("FAIL the design did not go idle\n");
      exit(1);
    }
    run((uint64_t)llround(12 * host_cpb_));
    return out_;
  }

private:
  // Cycle at which host bit `k` of a frame started at `start` begins (k + 0.5: its middle).
  uint64_t at(uint64_t start, double k) const { return start + (uint64_t)llround(k * host_cpb_); }

  void drive() {
    if (!driving_) {
      if (raw_.empty() && pending_.empty()) {
        m_.uart_rx = held_low_ ? 0 : 1;
        return;
      }
      if (!raw_.empty()) {
        frame_ = raw_.front();
        raw_.pop_front();
      } else {
        frame_ = (uint16_t)(0x200u | ((unsigned)pending_.front() << 1));
        pending_.pop_front();
      }
      driving_ = true;
      frame_start_ = cycles_;
      bit_ = 0;
      next_edge_ = at(frame_start_, 1);
    } else if (cycles_ >= next_edge_) {
      if (++bit_ == 10) {
        driving_ = false;
        drive(); // the next frame starts right away
        return;
      }
      next_edge_ = at(frame_start_, bit_ + 1);
    }
    m_.uart_rx = (frame_ >> bit_) & 1u;
  }

  // Samples the design's output in the middle of each of its bits (host bit time).
  void decode() {
    if (!decoding_) {
      if (m_.uart_tx == 0) {
        decoding_ = true;
        tx_start_ = cycles_;
        tx_bits_ = 0;
        tx_byte_ = 0;
        next_sample_ = at(tx_start_, 0.5);
      }
      return;
    }
    if (cycles_ < next_sample_) return;
    if (tx_bits_ == 0) {
      if (m_.uart_tx != 0) decoding_ = false; // a glitch, not a start bit
    } else if (tx_bits_ <= 8) {
      tx_byte_ |= (uint8_t)((m_.uart_tx & 1u) << (tx_bits_ - 1));
    } else {
      if (m_.uart_tx) {
        out_.push_back(tx_byte_);
      } else {
        framing_errors++;
      }
      decoding_ = false;
      return;
    }
    tx_bits_++;
    next_sample_ = at(tx_start_, tx_bits_ + 0.5);
  }

  Model &m_;
  double host_cpb_;
  std::deque<uint8_t> pending_;
  std::deque<uint16_t> raw_;
  bool held_low_ = false;
  bool driving_ = false;
  uint16_t frame_ = 0;
  uint64_t frame_start_ = 0;
  int bit_ = 0;
  uint64_t next_edge_ = 0;
  bool decoding_ = false;
  uint64_t tx_start_ = 0;
  int tx_bits_ = 0;
  uint8_t tx_byte_ = 0;
  uint64_t next_sample_ = 0;
  uint64_t cycles_ = 0;
  std::vector<uint8_t> out_;

public:
  /** Bytes from the design whose stop bit was low (never expected). */
  unsigned framing_errors = 0;
};

#endif
