# Bad input to every exported function of the core (data views, model
# definitions, states and their accessors, priors and kernels, runners):
# each must stop with an R error that names the argument and says what was
# expected. The messages are kept as snapshots (_snaps/validation.md) so
# that a change of wording is reviewed.

val_data <- function() matrix(c(1, 0, 1, 1, 0, NA), 3, 2)

# A small valid workflow: data (3 x 2, one NA), definition, view, state with
# groups {1, 2} and {3}, and a runner.
val_workflow <- function() {
  Y <- val_data()
  view <- dataview(Y)
  defn <- model_definition(3, rep(list(beta_bernoulli()), 2))
  s <- initialize_state(defn, view, assignment = c(1, 1, 2))
  r <- runner(defn, view, s, list(assign_kernel()))
  list(Y = Y, view = view, defn = defn, s = s, r = r)
}

test_that("dataview() rejects what is not a binary matrix", {
  Y <- val_data()
  expect_snapshot(error = TRUE, dataview(matrix(c("1", "0"), 1, 2)))
  expect_snapshot(error = TRUE, dataview(list(1, 0)))
  expect_snapshot(error = TRUE, dataview(c(1, 0, 1)))
  expect_snapshot(error = TRUE, dataview(matrix(c(1, 2), 1, 2)))
  expect_snapshot(error = TRUE, dataview(matrix(c(1, 0.5), 1, 2)))
  expect_snapshot(error = TRUE, dataview(matrix(c(1L, -1L), 1, 2)))
  expect_snapshot(error = TRUE, dataview(matrix(c(0, 1, Inf, 0), 2, 2)))
  expect_snapshot(error = TRUE, dataview(matrix(numeric(0), 0, 2)))
  expect_snapshot(error = TRUE, dataview(array(1, c(2, 2, 2))))
  expect_snapshot(error = TRUE, dataview(factor("a")))
  expect_snapshot(error = TRUE, dataview(NULL))
  # Accepted: logical, integer and double 0/1 matrices; NA and NaN mean
  # unobserved.
  expect_s3_class(dataview(matrix(c(TRUE, NA), 1, 2)), "microscopes_dataview")
  expect_s3_class(dataview(matrix(c(1L, 0L), 1, 2)), "microscopes_dataview")
  expect_identical(dataview(matrix(c(1, NaN), 1, 2))$codes,
                   dataview(matrix(c(1, NA), 1, 2))$codes)
})

test_that("model_definition() checks n and models", {
  bb <- beta_bernoulli()
  expect_snapshot(error = TRUE, model_definition(0, list(bb)))
  expect_snapshot(error = TRUE, model_definition(-1, list(bb)))
  expect_snapshot(error = TRUE, model_definition(2.5, list(bb)))
  expect_snapshot(error = TRUE, model_definition("3", list(bb)))
  expect_snapshot(error = TRUE, model_definition(NA, list(bb)))
  expect_snapshot(error = TRUE, model_definition(c(3, 4), list(bb)))
  expect_snapshot(error = TRUE, model_definition(1e10, list(bb)))
  expect_snapshot(error = TRUE, model_definition(3, bb))
  expect_snapshot(error = TRUE, model_definition(3, list()))
  expect_snapshot(error = TRUE, model_definition(3, "beta_bernoulli"))
  expect_snapshot(error = TRUE, model_definition(3, list(bb, "bb")))
  expect_snapshot(error = TRUE, model_definition(
    3, list(structure(list(name = "normal"), class = "microscopes_model"))))
})

