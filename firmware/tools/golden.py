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
BOOT_ID = 0x5EED0B07  # set by the C test through atomik_device_set_boot_id
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


def hello_payload(version, session=0, boot_id=BOOT_ID, contexts=CONTEXTS, max_ops=256, max_payload=2304,
                  groups=3, replay=16, name=NAME.encode(), name_len=None):
    """Version 1: the fixed fields and the name; version 2 adds u32 session, u32 boot id."""
    payload = struct.pack(">BBBBHHHBB", version, 0, 1, 0, contexts, max_ops, max_payload, groups, replay)
    payload += bytes([len(name) if name_len is None else name_len]) + name
    return payload + (struct.pack(">II", session, boot_id) if version == 2 else b"")


def hello_reply(seq, version=2, session=0):
    return frame(seq, 0x81, hello_payload(version, session))


def result(seq, parts):
    """parts: list of ('u64', value) or ('u8', value)."""
    payload = b"".join(struct.pack(">Q" if kind == "u64" else ">B", v) for kind, v in parts)
    return frame(seq, 0x82, payload)


def error(seq, code, at):
    return frame(seq, 0x83, struct.pack(">BH", code, at))


HELLO_INFO = {
    "firmware": "0.1.0", "contexts": CONTEXTS, "maxOps": 256,
    "maxPayload": 2304, "groups": ["xor", "add"], "replayDepth": 16, "name": NAME,
}


