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
gcc -std=c99 $flags -Wall -Wextra -D_GNU_SOURCE -o "$out" "$here/block_selftest.c" \
  "$src/block.c" "$src/block_util.c" "$src/block_dd.c" "$src/block_gp.c" \
  "$src/block_bnb.c" "$src/block_nich.c" "$src/block_bbnc.c" "$src/block_bbnc_aux.c" "$src/kernels_block_hp.c" \
  "$src/slice.c" "$src/rng.c" "$src/rng_dist.c" "$src/log_gamma.c" \
  "$src/alloc.c" "$src/block_bb.c" "$src/block_bb_score.c" "$src/block_bb_update.c" \
  "$src/block_bb_check.c" "$src/block_bb_predictive.c" "$src/data.c" "$src/log_sum.c" "$src/score.c" -lm
"$out" $args
