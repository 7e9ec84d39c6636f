# The generics R users reach for, on a microscopes_fit (R/fit.R).

# ---------------------------------------------------------------------------
# Convergence diagnostics

# The kept draws of one scalar as an iterations x chains matrix (chains cut
# to the shortest, as after an interrupt).
draws_matrix <- function(fit, name) {
  values <- lapply(fit$draws, function(d) as.double(d[[name]]))
  len <- min(vapply(values, length, integer(1)))
  # matrix(), not vapply(): one kept draw must still give a 1 x chains matrix
  matrix(unlist(lapply(values, `[`, seq_len(len))), nrow = len)
}

# Rank-normalised split R-hat and bulk/tail ESS (Vehtari et al. 2021) of K,
# alpha and the log joint, from the posterior package.
fit_diagnostics <- function(fit) {
  params <- c(K = "n_groups", alpha = "alpha", log_joint = "log_joint")
  out <- data.frame(parameter = names(params), median = NA_real_, q5 = NA_real_,
                    q95 = NA_real_, rhat = NA_real_, ess_bulk = NA_real_,
                    ess_tail = NA_real_)
  scalars <- fit_scalars(fit)
  have_posterior <- requireNamespace("posterior", quietly = TRUE)
  for (j in seq_along(params)) {
    x <- scalars[[params[j]]]
    if (length(x) == 0L) next
    q <- stats::quantile(x, c(0.5, 0.05, 0.95), names = FALSE, type = 7)
    out[j, c("median", "q5", "q95")] <- q
    if (have_posterior) {
      m <- draws_matrix(fit, params[j])
      if (nrow(m) >= 4L) {
        out$rhat[j] <- suppressWarnings(posterior::rhat(m))
        out$ess_bulk[j] <- suppressWarnings(posterior::ess_bulk(m))
        out$ess_tail[j] <- suppressWarnings(posterior::ess_tail(m))
      }
    }
  }
  attr(out, "posterior") <- have_posterior
  out
}

diagnostic_warnings <- function(diag) {
  if (!isTRUE(attr(diag, "posterior"))) {
    return("R-hat and ESS need the posterior package: install.packages(\"posterior\").")
  }
  out <- character(0)
  bad_rhat <- diag$parameter[!is.na(diag$rhat) & diag$rhat > 1.01]
  if (length(bad_rhat)) {
    out <- c(out, sprintf("R-hat > 1.01 for %s: the chains have not mixed; run them longer with update().",
                          paste(bad_rhat, collapse = ", ")))
  }
  low_ess <- diag$parameter[(!is.na(diag$ess_bulk) & diag$ess_bulk < 400) |
                              (!is.na(diag$ess_tail) & diag$ess_tail < 400)]
  if (length(low_ess)) {
    out <- c(out, sprintf("Bulk or tail ESS < 400 for %s: the summaries may be unreliable; run the chains longer.",
                          paste(low_ess, collapse = ", ")))
  }
  if (all(is.na(diag$rhat))) {
    out <- c(out, "Too few draws per chain (< 4) for R-hat and ESS.")
  }
  out
}

fit_header <- function(fit) {
  view <- fit$data
  kept <- vapply(fit$draws, function(d) length(d$iteration), integer(1))
  data_line <- if (identical(view$source, "data.frame")) {
    n_missing <- sum(vapply(view$columns, function(col) sum(is.na(col)), numeric(1)))
    sprintf("Data: %d rows x %d columns%s", view$n, view$D,
            if (n_missing > 0) sprintf(" (%s cells missing)", format(n_missing)) else "")
  } else {
    n_missing <- length(view$missing_feature)
    sprintf("Data: %d rows x %d binary features%s", view$n, view$D,
            if (n_missing > 0) sprintf(" (%d entries missing)", n_missing) else "")
  }
  c(data_line,
    sprintf("Model: %s of %s%s", fit_model_name(fit$defn), paste(
      sprintf("%d %s", as.vector(table(fit$defn$models)), names(table(fit$defn$models))),
      collapse = ", "),
      if (definition_groups(fit$defn) > 0L)
        "; weights ~ Dirichlet(alpha/K), alpha the total concentration" else ""),
    sprintf("Chains: %d x %s kept draws (iterations %s, warmup %d, thin %d); %.1f s",
            fit$chains, if (length(unique(kept)) == 1L) kept[1] else paste(kept, collapse = "/"),
            if (length(unique(fit$iterations)) == 1L) fit$iterations[1] else
              paste(fit$iterations, collapse = "/"),
            fit$warmup, fit$thin, fit$seconds))
}

