"""Writes batches.json: golden replication entries and snapshots, built from
the layout in lib/replicate/BATCH-FORMAT.md, independently of the C and JS
code. Run: python3 test/golden/generate_batches.py
"""
import json
import os
import struct

MASK = (1 << 64) - 1


def checksum(data):
    """Four-lane Fletcher sums over little-endian u32 words, bytes 40..47 read as zero."""
    data = data[:40] + b"\0" * 8 + data[48:]
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
