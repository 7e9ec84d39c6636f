#' Initialise a latent state
#'
#' Makes the starting point of a chain: a partition of the rows, the CRP
#' concentration and every feature's beta hyperparameters. By default the
#' partition is a draw from the CRP prior with the given concentration (as in
#' datamicroscopes), using R's random number generator, so `set.seed()`
#' makes it reproducible. For a finite mixture ([fixed_model_definition()])
#' it is a draw from the finite mixture's prior (its Polya urn: a row joins
#' a group of \eqn{m} earlier rows with probability proportional to
#' \eqn{m + \alpha/K}, a new group with \eqn{(K - K_+)\alpha/K}), so it
#' has at most \eqn{K} groups; `cluster_hp$alpha` is then the total
#' concentration of the Dirichlet(\eqn{\alpha/K}, ..., \eqn{\alpha/K})
#' weights.
#'
#' @param defn A model definition from [model_definition()] or
#'   [fixed_model_definition()].
#' @param view A [dataview()] or a binary matrix.
#' @param cluster_hp `list(alpha = )`, the CRP concentration (> 0).
#' @param feature_hps `NULL` for \eqn{a = b = 1} everywhere, a list with one
#'   `list(alpha = , beta = )` per feature, or a D x 2 matrix of
#'   \eqn{(a, b)} by row. For a definition with other models than
#'   [beta_bernoulli()] (a data frame view), `NULL` for each model's
#'   defaults set from its column (see [models]) or a list of D named
#'   lists with each model's hyperparameters (names as in [models]; a
#'   `dirichlet_discrete(k)` feature's `alphas` of length k).
#' @param assignment `NULL` for a draw from the prior, or an integer vector
#'   of group labels, one per row. Labels between 1 and n are kept as group
#'   ids; other labels are renumbered 1, 2, ... in sorted order. For a
#'   finite mixture it may use at most \eqn{K} distinct labels.
#' @return A `microscopes_state`: a plain list that `saveRDS()` keeps, with
#'   the partition, the hyperparameters and each group's sufficient
#'   statistics (so its accessors and plots need no data).
#' @seealso [groups()] and the other accessors; [runner()].
#' @examples
#' set.seed(1)
#' Y <- matrix(runif(20 * 4) < 0.3, 20, 4)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' s <- initialize_state(defn, dataview(Y))
#' s
#' @export
initialize_state <- function(defn, view, cluster_hp = list(alpha = 1),
                             feature_hps = NULL, assignment = NULL) {
  check_definition(defn)
  view <- as_dataview(view)
  check_view_fits(view, defn)
  if (!is.list(cluster_hp) || is.null(cluster_hp$alpha)) {
    abort_arg("cluster_hp", "must be a list with element `alpha`, e.g. `list(alpha = 1)`.")
  }
  alpha <- check_hyperparameter(cluster_hp$alpha, "cluster_hp$alpha")
  mixed <- defn_is_mixed(defn)
  hps <- if (mixed) as_mixed_feature_hps(feature_hps, defn, view) else
    as_feature_hps(feature_hps, defn$D)
  groups <- definition_groups(defn)
  if (is.null(assignment)) {
    assignment <- if (groups > 0L) sample_finite_mixture(defn$n, groups, alpha) else
      sample_crp(defn$n, alpha)
  } else {
    assignment <- check_assignment(assignment, defn$n)
    if (groups > 0L && length(unique(assignment)) > groups) {
      abort_arg("assignment", sprintf(
        "has %d distinct groups, but `defn` is a finite mixture of K = %d groups.",
        length(unique(assignment)), groups))
    }
  }
  if (mixed) return(new_mixed_state(defn, view, assignment, alpha, hps, groups))
  new_state(bb_view(view, defn), assignment, alpha, hps, defn$models, groups)
}

# A partition of n rows drawn from the finite mixture's prior, by its Polya
# urn (partition_prior.h): row i joins a group of m earlier rows with
# probability (m + alpha/K) / (i - 1 + alpha), a new group with
# (K - K+) alpha/K / (i - 1 + alpha). Labels 1..K+ in order of appearance;
# R's random number generator.
sample_finite_mixture <- function(n, groups, alpha) {
  share <- alpha / groups
  labels <- integer(n)
  sizes <- integer(0)
  for (i in seq_len(n)) {
    weights <- c(sizes + share, (groups - length(sizes)) * share)
    k <- sample.int(length(weights), 1L, prob = weights)
    if (k > length(sizes)) sizes <- c(sizes, 0L)
    sizes[k] <- sizes[k] + 1L
    labels[i] <- k
  }
  labels
}

