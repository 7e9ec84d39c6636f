# Posterior-predictive queries on mixed states (R/query-mixed.R,
# src/query_blocks.c) against closed forms computed with the reference math
# of helper-models.R, on states built in R (helper-mixed-states.R).

mixed_fixture <- function() {
  data <- data.frame(
    b = c(TRUE, FALSE, TRUE, NA, TRUE, FALSE),
    f = factor(c("a", "b", "c", "a", NA, "b"), levels = c("a", "b", "c")),
    g = c(0L, 3L, 1L, 5L, 2L, NA),
    nb = c(1L, 0L, NA, 4L, 2L, 7L),
    y = c(1.2, -0.3, 2.5, NA, 0.1, 3.3))
  models <- list(beta_bernoulli(), dirichlet_discrete(3), gamma_poisson(),
                 beta_negative_binomial(2.5), normal_inverse_chisq())
  hps <- list(list(alpha = 1.5, beta = 0.7), list(alphas = c(0.5, 1, 2)),
              list(alpha = 2, inv_beta = 1.5), list(alpha = 3, beta = 2),
              list(mu = 0.5, kappa = 0.8, sigmasq = 1.3, nu = 2.5))
  list(data = data, models = models, hps = hps)
}

mixed_queries <- function() {
  data.frame(b = c(TRUE, NA, NA, FALSE),
             f = factor(c(NA, "b", NA, "a"), levels = c("a", "b", "c")),
             g = c(NA, 2L, NA, 1L),
             nb = c(3L, NA, NA, 0L),
             y = c(NA, 0.4, NA, -1))
}

# Closed-form avg over states with weights: list per feature of an
# n x mean-size matrix.
ref_avg <- function(q, fx, zs, alphas, weights, groups = 0L) {
  w <- weights / sum(weights)
  rows <- lapply(seq_len(nrow(q)), function(i) {
    per_state <- lapply(seq_along(zs), function(s) {
      ref_query_means(q[i, ], fx$data, fx$models, zs[[s]], fx$hps, alphas[s], groups)
    })
    lapply(seq_along(fx$models), function(d) {
      Reduce(`+`, lapply(seq_along(zs), function(s) w[s] * per_state[[s]][[d]]))
    })
  })
  lapply(seq_along(fx$models), function(d) do.call(rbind, lapply(rows, `[[`, d)))
}

test_that("merge = \"avg\" is the exact mixture of predictive means over groups and states", {
  fx <- mixed_fixture()
  zs <- list(c(1, 1, 2, 2, 2, 3), c(1, 2, 1, 2, 3, 3))
  alphas <- c(0.9, 2.3)
  states <- lapply(1:2, function(s) mixed_test_state(fx$data, fx$models, zs[[s]], fx$hps,
                                                     alpha = alphas[s]))
  q <- mixed_queries()
  r <- posterior_predictive_statistic(q, states, weights = c(1, 3))
  ref <- ref_avg(q, fx, zs, alphas, c(1, 3))
  expect_s3_class(r, "data.frame")
  expect_identical(dim(r), dim(q))
  expect_identical(names(r), names(q))
  miss <- is.na(q)
  for (d in c(1, 3, 4, 5)) {
    expect_equal(r[[d]][miss[, d]], ref[[d]][miss[, d], 1], tolerance = 1e-10)
    expect_equal(r[[d]][!miss[, d]], as.double(q[[d]][!miss[, d]]))   # observed copied
  }
  P <- attr(r, "level_probabilities")$f
  expect_identical(dim(P), c(4L, 3L))
  expect_identical(colnames(P), levels(q$f))
  expect_equal(unname(P[miss[, 2], ]), unname(ref[[2]][miss[, 2], ]), tolerance = 1e-10)
  expect_equal(unname(P[!miss[, 2], ]), rbind(c(0, 1, 0), c(1, 0, 0)))
  expect_s3_class(r$f, "factor")
  expect_identical(levels(r$f), levels(q$f))
  top <- levels(q$f)[max.col(ref[[2]], ties.method = "first")]
  expect_identical(as.character(r$f[miss[, 2]]), top[miss[, 2]])
  expect_identical(as.character(r$f[!miss[, 2]]), as.character(q$f[!miss[, 2]]))
})

