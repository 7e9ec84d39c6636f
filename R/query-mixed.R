# Posterior-predictive queries on data frames, for states of mixed
# definitions (any feature models; coord CONTRACT.md "Mixed states"): the
# query's columns are converted as dataview() and pack_blocks() convert a
# data frame's, the states' groups are rebuilt in C from their statistics
# (src/query_blocks.c) and the results come back in each column's own type.
# posterior_predictive() and posterior_predictive_statistic() (R/query.R)
# dispatch here when the states are mixed.

# Whether `infers` (a state or a list of states) holds mixed states: no
# heads/tails counts and a `stats` list instead.
query_is_mixed <- function(infers) {
  st <- if (inherits(infers, "microscopes_state")) {
    infers
  } else if (is.list(infers) && !is.data.frame(infers) && length(infers) > 0L) {
    infers[[1]]
  }
  is.list(st) && is.null(st$heads) && is.list(st$stats) && !is.data.frame(st$stats)
}

mixed_posterior_predictive <- function(queries, infers, samples_per_chain, weights, threads,
                                       call) {
  states <- query_mixed_states(infers, call = call)
  q <- query_mixed_frame(queries, states$defn, call = call)
  spc <- check_whole_number(samples_per_chain, "samples_per_chain", min = 1, call = call)
  S <- length(states$states)
  w <- query_weights(weights, S, call = call)
  threads <- resolve_threads(threads, call = call)
  n_draws <- as.double(S) * spc
  if (n_draws > .Machine$integer.max) {
    abort_arg("samples_per_chain",
              sprintf("gives %.0f draws over %d states: too many.", n_draws, S), call = call)
  }
  check_query_bytes(n_draws * (8 * as.double(nrow(q$x)) * ncol(q$x) + 8), n_draws, call = call)
  draw_state <- if (is.null(weights)) {
    rep(seq_len(S), each = spc)
  } else {
    sort(sample.int(S, as.integer(n_draws), replace = TRUE, prob = w))
  }
  out <- query_mixed_call(q, states, 0L, as.integer(draw_state), NULL, threads, call)
  lapply(seq_len(dim(out)[3]), function(j) query_mixed_draw_frame(out[, , j, drop = FALSE], q))
}

mixed_posterior_predictive_statistic <- function(queries, infers, merge, weights, threads,
                                                 call) {
  states <- query_mixed_states(infers, call = call)
  q <- query_mixed_frame(queries, states$defn, call = call)
  if (!identical(merge, "avg")) {
    abort_arg("merge", paste(
      "must be \"avg\" for a data-frame query: the predictive mean of each numeric",
      "column and the probability of each level of a factor, in closed form."), call = call)
  }
  S <- length(states$states)
  w <- query_weights(weights, S, call = call)
  threads <- resolve_threads(threads, call = call)
  means <- query_mixed_call(q, states, 1L, NULL, w, threads, call)
  query_mixed_mean_frame(means, q)
}

# The C query; an error the C side raises (a state's values that do not
# fit, out of memory) is raised again with the user's call, as a
# microscopes error. An interrupt is not an error and passes through.
query_mixed_call <- function(q, states, mode, draw_state, weights, threads, call) {
  tryCatch(
    .Call(C_query_mixed, q$x, q$kinds, q$n_levels, q$parameter, states$states, mode,
          draw_state, weights, threads),
    error = function(e) {
      stop(microscopes_condition(conditionMessage(e), class = "microscopes_error_query",
                                 call = call))
    })
}

# ---------------------------------------------------------------------------
# The states