# A CRP(alpha) partition of n rows, labels 1..K in order of appearance,
# drawn in C with R's random number generator.
sample_crp <- function(n, alpha) {
  .Call(C_sample_crp, as.integer(n), as.double(alpha))
}

check_assignment <- function(assignment, n, call = caller_call()) {
  force(call)
  ok <- is.numeric(assignment) && length(assignment) == n && !anyNA(assignment) &&
    all(is.finite(assignment)) && all(assignment == round(assignment))
  if (!ok) {
    abort_arg("assignment", sprintf("must be a vector of %d whole-number group labels without NA.", n),
              call = call)
  }
  if (min(assignment) < 1 || max(assignment) > n) {
    assignment <- match(assignment, sort(unique(assignment)))
  }
  as.integer(assignment)
}

as_feature_hps <- function(feature_hps, D, call = caller_call()) {
  force(call)
  if (is.null(feature_hps)) {
    hps <- matrix(1, D, 2)
  } else if (is.matrix(feature_hps) && is.numeric(feature_hps)) {
    if (!identical(dim(feature_hps), c(D, 2L))) {
      abort_arg("feature_hps", sprintf("must be a %d x 2 matrix (alpha, beta by feature), not %d x %d.",
                                       D, nrow(feature_hps), ncol(feature_hps)), call = call)
    }
    hps <- feature_hps
  } else if (is.list(feature_hps)) {
    if (length(feature_hps) != D) {
      abort_arg("feature_hps", sprintf("must have one list(alpha = , beta = ) per feature (%d), not %d.",
                                       D, length(feature_hps)), call = call)
    }
    hps <- t(vapply(feature_hps, function(hp) {
      if (!is.list(hp) || !is.numeric(hp$alpha) || !is.numeric(hp$beta) ||
          length(hp$alpha) != 1L || length(hp$beta) != 1L) {
        abort_arg("feature_hps", "must hold elements of the form list(alpha = , beta = ).", call = call)
      }
      c(hp$alpha, hp$beta)
    }, numeric(2)))
  } else {
    abort_arg("feature_hps", sprintf("must be NULL, a list or a %d x 2 matrix, not %s.",
                                     D, describe_type(feature_hps)), call = call)
  }
  storage.mode(hps) <- "double"
  if (anyNA(hps) || any(!is.finite(hps)) || any(hps <= 0)) {
    abort_arg("feature_hps", "must be finite and > 0.", call = call)
  }
  if (any(hps > max_hyperparameter)) {
    abort_arg("feature_hps", sprintf(paste(
      "must be at most %g: above it a + b + counts round to a + b in double",
      "precision, and sums of such values overflow."), max_hyperparameter), call = call)
  }
  dimnames(hps) <- list(NULL, c("alpha", "beta"))
  hps
}

new_state <- function(view, assignment, alpha, hps, models, groups = 0L) {
  counts <- .Call(C_group_counts, view, assignment)
  state_from_parts(view$n, view$D, assignment, counts, alpha, hps, models, groups = groups)
}

# The version of the saved-state format (DECISIONS.md, "Saved states and
# checkpoints"): states without `format_version` are version 1 (0.1.0).
# Version 2 adds what an exact resume needs: `rng` (the chain's random
# stream, 32 raw bytes, or NULL for a state no chain has run yet),
# `iteration` (iterations the chain has done) and `sampler`, the order in
# which the assign kernel lists the groups (`active_order`, group ids) and
# the empty slot it offers as a new group (`ghost`), or NULL. Version 3 adds
# `partition_prior`: list(name = "crp") for a Dirichlet process mixture,
# list(name = "dirichlet", groups = K) for a finite mixture of K groups
# (fixed_model_definition()); states of versions 1 and 2 are CRP states.
# Version 4 adds the states of definitions with models other than
# beta_bernoulli() (R/state-mixed.R): `stats` (one matrix of statistics per
# feature) and `parameters` (each feature's model parameters), feature_hps
# a list of named lists and heads = tails = NULL; all-bb states keep the
# fields of version 3. Version 5 (issue 14) adds the models of that issue:
# vector-valued features (dirichlet_multinomial(), normal_inverse_wishart()),
# whose feature_hps entries may be vectors or matrices and whose `stats`
# columns are the kind's (stat_names()), and beta_bernoulli_nonconj(), whose
# `stats` hold each group's explicit p (columns p, log_p, log_1mp) besides
# its counts, restored as saved; and `latent_cells`, present when a
# normal_inverse_wishart() feature has rows partly NA: one entry per
# feature, NULL or list(rows = those rows (1-based, increasing), values =
# their cells as the chain holds them, the missing entries imputed by data
# augmentation). A state of only older kinds has the fields of version 4.
state_format_version <- 5L