test_that("initialize_state() checks the definition, data and starting values", {
  w <- val_workflow()
  defn <- w$defn
  view <- w$view
  expect_snapshot(error = TRUE, initialize_state(list(n = 3), view))
  expect_snapshot(error = TRUE, initialize_state(defn, as.data.frame(w$Y)))
  expect_snapshot(error = TRUE, initialize_state(defn, list(w$Y)))
  expect_snapshot(error = TRUE, initialize_state(defn, matrix(c(1, 2, 1, 1, 0, NA), 3, 2)))
  # n or D of the definition differ from the data's.
  expect_snapshot(error = TRUE, initialize_state(
    model_definition(4, rep(list(beta_bernoulli()), 2)), view))
  expect_snapshot(error = TRUE, initialize_state(
    model_definition(3, rep(list(beta_bernoulli()), 3)), view))
  # cluster_hp
  expect_snapshot(error = TRUE, initialize_state(defn, view, cluster_hp = 1))
  expect_snapshot(error = TRUE, initialize_state(defn, view, cluster_hp = list(beta = 1)))
  expect_snapshot(error = TRUE, initialize_state(defn, view, cluster_hp = list(alpha = 0)))
  expect_snapshot(error = TRUE, initialize_state(defn, view, cluster_hp = list(alpha = -1)))
  expect_snapshot(error = TRUE, initialize_state(defn, view, cluster_hp = list(alpha = NA)))
  expect_snapshot(error = TRUE, initialize_state(defn, view, cluster_hp = list(alpha = Inf)))
  expect_snapshot(error = TRUE, initialize_state(defn, view, cluster_hp = list(alpha = "1")))
  # feature_hps
  expect_snapshot(error = TRUE, initialize_state(defn, view, feature_hps = matrix(0, 2, 2)))
  expect_snapshot(error = TRUE, initialize_state(defn, view, feature_hps = matrix(-1, 2, 2)))
  expect_snapshot(error = TRUE, initialize_state(defn, view, feature_hps = matrix(NA_real_, 2, 2)))
  expect_snapshot(error = TRUE, initialize_state(defn, view, feature_hps = matrix(1, 3, 2)))
  expect_snapshot(error = TRUE, initialize_state(defn, view, feature_hps = c(1, 1)))
  expect_snapshot(error = TRUE, initialize_state(defn, view, feature_hps = "uniform"))
  expect_snapshot(error = TRUE, initialize_state(
    defn, view, feature_hps = list(list(alpha = 1, beta = 1))))
  expect_snapshot(error = TRUE, initialize_state(
    defn, view, feature_hps = list(list(alpha = 1, beta = 1), list(alpha = 1))))
  expect_snapshot(error = TRUE, initialize_state(
    defn, view, feature_hps = list(list(alpha = 1, beta = 0), list(alpha = 1, beta = 1))))
  # assignment
  expect_snapshot(error = TRUE, initialize_state(defn, view, assignment = c(1, 2)))
  expect_snapshot(error = TRUE, initialize_state(defn, view, assignment = c(1, 2, NA)))
  expect_snapshot(error = TRUE, initialize_state(defn, view, assignment = c(1, 2, 1.5)))
  expect_snapshot(error = TRUE, initialize_state(defn, view, assignment = c("a", "b", "a")))
  expect_snapshot(error = TRUE, initialize_state(defn, view, assignment = c(TRUE, FALSE, TRUE)))
  # Accepted: labels outside 1..n are renumbered in sorted order.
  s <- initialize_state(defn, view, assignment = c(0, -3, 7))
  expect_identical(assignments(s), c(2L, 1L, 3L))
})

test_that("priors and kernel constructors check their arguments", {
  expect_snapshot(error = TRUE, prior_gamma(0, 1))
  expect_snapshot(error = TRUE, prior_gamma(1, -1))
  expect_snapshot(error = TRUE, prior_gamma("a", 1))
  expect_snapshot(error = TRUE, prior_gamma(NA, 1))
  expect_snapshot(error = TRUE, prior_gamma(c(1, 2), 1))
  expect_snapshot(error = TRUE, prior_noninformative_beta(0, 1000))
  expect_snapshot(error = TRUE, prior_noninformative_beta(-1, 10))
  expect_snapshot(error = TRUE, prior_noninformative_beta(1, 1))
  expect_snapshot(error = TRUE, prior_noninformative_beta(1, 0.5))
  expect_snapshot(error = TRUE, prior_noninformative_beta(0.01, NA))

  expect_snapshot(error = TRUE, slice_cluster_hp_kernel(prior = "gamma"))
  expect_snapshot(error = TRUE, slice_cluster_hp_kernel(prior = prior_noninformative_beta()))
  expect_snapshot(error = TRUE, slice_cluster_hp_kernel(width = 0))
  expect_snapshot(error = TRUE, slice_cluster_hp_kernel(width = -1))
  expect_snapshot(error = TRUE, slice_cluster_hp_kernel(width = Inf))

  expect_snapshot(error = TRUE, slice_feature_hp_kernel(features = 0))
  expect_snapshot(error = TRUE, slice_feature_hp_kernel(features = c(1, 1)))
  expect_snapshot(error = TRUE, slice_feature_hp_kernel(features = 1.5))
  expect_snapshot(error = TRUE, slice_feature_hp_kernel(features = "a"))
  expect_snapshot(error = TRUE, slice_feature_hp_kernel(features = integer(0)))
  expect_snapshot(error = TRUE, slice_feature_hp_kernel(prior = "gamma"))
  expect_snapshot(error = TRUE, slice_feature_hp_kernel(prior = 1))
  expect_snapshot(error = TRUE, slice_feature_hp_kernel(width = 0))
  expect_snapshot(error = TRUE, slice_feature_hp_kernel(width = "a"))

  expect_snapshot(error = TRUE, grid_feature_hp_kernel())
  expect_snapshot(error = TRUE, grid_feature_hp_kernel(grid = 1))
  expect_snapshot(error = TRUE, grid_feature_hp_kernel(grid = list(alpha = 1, beta = 1)))
  expect_snapshot(error = TRUE, grid_feature_hp_kernel(grid = data.frame(a = 1, b = 1)))
  expect_snapshot(error = TRUE, grid_feature_hp_kernel(
    grid = data.frame(alpha = numeric(0), beta = numeric(0))))
  expect_snapshot(error = TRUE, grid_feature_hp_kernel(grid = data.frame(alpha = 0, beta = 1)))
  expect_snapshot(error = TRUE, grid_feature_hp_kernel(grid = data.frame(alpha = -1, beta = 1)))
  expect_snapshot(error = TRUE, grid_feature_hp_kernel(grid = data.frame(alpha = NA, beta = 1)))
  expect_snapshot(error = TRUE, grid_feature_hp_kernel(grid = data.frame(alpha = "1", beta = 1)))
  expect_snapshot(error = TRUE, grid_feature_hp_kernel(
    grid = data.frame(alpha = 1, beta = 1, weight = -1)))
  expect_snapshot(error = TRUE, grid_feature_hp_kernel(
    grid = data.frame(alpha = 1, beta = 1, weight = 0)))
  expect_snapshot(error = TRUE, grid_feature_hp_kernel(
    features = 0, grid = data.frame(alpha = 1, beta = 1)))

  expect_snapshot(error = TRUE, default_kernel_config(3))
  expect_snapshot(error = TRUE, default_kernel_config(list(n = 3, D = 2)))
})

