# Posterior-predictive queries on new rows and co-clustering frequencies,
# over the latent states of one or more chains.
# Each function checks and normalises its arguments, then makes one .Call
# (src/r_query.c, src/query.c).

#' Posterior-predictive queries: fill in the missing entries of new rows
#'
#' `posterior_predictive()` draws the missing (`NA`) entries of new rows
#' jointly from the posterior predictive distribution;
#' `posterior_predictive_statistic()` summarises such draws per entry (their
#' mean or their most frequent value), or, with `exact = TRUE`, computes the
#' probability that each missing entry is `TRUE` in closed form.
#'
#' Each row of `queries` is a *new* row, predicted given each latent state
#' (its groups, their sizes and counts, the concentration `alpha` and the
#' feature hyperparameters); rows of `queries` do not inform one another.
#' Given a state, the row's group has the posterior
#' \deqn{w_k \propto n_k \prod_{d \in O} p_{kd}(x_d), \qquad
#'   w_{new} \propto \alpha \prod_{d \in O} p_{0d}(x_d),}{
#'   w_k ~ n_k prod_{d in O} p_kd(x_d),   w_new ~ alpha prod_{d in O} p_0d(x_d),}
#' the CRP prior (for a finite mixture's state, [fixed_model_definition()],
#' the weights \eqn{n_k + \alpha/K} and \eqn{(K - K_+)\alpha/K}, none for
#' a new group once all \eqn{K} are in use) times the beta-Bernoulli predictive of the observed entries
#' \eqn{O}, where \eqn{p_{kd}(1) = (a_d + h_{kd}) / (a_d + b_d + h_{kd} +
#' t_{kd})}{p_kd(1) = (a_d + h_kd) / (a_d + b_d + h_kd + t_kd)} with the
#' group's heads and tails counts (zero for the new group). A draw takes the
#' group from \eqn{w}, once per row, and then every missing entry
#' independently from its group's predictive, as in datamicroscopes'
#' `query.posterior_predictive()`; `samples_per_chain` such draws are made per
#' state. With `exact = TRUE` the probability of a `TRUE` is
#' \eqn{\sum_k w_k p_{kd}(1)}{sum_k w_k p_kd(1)}, with no sampling. Results
#' are averaged over the states, each with weight `1 / length(infers)` unless
#' `weights` says otherwise.
#'
#' **Data frames and mixed models.** For states of a definition with other
#' models than [beta_bernoulli()] (their `stats` hold each feature's
#' sufficient statistics per group), `queries` is a data frame with one
#' column per feature, converted as [dataview()] converts one (a factor
#' column of a [dirichlet_discrete()] feature must have its `k` levels; a
#' column left all `NA` may be logical). The group's posterior is the one
#' above with each model's collapsed predictive in place of the
#' beta-Bernoulli one (see [models]); a finite mixture's state
#' (`fixed_model_definition()`, `K` groups) weighs group `k` by
#' \eqn{n_k + \alpha/K}{n_k + alpha/K} and its unused groups together by
#' \eqn{(K - K_+) \alpha / K}{(K - K+) alpha/K}. `posterior_predictive()`
#' then returns a list of `length(infers) * samples_per_chain` data frames
#' of the query's shape, one per joint draw, each column in its own type (a
#' factor with the query's levels, integer counts, doubles, logical; a
#' column given all `NA` comes back in the model's type, levels of a
#' factor as integers 1..k). `posterior_predictive_statistic()` supports
#' `merge = "avg"` only and computes it in closed form (`samples_per_chain`
#' and `exact` are not used): a data frame of the query's shape whose
#' numeric and count columns hold the predictive mean (`Inf` for a
#' [beta_negative_binomial()] cell whose mean does not exist), logical
#' columns the probability of `TRUE`, and factor columns the most probable
#' level, with `attr(result, "level_probabilities")[[column]]` the
#' `nrow(queries) x k` matrix of level probabilities (observed cells: 1 at
#' the observed level).
#'
#' A row with every entry missing is allowed: its group is drawn from the CRP
#' prior, so the result is the prior predictive of a new row given the state.
#' A row with no missing entry is returned as given.
#'
#' Randomness comes from R's random number generator (one seed is drawn per
#' call), so [set.seed()] makes the results reproducible; every pair of state
#' and query row has its own random stream, so the results do not depend on
#' the number of threads.
#'
#' @param queries A logical matrix, or a numeric matrix of 0, 1 and `NA`, with
#'   one column per feature of the states; `NA` marks the entries to predict.
#'   For states of mixed models, a data frame (see Details).
#' @param infers A latent state (class `"microscopes_state"`), or a non-empty
#'   list of states of one model definition, e.g. from `get_latents()`.
#' @param samples_per_chain Number of draws per state (a whole number >= 1).
#'   Ignored when `exact = TRUE`.
#' @param merge How `posterior_predictive_statistic()` summarises draws:
#'   `"avg"` (the default) gives the weighted fraction of draws that are
#'   `TRUE`, an estimate of the probability; `"mode"` gives the most frequent
#'   value (`FALSE` on ties, like datamicroscopes). With `exact = TRUE`,
#'   `"mode"` gives whether the exact probability exceeds 0.5.
#' @param exact If `TRUE`, compute the expectation over the group's posterior
#'   in closed form instead of sampling.
#' @param weights Optional non-negative weights of the states, one per state,
#'   not all zero (they are normalised to sum to 1); `NULL` weighs the states
#'   equally. In `posterior_predictive_statistic()`, the per-state means are
#'   combined with these weights. In `posterior_predictive()`, the state of
#'   each of the `length(infers) * samples_per_chain` draws is then drawn
#'   from the weights, with replacement, so that the draws come from the
#'   weighted mixture.
#' @param threads Number of threads, or `NULL` for [microscopes_threads()].
#' @return
#' `posterior_predictive()`: a logical array with dimensions
#' `c(nrow(queries), ncol(queries), length(infers) * samples_per_chain)`;
#' slice `[, , j]` is one joint draw of all the rows' missing entries, with
#' the observed entries as given. Without `weights`, draws
#' `(s - 1) * samples_per_chain + 1:samples_per_chain` come from state `s`.
#'
#' `posterior_predictive_statistic()`: a matrix of the shape and dimnames of
#' `queries`, numeric for `merge = "avg"` (observed entries as 0 and 1,
#' missing ones filled with probabilities) and logical for `merge = "mode"`.
#' @seealso [zmatrix()] and [point_partition()] for summaries of the
#'   partitions themselves.
#' @examples
#' set.seed(1)
#' # two kinds of rows: ink on the left half, or on the right half
#' left <- rep(c(TRUE, FALSE), each = 4)
#' Y <- rbind(matrix(runif(20 * 8) < ifelse(left, 0.9, 0.1), 20, 8, byrow = TRUE),
#'            matrix(runif(20 * 8) < ifelse(left, 0.1, 0.9), 20, 8, byrow = TRUE))
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' view <- dataview(Y)
#' kc <- default_kernel_config(defn)
#' runners <- lapply(1:3, function(i) {
#'   runner(defn, view, initialize_state(defn, view), kc)
#' })
#' pr <- parallel_runner(runners)
#' run(pr, 20)
#' infers <- get_latents(pr)
#'
#' queries <- Y[c(1, 21), ]
#' queries[, 5:8] <- NA        # right half unknown
#' posterior_predictive_statistic(queries, infers, samples_per_chain = 20)
#' posterior_predictive_statistic(queries, infers, exact = TRUE)
#' posterior_predictive_statistic(queries, infers, merge = "mode",
#'                                samples_per_chain = 20)
#' draws <- posterior_predictive(queries, infers, samples_per_chain = 5)
#' dim(draws)
#' draws[, , 1]
#' @export
posterior_predictive <- function(queries, infers, samples_per_chain = 1,
                                 weights = NULL, threads = NULL) {
  call <- sys.call()
  if (query_is_mixed(infers)) {
    return(mixed_posterior_predictive(queries, infers, samples_per_chain, weights, threads,
                                      call = call))
  }
  states <- query_states(infers, call = call)
  x <- query_matrix(queries, states$D, call = call)
  spc <- check_whole_number(samples_per_chain, "samples_per_chain", min = 1,
                            call = call)
  S <- length(states$states)
  w <- query_weights(weights, S, call = call)
  threads <- resolve_threads(threads, call = call)

  n_draws <- as.double(S) * spc
  if (n_draws > .Machine$integer.max) {
    abort_arg("samples_per_chain",
              sprintf("gives %.0f draws over %d states: too many.", n_draws, S),
              call = call)
  }
  check_query_bytes(n_draws * (4 * as.double(nrow(x)) * ncol(x) + 8), n_draws,
                    call = call)
  draw_state <- if (is.null(weights)) {
    rep(seq_len(S), each = spc)
  } else {
    sort(sample.int(S, as.integer(n_draws), replace = TRUE, prob = w))
  }
  out <- .Call(C_query_predictive, x, states$states, 0L, draw_state, NULL,
               threads)
  dn <- dimnames(queries)
  if (!is.null(dn)) dimnames(out) <- c(dn, list(NULL))
  out
}