# A mixed state or a list of them -> list(defn (models and parameters of the
# first state), states = per-state lists as C_query_mixed reads them).
query_mixed_states <- function(infers, call = caller_call()) {
  if (inherits(infers, "microscopes_state")) infers <- list(infers)
  if (!is.list(infers) || is.data.frame(infers) || length(infers) == 0L) {
    abort_arg("infers", "must be a latent state or a non-empty list of latent states.",
              call = call)
  }
  first <- infers[[1]]
  D <- query_state_field(first, "D", 1L, call)
  models <- as.character(first$models)
  parameters <- first$parameters
  if (length(models) != D || !is.list(parameters) || length(parameters) != D) {
    abort_arg("infers", sprintf(
      "state 1 is malformed: it needs `models` and `parameters` for its %d features.", D),
      call = call)
  }
  defn <- list(n = first$n, D = D, models = models, parameters = parameters)
  model_list <- lapply(seq_len(D), function(j) {
    tryCatch(defn_model(defn, j), error = function(e) {
      abort_arg("infers", sprintf("state 1 has an unknown model for feature %d: %s.", j,
                                  conditionMessage(e)), call = call)
    })
  })
  out <- lapply(seq_along(infers), function(s) {
    st <- infers[[s]]
    if (!inherits(st, "microscopes_state")) {
      abort_arg("infers", sprintf("must be a list of latent states; element %d is %s.", s,
                                  describe_type(st)), call = call)
    }
    if (!identical(as.character(st$models), models) ||
        !identical(unname(st$parameters), unname(parameters))) {
      abort_arg("infers", sprintf(
        "must hold states of one model definition: state %d has other feature models than state 1.",
        s), call = call)
    }
    query_mixed_state(st, s, model_list, call)
  })
  list(defn = defn, models = model_list, states = out)
}

query_mixed_state <- function(st, s, models, call) {
  malformed <- function(what) {
    abort_arg("infers", sprintf("state %d is malformed: %s.", s, what), call = call)
  }
  D <- length(models)
  sizes <- st$group_sizes
  if (!is.numeric(sizes) || anyNA(sizes)) malformed("`group_sizes` must be whole numbers")
  K <- length(sizes)
  alpha <- st$cluster_hp$alpha
  if (!is.numeric(alpha) || length(alpha) != 1L) {
    malformed("`cluster_hp$alpha` must be a single number")
  }
  prior <- st$partition_prior
  groups <- if (is.null(prior) || identical(prior$name, "crp")) {
    0L
  } else if (identical(prior$name, "dirichlet") && is.numeric(prior$groups) &&
             length(prior$groups) == 1L && !is.na(prior$groups)) {
    as.integer(prior$groups)
  } else {
    malformed("`partition_prior` must be list(name = \"crp\") or list(name = \"dirichlet\", groups = K)")
  }
  stats <- st$stats
  hps <- st$feature_hps
  if (!is.list(stats) || length(stats) != D) malformed(sprintf("`stats` must be a list of %d matrices", D))
  if (!is.list(hps) || length(hps) != D) {
    malformed(sprintf("`feature_hps` must be a list of %d named lists", D))
  }
  stats <- lapply(seq_len(D), function(d) {
    m <- stats[[d]]
    n_stats <- query_n_stats(models[[d]])
    if (!is.numeric(m) || length(m) != K * n_stats ||
        (K > 0L && !identical(as.integer(dim(m)), c(K, n_stats)))) {
      malformed(sprintf("`stats[[%d]]` must be a %d x %d matrix (groups x statistics of %s)",
                        d, K, n_stats, format(models[[d]])))
    }
    as.double(m)
  })
  hps <- lapply(seq_len(D), function(d) {
    h <- hps[[d]]
    names <- models[[d]]$hp_names
    if (!is.list(h) || !all(names %in% names(h))) {
      malformed(sprintf("`feature_hps[[%d]]` must be a list with %s", d,
                        paste0("`", names, "`", collapse = ", ")))
    }
    v <- unlist(lapply(names, function(nm) as.vector(h[[nm]])), use.names = FALSE)
    if (!is.numeric(v) || length(v) != query_n_hp(models[[d]])) {
      malformed(sprintf("`feature_hps[[%d]]` has %d numbers, %s needs %d", d, length(v),
                        format(models[[d]]), query_n_hp(models[[d]])))
    }
    as.double(v)
  })
  list(group_sizes = as.double(sizes), alpha = as.double(alpha), groups = groups,
       stats = stats, hps = hps)
}

