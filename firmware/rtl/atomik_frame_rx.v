// Frame receiver: received bytes into a ring (block RAM), scanned as the
// C device core scans its buffer (firmware/core/device.c, parse_frames):
// a byte other than SYNC is dropped; a header whose CRC-8 is wrong drops
// its SYNC byte; a LEN above MAX_PAYLOAD and a frame whose CRC-32 is wrong
// are reported (BAD_LENGTH, BAD_CRC), then their SYNC byte is dropped; a
// sound frame is reported and, once taken, consumed whole. Dropped bytes
// are watched for the hello probe (PROBE).
//
// One event at a time leaves on ev_*: valid until the consumer pulses
// ev_ready. While a FRAME is offered, rd_off (a payload offset) reads the
// payload: rd_data is the byte one clock later. A full ring drops the
// arriving byte (the host retransmits). CRC-32 is checked a bit a clock.
`default_nettype none
module atomik_frame_rx #(
    parameter integer MAX_PAYLOAD = 1024,
    parameter integer RING_BITS = 11  // 2^RING_BITS > MAX_PAYLOAD + 11
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 in_valid,
    input  wire [7:0]           in_data,
    output reg                  ev_valid,
    output reg  [1:0]           ev_kind,   // EV_FRAME, EV_BAD_CRC, EV_BAD_LENGTH, EV_PROBE
    output reg  [15:0]          ev_seq,
    output reg  [7:0]           ev_type,
    output reg  [15:0]          ev_len,
    input  wire                 ev_ready,
    input  wire [RING_BITS-1:0] rd_off,
    output reg  [7:0]           rd_data,
    output wire                 busy       // bytes to scan that are all here
);
`include "atomik_protocol.vh"
`include "atomik_stages.vh"
  localparam integer RING = 1 << RING_BITS;
  localparam [15:0] N_PAYLOAD = MAX_PAYLOAD[15:0];
  localparam [RING_BITS-1:0] ONE = 1;

  // ---- the ring: written by the UART, read at start + offset ----
  reg [7:0] ring [0:RING-1];
  reg [RING_BITS:0] head, start;  // one extra bit tells full from empty
  wire [RING_BITS:0] avail = head - start;
  wire full = avail == RING[RING_BITS:0];
  reg [RING_BITS-1:0] off;        // the scanner's offset from start; 0 in S_IDLE
  wire [RING_BITS-1:0] rel = ev_valid && ev_kind == EV_FRAME ? rd_off + HEADER_BYTES[RING_BITS-1:0] : off;
  always @(posedge clk) begin
    rd_data <= ring[start[RING_BITS-1:0] + rel];
    if (in_valid && !full) ring[head[RING_BITS-1:0]] <= in_data;
  end

  localparam [3:0] S_IDLE = 4'd0, S_SYNC = 4'd1, S_HWAIT = 4'd2, S_HDR = 4'd3, S_HCHECK = 4'd4,
                   S_FWAIT = 4'd5, S_CRC = 4'd6, S_CRCBIT = 4'd7, S_TAIL0 = 4'd8, S_TAIL = 4'd9,
                   S_CHECK = 4'd10, S_EVENT = 4'd11, S_DROP = 4'd12;
  reg [3:0] state;
  reg [2:0] probe_pos, bitn;
  reg [1:0] q;
  reg [7:0] crc8, hchk, b;
  reg [31:0] crc32, frame_crc;
  reg drop_after;  // after the event: drop the SYNC byte (else consume the frame)

  // Past the LEN check, a frame fits the ring: RING_BITS + 1 bits suffice.
  wire [RING_BITS:0] frame_bytes = ev_len[RING_BITS:0] + FRAME_OVERHEAD[RING_BITS:0];
  wire header_here = avail[RING_BITS:3] != 0 || avail[2:0] == 3'd7;  // avail >= 7
  wire [7:0] crc8_next = crc8_byte(crc8, rd_data);
  // The CRC-32 of the frame covers offsets 1 .. 6 + LEN; its 4 bytes follow.
  wire [RING_BITS-1:0] crc_end = ev_len[RING_BITS-1:0] + 6;

  assign busy = state != S_IDLE && state != S_EVENT
             && !(state == S_HWAIT && !header_here) && !(state == S_FWAIT && avail < frame_bytes)
             || state == S_IDLE && avail != 0;

  always @(posedge clk) begin
    if (rst) begin
      state <= S_IDLE;
      head <= {(RING_BITS + 1){1'b0}};
      start <= {(RING_BITS + 1){1'b0}};
      off <= {RING_BITS{1'b0}};
      probe_pos <= 3'd0;
      ev_valid <= 1'b0;
    end else begin
      if (in_valid && !full) head <= head + 1'b1;
      case (state)
        S_IDLE:  // the byte at start is read (off is 0)
          if (avail != 0) state <= S_SYNC;
        S_SYNC: begin  // rd_data: the byte at start
          if (rd_data != SYNC) begin
            b <= rd_data;
            state <= S_DROP;
          end else begin
            state <= S_HWAIT;
          end
        end
        S_HWAIT:
          if (header_here) begin
            off <= ONE;
            crc8 <= 8'd0;
            state <= S_HDR;
          end
        S_HDR: begin  // one header byte a clock: rd_data is the byte at off - 1
          off <= off + 1'b1;
          if (off != ONE) begin
            case (off[2:0])
              3'd2: ev_len[15:8] <= rd_data;
              3'd3: ev_len[7:0] <= rd_data;
              3'd4: ev_seq[15:8] <= rd_data;
              3'd5: ev_seq[7:0] <= rd_data;
              3'd6: ev_type <= rd_data;
              default: hchk <= rd_data;
            endcase
            if (off[2:0] != 3'd7) crc8 <= crc8_next;
            else state <= S_HCHECK;
          end
        end
        S_HCHECK:
          if (crc8 != hchk) begin  // not a header: drop the SYNC byte
            b <= SYNC;
            state <= S_DROP;
          end else if (ev_len > N_PAYLOAD) begin
            raise(EV_BAD_LENGTH, 1'b1);
          end else begin
            state <= S_FWAIT;
          end
        S_FWAIT:
          if (avail >= frame_bytes) begin
            off <= ONE;
            crc32 <= 32'hFFFFFFFF;
            frame_crc <= 32'd0;
            state <= S_CRC;
          end
        S_CRC: begin  // the byte at off is read: its 8 bits from next clock
          state <= S_CRCBIT;
          bitn <= 3'd0;
        end
        S_CRCBIT: begin  // rd_data: the byte at off
          crc32 <= (crc32 >> 1) ^ ((crc32[0] ^ rd_data[bitn]) ? 32'hEDB88320 : 32'd0);
          bitn <= bitn + 3'd1;
          if (bitn == 3'd7) begin
            off <= off + 1'b1;
            q <= 2'd0;
            state <= off == crc_end ? S_TAIL0 : S_CRC;
          end
        end
        S_TAIL0: state <= S_TAIL;  // a byte of the frame's CRC-32 is read
        S_TAIL: begin
          frame_crc <= {frame_crc[23:0], rd_data};
          q <= q + 2'd1;
          off <= off + 1'b1;
          state <= q == 2'd3 ? S_CHECK : S_TAIL0;
        end
        S_CHECK:
          if (~crc32 != frame_crc) raise(EV_BAD_CRC, 1'b1);
          else raise(EV_FRAME, 1'b0);
        S_EVENT:
          if (ev_ready) begin
            ev_valid <= 1'b0;
            off <= {RING_BITS{1'b0}};
            if (ev_kind == EV_PROBE) begin
              state <= S_IDLE;
            end else if (drop_after) begin
              start <= start + 1'b1;  // the SYNC byte: not part of the probe
              probe_pos <= 3'd0;
              state <= S_IDLE;
            end else begin
              start <= start + frame_bytes[RING_BITS:0];
              state <= S_IDLE;
            end
          end
        default: begin  // S_DROP: the byte at start (b) leaves, watched for the probe
          start <= start + 1'b1;
          off <= {RING_BITS{1'b0}};
          state <= S_IDLE;
          if (b == HELLO_PROBE[63 - 8 * probe_pos -: 8]) begin
            probe_pos <= probe_pos + 3'd1;
            if (probe_pos == 3'd7) begin
              ev_kind <= EV_PROBE;
              ev_valid <= 1'b1;
              state <= S_EVENT;
            end
          end else begin
            probe_pos <= b == HELLO_PROBE[63:56] ? 3'd1 : 3'd0;
          end
        end
      endcase
    end
  end

  task raise;
    input [1:0] kind;
    input then_drop;
    begin
      ev_kind <= kind;
      ev_valid <= 1'b1;
      drop_after <= then_drop;
      state <= S_EVENT;
    end
  endtask

  function [7:0] crc8_byte;  // CRC-8, poly 0x07, MSB first
    input [7:0] c;
    input [7:0] d;
    integer i;
    reg [7:0] x;
    begin
      x = c ^ d;
      for (i = 0; i < 8; i = i + 1) x = x[7] ? {x[6:0], 1'b0} ^ 8'h07 : {x[6:0], 1'b0};
      crc8_byte = x;
    end
  endfunction
endmodule
`default_nettype wire