# "Dirichlet process mixture", or "finite mixture, K = 3,".
fit_model_name <- function(defn) {
  groups <- definition_groups(defn)
  if (groups == 0L) return("Dirichlet process mixture")
  sprintf("finite mixture, K = %d,", groups)
}

format_diagnostics <- function(diag) {
  fmt <- function(x, digits) ifelse(is.na(x), "NA", formatC(x, format = "f", digits = digits))
  table <- data.frame(
    median = c(fmt(diag$median[1], 0), fmt(diag$median[2:3], 2)),
    `5%` = c(fmt(diag$q5[1], 0), fmt(diag$q5[2:3], 2)),
    `95%` = c(fmt(diag$q95[1], 0), fmt(diag$q95[2:3], 2)),
    `R-hat` = fmt(diag$rhat, 3), `ESS bulk` = fmt(diag$ess_bulk, 0),
    `ESS tail` = fmt(diag$ess_tail, 0), check.names = FALSE,
    row.names = c("K (groups)", "alpha", "log joint"))
  utils::capture.output(print(table, right = TRUE))
}

# The partition prior's predictive for a new row (partition_prior.h): join
# group k with weight n_k (CRP) or n_k + alpha/K (finite), a new group with
# alpha or (K - K+) alpha/K (zero once all K groups are in use), over
# n + alpha.
predictive_log_prior <- function(sizes, n, alpha, groups) {
  if (groups == 0L) return(log(c(sizes, alpha)) - log(n + alpha))
  share <- alpha / groups
  log(c(sizes + share, max(groups - length(sizes), 0) * share)) - log(n + alpha)
}

#' Print, summarise and read a fit
#'
#' `print()` shows the data, the model, the chains and, for the number of
#' groups K, the CRP concentration alpha and the log joint, the posterior
#' median and 90% interval with the rank-normalised split R-hat and the
#' bulk and tail effective sample sizes of the `posterior` package
#' (Vehtari et al. 2021), and a warning line when R-hat > 1.01 or an ESS
#' < 400. `summary()` adds the point partition ([point_partition()], VI
#' loss), its cluster sizes and, per cluster and feature, the posterior mean
#' profile: the probability that the feature is 1 in the cluster, given the
#' rows of the cluster and the feature's beta hyperparameters averaged over
#' the draws, as a data frame with columns `cluster`, `size`, `feature`,
#' `statistic` and `value` (one row per cluster, feature and statistic, so
#' that features of other kinds fit the same shape). For a fit of a data
#' frame the statistics are, per model: `"P(1)"` (beta-Bernoulli),
#' `"P(<level>)"` one row per level (Dirichlet-discrete), `"mean count"`
#' (gamma-Poisson and beta-negative-binomial: the posterior mean of the
#' count's mean, `Inf` where it has none) and `"mean"`
#' (normal-inverse-chi-squared: the posterior mean of the cluster mean),
#' each given the cluster's rows and the hyperparameters averaged over the
#' draws.
#'
#' `as.data.frame()` gives one row per kept draw with its chain, iteration,
#' K, alpha, log joint and feature hyperparameters; `nobs()` the number of
#' rows of the data.
#'
#' There is no `logLik()` method: the fit is a posterior sample, not a
#' maximum-likelihood estimate with a number of parameters, so AIC and BIC
#' do not apply; use [log_lik()] with the loo package instead.
#'
#' @param x,object A `microscopes_fit` from [dpmixture()].
#' @param row.names,optional Ignored (for the generic).
#' @param ... Unused.
#' @return `print()`: `x`, invisibly. `summary()`: a
#'   `summary.microscopes_fit` list with `diagnostics` (a data frame),
#'   `partition`, `sizes` and `profiles`. `as.data.frame()`: a data frame.
#'   `nobs()`: a whole number.
#' @references Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and
#'   Buerkner, P.-C. (2021). Rank-normalization, folding, and localization:
#'   an improved R-hat for assessing convergence of MCMC. *Bayesian
#'   Analysis* 16, 667-718. \doi{10.1214/20-BA1221}
#' @examples
#' data(house_votes)
#' fit <- dpmixture(house_votes, chains = 2, iter = 100, seed = 1)
#' print(fit)
#' s <- summary(fit)
#' s$sizes
#' head(s$profiles)
#' head(as.data.frame(fit)[, 1:5])
#' nobs(fit)
#' @name microscopes_fit-methods
NULL

