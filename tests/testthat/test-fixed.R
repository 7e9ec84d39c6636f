# The finite mixture (fixed_model_definition(), dpmixture(K = )): proofs by
# exact enumeration, as test-correctness.R does for the Dirichlet process.
# helper-enumeration.R computes the exact posterior over all set partitions
# of 6 rows with at most K groups (enum_finite_posterior()), from the
# model's definition alone. Partition draws are tallied and compared by
# Pearson's chi-square (deflated by the draws' autocorrelation time,
# rejecting at p < 1e-4); alpha's draws by z-scores of its posterior mean,
# quantile probabilities and P(K+ = k) (within 4.5 Monte Carlo standard
# errors). Every sampling test also shows that its statistic rejects a
# deliberately wrong sampler or target.

data_mixed_fixed <- function() {
  matrix(c(1, 1, 0,
           1, 1, NA,
           1, 0, 0,
           0, 0, 1,
           0, 0, 1,
           0, 1, 1), 6, 3, byrow = TRUE)
}
hps_fixed <- cbind(alpha = c(1, 0.5, 2), beta = c(1, 0.5, 1))

fixed_defn <- function(Y, K) {
  fixed_model_definition(nrow(Y), K, rep(list(beta_bernoulli()), ncol(Y)))
}

# Partition keys (labels by first appearance, pasted) of `draws` draws
# `thin` iterations apart, recorded in C by dpmixture(), one chain per
# column.
fixed_draws <- function(Y, K, kernels, alpha, draws, thin, chains = 1, seed = 1) {
  defn <- fixed_defn(Y, K)
  init <- initialize_state(defn, dataview(Y), list(alpha = alpha), hps_fixed,
                           assignment = rep(1L, nrow(Y)))
  fit <- dpmixture(Y, chains = chains, iter = 50 + draws * thin, warmup = 50, thin = thin,
                   kernels = kernels, init = init, seed = seed, progress = FALSE, K = K,
                   threads = 2)
  z <- partition_draws(fit)
  matrix(apply(z, 1, paste, collapse = ""), ncol = chains)
}

# Chi-square of partition keys against the exact posterior `exact`.
fixed_chisq <- function(keys, exact, prob = exact$prob) {
  observed <- as.numeric(table(factor(keys, levels = exact$key)))
  enum_chisq(observed, prob, inflation = enum_inflation(keys, exact$key, exact$prob))
}

test_that("score_assignment() is the finite mixture's log prior, a distribution over partitions", {
  Y <- data_mixed_fixed()
  z <- enum_partitions(6)
  for (K in c(1, 2, 3, 7)) {
    defn <- fixed_defn(Y, K)
    for (alpha in c(0.3, 1.5, 40)) {
      allowed <- which(apply(z, 1, max) <= K)
      scores <- vapply(allowed, function(r) {
        s <- initialize_state(defn, Y, list(alpha = alpha), assignment = z[r, ])
        score_assignment(s)
      }, numeric(1))
      closed <- vapply(allowed, function(r) enum_log_finite(z[r, ], alpha, K), numeric(1))
      expect_equal(scores, closed, tolerance = 1e-12)
      # Summed over every partition with at most K groups: 1.
      expect_equal(sum(exp(scores)), 1, tolerance = 1e-12)
    }
  }
  # The CRP's score is unchanged, and the finite prior tends to it as K grows.
  crp <- model_definition(6, rep(list(beta_bernoulli()), 3))
  s_crp <- initialize_state(crp, Y, list(alpha = 1.5), assignment = c(1, 1, 2, 3, 3, 3))
  expect_equal(score_assignment(s_crp), enum_log_crp(c(1, 1, 2, 3, 3, 3), 1.5), tolerance = 1e-12)
  s_big <- initialize_state(fixed_defn(Y, 1e6), Y, list(alpha = 1.5), assignment = c(1, 1, 2, 3, 3, 3))
  expect_equal(score_assignment(s_big), score_assignment(s_crp), tolerance = 1e-5)
})

