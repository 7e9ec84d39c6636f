# States of definitions with models other than beta_bernoulli() ("mixed"
# states; coord CONTRACT.md, "Mixed states"): feature_hps is a list of D
# named lists, heads and tails are NULL, and `stats` holds one matrix per
# feature (rows = groups in the order of `groups`, columns = the kind's
# statistics, named). A definition of beta_bernoulli() features only keeps
# today's state exactly, also when its view comes from a data frame (the
# view is then the packed binary view of its columns).

# Whether the blocks of the definition's kinds have the ops split-merge
# needs (block.h: merged_log_marginal, copy_slot, recount).
blocks_support_split_merge <- function(defn) {
  .Call(C_kinds_have_group_ops, unname(model_kind_ids[unique(defn_kinds(defn))]))
}

# Is any feature of the definition not beta-Bernoulli?
defn_is_mixed <- function(defn) any(defn$models != "beta_bernoulli")

# The binary view the all-bb path runs on: a binary-matrix view as it is,
# a data frame's logical / two-level factor columns packed as one.
bb_view <- function(view, defn, call = caller_call()) {
  force(call)
  if (!identical(view$source, "data.frame")) return(view)
  pack_blocks(view, defn, call = call)[[1]]$bb
}

# Column names of each kind's statistics, as get_stats gives them
# (src/block_<kind>.c).
stat_names <- function(model) {
  switch(model$kind,
    bb = c("heads", "tails"),
    dd = paste0("count_", seq_len(model$parameters$k)),
    gp = c("n", "sum", "sum_log_factorial"),
    bnb = c("n", "sum", "sum_log_choose"),
    nich = c("n", "mean", "m2"),
    dm = c("n", paste0("count_", seq_len(model$parameters$k)), "sum_log_multinomial"),
    niw = {
      d <- model$parameters$dim
      c("n", paste0("mean_", seq_len(d)),
        sprintf("scatter_%d_%d", rep(seq_len(d), d), rep(seq_len(d), each = d)))
    },
    bbnc = c("heads", "tails", "p", "log_p", "log_1mp"))
}

# Statistics that are a group's explicit parameter, not a function of its
# rows (bbnc's p): not compared with a recount, restored as saved.
parameter_stat <- function(name) name %in% c("p", "log_p", "log_1mp")

# Statistics that are whole numbers (compared exactly on resume).
integer_stat <- function(name) name %in% c("heads", "tails", "n", "sum") || startsWith(name, "count_")

# feature_hps for a mixed definition: NULL -> default_feature_hp() per
# column; otherwise a list of D named lists, each checked against its
# model (names, lengths, ranges; MODELS.md).
as_mixed_feature_hps <- function(feature_hps, defn, view, call = caller_call()) {
  force(call)
  D <- defn$D
  models <- lapply(seq_len(D), function(j) defn_model(defn, j))
  if (is.null(feature_hps)) {
    return(lapply(seq_len(D), function(j) default_feature_hp(models[[j]], view$columns[[j]])))
  }
  if (!is.list(feature_hps) || is.data.frame(feature_hps) || length(feature_hps) != D) {
    abort_arg("feature_hps", sprintf(
      "must be NULL or a list of %d named lists, one per feature (the definition mixes models), not %s.",
      D, describe_type(feature_hps)), call = call)
  }
  lapply(seq_len(D), function(j) check_one_feature_hp(feature_hps[[j]], models[[j]], j, call))
}

check_one_feature_hp <- function(hp, model, j, call) {
  names_ok <- is.list(hp) && !is.null(names(hp)) && setequal(names(hp), model$hp_names) &&
    length(hp) == length(model$hp_names)
  if (!names_ok) {
    abort_arg("feature_hps", sprintf(
      "must give feature %d (%s()) a list with elements %s.", j, model$name,
      paste0("`", model$hp_names, "`", collapse = ", ")), call = call)
  }
  hp <- hp[model$hp_names]
  shapes <- model_hp_shapes(model)
  for (name in model$hp_names) {
    v <- hp[[name]]
    size <- prod(shapes[[name]])
    if (!is.numeric(v) || length(v) != size || anyNA(v) || any(!is.finite(v))) {
      abort_arg("feature_hps", sprintf(
        "must give feature %d (%s) a finite `%s` of length %d.", j, format(model), name, size),
        call = call)
    }
    positive <- !hp_is_real(model, name)
    if (positive && any(v <= 0)) {
      abort_arg("feature_hps", sprintf("must give feature %d (%s()) a `%s` > 0, not %s.",
                                       j, model$name, name, describe_value(v[v <= 0][1])),
                call = call)
    }
    if (any(abs(v) > max_hyperparameter)) {
      abort_arg("feature_hps", sprintf("must give feature %d (%s()) a `%s` of size at most %g.",
                                       j, model$name, name, max_hyperparameter), call = call)
    }
    if (model$kind %in% c("bnb", "bbnc") && any(v <= 0.01 | v >= 1000)) {
      abort_arg("feature_hps", sprintf(paste(
        "must give feature %d (%s()) a `%s` inside (0.01, 1000), the box of its",
        "hyperprior where the slice kernel must start, not %s."),
        j, model$name, name, describe_value(v)), call = call)
    }
    hp[[name]] <- as.double(v)
  }
  if (model$kind == "niw") hp <- check_niw_hp(hp, model, j, call)
  hp
}

