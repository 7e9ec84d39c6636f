#' Make a runner: one Markov chain
#'
#' A runner holds one chain's sampler in C memory: the latent state, its
#' cached predictive tables, its own random stream (seeded from R's random
#' number generator when the runner is made, so `set.seed()` makes runs
#' reproducible) and the kernels. [run()] advances it in place;
#' [get_latent()] reads its state back as a plain R object. A runner cannot
#' be saved with `saveRDS()`; save its latent state instead and make a new
#' runner from it.
#'
#' A state from [get_latent()] is an exact checkpoint: it carries the
#' chain's random stream, its iteration count and the order in which the
#' sampler visits the groups, so a runner made from it resumes the chain
#' where it stopped, and `run(r, 10)`, `saveRDS(get_latent(r), f)`, then
#' `run(runner(defn, view, readRDS(f), kc), 10)` in another session gives
#' the chain of `run(r, 20)`, bit for bit. Use [reseed()] to start a new,
#' independent chain from such a state instead. A state from
#' [initialize_state()], or saved by microscopes 0.1.0, has no stream: the
#' runner then draws one from R's random number generator.
#'
#' @param defn A model definition from [model_definition()] or
#'   [fixed_model_definition()]. A finite mixture's runner refuses a state
#'   of a Dirichlet process mixture or one with more than \eqn{K} groups,
#'   and the reverse.
#' @param view A [dataview()] or a binary matrix (packed on the fly).
#' @param latent A latent state from [initialize_state()] or [get_latent()]
#'   for the same definition and data.
#' @param kernel_config A list of kernels, e.g. [default_kernel_config()].
#' @param threads Threads [run()] may use inside this one chain; `NULL`
#'   for [microscopes_threads()]. When the chain holds enough groups and
#'   beta-Bernoulli features for threads to pay, they share the
#'   hyperparameter updates of those features and the rebuild of the tables
#'   after them, each iteration's log joint, and, in a definition of
#'   beta-Bernoulli features only, the Gibbs sweep's scores (a second
#'   thread scores each row against half of the groups, from 48 on). The
#'   chain is the same, bit for bit, whatever the number (each feature's
#'   hyperparameters have their own random stream, and every sum is taken
#'   in the same order).
#' @return A `microscopes_runner`.
#' @seealso [parallel_runner()] to run several chains at once.
#' @examples
#' set.seed(1)
#' Y <- matrix(runif(50 * 8) < 0.3, 50, 8)
#' view <- dataview(Y)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' r <- runner(defn, view, initialize_state(defn, view), default_kernel_config(defn))
#' run(r, niters = 10)
#' get_latent(r)
#' @export
runner <- function(defn, view, latent, kernel_config, threads = NULL) {
  if (!is.null(threads)) threads <- check_whole_number(threads, "threads", min = 1)
  check_definition(defn)
  view <- as_dataview(view)
  check_view_fits(view, defn)
  check_state(latent)
  if (latent$n != defn$n || latent$D != defn$D) {
    abort_arg("latent", sprintf(
      "was made for %d rows and %d features, but `defn` has %d rows and %d features.",
      latent$n, latent$D, defn$n, defn$D))
  }
  if (defn_is_mixed(defn)) {
    r <- mixed_runner(defn, view, latent, kernel_config)
    r$threads <- threads
    return(r)
  }
  view <- bb_view(view, defn)
  latent <- check_state_structure(latent)
  check_state_fits_prior(latent, defn)
  counts <- .Call(C_group_counts, view, latent$assignments)
  if (!identical(counts$heads, latent$heads) || !identical(counts$tails, latent$tails)) {
    abort_arg("latent", "does not match `view`: its groups' counts differ from the data's.")
  }
  kernels <- check_kernel_config(kernel_config, defn$D)
  check_kernels_fit_definition(kernel_config, defn)
  check_hps_in_prior_box(latent$feature_hps, kernels)
  checkpoint <- state_checkpoint(latent)
  ptr <- .Call(C_runner_new, view, latent$assignments, latent$cluster_hp$alpha,
               latent$feature_hps, kernels, checkpoint, definition_groups(defn))
  structure(list(ptr = ptr, defn = defn, models = latent$models,
                 kernel_config = kernel_config, threads = threads),
            class = "microscopes_runner")
}

