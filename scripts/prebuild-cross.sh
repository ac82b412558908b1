#!/usr/bin/env bash
# Cross-builds the addon for 64-bit ARM Linux (prebuilds/linux-arm64) and
# 32-bit ARMv7 Linux (prebuilds/linux-arm, tagged armv7 so an ARMv6 board
# falls back to the js engine instead of loading code it cannot run), next to
# the linux-x64 one from `npm run prebuild`. Builds in a scratch copy, because
# prebuildify's `node-gyp rebuild` would wipe build/. Needs Debian's
# g++-aarch64-linux-gnu and g++-arm-linux-gnueabihf, and `file`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Node's own headers when they are installed (no download); node-gyp fetches them otherwise.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ]; then export npm_config_nodedir=/usr; fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r package.json binding.gyp native "$scratch/"
ln -s "$root/node_modules" "$scratch/node_modules"

# build ARCH TRIPLE FILE MACHINE [prebuildify flags]: MACHINE is what `file` must say.
build() {
  local arch=$1 triple=$2 name=$3 machine=$4
  shift 4
  command -v "$triple-g++" >/dev/null || {
    echo "$triple-g++ not found: install g++-$triple (Debian) to cross-build linux-$arch" >&2
    exit 1
  }
  local out="prebuilds/linux-$arch/$name"
  rm -f "$out"
  echo "linux-$arch: building with $triple-g++"
  # Without the cross CC/CXX node-gyp silently builds for the host: the check below catches that.
  CC="$triple-gcc" CXX="$triple-g++" LINK="$triple-g++" AR="$triple-ar" \
    npx --no-install prebuildify --napi --strip --strip-bin "$triple-strip" --arch "$arch" "$@" \
    --cwd "$scratch" --out "$root" >"$scratch/build-$arch.log" 2>&1 || {
    cat "$scratch/build-$arch.log" >&2
    exit 1
  }
  [ -f "$out" ] || { echo "linux-$arch: prebuildify wrote no $out" >&2; exit 1; }
  local kind
  kind=$(file -b "$out")
  case "$kind" in
    "ELF "*" shared object, $machine"*) echo "  $out: ${kind%%, BuildID*}" ;;
    *)
      echo "linux-$arch: expected a $machine shared object, got $out: $kind" >&2
      rm -f "$out"
      exit 1
      ;;
  esac
}

build arm64 aarch64-linux-gnu atomik-node.glibc.node "ARM aarch64" --tag-libc=glibc
build arm arm-linux-gnueabihf atomik-node.armv7.glibc.node "ARM, EABI5" --tag-armv=7 --tag-libc=glibc