test_that("runner() checks its definition, data, state and kernels", {
  w <- val_workflow()
  defn <- w$defn
  view <- w$view
  s <- w$s
  kc <- list(assign_kernel())
  expect_snapshot(error = TRUE, runner(3, view, s, kc))
  expect_snapshot(error = TRUE, runner(defn, 3, s, kc))
  expect_snapshot(error = TRUE, runner(defn, as.data.frame(w$Y), s, kc))
  expect_snapshot(error = TRUE, runner(defn, matrix(c(1, 0.5, 1, 1, 0, NA), 3, 2), s, kc))
  expect_snapshot(error = TRUE, runner(
    model_definition(4, rep(list(beta_bernoulli()), 2)), view, s, kc))
  expect_snapshot(error = TRUE, runner(defn, view, list(), kc))
  expect_snapshot(error = TRUE, runner(defn, view, unclass(s), kc))
  expect_snapshot(error = TRUE, runner(defn, view, s, 3))
  expect_snapshot(error = TRUE, runner(defn, view, s, list(assign_kernel(), "slice")))
  expect_snapshot(error = TRUE, runner(defn, view, s, list(slice_feature_hp_kernel(features = 5))))
  expect_snapshot(error = TRUE, runner(defn, view, s, list(
    grid_feature_hp_kernel(features = 3, grid = data.frame(alpha = 1, beta = 1)))))

  # A state from another definition: more features, or more rows.
  Y3 <- cbind(w$Y, c(1, 1, 0))
  defn3 <- model_definition(3, rep(list(beta_bernoulli()), 3))
  s_three_features <- initialize_state(defn3, Y3)
  expect_snapshot(error = TRUE, runner(defn, view, s_three_features, kc))
  expect_snapshot(error = TRUE, runner(defn3, Y3, s, kc))
  Y4 <- rbind(w$Y, c(1, 1))
  s_four_rows <- initialize_state(model_definition(4, rep(list(beta_bernoulli()), 2)), Y4)
  expect_snapshot(error = TRUE, runner(defn, view, s_four_rows, kc))
  # A state of the same shape made from other data.
  Y_other <- w$Y
  Y_other[1, 1] <- 0
  s_other <- initialize_state(defn, Y_other, assignment = c(1, 1, 2))
  expect_snapshot(error = TRUE, runner(defn, view, s_other, kc))
  # States edited by hand into something invalid.
  s_bad <- s
  s_bad$assignments <- c(1L, 1L, 9L)
  expect_snapshot(error = TRUE, runner(defn, view, s_bad, kc))
  s_bad <- s
  s_bad$cluster_hp$alpha <- -1
  expect_snapshot(error = TRUE, runner(defn, view, s_bad, kc))
  s_bad <- s
  s_bad$feature_hps[1, 1] <- 0
  expect_snapshot(error = TRUE, runner(defn, view, s_bad, kc))
})

test_that("starting hyperparameters outside the prior's box fail with a clear error", {
  # A slice sampler cannot start outside its prior's support, so runner()
  # checks the state's feature hyperparameters against the box of every
  # bounded slice_feature_hp prior and names `latent`. With the default
  # start, a = b = 1, this matters as soon as `lower` > 1.
  w <- val_workflow()
  expect_snapshot(error = TRUE, runner(w$defn, w$view, w$s, list(
    slice_feature_hp_kernel(prior = prior_noninformative_beta(2, 10)))))
  s_tiny <- initialize_state(w$defn, w$view, feature_hps = matrix(0.001, 2, 2),
                             assignment = c(1, 1, 2))
  expect_snapshot(error = TRUE, runner(w$defn, w$view, s_tiny, default_kernel_config(w$defn)))
  # Other kernels do not need the box.
  r <- runner(w$defn, w$view, s_tiny, list(assign_kernel()))
  run(r, 1)
  expect_identical(feature_hps(get_latent(r)), feature_hps(s_tiny))
})

