// Testbench of atomik_reply_tx: HELLO_REPLY (version 2, with the session and
// boot id), an ERROR about a frame and an empty RESULT, byte for byte as in
// ../../golden-vectors.json, and a RESULT sent from a cache slot, with both
// checks; bytes wait for the UART and a description waits while one is sent.
`default_nettype none
module tb_reply_tx;
`include "tb.vh"
`include "atomik_stages.vh"
  reg rst = 1'b1, rp_valid = 1'b0;
  reg [1:0] rp_src = 0;
  reg [3:0] rp_slot = 0;
  reg [15:0] rp_seq = 0, rp_len = 0;
  reg [7:0] rp_type = 0, rp_code = 0;
  reg [31:0] session = 0;
  wire rp_ready, tx_start, busy;
  wire [7:0] tx_data;
  wire [6:0] slot_raddr;
  reg [7:0] slot_rdata;
  reg [7:0] slot_mem [0:127];
  always @(posedge clk) slot_rdata <= slot_mem[slot_raddr];
  // The UART: busy for 30 clocks a byte.
  integer uart_left = 0;
  wire tx_busy = uart_left != 0;
  reg [7:0] sent [0:255];
  integer n_sent = 0;
  always @(posedge clk) begin
    if (uart_left != 0) uart_left <= uart_left - 1;
    if (tx_start) begin
      if (tx_busy) check(1'b0, "a byte starts only while the UART is free");
      sent[n_sent] <= tx_data;
      n_sent <= n_sent + 1;
      uart_left <= 30;
    end
  end
  atomik_reply_tx #(
      .CONTEXTS(16), .MAX_OPS(256), .MAX_PAYLOAD(2304), .DEPTH(16), .SLOT_BITS(3), .NAME_LEN(6), .NAME("golden")
  ) dut (
      .clk(clk), .rst(rst), .rp_valid(rp_valid), .rp_ready(rp_ready), .rp_src(rp_src), .rp_slot(rp_slot),
      .rp_seq(rp_seq), .rp_type(rp_type), .rp_len(rp_len), .rp_code(rp_code), .session(session),
      .boot_id(32'h5EED0B07), .slot_raddr(slot_raddr), .slot_rdata(slot_rdata), .tx_start(tx_start),
      .tx_data(tx_data), .tx_busy(tx_busy), .busy(busy)
  );

  task send(input [1:0] src, input [3:0] slot, input [15:0] seq, input [7:0] t, input [15:0] len, input [7:0] code);
    begin
      @(negedge clk);
      if (!rp_ready) check(1'b0, "ready while idle");
      rp_valid = 1'b1; rp_src = src; rp_slot = slot; rp_seq = seq; rp_type = t; rp_len = len; rp_code = code;
      @(negedge clk) rp_valid = 1'b0;
      if (rp_ready) check(1'b0, "not ready while sending");
      while (busy) @(negedge clk);
    end
  endtask

  // Compares the bytes sent since `from` with a hex string of `n` bytes.
  task expect_hex(input integer from, input integer n, input [8*64-1:0] want, input [8*96-1:0] what);
    integer i;
    reg ok;
    begin
      ok = n_sent - from == n;
      for (i = 0; i < n && ok; i = i + 1) ok = sent[from + i] == want[8 * (n - 1 - i) +: 8];
      check(ok, what);
    end
  endtask

  integer from, i;
  reg [7:0] c8;
  reg [31:0] c32;
  reg [7:0] frame [0:31];
  reg ok;
  initial begin
    repeat (3) @(negedge clk);
    rst = 1'b0;
    send(SRC_HELLO, 4'd0, 16'd0, 8'h81, 16'd27, 8'd0);
    expect_hex(0, 38, 304'ha5001b0000816302000100001001000900031006676f6c64656e000000005eed0b07c43e601d,
               "HELLO_REPLY v2 to the probe, session 0 (golden vector)");
    from = n_sent;
    send(SRC_ERROR, 4'd0, 16'd2, 8'h83, 16'd3, 8'h05);
    expect_hex(from, 14, 112'ha500030002839005ffffd6a549b4, "ERROR BAD_GROUP, index FFFF (golden vector)");
    from = n_sent;
    send(SRC_SLOT, 4'd3, 16'd1, 8'h82, 16'd0, 8'd0);
    expect_hex(from, 11, 88'ha5000000018292a7b4c335, "an empty RESULT (golden vector)");
    // A RESULT of 8 bytes from slot 5: the frame is built here with the checks.
    for (i = 0; i < 8; i = i + 1) slot_mem[5 * 8 + i] = 8'h10 * i[7:0] + 8'h3;
    frame[0] = 8'hA5; frame[1] = 8'h00; frame[2] = 8'h08; frame[3] = 8'hBE; frame[4] = 8'hEF; frame[5] = 8'h82;
    c8 = 8'd0;
    for (i = 1; i < 6; i = i + 1) c8 = crc8_step(c8, frame[i]);
    frame[6] = c8;
    for (i = 0; i < 8; i = i + 1) frame[7 + i] = slot_mem[5 * 8 + i];
    c32 = 32'hFFFFFFFF;
    for (i = 1; i < 15; i = i + 1) c32 = crc32_step(c32, frame[i]);
    c32 = ~c32;
    {frame[15], frame[16], frame[17], frame[18]} = c32;
    from = n_sent;
    send(SRC_SLOT, 4'd5, 16'hBEEF, 8'h82, 16'd8, 8'd0);
    ok = n_sent - from == 19;
    for (i = 0; i < 19 && ok; i = i + 1) ok = sent[from + i] == frame[i];
    check(ok, "a RESULT from a slot: header, CRC-8, the slot's bytes, CRC-32");
    session = 32'h01020304;
    from = n_sent;
    send(SRC_HELLO, 4'd0, 16'd5, 8'h81, 16'd27, 8'd0);
    ok = n_sent - from == 38 && sent[from + 4] == 8'h05 && sent[from + 7 + 19] == 8'h01 && sent[from + 7 + 22] == 8'h04
         && sent[from + 7 + 23] == 8'h5E && sent[from + 7 + 26] == 8'h07;
    check(ok, "HELLO_REPLY carries the session and boot id as they are");
    finish;
  end
endmodule
`default_nettype wire
