# Simple summaries of how well a fitted mixture matches known answers.

#' Purity of a clustering against known labels
#'
#' The share of rows whose group's most common label is their own label:
#' 1 when every group holds a single label, and close to the share of the
#' most common label when the groups ignore the labels.
#'
#' @param state A latent state (class `microscopes_state`), or a list of
#'   them such as the result of `get_latents()`.
#' @param labels A vector (or factor) of known labels, one per row of the
#'   data. Rows whose label is `NA` are left out.
#' @return A number in \[0, 1\]; for a list of states, a numeric vector
#'   with one purity per state.
#' @examples
#' set.seed(1)
#' # Two kinds of rows, ink on the left or on the right half.
#' left <- rep(c(TRUE, FALSE), each = 4)
#' labels <- rep(c("left", "right"), each = 20)
#' Y <- rbind(matrix(runif(20 * 8) < ifelse(left, 0.9, 0.1), 20, 8, byrow = TRUE),
#'            matrix(runif(20 * 8) < ifelse(left, 0.1, 0.9), 20, 8, byrow = TRUE))
#' view <- dataview(Y)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' states <- lapply(1:2, function(i) initialize_state(defn, view))
#' cluster_purity(states, labels) # random partitions mix the two kinds
#' runners <- lapply(states, function(s) runner(defn, view, s, default_kernel_config(defn)))
#' pr <- parallel_runner(runners)
#' run(pr, niters = 20)
#' cluster_purity(get_latents(pr), labels) # after sampling: close to 1
#' @export
cluster_purity <- function(state, labels) {
  states <- if (is_state(state)) list(state) else state
  if (!is.list(states) || length(states) == 0L ||
      !all(vapply(states, is_state, logical(1)))) {
    abort_arg("state", sprintf(
      "must be a latent state (from `initialize_state()` or `get_latent()`) or a list of them, not %s.",
      describe_type(state)
    ))
  }
  if (!is.atomic(labels) || is.null(labels)) {
    abort_arg("labels", sprintf("must be a vector of labels, not %s.",
                                describe_type(labels)))
  }
  n_rows <- vapply(states, function(s) length(s$assignments), integer(1))
  if (any(n_rows != length(labels))) {
    abort_arg("labels", sprintf(
      "must have one label per row of `state` (%d), not %d.",
      n_rows[n_rows != length(labels)][1], length(labels)
    ))
  }
  if (all(is.na(labels))) {
    abort_arg("labels", "must not be all NA.")
  }
  vapply(states, function(s) purity_of(s$assignments, labels), numeric(1))
}

purity_of <- function(assignments, labels) {
  known <- !is.na(labels)
  counts <- table(assignments[known], as.character(labels[known]))
  sum(apply(counts, 1L, max)) / sum(known)
}

#' Mean log loss of probabilities against binary truth
#'
#' The mean over observed entries of
#' \eqn{-(y \log p + (1 - y) \log(1 - p))}, e.g. to score posterior
#' predictive probabilities of hidden pixels against the true pixels. Lower
#' is better; always predicting 0.5 scores \eqn{\log 2 \approx 0.693}.
#'
#' @param prob Numeric vector or matrix of predicted probabilities that each
#'   entry is 1. They are clipped to \[1e-12, 1 - 1e-12\], so that a
#'   confident mistake costs much but not infinitely.
#' @param truth Logical or 0/1 vector or matrix of the same shape. `NA`
#'   entries are left out.
#' @return A single number: the mean log loss, in nats.
#' @examples
#' bernoulli_log_loss(c(0.9, 0.2, 0.5), c(1, 0, NA))
#' bernoulli_log_loss(matrix(0.5, 2, 2), matrix(c(TRUE, FALSE), 2, 2)) # log(2)
#' @export
bernoulli_log_loss <- function(prob, truth) {
  if (!is.numeric(prob) && !is.logical(prob)) {
    abort_arg("prob", sprintf("must be a numeric vector or matrix of probabilities, not %s.",
                              describe_type(prob)))
  }
  if (!is.numeric(truth) && !is.logical(truth)) {
    abort_arg("truth", sprintf("must be a logical or 0/1 vector or matrix, not %s.",
                               describe_type(truth)))
  }
  if (length(prob) != length(truth) ||
      (!is.null(dim(prob)) && !is.null(dim(truth)) && !identical(dim(prob), dim(truth)))) {
    abort_arg("truth", sprintf("must have the shape of `prob` (%s), not %s.",
                               describe_shape(prob), describe_shape(truth)))
  }
  observed <- !is.na(truth)
  if (!any(observed)) {
    abort_arg("truth", "must have at least one value that is not NA.")
  }
  y <- as.numeric(truth[observed])
  p <- as.numeric(prob[observed])
  if (any(y != 0 & y != 1)) {
    abort_arg("truth", "must hold only 0, 1 (or FALSE, TRUE) and NA.")
  }
  if (anyNA(p) || any(p < 0 | p > 1)) {
    abort_arg("prob", "must hold probabilities in [0, 1] wherever `truth` is observed.")
  }
  p <- pmin(pmax(p, 1e-12), 1 - 1e-12)
  -mean(y * log(p) + (1 - y) * log1p(-p))
}

describe_shape <- function(x) {
  if (is.null(dim(x))) sprintf("length %d", length(x)) else paste(dim(x), collapse = " x ")
}

