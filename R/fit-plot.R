# plot() of a microscopes_fit: base graphics, never an n x n matrix.

#' Plot a fit
#'
#' * `type = "trace"`: traces of K, alpha and the log joint over the kept
#'   iterations, one line per chain.
#' * `type = "k"`: the posterior of the number of groups K, a bar per value.
#' * `type = "psm"`: the posterior similarity (co-clustering) matrix as a
#'   heatmap, rows ordered by the point partition ([point_partition()]).
#'   Above `max_rows` rows it shows a subsample of at most `max_rows` rows
#'   (stratified by cluster, evenly spaced within each), so that at most
#'   `max_rows^2` entries are formed, whatever the size of the data.
#' * `type = "profiles"`: per cluster of the point partition (rows, with
#'   their sizes) and feature (columns), the posterior mean probability that
#'   the feature is 1, as in `summary()`. For a fit of a data frame, one
#'   column per feature statistic of `summary()`'s profiles (a factor's
#'   level probabilities, a count's or a measurement's posterior mean),
#'   coloured column by column and with the values written in the cells.
#'
#' @param x A `microscopes_fit` from [dpmixture()].
#' @param type `"trace"`, `"psm"`, `"profiles"` or `"k"`.
#' @param max_rows For `"psm"`: most rows shown.
#' @param ... Unused; an error if not empty.
#' @return `x`, invisibly.
#' @examples
#' data(house_votes)
#' fit <- dpmixture(house_votes, chains = 2, iter = 100, seed = 1)
#' plot(fit)
#' plot(fit, type = "k")
#' plot(fit, type = "psm", max_rows = 200)
#' plot(fit, type = "profiles")
#' @export
plot.microscopes_fit <- function(x, type = c("trace", "psm", "profiles", "k"),
                                 max_rows = 500, ...) {
  call <- sys.call()
  check_dots_empty(..., call = call)
  if (identical(type, c("trace", "psm", "profiles", "k"))) type <- "trace"
  if (!is.character(type) || length(type) != 1L || is.na(type) ||
      !type %in% c("trace", "psm", "profiles", "k")) {
    abort_arg("type", sprintf("must be \"trace\", \"psm\", \"profiles\" or \"k\", not %s.",
                              describe_value(type)), call = call)
  }
  max_rows <- check_whole_number(max_rows, "max_rows", min = 2, call = call)
  if (n_draws(x) == 0L) abort_arg("x", "has no kept draws to plot.", call = call)
  switch(type,
         trace = plot_fit_trace(x),
         k = plot_fit_k(x),
         psm = plot_fit_psm(x, max_rows),
         profiles = plot_fit_profiles(x))
  invisible(x)
}

plot_fit_trace <- function(fit) {
  scalars <- fit_scalars(fit)
  old <- graphics::par(mfrow = c(3, 1), mar = c(3, 4.5, 1.5, 1), mgp = c(2, 0.7, 0))
  on.exit(graphics::par(old))
  colours <- grDevices::hcl.colors(max(2, fit$chains), "Dark 3")
  labels <- c(n_groups = "K (groups)", alpha = "alpha", log_joint = "log joint")
  for (name in names(labels)) {
    graphics::plot(range(scalars$iteration), range(scalars[[name]]), type = "n",
                   xlab = if (name == "log_joint") "iteration" else "", ylab = labels[[name]])
    for (j in seq_len(fit$chains)) {
      rows <- scalars$chain == j
      graphics::lines(scalars$iteration[rows], scalars[[name]][rows], col = colours[j])
    }
  }
}

plot_fit_k <- function(fit) {
  k <- fit_scalars(fit)$n_groups
  counts <- table(factor(k, levels = seq(min(k), max(k))))
  graphics::barplot(counts / sum(counts), xlab = "K (groups)", ylab = "posterior probability",
                    col = "grey70", border = NA)
}

