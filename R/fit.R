# The front end: one call from a data matrix to a fit that holds the chains
# and their kept posterior draws (mclust's Mclust() over its me*/em*
# functions; brms over Stan). Everything here is built from the low-level
# datamicroscopes-style API (dataview, model_definition, kernels, states,
# runners), which stays as it is.

#' Fit a Dirichlet process mixture in one call
#'
#' Builds the low-level objects ([dataview()], [model_definition()],
#' [default_kernel_config()], one [initialize_state()] and [runner()] per
#' chain, [parallel_runner()]), runs the chains and keeps their post-warmup
#' draws. The draws are recorded in C while the chains run (no R loop over
#' iterations): per kept draw, the partition (labels 1, 2, ... by first
#' appearance, stored in 16 bits per row when there are at most 65,536 rows,
#' else 32), the number of groups K, the CRP concentration alpha, the log
#' joint probability and every feature's hyperparameters (the beta
#' hyperparameters of a binary matrix; for a data frame every model's, see
#' [as.data.frame()][as.data.frame.microscopes_fit]).
#'
#' @section Iterations, warmup and thinning:
#' As in rstan and brms, `iter` counts every iteration of a chain, warmup
#' included: iterations `warmup + 1, warmup + 1 + thin, ...` up to `iter`
#' are kept, `floor((iter - warmup - 1) / thin) + 1` draws per chain.
#' [update()][update.microscopes_fit] continues the same chains; the draws
#' of `dpmixture(iter = 1000, warmup = 500)` followed by
#' `update(fit, iter = 500)` are those of
#' `dpmixture(iter = 1500, warmup = 500)` with the same seed, bit for bit
#' (the warmup must be given: its default follows `iter`).
#'
#' @section Memory:
#' A kept draw takes `2 n + 16 D + 24` bytes (`4 n + ...` above 65,536 rows):
#' 1,000 kept draws of the 14,131 MNIST 2s and 3s with 784 features take
#' about 41 MB, over all chains. For a data frame the `16 D` is 8 bytes
#' per hyperparameter: 2 for a binary column, k for a factor of k levels, 2
#' for a count, 4 for a real-valued column.
#'
#' @section Random numbers:
#' Chain `j` is made (its starting partition drawn and its sampler's stream
#' seeded) from the `j`-th of a sequence of L'Ecuyer-CMRG streams derived
#' from `seed`, or from R's random number generator when `seed = NULL` (so
#' `set.seed()` works as usual). The draws do not depend on the number of
#' threads, nor on whether the chains run here or on a `cluster`.
#'
#' @param data A logical or 0/1 matrix (rows are entities, columns binary
#'   features, `NA` for a missing entry), a data frame (one feature per
#'   column, of any type the [models] take, `NA` for a missing cell), or a
#'   [dataview()].
#' @param models `NULL` for the default: every column beta-Bernoulli for a
#'   binary matrix, [default_models()] for a data frame (which says what it
#'   chose unless `quiet = TRUE`); or a list of one model per column (see
#'   [models]), as [model_definition()] takes it.
#' @param chains Number of chains.
#' @param iter Iterations per chain, warmup included.
#' @param warmup Iterations per chain that are not kept (`0 <= warmup <
#'   iter`).
#' @param thin Keep every `thin`-th iteration after the warmup.
#' @param kernels A kernel configuration; `NULL` for [default_kernel_config()].
#' @param threads Number of threads; `NULL` for [microscopes_threads()].
#' @param init `NULL` to start each chain from a CRP draw; a latent state to
#'   start every chain from; or a list of `chains` states. A state given
#'   here is a starting point: each chain gets a fresh random stream
#'   ([reseed()]) from its own seed. To continue chains exactly, use
#'   [update()].
#' @param seed `NULL`, or a whole number that makes the fit reproducible
#'   without touching the session's random number generator.
#' @param progress Show a progress bar.
#' @param K `NULL` for a Dirichlet process mixture; a whole number >= 1
#'   for a finite mixture of at most `K` groups with Dirichlet(alpha/K,
#'   ..., alpha/K) weights ([fixed_model_definition()]; alpha is then the
#'   total concentration), sampled by [default_kernel_config()]'s
#'   `assign_fixed` kernel.
#' @param cluster `NULL` to run the chains here in C threads; a cluster from
#'   [parallel::makeCluster()] to run one chain per task on its nodes (each
#'   node needs microscopes installed); or `"future"` to run them with
#'   `future.apply::future_lapply()` on the current [future::plan()]. The
#'   draws are those of a local run with the same seed. A fit made on a
#'   cluster holds no runners: [update()][update.microscopes_fit] rebuilds
#'   them here from the final states.
#' @param quiet `TRUE` hides [default_models()]' message.
#' @return A `microscopes_fit`: a list with the data view `data`, the model
#'   definition `defn`, the kernel configuration `kernel_config`, the
#'   runners `runners` (a [parallel_runner()]), the final `states`, the kept
#'   `draws` (one list per chain) and the settings. Read it with
#'   [partition_draws()], [as.data.frame()][as.data.frame.microscopes_fit],
#'   [point_partition()], [summary()][summary.microscopes_fit],
#'   [predict()][predict.microscopes_fit], [plot()][plot.microscopes_fit] and
#'   [log_lik()].
#' @seealso [update.microscopes_fit()] to run longer.
#' @examples
#' data(house_votes)
#' fit <- dpmixture(house_votes, chains = 2, iter = 100, seed = 1)
#' fit
#' # A finite mixture of (at most) 3 latent classes:
#' fit3 <- dpmixture(house_votes, chains = 2, iter = 100, seed = 1, K = 3)
#' fit3
#' # A data frame of mixed column types (logical, factor, counts, numbers):
#' sprays <- transform(InsectSprays, count = as.integer(count))
#' fit_df <- dpmixture(sprays, chains = 2, iter = 60, seed = 1, quiet = TRUE)
#' fit_df
#' @export
dpmixture <- function(data, models = NULL, chains = 4, iter = 1000,
                      warmup = floor(iter / 2), thin = 1, kernels = NULL,
                      threads = NULL, init = NULL, seed = NULL,
                      progress = interactive(), cluster = NULL, K = NULL,
                      quiet = FALSE) {
  call <- sys.call()
  view <- if (is.data.frame(data)) dataview_for_arg(data, "data", call = call) else
    as_dataview(data, arg = "data", call = call)
  chains <- check_whole_number(chains, "chains", min = 1, call = call)
  iter <- check_whole_number(iter, "iter", min = 1, call = call)
  warmup <- check_whole_number(warmup, "warmup", min = 0, max = iter - 1, call = call)
  thin <- check_whole_number(thin, "thin", min = 1, call = call)
  progress <- check_flag(progress, "progress", call = call)
  if (!is.null(threads)) threads <- check_whole_number(threads, "threads", min = 1, call = call)
  quiet <- check_flag(quiet, "quiet", call = call)
  models <- fit_models(view, models, quiet, call = call)
  defn <- with_call(model_definition(view, models), call)
  # A data frame of binary columns only runs on today's all-bb path: its
  # columns packed as a binary view (TRUE, 1 or a factor's second level).
  if (!defn_is_mixed(defn)) view <- bb_view(view, defn, call = call)
  if (!is.null(K)) {
    K <- check_whole_number(K, "K", min = 1, call = call)
    defn <- with_call(fixed_model_definition(view$n, K, models), call)
  }
  if (is.null(kernels)) kernels <- default_kernel_config(defn)
  check_kernel_config(kernels, defn$D, call = call)
  check_kernels_fit_definition(kernels, defn, arg = "kernels", call = call)
  init <- fit_inits(init, chains, defn, call = call)
  cluster <- fit_cluster(cluster, call = call)

  if (!is.null(seed)) {
    seed <- check_whole_number(seed, "seed", min = -.Machine$integer.max, call = call)
    restore <- preserve_rng()
    on.exit(restore(), add = TRUE)
    set.seed(seed)
  }
  streams <- chain_streams(chains)

  fit <- structure(list(
    call = call, data = view, defn = defn, kernel_config = kernels,
    chains = chains, warmup = warmup, thin = thin, threads = threads,
    iterations = integer(chains), runners = NULL, states = NULL,
    draws = rep(list(NULL), chains), seconds = 0, cluster = !is.null(cluster),
    cache = new.env(parent = emptyenv())),
    class = "microscopes_fit")

  if (is.null(cluster)) {
    runners <- lapply(seq_len(chains), function(j) {
      with_stream(streams[[j]], {
        # A given start is a starting point, not a checkpoint to resume:
        # each chain takes a fresh stream from its own stream, so chains
        # started from one state are still distinct chains.
        latent <- init[[j]]
        latent <- if (is.null(latent)) initialize_state(defn, view) else reseed(latent)
        runner(defn, view, latent, kernels)
      })
    })
    fit$runners <- parallel_runner(runners, threads = threads)
    fit_run(fit, iter, progress = progress)
  } else {
    fit_run_cluster(fit, cluster, streams, init, iter)
  }
}

