# slice_feature_hp_kernel(scale = ): beta-Bernoulli hyperparameters sliced
# as log a, log b ("log", the default since 0.5.0) over a ladder of the
# groups' distinct counts, or as a, b ("linear", the kernel of 0.4.0).
# The samplers' exactness is tested against quadrature in
# test-correctness.R, on both scales; here: the sums they evaluate, and
# which kernel an old kernel object runs.

rising_reference <- function(x, counts) {
  # sum_k log Gamma(x + c_k) - log Gamma(x) as sums of logs, accurate to a
  # few ulps per term whatever x (no cancellation of two log Gammas).
  sum(vapply(counts, function(c) sum(log(x + seq(0, c - 1))), double(1)))
}

test_that("both forms of the rising-factorial sums match sums of logs", {
  sums <- function(x, counts) .Call(microscopes:::C_test_log_rising_sums, x, as.integer(counts))
  set.seed(71)
  count_sets <- list(
    small = sample.int(16, 40, replace = TRUE),
    mixed = c(sample.int(16, 60, replace = TRUE), sample(17:200, 80, replace = TRUE)),
    # gaps wider than LOG_RISING_GAP_MAX (32) take the Stirling rung
    wide = c(1L, 3L, 3L, 40L, 41L, 500L, 500L, 501L, 5000L, 20000L),
    one = 7L,
    repeats = rep(c(12L, 90L, 91L), c(50, 30, 20)),
    # a group of every size, as a blank pixel's tails at K = 300
    sizes = sample(20:400, 300, replace = TRUE))
  for (x in c(1e-3, 0.0123, 0.7, 3, 45.5, 955, 1e5)) {
    for (name in names(count_sets)) {
      counts <- count_sets[[name]]
      ref <- rising_reference(x, counts)
      got <- sums(x, counts)
      # Relative 1e-12 against the sum of logs (whose own error is ~1e-15),
      # absolute 1e-9 where the sum is near 0.
      tol <- 1e-12 * abs(ref) + 1e-9
      expect_lt(abs(got[1] - ref), tol, label = sprintf("grouped, x = %g, %s", x, name))
      expect_lt(abs(got[2] - ref), tol, label = sprintf("ladder, x = %g, %s", x, name))
      # The order of the counts does not matter to the ladder.
      expect_equal(sums(x, rev(counts))[2], got[2], tolerance = 1e-14)
    }
  }
  # A wrong rung (one factor too few per gap) is far outside the tolerance:
  # the test has power.
  counts <- count_sets$mixed
  wrong <- rising_reference(0.7, pmax(counts - 1L, 1L))
  expect_gt(abs(sums(0.7, counts)[2] - wrong), 1)
  expect_error(sums(0, 1L), "`x` must be a positive number")
  expect_error(sums(1, 0L), "`counts` must be whole numbers")
})

scale_chain <- function(kernel, seed, Y, defn) {
  kc <- structure(list(assign_kernel(), kernel, slice_cluster_hp_kernel()),
                  class = "microscopes_kernel_config")
  set.seed(seed)
  r <- runner(defn, Y, initialize_state(defn, Y), kc)
  run(r, 6)
  list(hps = feature_hps(get_latent(r)), log_joint = chain_trace(r)$log_joint)
}

test_that("scale picks the kernel; a kernel object without scale runs the linear one", {
  set.seed(72)
  n <- 120
  D <- 12
  Y <- matrix(runif(n * D) < rep(runif(D, 0.02, 0.7), each = n), n, D)
  defn <- model_definition(n, rep(list(beta_bernoulli()), D))
  k_log <- slice_feature_hp_kernel()
  k_linear <- slice_feature_hp_kernel(scale = "linear")
  expect_identical(k_log$scale, "log")
  expect_identical(k_log$width, 1)
  expect_identical(k_linear$width, 2)
  expect_identical(slice_feature_hp_kernel(width = 0.5)$width, 0.5)
  expect_output(print(k_log), "width 1 on the log scale")
  expect_output(print(k_linear), "width 2\\)")

  linear <- scale_chain(k_linear, 9, Y, defn)
  log_scale <- scale_chain(k_log, 9, Y, defn)
  expect_false(identical(linear$hps, log_scale$hps))
  # A kernel saved by 0.4.0 or before has no `scale` element: it runs the
  # linear kernel it ran then.
  k_old <- k_linear
  k_old$scale <- NULL
  expect_identical(scale_chain(k_old, 9, Y, defn), linear)

  expect_error(slice_feature_hp_kernel(scale = "logit"), "`scale` must be \"log\" or \"linear\"",
               class = "microscopes_error_argument")
  expect_error(slice_feature_hp_kernel(scale = 1), "`scale` must be", class = "microscopes_error_argument")
  expect_error(slice_feature_hp_kernel(scale = NA_character_), "`scale` must be",
               class = "microscopes_error_argument")
})