# The state's partition prior, for format 3 and for older states (CRP).
partition_prior_field <- function(groups) {
  if (groups > 0L) list(name = "dirichlet", groups = as.integer(groups)) else list(name = "crp")
}

# 0 for a Dirichlet process state, K for a finite mixture's (format 3;
# older states are CRP states).
state_groups <- function(latent) {
  prior <- latent$partition_prior
  if (is.null(prior) || identical(prior$name, "crp")) return(0L)
  as.integer(prior$groups)
}

state_from_parts <- function(n, D, assignment, counts, alpha, hps, models,
                             rng = NULL, iteration = 0, sampler = NULL, groups = 0L) {
  dimnames(hps) <- list(NULL, c("alpha", "beta"))
  structure(list(n = as.integer(n), D = as.integer(D),
                 assignments = assignment,
                 groups = counts$groups, group_sizes = counts$group_sizes,
                 heads = counts$heads, tails = counts$tails,
                 cluster_hp = list(alpha = alpha),
                 feature_hps = hps, models = models,
                 partition_prior = partition_prior_field(groups),
                 format_version = state_format_version,
                 rng = rng, iteration = as.double(iteration), sampler = sampler),
            class = "microscopes_state")
}

#' Give a state a fresh random stream
#'
#' A state read from a runner with [get_latent()] carries its chain's
#' random stream, so that [runner()] resumes the chain exactly where it
#' stopped. Several runners made from one such state would be the same
#' chain, draw for draw (and a convergence diagnostic such as R-hat would
#' be a false 1): `reseed()` gives the state a new stream, drawn from R's
#' random number generator (so `set.seed()` makes it reproducible), as a
#' runner made from [initialize_state()] gets one.
#'
#' @param state A latent state.
#' @return The state with a fresh stream.
#' @seealso [runner()], [parallel_runner()]
#' @examples
#' set.seed(1)
#' Y <- matrix(runif(40 * 6) < 0.3, 40, 6)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' kc <- default_kernel_config(defn)
#' r <- runner(defn, Y, initialize_state(defn, Y), kc)
#' run(r, 5)
#' s <- get_latent(r)
#' chains <- lapply(1:3, function(i) runner(defn, Y, reseed(s), kc))
#' pr <- parallel_runner(chains)
#' @export
reseed <- function(state) {
  check_state(state, "state")
  state$rng <- .Call(C_fresh_stream)
  if (is.null(state$format_version)) {
    state$format_version <- state_format_version
    if (is.null(state$iteration)) state$iteration <- 0
  }
  state
}

# The checkpoint a runner resumes from, or NULL for a fresh stream. A state
# of format 1 (no stream) gets one from R's RNG, with a message.
state_checkpoint <- function(latent, call = caller_call()) {
  force(call)
  version <- latent$format_version
  if (is.null(version)) {
    message("`latent` was saved by microscopes 0.1.0, without its chain's random stream: ",
            "the chain goes on with a fresh stream from R's random number generator.")
    return(NULL)
  }
  if (!is.numeric(version) || length(version) != 1L || is.na(version) ||
      !version %in% seq_len(state_format_version)) {
    abort_arg("latent", sprintf(
      "has state format version %s; this microscopes reads versions 1 to %d (is it newer?).",
      describe_value(version), state_format_version), call = call)
  }
  if (is.null(latent$rng)) return(NULL)
  it <- latent$iteration
  if (!is.numeric(it) || length(it) != 1L || is.na(it) || !is.finite(it) || it < 0 ||
      it != round(it)) {
    abort_arg("latent", sprintf("is not a valid state: its `iteration` must be a whole number >= 0, not %s.",
                                describe_value(it)), call = call)
  }
  checkpoint <- list(rng = latent$rng, iteration = as.double(it))
  sampler <- latent$sampler
  if (!is.null(sampler)) {
    order <- sampler$active_order
    ghost <- sampler$ghost
    ok <- is.numeric(order) && length(order) == length(latent$groups) && !anyNA(order) &&
      setequal(order, latent$groups) && !anyDuplicated(order) &&
      is.numeric(ghost) && length(ghost) == 1L && !is.na(ghost) && ghost == round(ghost) &&
      ghost >= 1 && ghost <= latent$n + 4 && !(ghost %in% latent$groups)
    if (!ok) {
      abort_arg("latent", paste(
        "is not a valid state: its `sampler` must list its groups once each (`active_order`)",
        "and an empty slot (`ghost`); drop it with `latent$sampler <- NULL`."), call = call)
    }
    checkpoint$active_order <- as.integer(order)
    checkpoint$ghost <- as.integer(ghost)
  }
  checkpoint
}

