# Posterior-predictive queries, zmatrix and point_partition (R/query.R).
# Correctness by enumeration of all partitions of tiny data sets (helpers in
# helper-query.R); sampled results within 5 standard errors derived from the
# number of draws, with fixed seeds.

tiny_Y <- rbind(c(1, 0, 1),
                c(1, NA, 1),
                c(0, 1, 0),
                c(0, 1, 1))
tiny_alpha <- 0.7
tiny_hps <- rbind(c(1, 1), c(0.5, 2), c(2, 0.7))
# rows chosen to reach both scoring paths of the C code (fewer observed 0s
# than missing entries, and more), an all-missing row and a complete row
tiny_q <- rbind(c(1, NA, NA),
                c(NA, 0, NA),
                c(NA, NA, NA),
                c(1, 0, 1),
                c(0, NA, 1),
                c(0, 0, NA))

# Exact posterior predictive of tiny_q given Y: sum over partitions of
# p(z | Y) times the brute-force predictive given z.
tiny_post <- query_test_posterior(tiny_Y, tiny_alpha, tiny_hps)
tiny_pred_by_state <- lapply(tiny_post$partitions, function(z) {
  t(apply(tiny_q, 1, function(q) {
    query_test_pred_given_partition(tiny_Y, z, tiny_alpha, tiny_post$hps, q)
  }))
})
tiny_exact <- Reduce(`+`, Map(`*`, tiny_pred_by_state, tiny_post$prob))

# Closed form of one state, written directly from the model (for larger,
# random states than enumeration allows).
closed_form <- function(st, q) {
  a <- st$feature_hps[, 1]
  b <- st$feature_hps[, 2]
  p_on <- rbind(t((a + t(st$heads)) / (a + b + t(st$heads) + t(st$tails))),
                a / (a + b))
  logw <- c(log(st$group_sizes), log(st$cluster_hp$alpha))
  obs <- which(!is.na(q))
  for (d in obs) logw <- logw + log(if (q[d] == 1) p_on[, d] else 1 - p_on[, d])
  w <- exp(logw - max(logw))
  w <- w / sum(w)
  out <- as.double(q)
  miss <- which(is.na(q))
  out[miss] <- colSums(w * p_on[, miss, drop = FALSE])
  out
}

random_state <- function(n, D, K, seed) {
  withr::with_seed(seed, {
    Y <- matrix(runif(n * D) < rep(runif(D), each = n), n, D)
    Y[sample(n * D, n * D %/% 10)] <- NA
    z <- sample(K, n, replace = TRUE)
    hps <- cbind(runif(D, 0.2, 3), runif(D, 0.2, 3))
    query_test_state(Y, z, alpha = runif(1, 0.3, 5), hps = hps)
  })
}

test_that("exact query of one state equals the brute-force predictive", {
  for (i in c(1, 2, 7, 15)) {
    p <- posterior_predictive_statistic(tiny_q, tiny_post$states[[i]],
                                        exact = TRUE)
    expect_equal(p, tiny_pred_by_state[[i]], tolerance = 1e-12)
  }
})

test_that("exact query equals enumeration over all partitions", {
  p <- posterior_predictive_statistic(tiny_q, tiny_post$states, exact = TRUE,
                                      weights = tiny_post$prob)
  expect_equal(p, tiny_exact, tolerance = 1e-12)
  expect_type(p, "double")
  # observed entries as given, missing ones are probabilities
  obs <- !is.na(tiny_q)
  expect_identical(p[obs], as.double(tiny_q[obs]))
  expect_true(all(p[!obs] > 0 & p[!obs] < 1))
})

test_that("exact query matches the closed form on larger random states", {
  states <- lapply(1:3, function(i) random_state(60, 40, 6, seed = i))
  q <- withr::with_seed(9, {
    q <- matrix(as.double(runif(25 * 40) < 0.3), 25, 40)
    q[runif(25 * 40) < 0.4] <- NA
    q[1, ] <- NA
    q[2, 1:39] <- NA
    q[3, 40] <- NA
    q
  })
  want <- Reduce(`+`, lapply(states, function(st) {
    t(apply(q, 1, closed_form, st = st))
  })) / 3
  got <- posterior_predictive_statistic(q, states, exact = TRUE)
  expect_equal(got, want, tolerance = 1e-12)
  w <- c(0.2, 0.5, 0.3)
  want_w <- Reduce(`+`, Map(function(st, wi) {
    wi * t(apply(q, 1, closed_form, st = st))
  }, states, w))
  got_w <- posterior_predictive_statistic(q, states, exact = TRUE,
                                          weights = 10 * w)
  expect_equal(got_w, want_w, tolerance = 1e-12)
})