# The models of a fit: every column beta-Bernoulli for a binary matrix
# (today's fits), default_models() for a data frame, or the user's list.
fit_models <- function(view, models, quiet, call) {
  if (!is.null(models)) return(models)
  if (!identical(view$source, "data.frame")) return(rep(list(beta_bernoulli()), view$D))
  default_models(view, quiet = quiet)
}

# Evaluates `expr`, giving its argument errors the caller's call.
with_call <- function(expr, call) {
  tryCatch(expr, microscopes_error_argument = function(e) {
    e$call <- call
    stop(e)
  })
}

#' Run a fit's chains longer
#'
#' Continues every chain of a [dpmixture()] fit by `iter` iterations, all of
#' them kept (on the fit's thinning grid). On a fit whose runners are alive
#' the result is that of one longer `dpmixture()` run with the same seed,
#' bit for bit. After `saveRDS()` and `readRDS()` (or for a fit made on a
#' cluster) the runners are rebuilt from the chains' final states, which
#' are exact checkpoints (each carries its chain's random stream), so the
#' chains continue as if they had never stopped.
#'
#' A fit is a value: `update()` continues the chains the fit records in
#' `states`, whatever happened to its runners since. So
#' `f2 <- update(fit, 10); f3 <- update(fit, 10)` gives `f2` and `f3`
#' identical (both branch from `fit`), and when an update stops with an
#' error (a [setTimeLimit()] limit, a failed chain) after its chains had
#' run, `fit` is as it was and its next `update()` is still exact. Live
#' runners are reused when they are at the recorded states (same iteration
#' and random stream); otherwise they are rebuilt from the states.
#'
#' @param object A `microscopes_fit` from [dpmixture()].
#' @param iter Iterations to add per chain.
#' @param progress Show a progress bar.
#' @param ... Unused; an error if not empty.
#' @return The fit with the new draws appended.
#' @examples
#' data(house_votes)
#' fit <- dpmixture(house_votes, chains = 2, iter = 100, seed = 1)
#' fit <- update(fit, iter = 50)
#' nrow(partition_draws(fit))
#' @export
update.microscopes_fit <- function(object, iter, progress = interactive(), ...) {
  call <- sys.call()
  check_dots_empty(..., call = call)
  if (missing(iter)) abort_arg("iter", "must be given: the number of iterations to add per chain.", call = call)
  # Iteration counts are ints, in R and in the recorder.
  iter <- check_whole_number(iter, "iter", min = 0,
                             max = .Machine$integer.max - max(object$iterations), call = call)
  progress <- check_flag(progress, "progress", call = call)
  object$runners <- fit_current_runners(object)
  fit_run(object, iter, progress = progress)
}