#' Predict known labels of new rows from their groups
#'
#' For each state, a query row's group is weighed by its posterior given the
#' row's observed entries (CRP weight times the beta-Bernoulli predictive of
#' those entries, plus a new group with weight \eqn{\alpha}); each group then
#' votes with the label shares of the training rows it holds (a new group
#' with the overall shares). The result is averaged over states. Used by the
#' MNIST showcase to tell 2s from 3s by the top half of a digit.
#'
#' @param queries A logical or 0/1 matrix with the states' number of
#'   columns; `NA` entries are ignored.
#' @param latents A latent state or a list of them, fitted on rows whose
#'   labels are `labels`.
#' @param labels The labels of the rows the states were fitted on.
#' @return A matrix with one row per query and one column per label value:
#'   the posterior probability of each label.
#' @examples
#' set.seed(1)
#' Y <- rbind(matrix(runif(20 * 6) < 0.9, 20, 6), matrix(runif(20 * 6) < 0.1, 20, 6))
#' labels <- rep(c("ink", "blank"), each = 20)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' r <- runner(defn, Y, initialize_state(defn, Y), default_kernel_config(defn))
#' run(r, 20)
#' q <- rbind(c(1, 1, 1, NA, NA, NA), c(0, 0, 0, NA, NA, NA))
#' predict_labels(q, get_latent(r), labels)
#' @export
predict_labels <- function(queries, latents, labels) {
  call <- sys.call()
  checked <- tryCatch(query_states(latents, call = call), error = function(e) {
    abort_arg("latents", "must be a latent state or a non-empty list of them.", call = call)
  })
  states <- if (is_state(latents)) list(latents) else latents
  queries <- query_matrix(queries, checked$D, call = call)
  if (length(labels) != checked$n) {
    abort_arg("labels", sprintf("must have one label per fitted row (%d), not %d.",
                                checked$n, length(labels)), call = call)
  }
  labels <- as.factor(labels)
  on <- 1 * (!is.na(queries) & queries == 1)
  off <- 1 * (!is.na(queries) & queries == 0)
  overall <- as.vector(table(labels)) / sum(!is.na(labels))
  probs <- lapply(states, function(s) {
    a <- s$feature_hps[, "alpha"]
    b <- s$feature_hps[, "beta"]
    # Groups' predictive tables (K x D), then the new group's prior row.
    h <- rbind(s$heads, 0)
    t <- rbind(s$tails, 0)
    denominator <- sweep(h + t, 2, a + b, `+`)
    log_on <- log(sweep(h, 2, a, `+`) / denominator)
    log_off <- log(sweep(t, 2, b, `+`) / denominator)
    log_w <- on %*% t(log_on) + off %*% t(log_off)
    log_w <- sweep(log_w, 2, log(c(s$group_sizes, s$cluster_hp$alpha)), `+`)
    w <- exp(log_w - apply(log_w, 1, max))
    w <- w / rowSums(w)
    shares <- table(factor(s$assignments, levels = s$groups), labels)
    shares <- rbind(shares / pmax(rowSums(shares), 1), overall)
    w %*% shares
  })
  out <- Reduce(`+`, probs) / length(probs)
  dimnames(out) <- list(rownames(queries), levels(labels))
  out
}

#' Adjusted Rand index of two partitions
#'
#' The share of pairs of rows on which two partitions agree (both put the
#' pair together, or both apart), corrected for chance as Hubert and Arabie
#' (1985) do: 1 when the partitions are the same up to relabelling, about 0
#' when they agree no more than two random partitions with the same group
#' sizes would (it can be negative). Unlike [cluster_purity()] it penalises
#' splitting a label over many groups: a partition into singletons has
#' purity 1 but an adjusted Rand index of 0 against any labels.
#'
#' @param x,y Two vectors (or factors) of group labels, one per row, of
#'   the same length. Rows where either is `NA` are left out.
#' @return A single number, at most 1.
#' @references Hubert, L. and Arabie, P. (1985). Comparing partitions.
#'   *Journal of Classification* 2, 193-218.
#' @examples
#' labels <- c(2, 2, 2, 3, 3, 3)
#' adjusted_rand_index(c(1, 1, 1, 2, 2, 2), labels)  # the same partition: 1
#' adjusted_rand_index(c(1, 1, 2, 2, 3, 3), labels)  # 8 / 33
#' adjusted_rand_index(1:6, labels)                  # singletons: 0
#' cluster_purity(initialize_state(model_definition(6, rep(list(beta_bernoulli()), 1)),
#'                                 matrix(TRUE, 6, 1), assignment = 1:6),
#'                labels)                           # ... but purity 1
#' @export
adjusted_rand_index <- function(x, y) {
  for (arg in c("x", "y")) {
    value <- get(arg)
    if (!is.atomic(value) || is.null(value) || !is.null(dim(value))) {
      abort_arg(arg, sprintf("must be a vector of group labels, not %s.",
                             describe_type(value)))
    }
  }
  if (length(x) != length(y)) {
    abort_arg("y", sprintf("must have the length of `x` (%d), not %d.",
                           length(x), length(y)))
  }
  known <- !is.na(x) & !is.na(y)
  if (sum(known) < 2L) {
    abort_arg("x", "and `y` must have at least two rows where neither is NA.")
  }
  counts <- table(as.character(x[known]), as.character(y[known]))
  pairs <- function(m) sum(as.double(m) * (as.double(m) - 1) / 2)
  index <- pairs(counts)
  rows <- pairs(rowSums(counts))
  cols <- pairs(colSums(counts))
  expected <- rows * cols / pairs(sum(known))
  largest <- (rows + cols) / 2
  # Both partitions all singletons, or both one group: they are the same.
  if (largest == expected) return(1)
  (index - expected) / (largest - expected)
}