test_that("the log joint of a finite mixture's chain is score_assignment() + score_data()", {
  Y <- data_mixed_fixed()
  defn <- fixed_defn(Y, 3)
  r <- runner(defn, Y, initialize_state(defn, Y, list(alpha = 2), hps_fixed),
              default_kernel_config(defn))
  withr::local_options(microscopes.check_state = TRUE)
  for (i in 1:5) {
    run(r, 7)
    s <- get_latent(r)
    tr <- chain_trace(r)
    expect_lte(n_groups(s), 3L)
    expect_equal(tr$log_joint[nrow(tr)], score_assignment(s) + score_data(s), tolerance = 1e-10)
    expect_equal(tr$alpha[nrow(tr)], get_cluster_hp(s)$alpha)
  }
  expect_true(all(tr$n_groups <= 3L))
})

test_that("assign_fixed samples the exact posterior of the finite mixture, K = 2 and 3", {
  # One chain, 15000 draws two sweeps apart, alpha and hps fixed. A kernel
  # that forgets the number K - K+ of empty labels the one empty slot
  # stands for (weight alpha/K instead of (K - K+) alpha/K) must fail.
  Y <- data_mixed_fixed()
  alpha <- 1.5
  for (K in 2:3) {
    exact <- enum_finite_posterior(Y, alpha, hps_fixed, K)
    keys <- fixed_draws(Y, K, list(assign_fixed_kernel()), alpha, draws = 15000, thin = 2,
                        seed = 10 + K)
    expect_true(all(keys %in% exact$key))                  # never more than K groups
    fit <- fixed_chisq(keys, exact)
    expect_gt(fit$p_value, 1e-4, label = sprintf("K = %d p-value %g", K, fit$p_value))

    # Wrong targets: the Dirichlet process's posterior (restricted to the
    # same partitions) and the finite posterior at another alpha.
    crp <- enum_partition_posterior(Y, alpha, hps_fixed)
    crp_prob <- enum_normalise(crp$log_crp + crp$log_ml)[match(exact$key, crp$key)]
    expect_lt(fixed_chisq(keys, exact, prob = crp_prob / sum(crp_prob))$p_value, 1e-10)
    expect_lt(fixed_chisq(keys, exact, enum_finite_posterior(Y, 2 * alpha, hps_fixed, K)$prob)$p_value,
              1e-10)

    # A deliberately wrong kernel fails the same test. For K = 2 and n > 1
    # the factor K - K+ is always 1 when a new group is offered (the other
    # rows fill one group), so the "wrong" kernel is exact there: only
    # K = 3 can show it.
    if (K < 3) next
    wrong_kernel <- assign_fixed_kernel()
    wrong_kernel$test_wrong_prior <- TRUE
    wrong_keys <- fixed_draws(Y, K, list(wrong_kernel), alpha, draws = 15000, thin = 2,
                              seed = 10 + K)
    wrong <- fixed_chisq(wrong_keys, exact)
    expect_lt(wrong$p_value, 1e-10, label = sprintf("wrong kernel, K = %d: p-value %g", K, wrong$p_value))
  }
})

test_that("split-merge samples the finite mixture's posterior, alone and with assign_fixed", {
  # A split may only open an empty label: with K+ = K no split is
  # proposed, and the prior ratio is the finite mixture's. Split-merge
  # alone is irreducible (a merge of everything, then splits), so it is
  # tested on its own too, with both proposal methods; a ratio without its
  # proposal densities must fail.
  Y <- data_mixed_fixed()
  alpha <- 1.5
  cases <- list(
    list(K = 2, kc = list(split_merge_kernel(proposals = 10))),
    list(K = 3, kc = list(split_merge_kernel(proposals = 10))),
    list(K = 3, kc = list(split_merge_kernel(proposals = 10, method = "sams"))),
    list(K = 3, kc = list(assign_fixed_kernel(), split_merge_kernel(proposals = 3))))
  for (i in seq_along(cases)) {
    K <- cases[[i]]$K
    exact <- enum_finite_posterior(Y, alpha, hps_fixed, K)
    keys <- fixed_draws(Y, K, cases[[i]]$kc, alpha, draws = 12000, thin = 1, seed = 30 + i)
    expect_true(all(keys %in% exact$key))
    fit <- fixed_chisq(keys, exact)
    expect_gt(fit$p_value, 1e-4, label = sprintf("case %d (K = %d): p-value %g", i, K, fit$p_value))
  }
  wrong_kernel <- split_merge_kernel(proposals = 10)
  wrong_kernel$test_wrong_ratio <- "proposal"
  exact <- enum_finite_posterior(Y, alpha, hps_fixed, 3)
  wrong_keys <- fixed_draws(Y, 3, list(wrong_kernel), alpha, draws = 12000, thin = 1, seed = 39)
  expect_lt(fixed_chisq(wrong_keys, exact)$p_value, 1e-10)
})