# A fit is a value: its `states` are its chains, exact checkpoints (each
# carries its iteration and random stream). Its runners are only a cache of
# them. A runner is an external pointer that keeps advancing when no fit
# records it: another update() of the same fit (branching), or a run that
# ended in an error (a time limit, a failed chain) after the chains had
# moved. So a live runner is reused only while its iteration and stream are
# the ones the fit recorded; any other chain is rebuilt from its state,
# which resumes it bit for bit.
fit_current_runners <- function(fit) {
  states <- fit$states
  if (length(states) != fit$chains) {
    stop(microscopes_condition(
      "The fit holds no final states to continue from (internal error).",
      class = "microscopes_error_internal", call = NULL))
  }
  runners <- if (is.null(fit$runners)) vector("list", fit$chains) else fit$runners$runners
  rebuilt <- FALSE
  for (j in seq_len(fit$chains)) {
    if (!is.null(runners[[j]]) && runner_at_state(runners[[j]], states[[j]])) next
    runners[[j]] <- runner(fit$defn, fit$data, states[[j]], fit$kernel_config)
    rebuilt <- TRUE
  }
  if (!rebuilt) return(fit$runners)
  parallel_runner(runners, threads = fit$threads)
}

fit_runners_alive <- function(fit) {
  !is.null(fit$runners) &&
    all(vapply(fit$runners$runners, function(r) .Call(C_runner_alive, r$ptr), logical(1)))
}

