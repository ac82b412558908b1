// Testbench of atomik_frame_rx: a sound frame is offered with its header
// and payload and consumed once taken; noise, a header with a bad CRC-8
// and the bytes before a frame are skipped; a LEN above MAX_PAYLOAD and a
// frame with a bad CRC-32 are reported with their SEQ and cost one byte;
// the hello probe among skipped bytes is reported.
`default_nettype none
module tb_frame_rx;
`include "tb.vh"
`include "atomik_stages.vh"
  reg rst = 1'b1, in_valid = 1'b0, ev_ready = 1'b0;
  reg [7:0] in_data = 8'd0;
  reg [6:0] rd_off = 7'd0;
  wire ev_valid, busy;
  wire [1:0] ev_kind;
  wire [15:0] ev_seq, ev_len;
  wire [7:0] ev_type, rd_data;
  atomik_frame_rx #(.MAX_PAYLOAD(64), .RING_BITS(7)) dut (
      .clk(clk), .rst(rst), .in_valid(in_valid), .in_data(in_data), .ev_valid(ev_valid), .ev_kind(ev_kind),
      .ev_seq(ev_seq), .ev_type(ev_type), .ev_len(ev_len), .ev_ready(ev_ready), .rd_off(rd_off),
      .rd_data(rd_data), .busy(busy)
  );

  task put(input [7:0] b);  // one byte from the UART, then a few idle clocks
    begin
      @(negedge clk) in_valid = 1'b1; in_data = b;
      @(negedge clk) in_valid = 1'b0;
      repeat (3) @(negedge clk);
    end
  endtask

  reg [7:0] f [0:127];
  integer flen;
  // Builds a frame in f: SEQ, TYPE, `n` payload bytes p0, p0+1, ...; sound checks.
  task build(input [15:0] seq, input [7:0] t, input integer n, input [7:0] p0);
    integer i;
    reg [7:0] c8;
    reg [31:0] c32;
    begin
      f[0] = 8'hA5; f[1] = n[15:8]; f[2] = n[7:0]; f[3] = seq[15:8]; f[4] = seq[7:0]; f[5] = t;
      c8 = 8'd0;
      for (i = 1; i < 6; i = i + 1) c8 = crc8_step(c8, f[i]);
      f[6] = c8;
      for (i = 0; i < n; i = i + 1) f[7 + i] = p0 + i[7:0];
      c32 = 32'hFFFFFFFF;
      for (i = 1; i < 7 + n; i = i + 1) c32 = crc32_step(c32, f[i]);
      {f[7 + n], f[8 + n], f[9 + n], f[10 + n]} = ~c32;
      flen = 11 + n;
    end
  endtask
  task put_frame;
    integer i;
    begin
      for (i = 0; i < flen; i = i + 1) put(f[i]);
    end
  endtask
  task settle;  // until the receiver has nothing left to do
    begin
      repeat (2) @(negedge clk);
      while (busy) @(negedge clk);
    end
  endtask
  task take;
    begin
      @(negedge clk) ev_ready = 1'b1;
      @(negedge clk) ev_ready = 1'b0;
    end
  endtask
  task expect_event(input [1:0] kind, input [15:0] seq, input [8*96-1:0] what);
    begin
      settle;
      check(ev_valid && ev_kind == kind && (kind == EV_PROBE || ev_seq == seq), what);
      take;
    end
  endtask

  integer i;
  reg ok;
  initial begin
    repeat (3) @(negedge clk);
    rst = 1'b0;
    put(8'h00);
    put(8'h13);
    build(16'h1234, 8'h02, 5, 8'h40);
    put_frame;
    settle;
    check(ev_valid && ev_kind == EV_FRAME && ev_seq == 16'h1234 && ev_type == 8'h02 && ev_len == 16'd5,
          "noise skipped; a sound frame is offered with SEQ, TYPE and LEN");
    ok = 1'b1;
    for (i = 0; i < 5; i = i + 1) begin
      @(negedge clk) rd_off = i[6:0];
      @(negedge clk) ok = ok && rd_data == 8'h40 + i[7:0];
    end
    check(ok, "its payload is read by offset, a clock after the address");
    take;
    settle;
    check(!ev_valid, "once taken, the frame is consumed whole");

    build(16'h0007, 8'h01, 0, 8'h00);
    f[6] = f[6] ^ 8'h01;  // a bad header check: not a frame, its SYNC is skipped
    put_frame;
    build(16'h0008, 8'h01, 0, 8'h00);
    put_frame;
    expect_event(EV_FRAME, 16'h0008, "a header with a bad CRC-8 is skipped; the next frame is found");

    build(16'h0042, 8'h02, 65, 8'h00);  // LEN 65 > MAX_PAYLOAD 64
    for (i = 0; i < 7; i = i + 1) put(f[i]);
    expect_event(EV_BAD_LENGTH, 16'h0042, "a LEN above MAX_PAYLOAD is reported with its SEQ");
    settle;
    check(!ev_valid, "and costs one byte: the rest of its header is skipped");

    build(16'h0099, 8'h02, 4, 8'h10);
    f[9] = f[9] ^ 8'h80;  // a payload byte flipped
    put_frame;
    expect_event(EV_BAD_CRC, 16'h0099, "a frame with a bad CRC-32 is reported with its SEQ");
    settle;
    check(!ev_valid, "and its other bytes are skipped");

    build(16'h00AA, 8'h02, 2, 8'h20);
    for (i = 0; i < flen - 1; i = i + 1) put(f[i]);  // one byte short: it waits
    settle;
    check(!ev_valid, "a frame not yet whole waits");
    put(f[flen - 1]);
    expect_event(EV_FRAME, 16'h00AA, "and is offered when its last byte arrives");

    put(8'h7E); put(8'h61); put(8'h74); put(8'h6F); put(8'h6D); put(8'h69); put(8'h6B);
    settle;
    check(!ev_valid, "7 bytes of the hello probe are not the probe");
    put(8'h3F);
    expect_event(EV_PROBE, 16'd0, "the hello probe among skipped bytes is reported");
    put(8'h7E); put(8'h7E); put(8'h61); put(8'h74); put(8'h6F); put(8'h6D); put(8'h69); put(8'h6B); put(8'h3F);
    expect_event(EV_PROBE, 16'd0, "after a false start too");
    finish;
  end
endmodule
`default_nettype wire
