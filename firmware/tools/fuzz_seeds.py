"""Seeds the fuzzer's corpus with the golden exchanges (valid frames reach
far deeper into the device than random bytes, which rarely pass a CRC-32).
Each seed is: dialect/contexts byte, chunking byte, then the bytes a case sends.
Usage: python3 tools/fuzz_seeds.py <golden-vectors.json> <corpus dir>"""
import json
import os
import sys

doc = json.load(open(sys.argv[1]))
os.makedirs(sys.argv[2], exist_ok=True)
for i, case in enumerate(doc["cases"]):
    sent = b"".join(bytes.fromhex(s["send"]) for s in case["steps"])
    legacy = case["dialect"] == "legacy"
    for chunk in (0, 7, 63):
        head = bytes([(15 << 1) | (1 if legacy else 0), chunk])  # 16 contexts when framed
        with open(os.path.join(sys.argv[2], f"golden-{i}-{chunk}"), "wb") as f:
            f.write(head + sent)
