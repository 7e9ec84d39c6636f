# Mixed latent states built in R for tests of the queries, with their
# statistics computed here from the data and the assignment (independent
# of the C core), in the layout of coord CONTRACT.md "Mixed states": one
# K x n_stats matrix per feature, named columns, groups in the order of
# `groups`.

# data: a data frame (bb logical, dd factor, gp/bnb integer, nich double,
# NA allowed); models: list of model objects; assignment: group ids; hps:
# list of named lists; groups: 0 for a CRP state, G for a finite mixture.
mixed_test_state <- function(data, models, assignment, hps, alpha = 1, groups = 0L) {
  ids <- unique(assignment)
  K <- length(ids)
  stats <- lapply(seq_along(models), function(d) {
    m <- models[[d]]
    x <- data[[d]]
    rows <- lapply(ids, function(g) {
      v <- x[assignment == g]
      v <- v[!is.na(v)]
      switch(m$kind,
        bb = c(heads = sum(v == 1), tails = sum(v == 0)),
        dd = stats::setNames(as.double(tabulate(as.integer(v), m$parameters$k)),
                             paste0("count_", seq_len(m$parameters$k))),
        gp = c(n = length(v), sum = sum(v), sum_log_factorial = sum(lgamma(v + 1))),
        bnb = c(n = length(v), sum = sum(v),
                sum_log_choose = sum(lchoose(v + m$parameters$r - 1, v))),
        nich = c(n = length(v), mean = if (length(v)) mean(v) else 0,
                 m2 = if (length(v)) sum((v - mean(v))^2) else 0))
    })
    M <- do.call(rbind, rows)
    storage.mode(M) <- "double"
    M
  })
  structure(list(
    n = length(assignment), D = length(models), assignments = assignment,
    groups = ids, group_sizes = as.integer(table(factor(assignment, levels = ids))),
    cluster_hp = list(alpha = alpha), feature_hps = hps, stats = stats,
    models = vapply(models, `[[`, character(1), "name"),
    parameters = lapply(models, `[[`, "parameters"),
    partition_prior = if (groups > 0L) list(name = "dirichlet", groups = groups) else
      list(name = "crp")),
    class = "microscopes_state")
}

# The posterior over a state's groups (and the new group last, when the
# prior allows one) of a query row `q` (a one-row data frame), from the
# reference math of helper-models.R: the partition prior's predictive times
# the predictive of each observed cell given the group's rows of `data`.
ref_query_group_weights <- function(q, data, models, assignment, hps, alpha, groups = 0L,
                                    prior = NULL) {
  ids <- unique(assignment)
  K <- length(ids)
  sizes <- as.double(table(factor(assignment, levels = ids)))
  logw <- if (!is.null(prior)) prior(sizes, alpha) else if (groups == 0L) {
    log(c(sizes, alpha))
  } else {
    share <- alpha / groups
    c(log(sizes + share), if (groups > K) log((groups - K) * share))
  }
  slots <- length(logw)
  for (d in seq_along(models)) {
    x <- q[[d]]
    if (is.na(x)) next
    for (k in seq_len(slots)) {
      col <- if (k <= K) data[[d]][assignment == ids[k]] else data[[d]][0]
      logw[k] <- logw[k] + ref_log_predictive(models[[d]], x, col, hps[[d]])
    }
  }
  w <- exp(logw - max(logw))
  w / sum(w)
}

# E[cell d | q, state] for each feature: a vector (dd: level probabilities).
ref_query_means <- function(q, data, models, assignment, hps, alpha, groups = 0L) {
  w <- ref_query_group_weights(q, data, models, assignment, hps, alpha, groups)
  ids <- unique(assignment)
  lapply(seq_along(models), function(d) {
    Reduce(`+`, lapply(seq_along(w), function(k) {
      col <- if (k <= length(ids)) data[[d]][assignment == ids[k]] else data[[d]][0]
      w[k] * ref_predictive_mean(models[[d]], col, hps[[d]])
    }))
  })
}
