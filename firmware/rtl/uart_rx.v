// UART receiver, 8N1, LSB first. The line is synchronised through two
// flip-flops; the start and data bits are each the majority of three samples
// around their middle; the stop bit is sampled at its middle, and a byte
// whose stop bit reads low is discarded (framing error): the receiver then
// waits for the line to return high before it looks for the next start bit,
// so a line held low yields no bytes at all. A good stop bit ends the byte
// at once, half a bit early, so back-to-back bytes from a sender up to
// (CLKS_PER_BIT/2 - 3) / (10 * CLKS_PER_BIT) fast (4.9% at 234 clocks a bit,
// 3% at 16) do not slip.
// Synchronous, active-high reset.
`default_nettype none
module uart_rx #(
    parameter integer CLKS_PER_BIT = 234   // clock / baud, at least 8
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       rx,          // the serial line, idle high
    output reg  [7:0] data,        // the byte just received
    output reg        valid,       // one-clock strobe: data holds a new byte
    output reg        frame_error, // one-clock strobe: a byte was discarded
    output wire       active       // a byte is being received
);
  localparam integer CW = $clog2(CLKS_PER_BIT + 1);
  localparam [CW-1:0] LAST = CLKS_PER_BIT[CW-1:0] - 1'b1;
  localparam [CW-1:0] MID = CLKS_PER_BIT[CW-1:0] / 2;
  localparam [CW-1:0] VOTE_FIRST = MID - 1'b1, VOTE_LAST = MID + 1'b1, DECIDE = VOTE_LAST + 1'b1;

  localparam [1:0] IDLE = 2'd0, BITS = 2'd1, WAIT_HIGH = 2'd2;

  reg [1:0] sync;           // two synchroniser stages
  reg [1:0] state;
  reg [CW-1:0] count;       // clocks into the current bit
  reg [3:0] bit_index;      // 0 start, 1..8 data, 9 stop
  reg [2:0] votes;          // samples at VOTE_FIRST, MID, VOTE_LAST
  reg [7:0] shift;

  wire line = sync[1];
  wire sample_bit = (votes[0] & votes[1]) | (votes[1] & votes[2]) | (votes[0] & votes[2]);

  assign active = state == BITS;

  always @(posedge clk) begin
    sync <= {sync[0], rx};
    valid <= 1'b0;
    frame_error <= 1'b0;
    if (rst) begin
      sync <= 2'b11;
      state <= IDLE;
      count <= {CW{1'b0}};
      bit_index <= 4'd0;
      votes <= 3'b111;
      shift <= 8'd0;
      data <= 8'd0;
    end else begin
      case (state)
        IDLE:
          if (!line) begin  // a falling edge: the start bit begins
            state <= BITS;
            count <= {CW{1'b0}};
            bit_index <= 4'd0;
          end
        BITS: begin
          if (count == VOTE_FIRST || count == MID || count == VOTE_LAST) votes <= {votes[1:0], line};
          if (bit_index == 4'd9) begin
            if (count == MID) begin
              if (line) begin
                data <= shift;
                valid <= 1'b1;
                state <= IDLE;
              end else begin
                frame_error <= 1'b1;
                state <= WAIT_HIGH;
              end
            end
          end else if (count == DECIDE) begin  // the three votes of this bit are in
            if (bit_index == 4'd0) begin
              if (sample_bit) state <= IDLE;  // a glitch, not a start bit
            end else begin
              shift <= {sample_bit, shift[7:1]};
            end
          end
          if (count == LAST) begin
            count <= {CW{1'b0}};
            bit_index <= bit_index + 4'd1;
          end else begin
            count <= count + 1'b1;
          end
        end
        default:  // WAIT_HIGH
          if (line) state <= IDLE;
      endcase
    end
  end
endmodule
`default_nettype wire