#' @rdname posterior_predictive
#' @export
posterior_predictive_statistic <- function(queries, infers,
                                           samples_per_chain = 1,
                                           merge = c("avg", "mode"),
                                           exact = FALSE, weights = NULL,
                                           threads = NULL) {
  call <- sys.call()
  if (query_is_mixed(infers)) {
    exact <- check_flag(exact, "exact", call = call)
    return(mixed_posterior_predictive_statistic(queries, infers, query_merge(merge, call = call),
                                                weights, threads, call = call))
  }
  states <- query_states(infers, call = call)
  x <- query_matrix(queries, states$D, call = call)
  spc <- check_whole_number(samples_per_chain, "samples_per_chain", min = 1,
                            call = call)
  merge <- query_merge(merge, call = call)
  exact <- check_flag(exact, "exact", call = call)
  S <- length(states$states)
  w <- query_weights(weights, S, call = call)
  threads <- resolve_threads(threads, call = call)

  if (exact) {
    out <- .Call(C_query_predictive, x, states$states, 3L, NULL, w, threads)
    out <- clamp_probability(out)
    if (merge == "mode") out <- out > 0.5
  } else {
    n_draws <- as.double(S) * spc
    if (n_draws > .Machine$integer.max) {
      abort_arg("samples_per_chain",
                sprintf("gives %.0f draws over %d states: too many.",
                        n_draws, S), call = call)
    }
    # states of weight 0 contribute nothing: no draws are made from them
    draw_state <- rep(which(w > 0), each = spc)
    kind <- if (merge == "avg") 1L else 2L
    out <- .Call(C_query_predictive, x, states$states, kind, draw_state, w,
                 threads)
    if (kind == 1L) out <- clamp_probability(out)
  }
  dimnames(out) <- dimnames(queries)
  out
}

