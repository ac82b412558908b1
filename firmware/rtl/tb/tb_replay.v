// Testbench of atomik_replay: slots handed out in turn, replies filed and
// found by SEQ (the lowest slot first when two match), the oldest forgotten
// when its slot is taken again, all forgotten on a new session, and slot
// bytes written and read back.
`default_nettype none
module tb_replay;
`include "tb.vh"
  localparam integer DEPTH = 4, SLOT_BITS = 3;
  reg rst = 1'b1, lookup = 1'b0, take = 1'b0, forget_all = 1'b0, commit = 1'b0, commit_error = 1'b0, w_en = 1'b0;
  reg [15:0] seq = 16'd0, commit_seq = 16'd0;
  reg [SLOT_BITS:0] commit_len = 0;
  reg [4:0] w_addr = 0, r_addr = 0;
  reg [7:0] w_data = 0;
  wire done, hit, hit_error;
  wire [1:0] hit_slot, next_slot;
  wire [SLOT_BITS:0] hit_len;
  wire [7:0] r_data;
  atomik_replay #(.DEPTH(DEPTH), .SLOT_BITS(SLOT_BITS)) dut (
      .clk(clk), .rst(rst), .lookup(lookup), .seq(seq), .done(done), .hit(hit), .hit_slot(hit_slot),
      .hit_error(hit_error), .hit_len(hit_len), .next_slot(next_slot), .take(take), .forget_all(forget_all),
      .commit(commit), .commit_seq(commit_seq), .commit_error(commit_error), .commit_len(commit_len),
      .w_en(w_en), .w_addr(w_addr), .w_data(w_data), .r_addr(r_addr), .r_data(r_data)
  );

  task pulse_take(input forget);
    begin
      @(negedge clk) take = 1'b1; forget_all = forget;
      @(negedge clk) take = 1'b0; forget_all = 1'b0;
    end
  endtask
  task file(input [15:0] s, input err, input [SLOT_BITS:0] len);
    begin
      @(negedge clk) commit = 1'b1; commit_seq = s; commit_error = err; commit_len = len;
      @(negedge clk) commit = 1'b0;
    end
  endtask
  task find(input [15:0] s);
    integer n;
    begin
      @(negedge clk) lookup = 1'b1; seq = s;
      @(negedge clk) lookup = 1'b0;
      n = 0;
      while (!done) begin @(negedge clk); n = n + 1; end
      if (n != DEPTH) check(1'b0, "a lookup takes DEPTH clocks");
    end
  endtask

  integer i;
  initial begin
    repeat (3) @(negedge clk);
    rst = 1'b0;
    find(16'd7);
    check(!hit, "nothing is cached after reset (a lookup takes DEPTH clocks)");
    for (i = 0; i < 3; i = i + 1) begin
      check(next_slot == i[1:0], "slots are handed out in turn");
      pulse_take(1'b0);
      file(16'd100 + i[15:0], i == 1, 4'd1 + i[3:0]);
    end
    find(16'd101);
    check(hit && hit_slot == 2'd1 && hit_error && hit_len == 4'd2, "a filed ERROR is found with its slot and length");
    find(16'd102);
    check(hit && hit_slot == 2'd2 && !hit_error && hit_len == 4'd3, "a filed RESULT is found with its slot and length");
    find(16'd100);
    check(hit && hit_slot == 2'd0, "and the first");
    pulse_take(1'b0);  // slot 3, taken but not filed (as for a batch that is still running)
    find(16'd100);
    check(hit && hit_slot == 2'd0, "a slot taken but not filed hides nothing");
    pulse_take(1'b0);  // slot 0 again: 100 is forgotten
    find(16'd100);
    check(!hit, "taking the oldest slot forgets its reply");
    file(16'd102, 1'b1, 4'd3);  // slot 0 now also holds SEQ 102
    find(16'd102);
    check(hit && hit_slot == 2'd0 && hit_error, "two replies with one SEQ: the lowest slot answers, as in the C core");
    find(16'd101);
    check(hit && hit_slot == 2'd1, "a lookup leaves the directory as it was");
    pulse_take(1'b1);  // slot 1, with a new session
    find(16'd101);
    check(!hit, "a new session forgets every reply");
    find(16'd102);
    check(!hit, "every one");
    file(16'd9, 1'b0, 4'd0);
    find(16'd9);
    check(hit && hit_slot == 2'd1 && hit_len == 4'd0, "the reply filed with the new session is found");
    for (i = 0; i < 32; i = i + 1) begin
      @(negedge clk) w_en = 1'b1; w_addr = i[4:0]; w_data = 8'hA0 ^ i[7:0];
    end
    @(negedge clk) w_en = 1'b0;
    for (i = 0; i < 32; i = i + 1) begin
      @(negedge clk) r_addr = i[4:0];
      @(negedge clk) if (r_data != (8'hA0 ^ i[7:0])) check(1'b0, "slot bytes read back");
    end
    check(1'b1, "slot bytes read back as written, a clock after the address");
    finish;
  end
endmodule
`default_nettype wire