plot_fit_psm <- function(fit, max_rows) {
  partition <- fitted(fit)
  n <- length(partition)
  rows <- seq_len(n)
  if (n > max_rows) {
    # A subsample stratified by cluster (every cluster keeps at least one
    # row), evenly spaced within each: no use of the random generator.
    share <- max_rows / n
    rows <- sort(unlist(lapply(split(rows, partition), function(r) {
      r[unique(round(seq(1, length(r), length.out = max(1L, round(length(r) * share)))))]
    }), use.names = FALSE))
    rows <- utils::head(rows, max_rows)
  }
  rows <- rows[order(partition[rows])]
  z <- partition_draws(fit)[, rows, drop = FALSE]
  m <- length(rows)
  # Co-clustering frequencies of the shown rows, in C (as zmatrix()).
  labels <- lapply(seq_len(nrow(z)), function(s) z[s, ] - 1L)
  psm <- .Call(C_query_zmatrix, labels, rep(1 / nrow(z), nrow(z)), resolve_threads(NULL))
  graphics::image(seq_len(m), seq_len(m), psm[, m:1], zlim = c(0, 1),
                  col = grDevices::hcl.colors(64, "Blues 3", rev = TRUE), axes = FALSE,
                  xlab = sprintf("rows ordered by the point partition%s",
                                 if (m < n) sprintf(" (%d of %d)", m, n) else ""),
                  ylab = "", main = "posterior similarity")
  bounds <- cumsum(table(partition[rows]))
  graphics::abline(v = bounds + 0.5, h = m - bounds + 0.5, col = "grey40", lwd = 0.5)
}

plot_fit_profiles <- function(fit) {
  if (defn_is_mixed(fit$defn)) return(plot_fit_profiles_mixed(fit))
  partition <- fitted(fit)
  profiles <- fit_profiles(fit, partition)
  p <- unclass(stats::xtabs(value ~ cluster + feature, data = profiles))
  K <- nrow(p)
  D <- ncol(p)
  sizes <- tabulate(partition)
  old <- graphics::par(mar = c(8, 6, 2, 1))
  on.exit(graphics::par(old))
  graphics::image(seq_len(D), seq_len(K), t(p)[, K:1, drop = FALSE], zlim = c(0, 1),
                  col = grDevices::hcl.colors(64, "Blues 3", rev = TRUE), axes = FALSE,
                  xlab = "", ylab = "", main = "P(feature = 1) by cluster")
  graphics::axis(1, at = seq_len(D), labels = colnames(p), las = 2, cex.axis = 0.6)
  graphics::axis(2, at = K:1, labels = sprintf("%d (n=%d)", seq_len(K), sizes), las = 1,
                 cex.axis = 0.7)
}

# Mixed fits: one column per feature statistic (a factor's level
# probabilities, a count's or a measurement's mean, ...); colours scaled
# column by column (probabilities on [0, 1], means from their smallest to
# their largest cluster), with each value written in its cell.
plot_fit_profiles_mixed <- function(fit) {
  profiles <- fit_profiles_mixed(fit)
  p <- profiles_wide(profiles)
  K <- nrow(p)
  D <- ncol(p)
  probability <- startsWith(colnames(p), paste(sub(" .*", "", colnames(p)), "P("))
  shade <- p
  for (j in seq_len(D)) {
    if (probability[j]) next
    v <- p[, j]
    r <- range(v[is.finite(v)])
    shade[, j] <- if (diff(r) > 0) (v - r[1]) / diff(r) else 0.5
  }
  shade[!is.finite(shade)] <- 1
  sizes <- tabulate(fitted(fit))
  old <- graphics::par(mar = c(8, 6, 2, 1))
  on.exit(graphics::par(old))
  graphics::image(seq_len(D), seq_len(K), t(shade)[, K:1, drop = FALSE], zlim = c(0, 1),
                  col = grDevices::hcl.colors(64, "Blues 3", rev = TRUE), axes = FALSE,
                  xlab = "", ylab = "",
                  main = "Posterior mean profile by cluster (colour scaled per column)")
  graphics::text(rep(seq_len(D), each = K), rep(K:1, times = D),
                 formatC(signif(as.vector(p), 2), format = "g", digits = 2), cex = 0.6,
                 col = ifelse(as.vector(shade) > 0.6, "white", "black"))
  graphics::axis(1, at = seq_len(D), labels = colnames(p), las = 2, cex.axis = 0.6)
  graphics::axis(2, at = K:1, labels = sprintf("%d (n=%d)", seq_len(K), sizes), las = 1,
                 cex.axis = 0.7)
}