#' Co-clustering frequencies of the rows
#'
#' The fraction of latent states in which each pair of rows shares a group:
#' entry `[i, j]` of the result is the (weighted) fraction of the states in
#' `infers` with rows `i` and `j` in the same group, an estimate of the
#' posterior probability that they belong together. The diagonal is 1.
#'
#' The result has `n^2` entries; for many rows, [point_partition()] summarises
#' the states without forming it.
#'
#' @inheritParams posterior_predictive
#' @param infers A latent state, or a non-empty list of states of one model
#'   definition and number of rows.
#' @param weights Optional non-negative weights of the states, one per state,
#'   not all zero (normalised to sum to 1); `NULL` weighs them equally.
#' @return A symmetric `n x n` numeric matrix, `n` the number of rows of the
#'   data the states were fitted to.
#' @seealso [point_partition()]
#' @examples
#' set.seed(1)
#' Y <- matrix(runif(12 * 4) < 0.5, 12, 4)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' view <- dataview(Y)
#' infers <- lapply(1:4, function(i) initialize_state(defn, view))
#' round(zmatrix(infers)[1:5, 1:5], 2)
#' @export
zmatrix <- function(infers, weights = NULL, threads = NULL) {
  call <- sys.call()
  states <- query_states(infers, same_n = TRUE, call = call)
  w <- query_weights(weights, length(states$states), call = call)
  threads <- resolve_threads(threads, call = call)
  .Call(C_query_zmatrix, states$labels, w, threads)
}