#' Run chains in parallel
#'
#' Groups runners so that [run()] advances them all at once, each chain in
#' C threads of a pool (more chains than threads is fine), all sharing the
#' packed data. Each chain owns its random stream, so the chains are
#' bit-identical whatever the number of threads.
#'
#' `threads` counts all the threads of a run: one per chain at most, and
#' those left over (more threads than chains) shared among the chains for
#' the work inside an iteration that threads can share (see [runner()]),
#' so that one long chain on 16 cores uses them.
#'
#' @param runners A list of runners from [runner()], each with its own chain.
#' @param threads Total number of threads; `NULL` for
#'   [microscopes_threads()]. Each chain runs on one of them; threads beyond
#'   the number of chains are shared inside the chains, as a runner's own
#'   `threads` are (see [runner()]), and the chains are the same whatever
#'   the number. The runners' own `threads` are not used.
#' @return A `microscopes_parallel_runner`.
#' @examples
#' set.seed(42)
#' Y <- matrix(runif(50 * 8) < 0.3, 50, 8)
#' view <- dataview(Y)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' kc <- default_kernel_config(defn)
#' runners <- lapply(1:3, function(i) runner(defn, view, initialize_state(defn, view), kc))
#' r <- parallel_runner(runners, threads = 2)
#' run(r, niters = 5)
#' length(get_latents(r))
#' @export
parallel_runner <- function(runners, threads = NULL) {
  if (inherits(runners, "microscopes_runner")) runners <- list(runners)
  if (!is.list(runners) || length(runners) == 0L ||
      !all(vapply(runners, inherits, logical(1), "microscopes_runner"))) {
    abort_arg("runners", "must be a non-empty list of runners from `runner()`.")
  }
  defn <- runners[[1]]$defn
  for (j in seq_along(runners)) {
    if (!identical(runners[[j]]$defn, defn)) {
      abort_arg("runners", sprintf(
        "must share one model definition; runner %d was made for another one.", j))
    }
  }
  # The same runner twice is run()'s error to report; other runners must
  # not share a stream.
  ptrs <- lapply(runners, `[[`, "ptr")
  again <- vapply(seq_along(ptrs), function(j) {
    j > 1L && any(vapply(ptrs[seq_len(j - 1L)], identical, logical(1), ptrs[[j]]))
  }, logical(1))
  check_distinct_streams(lapply(seq_along(runners), function(j) {
    if (again[j]) NULL else .Call(C_runner_stream, ptrs[[j]])
  }), "runners")
  if (!is.null(threads)) threads <- check_whole_number(threads, "threads", min = 1)
  structure(list(runners = runners, threads = threads),
            class = "microscopes_parallel_runner")
}

#' Advance chains
#'
#' Applies every kernel of the configuration, in order, `niters` times to
#' each chain, in place. Chains run in C threads; the R session stays
#' responsive to Ctrl-C, which stops all chains at the end of their current
#' iteration (so their states stay valid). Long runs show a progress bar
#' (set `options(microscopes.progress = FALSE)` to silence it; by default it
#' shows only in interactive sessions).
#'
#' @param r A runner or a parallel runner.
#' @param niters Number of iterations, a whole number >= 0.
#' @param ... Unused; an error if not empty (so that a misspelt argument
#'   is not silently ignored).
#' @return `r`, invisibly, advanced in place.
#' @examples
#' set.seed(1)
#' Y <- matrix(runif(40 * 6) < 0.3, 40, 6)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' r <- runner(defn, Y, initialize_state(defn, Y), default_kernel_config(defn))
#' run(r, 5)
#' @export
run <- function(r, niters, ...) UseMethod("run")

#' @export
run.default <- function(r, niters, ...) {
  abort_arg("r", sprintf("must be a runner or a parallel runner, not %s.", describe_type(r)))
}

#' @export
run.microscopes_runner <- function(r, niters, ...) {
  check_dots_empty(..., call = sys.call())
  run_runners(list(r), niters, threads = resolve_threads(r$threads))
  invisible(r)
}

#' @export
run.microscopes_parallel_runner <- function(r, niters, ...) {
  check_dots_empty(..., call = sys.call())
  run_runners(r$runners, niters, threads = resolve_threads(r$threads))
  invisible(r)
}