test_that("a finite mixture's state weighs groups by n_k + alpha/G and the unused ones by (G - K) alpha/G", {
  fx <- mixed_fixture()
  z <- c(1, 1, 2, 2, 2, 3)
  q <- mixed_queries()
  for (G in c(3L, 5L)) {   # G = K: no new group; G > K: the unused ones
    st <- mixed_test_state(fx$data, fx$models, z, fx$hps, alpha = 1.7, groups = G)
    r <- posterior_predictive_statistic(q, st)
    ref <- ref_avg(q, fx, list(z), 1.7, 1, groups = G)
    expect_equal(r$y[is.na(q$y)], ref[[5]][is.na(q$y), 1], tolerance = 1e-10)
    expect_equal(unname(attr(r, "level_probabilities")$f[is.na(q$f), ]),
                 unname(ref[[2]][is.na(q$f), ]), tolerance = 1e-10)
  }
  # and it differs from the CRP's answer
  crp <- posterior_predictive_statistic(q, mixed_test_state(fx$data, fx$models, z, fx$hps,
                                                            alpha = 1.7))
  expect_false(isTRUE(all.equal(crp$y, r$y)))
})

# Chi-square of observed counts against expected probabilities.
chisq_stat <- function(counts, probs) {
  e <- sum(counts) * probs
  sum((counts - e)^2 / e)
}

test_that("sampled draws follow the closed-form predictive (and a wrong group weight fails)", {
  fx <- mixed_fixture()
  z <- c(1, 1, 2, 2, 2, 3)
  st <- mixed_test_state(fx$data, fx$models, z, fx$hps, alpha = 0.9)
  # observed: a factor level and a count that single out groups
  q <- data.frame(b = NA, f = factor("c", levels = c("a", "b", "c")), g = 4L, nb = NA_integer_,
                  y = NA_real_)
  N <- 20000
  set.seed(11)
  draws <- posterior_predictive(q, st, samples_per_chain = N)
  expect_length(draws, N)
  b <- vapply(draws, function(d) d$b, logical(1))
  nb <- vapply(draws, function(d) d$nb, integer(1))
  y <- vapply(draws, function(d) d$y, double(1))
  expect_true(all(vapply(draws, function(d) identical(d$f, q$f) && d$g == 4L, logical(1))))

  ids <- unique(z)
  col <- function(d, k) if (k <= length(ids)) fx$data[[d]][z == ids[k]] else fx$data[[d]][0]
  expected <- function(w) {
    p_b <- sum(w * vapply(seq_along(w), function(k)
      ref_predictive_mean(fx$models[[1]], col(1, k), fx$hps[[1]]), 1))
    # bnb counts 0..7 and >= 8
    pmf <- Reduce(`+`, lapply(seq_along(w), function(k)
      w[k] * exp(ref_log_predictive(fx$models[[4]], 0:7, col(4, k), fx$hps[[4]]))))
    mu <- sum(w * vapply(seq_along(w), function(k)
      ref_predictive_mean(fx$models[[5]], col(5, k), fx$hps[[5]]), 1))
    list(p_b = p_b, nb = c(pmf, 1 - sum(pmf)), mu = mu)
  }
  stat <- function(w) {
    e <- expected(w)
    nb_counts <- tabulate(pmin(nb, 8L) + 1L, 9)
    c(b = chisq_stat(c(sum(b), sum(!b)), c(e$p_b, 1 - e$p_b)),
      nb = chisq_stat(nb_counts, e$nb),
      y = abs(mean(y) - e$mu) / (stats::sd(y) / sqrt(N)))
  }
  w <- ref_query_group_weights(q, fx$data, fx$models, z, fx$hps, 0.9)
  ok <- stat(w)
  expect_lt(ok[["b"]], stats::qchisq(0.999, 1))
  expect_lt(ok[["nb"]], stats::qchisq(0.999, 8))
  expect_lt(ok[["y"]], 3.5)
  # the same draws against a wrong partition prior (group sizes ignored:
  # every group and the new one weighted alike) fail
  wrong <- ref_query_group_weights(q, fx$data, fx$models, z, fx$hps, 0.9,
                                   prior = function(sizes, alpha) rep(0, length(sizes) + 1))
  bad <- stat(wrong)
  expect_true(bad[["b"]] > stats::qchisq(0.999, 1) || bad[["nb"]] > stats::qchisq(0.999, 8) ||
                bad[["y"]] > 3.5)
})