# Weighted means of probabilities over many states can round past 1 (fifty
# weights of 1/50 sum to 1 + 4e-16): results are probabilities, so they are
# kept in [0, 1].
clamp_probability <- function(p) {
  p[] <- pmin(pmax(p, 0), 1)
  p
}

# ---------------------------------------------------------------------------
# Argument normalisation

# A state or a list of states -> list(D, n, states = per-state lists of the
# arrays the C side reads, labels = 0-based group labels numbered in order of
# first appearance). All states must share one model definition (D and the
# feature models); with same_n, also the number of rows.
query_states <- function(infers, same_n = FALSE, call = caller_call()) {
  if (inherits(infers, "microscopes_state")) infers <- list(infers)
  if (!is.list(infers) || is.data.frame(infers)) {
    abort_arg("infers", sprintf(
      "must be a latent state or a list of latent states, not %s.",
      describe_type(infers)), call = call)
  }
  if (length(infers) == 0L) {
    abort_arg("infers", "must hold at least one latent state, not an empty list.",
              call = call)
  }
  is_st <- vapply(infers, inherits, logical(1), what = "microscopes_state")
  if (!all(is_st)) {
    bad <- which(!is_st)[1]
    abort_arg("infers", sprintf(
      "must be a latent state or a list of latent states; element %d is %s.",
      bad, describe_type(infers[[bad]])), call = call)
  }
  D <- query_state_field(infers[[1]], "D", 1L, call)
  models <- infers[[1]]$models
  n <- query_state_field(infers[[1]], "n", 1L, call)
  out <- vector("list", length(infers))
  labels <- if (same_n) vector("list", length(infers))
  for (s in seq_along(infers)) {
    st <- infers[[s]]
    D_s <- query_state_field(st, "D", s, call)
    if (D_s != D || !identical(as.character(st$models), as.character(models))) {
      abort_arg("infers", sprintf(paste0(
        "must hold states of one model definition: state 1 has %d ",
        "features, state %d has %d%s."), D, s, D_s,
        if (D_s == D) " with different feature models" else ""), call = call)
    }
    if (!all(st$models == "beta_bernoulli")) {
      abort_arg("infers", sprintf(
        "state %d has feature models other than \"beta_bernoulli\".", s),
        call = call)
    }
    out[[s]] <- query_state_arrays(st, s, D, call)
    if (same_n) {
      n_s <- query_state_field(st, "n", s, call)
      if (n_s != n) {
        abort_arg("infers", sprintf(paste0(
          "must hold states of the same data: state 1 has %d rows, ",
          "state %d has %d."), n, s, n_s), call = call)
      }
      a <- st$assignments
      if (!is.numeric(a) || length(a) != n || anyNA(a)) {
        abort_arg("infers", sprintf(
          "state %d has `assignments` that are not %d group ids.", s, n),
          call = call)
      }
      labels[[s]] <- match(a, unique(a)) - 1L
    }
  }
  list(D = D, n = n, states = out, labels = labels)
}

query_state_field <- function(st, name, s, call) {
  v <- st[[name]]
  if (!is.numeric(v) || length(v) != 1L || is.na(v) || v < 0 || v != round(v)) {
    abort_arg("infers", sprintf(
      "state %d is malformed: `%s` is not a whole number.", s, name),
      call = call)
  }
  as.integer(v)
}

