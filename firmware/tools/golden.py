"""Writes firmware/golden-vectors.json: byte-exact exchanges of the framed
protocol (PROTOCOL.md) and of the official FPGA dialect, computed here from
the specification alone. The C device tests replay each case against a fresh
device and compare every reply byte; the TypeScript host tests check that
their encoder produces the `send` bytes and their decoder reads the `expect`
bytes as the structured `request` / `response` given with them.

Run: python3 firmware/tools/golden.py
"""
import binascii
import json
import os
import struct

CONTEXTS = 16
NAME = "golden"
MASK = (1 << 64) - 1
PROBE = bytes([0x7E]) + b"atomik?"


def crc8(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def frame(seq, ftype, payload):
    head = struct.pack(">HHB", len(payload), seq, ftype)
    body = head + bytes([crc8(head)]) + payload
    return b"\xA5" + body + struct.pack(">I", binascii.crc32(body) & 0xFFFFFFFF)


OPS = {"load": 1, "accum": 2, "read": 3, "swap": 4, "swapTo": 5, "status": 6, "accumRun": 7}


def encode_ops(ops):
    out = b""
    for op in ops:
        code = OPS[op["op"]]
        out += struct.pack(">BH", code, op["index"])
        if op["op"] in ("load", "accum", "swapTo"):
            out += struct.pack(">Q", int(op["value"]))
        if op["op"] == "accumRun":
            out += struct.pack(">H", len(op["deltas"]))
            out += b"".join(struct.pack(">Q", int(d)) for d in op["deltas"])
    return out


def hello_reply(seq):
    payload = struct.pack(">BBBBHHHBBB", 1, 0, 1, 0, CONTEXTS, 256, 2304, 3, 16, len(NAME)) + NAME.encode()
    return frame(seq, 0x81, payload)


def result(seq, parts):
    """parts: list of ('u64', value) or ('u8', value)."""
    payload = b"".join(struct.pack(">Q" if kind == "u64" else ">B", v) for kind, v in parts)
    return frame(seq, 0x82, payload)


def error(seq, code, at):
    return frame(seq, 0x83, struct.pack(">BH", code, at))


HELLO_INFO = {
    "protocol": 1, "firmware": "0.1.0", "contexts": CONTEXTS, "maxOps": 256,
    "maxPayload": 2304, "groups": ["xor", "add"], "replayDepth": 16, "name": NAME,
}


def step(send, expect, request=None, response=None, note=None):
    s = {"send": send.hex(), "expect": expect.hex()}
    if request is not None:
        s["request"] = request
    if response is not None:
        s["response"] = response
    if note:
        s["note"] = note
    return s


def batch_step(seq, ops, expect, response, note=None):
    return step(frame(seq, 0x02, encode_ops(ops)), expect, {"type": "batch", "seq": seq, "ops": ops}, response, note)


def open_step(seq, session, group, expect, response):
    payload = struct.pack(">IB", session, {"xor": 0, "add": 1}.get(group, 2))
    return step(frame(seq, 0x03, payload), expect, {"type": "open", "seq": seq, "session": session, "group": group}, response)


S = str  # bigints travel as decimal strings
cafe = 0xCAFE
ca01 = 0xCAFE ^ 0xFF

cases = [
    {
        "name": "hello probe and HELLO frame",
        "dialect": "framed",
        "steps": [
            step(bytes(8) + PROBE, hello_reply(0), {"type": "probe"}, {"type": "hello", "seq": 0, **HELLO_INFO},
                 "8 zero bytes, then the probe: the unsolicited reply has SEQ 0"),
            step(frame(5, 0x01, b""), hello_reply(5), {"type": "hello", "seq": 5}, {"type": "hello", "seq": 5, **HELLO_INFO}),
        ],
    },
    {
        "name": "xor session: every operation, then a duplicate frame is answered from the cache",
        "dialect": "framed",
        "steps": [
            open_step(1, 0x01020304, "xor", result(1, []), {"type": "result", "seq": 1, "payload": ""}),
            batch_step(2, [
                {"op": "load", "index": 3, "value": S(cafe)},
                {"op": "accum", "index": 3, "value": S(0xFF)},
                {"op": "read", "index": 3},
                {"op": "status", "index": 3},
                {"op": "swap", "index": 3},
                {"op": "status", "index": 3},
                {"op": "swapTo", "index": 15, "value": S(MASK)},
                {"op": "read", "index": 15},
            ], result(2, [("u64", ca01), ("u8", 0), ("u64", ca01), ("u8", 1), ("u64", 0), ("u64", MASK)]),
                {"type": "result", "seq": 2, "payload": ""}),
            batch_step(3, [{"op": "accum", "index": 3, "value": S(1)}], result(3, []), {"type": "result", "seq": 3, "payload": ""}),
            batch_step(3, [{"op": "accum", "index": 3, "value": S(1)}], result(3, []), {"type": "result", "seq": 3, "payload": ""},
                       "a retransmission: same SEQ, not applied again"),
            batch_step(4, [{"op": "read", "index": 3}], result(4, [("u64", ca01 ^ 1)]), {"type": "result", "seq": 4, "payload": ""}),
        ],
    },
    {
        "name": "add session: ACCUM_RUN counts, rollback by negation",
        "dialect": "framed",
        "steps": [
            open_step(1, 7, "add", result(1, []), {"type": "result", "seq": 1, "payload": ""}),
            batch_step(2, [
                {"op": "accumRun", "index": 0, "deltas": [S(1), S(1), S(1)]},
                {"op": "accum", "index": 0, "value": S(MASK)},
                {"op": "read", "index": 0},
            ], result(2, [("u64", 2)]), {"type": "result", "seq": 2, "payload": ""}),
        ],
    },
    {
        "name": "errors: nothing of a rejected batch is applied",
        "dialect": "framed",
        "steps": [
            batch_step(9, [{"op": "accum", "index": 0, "value": S(5)}, {"op": "read", "index": 16}],
                       error(9, 0x04, 1), {"type": "error", "seq": 9, "code": "INDEX_RANGE", "at": 1}),
            step(frame(10, 0x02, bytes([0x02, 0x00, 0x00, 0x00])), error(10, 0x02, 0),
                 None, {"type": "error", "seq": 10, "code": "BAD_LENGTH", "at": 0}, "an ACCUM cut short"),
            step(frame(11, 0x02, bytes([0x09, 0x00, 0x00])), error(11, 0x03, 0),
                 None, {"type": "error", "seq": 11, "code": "UNKNOWN_OP", "at": 0}),
            step(frame(12, 0x7F, b""), error(12, 0x03, 0xFFFF), None, {"type": "error", "seq": 12, "code": "UNKNOWN_OP", "at": 65535}),
            step(frame(13, 0x02, encode_ops([{"op": "read", "index": 0}]))[:-1] + b"\x00", error(13, 0x01, 0xFFFF),
                 None, {"type": "error", "seq": 13, "code": "BAD_CRC", "at": 65535}, "last CRC byte corrupted"),
            open_step(14, 9, "mul", error(14, 0x05, 0xFFFF), {"type": "error", "seq": 14, "code": "BAD_GROUP", "at": 65535}),
            batch_step(15, [{"op": "read", "index": 0}], result(15, [("u64", 0)]), {"type": "result", "seq": 15, "payload": ""}),
        ],
    },
    {
        "name": "official FPGA dialect",
        "dialect": "legacy",
        "steps": [
            step(b"S", b"\x80", None, None, "after reset the accumulator is zero"),
            step(b"L" + struct.pack(">Q", 0x1122334455667788) + b"A" + struct.pack(">Q", 0xFF), b""),
            step(b"R", struct.pack(">Q", 0x1122334455667788 ^ 0xFF)),
            step(b"S", b"\x00"),
            step(b"D", struct.pack(">Q", 0x1122334455667788)),
            step(b"xyz\x00", b"", None, None, "unknown bytes are ignored while idle"),
            step(b"A" + bytes(3), b"", None, None, "a partial payload..."),
            step(b"R\x00\x00\x00\x00R", struct.pack(">Q", 0x1122334455667788 ^ 0xFF ^ 0x0000005200000000),
                 None, None, "...swallows what follows; then the last R is a read"),
        ],
    },
]

# The result payloads as hex, for the host decoder tests.
for case in cases:
    for s in case["steps"]:
        r = s.get("response")
        if r and r["type"] == "result":
            r["payload"] = bytes.fromhex(s["expect"])[7:-4].hex()

doc = {
    "about": "Golden vectors for firmware/PROTOCOL.md; generated by firmware/tools/golden.py.",
    "device": {"contexts": CONTEXTS, "name": NAME},
    "cases": cases,
}
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "golden-vectors.json"), "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
