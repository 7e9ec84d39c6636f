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
gcc -std=c99 $flags -Wall -Wextra -D_GNU_SOURCE -o "$out" "$here/bbnc_selftest.c" \
  "$src/block.c" "$src/block_util.c" "$src/block_dd.c" "$src/block_gp.c" \
  "$src/block_bnb.c" "$src/block_nich.c" "$src/block_bbnc.c" "$src/block_bbnc_aux.c" \
  "$src/rng.c" "$src/rng_dist.c" "$src/log_gamma.c" "$src/alloc.c" "$src/block_bb.c" \
  "$src/block_bb_score.c" "$src/block_bb_update.c" "$src/block_bb_check.c" \
  "$src/block_bb_predictive.c" "$src/data.c" "$src/log_sum.c" "$src/score.c" -lm
"$out"
