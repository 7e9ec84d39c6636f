#' microscopes: fast Bayesian nonparametric mixture models
#'
#' Dirichlet process mixtures of beta-Bernoulli features, fitted by collapsed
#' Gibbs sampling with slice-sampled hyperparameters, run as parallel chains
#' in C threads. The workflow follows the Python library datamicroscopes:
#' [dataview()], [model_definition()], [initialize_state()],
#' [default_kernel_config()], [runner()], [parallel_runner()], [run()],
#' [get_latents()] and [posterior_predictive_statistic()].
#'
#' @section Options:
#' * `microscopes.threads`: threads for [run()] and queries (see
#'   [microscopes_threads()]).
#' * `microscopes.progress`: show a progress bar during long runs (default:
#'   only in interactive sessions).
#'
#' @keywords internal
#' @useDynLib microscopes, .registration = TRUE, .fixes = "C_"
#' @importFrom cli cli_progress_bar
"_PACKAGE"
