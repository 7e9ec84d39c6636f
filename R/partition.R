# Point partitions that summarise a sample of partitions: the kept draws of
# a fit, or a list of latent states. The search and the losses are in C
# (src/partition_search.c); Dahl's least-squares choice in src/partition.c.

#' A representative partition of the rows
#'
#' Summarises the posterior over partitions by one partition \eqn{\hat c}.
#'
#' * `loss = "VI"` (the default) and `loss = "binder"` minimise the posterior
#'   expected variation of information (Meila 2007; Wade & Ghahramani 2018)
#'   or Binder loss (Binder 1978, equal costs) over the draws,
#'   \eqn{\sum_s w_s L(c, c^{(s)})}{sum_s w_s L(c, c_s)}, by the greedy
#'   search of SALSO (Dahl, Johnson & Mueller 2022): sequential allocation
#'   of the rows in random orders, and starts from draws, each followed by
#'   sweeps that move one row at a time to the cluster (or a new one) that
#'   lowers the expected loss most, until no move helps. The best of `runs`
#'   such searches plus searches started from 4 draws (evenly spaced) is
#'   returned; the searches run in threads, each on its own random stream,
#'   so the result does not depend on the number of threads. With
#'   \eqn{n_k} rows in cluster \eqn{k} of \eqn{c}, \eqn{m_l} in cluster
#'   \eqn{l} of \eqn{c'} and \eqn{N_{kl}}{N_kl} in both,
#'   \eqn{VI(c, c') = \frac{1}{n}[\sum_k f(n_k) + \sum_l f(m_l) - 2 \sum_{kl} f(N_{kl})]}{VI(c, c') = (1/n) [sum_k f(n_k) + sum_l f(m_l) - 2 sum_kl f(N_kl)]}
#'   with \eqn{f(x) = x \log_2 x}{f(x) = x log2(x)}, and
#'   \eqn{Binder(c, c') = \frac{1}{n^2}[\sum_k n_k^2 + \sum_l m_l^2 - 2 \sum_{kl} N_{kl}^2]}{Binder(c, c') = (1/n^2) [sum_k n_k^2 + sum_l m_l^2 - 2 sum_kl N_kl^2]},
#'   the share of ordered pairs of rows on which the partitions disagree.
#'   A move of a row is scored from the non-zero cells \eqn{N_{kl}}{N_kl}
#'   of the row's cluster \eqn{l} in each draw (sparse contingency tables),
#'   in time proportional to the number of draws times the few clusters
#'   that overlap \eqn{l}; memory is \eqn{3 S n}{3 S n} integers for
#'   \eqn{S} draws and \eqn{n} rows (plus \eqn{2 S n}{2 S n} per extra
#'   thread), and no \eqn{n \times n}{n x n} matrix is formed, for any
#'   \eqn{n}.
#' * `loss = "least_squares"` is Dahl's (2006) least-squares clustering:
#'   the draw \eqn{c} minimising
#'   \eqn{\sum_{i,j} (\delta_{ij}(c) - \pi_{ij})^2}{sum_ij (delta_ij(c) - pi_ij)^2},
#'   \eqn{\pi}{pi} the co-clustering matrix of [zmatrix()], computed from
#'   contingency tables in \eqn{O(S^2 n)}{O(S^2 n)} time. Ties go to the
#'   first draw.
#'
#' The search is a heuristic: it finds the minimum on small problems (the
#' tests compare it with brute force over every partition of up to 8 rows)
#' but may stop at a local minimum on large ones; more `runs` help. It uses
#' its own random stream, seeded by `seed`, so the result does not depend on
#' R's random number generator.
#'
#' For a fit, the attribute `credible_ball` describes the 95% credible ball
#' around \eqn{\hat c} (Wade & Ghahramani 2018), estimated from the draws:
#' the smallest radius (in the same loss; Binder for least squares) whose
#' ball around \eqn{\hat c} holds 95% of the draws, and the numbers of
#' clusters of its bounds: the draws in the ball with the fewest clusters
#' ("upper" vertical bound) and the most ("lower" vertical bound), and the
#' draw in the ball farthest from \eqn{\hat c} (horizontal bound).
#'
#' @param x A fit from [dpmixture()], a latent state, or a list of latent
#'   states of the same data (e.g. from [get_latents()]).
#' @param loss `"VI"`, `"binder"` or `"least_squares"`.
#' @param ... Unused; an error if not empty.
#' @param method The former name of `loss`; `method = "least_squares"` is
#'   `loss = "least_squares"`.
#' @param weights For a list of states: optional non-negative weights, one
#'   per state (normalised to sum to 1); `NULL` weighs them equally. Kept
#'   draws of a fit weigh equally.
#' @param runs Number of searches from random sequential allocations (at
#'   most 100,000: each keeps its partition until the best is chosen).
#' @param seed Seed of the search's random streams.
#' @param threads Number of threads; `NULL` for [microscopes_threads()].
#' @return An integer vector of length `n`: the cluster of each row, numbered
#'   `1, 2, ...` in order of first appearance, with attributes `loss`,
#'   `expected_loss` (the posterior expected loss of the result; for least
#'   squares, its expected Binder loss, which Dahl's criterion equals up to
#'   a constant) and, for a fit, `credible_ball` (a list with
#'   `level`, `radius`, `K_upper`, `K_lower` and `K_horizontal`).
#' @references
#' Binder, D. A. (1978). Bayesian cluster analysis. *Biometrika* 65, 31-38.
#'
#' Dahl, D. B. (2006). Model-based clustering for expression data via a
#' Dirichlet process mixture model. In *Bayesian Inference for Gene
#' Expression and Proteomics*, Cambridge University Press, 201-218.
#'
#' Dahl, D. B., Johnson, D. J. and Mueller, P. (2022). Search algorithms and
#' loss functions for Bayesian clustering. *Journal of Computational and
#' Graphical Statistics* 31, 1189-1201. \doi{10.1080/10618600.2022.2069779}
#'
#' Wade, S. and Ghahramani, Z. (2018). Bayesian cluster analysis: point
#' estimation and credible balls. *Bayesian Analysis* 13, 559-626.
#' \doi{10.1214/17-BA1073}
#' @seealso [zmatrix()], [partition_draws()]
#' @examples
#' data(house_votes)
#' fit <- dpmixture(house_votes, chains = 2, iter = 100, seed = 1)
#' cl <- point_partition(fit)
#' table(cl, attr(house_votes, "party"))
#' attr(cl, "credible_ball")
#'
#' # on latent states, as in datamicroscopes
#' set.seed(1)
#' Y <- matrix(runif(12 * 4) < 0.5, 12, 4)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' view <- dataview(Y)
#' infers <- lapply(1:4, function(i) initialize_state(defn, view))
#' point_partition(infers, loss = "least_squares")
#' @export
point_partition <- function(x, loss = c("VI", "binder", "least_squares"), ...,
                            method = NULL, weights = NULL, runs = 8, seed = 1,
                            threads = NULL) {
  call <- sys.call()
  check_dots_empty(..., call = call)
  if (!is.null(method)) {
    if (!is.character(method) || length(method) != 1L || is.na(method) ||
        !method %in% c("VI", "binder", "least_squares")) {
      abort_arg("method", sprintf("must be \"least_squares\" (or use `loss =`), not %s.",
                                  describe_value(method)), call = call)
    }
    loss <- method
  }
  if (identical(loss, c("VI", "binder", "least_squares"))) loss <- "VI"
  if (!is.character(loss) || length(loss) != 1L || is.na(loss) ||
      !loss %in% c("VI", "binder", "least_squares")) {
    abort_arg("loss", sprintf("must be \"VI\", \"binder\" or \"least_squares\", not %s.",
                              describe_value(loss)), call = call)
  }
  # Each run keeps its partition (n integers) until the best is chosen.
  runs <- check_whole_number(runs, "runs", min = 1, max = max_search_runs, call = call)
  seed <- check_whole_number(seed, "seed", min = 0, call = call)
  threads <- resolve_threads(threads, call = call)
  is_fit <- inherits(x, "microscopes_fit")
  if (is_fit) {
    if (!is.null(weights)) {
      abort_arg("weights", "must be NULL for a fit: its kept draws weigh equally.", call = call)
    }
    packed <- fit_labels(x)
    S <- length(packed$chain)
    if (S == 0L) abort_arg("x", "has no kept draws yet: run it longer with `update()`.", call = call)
    n <- x$data$n
    w <- rep(1 / S, S)
  } else {
    states <- tryCatch(query_states(x, same_n = TRUE, call = call), error = function(e) {
      stop(microscopes_condition(sub("^`infers`", "`x`", conditionMessage(e)),
                                 class = "microscopes_error_argument", call = call))
    })
    n <- states$n
    S <- length(states$labels)
    w <- query_weights(weights, S, call = call)
    label_bytes <- if (n <= 65536) 2L else 4L
    z <- matrix(unlist(states$labels, use.names = FALSE) + 1L, nrow = S, byrow = TRUE)
    packed <- list(labels = .Call(C_draws_pack, z, label_bytes), label_bytes = label_bytes)
  }
  if (loss == "least_squares") {
    labels0 <- if (is_fit) {
      z <- .Call(C_draws_labels, packed$labels, n, packed$label_bytes)
      lapply(seq_len(S), function(s) z[s, ] - 1L)
    } else {
      states$labels
    }
    ls <- .Call(C_query_ls_loss, labels0, w)
    out <- labels0[[which.min(ls)]] + 1L
    ball_loss <- 0L
  } else {
    code <- if (loss == "VI") 1L else 0L
    out <- .Call(C_partition_search, packed$labels, n, packed$label_bytes, w, code,
                 runs, min(4L, S), 1000L, as.double(seed), threads)
    ball_loss <- code
  }
  attr(out, "loss") <- loss
  distance <- .Call(C_partition_losses, packed$labels, n, packed$label_bytes,
                    as.integer(out), ball_loss)
  # Dahl's criterion differs from the expected Binder loss by a constant:
  # report the latter, which can be compared across partitions.
  if (loss == "least_squares") attr(out, "expected_loss") <- sum(w * distance)
  if (is_fit) {
    attr(out, "credible_ball") <- credible_ball(distance, fit_scalars(x)$n_groups)
  }
  attributes(out) <- attributes(out)[c("loss", "expected_loss", "credible_ball")[
    c("loss", "expected_loss", "credible_ball") %in% names(attributes(out))]]
  out
}

# At most this many searches: each keeps n integers until the best is
# chosen, and C counts runs in an int.
max_search_runs <- 1e5

# Wade & Ghahramani (2018), section 3.2, from the draws' distances to the
# point partition and their numbers of clusters.
credible_ball <- function(distance, n_groups, level = 0.95) {
  radius <- sort(distance)[ceiling(level * length(distance))]
  inside <- which(distance <= radius)
  fewest <- inside[n_groups[inside] == min(n_groups[inside])]
  most <- inside[n_groups[inside] == max(n_groups[inside])]
  list(level = level, radius = radius,
       K_upper = n_groups[fewest[1]], K_lower = n_groups[most[1]],
       K_horizontal = n_groups[inside[which.max(distance[inside])]])
}
