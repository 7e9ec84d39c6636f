#' microscopes: fast Bayesian nonparametric mixture models
#'
#' Dirichlet process mixtures of beta-Bernoulli features, fitted by collapsed
#' Gibbs sampling with slice-sampled hyperparameters, run as parallel chains
#' in C threads.
#'
#' * One call: [dpmixture()] fits the model to a binary matrix and returns a
#'   fit with its kept posterior draws, read with `print()`, `summary()`,
#'   [point_partition()], `predict()`, `plot()`, [partition_draws()] and
#'   [log_lik()]; see `vignette("microscopes")`.
#' * Step by step, as in the Python library datamicroscopes:
#'   [dataview()], [model_definition()], [initialize_state()],
#'   [default_kernel_config()], [runner()], [parallel_runner()], [run()],
#'   [get_latents()] and [posterior_predictive_statistic()].
#'
#' Errors about arguments are conditions of class
#' `microscopes_error_argument` (and `microscopes_error`), so they can be
#' caught by class with [tryCatch()].
#'
#' @section Options:
#' * `microscopes.threads`: threads for [run()] and queries (see
#'   [microscopes_threads()]).
#' * `microscopes.progress`: show a progress bar during long runs (default:
#'   only in interactive sessions).
#'
#' @useDynLib microscopes, .registration = TRUE, .fixes = "C_"
#' @importFrom cli cli_progress_bar
"_PACKAGE"
