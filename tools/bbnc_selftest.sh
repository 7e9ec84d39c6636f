#!/bin/sh
# Builds and runs the bbnc block's standalone self-test
# (tools/bbnc_selftest.c) against the package's pure C sources.
# Usage: tools/bbnc_selftest.sh [--sanitize]   (ASan + UBSan)
set -e
flags="-O2"
[ "${1:-}" = "--sanitize" ] && flags="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined"
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../src"
out="${TMPDIR:-/tmp}/bbnc_selftest"
. "$here/block_sources.sh"
gcc -std=c99 $flags -Wall -Wextra -D_GNU_SOURCE -o "$out" "$here/bbnc_selftest.c" \
  $(block_sources "$src") -lm
"$out"
