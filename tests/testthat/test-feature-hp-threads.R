# slice_feature_hp spreads its per-feature updates over threads inside a
# chain (issue 15); each feature draws from its own stream derived from the
# chain's, so the chain does not depend on the thread count. `threads` is
# an internal element of the kernel (bench/large_k.R sets it).
feature_hp_chain <- function(threads, Y, defn, seed, start = NULL) {
  k <- slice_feature_hp_kernel()
  k$threads <- threads
  kc <- structure(list(assign_kernel(), k, slice_cluster_hp_kernel()),
                  class = "microscopes_kernel_config")
  set.seed(seed)
  r <- runner(defn, Y, initialize_state(defn, Y, assignment = start), kc)
  run(r, 8)
  s <- get_latent(r)
  list(hps = feature_hps(s), assignments = assignments(s),
       trace = chain_trace(r)[, c("n_groups", "alpha", "log_joint")])
}

test_that("slice_feature_hp chains do not depend on the threads inside the chain", {
  set.seed(31)
  n <- 200
  D <- 30
  Y <- matrix(runif(n * D) < rep(runif(D, 0.05, 0.6), each = n), n, D)
  Y[sample.int(n * D, 60)] <- NA
  defn <- model_definition(n, rep(list(beta_bernoulli()), D))
  for (start in list(NULL, seq_len(n))) {
    one <- feature_hp_chain(1L, Y, defn, 5, start)
    expect_identical(feature_hp_chain(2L, Y, defn, 5, start), one)
    expect_identical(feature_hp_chain(4L, Y, defn, 5, start), one)
    # The hyperparameters moved (the kernel ran), and differ by seed.
    expect_false(all(one$hps == 1))
    expect_false(identical(feature_hp_chain(1L, Y, defn, 6, start)$hps, one$hps))
  }
})

test_that("slice_feature_hp on more threads than features or on a subset of features", {
  set.seed(32)
  n <- 60
  Y <- matrix(runif(n * 3) < 0.4, n, 3)
  defn <- model_definition(n, rep(list(beta_bernoulli()), 3))
  k <- slice_feature_hp_kernel(features = c(1, 3))
  run_with <- function(threads) {
    k$threads <- threads
    kc <- structure(list(assign_kernel(), k), class = "microscopes_kernel_config")
    set.seed(2)
    r <- runner(defn, Y, initialize_state(defn, Y), kc)
    run(r, 5)
    feature_hps(get_latent(r))
  }
  hps <- run_with(1L)
  expect_identical(run_with(8L), hps)
  expect_equal(unname(hps[2, ]), c(1, 1))
  expect_true(all(hps[c(1, 3), ] != 1))
})