#' @rdname microscopes_fit-methods
#' @export
print.microscopes_fit <- function(x, ...) {
  diag <- fit_diagnostics(x)
  cat("microscopes fit\n")
  cat(paste0(" ", fit_header(x)), sep = "\n")
  if (n_draws(x) > 0L) {
    cat("\n")
    cat(format_diagnostics(diag), sep = "\n")
  }
  warnings <- diagnostic_warnings(diag)
  if (length(warnings)) cat("", paste("Warning:", warnings), sep = "\n")
  invisible(x)
}

#' @rdname microscopes_fit-methods
#' @export
summary.microscopes_fit <- function(object, ...) {
  check_dots_empty(..., call = sys.call())
  diag <- fit_diagnostics(object)
  partition <- fit_point_partition(object)
  structure(list(header = fit_header(object), diagnostics = diag, partition = partition,
                 sizes = tabulate(partition), profiles = fit_profiles(object, partition)),
            class = "summary.microscopes_fit")
}

#' @export
print.summary.microscopes_fit <- function(x, ...) {
  cat("microscopes fit\n")
  cat(paste0(" ", x$header), sep = "\n")
  cat("\n")
  cat(format_diagnostics(x$diagnostics), sep = "\n")
  ball <- attr(x$partition, "credible_ball")
  cat(sprintf("\nPoint partition (%s loss, expected loss %.3g): %d clusters\n",
              attr(x$partition, "loss"), attr(x$partition, "expected_loss"), length(x$sizes)))
  cat(" sizes:", utils::head(x$sizes, 30), if (length(x$sizes) > 30) "...", "\n")
  cat(sprintf(" 95%% credible ball: radius %.3g; K from %d (upper bound) to %d (lower bound)\n",
              ball$radius, ball$K_upper, ball$K_lower))
  cat(sprintf(if (all(x$profiles$statistic == "P(1)"))
    "\nProfiles: %d rows (cluster x feature); P(1) by cluster, first features:\n" else
    "\nProfiles: %d rows (cluster x feature x statistic); by cluster, first features:\n",
    nrow(x$profiles)))
  if (all(x$profiles$statistic == "P(1)")) {
    wide <- stats::xtabs(value ~ cluster + feature, data = x$profiles)
    wide <- unclass(wide)[, seq_len(min(6, ncol(wide))), drop = FALSE]
    colnames(wide) <- abbreviate(colnames(wide), 10)
  } else {
    wide <- profiles_wide(x$profiles)
    wide <- wide[, seq_len(min(8, ncol(wide))), drop = FALSE]
  }
  print(signif(wide, 3))
  warnings <- diagnostic_warnings(x$diagnostics)
  if (length(warnings)) cat("", paste("Warning:", warnings), sep = "\n")
  invisible(x)
}

# Posterior mean hyperparameters (a_d, b_d) and alpha over the draws.
fit_mean_hps <- function(fit) {
  hps <- fit_feature_hps(fit)
  D <- fit$data$D
  if (nrow(hps) == 0L) {
    s <- fit$states[[1]]
    return(list(a = s$feature_hps[, "alpha"], b = s$feature_hps[, "beta"],
                alpha = s$cluster_hp$alpha))
  }
  m <- colMeans(hps)
  list(a = unname(m[seq_len(D)]), b = unname(m[D + seq_len(D)]),
       alpha = mean(fit_scalars(fit)$alpha))
}