test_that("slice_cluster_hp samples the finite mixture's posterior of alpha (quadrature)", {
  # p(alpha | Y) proportional to prior(alpha) sum_z p(z | alpha, K) p(Y | z)
  # over the partitions with at most K groups, integrated numerically.
  # Four chains of 20000 iterations of assign_fixed + slice_cluster_hp.
  Y <- data_mixed_fixed()
  K <- 3
  defn <- fixed_defn(Y, K)
  view <- dataview(Y)
  for (shape_rate in list(c(1, 1), c(3, 2))) {
    withr::local_seed(303)
    shape <- shape_rate[1]
    rate <- shape_rate[2]
    log_prior <- function(a) stats::dgamma(a, shape, rate, log = TRUE)
    density <- enum_finite_alpha_posterior(Y, hps_fixed, K, log_prior)
    exact_mean <- stats::integrate(function(a) a * density(a), 0, Inf, rel.tol = 1e-10)$value
    q <- c(0.1, 0.5, 0.9)
    exact_q <- vapply(q, function(p) enum_quantile(density, p), numeric(1))
    kc <- list(assign_fixed_kernel(), slice_cluster_hp_kernel(prior_gamma(shape, rate)))
    runners <- lapply(1:4, function(j) {
      runner(defn, view, initialize_state(defn, view, list(alpha = 1), hps_fixed), kc)
    })
    pr <- parallel_runner(runners, threads = 2)
    run(pr, 20000)
    trace <- chain_trace(pr)
    trace <- trace[trace$iteration > 100, ]
    alpha_draws <- matrix(trace$alpha, ncol = 4)
    k_draws <- matrix(trace$n_groups, ncol = 4)
    label <- sprintf("Gamma(%g, %g)", shape, rate)
    z_mean <- (mean(alpha_draws) - exact_mean) / enum_mcse(alpha_draws)
    expect_lt(abs(z_mean), 4.5, label = paste(label, "mean z"))
    for (i in seq_along(q)) {
      below <- alpha_draws <= exact_q[i]
      expect_lt(abs((mean(below) - q[i]) / enum_mcse(below)), 4.5,
                label = sprintf("%s P(alpha < q%g) z", label, q[i]))
    }
    exact_k <- attr(density, "p_k")
    for (k in 1:K) {
      is_k <- k_draws == k
      expect_lt(abs((mean(is_k) - exact_k[k]) / max(enum_mcse(is_k), 1e-4)), 4.5,
                label = sprintf("%s P(K+ = %d) z", label, k))
    }
    # Wrong targets: the CRP's alpha posterior (a kernel that kept the
    # CRP's density), and a prior with another rate.
    for (wrong in list(enum_alpha_posterior(Y, hps_fixed, log_prior),
                       enum_finite_alpha_posterior(Y, hps_fixed, K, function(a) {
                         stats::dgamma(a, shape, rate * 1.25, log = TRUE)
                       }))) {
      wrong_mean <- stats::integrate(function(a) a * wrong(a), 0, Inf)$value
      expect_gt(abs(mean(alpha_draws) - wrong_mean) / enum_mcse(alpha_draws), 10)
    }
  }
})

