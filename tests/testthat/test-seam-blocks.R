# Runner creation from a list of packed blocks (CONTRACT.md, "Packed
# blocks"): a binary view packed as one bb block gives the chain of the
# dataview path to the bit, and malformed lists are refused by name.
bb_blocks <- function(view, hps) {
  D <- nrow(hps)
  list(blocks = list(list(kind = 0L, features = seq_len(D), ivalues = NULL,
                          dvalues = NULL, n_levels = NULL, parameter = NULL,
                          bb = view)),
       hps = list(list(hp = as.vector(t(hps)), hp_offset = as.integer(2L * (0:D)))))
}

runner_from_blocks <- function(defn, blocks, latent, kc) {
  kernels <- microscopes:::check_kernel_config(kc, defn$D)
  ptr <- .Call(microscopes:::C_runner_new, blocks$blocks, latent$assignments,
               latent$cluster_hp$alpha, blocks$hps, kernels,
               microscopes:::state_checkpoint(latent), 0L)
  structure(list(ptr = ptr, defn = defn, models = latent$models, kernel_config = kc),
            class = "microscopes_runner")
}

test_that("a binary view packed as one bb block runs the dataview's chain to the bit", {
  set.seed(5)
  n <- 60; D <- 9
  Y <- matrix(runif(n * D) < 0.4, n, D)
  Y[sample.int(n * D, 20)] <- NA
  view <- dataview(Y)
  defn <- model_definition(n, rep(list(beta_bernoulli()), D))
  s0 <- initialize_state(defn, view,
                         feature_hps = cbind(alpha = runif(D, 0.5, 2), beta = runif(D, 0.5, 2)))
  kc <- default_kernel_config(defn)
  # Each runner draws its stream from R's RNG: the same seed for both.
  set.seed(50)
  r_view <- runner(defn, view, s0, kc)
  set.seed(50)
  r_blocks <- runner_from_blocks(defn, bb_blocks(view, feature_hps(s0)), s0, kc)
  withr::local_options(microscopes.check_state = TRUE)
  run(r_view, 5)
  run(r_blocks, 5)
  expect_identical(get_latent(r_blocks), get_latent(r_view))
  expect_identical(chain_trace(r_blocks)[, c("n_groups", "alpha", "log_joint")],
                   chain_trace(r_view)[, c("n_groups", "alpha", "log_joint")])
})

test_that("malformed block lists are refused with the part named", {
  set.seed(6)
  n <- 10; D <- 3
  view <- dataview(matrix(runif(n * D) < 0.5, n, D))
  defn <- model_definition(n, rep(list(beta_bernoulli()), D))
  s0 <- initialize_state(defn, view)
  kc <- list(assign_kernel())
  good <- bb_blocks(view, feature_hps(s0))
  bad <- good
  bad$blocks[[1]]$features <- c(1L, 3L, 2L)
  expect_snapshot(error = TRUE, runner_from_blocks(defn, bad, s0, kc))
  bad <- good
  bad$blocks[[1]]$kind <- 99L
  expect_snapshot(error = TRUE, runner_from_blocks(defn, bad, s0, kc))
  bad <- good
  bad$hps[[1]]$hp[2] <- -1
  expect_snapshot(error = TRUE, runner_from_blocks(defn, bad, s0, kc))
  bad <- good
  bad$hps[[1]]$hp_offset <- 0:3
  expect_snapshot(error = TRUE, runner_from_blocks(defn, bad, s0, kc))
  bad <- good
  bad$hps <- list()
  expect_snapshot(error = TRUE, runner_from_blocks(defn, bad, s0, kc))
  bad <- good
  bad$blocks[[1]]$kind <- 2L
  bad$blocks[[1]]$ivalues <- rep(0L, n * D - 1L)
  bad$hps[[1]]$hp <- c(1, 1, 1, 1, 1, 1)
  # A gp block whose cells are not n x F.
  expect_snapshot(error = TRUE, runner_from_blocks(defn, bad, s0, kc))
})

test_that("block statistics and hyperparameters read through the block ops match the bb latent", {
  set.seed(7)
  n <- 40; D <- 5
  Y <- matrix(runif(n * D) < 0.3, n, D)
  Y[sample.int(n * D, 10)] <- NA
  defn <- model_definition(n, rep(list(beta_bernoulli()), D))
  r <- runner(defn, Y, initialize_state(defn, Y), default_kernel_config(defn))
  run(r, 3)
  s <- get_latent(r)
  generic <- .Call(microscopes:::C_runner_block_stats, r$ptr)
  expect_identical(generic$feature_kinds, rep(0L, D))
  for (d in seq_len(D)) {
    expect_identical(generic$feature_hps[[d]], unname(feature_hps(s)[d, ]))
    expect_identical(generic$suffstats[[d]],
                     unname(cbind(as.double(s$heads[, d]), as.double(s$tails[, d]))))
  }
})
