// Testbench of atomik_exec with the replay cache (atomik_replay): events
// in as the frame receiver offers them, reply descriptions out as the
// transmitter takes them, results read from the slots. HELLO for the
// probe; OPEN; a batch applied a byte at a time (xor, and add with carries
// across bytes, runs included) with its results big-endian; a repeated SEQ
// answered from the cache and not run again; errors, cached and not.
`default_nettype none
module tb_exec;
`include "tb.vh"
`include "atomik_stages.vh"
  localparam integer SLOT_BITS = 6;
  reg rst = 1'b1, ev_valid = 1'b0;
  reg [1:0] ev_kind = 0;
  reg [15:0] ev_seq = 0, ev_len = 0;
  reg [7:0] ev_type = 0;
  wire ev_ready;
  wire [8:0] rd_off;
  reg [7:0] rd_data;
  reg [7:0] pay [0:511];
  always @(posedge clk) rd_data <= pay[rd_off];

  wire lookup, lookup_done, hit, hit_error, take, forget_all, commit, commit_error, w_en;
  wire [3:0] hit_slot, next_slot, rp_slot;
  wire [SLOT_BITS:0] hit_len, commit_len;
  wire [3+SLOT_BITS:0] w_addr;
  reg [3+SLOT_BITS:0] r_addr = 0;
  wire [7:0] w_data, r_data;
  atomik_replay #(.DEPTH(16), .SLOT_BITS(SLOT_BITS)) replay (
      .clk(clk), .rst(rst), .lookup(lookup), .seq(ev_seq), .done(lookup_done), .hit(hit), .hit_slot(hit_slot),
      .hit_error(hit_error), .hit_len(hit_len), .next_slot(next_slot), .take(take), .forget_all(forget_all),
      .commit(commit), .commit_seq(ev_seq), .commit_error(commit_error), .commit_len(commit_len),
      .w_en(w_en), .w_addr(w_addr), .w_data(w_data), .r_addr(r_addr), .r_data(r_data)
  );
  wire rp_valid, busy;
  wire [1:0] rp_src;
  wire [15:0] rp_seq, rp_len;
  wire [7:0] rp_type, rp_code;
  wire [31:0] session;
  reg rp_ready = 1'b1;
  atomik_exec #(.CONTEXTS(8), .MAX_OPS(6), .DEPTH(16), .SLOT_BITS(SLOT_BITS), .RING_BITS(9), .HELLO_LEN(27)) dut (
      .clk(clk), .rst(rst), .ev_valid(ev_valid), .ev_kind(ev_kind), .ev_seq(ev_seq), .ev_type(ev_type),
      .ev_len(ev_len), .ev_ready(ev_ready), .rd_off(rd_off), .rd_data(rd_data), .lookup(lookup),
      .lookup_done(lookup_done), .hit(hit), .hit_slot(hit_slot), .hit_error(hit_error), .hit_len(hit_len),
      .next_slot(next_slot), .take(take), .forget_all(forget_all), .commit(commit), .commit_error(commit_error),
      .commit_len(commit_len), .w_en(w_en), .w_addr(w_addr), .w_data(w_data), .rp_valid(rp_valid),
      .rp_ready(rp_ready), .rp_src(rp_src), .rp_slot(rp_slot), .rp_seq(rp_seq), .rp_type(rp_type),
      .rp_len(rp_len), .rp_code(rp_code), .session(session), .busy(busy)
  );

  // The description taken by the transmitter, and the slot bytes it names.
  reg [1:0] got_src;
  reg [3:0] got_slot;
  reg [15:0] got_seq, got_len;
  reg [7:0] got_type, got_code;
  reg [7:0] got [0:63];
  integer plen;
  // Offers an event; returns when its reply is taken and the event consumed.
  task offer(input [1:0] kind, input [15:0] seq, input [7:0] t);
    integer i, guard;
    begin
      @(negedge clk) ev_valid = 1'b1; ev_kind = kind; ev_seq = seq; ev_type = t; ev_len = plen[15:0];
      guard = 0;
      while (!(rp_valid && rp_ready)) begin
        @(negedge clk);
        guard = guard + 1;
        if (guard > 20000) check(1'b0, "a reply within 20,000 clocks");
      end
      got_src = rp_src; got_slot = rp_slot; got_seq = rp_seq; got_len = rp_len; got_type = rp_type; got_code = rp_code;
      if (!ev_ready) check(1'b0, "the event is taken with its reply");
      @(negedge clk) ev_valid = 1'b0;
      for (i = 0; i < 64; i = i + 1) begin
        r_addr = {got_slot, i[SLOT_BITS-1:0]};
        @(negedge clk) got[i] = r_data;
      end
    end
  endtask
  task op(input [7:0] code, input [15:0] index);
    begin
      pay[plen] = code; pay[plen + 1] = index[15:8]; pay[plen + 2] = index[7:0];
      plen = plen + 3;
    end
  endtask
  task u64(input [63:0] v);
    integer i;
    begin
      for (i = 0; i < 8; i = i + 1) pay[plen + i] = v[63 - 8 * i -: 8];
      plen = plen + 8;
    end
  endtask
  task u16(input [15:0] v);
    begin
      pay[plen] = v[15:8]; pay[plen + 1] = v[7:0];
      plen = plen + 2;
    end
  endtask
  function [63:0] result(input integer at);  // a u64 of the reply's payload
    integer i;
    begin
      for (i = 0; i < 8; i = i + 1) result[63 - 8 * i -: 8] = got[at + i];
    end
  endfunction
  task open(input [15:0] seq, input [31:0] s, input [7:0] g);
    begin
      plen = 0;
      u16(s[31:16]); u16(s[15:0]); pay[4] = g; plen = 5;
      offer(EV_FRAME, seq, 8'h03);
    end
  endtask

  reg [15:0] slot_of_2;
  initial begin
    repeat (3) @(negedge clk);
    rst = 1'b0;
    plen = 0;
    offer(EV_PROBE, 16'h7777, 8'd0);
    check(got_src == SRC_HELLO && got_seq == 16'd0 && got_type == 8'h81 && got_len == 16'd27,
          "the probe: HELLO_REPLY with SEQ 0, not cached");
    open(16'd1, 32'hC0FFEE01, 8'd0);
    check(got_src == SRC_SLOT && got_type == 8'h82 && got_len == 16'd0 && got_seq == 16'd1 && session == 32'hC0FFEE01,
          "OPEN: an empty RESULT, cached; the session is kept for HELLO");
    plen = 0;
    op(8'h01, 16'd3); u64(64'h0102030405060708);  // LOAD
    op(8'h02, 16'd3); u64(64'h00000000000000FF);  // ACCUM (xor)
    op(8'h03, 16'd3);                             // READ
    op(8'h06, 16'd3);                             // STATUS: 00, the accumulator is not 0
    op(8'h04, 16'd3);                             // SWAP
    op(8'h06, 16'd3);                             // STATUS: 01
    offer(EV_FRAME, 16'd2, 8'h02);
    slot_of_2 = {12'd0, got_slot};
    check(got_type == 8'h82 && got_len == 16'd18 && result(0) == 64'h01020304050607F7 && got[8] == 8'h00
          && result(9) == 64'h01020304050607F7 && got[17] == 8'h01,
          "xor: LOAD, ACCUM, READ, STATUS, SWAP, STATUS give the exact results, big-endian");
    plen = 0;
    op(8'h02, 16'd3); u64(64'h1);  // never applied: SEQ 2 is in the cache
    offer(EV_FRAME, 16'd2, 8'h02);
    check(got_slot == slot_of_2[3:0] && got_len == 16'd18 && result(0) == 64'h01020304050607F7,
          "a repeated SEQ is answered from its slot, byte for byte, and not run");
    plen = 0;
    op(8'h03, 16'd3);
    offer(EV_FRAME, 16'd3, 8'h02);
    check(got_len == 16'd8 && result(0) == 64'h01020304050607F7, "and the context did not change");

    open(16'd4, 32'hC0FFEE01, 8'd1);  // the same session, the add group
    plen = 0;
    op(8'h01, 16'd7); u64(64'h00000000FFFFFFFF);                         // LOAD
    op(8'h07, 16'd7); u16(16'd3); u64(64'hFFFFFFFF00000001); u64(64'h2); u64(64'h0000000100000000);  // ACCUM_RUN
    op(8'h03, 16'd7);                                                     // READ: carries through every byte
    op(8'h05, 16'd7); u64(64'h5);                                         // SWAP_TO
    op(8'h03, 16'd7);
    op(8'h07, 16'd7); u16(16'd0);                                         // an empty run
    offer(EV_FRAME, 16'd5, 8'h02);
    check(got_len == 16'd24 && result(0) == 64'h0000000100000002 && result(8) == 64'h0000000100000002
          && result(16) == 64'h5, "add: carries cross bytes; runs of 3 and 0 deltas; SWAP_TO");

    plen = 0;
    op(8'h03, 16'd1); op(8'h09, 16'd1);
    offer(EV_FRAME, 16'd6, 8'h02);
    check(got_type == 8'h83 && got_len == 16'd3 && got[0] == 8'h03 && got[1] == 8'h00 && got[2] == 8'h01,
          "an unknown op: ERROR UNKNOWN_OP at its index, cached");
    plen = 0;
    op(8'h03, 16'd1); op(8'h03, 16'd8);
    offer(EV_FRAME, 16'd7, 8'h02);
    check(got_type == 8'h83 && got[0] == 8'h04 && got[2] == 8'h01, "an index past the contexts: INDEX_RANGE");
    plen = 0;
    op(8'h02, 16'd1); pay[3] = 8'h00; plen = 10;  // an ACCUM cut short
    offer(EV_FRAME, 16'd8, 8'h02);
    check(got_type == 8'h83 && got[0] == 8'h02 && got[2] == 8'h00, "an operand cut short: BAD_LENGTH");
    plen = 0;
    op(8'h07, 16'd1); u16(16'hFFFF); u64(64'h1);
    offer(EV_FRAME, 16'd9, 8'h02);
    check(got_type == 8'h83 && got[0] == 8'h02, "a run longer than the frame: BAD_LENGTH");
    plen = 0;
    op(8'h03, 16'd0); op(8'h03, 16'd0); op(8'h03, 16'd0); op(8'h03, 16'd0); op(8'h03, 16'd0); op(8'h03, 16'd0);
    op(8'h03, 16'd0);
    offer(EV_FRAME, 16'd10, 8'h02);
    check(got_type == 8'h83 && got[0] == 8'h02 && got[2] == 8'h06, "more ops than MAX_OPS: BAD_LENGTH at the first too many");
    plen = 0;
    op(8'h03, 16'd7);
    offer(EV_FRAME, 16'd11, 8'h02);
    check(got_len == 16'd8 && result(0) == 64'h5, "a refused batch changes nothing");
    open(16'd12, 32'h2, 8'd2);
    check(got_type == 8'h83 && got[0] == 8'h05 && session == 32'hC0FFEE01, "OPEN with a group it lacks: BAD_GROUP, the session stays");
    plen = 3;
    offer(EV_FRAME, 16'd13, 8'h03);
    check(got_type == 8'h83 && got[0] == 8'h02 && got[1] == 8'hFF, "OPEN of the wrong length: BAD_LENGTH, index FFFF");
    open(16'd2, 32'h2, 8'd0);
    check(got_type == 8'h82 && got_len == 16'd0 && session == 32'h2, "OPEN with a new session runs even with a cached SEQ");
    plen = 0;
    op(8'h03, 16'd7);
    offer(EV_FRAME, 16'd5, 8'h02);
    check(got_len == 16'd8 && result(0) == 64'h5, "and forgets the cache: SEQ 5 runs again; contexts stay");
    plen = 0;
    offer(EV_BAD_CRC, 16'h0101, 8'd0);
    check(got_src == SRC_ERROR && got_code == 8'h01 && got_seq == 16'h0101, "a bad CRC-32: ERROR BAD_CRC, not cached");
    offer(EV_BAD_LENGTH, 16'h0102, 8'd0);
    check(got_src == SRC_ERROR && got_code == 8'h02, "a LEN too long: ERROR BAD_LENGTH, not cached");
    offer(EV_FRAME, 16'h0103, 8'h44);
    check(got_src == SRC_ERROR && got_code == 8'h03, "an unknown frame type: ERROR UNKNOWN_OP, not cached");
    offer(EV_FRAME, 16'h0104, 8'h01);
    check(got_src == SRC_HELLO && got_seq == 16'h0104, "HELLO: HELLO_REPLY with its SEQ");
    finish;
  end
endmodule
`default_nettype wire