# Whether a runner is alive and exactly at the checkpoint `state`.
runner_at_state <- function(r, state) {
  isTRUE(.Call(C_runner_alive, r$ptr)) &&
    identical(.Call(C_runner_iteration, r$ptr), as.double(state$iteration)) &&
    identical(.Call(C_runner_stream, r$ptr), state$rng)
}

# Runs every chain of the fit `niters` more iterations with a recorder
# attached, then appends what the recorders kept. A Ctrl-C stops the chains
# at the end of an iteration: the fit so far is returned with a warning.
fit_run <- function(fit, niters, progress) {
  runners <- fit$runners$runners
  ptrs <- lapply(runners, `[[`, "ptr")
  kept <- vapply(fit$iterations, function(done) {
    n_kept(done + niters, fit$warmup, fit$thin) - n_kept(done, fit$warmup, fit$thin)
  }, numeric(1))
  # If attaching fails for chain j, or anything below stops, no chain keeps
  # a recorder (taking the draws detaches it; dropping is idempotent).
  on.exit(for (p in ptrs) .Call(C_runner_drop_recorder, p), add = TRUE)
  for (j in seq_along(ptrs)) {
    .Call(C_runner_record, ptrs[[j]], as.double(fit$iterations[j]), as.double(fit$warmup),
          fit$thin, as.integer(kept[j]))
  }
  threads <- resolve_threads(fit$runners$threads)
  start <- proc.time()[["elapsed"]]
  done <- tryCatch(.Call(C_runners_run, ptrs, niters, threads, progress),
                   error = function(e) e)
  fit$seconds <- fit$seconds + proc.time()[["elapsed"]] - start
  for (j in seq_along(ptrs)) {
    fit$draws[[j]] <- append_draws(fit$draws[[j]], .Call(C_runner_take_draws, ptrs[[j]]))
  }
  # Summaries of the old draws (the point partition) no longer hold.
  fit$cache <- new.env(parent = emptyenv())
  if (inherits(done, "error")) stop(done)
  fit$iterations <- fit$iterations + as.integer(done)
  fit$states <- lapply(runners, get_latent)
  if (isTRUE(attr(done, "interrupted"))) {
    warning(sprintf(paste0(
      "Interrupted: the fit holds the draws so far (%s of %d iterations done); ",
      "`update()` continues it."), paste(unique(as.integer(done)), collapse = "/"), niters),
      call. = FALSE)
  }
  fit
}

# Draws kept among iterations 1..done.
n_kept <- function(done, warmup, thin) {
  if (done <= warmup) 0 else floor((done - warmup - 1) / thin) + 1
}

append_draws <- function(old, new) {
  if (is.null(old)) return(new)
  D2 <- ncol(new$feature_hps)
  old$labels <- c(old$labels, new$labels)
  old$iteration <- c(old$iteration, new$iteration)
  old$n_groups <- c(old$n_groups, new$n_groups)
  old$alpha <- c(old$alpha, new$alpha)
  old$log_joint <- c(old$log_joint, new$log_joint)
  old$feature_hps <- rbind(old$feature_hps, new$feature_hps)
  stopifnot(ncol(old$feature_hps) == D2)
  old
}

# ---------------------------------------------------------------------------
# Chains on a cluster or a future plan: one task per chain, made from the
# chain's stream exactly as a local chain is.

fit_cluster <- function(cluster, call) {
  if (is.null(cluster) || inherits(cluster, "cluster")) return(cluster)
  if (identical(cluster, "future")) {
    if (!requireNamespace("future.apply", quietly = TRUE)) {
      abort_arg("cluster", "is \"future\", which needs the future.apply package: install.packages(\"future.apply\").",
                call = call)
    }
    return(cluster)
  }
  abort_arg("cluster", sprintf(
    "must be NULL, a cluster from `parallel::makeCluster()` or \"future\", not %s.",
    describe_type(cluster)), call = call)
}

