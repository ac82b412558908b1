// The official ATOMiK board protocol over a UART: one context, XOR.
//
//   L + 8 bytes   reference = value, accumulator = 0      (no reply)
//   A + 8 bytes   accumulator ^= value                    (no reply)
//   R             8 bytes: reference ^ accumulator
//   D             8 bytes: the reference
//   S             1 byte: 0x80 if the accumulator is zero, else 0x00
//
// Values are big-endian. The official board's behaviour is kept where a host
// can see it: bytes other than L/A/R/D/S are ignored while idle; a partial
// payload waits forever and takes whatever bytes come next (8 zero bytes
// finish any command); bytes that arrive while a reply is on the line are
// dropped; after reset the state and the accumulator are zero.
//
// No payload or reply buffer: both registers only ever shift left by a
// byte. A payload byte of L enters the reference while a zero byte enters
// the accumulator; a payload byte of A is XORed into the accumulator's top
// byte as it rotates; a reply rotates both. After 8 bytes they are back in
// place (or loaded, or cleared), and no command can look at them in between.
// With no other way to change them, each bit costs a flip-flop with an
// enable and, for the lowest byte, one LUT.
// Synchronous, active-high reset.
`default_nettype none
module atomik_legacy #(
    parameter integer CLKS_PER_BIT = 234
) (
    input  wire clk,
    input  wire rst,
    input  wire uart_rx,
    output wire uart_tx,
    output wire busy,     // receiving or acting on a byte, or sending a reply
    output wire pending,  // an L or A is waiting for payload bytes
    output wire clean     // the accumulator is zero
);
  localparam [7:0] CMD_L = 8'h4C, CMD_A = 8'h41, CMD_R = 8'h52, CMD_D = 8'h44, CMD_S = 8'h53;
  localparam [1:0] IDLE = 2'd0, PAYLOAD = 2'd1, REPLY = 2'd2;
  localparam [1:0] REPLY_R = 2'd0, REPLY_D = 2'd1, REPLY_S = 2'd2;

  wire [7:0] rx_data;
  wire rx_valid, rx_active, tx_busy;
  /* verilator lint_off UNUSEDSIGNAL */
  wire rx_frame_error;  // a discarded byte is simply not there, as on the official board
  /* verilator lint_on UNUSEDSIGNAL */

  uart_rx #(.CLKS_PER_BIT(CLKS_PER_BIT)) receiver (
      .clk(clk), .rst(rst), .rx(uart_rx),
      .data(rx_data), .valid(rx_valid), .frame_error(rx_frame_error), .active(rx_active)
  );

  reg [63:0] reference, accumulator;
  reg [1:0] state;
  reg is_load;          // PAYLOAD: L rather than A
  reg [1:0] reply;      // REPLY: which one
  reg [2:0] count;      // PAYLOAD: bytes taken; REPLY: bytes started
  reg reply_done;       // REPLY: every byte has been started
  reg tx_start;
  reg [7:0] tx_data;

  uart_tx #(.CLKS_PER_BIT(CLKS_PER_BIT)) transmitter (
      .clk(clk), .rst(rst), .start(tx_start), .data(tx_data), .tx(uart_tx), .busy(tx_busy)
  );

  assign clean = accumulator == 64'd0;
  assign pending = state == PAYLOAD;
  assign busy = rx_active | rx_valid | state == REPLY | tx_busy;

  wire [7:0] state_top = reference[63:56] ^ accumulator[63:56];
  wire last_byte = count == 3'd7;
  wire take_payload = state == PAYLOAD && rx_valid;
  wire send_byte = state == REPLY && !tx_busy && !tx_start && !reply_done;
  wire rotate = send_byte && reply != REPLY_S;

  always @(posedge clk) begin
    if (rst) begin
      reference <= 64'd0;
      accumulator <= 64'd0;
    end else begin
      if ((take_payload && is_load) || rotate)
        reference <= {reference[55:0], take_payload ? rx_data : reference[63:56]};
      if (take_payload || rotate)
        accumulator <= {accumulator[55:0], !take_payload ? accumulator[63:56] : is_load ? 8'd0 : accumulator[63:56] ^ rx_data};
    end
  end

  always @(posedge clk) begin
    tx_start <= 1'b0;
    if (rst) begin
      state <= IDLE;
      is_load <= 1'b0;
      reply <= REPLY_R;
      count <= 3'd0;
      reply_done <= 1'b0;
      tx_data <= 8'd0;
    end else begin
      case (state)
        IDLE:
          if (rx_valid) begin
            count <= 3'd0;
            reply_done <= 1'b0;
            case (rx_data)
              CMD_L: begin state <= PAYLOAD; is_load <= 1'b1; end
              CMD_A: begin state <= PAYLOAD; is_load <= 1'b0; end
              CMD_R: begin state <= REPLY; reply <= REPLY_R; end
              CMD_D: begin state <= REPLY; reply <= REPLY_D; end
              CMD_S: begin state <= REPLY; reply <= REPLY_S; end
              default: ;  // ignored while idle
            endcase
          end
        PAYLOAD:
          if (rx_valid) begin
            count <= count + 3'd1;
            if (last_byte) state <= IDLE;
          end
        default:  // REPLY: received bytes are dropped until the reply has left
          if (send_byte) begin
            tx_start <= 1'b1;
            tx_data <= reply == REPLY_S ? {clean, 7'd0} : reply == REPLY_R ? state_top : reference[63:56];
            count <= count + 3'd1;
            reply_done <= reply == REPLY_S || last_byte;
          end else if (!tx_busy && !tx_start) begin
            state <= IDLE;
          end
      endcase
    end
  end
endmodule
`default_nettype wire
