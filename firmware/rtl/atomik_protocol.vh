// The framed protocol's numbers for the RTL, included inside each module
// that needs them. The section below is written by `npm run generate` from
// the one operation table (lib/core/operations.ts) and the frame constants
// of the host (lib/serial/frame.ts); test/operations.test.ts fails when it
// drifts. A module uses only some of them.
/* verilator lint_off UNUSEDPARAM */
// Generated from lib/core/operations.ts and lib/serial/frame.ts by `npm run generate`: do not edit.
// Frame bytes (PROTOCOL.md)
localparam [7:0] SYNC = 8'hA5;
localparam integer HEADER_BYTES = 7, FRAME_OVERHEAD = 11;
localparam [63:0] HELLO_PROBE = 64'h7E61746F6D696B3F;
localparam [7:0] FT_HELLO = 8'h01;
localparam [7:0] FT_BATCH = 8'h02;
localparam [7:0] FT_OPEN = 8'h03;
localparam [7:0] FT_HELLO_REPLY = 8'h81;
localparam [7:0] FT_RESULT = 8'h82;
localparam [7:0] FT_ERROR = 8'h83;
localparam [7:0] ERR_BAD_CRC = 8'h01;
localparam [7:0] ERR_BAD_LENGTH = 8'h02;
localparam [7:0] ERR_UNKNOWN_OP = 8'h03;
localparam [7:0] ERR_INDEX_RANGE = 8'h04;
localparam [7:0] ERR_BAD_GROUP = 8'h05;
// Batch operations on the wire
localparam [7:0] BOP_LOAD = 8'h01;
localparam [7:0] BOP_ACCUM = 8'h02;
localparam [7:0] BOP_READ = 8'h03;
localparam [7:0] BOP_SWAP = 8'h04;
localparam [7:0] BOP_SWAP_TO = 8'h05;
localparam [7:0] BOP_STATUS = 8'h06;
localparam [7:0] BOP_ACCUM_RUN = 8'h07;
// By wire opcode: operand bytes after the opcode (0: no such op; a run adds 8 per delta).
function automatic [3:0] bop_operand_bytes(input [7:0] op);
  begin
    case (op)
      BOP_LOAD: bop_operand_bytes = 4'd10;
      BOP_ACCUM: bop_operand_bytes = 4'd10;
      BOP_READ: bop_operand_bytes = 4'd2;
      BOP_SWAP: bop_operand_bytes = 4'd2;
      BOP_SWAP_TO: bop_operand_bytes = 4'd10;
      BOP_STATUS: bop_operand_bytes = 4'd2;
      BOP_ACCUM_RUN: bop_operand_bytes = 4'd4;
      default: bop_operand_bytes = 4'd0;
    endcase
  end
endfunction
// By wire opcode: its result bytes in a RESULT payload.
function automatic [3:0] bop_result_bytes(input [7:0] op);
  begin
    case (op)
      BOP_LOAD: bop_result_bytes = 4'd0;
      BOP_ACCUM: bop_result_bytes = 4'd0;
      BOP_READ: bop_result_bytes = 4'd8;
      BOP_SWAP: bop_result_bytes = 4'd8;
      BOP_SWAP_TO: bop_result_bytes = 4'd8;
      BOP_STATUS: bop_result_bytes = 4'd1;
      BOP_ACCUM_RUN: bop_result_bytes = 4'd0;
      default: bop_result_bytes = 4'd0;
    endcase
  end
endfunction
// End of generated section.
/* verilator lint_on UNUSEDPARAM */