feature_names <- function(fit) {
  nm <- fit$data$colnames
  if (is.null(nm)) nm <- paste0("V", seq_len(fit$data$D))
  nm
}

# Clusters x "feature statistic" matrix of a profiles data frame, columns
# in the order they first appear.
profiles_wide <- function(profiles) {
  label <- paste(profiles$feature, profiles$statistic)
  label <- factor(label, levels = unique(label))
  K <- max(profiles$cluster)
  out <- matrix(NA_real_, K, nlevels(label), dimnames = list(seq_len(K), levels(label)))
  out[cbind(profiles$cluster, as.integer(label))] <- profiles$value
  out
}

fit_profiles <- function(fit, partition) {
  if (defn_is_mixed(fit$defn)) return(fit_profiles_mixed(fit))
  counts <- .Call(C_group_counts, fit$data, as.integer(partition))
  hp <- fit_mean_hps(fit)
  h <- counts$heads
  t <- counts$tails
  p <- sweep(h, 2, hp$a, `+`) / sweep(h + t, 2, hp$a + hp$b, `+`)
  K <- nrow(p)
  data.frame(cluster = rep(seq_len(K), times = ncol(p)),
             size = rep(counts$group_sizes, times = ncol(p)),
             feature = factor(rep(feature_names(fit), each = K), levels = feature_names(fit)),
             statistic = "P(1)", value = as.vector(p), stringsAsFactors = FALSE)
}

#' @rdname microscopes_fit-methods
#' @export
as.data.frame.microscopes_fit <- function(x, row.names = NULL, optional = FALSE, ...) {
  scalars <- fit_scalars(x)
  hps <- fit_feature_hps(x)
  colnames(hps) <- fit_hp_names(x)
  cbind(scalars, as.data.frame(hps, check.names = FALSE))
}

#' @rdname microscopes_fit-methods
#' @importFrom stats nobs
#' @export
nobs.microscopes_fit <- function(object, ...) object$data$n

#' @export
format.microscopes_fit <- function(x, ...) {
  sprintf("<microscopes fit: %d rows x %d features, %d chains, %d kept draws>",
          x$data$n, x$data$D, x$chains, n_draws(x))
}

# ---------------------------------------------------------------------------
# Fitted values and predictions

