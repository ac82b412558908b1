// UART transmitter, 8N1, LSB first. `start` is taken when `busy` is low;
// `busy` stays high until the stop bit has been on the line for a full bit.
// Synchronous, active-high reset (the line idles high during reset).
`default_nettype none
module uart_tx #(
    parameter integer CLKS_PER_BIT = 234
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       start,
    input  wire [7:0] data,
    output reg        tx,
    output wire       busy
);
  localparam integer CW = $clog2(CLKS_PER_BIT + 1);
  localparam [CW-1:0] LAST = CLKS_PER_BIT[CW-1:0] - 1'b1;

  reg [CW-1:0] count;
  reg [3:0] bits_left;  // bits still to send, the current one included
  reg [8:0] shift;      // data bits then the stop bit

  assign busy = bits_left != 4'd0;

  always @(posedge clk) begin
    if (rst) begin
      tx <= 1'b1;
      count <= {CW{1'b0}};
      bits_left <= 4'd0;
      shift <= 9'h1ff;
    end else if (!busy) begin
      if (start) begin
        tx <= 1'b0;  // start bit
        shift <= {1'b1, data};
        bits_left <= 4'd10;
        count <= {CW{1'b0}};
      end
    end else if (count == LAST) begin
      count <= {CW{1'b0}};
      bits_left <= bits_left - 4'd1;
      tx <= bits_left == 4'd1 ? 1'b1 : shift[0];
      shift <= {1'b1, shift[8:1]};
    end else begin
      count <= count + 1'b1;
    end
  end
endmodule
`default_nettype wire