test_that("merge = 'avg' converges to the exact query", {
  spc <- 20000
  w <- tiny_post$prob
  set.seed(42)
  avg <- posterior_predictive_statistic(tiny_q, tiny_post$states,
                                        samples_per_chain = spc, weights = w)
  # draws of different states are independent: var = sum_s w_s^2 p_s(1-p_s)/spc
  v <- Reduce(`+`, Map(function(p, ws) ws^2 * p * (1 - p) / spc,
                       tiny_pred_by_state, w))
  miss <- is.na(tiny_q)
  expect_true(all(abs(avg[miss] - tiny_exact[miss]) <= 5 * sqrt(v[miss])))
  expect_identical(avg[!miss], as.double(tiny_q[!miss]))
})

test_that("posterior_predictive draws are joint draws from the predictive", {
  st <- tiny_post$states[c(2, 5, 11)]
  spc <- 20000
  set.seed(7)
  draws <- posterior_predictive(tiny_q, st, samples_per_chain = spc)
  expect_type(draws, "logical")
  expect_identical(dim(draws), c(nrow(tiny_q), ncol(tiny_q), 3L * as.integer(spc)))
  N <- dim(draws)[3]
  # observed entries kept in every draw
  obs <- which(!is.na(tiny_q))
  for (j in c(1, N)) expect_identical(as.double(draws[, , j][obs]), tiny_q[obs])
  # frequencies match the exact probabilities (3 states, equal weights)
  freq <- apply(draws, c(1, 2), mean)
  exact <- posterior_predictive_statistic(tiny_q, st, exact = TRUE)
  miss <- is.na(tiny_q)
  se <- sqrt(exact * (1 - exact) / N)
  expect_true(all(abs(freq[miss] - exact[miss]) <= 5 * se[miss]))
  # the group is drawn once per draw: entries 2 and 3 of query row 1 are
  # dependent, with P(both) = mean_s sum_k w_k p_k2 p_k3
  both <- mean(draws[1, 2, ] & draws[1, 3, ])
  want <- mean(vapply(st, function(s) {
    a <- s$feature_hps[, 1]
    b <- s$feature_hps[, 2]
    p_on <- rbind(t((a + t(s$heads)) / (a + b + t(s$heads) + t(s$tails))),
                  a / (a + b))
    logw <- c(log(s$group_sizes), log(s$cluster_hp$alpha)) + log(p_on[, 1])
    wk <- exp(logw) / sum(exp(logw))
    sum(wk * p_on[, 2] * p_on[, 3])
  }, numeric(1)))
  expect_lt(abs(both - want), 5 * sqrt(want * (1 - want) / N))
  expect_gt(abs(want - exact[1, 2] * exact[1, 3]), 1e-3)
})

test_that("weighted draws come from the weighted mixture", {
  st <- tiny_post$states
  spc <- 2000
  set.seed(3)
  draws <- posterior_predictive(tiny_q, st, samples_per_chain = spc,
                                weights = tiny_post$prob)
  N <- dim(draws)[3]
  expect_identical(N, length(st) * as.integer(spc))
  freq <- apply(draws, c(1, 2), mean)
  miss <- is.na(tiny_q)
  se <- sqrt(tiny_exact * (1 - tiny_exact) / N)
  expect_true(all(abs(freq[miss] - tiny_exact[miss]) <= 5 * se[miss]))
})

test_that("merge = 'mode' is the most frequent value of the same draws", {
  st <- tiny_post$states[c(3, 9, 12)]
  # 3 states x 51 draws: an odd number of equally weighted draws, no ties
  set.seed(11)
  avg <- posterior_predictive_statistic(tiny_q, st, samples_per_chain = 51)
  set.seed(11)
  mode <- posterior_predictive_statistic(tiny_q, st, samples_per_chain = 51,
                                         merge = "mode")
  expect_type(mode, "logical")
  expect_identical(mode, avg > 0.5)
  p <- posterior_predictive_statistic(tiny_q, st, exact = TRUE)
  expect_identical(
    posterior_predictive_statistic(tiny_q, st, exact = TRUE, merge = "mode"),
    p > 0.5)
  # one draw is its own mode, and the same stream gives the same draw
  set.seed(1)
  d <- posterior_predictive(tiny_q, st[1], samples_per_chain = 1)
  set.seed(1)
  m <- posterior_predictive_statistic(tiny_q, st[1], merge = "mode")
  expect_identical(as.vector(m), as.vector(d))
})

