#!/usr/bin/env bash
# House style. `lint.sh` checks (npm run lint) and fails on any violation;
# `lint.sh --write` applies it (npm run format): Prettier and ESLint for the
# TypeScript and JavaScript, clang-format for the C and C++ sources. Both
# also check the layering of lib/ (scripts/layers.ts: no import cycle, no
# import against the layers), which only a code change can fix.
set -euo pipefail
cd "$(dirname "$0")/.."
write=0
[ "${1:-}" = --write ] && write=1

if ! command -v clang-format >/dev/null; then
  echo "clang-format is not installed (Debian: apt-get install clang-format)" >&2
  exit 1
fi

# The project's own C and C++ (tracked or new); Verilog is not listed, generated sections are fenced with clang-format off.
mapfile -t c_sources < <(git ls-files --cached --others --exclude-standard -- \
  'native/*.c' 'native/*.h' 'native/*.cc' 'firmware/*.c' 'firmware/*.h' 'firmware/*.cpp' \
  'bench/native/*.c' 'bench/native/*.h' 'bench/native/*.cc' 'test/native/*.c' | sort -u)
scripts='**/*.{ts,mts,cts,js,mjs,cjs}'

status=0
if ((write)); then
  npx eslint --fix . || status=1
  npx prettier --write --log-level warn "$scripts"
  clang-format -i "${c_sources[@]}"
else
  npx prettier --check --log-level warn "$scripts" || { echo "prettier: run npm run format" >&2; status=1; }
  npx eslint . || status=1
  clang-format --dry-run -Werror "${c_sources[@]}" || { echo "clang-format: run npm run format" >&2; status=1; }
fi
npx vite-node scripts/layers.ts --check || status=1
exit $status