run_runners <- function(runners, niters, threads, call = caller_call()) {
  force(call)
  niters <- check_whole_number(niters, "niters", min = 0, call = call)
  progress <- isTRUE(getOption("microscopes.progress", interactive()))
  ptrs <- lapply(runners, `[[`, "ptr")
  done <- .Call(C_runners_run, ptrs, niters, threads, progress)
  if (isTRUE(attr(done, "interrupted"))) {
    message(sprintf(
      "Interrupted: chains kept at their last complete iteration (%s of %d done).",
      paste(unique(as.integer(done)), collapse = "/"), niters))
    signal_interrupt("run() interrupted", call = call)
  }
  invisible(done)
}

#' Read the latent state of chains
#'
#' `get_latent()` copies a runner's current state into a plain R object
#' (`saveRDS()` keeps it); `get_latents()` does so for every chain of a
#' parallel runner.
#'
#' The state is an exact checkpoint (state format version 2): besides the
#' partition, the hyperparameters and the sufficient statistics it holds the
#' chain's random stream (`rng`), the number of iterations done
#' (`iteration`) and the order in which the sampler lists the groups and the
#' empty slot it offers (`sampler`), so that [runner()] resumes the chain
#' exactly. See [reseed()] to start an independent chain from it.
#'
#' Group ids in the state are the runner's slots at this moment; a later
#' `get_latent()` of the same runner may give the same groups other ids (see
#' "Group ids" in [assign_kernel()]).
#'
#' @param r A runner (`get_latent()`) or a parallel runner (`get_latents()`).
#' @return A `microscopes_state`, or a list of them.
#' @examples
#' set.seed(1)
#' Y <- matrix(runif(40 * 6) < 0.3, 40, 6)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' r <- runner(defn, Y, initialize_state(defn, Y), default_kernel_config(defn))
#' run(r, 5)
#' s <- get_latent(r)
#' f <- tempfile(fileext = ".rds")
#' saveRDS(s, f)
#' identical(assignments(readRDS(f)), assignments(s))
#' @export
get_latent <- function(r) {
  check_class(r, "microscopes_runner", "r", "a runner from `runner()`")
  parts <- .Call(C_runner_latent, r$ptr)
  if (defn_is_mixed(r$defn)) {
    return(mixed_state_from_parts(
      r$defn, parts$assignments, parts$groups, parts$group_sizes, parts$feature_hps,
      parts$suffstats, parts$alpha, rng = parts$rng, iteration = parts$iteration,
      sampler = list(active_order = parts$active_order, ghost = parts$ghost),
      groups = definition_groups(r$defn),
      latent_cells = .Call(C_runner_latent_cells, r$ptr)))
  }
  state_from_parts(r$defn$n, r$defn$D, parts$assignments, parts, parts$alpha,
                   parts$feature_hps, r$models, rng = parts$rng,
                   iteration = parts$iteration,
                   sampler = list(active_order = parts$active_order, ghost = parts$ghost),
                   groups = definition_groups(r$defn))
}

#' @rdname get_latent
#' @export
get_latents <- function(r) {
  if (inherits(r, "microscopes_runner")) return(list(get_latent(r)))
  check_class(r, "microscopes_parallel_runner", "r", "a parallel runner from `parallel_runner()`")
  lapply(r$runners, get_latent)
}

#' Traces of chains
#'
#' Every runner records, after each iteration, the number of groups, the CRP
#' concentration \eqn{\alpha} (for a finite mixture, the total
#' concentration of its Dirichlet weights) and the log joint probability
#' (`score_assignment() + score_data()`, with the finite mixture's partition
#' prior for a [fixed_model_definition()]), to judge mixing.
#'
#' @param r A runner or a parallel runner.
#' Iterations are numbered from the chain's start, also for a runner resumed
#' from a saved state ([get_latent()] keeps the iteration count). After an
#' interrupt the chains of a parallel runner may stand at different
#' iterations; their traces are then cut to the length they all have, with
#' a message (`chain_trace()` of a single runner gives its whole trace).
#'
#' @return `chain_trace()`: a data frame with columns `chain`, `iteration`,
#'   `n_groups`, `alpha`, `log_joint`, and the iteration's split-merge
#'   counts `split_proposed`, `split_accepted`, `merge_proposed`,
#'   `merge_accepted` (all 0 without a [split_merge_kernel()]). `as_mcmc_list()`: a
#'   `coda::mcmc.list` of the same traces, one `mcmc` per chain (needs the
#'   coda package).
#' @examples
#' set.seed(1)
#' Y <- matrix(runif(40 * 6) < 0.3, 40, 6)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' r <- runner(defn, Y, initialize_state(defn, Y), default_kernel_config(defn))
#' run(r, 5)
#' chain_trace(r)
#' @export
chain_trace <- function(r) {
  runners <- runners_of(r)
  traces <- lapply(seq_along(runners), function(j) {
    t <- .Call(C_runner_trace, runners[[j]]$ptr)
    data.frame(chain = rep(j, length(t$n_groups)),
               iteration = as.integer(t$first_iteration - 1) + seq_along(t$n_groups),
               n_groups = t$n_groups, alpha = t$alpha, log_joint = t$log_joint,
               split_proposed = t$split_merge[1, ], split_accepted = t$split_merge[2, ],
               merge_proposed = t$split_merge[3, ], merge_accepted = t$split_merge[4, ])
  })
  do.call(rbind, common_length(traces))
}

