# Sourced by the blocks' standalone self-tests (tools/*_selftest.sh): the
# package's pure C sources they link. block.c's table of kinds refers to
# every kind, so every block self-test links every block; a new kind's
# files go here, once.
block_sources() {
  s=$1
  for f in block block_util block_dd block_gp block_bnb block_nich \
    block_niw block_niw_linalg block_niw_score block_niw_predictive block_niw_hp block_niw_check block_niw_latent \
    block_dm block_bbnc block_bbnc_aux \
    block_bb block_bb_score block_bb_update block_bb_check block_bb_predictive \
    kernels_block_hp slice rng rng_dist log_gamma alloc data log_sum score; do
    printf '%s/%s.c ' "$s" "$f"
  done
}
