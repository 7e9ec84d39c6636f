# slice_feature_hp spreads its per-feature updates over threads inside a
# chain (issue 15); each feature draws from its own stream derived from the
# chain's, so the chain does not depend on the thread count. `threads` is
# an internal element of the kernel (bench/large_k.R sets it).
feature_hp_chain <- function(threads, Y, defn, seed, start = NULL, scale = "log") {
  k <- slice_feature_hp_kernel(scale = scale)
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
    linear <- feature_hp_chain(1L, Y, defn, 5, start, scale = "linear")
    expect_identical(feature_hp_chain(2L, Y, defn, 5, start, scale = "linear"), linear)
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

# `threads =` of a runner or a parallel runner counts every thread of a run:
# one worker per chain, and the rest shared among the chains for their
# hyperparameter updates once a chain holds enough feature-group pairs
# (chain.c, FEATURE_HP_PAIRS_PER_THREAD = 4096; the log joint's data term
# likewise) and for the scores of each
# row of the Gibbs sweep once it spans SWEEP_PAIR_MIN_SLOTS = 48 slots and
# SWEEP_PAIR_MIN_WORK = 2048 (blocks of 8 slots x on-features per row;
# sweep_pair.h): here 500 features x 90 clusters, checked below, so that
# 2 threads do run inside a chain for both. get_latent() audits the tables
# against a recount (microscopes.check_state).
total_threads_chains <- function(threads, chains, Y, defn, seed) {
  set.seed(seed)
  kc <- default_kernel_config(defn)
  runners <- lapply(seq_len(chains), function(j) {
    runner(defn, Y, initialize_state(defn, Y, assignment = seq_len(nrow(Y))), kc,
           threads = threads)
  })
  if (chains == 1L) run(runners[[1]], 3) else run(parallel_runner(runners, threads = threads), 3)
  lapply(runners, function(r) {
    s <- get_latent(r)
    # The log joint too: its data term is summed over threads once the
    # chain holds as many pairs (state_score_threads.c), in the same bits.
    list(hps = feature_hps(s), assignments = assignments(s), alpha = s$cluster_hp$alpha,
         groups = chain_trace(r)$n_groups, log_joint = chain_trace(r)$log_joint)
  })
}

test_that("a run's total threads, shared inside chains, leave the chains unchanged", {
  withr::local_options(microscopes.check_state = TRUE)
  set.seed(33)
  n <- 360
  D <- 500
  prototypes <- matrix(rbeta(90 * D, 0.2, 0.2), 90, D)
  Y <- matrix(runif(n * D) < prototypes[rep(1:90, 4), ], n, D)
  Y[sample.int(n * D, 600)] <- NA
  defn <- model_definition(n, rep(list(beta_bernoulli()), D))
  one <- total_threads_chains(1L, 1L, Y, defn, 7)
  groups <- one[[1]]$groups
  expect_true(all(D * (groups + 1) >= 2 * 4096))
  expect_true(all(groups >= 48))
  expect_true(all((groups + 1) / 8 * (mean(rowSums(Y, na.rm = TRUE)) + 1) >= 2048))
  expect_identical(total_threads_chains(2L, 1L, Y, defn, 7), one)
  expect_identical(total_threads_chains(3L, 1L, Y, defn, 7), one)
  two <- total_threads_chains(1L, 2L, Y, defn, 8)
  expect_identical(total_threads_chains(4L, 2L, Y, defn, 8), two)
  expect_false(identical(two[[1]]$hps, two[[2]]$hps))
  expect_error(runner(defn, Y, initialize_state(defn, Y), default_kernel_config(defn),
                      threads = 0), "threads")
})