def hello_info(seq, version=2, session=0):
    extra = {"session": session, "bootId": BOOT_ID} if version == 2 else {"session": None, "bootId": None}
    return {"type": "hello", "seq": seq, "protocol": version, **HELLO_INFO, **extra}


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
        "name": "HELLO, version 2 (the C core): session 0 until an OPEN, then the session; the board's boot id",
        "dialect": "framed-v2",
        "steps": [
            step(bytes(8) + PROBE, hello_reply(0), {"type": "probe"}, hello_info(0),
                 "8 zero bytes, then the probe: the unsolicited reply has SEQ 0"),
            step(frame(5, 0x01, b""), hello_reply(5), {"type": "hello", "seq": 5}, hello_info(5)),
            open_step(1, 0x01020304, "xor", result(1, []), {"type": "result", "seq": 1, "payload": ""}),
            step(frame(6, 0x01, b""), hello_reply(6, session=0x01020304), {"type": "hello", "seq": 6},
                 hello_info(6, session=0x01020304)),
            open_step(2, 9, "mul", error(2, 0x05, 0xFFFF), {"type": "error", "seq": 2, "code": "BAD_GROUP", "at": 65535}),
            step(frame(7, 0x01, b""), hello_reply(7, session=0x01020304), {"type": "hello", "seq": 7},
                 hello_info(7, session=0x01020304), "a refused OPEN leaves the session as it was"),
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
        "name": "HELLO, version 1 (firmware/rtl)",
        "dialect": "framed-v1",
        "steps": [
            step(bytes(8) + PROBE, hello_reply(0, version=1), {"type": "probe"}, hello_info(0, version=1)),
            step(frame(5, 0x01, b""), hello_reply(5, version=1), {"type": "hello", "seq": 5}, hello_info(5, version=1)),
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

# HELLO_REPLY payloads a host must refuse (a DeviceError, deviceCode
# BAD_HELLO, with exactly this message) or accept (at the edges of each
# range). The smallest MAX_PAYLOAD a host accepts is 13: the largest single
# operation, an ACCUM_RUN of one delta (1 + 2 + 2 + 8 bytes); every reply to
# one operation (at most 8 bytes) is smaller.
MIN_MAX_PAYLOAD = 13


def bad(name, payload, message):
    return {"name": name, "payload": payload.hex(), "error": message}


def field(name, value, lo, hi):
    return f"HELLO field {name} = {value} is out of range {lo}..{hi}"


hostile_hello = [
    bad("empty", b"", field("length", 0, 13, 85)),
    bad("cut inside the fixed fields", hello_payload(2)[:12], field("length", 12, 13, 85)),
    bad("longer than any HELLO", hello_payload(2) + bytes(60), field("length", 87, 13, 85)),
    bad("protocol 0", hello_payload(0), field("protocol", 0, 1, 2)),
    bad("protocol 3", hello_payload(3) + bytes(8), field("protocol", 3, 1, 2)),
    bad("name length 65", hello_payload(2, name_len=65), field("nameLength", 65, 0, 64)),
    bad("version 2 without the boot id", hello_payload(2)[:-4],
        "HELLO field length = 23 is not 27 (version 2, a name of 6 bytes)"),
    bad("version 1 with the version 2 fields", hello_payload(1) + bytes(8),
        "HELLO field length = 27 is not 19 (version 1, a name of 6 bytes)"),
    bad("name length beyond the payload", hello_payload(2, name_len=20),
        "HELLO field length = 27 is not 41 (version 2, a name of 20 bytes)"),
    bad("no contexts", hello_payload(2, contexts=0), field("contexts", 0, 1, 65535)),
    bad("max ops 0 (empty frames forever)", hello_payload(2, max_ops=0), field("maxOps", 0, 1, 256)),
    bad("max ops 257", hello_payload(2, max_ops=257), field("maxOps", 257, 1, 256)),
    bad("MAX_PAYLOAD 4", hello_payload(2, max_payload=4), field("maxPayload", 4, MIN_MAX_PAYLOAD, 2304)),
    bad("MAX_PAYLOAD 12 (a one-delta run does not fit)", hello_payload(2, max_payload=12),
        field("maxPayload", 12, MIN_MAX_PAYLOAD, 2304)),
    bad("MAX_PAYLOAD 2305", hello_payload(2, max_payload=2305), field("maxPayload", 2305, MIN_MAX_PAYLOAD, 2304)),
    bad("MAX_PAYLOAD 65535", hello_payload(1, max_payload=65535), field("maxPayload", 65535, MIN_MAX_PAYLOAD, 2304)),
    bad("no groups", hello_payload(2, groups=0), field("groups", 0, 1, 3)),
    bad("an unknown group bit", hello_payload(2, groups=7), field("groups", 7, 1, 3)),
    bad("replay depth 1", hello_payload(2, replay=1), field("replayDepth", 1, 2, 255)),
    bad("a newline in the name", hello_payload(2, name=b"ab\ncd"),
        "HELLO field name byte 2 = 0x0a is not printable ASCII (0x20..0x7e)"),
    bad("a non-ASCII byte in the name", hello_payload(1, name=b"\xc3\xa9t\xc3\xa9"),
        "HELLO field name byte 0 = 0xc3 is not printable ASCII (0x20..0x7e)"),
    bad("DEL in the name", hello_payload(2, name=b"x\x7f"),
        "HELLO field name byte 1 = 0x7f is not printable ASCII (0x20..0x7e)"),
]


def good(label, payload, **info):
    version = payload[0]
    want = {"protocol": version, **HELLO_INFO, "session": None, "bootId": None}
    if version == 2:
        want.update(session=0, bootId=BOOT_ID)
    want.update(info)
    return {"name": label, "payload": payload.hex(), "info": want}


accepted_hello = [
    good("the smallest limits a host accepts", hello_payload(2, contexts=1, max_ops=1, max_payload=MIN_MAX_PAYLOAD,
                                                              groups=1, replay=2, name=b""),
         contexts=1, maxOps=1, maxPayload=MIN_MAX_PAYLOAD, groups=["xor"], replayDepth=2, name=""),
    good("the largest", hello_payload(2, session=0xFFFFFFFF, boot_id=0xFFFFFFFF, contexts=65535, groups=2, replay=255,
                                      name=b" ~" * 32),
         contexts=65535, groups=["add"], replayDepth=255, name=" ~" * 32, session=0xFFFFFFFF, bootId=0xFFFFFFFF),
    good("version 1: no session, no boot id", hello_payload(1)),
    good("version 2, boot id 0: a board that cannot tell its boots apart", hello_payload(2, session=7, boot_id=0),
         session=7, bootId=0),
]

# The result payloads as hex, for the host decoder tests.
for case in cases:
    for s in case["steps"]:
        r = s.get("response")
        if r and r["type"] == "result":
            r["payload"] = bytes.fromhex(s["expect"])[7:-4].hex()

doc = {
    "about": "Golden vectors for firmware/PROTOCOL.md; generated by firmware/tools/golden.py.",
    "device": {"contexts": CONTEXTS, "name": NAME, "bootId": BOOT_ID},
    "dialects": {
        "framed": "any device of the framed protocol, version 1 or 2",
        "framed-v2": "the C core (protocol version 2)",
        "framed-v1": "firmware/rtl (protocol version 1)",
        "legacy": "the official FPGA dialect",
    },
    "cases": cases,
    "hostileHello": hostile_hello,
    "acceptedHello": accepted_hello,
}
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "golden-vectors.json"), "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