fit_run_cluster <- function(fit, cluster, streams, init, iter) {
  tasks <- lapply(seq_len(fit$chains), function(j) {
    list(chain = j, seed = streams[[j]], latent = init[[j]])
  })
  args <- list(defn = fit$defn, view = fit$data, kernel_config = fit$kernel_config,
               iter = iter, warmup = fit$warmup, thin = fit$thin)
  start <- proc.time()[["elapsed"]]
  results <- if (identical(cluster, "future")) {
    do.call(future.apply::future_lapply,
            c(list(X = tasks, FUN = fit_chain_on_node, future.seed = TRUE), args))
  } else {
    do.call(parallel::clusterApplyLB, c(list(cl = cluster, x = tasks, fun = fit_chain_on_node), args))
  }
  fit$seconds <- proc.time()[["elapsed"]] - start
  fit$draws <- lapply(results, `[[`, "draws")
  fit$states <- lapply(results, `[[`, "state")
  fit$iterations <- vapply(results, `[[`, integer(1), "iterations")
  fit$cache <- new.env(parent = emptyenv())
  fit
}

# The fit's point partition (VI loss, default search), computed once per
# set of draws: fitted(), summary(), predict() and plot() all use it.
fit_point_partition <- function(fit) {
  cache <- fit$cache
  if (is.environment(cache) && !is.null(cache$partition)) return(cache$partition)
  partition <- point_partition(fit)
  if (is.environment(cache)) cache$partition <- partition
  partition
}

# Runs on a node: everything it needs comes in its arguments.
fit_chain_on_node <- function(task, defn, view, kernel_config, iter, warmup, thin) {
  if (!requireNamespace("microscopes", quietly = TRUE)) {
    stop("microscopes is not installed on this cluster node.", call. = FALSE)
  }
  ns <- asNamespace("microscopes")
  r <- ns$with_stream(task$seed, {
    latent <- task$latent
    latent <- if (is.null(latent)) microscopes::initialize_state(defn, view) else
      microscopes::reseed(latent)
    microscopes::runner(defn, view, latent, kernel_config)
  })
  fit <- structure(list(runners = microscopes::parallel_runner(list(r), threads = 1L),
                        iterations = 0L, warmup = warmup, thin = thin,
                        draws = list(NULL), seconds = 0),
                   class = "microscopes_fit")
  fit <- ns$fit_run(fit, iter, progress = FALSE)
  list(draws = fit$draws[[1]], state = fit$states[[1]], iterations = fit$iterations)
}

# ---------------------------------------------------------------------------
# Random streams and arguments

# Evaluates `expr` with R's generator set to the L'Ecuyer-CMRG state
# `seed`, then restores the caller's generator.
with_stream <- function(seed, expr) {
  restore <- preserve_rng()
  on.exit(restore())
  RNGkind("L'Ecuyer-CMRG")
  assign(".Random.seed", seed, envir = globalenv())
  expr
}

# A function that puts R's generator (kind and state) back as it is now.
preserve_rng <- function() {
  kind <- RNGkind()
  had_seed <- exists(".Random.seed", envir = globalenv(), inherits = FALSE)
  seed <- if (had_seed) get(".Random.seed", envir = globalenv())
  function() {
    RNGkind(kind[1], kind[2], kind[3])
    if (had_seed) {
      assign(".Random.seed", seed, envir = globalenv())
    } else if (exists(".Random.seed", envir = globalenv(), inherits = FALSE)) {
      rm(".Random.seed", envir = globalenv())
    }
  }
}