# After an interrupt the chains may stand at different iterations: their
# traces are cut to the length they all have, and the user is told.
common_length <- function(traces) {
  lengths <- vapply(traces, nrow, integer(1))
  if (length(unique(lengths)) <= 1L) return(traces)
  keep <- min(lengths)
  message(sprintf(paste(
    "The chains stand at different iterations (%s traced, as after an interrupt):",
    "their traces are cut to the %d they all have."),
    paste(lengths, collapse = "/"), keep))
  lapply(traces, function(t) t[seq_len(keep), , drop = FALSE])
}

#' @rdname chain_trace
#' @export
as_mcmc_list <- function(r) {
  if (!requireNamespace("coda", quietly = TRUE)) {
    stop("as_mcmc_list() needs the coda package: install.packages(\"coda\").", call. = FALSE)
  }
  trace <- chain_trace(r)
  coda::mcmc.list(lapply(split(trace, trace$chain), function(t) {
    coda::mcmc(as.matrix(t[, c("n_groups", "alpha", "log_joint")]))
  }))
}

# Seconds spent in each kind of kernel, summed over chains (for bench/).
kernel_seconds <- function(r) {
  seconds <- Reduce(`+`, lapply(runners_of(r), function(x) .Call(C_runner_trace, x$ptr)$kernel_seconds))
  stats::setNames(seconds, names(kernel_kinds))
}

runners_of <- function(r, call = caller_call()) {
  force(call)
  if (inherits(r, "microscopes_runner")) return(list(r))
  if (inherits(r, "microscopes_parallel_runner")) return(r$runners)
  abort_arg("r", sprintf("must be a runner or a parallel runner, not %s.", describe_type(r)),
            call = call)
}

#' @export
print.microscopes_runner <- function(x, ...) {
  alive <- .Call(C_runner_alive, x$ptr)
  cat(sprintf("<microscopes runner: %d rows, %d features%s>\n", x$defn$n, x$defn$D,
              if (alive) "" else ", sampler gone (saved and reloaded?)"))
  invisible(x)
}

#' @export
print.microscopes_parallel_runner <- function(x, ...) {
  cat(sprintf("<microscopes parallel runner: %d chains, %s threads>\n", length(x$runners),
              if (is.null(x$threads)) "default" else x$threads))
  invisible(x)
}

# Chains that share a stream position are one chain several times (e.g.
# runners made from one saved state): refused, naming the cure.
check_distinct_streams <- function(streams, arg, call = caller_call()) {
  force(call)
  keys <- vapply(streams, function(s) if (is.null(s)) NA_character_ else paste(s, collapse = ""),
                 character(1))
  dup <- which(duplicated(keys) & !is.na(keys))
  if (length(dup) > 0L) {
    first <- match(keys[dup[1]], keys)
    abort_arg(arg, sprintf(paste(
      "%d and %d share one random stream position (were they made from one saved state?),",
      "so they would be the same chain; give each state its own stream with `reseed()`."),
      first, dup[1]), call = call)
  }
}

# A saved group id is a slot + 1, and with n rows at most n groups, the
# ghost and split-merge's two work slots are in use at once: ids reach
# n + label_slack (LABEL_SLACK in src/r_glue.h).
label_slack <- 3L