# The arrays of one state, with the storage types the C side expects.
query_state_arrays <- function(st, s, D, call) {
  malformed <- function(what) {
    abort_arg("infers", sprintf("state %d is malformed: %s.", s, what),
              call = call)
  }
  whole <- function(x) {
    is.numeric(x) && !anyNA(x) && (is.integer(x) || all(x == round(x)))
  }
  sizes <- st$group_sizes
  K <- length(sizes)
  if (!whole(sizes)) malformed("`group_sizes` must be whole numbers")
  counts <- function(name) {
    x <- st[[name]]
    if (!whole(x) || length(x) != K * D ||
        (K > 0L && !identical(as.integer(dim(x)), c(K, D)))) {
      malformed(sprintf("`%s` must be a %d x %d matrix of counts", name, K, D))
    }
    storage.mode(x) <- "integer"
    x
  }
  heads <- counts("heads")
  tails <- counts("tails")
  alpha <- st$cluster_hp$alpha
  if (!is.numeric(alpha) || length(alpha) != 1L) {
    malformed("`cluster_hp$alpha` must be a single number")
  }
  hps <- st$feature_hps
  if (!is.numeric(hps) || length(hps) != 2L * D) {
    malformed(sprintf("`feature_hps` must be a %d x 2 matrix", D))
  }
  list(group_sizes = as.integer(sizes), heads = heads, tails = tails,
       alpha = as.double(alpha), feature_hps = as.double(hps),
       groups = state_groups(st))
}

# queries -> integer matrix of 0, 1 and NA.
query_matrix <- function(queries, D, call = caller_call()) {
  if (is.data.frame(queries)) {
    abort_arg("queries", "must be a logical or 0/1 matrix, not a data frame.",
              call = call)
  }
  if (!is.matrix(queries) || !(is.logical(queries) || is.numeric(queries))) {
    hint <- if (is.atomic(queries) && is.null(dim(queries)) &&
                length(queries) == D) {
      " (for one query, use `matrix(x, nrow = 1)`)"
    } else {
      ""
    }
    abort_arg("queries", sprintf(
      "must be a logical or 0/1 matrix, not %s%s.", describe_type(queries),
      hint), call = call)
  }
  if (ncol(queries) != D) {
    abort_arg("queries", sprintf(
      "must have one column per feature of the states (%d), not %d.",
      D, ncol(queries)), call = call)
  }
  if (is.numeric(queries)) {
    ok <- is.na(queries) | queries == 0 | queries == 1
    if (!all(ok)) {
      bad <- which(!ok)[1]
      abort_arg("queries", sprintf(
        "must hold only 0, 1 and NA; entry [%d, %d] is %s.",
        (bad - 1L) %% nrow(queries) + 1L, (bad - 1L) %/% nrow(queries) + 1L,
        format(queries[bad])), call = call)
    }
  }
  x <- queries
  storage.mode(x) <- "integer"
  attributes(x) <- list(dim = dim(queries))
  x
}

query_merge <- function(merge, call = caller_call()) {
  if (identical(merge, c("avg", "mode"))) return("avg")
  if (!is.character(merge) || length(merge) != 1L || is.na(merge) ||
      !merge %in% c("avg", "mode")) {
    abort_arg("merge", sprintf("must be \"avg\" or \"mode\", not %s.",
                               describe_value(merge)), call = call)
  }
  merge
}

# The memory a query's result and draw list take, computed before anything
# is allocated, and refused at once when it exceeds
# `getOption("microscopes.max_query_bytes")` (8 GiB by default).
check_query_bytes <- function(bytes, n_draws, call = caller_call()) {
  limit <- getOption("microscopes.max_query_bytes", 8 * 1024^3)
  if (bytes > limit) {
    abort_arg("samples_per_chain", sprintf(paste(
      "asks for %.0f draws, whose array would take %.1f GB, more than the limit of",
      "%.1f GB; use fewer draws or queries, or raise",
      "`options(microscopes.max_query_bytes = )`."), n_draws, bytes / 1e9, limit / 1e9),
      call = call)
  }
}

# NULL -> equal weights; else non-negative, finite, not all zero; sums to 1.
query_weights <- function(weights, S, call = caller_call()) {
  if (is.null(weights)) return(rep(1 / S, S))
  if (!is.numeric(weights) || length(weights) != S || anyNA(weights) ||
      any(!is.finite(weights)) || any(weights < 0) || sum(weights) <= 0) {
    abort_arg("weights", sprintf(paste0(
      "must be NULL or %d non-negative finite numbers (one per state), ",
      "not all zero; got %s."), S, describe_value(weights)), call = call)
  }
  # Scaled by the largest first, so that a sum of huge weights cannot
  # overflow to Inf (which would make every weight 0).
  w <- as.double(weights) / max(weights)
  w / sum(w)
}

