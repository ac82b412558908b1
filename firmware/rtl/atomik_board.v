// The board top: reset button and power-on reset, the protocol core, LEDs.
//
// Reset: the button (active low) passes through a two-flip-flop
// synchroniser; while it is pressed, and for 2^RESET_BITS clocks after it is
// released or after configuration (2.4 ms at 27 MHz), the core is held in
// its synchronous reset. The counter starts from zero because FPGA
// configuration clears every flip-flop (Gowin and iCE40 alike).
//
// FRAMED selects the core: 0 the official dialect (atomik_legacy), 1 the
// framed protocol (atomik_framed, CONTEXTS contexts).
//
// Boot id (framed protocol v2): the board has no random source, but the
// moment the host first talks to it is not tied to its clock. A 32-bit
// maximal-length LFSR steps every clock from configuration on, never
// reset, and never holds 0; the first start bit after each reset latches
// it. Two boots, or a boot and a press of the reset button, give the same
// id only if the host's first byte arrives on the same clock cycle modulo
// 2^32 - 1 (159 s at 27 MHz). An LFSR, not a counter: no carry chain.
//
// LEDs (LED_ACTIVE_LOW inverts them all), official dialect: 0 an L or A
// waits for payload bytes (a stuck command shows), 1 the accumulator is
// clean, 2 busy (receiving or replying). Framed protocol: 2 busy. The rest off.
`default_nettype none
module atomik_board #(
    parameter integer CLK_HZ = 27_000_000,
    parameter integer BAUD = 115_200,
    parameter integer LEDS = 6,
    parameter integer LED_ACTIVE_LOW = 1,
    parameter integer RESET_BITS = 16,
    parameter integer FRAMED = 0,
    parameter integer CONTEXTS = 256
) (
    input  wire            clk,
    input  wire            rst_n,
    input  wire            uart_rx,
    output wire            uart_tx,
    output wire [LEDS-1:0] led
);
  localparam integer CLKS_PER_BIT = (CLK_HZ + BAUD / 2) / BAUD;

  reg [1:0] pressed = 2'b00;                           // the button, synchronised
  reg [RESET_BITS-1:0] hold = {RESET_BITS{1'b0}};       // clocks since release
  reg rst = 1'b1;                                       // registered: one clean net to every reset

  always @(posedge clk) begin
    pressed <= {pressed[0], !rst_n};
    if (pressed[1]) begin
      hold <= {RESET_BITS{1'b0}};
      rst <= 1'b1;
    end else if (rst) begin
      hold <= hold + 1'b1;
      if (&hold) rst <= 1'b0;
    end
  end

  wire busy, pending, clean;
  generate
    if (FRAMED != 0) begin : framed
      reg [31:0] since_config = 32'd1;
      reg [1:0] rx_sync = 2'b11;
      reg [31:0] boot_id = 32'd0;
      reg stamped = 1'b0;
      always @(posedge clk) begin
        since_config <= {1'b0, since_config[31:1]} ^ (since_config[0] ? 32'h80200003 : 32'd0);  // x^32+x^22+x^2+x+1
        rx_sync <= {rx_sync[0], uart_rx};
        if (rst) begin
          stamped <= 1'b0;
        end else if (!stamped && !rx_sync[1]) begin
          stamped <= 1'b1;
          boot_id <= since_config;
        end
      end
      atomik_framed #(.CLKS_PER_BIT(CLKS_PER_BIT), .CONTEXTS(CONTEXTS)) core (
          .clk(clk), .rst(rst), .uart_rx(uart_rx), .boot_id(boot_id), .uart_tx(uart_tx), .busy(busy)
      );
      assign pending = 1'b0;
      assign clean = 1'b0;
    end else begin : legacy
      atomik_legacy #(.CLKS_PER_BIT(CLKS_PER_BIT)) core (
          .clk(clk), .rst(rst), .uart_rx(uart_rx), .uart_tx(uart_tx),
          .busy(busy), .pending(pending), .clean(clean)
      );
    end
  endgenerate

  /* verilator lint_off UNUSEDSIGNAL */
  wire [LEDS+2:0] lit = {{LEDS{1'b0}}, busy, clean, pending};  // a board may have fewer than 3 LEDs
  /* verilator lint_on UNUSEDSIGNAL */
  assign led = LED_ACTIVE_LOW != 0 ? ~lit[LEDS-1:0] : lit[LEDS-1:0];
endmodule
`default_nettype wire
