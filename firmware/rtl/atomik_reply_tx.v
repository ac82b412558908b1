// Reply transmitter: turns a reply's description into a frame on the
// UART. SYNC, LEN, SEQ, TYPE and the header's CRC-8, then the payload
// (from a replay-cache slot, or HELLO_REPLY's fields, or an ERROR about
// the frame: its code and index FFFF), then the CRC-32, big-endian. Both
// checks are computed a bit a clock while each byte is on the line, so a
// reply sent again from the cache is the same frame, byte for byte.
//
// rp_ready: idle, and takes a description; while it sends, it reads the
// slot (the executor writes no slot then).
`default_nettype none
module atomik_reply_tx #(
    parameter integer CONTEXTS = 256,
    parameter integer MAX_OPS = 16,
    parameter integer MAX_PAYLOAD = 1024,
    parameter integer DEPTH = 16,
    parameter integer SLOT_BITS = 7,
    parameter integer NAME_LEN = 10,       // 1 .. 64
    parameter [8*64-1:0] NAME = "atomik-rtl",
    parameter [31:0] VERSION = 32'h02_00_01_00  // protocol version, firmware major, minor, patch
) (
    input  wire                               clk,
    input  wire                               rst,
    input  wire                               rp_valid,
    output wire                               rp_ready,
    input  wire [1:0]                         rp_src,
    input  wire [$clog2(DEPTH)-1:0]           rp_slot,
    input  wire [15:0]                        rp_seq,
    input  wire [7:0]                         rp_type,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [15:0]                        rp_len,   // at most MAX_PAYLOAD: 12 bits
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [7:0]                         rp_code,
    input  wire [31:0]                        session,
    input  wire [31:0]                        boot_id,
    output wire [$clog2(DEPTH)+SLOT_BITS-1:0] slot_raddr,
    input  wire [7:0]                         slot_rdata,
    output reg                                tx_start,
    output reg  [7:0]                         tx_data,
    input  wire                               tx_busy,
    output wire                               busy
);
`include "atomik_protocol.vh"
`include "atomik_stages.vh"
  localparam [1:0] PH_HEADER = 2'd0, PH_PAYLOAD = 2'd1, PH_CRC = 2'd2;
  localparam [2:0] T_IDLE = 3'd0, T_FETCH = 3'd1, T_SEND = 3'd2, T_CRC = 3'd3, T_NEXT = 3'd4;
  localparam [15:0] N_CONTEXTS = CONTEXTS[15:0];
  localparam [15:0] N_OPS = MAX_OPS[15:0];
  localparam [15:0] N_PAYLOAD = MAX_PAYLOAD[15:0];
  localparam [7:0] N_DEPTH = DEPTH[7:0];
  localparam [7:0] N_NAME = NAME_LEN[7:0];

  reg [2:0] state;
  reg [1:0] phase, src;
  reg [11:0] n, len;  // a payload is at most MAX_PAYLOAD <= 2304 bytes
  reg [15:0] seq;
  reg [7:0] ftype, code, b, crc8;
  reg [31:0] crc32;
  reg [2:0] bitn;
  reg [$clog2(DEPTH)-1:0] slot;

  assign rp_ready = state == T_IDLE;
  assign busy = state != T_IDLE || tx_busy || tx_start;
  assign slot_raddr = {slot, n[SLOT_BITS-1:0]};
  wire [11:0] n_next = n + 12'd1;

  // HELLO_REPLY's payload byte n: version-1 fields, the name, then (version 2)
  // the session and the boot id. A table of constants and two registers:
  // comparisons of n with constants, no arithmetic.
  reg [7:0] hello_byte;
  integer i;
  always @* begin
    hello_byte = 8'd0;
    case (n)
      12'd0: hello_byte = VERSION[31:24];
      12'd1: hello_byte = VERSION[23:16];
      12'd2: hello_byte = VERSION[15:8];
      12'd3: hello_byte = VERSION[7:0];
      12'd4: hello_byte = N_CONTEXTS[15:8];
      12'd5: hello_byte = N_CONTEXTS[7:0];
      12'd6: hello_byte = N_OPS[15:8];
      12'd7: hello_byte = N_OPS[7:0];
      12'd8: hello_byte = N_PAYLOAD[15:8];
      12'd9: hello_byte = N_PAYLOAD[7:0];
      12'd10: hello_byte = 8'h03;  // groups: xor and add
      12'd11: hello_byte = N_DEPTH;
      12'd12: hello_byte = N_NAME;
      default: ;
    endcase
    for (i = 0; i < NAME_LEN; i = i + 1)
      if (n == 12'd13 + i[11:0]) hello_byte = NAME[8 * (NAME_LEN - 1 - i) +: 8];
    for (i = 0; i < 4; i = i + 1) begin
      if (n == 12'd13 + {4'd0, N_NAME} + i[11:0]) hello_byte = session[8 * (3 - i) +: 8];
      if (n == 12'd17 + {4'd0, N_NAME} + i[11:0]) hello_byte = boot_id[8 * (3 - i) +: 8];
    end
  end

  wire [31:0] crc_out = ~crc32;
  reg [7:0] next_byte;
  always @* begin
    case (phase)
      PH_HEADER:
        case (n[2:0])
          3'd0: next_byte = SYNC;
          3'd1: next_byte = {4'd0, len[11:8]};
          3'd2: next_byte = len[7:0];
          3'd3: next_byte = seq[15:8];
          3'd4: next_byte = seq[7:0];
          3'd5: next_byte = ftype;
          default: next_byte = crc8;
        endcase
      PH_PAYLOAD:
        case (src)
          SRC_SLOT: next_byte = slot_rdata;
          SRC_HELLO: next_byte = hello_byte;
          default: next_byte = n == 12'd0 ? code : 8'hFF;  // SRC_ERROR: code, index FFFF
        endcase
      default: next_byte = crc_out[31 - 8 * n[1:0] -: 8];
    endcase
  end

  always @(posedge clk) begin
    tx_start <= 1'b0;
    if (rst) begin
      state <= T_IDLE;
    end else begin
      case (state)
        T_IDLE:
          if (rp_valid) begin
            src <= rp_src;
            slot <= rp_slot;
            seq <= rp_seq;
            ftype <= rp_type;
            len <= rp_len[11:0];
            code <= rp_code;
            phase <= PH_HEADER;
            n <= 12'd0;
            crc8 <= 8'd0;
            crc32 <= 32'hFFFFFFFF;
            state <= T_FETCH;
          end
        T_FETCH: state <= T_SEND;  // a slot byte is read
        T_SEND:
          if (!tx_busy && !tx_start) begin
            tx_start <= 1'b1;
            tx_data <= next_byte;
            b <= next_byte;
            bitn <= 3'd0;
            state <= T_CRC;
          end
        T_CRC: begin  // the checks take the byte a bit a clock while it is on the line
          if (phase == PH_HEADER && n != 12'd0 && n != 12'd6) crc8 <= crc8[7] ^ b[3'd7 - bitn] ? {crc8[6:0], 1'b0} ^ 8'h07 : {crc8[6:0], 1'b0};
          if (phase == PH_PAYLOAD || phase == PH_HEADER && n != 12'd0) crc32 <= (crc32 >> 1) ^ ((crc32[0] ^ b[bitn]) ? 32'hEDB88320 : 32'd0);
          bitn <= bitn + 3'd1;
          if (bitn == 3'd7) state <= T_NEXT;
        end
        default: begin  // T_NEXT
          state <= T_FETCH;
          n <= n_next;
          if (phase == PH_HEADER && n == 12'd6) begin
            n <= 12'd0;
            phase <= len == 12'd0 ? PH_CRC : PH_PAYLOAD;
          end else if (phase == PH_PAYLOAD && n_next == len) begin
            n <= 12'd0;
            phase <= PH_CRC;
          end else if (phase == PH_CRC && n == 12'd3) begin
            state <= T_IDLE;
          end
        end
      endcase
    end
  end
endmodule
`default_nettype wire