#' Is this a latent state?
#' @param x Any object.
#' @return `TRUE` for a `microscopes_state`.
#' @examples
#' is_state(1)
#' @export
is_state <- function(x) inherits(x, "microscopes_state")

check_state <- function(latent, arg = "latent", call = caller_call()) {
  force(call)
  if (!is_state(latent)) {
    abort_arg(arg, sprintf("must be a latent state (from `initialize_state()` or `get_latent()`), not %s.",
                           describe_type(latent)), call = call)
  }
  # The scalar fields every accessor relies on (a hand-edited state may lack
  # them); the arrays are checked where they are used.
  for (field in c("n", "D")) {
    v <- latent[[field]]
    if (!is.numeric(v) || length(v) != 1L || is.na(v) || !is.finite(v) || v < 1 || v != round(v)) {
      abort_arg(arg, sprintf("is not a valid state: its `%s` must be a whole number >= 1, not %s.",
                             field, describe_value(v)), call = call)
    }
  }
  alpha <- latent$cluster_hp$alpha
  if (!is.numeric(alpha) || length(alpha) != 1L || is.na(alpha) || !is.finite(alpha) || alpha <= 0) {
    abort_arg(arg, sprintf("is not a valid state: its CRP concentration `cluster_hp$alpha` must be a number > 0, not %s.",
                           describe_value(alpha)), call = call)
  }
  prior <- latent$partition_prior
  if (!is.null(prior)) {
    ok <- is.list(prior) && (identical(prior$name, "crp") ||
      (identical(prior$name, "dirichlet") && is.numeric(prior$groups) &&
         length(prior$groups) == 1L && !is.na(prior$groups) && prior$groups >= 1 &&
         prior$groups == round(prior$groups) && prior$groups <= .Machine$integer.max))
    if (!ok) {
      abort_arg(arg, paste(
        "is not a valid state: its `partition_prior` must be list(name = \"crp\") or",
        "list(name = \"dirichlet\", groups = K) with K a whole number >= 1."), call = call)
    }
    groups <- state_groups(latent)
    if (groups > 0L && length(latent$groups) > groups) {
      abort_arg(arg, sprintf(
        "is not a valid state: it has %d groups, more than the K = %d of its finite mixture.",
        length(latent$groups), groups), call = call)
    }
  }
  invisible(latent)
}

# Hyperparameters above this are refused: a + b + count rounds to a + b,
# so the counts stop mattering (and alpha = 1e300 never moves), and sums of
# values near the largest double overflow to Inf.
max_hyperparameter <- 1e15

check_hyperparameter <- function(x, arg, call = caller_call()) {
  force(call)
  x <- check_positive_number(x, arg, call = call)
  if (x > max_hyperparameter) {
    abort_arg(arg, sprintf(paste(
      "must be at most %g, not %s: above it adding a count of rows changes nothing",
      "in double precision, so the sampler cannot move it."), max_hyperparameter,
      describe_value(x)), call = call)
  }
  x
}