query_n_stats <- function(model) length(stat_names(model))

query_n_hp <- function(model) as.integer(sum(vapply(model_hp_shapes(model), prod, numeric(1))))

# The `n_levels` C_query_mixed reads for a feature: dd's k, a vector
# kind's cell width, else 0.
query_n_levels <- function(model) {
  if (model$kind == "dd") return(as.integer(model$parameters$k))
  if (model$kind %in% vector_kinds) return(model_cell_width(model))
  0L
}

# ---------------------------------------------------------------------------
# The query data frame

# queries -> list(x = n x C double matrix (bb 0/1, dd level 0..k-1, counts,
# reals; NaN = to predict; a vector-valued feature's cell takes its width of
# columns, C their sum), kinds, n_levels, parameter (per feature, for C),
# type = per column what to return ("logical", "factor", "integer",
# "double"), levels = per column the factor levels or NULL, widths,
# colnames (a matrix column's), names, rows).
query_mixed_frame <- function(queries, defn, call = caller_call()) {
  D <- defn$D
  if (!is.data.frame(queries)) {
    abort_arg("queries", sprintf(
      "must be a data frame with one column per feature of the states (%d), not %s.", D,
      describe_type(queries)), call = call)
  }
  if (ncol(queries) != D) {
    abort_arg("queries", sprintf(
      "must have one column per feature of the states (%d), not %d.", D, ncol(queries)),
      call = call)
  }
  names <- names(queries)
  if (is.null(names)) names <- paste0("V", seq_len(D))
  n <- nrow(queries)
  models <- lapply(seq_len(D), function(j) defn_model(defn, j))
  widths <- vapply(models, model_cell_width, integer(1))
  first <- c(0L, cumsum(widths))[seq_len(D)]
  x <- matrix(NaN, n, sum(widths))
  matrix_names <- vector("list", D)
  type <- character(D)
  levels <- vector("list", D)
  kinds <- integer(D)
  n_levels <- integer(D)
  parameter <- double(D)
  for (j in seq_len(D)) {
    model <- models[[j]]
    kinds[j] <- model_kind_ids[[model$kind]]
    n_levels[j] <- query_n_levels(model)
    if (model$kind == "bnb") parameter[j] <- as.double(model$parameters$r)
    column <- store_column(queries[[j]], names[j], call)
    if (model$kind %in% vector_kinds) {
      # a vector-valued feature: an n x w matrix column (NA entries are
      # predicted), or a column left all NA (every cell predicted)
      if (!is.matrix(column) && all(is.na(column))) {
        column <- matrix(NA_integer_, n, widths[j])
      }
      values <- column_values(column, model, names[j], j, call = call)
      # niw predicts a partly observed cell from its conditional t, which
      # the C side computes on the stack up to dim 48 (block_niw.h)
      if (model$kind == "niw" && widths[j] > 48L) {
        missing <- rowSums(is.na(values))
        if (any(missing > 0L & missing < widths[j])) {
          abort_column(names[j], sprintf(paste(
            "has row %d partly NA: queries predict the missing entries of a",
            "normal_inverse_wishart() vector from its observed ones up to dim 48, not %d."),
            which(missing > 0L & missing < widths[j])[1], widths[j]), call)
        }
      }
      v <- as.double(values)
      v[is.na(values)] <- NaN
      x[, first[j] + seq_len(widths[j])] <- v
      type[j] <- if (model$kind == "dm") "integer matrix" else "double matrix"
      matrix_names[j] <- list(colnames(column))
      next
    }
    if (is.logical(column) && all(is.na(column))) {
      # a column left all NA (R makes it logical): every cell is predicted,
      # returned in the model's natural type
      type[j] <- switch(model$kind, bb = , bbnc = "logical", dd = , gp = , bnb = "integer", "double")
      next
    }
    col_levels <- attr(column, "levels")
    if (model$kind == "dd" && !is.null(col_levels) && length(col_levels) != model$parameters$k) {
      abort_column(names[j], sprintf(
        "is a factor with %d levels, but its model %s has %d; give it the levels of the data the states were fitted to (`factor(x, levels = )`).",
        length(col_levels), format(model), model$parameters$k), call)
    }
    values <- column_values(column, model, names[j], j, call = call)
    v <- as.double(values)
    v[is.na(values)] <- NaN
    x[, j] <- v
    type[j] <- if (!is.null(col_levels)) "factor" else if (model$kind == "nich") "double" else
      typeof(column)
    levels[j] <- list(col_levels)
  }
  list(x = x, kinds = kinds, n_levels = n_levels, parameter = parameter, type = type,
       levels = levels, names = names, row_names = attr(queries, "row.names"),
       models = models, widths = widths, first = first, matrix_names = matrix_names)
}