test_that("results are reproducible and independent of the thread count", {
  states <- lapply(1:3, function(i) random_state(80, 30, 7, seed = 10 + i))
  q <- withr::with_seed(5, {
    q <- matrix(runif(150 * 30) < 0.4, 150, 30)
    q[, 16:30] <- NA
    q
  })
  run <- function(f, threads, seed = 99) {
    set.seed(seed)
    f(threads)
  }
  fs <- list(
    draws = function(t) posterior_predictive(q, states, 4, threads = t),
    avg = function(t) posterior_predictive_statistic(q, states, 7, threads = t),
    mode = function(t) posterior_predictive_statistic(q, states, 7,
                                                      merge = "mode",
                                                      threads = t),
    exact = function(t) posterior_predictive_statistic(q, states, exact = TRUE,
                                                       threads = t)
  )
  for (f in fs) {
    one <- run(f, 1)
    expect_identical(run(f, 2), one)
    expect_identical(run(f, 3), one)
  }
  expect_false(identical(run(fs$draws, 2, seed = 1), run(fs$draws, 2, seed = 2)))
  # exact queries do not consume R's random numbers
  set.seed(1)
  fs$exact(2)
  after <- runif(1)
  set.seed(1)
  expect_identical(runif(1), after)
})

test_that("an all-missing row gets the prior predictive given the state", {
  st <- query_test_state(tiny_Y, c(1, 1, 2, 3), alpha = 2, hps = tiny_hps)
  q <- matrix(NA, 1, 3)
  p <- posterior_predictive_statistic(q, st, exact = TRUE)
  a <- tiny_hps[, 1]
  b <- tiny_hps[, 2]
  w <- c(st$group_sizes, 2) / (4 + 2)
  p_on <- rbind(t((a + t(st$heads)) / (a + b + t(st$heads) + t(st$tails))),
                a / (a + b))
  expect_equal(as.double(p), colSums(w * p_on), tolerance = 1e-14)
})

test_that("shapes, types and dimnames follow the queries", {
  st <- tiny_post$states[1:2]
  q <- tiny_q
  dimnames(q) <- list(paste0("r", 1:6), c("a", "b", "c"))
  s <- posterior_predictive_statistic(q, st, samples_per_chain = 3)
  expect_identical(dimnames(s), dimnames(q))
  expect_type(s, "double")
  d <- posterior_predictive(q, st, samples_per_chain = 3)
  expect_identical(dimnames(d), c(dimnames(q), list(NULL)))
  # logical and integer queries give the same answers as double ones
  ql <- matrix(as.logical(tiny_q), nrow(tiny_q))
  qi <- matrix(as.integer(tiny_q), nrow(tiny_q))
  p <- posterior_predictive_statistic(tiny_q, st, exact = TRUE)
  expect_identical(posterior_predictive_statistic(ql, st, exact = TRUE), p)
  expect_identical(posterior_predictive_statistic(qi, st, exact = TRUE), p)
  # no rows; no missing entries
  q0 <- tiny_q[0, , drop = FALSE]
  expect_identical(dim(posterior_predictive_statistic(q0, st)), c(0L, 3L))
  expect_identical(dim(posterior_predictive(q0, st, 2)), c(0L, 3L, 4L))
  full <- tiny_Y[c(1, 3), ]
  expect_identical(posterior_predictive_statistic(full, st, 5), full)
  expect_identical(posterior_predictive_statistic(full, st, merge = "mode"),
                   full == 1)
  # a single state or a list of one give the same answer
  expect_identical(posterior_predictive_statistic(tiny_q, st[[1]], exact = TRUE),
                   posterior_predictive_statistic(tiny_q, st[1], exact = TRUE))
})