test_that("results do not depend on the thread count", {
  fx <- mixed_fixture()
  states <- lapply(1:3, function(s) {
    mixed_test_state(fx$data, fx$models, list(c(1, 1, 2, 2, 2, 3), c(1, 2, 1, 2, 3, 3),
                                              rep(1, 6))[[s]], fx$hps, alpha = s)
  })
  q <- mixed_queries()[rep(1:4, 5), ]    # 20 rows: several units of rows
  rownames(q) <- NULL
  set.seed(5)
  d1 <- posterior_predictive(q, states, samples_per_chain = 7, threads = 1)
  set.seed(5)
  d2 <- posterior_predictive(q, states, samples_per_chain = 7, threads = 2)
  expect_identical(d1, d2)
  expect_length(d1, 21L)
  s1 <- posterior_predictive_statistic(q, states, threads = 1)
  s2 <- posterior_predictive_statistic(q, states, threads = 2)
  expect_identical(s1, s2)
  # draws are reproducible and differ between seeds
  set.seed(6)
  d3 <- posterior_predictive(q, states, samples_per_chain = 7, threads = 2)
  expect_false(identical(d1, d3))
})

test_that("NA cells are predicted in each column's own type; observed cells are kept", {
  fx <- mixed_fixture()
  st <- mixed_test_state(fx$data, fx$models, c(1, 1, 2, 2, 2, 3), fx$hps, alpha = 0.9)
  q <- mixed_queries()
  set.seed(2)
  draws <- posterior_predictive(q, st, samples_per_chain = 4)
  for (d in draws) {
    expect_s3_class(d, "data.frame")
    expect_type(d$b, "logical")
    expect_s3_class(d$f, "factor")
    expect_identical(levels(d$f), levels(q$f))
    expect_type(d$g, "integer")
    expect_type(d$nb, "integer")
    expect_type(d$y, "double")
    expect_false(anyNA(d))
    obs <- !is.na(q)
    for (j in seq_along(q)) expect_identical(d[[j]][obs[, j]], q[[j]][obs[, j]])
    expect_true(all(d$g >= 0L) && all(d$nb >= 0L))
  }
  # a column left all NA (R makes it logical) is predicted in the model's type
  q2 <- data.frame(b = NA, f = NA, g = NA, nb = NA, y = NA)
  d2 <- posterior_predictive(q2, st, samples_per_chain = 2)[[1]]
  expect_type(d2$b, "logical")
  expect_type(d2$f, "integer")      # levels 1..k: the state knows no level names
  expect_true(d2$f %in% 1:3)
  expect_type(d2$g, "integer")
  expect_type(d2$y, "double")
  # a row with every cell missing gets the prior predictive given the state
  r <- posterior_predictive_statistic(q2, st)
  ref <- ref_query_means(q2, fx$data, fx$models, c(1, 1, 2, 2, 2, 3), fx$hps, 0.9)
  expect_equal(r$y, ref[[5]], tolerance = 1e-10)
  expect_equal(unname(attr(r, "level_probabilities")$f[1, ]), ref[[2]], tolerance = 1e-10)
  expect_type(r$f, "integer")
  # a row with no missing cell comes back as given
  full <- fx$data[1:2, ]
  d3 <- posterior_predictive(full, st, samples_per_chain = 2)
  expect_identical(d3[[2]], full)
  # integer levels for a dd column give integer levels back
  q4 <- q
  q4$f <- as.integer(q4$f)
  r4 <- posterior_predictive_statistic(q4, st)
  expect_type(r4$f, "integer")
  expect_equal(unname(attr(r4, "level_probabilities")$f),
               unname(attr(posterior_predictive_statistic(q, st), "level_probabilities")$f))
})

