// The framed protocol v2 (firmware/PROTOCOL.md) over a UART: many contexts
// in block RAM, the xor and add groups, CRC-8 header and CRC-32 frame
// checks, HELLO, OPEN, batches validated whole before anything is applied,
// and a replay cache that answers a repeated sequence number with the
// cached reply, byte for byte. It behaves as the C device core
// (firmware/core/device.c) does, byte for byte, within the limits its
// parameters set and its HELLO reply advertises.
//
// Received bytes go into a ring buffer (block RAM). One state machine reads
// the ring a byte at a time, like the C core scans its buffer: a byte other
// than SYNC, a header with a bad check, and a frame with a bad CRC-32 each
// drop one byte and scanning starts again after it; bytes dropped that way
// are watched for the hello probe. Replies are written into a cache slot
// (block RAM), sealed with their checks while they are written, and sent
// from there by a transmitter that reads the slot; a frame is handled once
// the previous reply has left. A full ring drops the byte that arrives
// (the host retransmits).
// Synchronous, active-high reset; after reset the contexts are cleared
// (one per clock) before the first byte is parsed.
`default_nettype none
module atomik_framed #(
    parameter integer CLKS_PER_BIT = 234,
    parameter integer CONTEXTS = 256,      // 1 .. 65535
    parameter integer MAX_OPS = 32,        // ops per batch
    parameter integer MAX_PAYLOAD = 1024,  // bytes of payload per frame
    parameter integer REPLAY_DEPTH = 16,   // cached replies, a power of two (the host's window is half)
    parameter integer SLOT_BITS = 9,       // 2^SLOT_BITS bytes per reply slot: more than 11 + 8 MAX_OPS and 32 + NAME_LEN
    parameter integer RING_BITS = 11,      // 2^RING_BITS bytes of receive ring: more than MAX_PAYLOAD + 11
    parameter integer NAME_LEN = 10,       // 1 .. 64
    parameter [8*64-1:0] NAME = "atomik-rtl"
) (
    input  wire clk,
    input  wire rst,
    input  wire uart_rx,
    input  wire [31:0] boot_id,  // HELLO_REPLY's boot id: differs between boots, 0 if the board cannot tell
    output wire uart_tx,
    output wire busy   // anything to do but wait for bytes
);
`include "crc.vh"

  // ---- the one definition of the protocol's numbers (firmware/core/device.h) ----
  localparam [7:0] SYNC = 8'hA5;
  localparam [7:0] FT_HELLO = 8'h01, FT_BATCH = 8'h02, FT_OPEN = 8'h03;
  localparam [7:0] FT_HELLO_REPLY = 8'h81, FT_RESULT = 8'h82, FT_ERROR = 8'h83;
  localparam [7:0] OP_LOAD = 8'h01, OP_ACCUM = 8'h02, OP_READ = 8'h03, OP_SWAP = 8'h04,
                   OP_SWAP_TO = 8'h05, OP_STATUS = 8'h06, OP_ACCUM_RUN = 8'h07;
  localparam [7:0] ERR_BAD_CRC = 8'h01, ERR_BAD_LENGTH = 8'h02, ERR_UNKNOWN_OP = 8'h03,
                   ERR_INDEX_RANGE = 8'h04, ERR_BAD_GROUP = 8'h05;
  localparam [7:0] PROTOCOL_VERSION = 8'd2, FW_MAJOR = 8'd0, FW_MINOR = 8'd1, FW_PATCH = 8'd0;
  localparam [63:0] PROBE = 64'h7E61746F6D696B3F;  // "~atomik?"

  localparam integer RING = 1 << RING_BITS;
  localparam integer SLOT = 1 << SLOT_BITS;
  localparam integer SW = $clog2(REPLAY_DEPTH + 1);       // slot number width
  localparam integer DW = $clog2(REPLAY_DEPTH);           // cached slot number width (REPLAY_DEPTH a power of 2)
  localparam integer CW = CONTEXTS > 1 ? $clog2(CONTEXTS) : 1;
  localparam [SW-1:0] SCRATCH = REPLAY_DEPTH[SW-1:0];     // slot for replies that are not cached
  localparam [15:0] N_CONTEXTS = CONTEXTS[15:0];
  localparam [15:0] N_OPS = MAX_OPS[15:0];
  localparam [15:0] N_PAYLOAD = MAX_PAYLOAD[15:0];
  localparam [7:0] N_DEPTH = REPLAY_DEPTH[7:0];
  localparam [7:0] N_NAME = NAME_LEN[7:0];

  // ---- UART ----
  wire [7:0] rx_data;
  wire rx_valid, rx_active, uart_busy;
  /* verilator lint_off UNUSEDSIGNAL */
  wire rx_frame_error;  // a discarded byte is a lost byte: the CRCs see to it
  /* verilator lint_on UNUSEDSIGNAL */
  uart_rx #(.CLKS_PER_BIT(CLKS_PER_BIT)) receiver (
      .clk(clk), .rst(rst), .rx(uart_rx),
      .data(rx_data), .valid(rx_valid), .frame_error(rx_frame_error), .active(rx_active)
  );
  reg tx_start;
  reg [7:0] tx_byte;
  uart_tx #(.CLKS_PER_BIT(CLKS_PER_BIT)) transmitter (
      .clk(clk), .rst(rst), .start(tx_start), .data(tx_byte), .tx(uart_tx), .busy(uart_busy)
  );

  // ---- receive ring: written by the UART, read by the parser ----
  reg [7:0] ring [0:RING-1];
  reg [RING_BITS:0] head, start;  // one extra bit tells full from empty
  wire [RING_BITS:0] avail = head - start;
  /* verilator lint_off UNUSEDSIGNAL */
  reg [15:0] ring_raddr;          // an offset from start: one adder makes the address
  /* verilator lint_on UNUSEDSIGNAL */
  reg [7:0] rq;                   // the byte at start + ring_raddr, one clock later
  wire [RING_BITS-1:0] ring_addr = start[RING_BITS-1:0] + ring_raddr[RING_BITS-1:0];
  always @(posedge clk) begin
    rq <= ring[ring_addr];
    if (rx_valid && avail != RING[RING_BITS:0]) ring[head[RING_BITS-1:0]] <= rx_data;
  end

  // ---- contexts ----
  reg [63:0] ctx_ref [0:CONTEXTS-1];
  reg [63:0] ctx_acc [0:CONTEXTS-1];
  reg [CW-1:0] ctx_raddr, ctx_waddr;
  reg ctx_we;
  reg [63:0] ref_w, acc_w, ref_q, acc_q;
  always @(posedge clk) begin
    ref_q <= ctx_ref[ctx_raddr];
    acc_q <= ctx_acc[ctx_raddr];
    if (ctx_we) begin
      ctx_ref[ctx_waddr] <= ref_w;
      ctx_acc[ctx_waddr] <= acc_w;
    end
  end

  // ---- reply slots: written by the parser (emit), read by the transmitter ----
  reg [7:0] slots [0:(REPLAY_DEPTH + 1) * SLOT - 1];
  reg [SW+SLOT_BITS-1:0] slot_raddr;
  reg [7:0] sq;
  wire emit;
  wire [7:0] emit_byte;
  reg [SW-1:0] cur_slot;
  reg [SLOT_BITS-1:0] wptr;
  always @(posedge clk) begin
    sq <= slots[slot_raddr];
    if (emit) slots[{cur_slot, wptr}] <= emit_byte;
  end

  // ---- the replay cache's directory ----
  reg [15:0] cached_seq [0:REPLAY_DEPTH-1];
  reg [SLOT_BITS:0] cached_len [0:REPLAY_DEPTH-1];
  reg [REPLAY_DEPTH-1:0] cached;
  reg [SW-1:0] replay_next;

  // ---- parser state ----
  localparam [5:0]
    CLEAR = 6'd0, IDLE = 6'd1, FETCH = 6'd2, SYNC_CHECK = 6'd3, SYNC_WAIT = 6'd4, HDR = 6'd5,
    HDR_CHECK = 6'd6, WAIT_FRAME = 6'd7, CRC_PASS = 6'd8, CRC_READ = 6'd9, CRC_CHECK = 6'd10,
    DISPATCH = 6'd11, OPEN_READ = 6'd12, DISPATCH2 = 6'd13, V_OP = 6'd14, V_OP2 = 6'd15,
    V_IDX1 = 6'd16, V_IDX2 = 6'd17, V_CNT1 = 6'd18, V_CNT2 = 6'd19, V_CHECK = 6'd20,
    E_WAIT = 6'd21, E_HDR = 6'd22, E_FIX = 6'd23, E_CRC = 6'd24, E_SEAL = 6'd25, E_SEND = 6'd26,
    A_OP = 6'd27, A_OP2 = 6'd28, A_IDX1 = 6'd29, A_IDX2 = 6'd30, A_CTX = 6'd31, A_CTX2 = 6'd32,
    A_CNT1 = 6'd33, A_CNT2 = 6'd34, A_VAL = 6'd35, A_RUN = 6'd36, A_EXEC = 6'd37, A_RES = 6'd38,
    DROP = 6'd39;

  localparam [1:0] K_ERROR = 2'd0, K_HELLO = 2'd1, K_EMPTY = 2'd2, K_BATCH = 2'd3;

  reg [5:0] state, ret;
  reg [CW:0] clear_i;
  reg [7:0] hdr_type, hchk, crc8;
  reg [15:0] len, seq;
  reg [2:0] hdr_i;
  reg [15:0] p;              // frame offset (CRC pass) or payload offset
  reg [1:0] q;
  reg [31:0] crc32, frame_crc;
  reg [2:0] probe_pos;
  reg [31:0] session, open_session;
  reg [7:0] open_group;
  reg group_add;
  /* verilator lint_off UNUSEDSIGNAL */
  reg [15:0] consume;        // bytes of the ring the current frame takes when done
  // validation and execution
  reg [7:0] op;
  reg [15:0] idx, cnt, nops, at, rlen, run_left;
  /* verilator lint_on UNUSEDSIGNAL */
  reg [18:0] need;
  reg [63:0] v, ref_r, acc_r, res;
  reg [3:0] res_n;
  reg [2:0] vbyte;
  // the reply being written
  reg [1:0] kind;
  reg cache_it;
  reg [7:0] rtype, err_code;
  reg [15:0] rseq;
  reg [15:0] k;
  reg [SW-1:0] send_slot;
  reg [SLOT_BITS:0] send_len;


  wire [15:0] frame_bytes = len + 16'd11;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [15:0] idx_next = {idx[15:8], rq};
  /* verilator lint_on UNUSEDSIGNAL */
  wire [15:0] payload_left = len - p;  // validation: bytes from the op byte on

  function [18:0] operand_bytes;
    input [7:0] o;
    case (o)
      OP_LOAD, OP_ACCUM, OP_SWAP_TO: operand_bytes = 19'd10;
      OP_READ, OP_SWAP, OP_STATUS: operand_bytes = 19'd2;
      OP_ACCUM_RUN: operand_bytes = 19'd4;
      default: operand_bytes = 19'd0;
    endcase
  endfunction

  // The group's operation, twice: accumulator with an operand, and the state.
  wire [63:0] acc_with_v = group_add ? acc_r + v : acc_r ^ v;
  wire [63:0] state_now = group_add ? ref_r + acc_r : ref_r ^ acc_r;

  // Cached reply for this SEQ, lowest slot first (as the C core searches).
  reg hit;
  reg [SW-1:0] hit_slot;
  integer s;
  always @* begin
    hit = 1'b0;
    hit_slot = {SW{1'b0}};
    for (s = REPLAY_DEPTH - 1; s >= 0; s = s - 1)
      if (cached[s] && cached_seq[s] == seq) begin
        hit = 1'b1;
        hit_slot = s[SW-1:0];
      end
  end

  // Byte k - 13 of the name: a small constant table, not a shifter.
  wire [5:0] name_i = k[5:0] - 6'd13;
  reg [7:0] name_byte;
  integer ni;
  always @* begin
    name_byte = 8'd0;
    for (ni = 0; ni < NAME_LEN; ni = ni + 1)
      if (name_i == ni[5:0]) name_byte = NAME[8 * (NAME_LEN - 1 - ni) +: 8];
  end

  // HELLO_REPLY after the name (version 2): u32 session, u32 boot id.
  wire [2:0] tail_i = k[2:0] - (3'd5 + N_NAME[2:0]);  // (k - 13 - NAME_LEN) mod 8
  wire [31:0] tail_word = tail_i[2] ? boot_id : session;
  wire [7:0] tail_byte = tail_word[31 - 8 * tail_i[1:0] -: 8];

  // The fixed payloads: ERROR (code, u16 at) and HELLO_REPLY.
  reg [7:0] fixed_byte;
  always @* begin
    fixed_byte = 8'd0;
    if (kind == K_ERROR) begin
      fixed_byte = k == 16'd0 ? err_code : k == 16'd1 ? at[15:8] : at[7:0];
    end else begin
      case (k)
        16'd0: fixed_byte = PROTOCOL_VERSION;
        16'd1: fixed_byte = FW_MAJOR;
        16'd2: fixed_byte = FW_MINOR;
        16'd3: fixed_byte = FW_PATCH;
        16'd4: fixed_byte = N_CONTEXTS[15:8];
        16'd5: fixed_byte = N_CONTEXTS[7:0];
        16'd6: fixed_byte = N_OPS[15:8];
        16'd7: fixed_byte = N_OPS[7:0];
        16'd8: fixed_byte = N_PAYLOAD[15:8];
        16'd9: fixed_byte = N_PAYLOAD[7:0];
        16'd10: fixed_byte = 8'h03;  // xor and add
        16'd11: fixed_byte = N_DEPTH;
        16'd12: fixed_byte = N_NAME;
        default: fixed_byte = k < 16'd13 + {8'd0, N_NAME} ? name_byte : tail_byte;
      endcase
    end
  end

  wire [31:0] crc_out = ~crc32;
  // One CRC step of each kind, shared: received bytes are checked while
  // parsing, reply bytes while emitting.
  wire [7:0] crc_in = emit ? emit_byte : rq;
  wire [31:0] crc32_next = crc32_step(crc32, crc_in);
  wire [7:0] crc8_next = crc8_step(crc8, crc_in);
  assign emit = state == E_HDR || state == E_FIX || state == A_RES || state == E_CRC;
  assign emit_byte = state == E_HDR ? (wptr == 0 ? SYNC : wptr == 1 ? rlen[15:8] : wptr == 2 ? rlen[7:0]
                                      : wptr == 3 ? rseq[15:8] : wptr == 4 ? rseq[7:0] : wptr == 5 ? rtype : crc8)
                   : state == E_FIX ? fixed_byte
                   : state == A_RES ? res[63:56]
                   : crc_out[31 - 8 * q -: 8];

  // ---- transmitter: sends tx_len bytes of slot tx_slot ----
  reg tx_go, tx_run;
  reg [SW-1:0] tx_slot;
  reg [SLOT_BITS:0] tx_len, tx_i;
  reg [1:0] tx_phase;  // 0 address, 1 wait, 2 data
  wire tx_idle = !tx_run && !tx_go;
  always @(posedge clk) begin
    tx_start <= 1'b0;
    if (rst) begin
      tx_run <= 1'b0;
      tx_i <= {(SLOT_BITS + 1){1'b0}};
      tx_phase <= 2'd0;
      tx_byte <= 8'd0;
      slot_raddr <= {(SW + SLOT_BITS){1'b0}};
    end else if (!tx_run) begin
      if (tx_go) begin
        tx_run <= 1'b1;
        tx_i <= {(SLOT_BITS + 1){1'b0}};
        tx_phase <= 2'd0;
      end
    end else if (tx_i == tx_len) begin
      if (!uart_busy && !tx_start) tx_run <= 1'b0;  // the last byte has left
    end else begin
      case (tx_phase)
        2'd0: begin slot_raddr <= {tx_slot, tx_i[SLOT_BITS-1:0]}; tx_phase <= 2'd1; end
        2'd1: tx_phase <= 2'd2;
        default:
          if (!uart_busy && !tx_start) begin
            tx_start <= 1'b1;
            tx_byte <= sq;
            tx_i <= tx_i + 1'b1;
            tx_phase <= 2'd0;
          end
      endcase
    end
  end

  wire starved = (state == IDLE && avail == 0) || (state == SYNC_WAIT && avail < 7)
               || (state == WAIT_FRAME && {{(15 - RING_BITS){1'b0}}, avail} < frame_bytes);
  assign busy = rx_active || rx_valid || !starved || !tx_idle || uart_busy;

  // ---- the parser ----
  integer c;
  always @(posedge clk) begin
    ctx_we <= 1'b0;
    tx_go <= 1'b0;
    if (rst) begin
      state <= CLEAR;
      clear_i <= {(CW + 1){1'b0}};
      head <= {(RING_BITS + 1){1'b0}};
      start <= {(RING_BITS + 1){1'b0}};
      cached <= {REPLAY_DEPTH{1'b0}};
      replay_next <= {SW{1'b0}};
      probe_pos <= 3'd0;
      session <= 32'd0;
      group_add <= 1'b0;
      ring_raddr <= 16'd0;
      ctx_raddr <= {CW{1'b0}};
      wptr <= {SLOT_BITS{1'b0}};
    end else begin
      if (rx_valid && avail != RING[RING_BITS:0]) head <= head + 1'b1;
      case (state)
        CLEAR: begin
          ctx_we <= 1'b1;
          ctx_waddr <= clear_i[CW-1:0];
          ref_w <= 64'd0;
          acc_w <= 64'd0;
          clear_i <= clear_i + 1'b1;
          if (clear_i == CONTEXTS[CW:0] - 1'b1) state <= IDLE;
        end
        IDLE:
          if (avail != 0) begin
            ring_raddr <= 16'd0;
            ret <= SYNC_CHECK;
            state <= FETCH;
          end
        FETCH: state <= ret;  // rq holds the byte at ring_raddr in the next state
        SYNC_CHECK:
          if (rq != SYNC) begin
            state <= DROP;
          end else begin
            state <= SYNC_WAIT;
          end
        SYNC_WAIT:
          if (avail >= 7) begin
            hdr_i <= 3'd1;
            crc8 <= 8'd0;
            ring_raddr <= 16'd1;
            ret <= HDR;
            state <= FETCH;
          end
        HDR: begin
          case (hdr_i)
            3'd1: len[15:8] <= rq;
            3'd2: len[7:0] <= rq;
            3'd3: seq[15:8] <= rq;
            3'd4: seq[7:0] <= rq;
            3'd5: hdr_type <= rq;
            default: hchk <= rq;
          endcase
          if (hdr_i != 3'd6) crc8 <= crc8_next;
          if (hdr_i == 3'd6) begin
            state <= HDR_CHECK;
          end else begin
            hdr_i <= hdr_i + 3'd1;
            ring_raddr <= {13'd0, hdr_i + 3'd1};
            ret <= HDR;
            state <= FETCH;
          end
        end
        HDR_CHECK:
          if (crc8 != hchk) begin  // drop the SYNC byte, which is not part of the probe
            start <= start + 1'b1;
            probe_pos <= 3'd0;
            state <= IDLE;
          end else if (len > N_PAYLOAD) begin
            probe_pos <= 3'd0;
            reply_error(ERR_BAD_LENGTH, 16'hFFFF, 1'b0, 16'd0);  // then the SYNC byte is dropped
          end else begin
            state <= WAIT_FRAME;
          end
        WAIT_FRAME:
          if ({{(15 - RING_BITS){1'b0}}, avail} >= frame_bytes) begin
            crc32 <= 32'hFFFFFFFF;
            p <= 16'd1;
            ring_raddr <= 16'd1;
            ret <= CRC_PASS;
            state <= FETCH;
          end
        CRC_PASS: begin
          crc32 <= crc32_next;
          p <= p + 16'd1;
          ring_raddr <= p + 16'd1;
          ret <= p == len + 16'd6 ? CRC_READ : CRC_PASS;
          q <= 2'd0;
          state <= FETCH;
        end
        CRC_READ: begin
          frame_crc <= {frame_crc[23:0], rq};
          q <= q + 2'd1;
          if (q == 2'd3) begin
            state <= CRC_CHECK;
          end else begin
            ring_raddr <= len + 16'd8 + {14'd0, q};
            ret <= CRC_READ;
            state <= FETCH;
          end
        end
        CRC_CHECK:
          if (~crc32 != frame_crc) begin
            probe_pos <= 3'd0;
            reply_error(ERR_BAD_CRC, 16'hFFFF, 1'b0, 16'd0);  // then the SYNC byte is dropped
          end else begin
            state <= DISPATCH;
          end
        DISPATCH:
          if (hdr_type == FT_HELLO) begin
            reply_fixed(K_HELLO, FT_HELLO_REPLY, 16'd21 + {8'd0, N_NAME}, seq, SCRATCH, 1'b0, frame_bytes);
          end else if (hdr_type != FT_BATCH && hdr_type != FT_OPEN) begin
            reply_error(ERR_UNKNOWN_OP, 16'hFFFF, 1'b0, frame_bytes);
          end else if (hdr_type == FT_OPEN && len == 16'd5) begin
            p <= 16'd0;
            ring_raddr <= 16'd7;
            ret <= OPEN_READ;
            state <= FETCH;
          end else begin
            state <= DISPATCH2;
          end
        OPEN_READ: begin
          if (p == 16'd4) open_group <= rq;
          else open_session <= {open_session[23:0], rq};
          p <= p + 16'd1;
          if (p == 16'd4) begin
            state <= DISPATCH2;
          end else begin
            ring_raddr <= p + 16'd8;
            ret <= OPEN_READ;
            state <= FETCH;
          end
        end
        DISPATCH2: begin
          // Exactly once: a SEQ seen recently gets its old reply, unrun.
          if (!(hdr_type == FT_OPEN && len == 16'd5 && open_session != session) && hit) begin
            send_slot <= hit_slot;
            send_len <= cached_len[hit_slot[DW-1:0]];
            consume <= frame_bytes;
            state <= E_SEND;
          end else begin
            cur_slot <= replay_next;
            cached[replay_next[DW-1:0]] <= 1'b0;
            replay_next <= replay_next == N_DEPTH[SW-1:0] - 1'b1 ? {SW{1'b0}} : replay_next + 1'b1;
            if (hdr_type == FT_OPEN) begin
              if (len != 16'd5) begin
                reply_error(ERR_BAD_LENGTH, 16'hFFFF, 1'b1, frame_bytes);
              end else if (open_group > 8'd1) begin
                reply_error(ERR_BAD_GROUP, 16'hFFFF, 1'b1, frame_bytes);
              end else begin
                if (open_session != session) begin
                  for (c = 0; c < REPLAY_DEPTH; c = c + 1) cached[c] <= 1'b0;
                  session <= open_session;
                end
                group_add <= open_group[0];
                reply_fixed(K_EMPTY, FT_RESULT, 16'd0, seq, replay_next, 1'b1, frame_bytes);
              end
            end else begin
              p <= 16'd0;
              nops <= 16'd0;
              rlen <= 16'd0;
              state <= V_OP;
            end
          end
        end
        // -- validation: the whole batch, before anything is applied --
        V_OP:
          if (p == len) begin
            // valid: the RESULT frame is written while the batch is applied
            kind <= K_BATCH;
            rtype <= FT_RESULT;
            rseq <= seq;
            cache_it <= 1'b1;
            consume <= frame_bytes;
            p <= 16'd0;
            state <= E_WAIT;
          end else begin
            ring_raddr <= 16'd7 + p;
            ret <= V_OP2;
            state <= FETCH;
          end
        V_OP2: begin
          op <= rq;
          need <= operand_bytes(rq);
          at <= nops;
          if (operand_bytes(rq) == 19'd0) begin
            reply_error(ERR_UNKNOWN_OP, nops, 1'b1, frame_bytes);
          end else if (nops >= N_OPS || {3'd0, payload_left - 16'd1} < operand_bytes(rq)) begin
            reply_error(ERR_BAD_LENGTH, nops, 1'b1, frame_bytes);
          end else begin
            ring_raddr <= 16'd8 + p;
            ret <= V_IDX1;
            state <= FETCH;
          end
        end
        V_IDX1: begin
          idx[15:8] <= rq;
          ring_raddr <= 16'd9 + p;
          ret <= V_IDX2;
          state <= FETCH;
        end
        V_IDX2: begin
          idx[7:0] <= rq;
          if (op == OP_ACCUM_RUN) begin
            ring_raddr <= 16'd10 + p;
            ret <= V_CNT1;
            state <= FETCH;
          end else begin
            state <= V_CHECK;
          end
        end
        V_CNT1: begin
          cnt[15:8] <= rq;
          ring_raddr <= 16'd11 + p;
          ret <= V_CNT2;
          state <= FETCH;
        end
        V_CNT2: begin
          cnt[7:0] <= rq;
          if ((payload_left - 16'd5) >> 3 < {cnt[15:8], rq}) begin
            reply_error(ERR_BAD_LENGTH, nops, 1'b1, frame_bytes);
          end else begin
            need <= need + {{3{1'b0}}, cnt[15:8], rq} * 19'd8;  // wraps never: count is below len / 8
            state <= V_CHECK;
          end
        end
        V_CHECK:
          if (idx >= N_CONTEXTS) begin
            reply_error(ERR_INDEX_RANGE, nops, 1'b1, frame_bytes);
          end else begin
            p <= p + 16'd1 + need[15:0];
            nops <= nops + 16'd1;
            if (op == OP_READ || op == OP_SWAP || op == OP_SWAP_TO) rlen <= rlen + 16'd8;
            else if (op == OP_STATUS) rlen <= rlen + 16'd1;
            state <= V_OP;
          end
        // -- writing a reply: header, payload, CRC-32 --
        E_WAIT:
          if (tx_idle) begin
            wptr <= {SLOT_BITS{1'b0}};
            crc8 <= 8'd0;
            crc32 <= 32'hFFFFFFFF;
            k <= 16'd0;
            state <= E_HDR;
          end
        E_HDR: begin
          wptr <= wptr + 1'b1;
          if (wptr != 0 && wptr != 6) crc8 <= crc8_next;
          if (wptr != 0) crc32 <= crc32_next;
          if (wptr == 6) state <= kind == K_BATCH ? A_OP : kind == K_EMPTY ? E_CRC : E_FIX;
          q <= 2'd0;
        end
        E_FIX: begin
          wptr <= wptr + 1'b1;
          crc32 <= crc32_next;
          k <= k + 16'd1;
          if (k == rlen - 16'd1) state <= E_CRC;
        end
        E_CRC: begin
          wptr <= wptr + 1'b1;
          q <= q + 2'd1;
          if (q == 2'd3) state <= E_SEAL;
        end
        E_SEAL: begin
          if (cache_it) begin
            cached[cur_slot[DW-1:0]] <= 1'b1;
            cached_seq[cur_slot[DW-1:0]] <= rseq;
            cached_len[cur_slot[DW-1:0]] <= {1'b0, wptr};
          end
          send_slot <= cur_slot;
          send_len <= {1'b0, wptr};
          state <= E_SEND;
        end
        E_SEND:
          if (tx_idle) begin
            tx_slot <= send_slot;
            tx_len <= send_len;
            tx_go <= 1'b1;
            start <= start + consume[RING_BITS:0];
            state <= IDLE;
          end
        // -- applying a validated batch, results written as they come --
        A_OP:
          if (p == len) begin
            q <= 2'd0;
            state <= E_CRC;
          end else begin
            ring_raddr <= 16'd7 + p;
            ret <= A_OP2;
            state <= FETCH;
          end
        A_OP2: begin
          op <= rq;
          ring_raddr <= 16'd8 + p;
          ret <= A_IDX1;
          state <= FETCH;
        end
        A_IDX1: begin
          idx[15:8] <= rq;
          ring_raddr <= 16'd9 + p;
          ret <= A_IDX2;
          state <= FETCH;
        end
        A_IDX2: begin
          idx[7:0] <= rq;
          ctx_raddr <= idx_next[CW-1:0];
          state <= A_CTX;
        end
        A_CTX: state <= A_CTX2;
        A_CTX2: begin
          ref_r <= ref_q;
          acc_r <= acc_q;
          vbyte <= 3'd0;
          if (op == OP_ACCUM_RUN) begin
            ring_raddr <= 16'd10 + p;
            ret <= A_CNT1;
            state <= FETCH;
          end else if (op == OP_LOAD || op == OP_ACCUM || op == OP_SWAP_TO) begin
            p <= p + 16'd3;  // now at the operand
            ring_raddr <= 16'd10 + p;
            ret <= A_VAL;
            state <= FETCH;
          end else begin
            p <= p + 16'd3;
            state <= A_EXEC;
          end
        end
        A_CNT1: begin
          run_left[15:8] <= rq;
          ring_raddr <= 16'd11 + p;
          ret <= A_CNT2;
          state <= FETCH;
        end
        A_CNT2: begin
          run_left[7:0] <= rq;
          p <= p + 16'd5;
          if ({run_left[15:8], rq} == 16'd0) begin
            state <= A_EXEC;
          end else begin
            ring_raddr <= 16'd12 + p;
            ret <= A_VAL;
            state <= FETCH;
          end
        end
        A_VAL: begin  // one operand byte; p counts them
          v <= {v[55:0], rq};
          vbyte <= vbyte + 3'd1;
          p <= p + 16'd1;
          if (vbyte == 3'd7) begin
            state <= op == OP_ACCUM_RUN ? A_RUN : A_EXEC;
          end else begin
            ring_raddr <= 16'd8 + p;
            ret <= A_VAL;
            state <= FETCH;
          end
        end
        A_RUN: begin
          acc_r <= acc_with_v;
          run_left <= run_left - 16'd1;
          if (run_left == 16'd1) begin
            state <= A_EXEC;
          end else begin
            ring_raddr <= 16'd7 + p;
            ret <= A_VAL;
            state <= FETCH;
          end
        end
        A_EXEC: begin
          ctx_we <= 1'b1;
          ctx_waddr <= idx[CW-1:0];
          ref_w <= ref_r;
          acc_w <= acc_r;
          res_n <= 4'd0;
          state <= A_OP;
          case (op)
            OP_LOAD: begin ref_w <= v; acc_w <= 64'd0; end
            OP_ACCUM: acc_w <= acc_with_v;
            OP_READ: begin res <= state_now; res_n <= 4'd8; state <= A_RES; end
            OP_SWAP: begin
              ref_w <= state_now;
              acc_w <= 64'd0;
              res <= state_now;
              res_n <= 4'd8;
              state <= A_RES;
            end
            OP_SWAP_TO: begin
              ref_w <= v;
              acc_w <= 64'd0;
              res <= state_now;
              res_n <= 4'd8;
              state <= A_RES;
            end
            OP_STATUS: begin res <= {7'd0, acc_r == 64'd0, 56'd0}; res_n <= 4'd1; state <= A_RES; end
            default: ;  // ACCUM_RUN: acc_r holds the sum
          endcase
        end
        A_RES: begin
          wptr <= wptr + 1'b1;
          crc32 <= crc32_next;
          res <= {res[55:0], 8'd0};
          res_n <= res_n - 4'd1;
          if (res_n == 4'd1) state <= A_OP;
        end
        // -- dropping the byte at the start of the ring, watching for the hello probe --
        default: begin  // DROP
          start <= start + 1'b1;
          if (rq == PROBE[63 - 8 * probe_pos -: 8]) begin
            if (probe_pos == 3'd7) begin
              probe_pos <= 3'd0;
              reply_fixed(K_HELLO, FT_HELLO_REPLY, 16'd21 + {8'd0, N_NAME}, 16'd0, SCRATCH, 1'b0, 16'd0);
            end else begin
              probe_pos <= probe_pos + 3'd1;
              state <= IDLE;
            end
          end else begin
            probe_pos <= rq == PROBE[63:56] ? 3'd1 : 3'd0;
            state <= IDLE;
          end
        end
      endcase
    end
  end

  // Sets up a reply with a fixed payload (HELLO_REPLY, or empty) in `slot`.
  task reply_fixed;
    input [1:0] what;
    input [7:0] frame_type;
    input [15:0] payload_len;
    input [15:0] reply_seq;
    input [SW-1:0] slot;
    input cache;
    input [15:0] taken;
    begin
      kind <= what;
      rtype <= frame_type;
      rlen <= payload_len;
      rseq <= reply_seq;
      cur_slot <= slot;
      cache_it <= cache;
      consume <= taken;
      state <= E_WAIT;
    end
  endtask

  // Sets up an ERROR reply; a cached one goes to the slot already taken
  // (cur_slot), one that is not goes to the scratch slot. `taken` 0 means
  // the frame is not consumed: the SYNC byte is dropped after the reply.
  task reply_error;
    input [7:0] code;
    input [15:0] where;
    input cache;
    input [15:0] taken;
    begin
      kind <= K_ERROR;
      err_code <= code;
      at <= where;
      rtype <= FT_ERROR;
      rlen <= 16'd3;
      rseq <= seq;
      if (!cache) cur_slot <= SCRATCH;
      cache_it <= cache;
      consume <= taken == 16'd0 ? 16'd1 : taken;
      state <= E_WAIT;
    end
  endtask
endmodule
`default_nettype wire