# Column j of the result in its own type, from doubles as C_query_mixed
# gives them (bb 0/1, dd 0-based levels).
query_mixed_column <- function(v, q, j) {
  kind <- q$models[[j]]$kind
  switch(q$type[j],
    logical = v == 1,
    factor = factor(q$levels[[j]][v + 1], levels = q$levels[[j]]),
    integer = if (kind == "dd") as.integer(v) + 1L else as.integer(v),
    double = v)
}

# A vector-valued feature's n x w block of the result as its matrix column
# (named as the query's): dm draws and means are proportions where a cell
# was predicted and the query's counts where it was given, so doubles.
query_mixed_matrix <- function(v, q, j) {
  M <- matrix(as.double(v), ncol = q$widths[j])
  colnames(M) <- q$matrix_names[[j]]
  M
}

query_mixed_draw_frame <- function(draw, q) {
  n <- dim(draw)[1]
  cols <- lapply(seq_along(q$names), function(j) {
    at <- q$first[j] + seq_len(q$widths[j])
    if (q$models[[j]]$kind %in% vector_kinds) {
      return(query_mixed_matrix(draw[, at, 1], q, j))
    }
    query_mixed_column(draw[, at, 1], q, j)
  })
  names(cols) <- q$names
  structure(cols, class = "data.frame", row.names = q$row_names)
}

# The means matrix (feature by feature: dd k columns of level
# probabilities, else one) -> a data frame of the query's shape: predictive
# means for numeric, count and logical (P(TRUE)) columns; the most probable
# level for a dd column (factor or integer as given), its probabilities in
# attr(, "level_probabilities").
query_mixed_mean_frame <- function(means, q) {
  D <- length(q$names)
  at <- 0L
  cols <- vector("list", D)
  probs <- list()
  for (j in seq_len(D)) {
    model <- q$models[[j]]
    if (model$kind %in% vector_kinds) {
      cols[[j]] <- query_mixed_matrix(means[, at + seq_len(q$widths[j]), drop = FALSE], q, j)
      at <- at + q$widths[j]
    } else if (model$kind == "dd") {
      k <- model$parameters$k
      P <- means[, at + seq_len(k), drop = FALSE]
      at <- at + k
      P[] <- pmin(pmax(P, 0), 1)
      colnames(P) <- if (!is.null(q$levels[[j]])) q$levels[[j]] else as.character(seq_len(k))
      top <- if (nrow(P) > 0L) max.col(P, ties.method = "first") else integer()
      cols[[j]] <- if (q$type[j] == "factor") {
        factor(q$levels[[j]][top], levels = q$levels[[j]])
      } else {
        as.integer(top)
      }
      probs[[q$names[j]]] <- P
    } else {
      v <- means[, at + 1L]
      at <- at + 1L
      if (model$kind == "bb") v <- pmin(pmax(v, 0), 1)
      cols[[j]] <- v
    }
  }
  names(cols) <- q$names
  out <- structure(cols, class = "data.frame", row.names = q$row_names)
  attr(out, "level_probabilities") <- probs
  out
}
