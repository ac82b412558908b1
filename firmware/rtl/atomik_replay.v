// Replay cache: the payloads of the last DEPTH replies to BATCH and OPEN
// frames (block RAM, one slot each), and a directory of their SEQ, type
// (RESULT or ERROR), length and slot. A frame whose SEQ is in the
// directory is answered again from its slot, byte for byte, and not run
// again (PROTOCOL.md, "Sessions, sequence numbers, exactly once").
//
// As in the C core: `take` hands out the oldest slot and forgets what it
// held; `commit` files the reply written into the slot taken last;
// `forget_all` empties the directory (an OPEN with a new session); a
// lookup finds the lowest slot whose SEQ matches.
//
// The directory is a ring of registers in the order the slots were taken,
// newest first: taking a slot shifts a fresh entry in and the oldest (that
// slot's) out. A lookup turns the ring once round, comparing the entry
// that passes the end (DEPTH clocks, one comparator, no wide multiplexer).
`default_nettype none
module atomik_replay #(
    parameter integer DEPTH = 16,     // a power of two, 2 .. 128
    parameter integer SLOT_BITS = 7   // 2^SLOT_BITS payload bytes a slot
) (
    input  wire                               clk,
    input  wire                               rst,
    // lookup: start pulses, done rises DEPTH clocks later with the answer
    input  wire                               lookup,
    input  wire [15:0]                        seq,
    output reg                                done,
    output reg                                hit,
    output reg  [$clog2(DEPTH)-1:0]           hit_slot,
    output reg                                hit_error,
    output reg  [SLOT_BITS:0]                 hit_len,
    // allocation and filing
    output reg  [$clog2(DEPTH)-1:0]           next_slot,
    input  wire                               take,
    input  wire                               forget_all,
    input  wire                               commit,
    input  wire [15:0]                        commit_seq,
    input  wire                               commit_error,
    input  wire [SLOT_BITS:0]                 commit_len,
    // slot payloads: written by the executor, read by the transmitter
    input  wire                               w_en,
    input  wire [$clog2(DEPTH)+SLOT_BITS-1:0] w_addr,
    input  wire [7:0]                         w_data,
    input  wire [$clog2(DEPTH)+SLOT_BITS-1:0] r_addr,
    output reg  [7:0]                         r_data
);
  localparam integer DW = $clog2(DEPTH);
  localparam integer EW = DW + SLOT_BITS + 18;  // slot, length, error, seq
  localparam [DW:0] ONE = 1;

  reg [7:0] slots [0:DEPTH * (1 << SLOT_BITS) - 1];
  always @(posedge clk) begin
    r_data <= slots[r_addr];
    if (w_en) slots[w_addr] <= w_data;
  end

  // Entry i: {slot, length, error, seq}; valid[i] tells whether it holds a reply.
  reg [EW-1:0] entry [0:DEPTH-1];
  reg [DEPTH-1:0] valid;
  reg [DW:0] turn;  // clocks of the lookup left
  wire [EW-1:0] last = entry[DEPTH-1];
  wire [DW-1:0] last_slot = last[EW-1 -: DW];
  wire match = valid[DEPTH-1] && last[15:0] == seq && (!hit || last_slot < hit_slot);

  integer i;
  always @(posedge clk) begin
    done <= 1'b0;
    if (rst) begin
      valid <= {DEPTH{1'b0}};
      next_slot <= {DW{1'b0}};
      turn <= {(DW + 1){1'b0}};
    end else if (turn != {(DW + 1){1'b0}}) begin  // one step round the ring
      for (i = DEPTH - 1; i > 0; i = i - 1) entry[i] <= entry[i - 1];
      entry[0] <= last;
      valid <= {valid[DEPTH-2:0], valid[DEPTH-1]};
      if (match) begin
        hit <= 1'b1;
        hit_slot <= last_slot;
        hit_error <= last[16];
        hit_len <= last[17 +: SLOT_BITS + 1];
      end
      turn <= turn - 1'b1;
      done <= turn == ONE;
    end else if (lookup) begin
      hit <= 1'b0;
      turn <= DEPTH[DW:0];
    end else if (take) begin
      for (i = DEPTH - 1; i > 0; i = i - 1) entry[i] <= entry[i - 1];
      entry[0] <= {next_slot, {(EW - DW){1'b0}}};
      valid <= forget_all ? {DEPTH{1'b0}} : {valid[DEPTH-2:0], 1'b0};
      next_slot <= next_slot + 1'b1;  // DEPTH is a power of two: wraps
    end else if (commit) begin
      entry[0] <= {entry[0][EW-1 -: DW], commit_len, commit_error, commit_seq};
      valid[0] <= 1'b1;
    end
  end
endmodule
`default_nettype wire