#' Point partition and predictions of a fit
#'
#' `fitted()` gives the fit's point partition, [point_partition()] with the
#' VI loss. `predict()` assigns new rows to its clusters: given the point
#' partition's clusters (their sizes and the counts of the training rows
#' they hold), the feature hyperparameters and alpha averaged over the
#' draws, a new row with observed entries \eqn{O} belongs to cluster
#' \eqn{k} with probability proportional to
#' \eqn{n_k \prod_{d \in O} p_{kd}(x_d)}{n_k prod_{d in O} p_kd(x_d)} and to
#' a new cluster with probability proportional to
#' \eqn{\alpha \prod_{d \in O} p_{0d}(x_d)}{alpha prod_{d in O} p_0d(x_d)}
#' (the CRP prior times the beta-Bernoulli predictive; see
#' [posterior_predictive()]). For a finite mixture (`dpmixture(K = )`) the
#' weights are \eqn{n_k + \alpha/K} and \eqn{(K - K_+)\alpha/K}, zero
#' when all \eqn{K} clusters are in use.
#'
#' @section Fits of data frames (any models):
#' For a fit of a data frame the same quantities come from one state, the
#' point partition's groups over the training rows with every feature's
#' hyperparameters and alpha averaged over the kept draws, through the
#' posterior-predictive query in C ([posterior_predictive_statistic()]);
#' \eqn{p_{kd}} is then each model's collapsed predictive (Dirichlet-categorical,
#' negative binomial, beta-negative-binomial, Student t). `"density"` is
#' \eqn{\log \sum_k \pi_k \prod_{d \in O} p_{kd}(x_d)}{log sum_k pi_k prod p_kd(x_d)}
#' with \eqn{\pi_k} the partition prior's predictive (sizes over
#' \eqn{n + \alpha}), a density for real-valued columns and a probability
#' for the others. `"impute"` returns a data frame of `newdata`'s shape in
#' which each `NA` cell holds, averaged over the cluster probabilities of
#' its row: the predictive mean for count and numeric columns (a count
#' column becomes double), the most probable level for a factor (its level
#' probabilities in `attr(, "level_probabilities")[[column]]`, as
#' [posterior_predictive_statistic()] gives them), and `TRUE` for a logical
#' (or 0/1, or two-level factor) column when the predictive probability of
#' `TRUE` (1, the second level) is at least 0.5.
#'
#' @param object A `microscopes_fit` from [dpmixture()].
#' @param newdata A logical or 0/1 matrix with the data's columns, `NA` for
#'   unknown entries (a data frame with the data's columns, factor levels
#'   included, for a fit of a data frame); `NULL` for the training rows
#'   (only for `type = "cluster"`, where it gives `fitted()`).
#' @param type `"cluster"`: the most probable cluster of each row (`K + 1`
#'   for a new cluster); `"prob"`: an `nrow(newdata) x (K + 1)` matrix of
#'   cluster probabilities, the last column for a new cluster, each row
#'   summing to 1; `"impute"`: `newdata` with every `NA` replaced by the
#'   predictive probability that it is 1 (observed entries as 0 and 1);
#'   `"density"`: the log predictive density of each row's observed
#'   entries.
#' @param ... Unused; an error if not empty.
#' @return See `type`. `fitted()`: an integer vector of cluster labels.
#' @examples
#' data(house_votes)
#' fit <- dpmixture(house_votes, chains = 2, iter = 100, seed = 1)
#' table(fitted(fit))
#' new <- house_votes[1:3, ]
#' new[, 9:16] <- NA
#' round(predict(fit, new, type = "prob"), 3)
#' predict(fit, new, type = "cluster")
#' round(predict(fit, new, type = "impute")[, 9:16], 2)
#' predict(fit, new, type = "density")
#' # A data frame of mixed column types:
#' sprays <- transform(InsectSprays, count = as.integer(count))
#' fit_df <- dpmixture(sprays, chains = 2, iter = 60, seed = 1, quiet = TRUE)
#' new_df <- sprays[c(1, 30), ]
#' new_df$count <- NA
#' predict(fit_df, new_df, type = "impute")
#' round(predict(fit_df, new_df, type = "prob"), 3)
#' @export
predict.microscopes_fit <- function(object, newdata = NULL,
                                    type = c("cluster", "prob", "impute", "density"), ...) {
  call <- sys.call()
  check_dots_empty(..., call = call)
  if (identical(type, c("cluster", "prob", "impute", "density"))) type <- "cluster"
  if (!is.character(type) || length(type) != 1L || is.na(type) ||
      !type %in% c("cluster", "prob", "impute", "density")) {
    abort_arg("type", sprintf("must be \"cluster\", \"prob\", \"impute\" or \"density\", not %s.",
                              describe_value(type)), call = call)
  }
  partition <- fitted(object)
  if (is.null(newdata)) {
    if (type == "cluster") return(partition)
    abort_arg("newdata", sprintf("must be given for type = \"%s\".", type), call = call)
  }
  if (defn_is_mixed(object$defn)) return(predict_mixed(object, newdata, type, call))
  if (is.data.frame(newdata)) newdata <- binary_newdata(newdata, object, call)
  x <- tryCatch(query_matrix(newdata, object$data$D, call = call), error = function(e) {
    stop(microscopes_condition(sub("^`queries`", "`newdata`", sub("of the states", "of the data", conditionMessage(e))),
                               class = "microscopes_error_argument", call = call))
  })
  counts <- .Call(C_group_counts, object$data, as.integer(partition))
  hp <- fit_mean_hps(object)
  h <- rbind(counts$heads, 0)
  t <- rbind(counts$tails, 0)
  denominator <- sweep(h + t, 2, hp$a + hp$b, `+`)
  p_on <- sweep(h, 2, hp$a, `+`) / denominator
  on <- 1 * (!is.na(x) & x == 1)
  off <- 1 * (!is.na(x) & x == 0)
  log_w <- on %*% t(log(p_on)) + off %*% t(log1p(-p_on))
  log_prior <- predictive_log_prior(counts$group_sizes, object$data$n, hp$alpha,
                                    definition_groups(object$defn))
  log_w <- sweep(log_w, 2, log_prior, `+`)
  top <- apply(log_w, 1, max)
  w <- exp(log_w - top)
  total <- rowSums(w)
  prob <- w / total
  K <- length(counts$group_sizes)
  rn <- rownames(newdata)
  switch(type,
    prob = {
      dimnames(prob) <- list(rn, c(seq_len(K), "new"))
      prob
    },
    cluster = {
      out <- max.col(prob, ties.method = "first")
      names(out) <- rn
      out
    },
    impute = {
      filled <- prob %*% p_on
      out <- ifelse(is.na(x), filled, x)
      dimnames(out) <- dimnames(newdata)
      out
    },
    density = {
      out <- top + log(total)
      names(out) <- rn
      out
    })
}

