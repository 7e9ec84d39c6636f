# Point partitions (R/partition.R, src/partition_search.c) against brute
# force over every partition of the rows.

# Losses written from their definitions (Meila 2007; Binder 1978), in R.
brute_vi <- function(a, b) {
  n <- length(a)
  f <- function(x) {
    x <- x[x > 0]
    sum(x * log2(x))
  }
  (f(tabulate(a)) + f(tabulate(b)) - 2 * f(table(a, b))) / n
}
brute_binder <- function(a, b) {
  sum(outer(a, a, "==") != outer(b, b, "==")) / length(a)^2
}
# The partition of least expected loss over all partitions of n rows.
brute_best <- function(draws, weights, loss) {
  f <- if (loss == "VI") brute_vi else brute_binder
  all <- enum_partitions(ncol(draws))
  expected <- vapply(seq_len(nrow(all)), function(p) {
    sum(weights * vapply(seq_len(nrow(draws)), function(s) f(all[p, ], draws[s, ]), numeric(1)))
  }, numeric(1))
  list(loss = min(expected), best = which(abs(expected - min(expected)) < 1e-10),
       partitions = all, expected = expected)
}
states_of <- function(draws, Y) {
  lapply(seq_len(nrow(draws)), function(s) query_test_state(Y, draws[s, ]))
}
check_against_brute <- function(draws, weights, Y, label) {
  for (loss in c("VI", "binder")) {
    pp <- point_partition(states_of(draws, Y), loss = loss, weights = weights)
    brute <- brute_best(draws, weights / sum(weights), loss)
    expect_equal(attr(pp, "expected_loss"), brute$loss, tolerance = 1e-10,
                 label = sprintf("%s, %s: expected loss", label, loss))
    # the result is one of the minimisers (ties allowed)
    keys <- apply(brute$partitions[brute$best, , drop = FALSE], 1, enum_key)
    expect_true(enum_key(pp) %in% keys, label = sprintf("%s, %s: partition", label, loss))
    expect_identical(as.vector(pp), match(pp, unique(pp)))
    expect_identical(attr(pp, "loss"), loss)
  }
}

test_that("the search finds the brute-force minimum on the exact posterior of tiny data", {
  for (n in 4:6) {
    Y <- make_binary_data(n = n, D = 3, n_prototypes = 2, noise = 0.2, seed = n)
    post <- query_test_posterior(Y, alpha = 1, hps = c(1, 1))
    draws <- do.call(rbind, post$partitions)
    check_against_brute(draws, post$prob, Y, sprintf("exact posterior, n = %d", n))
  }
})

test_that("the search finds the brute-force minimum on samples of partitions, n <= 8", {
  for (seed in 1:6) {
    n <- 5 + seed %% 4
    draws <- withr::with_seed(seed, {
      base <- sample(1:3, n, replace = TRUE)
      t(replicate(12, {
        z <- base
        flip <- runif(n) < 0.3
        z[flip] <- sample(1:4, sum(flip), replace = TRUE)
        match(z, unique(z))
      }))
    })
    w <- withr::with_seed(seed, runif(nrow(draws)))
    check_against_brute(draws, w, matrix(0, n, 2), sprintf("sample %d, n = %d", seed, n))
  }
})

test_that("on a fit to 8 rows, point_partition() is the brute-force minimum", {
  Y <- make_binary_data(n = 8, D = 6, n_prototypes = 2, noise = 0.1, seed = 2)
  fit <- dpmixture(Y, chains = 2, iter = 60, seed = 1, progress = FALSE)
  z <- partition_draws(fit)
  for (loss in c("VI", "binder")) {
    pp <- point_partition(fit, loss = loss)
    brute <- brute_best(z, rep(1 / nrow(z), nrow(z)), loss)
    expect_equal(attr(pp, "expected_loss"), brute$loss, tolerance = 1e-10)
    expect_true(enum_key(pp) %in% apply(brute$partitions[brute$best, , drop = FALSE], 1, enum_key))
    # the credible ball, from the draws' distances to the point partition
    f <- if (loss == "VI") brute_vi else brute_binder
    d <- apply(z, 1, f, b = as.vector(pp))
    ball <- attr(pp, "credible_ball")
    expect_equal(ball$radius, sort(d)[ceiling(0.95 * length(d))], tolerance = 1e-12)
    inside <- d <= ball$radius + 1e-12
    k <- apply(z, 1, max)
    expect_identical(ball$K_upper, min(k[inside]))
    expect_identical(ball$K_lower, max(k[inside]))
  }
  expect_identical(fitted(fit), as.vector(point_partition(fit)))
})

