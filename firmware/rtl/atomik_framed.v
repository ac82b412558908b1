// The framed protocol v2 (firmware/PROTOCOL.md) over a UART, as the C
// device core (firmware/core/device.c) speaks it, byte for byte, within the
// limits its parameters set and its HELLO reply advertises: many contexts
// in block RAM, the xor and add groups, CRC-8 header and CRC-32 frame
// checks, HELLO with the session and boot id, OPEN, batches validated whole
// before anything is applied, and a replay cache that answers a repeated
// sequence number with the cached reply, byte for byte.
//
// Stages, each its own module, joined by valid/ready:
//
//   uart_rx -> atomik_frame_rx -> atomik_exec -> atomik_reply_tx -> uart_tx
//              (ring, scanning,    (contexts,      (framing and
//               CRC-32 check)       byte ALU)       checks on the way out)
//                                       \-> atomik_replay (slots, directory) -/
//
// Synchronous, active-high reset; after reset the contexts are cleared (a
// byte a clock) before the first event is taken.
`default_nettype none
module atomik_framed #(
    parameter integer CLKS_PER_BIT = 234,
    parameter integer CONTEXTS = 256,      // 1 .. 65535
    parameter integer MAX_OPS = 16,        // ops per batch: 8 MAX_OPS <= 2^SLOT_BITS
    parameter integer MAX_PAYLOAD = 1024,  // bytes of payload per frame: 13 .. 2304
    parameter integer REPLAY_DEPTH = 16,   // cached replies, a power of two (the host's window is half)
    parameter integer SLOT_BITS = 7,       // 2^SLOT_BITS bytes of payload per cached reply
    parameter integer RING_BITS = 11,      // 2^RING_BITS bytes of receive ring: more than MAX_PAYLOAD + 11
    parameter integer NAME_LEN = 10,       // 1 .. 64
    parameter [8*64-1:0] NAME = "atomik-rtl"
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        uart_rx,
    input  wire [31:0] boot_id,  // HELLO_REPLY's boot id: differs between boots, 0 if the board cannot tell
    output wire        uart_tx,
    output wire        busy      // anything to do but wait for bytes
);
  localparam integer DW = $clog2(REPLAY_DEPTH);
  localparam integer HELLO_LEN = 21 + NAME_LEN;  // version 2: the session and boot id follow the name

  wire [7:0] rx_data;
  wire rx_valid, rx_active;
  /* verilator lint_off UNUSEDSIGNAL */
  wire rx_frame_error;  // a discarded byte is a lost byte: the CRCs see to it
  /* verilator lint_on UNUSEDSIGNAL */
  uart_rx #(.CLKS_PER_BIT(CLKS_PER_BIT)) receiver (
      .clk(clk), .rst(rst), .rx(uart_rx),
      .data(rx_data), .valid(rx_valid), .frame_error(rx_frame_error), .active(rx_active)
  );

  wire ev_valid, ev_ready;
  wire [1:0] ev_kind;
  wire [15:0] ev_seq, ev_len;
  wire [7:0] ev_type, rd_data;
  wire [RING_BITS-1:0] rd_off;
  wire rx_busy;
  atomik_frame_rx #(.MAX_PAYLOAD(MAX_PAYLOAD), .RING_BITS(RING_BITS)) frames (
      .clk(clk), .rst(rst), .in_valid(rx_valid), .in_data(rx_data),
      .ev_valid(ev_valid), .ev_kind(ev_kind), .ev_seq(ev_seq), .ev_type(ev_type), .ev_len(ev_len),
      .ev_ready(ev_ready), .rd_off(rd_off), .rd_data(rd_data), .busy(rx_busy)
  );

  wire lookup, lookup_done, hit, hit_error, take, forget_all, commit, commit_error, w_en;
  wire [DW-1:0] hit_slot, next_slot;
  wire [SLOT_BITS:0] hit_len, commit_len;
  wire [DW+SLOT_BITS-1:0] w_addr, slot_raddr;
  wire [7:0] w_data, slot_rdata;
  atomik_replay #(.DEPTH(REPLAY_DEPTH), .SLOT_BITS(SLOT_BITS)) replay (
      .clk(clk), .rst(rst), .lookup(lookup), .seq(ev_seq), .done(lookup_done), .hit(hit), .hit_slot(hit_slot), .hit_error(hit_error),
      .hit_len(hit_len), .next_slot(next_slot), .take(take), .forget_all(forget_all), .commit(commit),
      .commit_seq(ev_seq), .commit_error(commit_error), .commit_len(commit_len),
      .w_en(w_en), .w_addr(w_addr), .w_data(w_data), .r_addr(slot_raddr), .r_data(slot_rdata)
  );

  wire rp_valid, rp_ready, exec_busy;
  wire [1:0] rp_src;
  wire [DW-1:0] rp_slot;
  wire [15:0] rp_seq, rp_len;
  wire [7:0] rp_type, rp_code;
  wire [31:0] session;
  atomik_exec #(
      .CONTEXTS(CONTEXTS), .MAX_OPS(MAX_OPS), .DEPTH(REPLAY_DEPTH), .SLOT_BITS(SLOT_BITS),
      .RING_BITS(RING_BITS), .HELLO_LEN(HELLO_LEN)
  ) exec (
      .clk(clk), .rst(rst),
      .ev_valid(ev_valid), .ev_kind(ev_kind), .ev_seq(ev_seq), .ev_type(ev_type), .ev_len(ev_len),
      .ev_ready(ev_ready), .rd_off(rd_off), .rd_data(rd_data),
      .lookup(lookup), .lookup_done(lookup_done), .hit(hit), .hit_slot(hit_slot), .hit_error(hit_error), .hit_len(hit_len),
      .next_slot(next_slot), .take(take), .forget_all(forget_all), .commit(commit),
      .commit_error(commit_error), .commit_len(commit_len), .w_en(w_en), .w_addr(w_addr), .w_data(w_data),
      .rp_valid(rp_valid), .rp_ready(rp_ready), .rp_src(rp_src), .rp_slot(rp_slot), .rp_seq(rp_seq),
      .rp_type(rp_type), .rp_len(rp_len), .rp_code(rp_code), .session(session), .busy(exec_busy)
  );

  wire tx_start, uart_busy, tx_busy;
  wire [7:0] tx_data;
  atomik_reply_tx #(
      .CONTEXTS(CONTEXTS), .MAX_OPS(MAX_OPS), .MAX_PAYLOAD(MAX_PAYLOAD), .DEPTH(REPLAY_DEPTH),
      .SLOT_BITS(SLOT_BITS), .NAME_LEN(NAME_LEN), .NAME(NAME)
  ) replies (
      .clk(clk), .rst(rst), .rp_valid(rp_valid), .rp_ready(rp_ready), .rp_src(rp_src), .rp_slot(rp_slot),
      .rp_seq(rp_seq), .rp_type(rp_type), .rp_len(rp_len), .rp_code(rp_code), .session(session),
      .boot_id(boot_id), .slot_raddr(slot_raddr), .slot_rdata(slot_rdata), .tx_start(tx_start),
      .tx_data(tx_data), .tx_busy(uart_busy), .busy(tx_busy)
  );
  uart_tx #(.CLKS_PER_BIT(CLKS_PER_BIT)) transmitter (
      .clk(clk), .rst(rst), .start(tx_start), .data(tx_data), .tx(uart_tx), .busy(uart_busy)
  );

  assign busy = rx_active || rx_valid || rx_busy || exec_busy || tx_busy;
endmodule
`default_nettype wire