# normal_inverse_wishart(d)'s psi (symmetric positive definite, kept as a
# d x d matrix) and nu (> d - 1).
check_niw_hp <- function(hp, model, j, call) {
  d <- as.integer(model$parameters$dim)
  psi <- matrix(hp$psi, d, d)
  symmetric <- max(abs(psi - t(psi))) <= 1e-12 * max(abs(psi))
  pd <- symmetric && !inherits(tryCatch(chol(psi), error = function(e) e), "error")
  if (!pd) {
    abort_arg("feature_hps", sprintf(
      "must give feature %d (%s) a `psi` that is a symmetric positive definite %d x %d matrix.",
      j, format(model), d, d), call = call)
  }
  if (!(hp$nu > d - 1)) {
    abort_arg("feature_hps", sprintf(
      "must give feature %d (%s) a `nu` > dim - 1 = %d, not %s.", j, format(model), d - 1L,
      describe_value(hp$nu)), call = call)
  }
  hp$psi <- (psi + t(psi)) / 2
  hp
}

# Per block (pack_blocks order): list(hp = the features' vectors one after
# the other, hp_offset = F + 1), as C_runner_new reads them.
pack_block_hps <- function(blocks, hps) {
  lapply(blocks, function(block) {
    vectors <- lapply(block$features, function(d) unlist(hps[[d]], use.names = FALSE))
    list(hp = as.double(unlist(vectors)),
         hp_offset = as.integer(c(0L, cumsum(lengths(vectors)))))
  })
}

# Converts the generic latent of the C core (per-feature double vectors of
# hyperparameters, unnamed K x n_stats matrices) to the state's form.
mixed_latent_fields <- function(defn, hp_vectors, stats, groups) {
  D <- defn$D
  models <- lapply(seq_len(D), function(j) defn_model(defn, j))
  hps <- lapply(seq_len(D), function(j) {
    hp_list_from_vector(models[[j]], hp_vectors[[j]])
  })
  stats <- lapply(seq_len(D), function(j) {
    x <- stats[[j]]
    dimnames(x) <- list(groups, stat_names(models[[j]]))
    x
  })
  list(feature_hps = hps, stats = stats)
}

# A runner's C chain over a mixed definition (no kernels unless given): the
# packed blocks, their hyperparameters, the checkpoint.
mixed_runner_ptr <- function(defn, view, assignment, alpha, hps, kernels = list(),
                             checkpoint = NULL, constant_stream = TRUE, call = caller_call()) {
  force(call)
  blocks <- pack_blocks(view, defn, call = call)
  # A chain built only for its statistics gets a constant stream, so that
  # initialize_state() does not consume R's random numbers; a runner
  # without a saved stream draws one from R's RNG (C_runner_new).
  if (is.null(checkpoint) && constant_stream) checkpoint <- list(rng = as.raw(c(1, rep(0, 31))), iteration = 0)
  .Call(C_runner_new, blocks, assignment, alpha, pack_block_hps(blocks, hps), kernels,
        checkpoint, definition_groups(defn))
}

new_mixed_state <- function(defn, view, assignment, alpha, hps, groups = 0L) {
  ptr <- mixed_runner_ptr(defn, view, assignment, alpha, hps)
  parts <- .Call(C_runner_block_stats, ptr)
  latent <- .Call(C_runner_latent, ptr)
  mixed_state_from_parts(defn, latent$assignments, latent$groups, latent$group_sizes,
                         parts$feature_hps, parts$suffstats, alpha, groups = groups,
                         latent_cells = .Call(C_runner_latent_cells, ptr))
}

mixed_state_from_parts <- function(defn, assignment, group_ids, group_sizes, hp_vectors,
                                   stats, alpha, rng = NULL, iteration = 0, sampler = NULL,
                                   groups = 0L, latent_cells = NULL) {
  fields <- mixed_latent_fields(defn, hp_vectors, stats, group_ids)
  parameters <- if (is.null(defn$parameters)) rep(list(list()), defn$D) else defn$parameters
  state <- structure(list(n = as.integer(defn$n), D = as.integer(defn$D),
                 assignments = assignment, groups = group_ids, group_sizes = group_sizes,
                 heads = NULL, tails = NULL, stats = fields$stats,
                 cluster_hp = list(alpha = alpha),
                 feature_hps = fields$feature_hps, models = defn$models,
                 parameters = parameters,
                 partition_prior = partition_prior_field(groups),
                 format_version = state_format_version,
                 rng = rng, iteration = as.double(iteration), sampler = sampler),
            class = "microscopes_state")
  state$latent_cells <- latent_cells_field(latent_cells)
  state
}