test_that("least squares is the draw of least expected Binder loss; the search does no worse", {
  for (seed in 1:4) {
    draws <- withr::with_seed(seed, t(replicate(8, {
      z <- sample(1:4, 15, replace = TRUE)
      match(z, unique(z))
    })))
    st <- states_of(draws, matrix(0, 15, 2))
    ls <- point_partition(st, loss = "least_squares")
    binder <- vapply(seq_len(nrow(draws)), function(s) {
      mean(apply(draws, 1, brute_binder, b = draws[s, ]))
    }, numeric(1))
    expect_identical(as.vector(ls), draws[which.min(binder), ])
    expect_equal(attr(ls, "expected_loss"), min(binder), tolerance = 1e-12)
    searched <- point_partition(st, loss = "binder")
    expect_lte(attr(searched, "expected_loss"), attr(ls, "expected_loss") + 1e-12)
    expect_equal(attr(searched, "expected_loss"),
                 mean(apply(draws, 1, brute_binder, b = as.vector(searched))), tolerance = 1e-12)
  }
})

test_that("the result does not depend on R's generator, and runs and seed are checked", {
  Y <- make_binary_data(n = 30, D = 6, seed = 1)
  fit <- dpmixture(Y, chains = 2, iter = 20, seed = 1, progress = FALSE)
  set.seed(1)
  a <- point_partition(fit)
  set.seed(2)
  b <- point_partition(fit)
  expect_identical(a, b)
  # the C side re-checks the total number of searches in 64 bits
  packed <- microscopes:::fit_labels(fit)
  S <- length(packed$chain)
  expect_error(.Call(microscopes:::C_partition_search, packed$labels, 30L, packed$label_bytes,
                     rep(1 / S, S), 1L, .Machine$integer.max, 4L, 1000L, 1, 1L),
               "bad search settings")
  expect_snapshot(error = TRUE, {
    point_partition(fit, loss = "vi")
    point_partition(fit, runs = 0)
    point_partition(fit, runs = .Machine$integer.max)
    point_partition(fit, weights = 1)
    point_partition(fit, lss = "VI")
    point_partition(list(1))
  })
})

test_that("losses against fine-grained draws are counted sparsely (no L x K table)", {
  # Near-singleton partitions: a dense contingency table would take
  # n^2 cells per draw (3.6 GB at n = 30,000). Reference: the non-zero
  # cells counted in R from the pairs of labels.
  sparse_ref <- function(a, b, loss) {
    n <- length(a)
    cells <- tabulate(match(a * (n + 1) + b, unique(a * (n + 1) + b)))
    f <- if (loss == 1L) function(x) sum(x * log2(x)) else function(x) sum(as.numeric(x)^2)
    (f(tabulate(a)) + f(tabulate(b)) - 2 * f(cells)) / (if (loss == 1L) n else n^2)
  }
  near_singletons <- function(n, merges, seed) {
    set.seed(seed)
    z <- seq_len(n)
    pick <- sample(n, 2 * merges)
    z[pick[seq_len(merges)]] <- z[pick[merges + seq_len(merges)]]
    match(z, unique(z))
  }
  for (n in c(3000L, 30000L)) {
    draws <- rbind(near_singletons(n, 50, 1), near_singletons(n, 200, 2), seq_len(n))
    c0 <- near_singletons(n, 100, 3)
    packed <- .Call(microscopes:::C_draws_pack, draws, 2L)
    for (loss in 0:1) {
      got <- .Call(microscopes:::C_partition_losses, packed, n, 2L, c0, loss)
      want <- vapply(1:3, function(s) sparse_ref(c0, draws[s, ], loss), numeric(1))
      expect_equal(got, want, tolerance = 1e-12, label = sprintf("n = %d, loss %d", n, loss))
    }
    # a subsample against the brute-force definitions
    keep <- 1:40
    sub <- t(apply(draws[, keep], 1, function(z) match(z, unique(z))))
    c_sub <- match(c0[keep], unique(c0[keep]))
    packed_sub <- .Call(microscopes:::C_draws_pack, sub, 2L)
    expect_equal(.Call(microscopes:::C_partition_losses, packed_sub, 40L, 2L, c_sub, 1L),
                 apply(sub, 1, brute_vi, b = c_sub), tolerance = 1e-12)
    expect_equal(.Call(microscopes:::C_partition_losses, packed_sub, 40L, 2L, c_sub, 0L),
                 apply(sub, 1, brute_binder, b = c_sub), tolerance = 1e-12)
  }
  # the search itself on n = 3000 near-singleton draws
  n <- 3000L
  draws <- rbind(near_singletons(n, 20, 4), near_singletons(n, 20, 5))
  Y <- matrix(0, n, 1)
  pp <- point_partition(lapply(1:2, function(s) query_test_state(Y, draws[s, ])), runs = 1)
  expect_length(pp, n)
  expect_lte(attr(pp, "expected_loss"), mean(c(sparse_ref(draws[1, ], draws[2, ], 1L), 0)) + 1e-12)
})