# What a hand-edited state can get wrong and the C code would only report
# in its own terms.
check_state_structure <- function(latent, call = caller_call()) {
  force(call)
  a <- latent$assignments
  if (is.double(a) && length(a) == latent$n && !anyNA(a) && all(is.finite(a)) && all(a == round(a))) {
    a <- as.integer(a)
  }
  # Group ids are slots + 1: at most n + 3 (src/r_glue.h, LABEL_SLACK),
  # above n after a start with every row alone.
  if (!is.integer(a) || length(a) != latent$n || anyNA(a) ||
      any(a < 1L | a > latent$n + label_slack)) {
    abort_arg("latent", sprintf(
      "is not a valid state: its assignments must be %d group labels between 1 and %d.",
      latent$n, latent$n + label_slack), call = call)
  }
  hps <- latent$feature_hps
  if (!is.matrix(hps) || !is.double(hps) || !identical(dim(hps), c(latent$D, 2L)) ||
      anyNA(hps) || any(!is.finite(hps) | hps <= 0 | hps > max_hyperparameter)) {
    abort_arg("latent", sprintf(
      "is not a valid state: its feature hyperparameters must be a %d x 2 matrix of numbers > 0 and <= %g.",
      latent$D, max_hyperparameter), call = call)
  }
  alpha <- latent$cluster_hp$alpha
  if (!is.numeric(alpha) || length(alpha) != 1L || !is.finite(alpha) || alpha <= 0 ||
      alpha > max_hyperparameter) {
    abort_arg("latent", sprintf(
      "is not a valid state: its CRP concentration alpha must be a number > 0 and <= %g.",
      max_hyperparameter), call = call)
  }
  latent$assignments <- a
  latent$cluster_hp$alpha <- as.double(alpha)
  latent
}

# A state of a finite mixture runs only under a finite mixture of as many
# groups, a Dirichlet process state only under a Dirichlet process (states
# saved before format 3 are Dirichlet process states); and a finite
# mixture's state has at most K groups.
check_state_fits_prior <- function(latent, defn, call = caller_call()) {
  force(call)
  groups <- definition_groups(defn)
  state <- state_groups(latent)
  if (state != groups) {
    abort_arg("latent", sprintf(
      "is a state of %s, but `defn` is %s; make the state with `initialize_state(defn, ...)`.",
      describe_partition_prior(state), describe_partition_prior(groups)), call = call)
  }
  K_plus <- length(unique(latent$assignments))
  if (groups > 0L && K_plus > groups) {
    abort_arg("latent", sprintf(
      "has %d groups, more than the K = %d of the finite mixture `defn`.", K_plus, groups),
      call = call)
  }
}

# A slice sampler cannot start outside its prior's support: the start must
# lie strictly inside the box of every bounded feature prior.
check_hps_in_prior_box <- function(hps, kernels, call = caller_call()) {
  force(call)
  for (kernel in kernels) {
    if (kernel$kind != kernel_kinds[["slice_feature_hp"]] || kernel$prior$name != "noninformative_beta") next
    lower <- kernel$prior$lower
    upper <- kernel$prior$upper
    sub <- hps[kernel$features, , drop = FALSE]
    outside <- which(sub[, 1] <= lower | sub[, 1] >= upper | sub[, 2] <= lower | sub[, 2] >= upper)
    if (length(outside) > 0L) {
      d <- kernel$features[outside[1]]
      abort_arg("latent", sprintf(paste(
        "has feature hyperparameters outside the box [%g, %g] of the slice_feature_hp prior",
        "in `kernel_config` (feature %d: alpha = %g, beta = %g); start inside the box,",
        "e.g. with `initialize_state(feature_hps = )`."),
        lower, upper, d, hps[d, 1], hps[d, 2]), call = call)
    }
  }
}