test_that("run() needs a runner and a whole number of iterations >= 0", {
  w <- val_workflow()
  r <- w$r
  expect_snapshot(error = TRUE, run(r, -1))
  expect_snapshot(error = TRUE, run(r, 1.5))
  expect_snapshot(error = TRUE, run(r, NA))
  expect_snapshot(error = TRUE, run(r, "a"))
  expect_snapshot(error = TRUE, run(r, c(1, 2)))
  expect_snapshot(error = TRUE, run(r, Inf))
  expect_snapshot(error = TRUE, run(r, TRUE))
  expect_snapshot(error = TRUE, run(r, 2^31))
  expect_snapshot(error = TRUE, run(3, 1))
  expect_snapshot(error = TRUE, run(list(r), 1))
  expect_snapshot(error = TRUE, run(w$s, 1))
  pr <- parallel_runner(list(r))
  expect_snapshot(error = TRUE, run(pr, -1))
  expect_snapshot(error = TRUE, run(pr, 0.5))
  # Zero iterations is a no-op, not an error.
  before <- get_latent(r)
  expect_invisible(run(r, 0))
  expect_identical(get_latent(r), before)
})

test_that("get_latent(), get_latents(), chain_trace() and parallel_runner() check their input", {
  w <- val_workflow()
  expect_snapshot(error = TRUE, get_latent(3))
  expect_snapshot(error = TRUE, get_latent(w$s))
  expect_snapshot(error = TRUE, get_latent(list(w$r)))
  expect_snapshot(error = TRUE, get_latents(3))
  expect_snapshot(error = TRUE, chain_trace(3))
  expect_snapshot(error = TRUE, chain_trace(w$s))
  expect_snapshot(error = TRUE, parallel_runner(list()))
  expect_snapshot(error = TRUE, parallel_runner(3))
  expect_snapshot(error = TRUE, parallel_runner(list(w$r, 3)))
  expect_snapshot(error = TRUE, parallel_runner(list(w$r), threads = 0))
  expect_snapshot(error = TRUE, parallel_runner(list(w$r), threads = 1.5))
  Y3 <- cbind(w$Y, c(1, 1, 0))
  defn3 <- model_definition(3, rep(list(beta_bernoulli()), 3))
  r3 <- runner(defn3, Y3, initialize_state(defn3, Y3), list(assign_kernel()))
  expect_snapshot(error = TRUE, parallel_runner(list(w$r, r3)))
  expect_snapshot(error = TRUE, microscopes_threads(0))
  expect_snapshot(error = TRUE, microscopes_threads(1.5))
})

test_that("state accessors check the state, group ids and feature numbers", {
  w <- val_workflow()
  s <- w$s
  expect_snapshot(error = TRUE, groupsize(s, 99))
  expect_snapshot(error = TRUE, groupsize(s, 0))
  expect_snapshot(error = TRUE, groupsize(s, "1"))
  expect_snapshot(error = TRUE, groupsize(s, NA))
  expect_snapshot(error = TRUE, groupsize(s, c(1, 2)))
  expect_snapshot(error = TRUE, get_feature_hp(s, 0))
  expect_snapshot(error = TRUE, get_feature_hp(s, 3))
  expect_snapshot(error = TRUE, get_feature_hp(s, 1.5))
  expect_snapshot(error = TRUE, get_feature_hp(s, "1"))
  expect_snapshot(error = TRUE, get_feature_hp(s, NA))
  expect_snapshot(error = TRUE, get_suffstats(s, 99, 1))
  expect_snapshot(error = TRUE, get_suffstats(s, 1, 0))
  expect_snapshot(error = TRUE, score_data(s, by_feature = NA))
  expect_snapshot(error = TRUE, score_data(s, by_feature = "yes"))
  for (accessor in list(groups, assignments, n_groups, get_cluster_hp, feature_hps,
                        suffstats, score_assignment, score_data)) {
    expect_error(accessor(3), "^`s` must be a latent state")
    expect_error(accessor(w$r), "^`s` must be a latent state")
    expect_error(accessor(unclass(s)), "^`s` must be a latent state")
  }
  expect_snapshot(error = TRUE, groups(w$view))
  expect_snapshot(error = TRUE, groupsize(NULL, 1))
  expect_snapshot(error = TRUE, get_feature_hp(list(), 1))
})