# Format 5: the imputed cells of partly missing niw rows, per feature
# (NULL, or list(rows = 1-based rows, values = their cells, observed
# coordinates included)); NULL (no field) when no feature has any, so
# states of data without such rows are as before.
latent_cells_field <- function(cells) {
  if (is.null(cells) || all(vapply(cells, is.null, logical(1)))) return(NULL)
  cells
}

is_mixed_state <- function(s) !is.matrix(s$feature_hps) && !is.null(s$stats)

# The saved statistics against a recount of the data under the state's
# partition: whole-number statistics exactly, real-valued ones (nich's
# mean and M2, the log-factorial sums) to a relative tolerance (Welford's
# updates and a recount differ in the last bits; DECISIONS.md).
check_mixed_stats <- function(saved, recount, call = caller_call()) {
  force(call)
  ok <- is.list(saved) && length(saved) == length(recount)
  for (d in seq_along(recount)) {
    if (!ok) break
    x <- saved[[d]]
    y <- recount[[d]]
    ok <- is.numeric(x) && is.matrix(x) && identical(dim(x), dim(y)) && !anyNA(x) &&
      length(colnames(x)) == ncol(x)
    if (!ok) break
    exact <- vapply(colnames(x), integer_stat, logical(1))
    held <- vapply(colnames(x), parameter_stat, logical(1))
    real <- !exact & !held
    # niw's means and scatter entries in the data's units, compared also
    # relative to the largest entry of the group's row (an off-diagonal
    # scatter entry near 0 has no relative scale of its own)
    floor <- if (any(startsWith(colnames(x), "scatter_"))) {
      1e-10 * apply(abs(y[, real, drop = FALSE]), 1, max)
    } else 0
    ok <- all(x[, exact] == y[, exact]) &&
      all(abs(x[, real] - y[, real]) <= 1e-7 * (abs(x[, real]) + abs(y[, real])) + 1e-9 + floor) &&
      valid_explicit_p(x[, held, drop = FALSE])
  }
  if (!ok) {
    abort_arg("latent", "does not match `view`: its groups' statistics differ from the data's.",
              call = call)
  }
}

# bbnc's saved p: log p and log(1 - p) finite, <= 0 and of one p.
valid_explicit_p <- function(x) {
  if (ncol(x) == 0L) return(TRUE)
  lp <- x[, "log_p"]
  l1 <- x[, "log_1mp"]
  all(is.finite(lp) & is.finite(l1) & lp <= 0 & l1 <= 0) &&
    all(abs(exp(lp) + exp(l1) - 1) <= 1e-9)
}

# Per-feature log marginals of a mixed state from its statistics: bb
# features by the closed form of score.c, the others through blocks
# rebuilt from the statistics (src/blocks_from_stats.c).
mixed_score_data <- function(s) {
  kinds <- unname(model_kinds[s$models])
  scores <- numeric(s$D)
  sizes <- as.integer(s$group_sizes)
  for (kind in unique(kinds)) {
    features <- which(kinds == kind)
    if (kind == "bb") {
      heads <- vapply(features, function(d) as.integer(s$stats[[d]][, "heads"]), integer(length(sizes)))
      tails <- vapply(features, function(d) as.integer(s$stats[[d]][, "tails"]), integer(length(sizes)))
      dim(heads) <- dim(tails) <- c(length(sizes), length(features))
      hps <- t(vapply(features, function(d) c(s$feature_hps[[d]]$alpha, s$feature_hps[[d]]$beta),
                      numeric(2)))
      scores[features] <- .Call(C_score_features, heads, tails, hps)
      next
    }
    # dd's levels; a vector kind's cell widths (src/r_state.c)
    n_levels <- if (kind == "dd" || kind %in% vector_kinds) {
      vapply(features, function(d) {
        model <- defn_model(list(models = s$models, parameters = s$parameters), d)
        if (kind == "dd") as.integer(model$parameters$k) else model_cell_width(model)
      }, integer(1))
    }
    parameter <- if (kind == "bnb") vapply(features, function(d) as.double(s$parameters[[d]]$r), double(1))
    hps <- lapply(features, function(d) as.double(unlist(s$feature_hps[[d]], use.names = FALSE)))
    stats <- lapply(features, function(d) unname(s$stats[[d]]) + 0)
    scores[features] <- .Call(C_score_stats, model_kind_ids[[kind]], hps, stats, sizes,
                              n_levels, parameter)
  }
  scores
}
