#' Run chains on a cluster of R processes
#'
#' Runs `nchains` independent chains on the nodes of a `parallel` cluster
#' (PSOCK, FORK or any [parallel::makeCluster()] type; one or more chains per
#' node), for data too large or chains too many for one machine. Chain `j`
#' gets its own L'Ecuyer-CMRG random stream, derived from R's random number
#' generator on the calling side, so `set.seed()` makes the result
#' reproducible whatever the number of nodes. Each node must have
#' microscopes installed.
#'
#' @param cl A cluster from [parallel::makeCluster()].
#' @param defn A model definition from [model_definition()].
#' @param view A [dataview()] or a binary matrix.
#' @param nchains Number of chains.
#' @param niters Iterations per chain.
#' @param kernel_config A kernel configuration; default
#'   [default_kernel_config()].
#' @param latents `NULL` to start each chain from [initialize_state()] (drawn
#'   on the node, from the chain's stream), or a list of `nchains` states to
#'   resume from. States from [get_latent()] (or from an earlier call) carry
#'   their chain's random stream, so the chains go on exactly where they
#'   stopped; states that share a stream are refused (see [reseed()]).
#' @return A list of `nchains` latent states, as [get_latents()] returns.
#'   The chains' traces are attached as attribute `"trace"` (a data frame
#'   like [chain_trace()]'s).
#' @examples
#' \donttest{
#' cl <- parallel::makeCluster(2)
#' Y <- matrix(runif(60 * 8) < 0.3, 60, 8)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' set.seed(1)
#' states <- run_chains_cluster(cl, defn, Y, nchains = 2, niters = 5)
#' parallel::stopCluster(cl)
#' sapply(states, n_groups)
#' }
#' @export
run_chains_cluster <- function(cl, defn, view, nchains, niters,
                               kernel_config = default_kernel_config(defn),
                               latents = NULL) {
  if (!inherits(cl, "cluster")) {
    abort_arg("cl", sprintf("must be a cluster from `parallel::makeCluster()`, not %s.",
                            describe_type(cl)))
  }
  check_definition(defn)
  view <- as_dataview(view)
  check_view_fits(view, defn)
  nchains <- check_whole_number(nchains, "nchains", min = 1)
  niters <- check_whole_number(niters, "niters", min = 0)
  check_kernel_config(kernel_config, defn$D)
  if (!is.null(latents)) {
    if (!is.list(latents) || length(latents) != nchains || !all(vapply(latents, is_state, logical(1)))) {
      abort_arg("latents", sprintf("must be NULL or a list of %d latent states.", nchains))
    }
    check_distinct_streams(lapply(latents, `[[`, "rng"), "latents")
  }
  seeds <- chain_streams(nchains)
  tasks <- lapply(seq_len(nchains), function(j) {
    list(chain = j, seed = seeds[[j]], latent = latents[[j]])
  })
  results <- parallel::clusterApplyLB(cl, tasks, run_chain_on_node, defn = defn,
                                      view = view, kernel_config = kernel_config,
                                      niters = niters)
  states <- lapply(results, `[[`, "state")
  trace <- do.call(rbind, lapply(results, `[[`, "trace"))
  attr(states, "trace") <- trace
  states
}

# One L'Ecuyer-CMRG stream per chain (as parallel::clusterSetRNGStream does
# per node), started from a seed drawn from the caller's generator, which is
# left as it was apart from that one draw.
chain_streams <- function(nchains) {
  iseed <- sample.int(.Machine$integer.max, 1L)
  old_kind <- RNGkind()[1]
  had_seed <- exists(".Random.seed", envir = globalenv(), inherits = FALSE)
  old_seed <- if (had_seed) get(".Random.seed", envir = globalenv())
  on.exit({
    RNGkind(old_kind)
    if (had_seed) assign(".Random.seed", old_seed, envir = globalenv())
  })
  RNGkind("L'Ecuyer-CMRG")
  set.seed(iseed)
  seed <- get(".Random.seed", envir = globalenv())
  streams <- vector("list", nchains)
  for (j in seq_len(nchains)) {
    streams[[j]] <- seed
    seed <- parallel::nextRNGStream(seed)
  }
  streams
}

# Runs on a node: everything it needs comes in its arguments.
run_chain_on_node <- function(task, defn, view, kernel_config, niters) {
  if (!requireNamespace("microscopes", quietly = TRUE)) {
    stop("microscopes is not installed on this cluster node.", call. = FALSE)
  }
  RNGkind("L'Ecuyer-CMRG")
  assign(".Random.seed", task$seed, envir = globalenv())
  latent <- task$latent
  if (is.null(latent)) latent <- microscopes::initialize_state(defn, view)
  r <- microscopes::runner(defn, view, latent, kernel_config)
  microscopes::run(r, niters)
  trace <- microscopes::chain_trace(r)
  if (nrow(trace) > 0) trace$chain <- task$chain
  list(state = microscopes::get_latent(r), trace = trace)
}
