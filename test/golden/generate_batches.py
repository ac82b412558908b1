"""Writes batches.json: golden replication entries and snapshots, built from
the layout in lib/replicate/BATCH-FORMAT.md, independently of the C and JS
code. Run: python3 test/golden/generate_batches.py
"""
import json
import os
import struct

MASK = (1 << 64) - 1


def checksum(data):
    """Four-lane Fletcher sums over little-endian u32 words (the last padded
    with zero bytes), bytes 40..47 read as zero."""
    data = data[:40] + b"\0" * 8 + data[48:]
    data += b"\0" * (-len(data) % 4)
    a = [0, 0, 0, 0]
    b = [0, 0, 0, 0]
    for i, (w,) in enumerate(struct.iter_unpack("<I", data[: len(data) // 4 * 4])):
        a[i % 4] = (a[i % 4] + w) & 0xFFFFFFFF
        b[i % 4] = (b[i % 4] + a[i % 4]) & 0xFFFFFFFF
    low = sum(a) & 0xFFFFFFFF
    high = (b[0] + 3 * b[1] + 5 * b[2] + 7 * b[3]) & 0xFFFFFFFF
    return (high << 32) | low


def with_checksum(data):
    return data[:40] + struct.pack("<Q", checksum(data)) + data[48:]


def batch(group, partition, origin, first, last, indices, deltas):
    n = len(indices)
    head = b"AKDB" + struct.pack("<BBHIIQQQQ", 1, group, partition, n, 0, origin, first, last, 0)
    idx = struct.pack("<%dI" % n, *indices)
    idx += b"\0" * (-len(idx) % 8)
    return with_checksum(head + idx + struct.pack("<%dQ" % n, *deltas))


def varint(value):
    """LEB128: seven bits a byte, low first, the high bit set on all but the last."""
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def zigzag(word):
    """A u64 read as two's complement: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ..."""
    signed = word - (1 << 64) if word >> 63 else word
    return (signed << 1) & MASK if signed >= 0 else ((-signed << 1) - 1) & MASK


def compact(group, partition, origin, first, last, indices, deltas):
    """Version 2: indices strictly ascending as varint gaps, deltas as varints (zigzag in add)."""
    gaps = [indices[0]] + [b - a for a, b in zip(indices, indices[1:])] if indices else []
    assert all(g > 0 for g in gaps[1:])
    index_column = b"".join(varint(g) for g in gaps)
    delta_column = b"".join(varint(zigzag(d) if group == 1 else d) for d in deltas)
    head = b"AKDB" + struct.pack("<BBHIIQQQQ", 2, group, partition, len(indices), len(index_column), origin, first, last, 0)
    return with_checksum(head + index_column + delta_column)


def snapshot(group, partition, partitions, position, record, states):
    ms, seq = position
    head = b"AKSN" + struct.pack("<BBHIIQQIIQ", 1, group, partition, len(states), len(record), ms, seq, partitions, 0, 0)
    body = b"".join(struct.pack("<QQ", o, c) for o, c in record)
    return with_checksum(head + body + struct.pack("<%dQ" % len(states), *states))


def apply(group, size, entries):
    states = [0] * size
    for indices, deltas in entries:
        for i, d in zip(indices, deltas):
            states[i] = (states[i] + d) & MASK if group == 1 else states[i] ^ d
    return states


def main():
    cases = [
        ("xor, 3 updates, odd count (padded index column)", 0, 0, 7, 1, 1, [0, 5, 5], [0xFF, 0x0F, 0xF0]),
        ("add, decrement and wrap", 1, 0, 2**64 - 1, 41, 41, [1, 2], [MASK, 2**63 + 5]),
        ("add, partition 3, counter range", 1, 3, 12345678901234, 2**40, 2**40 + 2, [7, 0, 7, 3], [1, 2, 3, 4]),
        ("xor, empty", 0, 1, 9, 3, 3, [], []),
    ]
    out = {"batches": [], "snapshots": []}
    for name, group, partition, origin, first, last, indices, deltas in cases:
        size = 8
        out["batches"].append({
            "name": name, "group": ["xor", "add"][group], "partition": partition, "origin": str(origin),
            "first": str(first), "last": str(last), "indices": indices, "deltas": [str(d) for d in deltas],
            "hex": batch(group, partition, origin, first, last, indices, deltas).hex(),
            "size": size, "states": [str(s) for s in apply(group, size, [(indices, deltas)])],
        })
    # Compact entries: what encodeLogEntry writes by default when it is smaller.
    compact_cases = [
        ("compact add, +1 and -1, gaps of 1 and 200", 1, 0, 3, 1, 1, [0, 1, 201], [1, MASK, 1]),
        ("compact add, a large gap and extreme deltas", 1, 2, 2**63, 7, 9, [5, 70000, 70001], [2**63, 2**63 - 1, 64]),
        ("compact xor, small words, odd length", 0, 0, 1, 2, 2, [3, 4, 6, 7], [1, 0x7F, 0x80, 0x3FFF]),
        ("compact xor, index 2^32 - 2", 0, 65535, 4, 1, 1, [0, 2**32 - 2], [5, 6]),
    ]
    for name, group, partition, origin, first, last, indices, deltas in compact_cases:
        # A table just large enough, and the states of its touched contexts (all others stay 0);
        # an index past 2^20 is applied to none (a table of 8 refuses it).
        size = max(indices) + 1 if max(indices) < 2**20 else None
        states = apply(group, size, [(indices, deltas)]) if size else None
        out["batches"].append({
            "name": name, "group": ["xor", "add"][group], "partition": partition, "origin": str(origin),
            "first": str(first), "last": str(last), "indices": indices, "deltas": [str(d) for d in deltas],
            "hex": compact(group, partition, origin, first, last, indices, deltas).hex(),
            "size": size, "touched": [[i, str(states[i])] for i in indices] if states else None,
        })
    snaps = [
        ("add, two origins", 1, 0, 1, (1767225600123, 4), [(1, 17), (2**64 - 1, 3)], [5, 0, MASK, 2**63]),
        ("xor, partition 1 of 2, no origins", 0, 1, 2, (0, 0), [], [0xDEADBEEF, 1]),
    ]
    for name, group, partition, partitions, position, record, states in snaps:
        out["snapshots"].append({
            "name": name, "group": ["xor", "add"][group], "partition": partition, "partitions": partitions,
            "position": "%d-%d" % position, "record": [[str(o), str(c)] for o, c in record],
            "states": [str(s) for s in states], "hex": snapshot(group, partition, partitions, position, record, states).hex(),
        })
    path = os.path.join(os.path.dirname(__file__), "batches.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


main()