test_that("bad arguments give errors that name them", {
  st <- tiny_post$states[1:2]
  pps <- posterior_predictive_statistic
  expect_error(pps(as.data.frame(tiny_q), st), "`queries` .*data frame")
  expect_error(pps(tiny_q[, 1:2], st), "`queries` .*one column per feature .*\\(3\\), not 2")
  expect_error(pps(c(1, NA, 0), st), "`queries` .*matrix\\(x, nrow = 1\\)")
  bad <- tiny_q
  bad[2, 2] <- 2
  expect_error(pps(bad, st), "`queries` must hold only 0, 1 and NA; entry \\[2, 2\\] is 2")
  bad[2, 2] <- 0.5
  expect_error(pps(bad, st), "`queries` must hold only 0, 1")
  expect_error(pps(matrix("1", 1, 3), st), "`queries` must be a logical")
  expect_error(pps(tiny_q, list()), "`infers` .*empty list")
  expect_error(pps(tiny_q, list(st[[1]], 3)), "`infers` .*element 2 is")
  expect_error(pps(tiny_q, "state"), "`infers` must be a latent state")
  other <- query_test_state(cbind(tiny_Y, 1), c(1, 1, 2, 2))
  expect_error(pps(tiny_q, list(st[[1]], other)),
               "`infers` must hold states of one model definition")
  expect_error(pps(tiny_q, st, samples_per_chain = 0), "`samples_per_chain`")
  expect_error(pps(tiny_q, st, samples_per_chain = 1.5), "`samples_per_chain`")
  expect_error(pps(tiny_q, st, merge = "median"), "`merge` must be \"avg\" or \"mode\"")
  expect_error(pps(tiny_q, st, exact = NA), "`exact` must be TRUE or FALSE")
  expect_error(pps(tiny_q, st, weights = c(-1, 2)), "`weights`")
  expect_error(pps(tiny_q, st, weights = 1), "`weights`")
  expect_error(pps(tiny_q, st, weights = c(0, 0)), "`weights`")
  expect_error(pps(tiny_q, st, threads = 0), "`threads`")
  expect_error(posterior_predictive(tiny_q, st, samples_per_chain = -1),
               "`samples_per_chain`")
  # states that R accepts but C finds invalid
  broken <- st[[1]]
  broken$group_sizes[1] <- 0L
  expect_error(pps(tiny_q, broken), "state 1 has a group size < 1")
  broken <- st[[1]]
  broken$cluster_hp$alpha <- -1
  expect_error(pps(tiny_q, broken, exact = TRUE), "state 1 has a cluster concentration")
  broken <- st[[1]]
  broken$heads <- broken$heads[, 1:2]
  expect_error(pps(tiny_q, broken), "`infers` state 1 is malformed: `heads`")
  # the error is reported as coming from the exported function
  expect_error(pps(tiny_q[, 1:2], st), class = "simpleError")
  cnd <- tryCatch(pps(tiny_q[, 1:2], st), error = identity)
  expect_identical(conditionCall(cnd)[[1]], quote(pps))
})

test_that("zmatrix equals co-clustering frequencies by enumeration", {
  z <- zmatrix(tiny_post$states, weights = tiny_post$prob)
  want <- matrix(0, 4, 4)
  for (s in seq_along(tiny_post$partitions)) {
    a <- tiny_post$partitions[[s]]
    want <- want + tiny_post$prob[s] * outer(a, a, "==")
  }
  expect_equal(z, want, tolerance = 1e-14)
  expect_equal(diag(z), rep(1, 4))
  # unweighted: the fraction of states, whatever the group ids
  st <- list(query_test_state(tiny_Y, c(5, 5, 2, 2)),
             query_test_state(tiny_Y, c(1, 3, 3, 3)),
             query_test_state(tiny_Y, c(9, 9, 9, 4)))
  z <- zmatrix(st)
  expect_equal(z[1, 2], 2 / 3)
  expect_equal(z[3, 4], 2 / 3)
  expect_equal(z[1, 4], 0)
  expect_equal(z[2, 3], 2 / 3)
  expect_equal(z, t(z))
  expect_identical(zmatrix(st[[1]]), 1 * outer(c(5, 5, 2, 2), c(5, 5, 2, 2), "=="))
  other <- query_test_state(tiny_Y[1:3, ], c(1, 1, 2))
  expect_error(zmatrix(list(st[[1]], other)), "`infers` must hold states of the same data")
})

