#!/usr/bin/env bash
# Fuzzes the replication entry decoders (native/batch.c, both versions)
# with libFuzzer + ASan + UBSan for FUZZ_SECONDS (default 60), starting
# from the golden entries. Needs clang.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build-fuzz
rm -rf "$out"
mkdir -p "$out/corpus"
clang -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Wall -Wextra -Werror -Inative \
  -o "$out/fuzz-batch" test/native/fuzz_batch.c native/batch.c native/atomik.c
# Each golden entry, with a last byte that picks the table's size.
python3 - "$out/corpus" <<'PY'
import json, sys
for i, b in enumerate(json.load(open("test/golden/batches.json"))["batches"]):
    open("%s/golden-%d" % (sys.argv[1], i), "wb").write(bytes.fromhex(b["hex"]) + b"\x08")
PY
"./$out/fuzz-batch" -max_total_time="${FUZZ_SECONDS:-60}" -print_final_stats=1 "$out/corpus"
