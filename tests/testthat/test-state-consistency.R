# The C core keeps incremental tables (counts, cached logs, denominators
# memoised by group size, shared log tables for repeated hyperparameter
# values, delta tiles) and moves rows by one of three paths: rows and groups
# without missing entries, with shared log tables or with logs, and
# everything else. These tests audit the tables against a rebuild from
# scratch: with options(microscopes.check_state = TRUE), get_latent()
# recomputes every table of the chain and fails if any differs. A
# hyperparameter kernel rebuilds all tables, so the audits that matter
# follow an assign sweep. The tests also check that the trace's log joint
# equals the closed forms score_assignment() + score_data().

# Rows from a few prototypes. `missing`: the share of entries set to NA;
# rare enough (by default) that groups with and without missing entries
# coexist and rows turn groups from one kind into the other.
consistency_data <- function(n = 120, D = 14, missing = 0.015, seed = 11) {
  withr::local_seed(seed)
  prototypes <- matrix(stats::runif(4 * D), 4, D)
  z <- sample.int(4, n, replace = TRUE)
  Y <- matrix(stats::runif(n * D) < prototypes[z, ], n, D)
  Y[sample.int(n * D, round(missing * n * D))] <- NA
  Y
}

run_checked <- function(Y, kernel_config, latent = NULL, iterations = 5, seed = 1) {
  withr::local_seed(seed)
  withr::local_options(microscopes.check_state = TRUE)
  defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
  if (is.null(latent)) latent <- initialize_state(defn, Y)
  r <- runner(defn, Y, latent, kernel_config)
  for (i in seq_len(iterations)) {
    run(r, 1)
    s <- get_latent(r)  # an error if any incremental table is inconsistent
    joint <- chain_trace(r)$log_joint[i]
    expect_lt(abs(joint - (score_assignment(s) + score_data(s))), 1e-8)
  }
  r
}

defn_for <- function(Y) model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))

# Hyperparameters first, assign last: the audit follows an assign sweep
# made with slice-sampled (all distinct) hyperparameters.
assign_last <- function(prior = "noninformative_beta") {
  list(slice_cluster_hp_kernel(), slice_feature_hp_kernel(prior = prior), assign_kernel())
}

test_that("tables stay consistent on fully observed data, on every move path", {
  Y <- consistency_data(missing = 0, seed = 12)
  defn <- defn_for(Y)
  # a = b = 1 everywhere: moves read shared log tables.
  run_checked(Y, list(assign_kernel(), slice_cluster_hp_kernel()))
  # Many distinct fixed values: moves take logs.
  hps <- cbind(alpha = seq(0.3, 3, length.out = ncol(Y)), beta = seq(2, 0.5, length.out = ncol(Y)))
  run_checked(Y, list(assign_kernel()), latent = initialize_state(defn, Y, feature_hps = hps))
  # Slice-sampled or grid hyperparameters, then a sweep.
  run_checked(Y, assign_last())
  run_checked(Y, assign_last(prior_gamma(2, 1)))
  grid <- expand.grid(alpha = c(0.5, 2), beta = c(0.5, 2))
  run_checked(Y, list(grid_feature_hp_kernel(grid = grid), assign_kernel()))
})

test_that("tables stay consistent with missing entries", {
  # Sparse NA: groups turn from complete to incomplete and back.
  Y <- consistency_data(seed = 13)
  Y[c(3, 50), ] <- NA
  run_checked(Y, list(assign_kernel()))
  run_checked(Y, assign_last())
  r <- run_checked(Y, default_kernel_config(defn_for(Y)))
  # A new runner built from the returned state reproduces its counts.
  expect_no_error(runner(defn_for(Y), Y, get_latent(r), default_kernel_config(defn_for(Y))))
  # Dense NA and a feature never observed.
  Y <- consistency_data(missing = 0.2, seed = 14)
  Y[, 5] <- NA
  run_checked(Y, assign_last())
  run_checked(Y, default_kernel_config(defn_for(Y)))
})

test_that("tables stay consistent while the number of groups grows past capacity", {
  # One group to start (room for few slots) and a large alpha: many new
  # groups, so the slot arrays grow during a sweep. Singletons to start
  # exercise the opposite: groups emptying and slots being reused.
  Y <- consistency_data(n = 150, seed = 15)
  defn <- defn_for(Y)
  one <- initialize_state(defn, Y, cluster_hp = list(alpha = 60),
                          assignment = rep(1L, nrow(Y)))
  r <- run_checked(Y, list(assign_kernel()), latent = one, iterations = 3)
  expect_gt(n_groups(get_latent(r)), 16)
  singletons <- initialize_state(defn, Y, assignment = seq_len(nrow(Y)))
  run_checked(Y, list(assign_kernel()), latent = singletons, iterations = 3)
})

test_that("chains give the same states whatever the number of threads", {
  Y <- consistency_data(seed = 16)
  defn <- defn_for(Y)
  kc <- default_kernel_config(defn)
  latents_with <- function(threads) {
    withr::local_seed(3)
    runners <- lapply(1:3, function(i) runner(defn, Y, initialize_state(defn, Y), kc))
    pr <- parallel_runner(runners, threads = threads)
    run(pr, 4)
    get_latents(pr)
  }
  expect_identical(latents_with(1), latents_with(2))
})
