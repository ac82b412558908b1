// Batch executor: takes one event of the frame receiver at a time and
// hands the reply's description to the transmitter, as the C core's
// handle_frame does. HELLO and the hello probe get HELLO_REPLY; an unknown
// frame type, a bad CRC and a LEN too long get an ERROR that is not
// cached; BATCH and OPEN look their SEQ up in the replay cache first. A
// batch is validated whole (a pass over its bytes), then applied (a second
// pass), its results written into the reply's cache slot.
//
// The contexts live in block RAM a byte a word (reference and accumulator,
// 8 bytes each), and every operation runs a byte at a time, least
// significant first, through one 8-bit ALU with a carry: xor, or add for
// the add group. A context costs 16 clocks an operation and a delta of a
// run 16 more; a byte on the line takes 10 bit times (160 clocks at the
// tests' 16 clocks a bit).
//
// It starts an event only while the transmitter is idle, so a slot is
// never written while it is sent and HELLO_REPLY shows the session as it
// is when the reply leaves. After reset the contexts are cleared, a byte
// a clock.
`default_nettype none
module atomik_exec #(
    parameter integer CONTEXTS = 256,
    parameter integer MAX_OPS = 16,
    parameter integer DEPTH = 16,
    parameter integer SLOT_BITS = 7,
    parameter integer RING_BITS = 11,
    parameter integer HELLO_LEN = 31
) (
    input  wire                              clk,
    input  wire                              rst,
    // events of the frame receiver
    input  wire                              ev_valid,
    input  wire [1:0]                        ev_kind,
    input  wire [15:0]                       ev_seq,
    input  wire [7:0]                        ev_type,
    input  wire [15:0]                       ev_len,
    output wire                              ev_ready,
    output wire [RING_BITS-1:0]              rd_off,
    input  wire [7:0]                        rd_data,
    // the replay cache
    output reg                               lookup,
    input  wire                              lookup_done,
    input  wire                              hit,
    input  wire [$clog2(DEPTH)-1:0]          hit_slot,
    input  wire                              hit_error,
    input  wire [SLOT_BITS:0]                hit_len,
    input  wire [$clog2(DEPTH)-1:0]          next_slot,
    output reg                               take,
    output reg                               forget_all,
    output reg                               commit,
    output reg                               commit_error,
    output reg  [SLOT_BITS:0]                commit_len,
    output reg                               w_en,
    output reg  [$clog2(DEPTH)+SLOT_BITS-1:0] w_addr,
    output reg  [7:0]                        w_data,
    // the reply, to the transmitter
    output reg                               rp_valid,
    input  wire                              rp_ready,  // also: the transmitter is idle
    output reg  [1:0]                        rp_src,    // SRC_SLOT, SRC_HELLO, SRC_ERROR
    output reg  [$clog2(DEPTH)-1:0]          rp_slot,
    output reg  [15:0]                       rp_seq,
    output reg  [7:0]                        rp_type,
    output reg  [15:0]                       rp_len,
    output reg  [7:0]                        rp_code,
    output reg  [31:0]                       session,   // of the last OPEN accepted; 0: none
    output wire                              busy
);
`include "atomik_protocol.vh"
`include "atomik_stages.vh"
  localparam integer CW = CONTEXTS > 1 ? $clog2(CONTEXTS) : 1;
  localparam integer AW = CW + 3;  // context byte address: {context, byte}
  localparam integer PW = RING_BITS + 2;  // payload offsets, and ends up to twice the ring (runs: see V_LEN)
  localparam [15:0] N_CONTEXTS = CONTEXTS[15:0];
  localparam [8:0] N_OPS = MAX_OPS[8:0];
  localparam [SLOT_BITS:0] W3 = 3, W8 = 8;
  localparam [PW-1:0] ZERO = 0, ONE = 1, SEVEN = 7, EIGHT = 8, NINE = 9, SIXTEEN = 16;

  // ---- contexts: reference and accumulator bytes, one read and one write port each ----
  reg [7:0] ref_mem [0:(1 << AW) - 1];
  reg [7:0] acc_mem [0:(1 << AW) - 1];
  reg [AW-1:0] ctx_waddr;
  wire [AW-1:0] ctx_raddr;  // set by the state before the data is used
  reg ref_we, acc_we;
  reg [7:0] ref_wd, acc_wd, ref_q, acc_q;
  always @(posedge clk) begin
    ref_q <= ref_mem[ctx_raddr];
    acc_q <= acc_mem[ctx_raddr];
    if (ref_we) ref_mem[ctx_waddr] <= ref_wd;
    if (acc_we) acc_mem[ctx_waddr] <= acc_wd;
  end

  localparam [4:0]
    X_CLEAR = 5'd0, X_IDLE = 5'd1, X_OPEN = 5'd2, X_LOOKUP = 5'd3, X_ERRW = 5'd4, X_SEAL = 5'd5,
    X_POST = 5'd6, V_OP = 5'd7, V_OPB = 5'd8, V_IH = 5'd9, V_IL = 5'd10, V_CH = 5'd11, V_CL = 5'd12,
    V_LEN = 5'd13, V_RUN = 5'd14, V_IDX = 5'd15, A_OP = 5'd16, A_OPB = 5'd17, A_IH = 5'd18,
    A_IL = 5'd19, A_CH = 5'd20, A_CL = 5'd21, A_RD = 5'd22, A_WR = 5'd23, A_END = 5'd24;
  reg [4:0] state;

  reg [PW-1:0] rp;             // payload read offset; in validation, then the op's end
  reg [AW-1:0] clear_i;
  reg [2:0] k;                 // bytes of OPEN, of an ERROR, of a context word
  reg [31:0] open_session;
  reg [7:0] open_group, op, idx_hi, code;
  /* verilator lint_off UNUSEDSIGNAL */
  reg [15:0] idx;              // validated only: a power-of-two count looks at its top bits
  /* verilator lint_on UNUSEDSIGNAL */
  reg [15:0] cnt, at;
  reg [8:0] nops;
  reg [CW-1:0] ctx;
  reg [SLOT_BITS:0] w;         // result bytes written
  reg group_add, carry, nonzero;

  assign rd_off = rp[RING_BITS-1:0];
  assign ctx_raddr = {ctx, k};
  /* verilator lint_off UNUSEDSIGNAL */
  wire [15:0] idx_now = {idx_hi, rd_data};  // validated: below CONTEXTS
  /* verilator lint_on UNUSEDSIGNAL */
  assign ev_ready = state == X_POST && rp_ready;
  assign busy = state != X_IDLE || ev_valid;

  wire [PW-1:0] len = ev_len[PW-1:0];  // at most MAX_PAYLOAD (the receiver checked)
  // The one address adder: rp moves by a step each state chooses.
  reg [PW-1:0] rp_step;
  wire [PW-1:0] rp_next = rp + rp_step;
  wire run_too_long = cnt[15:RING_BITS-2] != 0;  // 8 x count >= twice the ring: past any LEN
  wire past_end = rp > len;
  wire idx_ok;
  generate
    if ((1 << CW) == CONTEXTS) begin : pow2
      if (CW < 16) begin : narrow
        assign idx_ok = idx[15:CW] == 0;
      end else begin : full
        assign idx_ok = 1'b1;
      end
    end else begin : other
      assign idx_ok = idx < N_CONTEXTS;
    end
  endgenerate
  wire new_session = ev_type == FT_OPEN && ev_len == 16'd5 && open_session != session;
  wire value_op = op == BOP_LOAD || op == BOP_ACCUM || op == BOP_SWAP_TO;
  wire accumulates = op == BOP_ACCUM || op == BOP_ACCUM_RUN;

  // The byte ALU: the accumulator with a delta byte, or the state (reference
  // with accumulator), in the session's group.
  wire [7:0] alu_a = accumulates ? acc_q : ref_q;
  wire [7:0] alu_b = accumulates ? rd_data : acc_q;
  wire [8:0] alu_sum = {1'b0, alu_a} + {1'b0, alu_b} + {8'd0, carry};
  wire [7:0] alu = group_add ? alu_sum[7:0] : alu_a ^ alu_b;

  // rp's step in each state (the states below say why)
  always @* begin
    case (state)
      X_IDLE, X_OPEN, V_OP, V_OPB, V_IH, V_CH, A_OP, A_OPB, A_IH, A_CH: rp_step = ONE;
      V_IL: rp_step = op == BOP_ACCUM_RUN ? ONE : value_op ? EIGHT : ZERO;
      V_LEN: rp_step = {cnt[PW-4:0], 3'd0};
      A_IL: rp_step = op == BOP_ACCUM_RUN ? ONE : value_op ? SEVEN : ZERO;
      A_CL: rp_step = SEVEN;
      A_WR: rp_step = {PW{1'b1}};  // -1: the operand is read from its last byte
      A_END: rp_step = op == BOP_ACCUM_RUN && cnt != 16'd1 ? SIXTEEN : NINE;
      default: rp_step = ZERO;
    endcase
  end

  always @(posedge clk) begin
    ref_we <= 1'b0;
    acc_we <= 1'b0;
    w_en <= 1'b0;
    take <= 1'b0;
    forget_all <= 1'b0;
    commit <= 1'b0;
    lookup <= 1'b0;
    if (rst) begin
      state <= X_CLEAR;
      clear_i <= {AW{1'b0}};
      session <= 32'd0;
      group_add <= 1'b0;
      rp <= {PW{1'b0}};
      rp_valid <= 1'b0;
    end else begin
      case (state)
        X_CLEAR: begin
          ref_we <= 1'b1;
          acc_we <= 1'b1;
          ctx_waddr <= clear_i;
          ref_wd <= 8'd0;
          acc_wd <= 8'd0;
          clear_i <= clear_i + 1'b1;
          if (clear_i == {CONTEXTS[CW-1:0] - 1'b1, 3'd7}) state <= X_IDLE;
        end
        X_IDLE:  // rp is 0: payload byte 0 is read
          if (ev_valid && rp_ready) begin
            if (ev_kind == EV_PROBE) begin
              reply(SRC_HELLO, FT_HELLO_REPLY, HELLO_LEN[15:0], 16'd0, 8'd0);
            end else if (ev_kind != EV_FRAME) begin
              reply(SRC_ERROR, FT_ERROR, 16'd3, ev_seq, ev_kind == EV_BAD_CRC ? ERR_BAD_CRC : ERR_BAD_LENGTH);
            end else if (ev_type == FT_HELLO) begin
              reply(SRC_HELLO, FT_HELLO_REPLY, HELLO_LEN[15:0], ev_seq, 8'd0);
            end else if (ev_type != FT_BATCH && ev_type != FT_OPEN) begin
              reply(SRC_ERROR, FT_ERROR, 16'd3, ev_seq, ERR_UNKNOWN_OP);
            end else if (ev_type == FT_OPEN && ev_len == 16'd5) begin
              rp <= rp_next;
              k <= 3'd0;
              state <= X_OPEN;
            end else begin
              lookup <= 1'b1;
              state <= X_LOOKUP;
            end
          end
        X_OPEN: begin  // u32 session, u8 group
          rp <= rp_next;
          k <= k + 3'd1;
          if (k == 3'd4) begin
            open_group <= rd_data;
            lookup <= 1'b1;
            state <= X_LOOKUP;
          end else begin
            open_session <= {open_session[23:0], rd_data};
          end
        end
        X_LOOKUP:
          // Exactly once: a SEQ seen recently gets its old reply, unrun.
          if (lookup_done) begin
            if (!new_session && hit) begin
              rp_src <= SRC_SLOT;
              rp_slot <= hit_slot;
              rp_seq <= ev_seq;
              rp_type <= hit_error ? FT_ERROR : FT_RESULT;
              rp_len <= {{(15 - SLOT_BITS){1'b0}}, hit_len};
              rp_valid <= 1'b1;
              state <= X_POST;
            end else begin
              take <= 1'b1;
              rp_slot <= next_slot;
              if (ev_type == FT_OPEN) begin
                if (ev_len != 16'd5) begin
                  fail(ERR_BAD_LENGTH, 16'hFFFF);
                end else if (open_group > 8'd1) begin
                  fail(ERR_BAD_GROUP, 16'hFFFF);
                end else begin
                  if (new_session) begin
                    forget_all <= 1'b1;
                    session <= open_session;
                  end
                  group_add <= open_group[0];
                  commit_error <= 1'b0;
                  w <= {(SLOT_BITS + 1){1'b0}};
                  state <= X_SEAL;
                end
              end else begin
                rp <= {PW{1'b0}};
                nops <= 9'd0;
                state <= V_OP;
              end
            end
          end
        X_ERRW: begin  // ERROR payload into the slot: code, u16 at
          w_en <= 1'b1;
          w_addr <= {rp_slot, {(SLOT_BITS - 2){1'b0}}, k[1:0]};
          w_data <= k == 3'd0 ? code : k == 3'd1 ? at[15:8] : at[7:0];
          k <= k + 3'd1;
          if (k == 3'd2) begin
            commit_error <= 1'b1;
            w <= W3;
            state <= X_SEAL;
          end
        end
        X_SEAL: begin  // file the reply in the slot taken, and send it
          commit <= 1'b1;
          commit_len <= w;
          rp_src <= SRC_SLOT;
          rp_seq <= ev_seq;
          rp_type <= commit_error ? FT_ERROR : FT_RESULT;
          rp_len <= {{(15 - SLOT_BITS){1'b0}}, w};
          rp_valid <= 1'b1;
          state <= X_POST;
        end
        X_POST:
          if (rp_ready) begin  // the transmitter takes it; the receiver moves on (ev_ready)
            rp_valid <= 1'b0;
            rp <= {PW{1'b0}};
            state <= X_IDLE;
          end

        // -- validation: the whole batch, before anything is applied. rp
        // reads the op byte by byte, then becomes its end, which must not
        // pass LEN (as device.c's validate_batch, in the same order).
        V_OP:
          if (rp == len) begin
            rp <= {PW{1'b0}};
            w <= {(SLOT_BITS + 1){1'b0}};
            state <= A_OP;
          end else begin
            rp <= rp_next;
            state <= V_OPB;
          end
        V_OPB: begin  // the op byte
          op <= rd_data;
          rp <= rp_next;
          if (bop_operand_bytes(rd_data) == 4'd0) fail(ERR_UNKNOWN_OP, {7'd0, nops});
          else state <= V_IH;
        end
        V_IH: begin
          idx[15:8] <= rd_data;
          rp <= rp_next;
          state <= V_IL;
        end
        V_IL: begin  // rp: past the index, then past a u64 operand (a run: to its count)
          idx[7:0] <= rd_data;
          rp <= rp_next;
          state <= op == BOP_ACCUM_RUN ? V_CH : V_LEN;
        end
        V_CH: begin
          cnt[15:8] <= rd_data;
          rp <= rp_next;
          state <= V_CL;
        end
        V_CL: begin  // rp: past the count
          cnt[7:0] <= rd_data;
          state <= V_LEN;
        end
        V_LEN:
          if (nops == N_OPS || past_end) begin
            fail(ERR_BAD_LENGTH, {7'd0, nops});
          end else if (op == BOP_ACCUM_RUN) begin
            rp <= rp_next;  // past the deltas (meaningless when run_too_long)
            state <= V_RUN;
          end else begin
            state <= V_IDX;
          end
        V_RUN:
          if (run_too_long || past_end) fail(ERR_BAD_LENGTH, {7'd0, nops});
          else state <= V_IDX;
        V_IDX:
          if (!idx_ok) begin
            fail(ERR_INDEX_RANGE, {7'd0, nops});
          end else begin
            nops <= nops + 9'd1;
            state <= V_OP;
          end

        // -- applying a validated batch, a byte at a time --
        A_OP:
          if (rp == len) begin
            commit_error <= 1'b0;
            state <= X_SEAL;
          end else begin
            rp <= rp_next;
            state <= A_OPB;
          end
        A_OPB: begin
          op <= rd_data;
          rp <= rp_next;
          state <= A_IH;
        end
        A_IH: begin
          idx_hi <= rd_data;
          rp <= rp_next;
          state <= A_IL;
        end
        A_IL: begin  // rp: to the operand's last byte (a run: to its count)
          ctx <= idx_now[CW-1:0];
          k <= 3'd0;
          carry <= 1'b0;
          nonzero <= 1'b0;
          rp <= rp_next;
          state <= op == BOP_ACCUM_RUN ? A_CH : A_RD;
        end
        A_CH: begin
          cnt[15:8] <= rd_data;
          rp <= rp_next;
          state <= A_CL;
        end
        A_CL: begin  // rp: at the first delta; then to its last byte
          cnt[7:0] <= rd_data;
          if ({cnt[15:8], rd_data} == 16'd0) begin
            state <= A_OP;
          end else begin
            rp <= rp_next;
            state <= A_RD;
          end
        end
        A_RD: state <= A_WR;  // byte k of the context and of the operand are read
        A_WR: begin
          ctx_waddr <= {ctx, k};
          carry <= group_add & alu_sum[8];
          nonzero <= nonzero | (acc_q != 8'd0);
          case (op)
            BOP_LOAD: begin ref_we <= 1'b1; ref_wd <= rd_data; acc_we <= 1'b1; acc_wd <= 8'd0; end
            BOP_ACCUM, BOP_ACCUM_RUN: begin acc_we <= 1'b1; acc_wd <= alu; end
            BOP_SWAP: begin ref_we <= 1'b1; ref_wd <= alu; acc_we <= 1'b1; acc_wd <= 8'd0; end
            BOP_SWAP_TO: begin ref_we <= 1'b1; ref_wd <= rd_data; acc_we <= 1'b1; acc_wd <= 8'd0; end
            default: ;  // READ, STATUS: nothing changes
          endcase
          if (bop_result_bytes(op) == 4'd8) begin  // the state, big-endian
            w_en <= 1'b1;
            w_addr <= {rp_slot, w[SLOT_BITS-1:0] + {{(SLOT_BITS - 3){1'b0}}, ~k}};
            w_data <= alu;
          end
          if (value_op || op == BOP_ACCUM_RUN) rp <= rp_next;
          k <= k + 3'd1;
          state <= k == 3'd7 ? A_END : A_RD;
        end
        A_END: begin  // rp: past the operand (the next op, or the next delta's last byte)
          if (bop_result_bytes(op) == 4'd8) w <= w + W8;
          if (op == BOP_STATUS) begin
            w_en <= 1'b1;
            w_addr <= {rp_slot, w[SLOT_BITS-1:0]};
            w_data <= {7'd0, !nonzero};
            w <= w + 1'b1;
          end
          if (value_op || op == BOP_ACCUM_RUN) rp <= rp_next;
          if (op == BOP_ACCUM_RUN) begin
            cnt <= cnt - 16'd1;
            carry <= 1'b0;
            state <= cnt == 16'd1 ? A_OP : A_RD;
          end else begin
            state <= A_OP;
          end
        end
        default: state <= X_IDLE;
      endcase
    end
  end

  // A reply that is not cached: HELLO_REPLY, or an ERROR about the frame.
  task reply;
    input [1:0] src;
    input [7:0] frame_type;
    input [15:0] payload_len;
    input [15:0] reply_seq;
    input [7:0] error_code;
    begin
      rp_src <= src;
      rp_type <= frame_type;
      rp_len <= payload_len;
      rp_seq <= reply_seq;
      rp_code <= error_code;
      rp_valid <= 1'b1;
      state <= X_POST;
    end
  endtask

  // A cached ERROR (the slot is taken already): written, then filed.
  task fail;
    input [7:0] error_code;
    input [15:0] where;
    begin
      code <= error_code;
      at <= where;
      k <= 3'd0;
      state <= X_ERRW;
    end
  endtask
endmodule
`default_nettype wire
