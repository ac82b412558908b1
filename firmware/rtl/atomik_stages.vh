// The codes the framed design's stages pass between them (atomik_framed.v),
// included by each stage that sends or takes them and by their testbenches.
/* verilator lint_off UNUSEDPARAM */
// atomik_frame_rx -> atomik_exec: what the receiver offers
localparam [1:0] EV_FRAME = 2'd0, EV_BAD_CRC = 2'd1, EV_BAD_LENGTH = 2'd2, EV_PROBE = 2'd3;
// atomik_exec -> atomik_reply_tx: where a reply's payload comes from
localparam [1:0] SRC_SLOT = 2'd0, SRC_HELLO = 2'd1, SRC_ERROR = 2'd2;
/* verilator lint_on UNUSEDPARAM */
