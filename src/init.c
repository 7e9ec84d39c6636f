/* Registration of the .Call entry points (Writing R Extensions 5.4). */
#include <R_ext/Rdynload.h>
#include "r_glue.h"

SEXP C_pack_data(SEXP Y, SEXP arg_name);
SEXP C_group_counts(SEXP view, SEXP assignment);
SEXP C_runner_new(SEXP view, SEXP assignment, SEXP alpha, SEXP hps,
                  SEXP kernel_config, SEXP checkpoint, SEXP n_fixed_groups);
SEXP C_runner_stream(SEXP ptr);
SEXP C_fresh_stream(void);
SEXP C_runners_run(SEXP pointers, SEXP niters, SEXP threads, SEXP progress);
SEXP C_runner_latent(SEXP ptr);
SEXP C_runner_block_stats(SEXP ptr);
SEXP C_kinds_have_group_ops(SEXP kinds);
SEXP C_runner_set_stats(SEXP ptr, SEXP slots, SEXP stats);
SEXP C_runner_latent_cells(SEXP ptr);
SEXP C_runner_set_latent_cells(SEXP ptr, SEXP cells);
SEXP C_runner_test_wrong_latent(SEXP ptr);
SEXP C_runner_trace(SEXP ptr);
SEXP C_runner_alive(SEXP ptr);
SEXP C_runner_iteration(SEXP ptr);
SEXP C_score_crp(SEXP sizes, SEXP n, SEXP alpha);
SEXP C_score_partition(SEXP sizes, SEXP n, SEXP alpha, SEXP groups);
SEXP C_sample_crp(SEXP n_rows, SEXP concentration);
SEXP C_score_features(SEXP heads, SEXP tails, SEXP hps);
SEXP C_score_stats(SEXP kind, SEXP hps, SEXP stats, SEXP sizes, SEXP n_levels,
                   SEXP parameter);
SEXP C_query_predictive(SEXP x, SEXP states, SEXP kind, SEXP draw_state,
                        SEXP state_weight, SEXP threads);
SEXP C_query_zmatrix(SEXP labels, SEXP weights, SEXP threads);
/* r_query_blocks.c: queries on mixed states */
SEXP C_query_mixed(SEXP x, SEXP kinds, SEXP n_levels, SEXP parameter,
                   SEXP states, SEXP mode, SEXP draw_state, SEXP weights,
                   SEXP threads);
SEXP C_query_ls_loss(SEXP labels, SEXP weights);
SEXP C_test_fail_alloc(SEXP k);
SEXP C_test_log_rising_sums(SEXP x, SEXP counts);
/* r_fit.c: the front end */
SEXP C_runner_record(SEXP ptr, SEXP iteration, SEXP warmup, SEXP thin,
                     SEXP expected);
SEXP C_runner_take_draws(SEXP ptr);
SEXP C_runner_drop_recorder(SEXP ptr);
SEXP C_draws_labels(SEXP labels, SEXP n_rows, SEXP label_bytes);
SEXP C_draws_pack(SEXP matrix, SEXP label_bytes);
SEXP C_draws_log_lik_blocks(SEXP blocks, SEXP block_hps, SEXP labels,
                            SEXP label_bytes, SEXP hps, SEXP threads);
SEXP C_draws_log_lik(SEXP view, SEXP labels, SEXP label_bytes, SEXP hps,
                     SEXP threads);
SEXP C_partition_search(SEXP labels, SEXP n_rows, SEXP label_bytes,
                        SEXP weights, SEXP loss, SEXP runs, SEXP draw_starts,
                        SEXP max_sweeps, SEXP seed, SEXP threads);
SEXP C_partition_losses(SEXP labels, SEXP n_rows, SEXP label_bytes,
                        SEXP partition, SEXP loss);

static const R_CallMethodDef call_methods[] = {
    {"pack_data", (DL_FUNC)&C_pack_data, 2},
    {"group_counts", (DL_FUNC)&C_group_counts, 2},
    {"runner_new", (DL_FUNC)&C_runner_new, 7},
    {"runner_stream", (DL_FUNC)&C_runner_stream, 1},
    {"fresh_stream", (DL_FUNC)&C_fresh_stream, 0},
    {"runners_run", (DL_FUNC)&C_runners_run, 4},
    {"runner_latent", (DL_FUNC)&C_runner_latent, 1},
    {"runner_block_stats", (DL_FUNC)&C_runner_block_stats, 1},
    {"kinds_have_group_ops", (DL_FUNC)&C_kinds_have_group_ops, 1},
    {"runner_set_stats", (DL_FUNC)&C_runner_set_stats, 3},
    {"runner_latent_cells", (DL_FUNC)&C_runner_latent_cells, 1},
    {"runner_set_latent_cells", (DL_FUNC)&C_runner_set_latent_cells, 2},
    {"runner_test_wrong_latent", (DL_FUNC)&C_runner_test_wrong_latent, 1},
    {"runner_trace", (DL_FUNC)&C_runner_trace, 1},
    {"runner_alive", (DL_FUNC)&C_runner_alive, 1},
    {"runner_iteration", (DL_FUNC)&C_runner_iteration, 1},
    {"score_crp", (DL_FUNC)&C_score_crp, 3},
    {"score_partition", (DL_FUNC)&C_score_partition, 4},
    {"sample_crp", (DL_FUNC)&C_sample_crp, 2},
    {"score_features", (DL_FUNC)&C_score_features, 3},
    {"score_stats", (DL_FUNC)&C_score_stats, 6},
    {"query_predictive", (DL_FUNC)&C_query_predictive, 6},
    {"query_zmatrix", (DL_FUNC)&C_query_zmatrix, 3},
    {"query_mixed", (DL_FUNC)&C_query_mixed, 9},
    {"query_ls_loss", (DL_FUNC)&C_query_ls_loss, 2},
    {"test_fail_alloc", (DL_FUNC)&C_test_fail_alloc, 1},
    {"test_log_rising_sums", (DL_FUNC)&C_test_log_rising_sums, 2},
    {"runner_record", (DL_FUNC)&C_runner_record, 5},
    {"runner_take_draws", (DL_FUNC)&C_runner_take_draws, 1},
    {"runner_drop_recorder", (DL_FUNC)&C_runner_drop_recorder, 1},
    {"draws_labels", (DL_FUNC)&C_draws_labels, 3},
    {"draws_pack", (DL_FUNC)&C_draws_pack, 2},
    {"draws_log_lik", (DL_FUNC)&C_draws_log_lik, 5},
    {"draws_log_lik_blocks", (DL_FUNC)&C_draws_log_lik_blocks, 6},
    {"partition_search", (DL_FUNC)&C_partition_search, 10},
    {"partition_losses", (DL_FUNC)&C_partition_losses, 5},
    {NULL, NULL, 0}
};

void R_init_microscopes(DllInfo *dll) {
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}