# A data frame of binary columns, for a fit whose features are all
# beta-Bernoulli: the 0/1 matrix its columns mean (as dataview() packs
# them), NA kept.
binary_newdata <- function(newdata, fit, call) {
  if (ncol(newdata) != fit$data$D) {
    abort_arg("newdata", sprintf("must have the data's %d columns, not %d.", fit$data$D,
                                 ncol(newdata)), call = call)
  }
  view <- dataview_for_arg(newdata, "newdata", call = call)
  out <- as_newdata_error(
    vapply(seq_len(view$D), function(j) {
      as.double(column_values(view$columns[[j]], beta_bernoulli(), view$colnames[j], j,
                              call = call))
    }, numeric(view$n)), call)
  out <- matrix(out, view$n, view$D, dimnames = list(rownames(newdata), names(newdata)))
  out
}

#' @rdname predict.microscopes_fit
#' @importFrom stats fitted predict update
#' @export
fitted.microscopes_fit <- function(object, ...) {
  check_dots_empty(..., call = sys.call())
  as.vector(fit_point_partition(object))
}

# ---------------------------------------------------------------------------
# posterior package

#' Draws of a fit for the posterior package
#'
#' `as_draws()` and `as_draws_df()` (methods for the generics of the
#' `posterior` package, registered when it is installed) give the kept
#' draws of K (`n_groups`), alpha, the log joint (`lp__`, so that
#' bayesplot finds it) and the feature hyperparameters (`a[feature]`,
#' `b[feature]` when every feature is beta-Bernoulli; otherwise
#' `hp[column].name`, such as `hp[v].mu` or, for a
#' `dirichlet_discrete()` column, `hp[f].alphas[1]`, ...), by chain and iteration, so that
#' `posterior::summarise_draws()` and bayesplot's `mcmc_trace()` work
#' directly.
#'
#' @param x A `microscopes_fit` from [dpmixture()].
#' @param ... Unused.
#' @return A `draws_df`.
#' @examplesIf requireNamespace("posterior", quietly = TRUE)
#' data(house_votes)
#' fit <- dpmixture(house_votes, chains = 2, iter = 100, seed = 1)
#' d <- posterior::as_draws_df(fit)
#' posterior::summarise_draws(posterior::subset_draws(d, c("n_groups", "alpha", "lp__")))
#' @name as_draws.microscopes_fit
NULL

#' @rdname as_draws.microscopes_fit
#' @exportS3Method posterior::as_draws_df
as_draws_df.microscopes_fit <- function(x, ...) {
  df <- as.data.frame(x)
  per_chain <- split(seq_len(nrow(df)), df$chain)
  draw_within <- integer(nrow(df))
  for (rows in per_chain) draw_within[rows] <- seq_along(rows)
  out <- df[, setdiff(names(df), c("chain", "iteration", "log_joint")), drop = FALSE]
  out <- cbind(out[, "n_groups", drop = FALSE], alpha = df$alpha, lp__ = df$log_joint,
               out[, setdiff(names(out), c("n_groups", "alpha")), drop = FALSE])
  out$.chain <- df$chain
  out$.iteration <- draw_within
  posterior::as_draws_df(out)
}

