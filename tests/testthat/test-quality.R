# The quality summaries of R/quality.R, on the fake image states of
# helper-plot.R and on small sampled data.

test_that("cluster_purity() counts rows that share their group's majority label", {
  state <- fake_image_state(matrix(TRUE, 8, 4), c(1, 1, 1, 5, 5, 5, 5, 9))
  labels <- c(2, 2, 3, 3, 3, 3, 2, 7)
  # Group 1: two 2s of three; group 5: three 3s of four; group 9: one 7.
  expect_equal(cluster_purity(state, labels), 6 / 8)
  expect_equal(cluster_purity(state, factor(labels)), 6 / 8)
  labels[8] <- NA
  expect_equal(cluster_purity(state, labels), 5 / 7)

  one_group <- fake_image_state(matrix(TRUE, 8, 4), rep(1, 8))
  expect_equal(cluster_purity(list(state, one_group), labels), c(5 / 7, 4 / 7))
})

test_that("cluster_purity() checks its arguments", {
  state <- fake_image_state(matrix(TRUE, 3, 4), c(1, 1, 2))
  expect_snapshot(error = TRUE, {
    cluster_purity(unclass(state), 1:3)
    cluster_purity(state, 1:4)
    cluster_purity(list(state), list(1, 2, 3))
    cluster_purity(state, c(NA, NA, NA))
  })
})

test_that("bernoulli_log_loss() is the mean log loss over observed truth", {
  expect_equal(bernoulli_log_loss(matrix(0.5, 2, 2), matrix(c(TRUE, FALSE), 2, 2)),
               log(2))
  expect_equal(bernoulli_log_loss(c(0.9, 0.2, 0.3), c(1, 0, NA)),
               -mean(log(c(0.9, 0.8))))
  # Certain mistakes are clipped, not infinite.
  expect_equal(bernoulli_log_loss(c(0, 1), c(1, 0)), -log(1e-12), tolerance = 1e-6)
  # Entries whose truth is NA may have any prediction, even NA.
  expect_equal(bernoulli_log_loss(c(1, NA), c(1, NA)), -log(1 - 1e-12))
})

test_that("bernoulli_log_loss() checks its arguments", {
  expect_snapshot(error = TRUE, {
    bernoulli_log_loss("a", 1)
    bernoulli_log_loss(0.5, "1")
    bernoulli_log_loss(c(0.5, 0.5), 1)
    bernoulli_log_loss(matrix(0.5, 2, 2), matrix(1, 1, 4))
    bernoulli_log_loss(0.5, NA)
    bernoulli_log_loss(0.5, 2)
    bernoulli_log_loss(1.5, 1)
  })
})

test_that("predict_labels() weighs groups by their posterior given the observed entries", {
  # A hand-made state: two groups, one feature observed in the query.
  state <- structure(list(
    n = 5L, D = 2L, assignments = c(1L, 1L, 1L, 3L, 3L), groups = c(1L, 3L),
    group_sizes = c(3L, 2L), heads = matrix(c(3L, 0L, 1L, 1L), 2), tails = matrix(c(0L, 2L, 2L, 1L), 2),
    cluster_hp = list(alpha = 0.5), feature_hps = cbind(alpha = c(1, 2), beta = c(1, 3)),
    models = rep("beta_bernoulli", 2)), class = "microscopes_state")
  labels <- c("x", "x", "y", "y", "y")
  q <- rbind(c(1, NA), c(NA, NA))
  p <- predict_labels(q, state, labels)
  # By hand: weights size_k * p_k(x_1 = 1), new group alpha * a / (a + b).
  w <- c(3 * 4 / 5, 2 * 1 / 4, 0.5 * 1 / 2)
  w <- w / sum(w)
  shares <- rbind(c(2, 1) / 3, c(0, 2) / 2, c(2, 3) / 5)
  expect_equal(p[1, ], colSums(w * shares), ignore_attr = TRUE)
  prior_w <- c(3, 2, 0.5) / 5.5
  expect_equal(p[2, ], colSums(prior_w * shares), ignore_attr = TRUE)
  expect_equal(colnames(p), c("x", "y"))
  expect_equal(rowSums(p), c(1, 1))
  # A list of states averages them.
  expect_equal(predict_labels(q, list(state, state), labels), p)
})

test_that("predict_labels() tells well-separated kinds of rows apart", {
  set.seed(8)
  Y <- rbind(matrix(runif(30 * 8) < 0.9, 30, 8), matrix(runif(30 * 8) < 0.1, 30, 8))
  labels <- rep(c("ink", "blank"), each = 30)
  defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
  r <- runner(defn, Y, initialize_state(defn, Y), default_kernel_config(defn))
  run(r, 20)
  q <- rbind(c(1, 1, 1, 1, NA, NA, NA, NA), c(0, 0, 0, 0, NA, NA, NA, NA))
  p <- predict_labels(q, get_latent(r), labels)
  expect_gt(p[1, "ink"], 0.95)
  expect_gt(p[2, "blank"], 0.95)
  expect_error(predict_labels(q[, 1:4], get_latent(r), labels), "`queries` must have one column per feature")
  expect_error(predict_labels(q, get_latent(r), labels[-1]), "`labels` must have one label")
  expect_error(predict_labels(q, list(), labels), "`latents` must be")
})

test_that("adjusted_rand_index() equals a hand computation", {
  # Table of x against y: rows (2, 1, 0) and (0, 1, 2). Pairs together in
  # both: 1 + 1 = 2; in x: 3 + 3 = 6; in y: 1 + 1 + 1 = 3; of 15 pairs.
  # Expected 6 * 3 / 15 = 1.2, maximum (6 + 3) / 2 = 4.5: (2 - 1.2) / 3.3.
  x <- c(1, 1, 1, 2, 2, 2)
  y <- c("a", "a", "b", "b", "c", "c")
  expect_equal(adjusted_rand_index(x, y), 8 / 33)
  expect_equal(adjusted_rand_index(y, x), 8 / 33)
  expect_equal(adjusted_rand_index(factor(x), y), 8 / 33)
  expect_equal(adjusted_rand_index(x, c(5, 5, 5, 9, 9, 9)), 1)
  expect_equal(adjusted_rand_index(1:6, x), 0)
  expect_equal(adjusted_rand_index(1:6, 6:1), 1)
  expect_equal(adjusted_rand_index(rep(1, 6), rep(2, 6)), 1)
  # NA rows are left out.
  expect_equal(adjusted_rand_index(c(x, NA), c(y, "a")), 8 / 33)
  # Below chance: negative.
  expect_lt(adjusted_rand_index(c(1, 1, 2, 2), c(1, 2, 1, 2)), 0)
})

test_that("adjusted_rand_index() checks its arguments", {
  expect_error(adjusted_rand_index(1:3, 1:4), "`y` must have the length of `x` \\(3\\), not 4")
  expect_error(adjusted_rand_index(list(1, 2), 1:2), "`x` must be a vector of group labels")
  expect_error(adjusted_rand_index(1:2, matrix(1:2)), "`y` must be a vector of group labels")
  expect_error(adjusted_rand_index(c(1, NA), c(NA, 2)), "at least two rows")
})