fit_inits <- function(init, chains, defn, call) {
  if (is.null(init)) return(rep(list(NULL), chains))
  if (is_state(init)) init <- rep(list(init), chains)
  if (!is.list(init) || length(init) != chains || !all(vapply(init, is_state, logical(1)))) {
    abort_arg("init", sprintf("must be NULL, a latent state or a list of %d latent states, not %s.",
                              chains, describe_type(init)), call = call)
  }
  for (s in init) {
    if (s$n != defn$n || s$D != defn$D) {
      abort_arg("init", sprintf("holds a state for %d rows and %d features; `data` has %d and %d.",
                                s$n, s$D, defn$n, defn$D), call = call)
    }
    if (state_groups(s) != definition_groups(defn)) {
      abort_arg("init", sprintf("holds a state of %s, but the fit is %s (`K`).",
                                describe_partition_prior(state_groups(s)),
                                describe_partition_prior(definition_groups(defn))), call = call)
    }
    if (definition_groups(defn) > 0L && length(unique(s$assignments)) > definition_groups(defn)) {
      abort_arg("init", sprintf("holds a state of %d groups, more than K = %d.",
                                length(unique(s$assignments)), definition_groups(defn)), call = call)
    }
  }
  init
}

check_dots_empty <- function(..., call = caller_call()) {
  dots <- list(...)
  if (length(dots) > 0L) {
    nms <- names(dots)
    what <- if (is.null(nms) || !nzchar(nms[1])) "an unnamed argument" else sprintf("`%s`", nms[1])
    stop(microscopes_condition(sprintf(
      "`...` must be empty, but %s was given (a misspelt argument?).", what),
      class = "microscopes_error_argument", call = call))
  }
  invisible()
}

# ---------------------------------------------------------------------------
# Reading the draws

#' Kept partitions of a fit
#'
#' @param fit A `microscopes_fit` from [dpmixture()].
#' @return An integer matrix with one row per kept draw (chains stacked, in
#'   order of iteration) and one column per row of the data: the group of
#'   each row in each draw, numbered 1, 2, ... by first appearance within
#'   the draw. Attributes `chain` and `iteration` give each draw's chain and
#'   iteration.
#' @examples
#' data(house_votes)
#' fit <- dpmixture(house_votes, chains = 2, iter = 100, seed = 1)
#' z <- partition_draws(fit)
#' dim(z)
#' table(attr(z, "chain"))
#' @export
partition_draws <- function(fit) {
  check_class(fit, "microscopes_fit", "fit", "a fit from `dpmixture()`")
  packed <- fit_labels(fit)
  out <- .Call(C_draws_labels, packed$labels, fit$data$n, packed$label_bytes)
  attr(out, "chain") <- packed$chain
  attr(out, "iteration") <- packed$iteration
  out
}

# The kept labels of every chain, still packed, with each draw's chain and
# iteration.
fit_labels <- function(fit) {
  draws <- fit$draws
  list(labels = unlist(lapply(draws, `[[`, "labels"), use.names = FALSE) %||% raw(0),
       label_bytes = fit_label_bytes(fit),
       chain = rep(seq_along(draws), vapply(draws, function(d) length(d$iteration), integer(1))),
       iteration = unlist(lapply(draws, `[[`, "iteration"), use.names = FALSE) %||% integer(0))
}

fit_label_bytes <- function(fit) {
  for (d in fit$draws) if (!is.null(d)) return(d$label_bytes)
  if (fit$data$n <= 65536) 2L else 4L
}

# Per-draw scalars and hyperparameters of every chain, stacked.
fit_scalars <- function(fit) {
  draws <- fit$draws
  get <- function(name) unlist(lapply(draws, `[[`, name), use.names = FALSE)
  data.frame(
    chain = rep(seq_along(draws), vapply(draws, function(d) length(d$iteration), integer(1))),
    iteration = get("iteration") %||% integer(0),
    n_groups = get("n_groups") %||% integer(0),
    alpha = get("alpha") %||% numeric(0),
    log_joint = get("log_joint") %||% numeric(0))
}

# Per draw (rows), the feature hyperparameters: all-bb fits a_1..a_D then
# b_1..b_D; other fits every feature's hp vector in feature order
# (fit_hp_names()).
fit_feature_hps <- function(fit) {
  hps <- do.call(rbind, lapply(fit$draws, `[[`, "feature_hps"))
  if (is.null(hps)) hps <- matrix(numeric(0), 0, length(fit_hp_names(fit)))
  hps
}

fit_all_bb <- function(fit) all(fit$defn$models == "beta_bernoulli")