test_that("point_partition minimises Dahl's least-squares loss", {
  dahl <- function(parts, w) {
    pi <- Reduce(`+`, Map(function(a, wi) wi * outer(a, a, "=="), parts, w))
    loss <- vapply(parts, function(a) sum((outer(a, a, "==") - pi)^2),
                   numeric(1))
    which.min(loss)
  }
  relabel <- function(a) match(a, unique(a))
  for (seed in 1:5) {
    parts <- withr::with_seed(seed, {
      lapply(1:8, function(i) sample(c(3, 7, 9, 11), 15, replace = TRUE))
    })
    Y <- matrix(0, 15, 2)
    st <- lapply(parts, query_test_state, Y = Y)
    w <- withr::with_seed(seed, runif(8))
    expect_identical(as.vector(point_partition(st, method = "least_squares")), relabel(parts[[dahl(parts, rep(1 / 8, 8))]]))
    expect_identical(as.vector(point_partition(st, loss = "least_squares", weights = w)),
                     relabel(parts[[dahl(parts, w / sum(w))]]))
  }
  # on tiny data, against the exact posterior
  pp <- as.vector(point_partition(tiny_post$states, loss = "least_squares",
                                  weights = tiny_post$prob))
  expect_identical(pp, relabel(tiny_post$partitions[[dahl(tiny_post$partitions,
                                                          tiny_post$prob)]]))
  expect_error(point_partition(tiny_post$states, method = "vi"), "`method`")
})

test_that("point_partition is the obvious one on well-separated data", {
  Y <- query_test_separated(n_per = 10, D = 12)
  truth <- rep(c(4L, 8L), each = 10)
  noisy <- function(i) {
    z <- truth
    z[i] <- 12L   # one row split off
    z
  }
  st <- c(lapply(c(1, 5, 13, 20), function(i) query_test_state(Y, noisy(i))),
          list(query_test_state(Y, truth)),
          list(query_test_state(Y, rep(1L, 20))))
  pp <- as.vector(point_partition(st, loss = "least_squares"))
  expect_identical(pp, rep(1:2, each = 10))
  for (loss in c("VI", "binder")) {
    expect_identical(as.vector(point_partition(st, loss = loss)), rep(1:2, each = 10))
  }
  # a valid partition: integers 1..K numbered by first appearance
  pp2 <- as.vector(point_partition(st[1]))
  expect_type(pp2, "integer")
  expect_identical(pp2, match(pp2, unique(pp2)))
  # and the queries agree: given the two-group states, a new row with ink
  # on the right of the left half predicts ink on its left, and vice versa
  q <- Y[c(1, 11), ]
  q[, 1:3] <- NA
  p <- posterior_predictive_statistic(q, st[1:5], exact = TRUE)
  expect_true(all(p[1, 1:3] > 0.75))
  expect_true(all(p[2, 1:3] < 0.25))
})

test_that("on chains fitted to well-separated data, the summaries are obvious", {
  set.seed(1)
  Y <- query_test_separated(n_per = 15, D = 20, p = 0.99, seed = 1)
  defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
  view <- dataview(Y)
  kc <- default_kernel_config(defn)
  runners <- lapply(1:4, function(i) {
    runner(defn, view, initialize_state(defn, view), kc)
  })
  pr <- parallel_runner(runners)
  run(pr, 50)
  infers <- get_latents(pr)
  expect_identical(as.vector(point_partition(infers)), rep(1:2, each = 15))
  z <- zmatrix(infers)
  expect_true(all(z[1:15, 1:15] > 0.5) && all(z[16:30, 16:30] > 0.5))
  expect_true(all(z[1:15, 16:30] < 0.5))
  q <- Y[c(1, 16), ]
  q[, c(1:5, 11:15)] <- NA
  p <- posterior_predictive_statistic(q, infers, exact = TRUE)
  expect_true(all(p[1, 1:5] > 0.8) && all(p[1, 11:15] < 0.2))
  expect_true(all(p[2, 1:5] < 0.2) && all(p[2, 11:15] > 0.8))
})

test_that("averaged probabilities over many states stay within [0, 1]", {
  # Fifty weights of 1/50 sum to 1 + 4e-16: a column that every draw fills
  # with TRUE must still come out as a probability (plot_predictions()
  # refuses anything above 1).
  Y <- matrix(TRUE, 50, 3)
  defn <- model_definition(50, rep(list(beta_bernoulli()), 3))
  view <- dataview(Y)
  s <- withr::with_seed(1, initialize_state(defn, view, feature_hps = matrix(0.01, 3, 2),
                                            assignment = rep(1L, 50)))
  q <- matrix(c(TRUE, NA, NA), 1, 3)
  avg <- withr::with_seed(2, posterior_predictive_statistic(q, rep(list(s), 50)))
  expect_true(all(avg >= 0 & avg <= 1))
  expect_identical(avg[1, 2:3], c(1, 1))
  exact <- posterior_predictive_statistic(q, rep(list(s), 50), exact = TRUE)
  expect_true(all(exact >= 0 & exact <= 1))
})