test_that("a finite mixture's state saves, resumes to the bit, and is refused by a DP definition", {
  set.seed(5)
  Y <- matrix(runif(40 * 5) < 0.4, 40, 5)
  defn <- fixed_model_definition(40, 3, rep(list(beta_bernoulli()), 5))
  kc <- default_kernel_config(defn)
  s0 <- initialize_state(defn, Y)
  expect_lte(n_groups(s0), 3L)
  expect_identical(s0$partition_prior, list(name = "dirichlet", groups = 3L))
  expect_identical(s0$format_version, 5L)
  r <- runner(defn, Y, s0, kc)
  run(r, 10)
  f <- tempfile(fileext = ".rds")
  saveRDS(get_latent(r), f)
  run(r, 10)
  resumed <- runner(defn, Y, readRDS(f), kc)
  run(resumed, 10)
  expect_identical(assignments(get_latent(resumed)), assignments(get_latent(r)))
  expect_identical(chain_trace(resumed)$log_joint, chain_trace(r)$log_joint[11:20])

  crp <- model_definition(40, rep(list(beta_bernoulli()), 5))
  expect_error(runner(crp, Y, readRDS(f), default_kernel_config(crp)),
               "finite mixture of K = 3 groups, but `defn` is a Dirichlet process")
  # A state saved before format 3 is a Dirichlet process state.
  old <- initialize_state(crp, Y)
  old$partition_prior <- NULL
  old$format_version <- 2L
  expect_error(runner(defn, Y, old, kc), "Dirichlet process mixture, but `defn` is a finite mixture")
  expect_s3_class(runner(crp, Y, old, default_kernel_config(crp)), "microscopes_runner")
  # A finite mixture of another K is another model.
  defn4 <- fixed_model_definition(40, 4, rep(list(beta_bernoulli()), 5))
  expect_error(runner(defn4, Y, readRDS(f), default_kernel_config(defn4)), "K = 3 groups")
})

test_that("dpmixture(K = ) fits the finite mixture and says so", {
  data(house_votes)
  fit <- dpmixture(house_votes[1:60, ], chains = 2, iter = 40, seed = 3, K = 3, progress = FALSE)
  expect_identical(definition_groups(fit$defn), 3L)
  expect_true(all(apply(partition_draws(fit), 1, max) <= 3L))
  out <- utils::capture.output(print(fit))
  expect_true(any(grepl("finite mixture, K = 3", out)))
  prob <- predict(fit, house_votes[1:5, ], type = "prob")
  expect_equal(unname(rowSums(prob)), rep(1, 5), tolerance = 1e-12)
  fit2 <- update(fit, iter = 10)
  expect_true(all(apply(partition_draws(fit2), 1, max) <= 3L))
  # Same seed without K: the Dirichlet process mixture.
  expect_match(paste(utils::capture.output(print(
    dpmixture(house_votes[1:60, ], chains = 2, iter = 20, seed = 3, progress = FALSE))), collapse = "\n"),
    "Dirichlet process mixture")
})

test_that("finite mixtures refuse bad input with errors naming the argument", {
  Y <- matrix(c(TRUE, FALSE), 6, 2)
  models <- rep(list(beta_bernoulli()), 2)
  defn <- fixed_model_definition(6, 2, models)
  crp <- model_definition(6, models)
  expect_snapshot(error = TRUE, {
    fixed_model_definition(6, 0, models)
    fixed_model_definition(6, 2.5, models)
    fixed_model_definition(6, "3", models)
    fixed_model_definition(6, 2, list(1))
    initialize_state(defn, Y, assignment = c(1, 2, 3, 1, 2, 3))
    runner(defn, Y, initialize_state(defn, Y), list(assign_kernel()))
    runner(crp, Y, initialize_state(crp, Y), list(assign_fixed_kernel()))
    runner(defn, Y, initialize_state(crp, Y, assignment = c(1, 1, 2, 2, 1, 1)),
           default_kernel_config(defn))
    dpmixture(Y, K = 0)
    dpmixture(Y, K = 2, kernels = list(assign_kernel()))
  })
  # A hand-edited state with more groups than K.
  s <- initialize_state(defn, Y, assignment = c(1, 1, 2, 2, 1, 1))
  s3 <- initialize_state(fixed_model_definition(6, 3, models), Y, assignment = c(1, 2, 3, 1, 2, 3))
  s3$partition_prior$groups <- 2L
  expect_snapshot(error = TRUE, {
    runner(defn, Y, s3, default_kernel_config(defn))
    score_assignment(s3)
  })
  s$partition_prior <- list(name = "dirichlet", groups = -1)
  expect_snapshot(error = TRUE, n_groups(s))
})