#' @rdname as_draws.microscopes_fit
#' @exportS3Method posterior::as_draws
as_draws.microscopes_fit <- function(x, ...) as_draws_df.microscopes_fit(x, ...)

# ---------------------------------------------------------------------------
# Mixed fits (any feature models): predictions through the C query path
# (src/query_blocks.c) on one state, the point-partition state.

# Posterior mean hyperparameters of every feature, as a list of named lists
# (the form of a mixed state's feature_hps), and alpha, over the kept draws.
fit_mean_hp_list <- function(fit) {
  hps <- fit_feature_hps(fit)
  if (nrow(hps) == 0L) {
    s <- fit$states[[1]]
    return(list(hps = s$feature_hps, alpha = s$cluster_hp$alpha))
  }
  m <- unname(colMeans(hps))
  at <- 0L
  out <- lapply(seq_len(fit$defn$D), function(d) {
    model <- defn_model(fit$defn, d)
    len <- query_n_hp(model)
    v <- m[at + seq_len(len)]
    at <<- at + len
    hp_list_from_vector(model, v)
  })
  list(hps = out, alpha = mean(fit_scalars(fit)$alpha))
}

# The point partition's groups over the training data, with the feature
# hyperparameters and alpha averaged over the kept draws: a mixed state,
# computed once per set of draws. `order` maps the point partition's label
# k to the state's k-th group.
fit_point_state <- function(fit) {
  cache <- fit$cache
  if (is.environment(cache) && !is.null(cache$point_state)) return(cache$point_state)
  partition <- as.vector(fit_point_partition(fit))
  mean_hp <- fit_mean_hp_list(fit)
  s <- new_mixed_state(fit$defn, fit$data, check_assignment(partition, fit$data$n),
                       mean_hp$alpha, mean_hp$hps, definition_groups(fit$defn))
  K <- max(partition)
  order <- match(s$assignments[match(seq_len(K), partition)], s$groups)
  out <- list(state = s, order = order, partition = partition)
  if (is.environment(cache)) cache$point_state <- out
  out
}

# `queries` in a query error is `newdata` here.
as_newdata_error <- function(expr, call) {
  tryCatch(expr, microscopes_error_argument = function(e) {
    stop(microscopes_condition(
      gsub("of the states", "of the fit", sub("^`queries`", "`newdata`", conditionMessage(e))),
      class = "microscopes_error_argument", call = call))
  })
}

predict_mixed <- function(object, newdata, type, call) {
  point <- fit_point_state(object)
  s <- point$state
  states <- query_mixed_states(list(s), call = call)
  q <- as_newdata_error(query_mixed_frame(newdata, states$defn, call = call), call)
  threads <- resolve_threads(NULL)
  rn <- rownames(newdata)
  if (type == "impute") {
    means <- query_mixed_call(q, states, 1L, NULL, 1, threads, call)
    out <- query_mixed_mean_frame(means, q)
    # A beta-Bernoulli column comes back as P(1) (observed cells 0/1): the
    # more probable value, in the column's type (a two-level factor's
    # second level is 1).
    for (j in seq_along(out)) {
      if (q$models[[j]]$kind != "bb") next
      on <- out[[j]] >= 0.5
      out[[j]] <- switch(q$type[j],
        factor = factor(q$levels[[j]][on + 1L], levels = q$levels[[j]]),
        integer = as.integer(on),
        double = as.double(on),
        on)
    }
    return(out)
  }
  K <- length(point$order)
  logw <- query_mixed_call(q, states, 2L, NULL, NULL, threads, call)
  # p(x, group k | state) = prior numerator / (n + alpha) x predictive
  logw <- logw[, c(point$order, ncol(logw)), drop = FALSE] -
    log(object$data$n + s$cluster_hp$alpha)
  top <- apply(logw, 1, max)
  w <- exp(logw - top)
  total <- rowSums(w)
  prob <- w / total
  switch(type,
    prob = {
      dimnames(prob) <- list(rn, c(seq_len(K), "new"))
      prob
    },
    cluster = {
      out <- max.col(prob, ties.method = "first")
      names(out) <- rn
      out
    },
    density = {
      out <- top + log(total)
      names(out) <- rn
      out
    })
}

