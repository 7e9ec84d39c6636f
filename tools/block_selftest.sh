#!/bin/sh
# Builds and runs the feature blocks' standalone self-test
# (tools/block_selftest.c) against the package's pure C sources.
# Usage: tools/block_selftest.sh [--no-bench] [--sanitize]
#   --sanitize: build with ASan + UBSan (no benchmark).
set -e
flags="-O2"
args=""
for a in "$@"; do
  case "$a" in
    --sanitize) flags="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined"; args="$args --no-bench" ;;
    *) args="$args $a" ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../src"
out="${TMPDIR:-/tmp}/block_selftest"
. "$here/block_sources.sh"
gcc -std=c99 $flags -Wall -Wextra -D_GNU_SOURCE -o "$out" "$here/block_selftest.c" \
  $(block_sources "$src") -lm
"$out" $args
