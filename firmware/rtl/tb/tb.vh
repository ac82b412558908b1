// Shared by the stage testbenches (iverilog): a clock, checks that print
// one line each ("ok   ..." or "FAIL ..." and a stop), and the protocol's
// CRCs for building frames.
reg clk = 1'b0;
always #5 clk = !clk;
integer checks = 0;

task check;
  input ok;
  input [8*96-1:0] what;
  begin
    checks = checks + 1;
    if (ok) begin
      $display("ok   %0s", what);
    end else begin
      $display("FAIL %0s", what);
      $finish;
    end
  end
endtask

task finish;
  begin
    $display("%0d checks passed", checks);
    $finish;
  end
endtask

function [7:0] crc8_step;  // CRC-8, poly 0x07, MSB first
  input [7:0] c;
  input [7:0] d;
  integer i;
  reg [7:0] x;
  begin
    x = c ^ d;
    for (i = 0; i < 8; i = i + 1) x = x[7] ? {x[6:0], 1'b0} ^ 8'h07 : {x[6:0], 1'b0};
    crc8_step = x;
  end
endfunction

function [31:0] crc32_step;  // CRC-32 (IEEE 802.3, reflected)
  input [31:0] c;
  input [7:0] d;
  integer i;
  reg [31:0] x;
  begin
    x = c ^ {24'd0, d};
    for (i = 0; i < 8; i = i + 1) x = x[0] ? (x >> 1) ^ 32'hEDB88320 : x >> 1;
    crc32_step = x;
  end
endfunction
