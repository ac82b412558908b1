#!/usr/bin/env bash
# Runs the C context tests, then builds the addon with AddressSanitizer +
# UndefinedBehaviorSanitizer (in build-asan/, leaving the normal build alone)
# and runs the addon's vitest suites against it. Any finding aborts the
# process, which fails the run.
set -euo pipefail
cd "$(dirname "$0")/../.."

rm -rf build-asan
mkdir -p build-asan
${CC:-gcc} -std=c99 -g -O1 -Wall -Wextra -fsanitize=address,undefined -fno-sanitize-recover=all \
  -Inative -o build-asan/core-test test/native/core_test.c native/atomik.c
./build-asan/core-test
cp -r binding.gyp native build-asan/
(cd build-asan && ATOMIK_SANITIZE=1 npx --no-install node-gyp rebuild --debug >/dev/null)
addon="$PWD/build-asan/build/Debug/atomik.node"

# ASan must be the first runtime loaded into node, which is not built with it.
asan_runtime=$(${CC:-gcc} -print-file-name=libasan.so)
[ -f "$asan_runtime" ] || { echo "libasan not found (looked for $asan_runtime)" >&2; exit 1; }

echo "sanitizer build: $addon"
# The suites that drive the addon; the serial ones spawn compilers, QEMU and
# socat, which must not run with the ASan runtime preloaded.
if [ $# -eq 0 ]; then
  set -- test/core/conformance.test.ts test/core/properties.test.ts test/core/errors.test.ts test/native/binding.test.ts test/core/hostile-input.test.ts \
    test/core/golden.test.ts test/native/loader.test.ts test/core/exactly-once.test.ts test/core/forged-input.test.ts \
    test/replicate/replication-format.test.ts
fi
# Node keeps some allocations until exit on purpose: leak reports would be noise.
ATOMIK_NATIVE_PATH="$addon" ATOMIK_REQUIRE_NATIVE=1 \
  LD_PRELOAD="$asan_runtime" \
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  npx --no-install vitest run "$@"