#' Latent state accessors
#'
#' Read a state's partition, hyperparameters, sufficient statistics and
#' scores. Group ids are positive integers; they need not be contiguous.
#' They may change over a run: when the ids of a runner's groups have spread
#' to more than about twice the number of groups, the runner relabels them
#' 1, ..., K (in the order of their old ids) at the start of an iteration,
#' so compare the partitions of two states, not their labels (see "Group
#' ids" in [assign_kernel()]).
#'
#' @param s A latent state (from [initialize_state()] or [get_latent()]).
#' @param g A group id, one of `groups(s)`.
#' @param d A feature (column number).
#' @param by_feature For `score_data()`: return one value per feature
#'   instead of their sum.
#' @return
#' * `groups()`: the ids of the non-empty groups, increasing.
#' * `groupsize()`: the number of rows in group `g`.
#' * `assignments()`: the group id of each row.
#' * `n_groups()`: the number of non-empty groups.
#' * `get_cluster_hp()`: `list(alpha = )`, the CRP concentration; for a
#'   finite mixture ([fixed_model_definition()]) the total concentration of
#'   its Dirichlet(\eqn{\alpha/K}, ..., \eqn{\alpha/K}) weights.
#' * `get_feature_hp()`: `list(alpha = , beta = )` of feature `d`; for a
#'   definition with other models, the named list of feature `d`'s
#'   hyperparameters (names as in [models]).
#' * `feature_hps()`: a D x 2 matrix with columns `alpha` and `beta`; for a
#'   definition with other models, a list of D such named lists.
#' * `get_suffstats()`: `list(heads = , tails = )`, the observed ones and
#'   zeros of feature `d` in group `g` (missing entries are not counted).
#'   For a definition with other models, the named list of feature `d`'s
#'   statistics in group `g`: dirichlet_discrete `count_1`, ..., `count_k`;
#'   gamma_poisson `n`, `sum`, `sum_log_factorial`; beta_negative_binomial
#'   `n`, `sum`, `sum_log_choose`; normal_inverse_chisq `n`, `mean`, `m2`
#'   (sum of squared deviations); beta_bernoulli `heads`, `tails`.
#' * `suffstats()`: an integer array `[groups, features, c("heads", "tails")]`;
#'   for a definition with other models, a list of D matrices (rows =
#'   groups, columns = the statistics above).
#' * `score_assignment()`: the log prior probability of the partition given
#'   \eqn{\alpha}: under the CRP, or for a finite mixture of \eqn{K}
#'   groups \eqn{\log[K!/(K - K_+)!\, \Gamma(\alpha)/\Gamma(n + \alpha)
#'   \prod_k \Gamma(n_k + \alpha/K)/\Gamma(\alpha/K)]} (the unlabelled
#'   partition; see [fixed_model_definition()]).
#' * `score_data()`: the log marginal likelihood of the data given the
#'   partition and the feature hyperparameters.
#' @examples
#' set.seed(1)
#' Y <- matrix(runif(20 * 4) < 0.3, 20, 4)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' s <- initialize_state(defn, dataview(Y))
#' groups(s); n_groups(s); groupsize(s, groups(s)[1])
#' get_suffstats(s, groups(s)[1], 2)
#' score_assignment(s) + score_data(s)
#' @name state-accessors
NULL

#' @rdname state-accessors
#' @export
groups <- function(s) {
  check_state(s, "s")
  s$groups
}

group_row <- function(s, g, call = caller_call()) {
  force(call)
  if (!is.numeric(g) || length(g) != 1L || is.na(g) || !(g %in% s$groups)) {
    abort_arg("g", sprintf("must be one of the state's group ids (see `groups(s)`), not %s.",
                           describe_value(g)), call = call)
  }
  match(g, s$groups)
}

#' @rdname state-accessors
#' @export
groupsize <- function(s, g) {
  check_state(s, "s")
  s$group_sizes[group_row(s, g)]
}

#' @rdname state-accessors
#' @export
assignments <- function(s) {
  check_state(s, "s")
  s$assignments
}

#' @rdname state-accessors
#' @export
n_groups <- function(s) {
  check_state(s, "s")
  length(s$groups)
}

#' @rdname state-accessors
#' @export
get_cluster_hp <- function(s) {
  check_state(s, "s")
  s$cluster_hp
}

check_feature_index <- function(d, D, call = caller_call()) {
  force(call)
  if (!is.numeric(d) || length(d) != 1L || is.na(d) || d != round(d) || d < 1 || d > D) {
    abort_arg("d", sprintf("must be a feature number between 1 and %d, not %s.", D,
                           describe_value(d)), call = call)
  }
  as.integer(d)
}