# Column names of fit_feature_hps(): `a[col]`, `b[col]` for all-bb fits
# (as before the model library); otherwise `hp[col].name`, with dd's
# `hp[col].alphas[1]`, ... .
fit_hp_names <- function(fit) {
  nm <- fit$data$colnames
  if (is.null(nm)) nm <- paste0("V", seq_len(fit$data$D))
  if (fit_all_bb(fit)) return(c(sprintf("a[%s]", nm), sprintf("b[%s]", nm)))
  unlist(lapply(seq_len(fit$defn$D), function(d) {
    model <- defn_model(fit$defn, d)
    shapes <- model_hp_shapes(model)
    hp <- unlist(lapply(names(shapes), function(name) {
      len <- prod(shapes[[name]])
      if (model$kind == "bb" || (len == 1L && !model$kind %in% c("dd", "dm"))) name else
        sprintf("%s[%d]", name, seq_len(len))
    }))
    sprintf("hp[%s].%s", nm[d], hp)
  }))
}

n_draws <- function(fit) sum(vapply(fit$draws, function(d) length(d$iteration), integer(1)))

`%||%` <- function(x, y) if (is.null(x)) y else x

#' Pointwise log predictive densities of a fit
#'
#' For each kept draw \eqn{t} and row \eqn{i}, the log of
#' \eqn{p(x_i \mid z^{(t)}, x_{-i}, a^{(t)}, b^{(t)})}: the collapsed
#' beta-Bernoulli predictive of the row's observed entries in its own group
#' of draw \eqn{t}, with the row itself left out (the prior predictive when
#' it is alone). Because \eqn{p(z, x) = p(x_i \mid z, x_{-i}) p(z, x_{-i})},
#' the posterior mean of \eqn{1 / p(x_i \mid z, x_{-i})} is
#' \eqn{1 / p(x_i \mid x_{-i})}, so the matrix is what importance-sampling
#' leave-one-out cross-validation needs: pass it to `loo::loo()` (with
#' `r_eff` from `loo::relative_eff()`, and the chains from
#' `attr(, "chain")`). Computed in C, in threads over draws.
#'
#' For a fit of a data frame the same holds with every feature's model: the
#' row's collapsed predictive in its own group without it is the product,
#' over the row's observed cells, of each model's predictive (a density for
#' real-valued columns, a probability for the others) under the draw's
#' hyperparameters, computed through the feature blocks (their counts
#' rebuilt from the draw's partition). A fit with
#' [normal_inverse_wishart()] rows partly `NA` (data augmentation) is refused:
#' its draws do not record the imputed values.
#'
#' @param object A `microscopes_fit` from [dpmixture()].
#' @param threads Number of threads; `NULL` for [microscopes_threads()].
#' @param ... Unused; an error if not empty.
#' @return A kept-draws x n numeric matrix, with attribute `chain`.
#' @examples
#' data(house_votes)
#' fit <- dpmixture(house_votes, chains = 2, iter = 100, seed = 1)
#' ll <- log_lik(fit)
#' dim(ll)
#' @export
log_lik <- function(object, ...) UseMethod("log_lik")

#' @rdname log_lik
#' @export
log_lik.microscopes_fit <- function(object, threads = NULL, ...) {
  call <- sys.call()
  check_dots_empty(..., call = call)
  threads <- resolve_threads(threads, call = call)
  # A partly missing niw row's pointwise predictive would need each draw's
  # imputed coordinates (the other rows' too), which draws do not record.
  if (!is.null(object$states[[1]]$latent_cells)) {
    abort_arg("object", paste(
      "has normal_inverse_wishart() rows partly NA (imputed by data augmentation);",
      "log_lik() of such a fit is not available in this version: the kept draws do",
      "not record the imputed values."), call = call)
  }
  packed <- fit_labels(object)
  out <- if (defn_is_mixed(object$defn)) {
    blocks <- pack_blocks(object$data, object$defn, call = call)
    .Call(C_draws_log_lik_blocks, blocks,
          pack_block_hps(blocks, object$states[[1]]$feature_hps), packed$labels,
          packed$label_bytes, fit_feature_hps(object), threads)
  } else {
    .Call(C_draws_log_lik, object$data, packed$labels, packed$label_bytes,
          fit_feature_hps(object), threads)
  }
  attr(out, "chain") <- packed$chain
  out
}