test_that("CRP chains are bit-identical to the baseline build (MICROSCOPES_BASELINE_LIB)", {
  baseline <- other_build("MICROSCOPES_BASELINE_LIB", "/work/lib-main")
  script <- function(lib) {
    sprintf('
      suppressMessages(library(microscopes, lib.loc = "%s"))
      set.seed(7)
      Y <- matrix(runif(300 * 20) < 0.3, 300, 20)
      Y[sample(length(Y), 100)] <- NA
      defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
      out <- list()
      # The default kernels without slice_feature_hp, whose draws changed
      # once with its per-feature streams (NEWS, speed at K).
      for (kc in list(list(assign_kernel(), split_merge_kernel(), slice_cluster_hp_kernel()),
                      list(assign_kernel(), slice_cluster_hp_kernel()),
                      list(split_merge_kernel(method = "sams"), assign_kernel()))) {
        set.seed(3)
        r <- runner(defn, Y, initialize_state(defn, Y), kc)
        run(r, 30)
        s <- get_latent(r)
        out[[length(out) + 1]] <- list(a = assignments(s), alpha = get_cluster_hp(s)$alpha,
          hps = feature_hps(s), score = score_assignment(s),
          trace = chain_trace(r)[, c("n_groups", "alpha", "log_joint")])
      }
      fit <- dpmixture(Y, chains = 2, iter = 40, seed = 5, progress = FALSE,
                       kernels = list(assign_kernel(), split_merge_kernel(),
                                      slice_cluster_hp_kernel()))
      out$draws <- partition_draws(fit)
      saveRDS(out, commandArgs(TRUE)[1])', lib)
  }
  mine <- run_script_with(script, this_build(), quiet = TRUE)
  theirs <- run_script_with(script, baseline, quiet = TRUE)
  expect_identical(mine, theirs)
})

test_that("queries predict a new row with the finite mixture's weights", {
  # Exact P(x_d = 1) of a new row given one state, in closed form: groups
  # weighted (n_k + alpha/K) p(observed | k), a new group (K - K+) alpha/K
  # p(observed), none when all K are in use.
  Y <- matrix(c(1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0), 6, 2)
  models <- rep(list(beta_bernoulli()), 2)
  q <- matrix(c(1, NA), 1, 2)
  for (K in c(2, 3)) {
    defn <- fixed_model_definition(6, K, models)
    s <- initialize_state(defn, Y, list(alpha = 1.7), cbind(c(1, 0.5), c(2, 1)),
                          assignment = c(1, 1, 1, 2, 2, 2))
    sizes <- s$group_sizes
    a <- feature_hps(s)[, 1]
    b <- feature_hps(s)[, 2]
    h <- rbind(s$heads, 0)
    t <- rbind(s$tails, 0)
    p1 <- (a[1] + h[, 1]) / (a[1] + b[1] + h[, 1] + t[, 1])
    p2 <- (a[2] + h[, 2]) / (a[2] + b[2] + h[, 2] + t[, 2])
    w <- c(sizes + 1.7 / K, (K - length(sizes)) * 1.7 / K) * p1
    expected <- sum(w * p2) / sum(w)
    got <- posterior_predictive_statistic(q, list(s), exact = TRUE)
    expect_equal(got[1, 2], expected, tolerance = 1e-12)
  }
})
