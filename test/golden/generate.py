"""Writes reference.json: golden values computed from the reference package's
definitions (atomik-core): the 16-byte DeltaMessage wire form (big-endian
u32 addr, u64 delta, u32 seq) and the Fingerprint XOR-fold (little-endian
8-byte chunks, last one zero-padded), plus our position-aware fold as
specified in native/atomik.h, computed independently of the C and JS code. Run: python3 test/golden/generate.py
"""
import json
import os
import struct

MASK = (1 << 64) - 1


def wire(addr, delta, seq):
    return struct.pack(">IQI", addr, delta, seq)


def fold(data):
    acc = 0
    for i in range(0, len(data), 8):
        acc ^= int.from_bytes(data[i:i + 8].ljust(8, b"\0"), "little")
    return acc


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def positional(data):
    """Our position-aware fold, as specified in native/atomik.h."""
    acc = mix64(len(data) ^ 0xA0761D6478BD642F)
    for i in range(0, len(data), 8):
        chunk = int.from_bytes(data[i:i + 8].ljust(8, b"\0"), "little")
        key = ((i // 8 + 1) * 0x9E3779B97F4A7C15) & MASK
        acc ^= mix64(chunk ^ key)
    return acc


messages = [
    (0, 0, 0),
    (1, 0xDEADBEEF, 7),
    (0xFFFFFFFF, MASK, 0xFFFFFFFF),
    (0x01020304, 0x1122334455667788, 0x0A0B0C0D),
    (255, 1 << 63, 1),
]
buffers = [
    b"",
    b"a",
    b"abcdefgh",
    b"abcdefghij",
    b"The quick brown fox jumps over the lazy dog",
    bytes(range(256)),
    bytes(1000),
]
out = {
    "messages": [
        {"addr": a, "delta": str(d), "seq": s, "hex": wire(a, d, s).hex()}
        for a, d, s in messages
    ],
    "xorFold": [{"hex": b.hex(), "value": str(fold(b))} for b in buffers],
    "positional": [{"hex": b.hex(), "value": str(positional(b))} for b in buffers],
}
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "reference.json"), "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