#' @rdname state-accessors
#' @export
get_feature_hp <- function(s, d) {
  check_state(s, "s")
  d <- check_feature_index(d, s$D)
  if (is_mixed_state(s)) return(s$feature_hps[[d]])
  list(alpha = unname(s$feature_hps[d, "alpha"]), beta = unname(s$feature_hps[d, "beta"]))
}

#' @rdname state-accessors
#' @export
feature_hps <- function(s) {
  check_state(s, "s")
  s$feature_hps
}

#' @rdname state-accessors
#' @export
get_suffstats <- function(s, g, d) {
  check_state(s, "s")
  k <- group_row(s, g)
  d <- check_feature_index(d, s$D)
  if (is_mixed_state(s)) return(as.list(s$stats[[d]][k, ]))
  list(heads = s$heads[k, d], tails = s$tails[k, d])
}

#' @rdname state-accessors
#' @export
suffstats <- function(s) {
  check_state(s, "s")
  if (is_mixed_state(s)) return(s$stats)
  array(c(s$heads, s$tails), dim = c(length(s$groups), s$D, 2L),
        dimnames = list(s$groups, NULL, c("heads", "tails")))
}

#' @rdname state-accessors
#' @export
score_assignment <- function(s) {
  check_state(s, "s")
  .Call(C_score_partition, s$group_sizes, s$n, s$cluster_hp$alpha, state_groups(s))
}

#' @rdname state-accessors
#' @export
score_data <- function(s, by_feature = FALSE) {
  check_state(s, "s")
  check_flag(by_feature, "by_feature")
  scores <- if (is_mixed_state(s)) mixed_score_data(s) else
    .Call(C_score_features, s$heads, s$tails, s$feature_hps)
  if (by_feature) scores else sum(scores)
}

#' @export
print.microscopes_state <- function(x, ...) {
  groups <- state_groups(x)
  if (groups > 0L) {
    cat(sprintf(paste("<microscopes state: finite mixture, K = %d: %d rows in %d groups,",
                      "%d features, alpha = %.4g (total concentration: weights ~ Dirichlet(alpha/K))>\n"),
                groups, x$n, length(x$groups), x$D, x$cluster_hp$alpha))
  } else {
    cat(sprintf("<microscopes state: %d rows in %d groups, %d features, alpha = %.4g>\n",
                x$n, length(x$groups), x$D, x$cluster_hp$alpha))
  }
  sizes <- sort(x$group_sizes, decreasing = TRUE)
  shown <- utils::head(sizes, 10)
  cat("  largest groups:", paste(shown, collapse = " "),
      if (length(sizes) > 10) "..." else "", "\n")
  invisible(x)
}

#' @export
summary.microscopes_state <- function(object, ...) {
  structure(list(n = object$n, D = object$D, n_groups = length(object$groups),
                 group_sizes = sort(object$group_sizes, decreasing = TRUE),
                 alpha = object$cluster_hp$alpha, fixed_groups = state_groups(object),
                 feature_hps = if (is.matrix(object$feature_hps)) summary(object$feature_hps) else
                   str_feature_hps(object$feature_hps),
                 log_joint = score_assignment(object) + score_data(object)),
            class = "summary.microscopes_state")
}

#' @export
print.summary.microscopes_state <- function(x, ...) {
  cat(sprintf("microscopes state: %d rows, %d features, %d groups\n", x$n, x$D, x$n_groups))
  if (isTRUE(x$fixed_groups > 0L)) {
    cat(sprintf(paste("Finite mixture, K = %d; total concentration alpha = %.4g",
                      "(weights ~ Dirichlet(alpha/K)); log joint = %.2f\n"),
                x$fixed_groups, x$alpha, x$log_joint))
  } else {
    cat(sprintf("CRP concentration alpha = %.4g; log joint = %.2f\n", x$alpha, x$log_joint))
  }
  cat("Group sizes:", utils::head(x$group_sizes, 20), if (x$n_groups > 20) "...", "\n")
  cat("Feature hyperparameters:\n")
  print(x$feature_hps)
  invisible(x)
}

# One line per feature of a mixed state's hyperparameters, for summary().
str_feature_hps <- function(hps) {
  noquote(vapply(hps, function(hp) paste(sprintf("%s = %s", names(hp),
    vapply(hp, function(v) paste(format(v, digits = 4), collapse = " "), character(1))),
    collapse = ", "), character(1)))
}