# Per cluster of the point partition and feature of a mixed fit, the
# posterior mean profile given the cluster's rows and the hyperparameters
# averaged over the draws (the collapsed posterior of each model, MODELS.md):
#   bb   P(1) = (alpha + heads) / (alpha + beta + heads + tails)
#   dd   P(level l) = (alphas_l + count_l) / sum(alphas + counts)
#   gp   mean count = (alpha + sum) inv_beta / (1 + n inv_beta)
#        (the rate's posterior is Gamma(alpha + sum, 1 / inv_beta + n))
#   bnb  mean count = r (beta + sum) / (alpha + n r - 1), Inf when
#        alpha + n r <= 1 (E[(1 - p) / p] under Beta(alpha', beta'))
#   nich mean value = (kappa mu + n mean) / (kappa + n)
#   dm   share of entry l = (alphas_l + count_l) / sum(alphas + counts)
#   niw  mean of coordinate r = (lambda mu0_r + n mean_r) / (lambda + n)
# One row per cluster, feature and statistic.
fit_profiles_mixed <- function(fit) {
  point <- fit_point_state(fit)
  s <- point$state
  K <- length(point$order)
  sizes <- s$group_sizes[point$order]
  nm <- feature_names(fit)
  view <- fit$data
  rows <- lapply(seq_len(fit$defn$D), function(d) {
    model <- defn_model(fit$defn, d)
    st <- s$stats[[d]][point$order, , drop = FALSE]
    hp <- s$feature_hps[[d]]
    one <- function(statistic, value) {
      data.frame(cluster = seq_len(K), size = sizes, feature = nm[d],
                 statistic = statistic, value = as.vector(value), stringsAsFactors = FALSE)
    }
    switch(model$kind,
      bb = one("P(1)", (hp$alpha + st[, "heads"]) /
                 (hp$alpha + hp$beta + st[, "heads"] + st[, "tails"])),
      dd = {
        post <- sweep(st, 2, hp$alphas, `+`)
        post <- post / rowSums(post)
        levels <- attr(view$columns[[d]], "levels")
        if (is.null(levels)) levels <- as.character(seq_len(ncol(post)))
        do.call(rbind, lapply(seq_len(ncol(post)), function(l) {
          one(sprintf("P(%s)", levels[l]), post[, l])
        }))
      },
      gp = one("mean count", (hp$alpha + st[, "sum"]) * hp$inv_beta /
                 (1 + st[, "n"] * hp$inv_beta)),
      bnb = {
        r <- model$parameters$r
        a <- hp$alpha + st[, "n"] * r
        one("mean count", ifelse(a > 1, r * (hp$beta + st[, "sum"]) / (a - 1), Inf))
      },
      nich = one("mean", (hp$kappa * hp$mu + st[, "n"] * st[, "mean"]) / (hp$kappa + st[, "n"])),
      niw = {
        entries <- colnames(view$columns[[d]])
        dim <- model$parameters$dim
        if (is.null(entries)) entries <- as.character(seq_len(dim))
        do.call(rbind, lapply(seq_len(dim), function(r) {
          one(sprintf("mean(%s)", entries[r]),
              (hp$lambda * hp$mu0[r] + st[, "n"] * st[, paste0("mean_", r)]) / (hp$lambda + st[, "n"]))
        }))
      },
      dm = {
        counts <- st[, paste0("count_", seq_len(model$parameters$k)), drop = FALSE]
        post <- sweep(counts, 2, hp$alphas, `+`)
        post <- post / rowSums(post)
        entries <- colnames(view$columns[[d]])
        if (is.null(entries)) entries <- as.character(seq_len(ncol(post)))
        do.call(rbind, lapply(seq_len(ncol(post)), function(l) {
          one(sprintf("share(%s)", entries[l]), post[, l])
        }))
      },
      # The cluster's explicit p as held by the point state.
      bbnc = one("P(1)", st[, "p"]))
  })
  out <- do.call(rbind, rows)
  out$feature <- factor(out$feature, levels = nm)
  rownames(out) <- NULL
  out
}