test_that("bad queries and states are clear errors naming the argument or column", {
  fx <- mixed_fixture()
  st <- mixed_test_state(fx$data, fx$models, c(1, 1, 2, 2, 2, 3), fx$hps, alpha = 0.9)
  q <- mixed_queries()
  expect_snapshot(error = TRUE, {
    posterior_predictive_statistic(as.matrix(q), st)
    posterior_predictive_statistic(q[, 1:4], st)
    posterior_predictive(transform(q, f = as.character(f)), st)
    posterior_predictive(transform(q, f = factor(as.character(f), levels = c("a", "b"))), st)
    posterior_predictive(transform(q, f = c(NA, 2L, NA, 4L)), st)
    posterior_predictive(transform(q, g = c(NA, -2L, NA, 1L)), st)
    posterior_predictive(transform(q, y = c(NA, Inf, NA, 1)), st)
    posterior_predictive(transform(q, b = c(TRUE, NA, NA, 2)), st)
    posterior_predictive_statistic(q, st, merge = "mode")
    posterior_predictive(q, st, samples_per_chain = 0)
  })
  bad <- st
  bad$stats[[2]][1, 1] <- 9    # more counts than the group has rows
  expect_snapshot(error = TRUE, posterior_predictive_statistic(q, bad))
  bad <- st
  bad$stats[[5]] <- bad$stats[[5]][, 1:2]
  expect_snapshot(error = TRUE, posterior_predictive_statistic(q, bad))
  bad <- st
  bad$feature_hps[[3]]$alpha <- -1
  expect_snapshot(error = TRUE, posterior_predictive_statistic(q, bad))
  bad <- st
  bad$feature_hps[[5]] <- list(mu = 0, kappa = 1)
  expect_snapshot(error = TRUE, posterior_predictive_statistic(q, bad))
  other <- st
  other$models[3] <- "normal_inverse_chisq"
  expect_snapshot(error = TRUE, posterior_predictive_statistic(q, list(st, other)))
})

test_that("binary states keep the binary query path", {
  set.seed(1)
  Y <- matrix(runif(12 * 3) < 0.5, 12, 3)
  defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), 3))
  st <- initialize_state(defn, dataview(Y))
  expect_false(query_is_mixed(st))
  expect_true(query_is_mixed(mixed_test_state(mixed_fixture()$data, mixed_fixture()$models,
                                              rep(1, 6), mixed_fixture()$hps)))
  q <- Y[1:2, ]
  q[, 3] <- NA
  expect_true(is.matrix(posterior_predictive_statistic(q, st, exact = TRUE)))
})

test_that("a failed allocation at any point of a mixed query is an error, and the next query works", {
  fail_alloc <- function(k) .Call(microscopes:::C_test_fail_alloc, k)
  on.exit(fail_alloc(0), add = TRUE)
  fx <- mixed_fixture()
  states <- lapply(1:2, function(s) {
    mixed_test_state(fx$data, fx$models, list(c(1, 1, 2, 2, 2, 3), rep(1, 6))[[s]], fx$hps)
  })
  q <- mixed_queries()
  expected <- posterior_predictive_statistic(q, states, threads = 1)
  failures <- 0
  for (k in 1:300) {
    fail_alloc(k)
    outcome <- tryCatch({
      posterior_predictive_statistic(q, states, threads = 1)
      "ok"
    }, error = function(e) conditionMessage(e))
    left <- fail_alloc(0)
    if (left > 0) break    # the k-th allocation was never reached: all tried
    failures <- failures + 1
    expect_match(outcome, "memory")
    expect_identical(posterior_predictive_statistic(q, states, threads = 1), expected)
  }
  expect_gt(failures, 20)
  expect_lt(k, 300)
})