# runner() for a definition with models other than beta_bernoulli(): the
# state's hyperparameters checked against the models, the chain built from
# the packed blocks, its recount compared with the saved statistics, which
# are then restored as saved (set_stats), so that a resumed chain continues
# from the bits the sampler held (DECISIONS.md).
mixed_runner <- function(defn, view, latent, kernel_config, call = caller_call()) {
  force(call)
  if (!is_mixed_state(latent)) {
    abort_arg("latent", paste(
      "is a state of beta_bernoulli() features only, but `defn` has other models;",
      "make the state with `initialize_state(defn, view)`."), call = call)
  }
  hps <- tryCatch(as_mixed_feature_hps(latent$feature_hps, defn, view, call = call),
                  error = function(e) {
                    abort_arg("latent", sprintf("is not a valid state: its %s",
                                                sub("^`feature_hps` ", "`feature_hps` ", conditionMessage(e))),
                              call = call)
                  })
  latent$feature_hps <- hps
  latent <- check_mixed_state_structure(latent, call = call)
  check_state_fits_prior(latent, defn, call = call)
  kernels <- check_kernel_config(kernel_config, defn$D, call = call)
  check_kernels_fit_definition(kernel_config, defn, call = call)
  check_kernels_fit_models(kernel_config, defn, call = call)
  bb <- which(defn$models == "beta_bernoulli")
  if (length(bb) > 0L) {
    bb_hps <- matrix(0, defn$D, 2)
    bb_hps[bb, ] <- t(vapply(hps[bb], function(h) c(h$alpha, h$beta), numeric(2)))
    check_hps_in_prior_box(bb_hps, lapply(kernels, function(k) {
      k$features <- intersect(k$features, bb)
      k
    }), call = call)
  }
  checkpoint <- state_checkpoint(latent, call = call)
  ptr <- mixed_runner_ptr(defn, view, latent$assignments, latent$cluster_hp$alpha, hps,
                          kernels = kernels, checkpoint = checkpoint, constant_stream = FALSE,
                          call = call)
  restore_latent_cells(ptr, latent$latent_cells, call = call)
  # The recount lists groups by increasing slot (group id = slot + 1).
  o <- order(latent$groups)
  saved <- if (is.list(latent$stats)) {
    lapply(latent$stats, function(x) if (is.matrix(x) && nrow(x) == length(o)) x[o, , drop = FALSE] else x)
  }
  recount <- .Call(C_runner_block_stats, ptr)$suffstats
  check_mixed_stats(saved, recount, call = call)
  .Call(C_runner_set_stats, ptr, as.integer(latent$groups[o]) - 1L,
        lapply(saved, function(x) unname(x) + 0))
  structure(list(ptr = ptr, defn = defn, models = latent$models,
                 kernel_config = kernel_config),
            class = "microscopes_runner")
}

# What a hand-edited mixed state can get wrong.
check_mixed_state_structure <- function(latent, call = caller_call()) {
  force(call)
  a <- latent$assignments
  if (is.double(a) && length(a) == latent$n && !anyNA(a) && all(is.finite(a)) && all(a == round(a))) {
    a <- as.integer(a)
  }
  # Group ids are slots + 1: at most n + 3 (src/r_glue.h, LABEL_SLACK).
  if (!is.integer(a) || length(a) != latent$n || anyNA(a) ||
      any(a < 1L | a > latent$n + label_slack)) {
    abort_arg("latent", sprintf(
      "is not a valid state: its assignments must be %d group labels between 1 and %d.",
      latent$n, latent$n + label_slack), call = call)
  }
  if (!identical(sort(unique(a)), as.integer(sort(latent$groups)))) {
    abort_arg("latent", "is not a valid state: its `groups` are not the labels of its assignments.",
              call = call)
  }
  alpha <- latent$cluster_hp$alpha
  if (!is.numeric(alpha) || length(alpha) != 1L || !is.finite(alpha) || alpha <= 0 ||
      alpha > max_hyperparameter) {
    abort_arg("latent", sprintf(
      "is not a valid state: its CRP concentration alpha must be a number > 0 and <= %g.",
      max_hyperparameter), call = call)
  }
  latent$assignments <- a
  latent$cluster_hp$alpha <- as.double(alpha)
  latent
}

# The imputed coordinates of partly missing niw rows (format 5
# `latent_cells`, one entry per feature: NULL or list(rows, values)) are
# chain state: put back before the statistics are compared with a recount,
# which then counts the completed cells. A state without them (made by
# hand, or for other data) starts from the block's initial imputation, the
# coordinate means.
restore_latent_cells <- function(ptr, saved, call = caller_call()) {
  if (is.null(saved)) return(invisible())
  here <- .Call(C_runner_latent_cells, ptr)
  ok <- is.list(saved) && length(saved) == length(here)
  for (d in seq_along(here)) {
    if (!ok) break
    x <- saved[[d]]
    y <- here[[d]]
    ok <- if (is.null(y)) is.null(x) else {
      is.list(x) && identical(as.integer(x$rows), y$rows) && is.numeric(x$values) &&
        identical(dim(x$values), dim(y$values)) && all(is.finite(x$values))
    }
  }
  if (!ok) {
    abort_arg("latent", paste(
      "does not match `view`: its `latent_cells` are not the imputed values of the",
      "partly missing rows of its normal_inverse_wishart() features."), call = call)
  }
  .Call(C_runner_set_latent_cells, ptr,
        lapply(saved, function(x) if (!is.null(x)) unname(x$values) + 0))
  invisible()
}
