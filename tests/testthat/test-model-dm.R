# dirichlet_multinomial(k): one vector-valued feature of k counts per row
# (a matrix column), src/block_dm.c. Proven against plain-R references
# (helper-dm.R): the partition posterior by enumeration (Gibbs and
# split-merge, alone and mixed with another kind), the hyperparameter
# kernel by quadrature, the query's predictive by its closed form, exact
# save / resume, and errors for bad input.

dm_counts <- function() {
  X <- rbind(c(5L, 0L, 1L), c(4L, 1L, 0L), c(0L, 3L, 4L), NA, c(1L, 4L, 3L), c(6L, 1L, 0L))
  colnames(X) <- c("a", "b", "c")
  X
}

dm_cases <- function() {
  X <- dm_counts()
  dm_only <- data.frame(row = 1:6)
  dm_only$v <- X
  dm_only$row <- NULL
  mixed <- data.frame(x = c(-1.1, -0.7, 2.2, 1.9, NA, -0.9))
  mixed$v <- X
  list(
    dm = list(data = dm_only, models = list(dirichlet_multinomial(3)),
              hps = list(list(alphas = c(0.5, 0.8, 0.6)))),
    mixed = list(data = mixed, models = list(normal_inverse_chisq(), dirichlet_multinomial(3)),
                 hps = list(list(mu = 0, kappa = 0.5, sigmasq = 0.5, nu = 2),
                            list(alphas = c(0.5, 0.8, 0.6))))
  )
}

test_that("a matrix column is one feature; dataview(vectors =) binds named columns", {
  X <- dm_counts()
  df <- data.frame(f = factor(c("u", "v", "u", "v", "u", "v")))
  df$v <- X
  view <- dataview(df)
  expect_identical(view$D, 2L)
  expect_identical(view$colnames, c("f", "v"))
  expect_identical(view$columns$v, X)
  # I(matrix) keeps the matrix whole as well
  df2 <- data.frame(f = df$f, v = I(X))
  expect_identical(dataview(df2)$columns$v, X)
  # named columns: bound at the first one's place, the others dropped
  flat <- data.frame(a = X[, 1], f = df$f, b = X[, 2], c = X[, 3])
  bound <- dataview(flat, vectors = list(v = c("a", "b", "c")))
  expect_identical(bound$colnames, c("v", "f"))
  expect_identical(bound$columns$v, X)
  expect_identical(default_models(bound, quiet = TRUE),
                   list(v = dirichlet_multinomial(3), f = beta_bernoulli()))
  expect_output(print(view), "1 integer matrix")
})

test_that("default_models() of matrix columns: integer counts are dirichlet_multinomial(ncol)", {
  df <- data.frame(id = 1:3)
  df$v <- matrix(c(1L, 0L, 2L, 3L, 1L, 0L), 3, 2)
  expect_identical(default_models(df, quiet = TRUE)$v, dirichlet_multinomial(2))
  expect_message(default_models(df), "integer matrix of counts, 2 columns")
  # a binary matrix Y stays all beta-Bernoulli, as before
  Y <- matrix(c(TRUE, FALSE, TRUE, TRUE), 2, 2)
  expect_identical(default_models(Y), rep(list(beta_bernoulli()), 2))
})

test_that("bad vector-valued input is an error naming the column or argument", {
  X <- dm_counts()
  base <- data.frame(a = X[, 1], b = X[, 2], c = X[, 3])
  lg <- data.frame(id = 1:2); lg$m <- matrix(c(TRUE, FALSE, TRUE, NA), 2, 2)
  dbl <- data.frame(id = 1:2); dbl$m <- matrix(c(0.5, 1, 2, 3), 2, 2)
  empty <- data.frame(id = 1:2); empty$m <- matrix(integer(), 2, 0)
  partly <- data.frame(id = 1:6); partly$v <- X; partly$v[2, 3] <- NA
  negative <- data.frame(id = 1:6); negative$v <- X; negative$v[5, 2] <- -1L
  fraction <- data.frame(id = 1:6); fraction$v <- X + 0.5
  # A double matrix column is real-valued (DECISIONS.md), not counts.
  expect_equal(default_models(dbl, quiet = TRUE)$m, normal_inverse_wishart(2))
  expect_snapshot(error = TRUE, {
    dataview(empty)
    dataview(base, vectors = list(v = c("a", "z")))
    dataview(base, vectors = list(v = c("a", "b"), w = c("b", "c")))
    dataview(base, vectors = c("a", "b"))
    dataview(base, vectors = list(a = c("b", "c")))
    dataview(data.frame(a = 1:2, f = factor(c("x", "y"))), vectors = list(v = c("a", "f")))
    default_models(lg)
    model_definition(partly, list(id = gamma_poisson(), v = dirichlet_multinomial(3)))
    model_definition(negative, list(id = gamma_poisson(), v = dirichlet_multinomial(3)))
    model_definition(fraction, list(id = gamma_poisson(), v = dirichlet_multinomial(3)))
    model_definition(partly, list(id = gamma_poisson(), v = dirichlet_multinomial(4)))
    model_definition(partly, list(id = gamma_poisson(), v = gamma_poisson()))
    model_definition(base, list(dirichlet_multinomial(3), gamma_poisson(), gamma_poisson()))
    dirichlet_multinomial(1)
    dirichlet_multinomial()
  })
})

test_that("score_data() and the statistics of a dm state are the closed forms", {
  case <- dm_cases()$mixed
  view <- dataview(case$data)
  defn <- model_definition(6, case$models)
  for (z in list(rep(1L, 6), 1:6, c(1L, 1L, 2L, 2L, 2L, 1L), c(3L, 1L, 2L, 1L, 2L, 3L))) {
    s <- initialize_state(defn, view, feature_hps = case$hps, assignment = z)
    expect_equal(score_data(s), ref_dm_mixed_log_ml(case$data, case$models, case$hps, z),
                 tolerance = 1e-10)
    expect_equal(score_data(s, by_feature = TRUE)[2],
                 ref_dm_mixed_log_ml(case$data[2], case$models[2], case$hps[2], z),
                 tolerance = 1e-10)
  }
  s <- initialize_state(defn, view, feature_hps = case$hps, assignment = c(1, 1, 2, 2, 2, 1))
  X <- dm_counts()
  rows <- c(1, 2, 6)
  expect_equal(get_suffstats(s, 1, 2),
               c(list(n = 3), as.list(stats::setNames(as.double(colSums(X[rows, ])),
                                                       paste0("count_", 1:3))),
                 list(sum_log_multinomial = sum(lfactorial(rowSums(X[rows, ]))) -
                        sum(lfactorial(X[rows, ])))),
               tolerance = 1e-12)
  # the NA row (4) is left out of its group's counts
  expect_identical(get_suffstats(s, 2, 2)$n, 2)
  expect_identical(get_feature_hp(s, 2), list(alphas = c(0.5, 0.8, 0.6)))
  s0 <- initialize_state(defn, view, assignment = rep(1, 6))
  expect_identical(get_feature_hp(s0, 2), list(alphas = c(1, 1, 1)))
})

dm_configs <- list(assign = list(assign_kernel()),
                   split_merge = list(assign_kernel(), split_merge_kernel(proposals = 5)))

test_that("assign and split-merge sample the exact partition posterior of dm and of dm mixed with nich", {
  skip_on_cran()
  set.seed(614)
  report <- nzchar(Sys.getenv("MICROSCOPES_REPORT"))
  for (config in names(dm_configs)) for (name in names(dm_cases())) {
    case <- dm_cases()[[name]]
    exact <- exact_partition_posterior_dm(case$data, case$models, case$hps, alpha = 1)
    keys <- dm_partition_draws(case$data, case$models, case$hps, dm_configs[[config]])
    test <- keys_chisq(keys, exact)
    if (report) {
      message(sprintf("%s / %s: statistic %.1f on %d df, p = %.3g", config, name,
                      test$statistic, test$df, test$p_value))
    }
    expect_gt(test$p_value, 1e-3, label = sprintf("%s / %s: chi-square p-value (statistic %.1f on %d df)",
                                                 config, name, test$statistic, test$df))
    # Deliberately wrong targets must fail on the same draws: other alphas,
    # and a likelihood in which a row's counts do not update its group
    # (each row scored under the prior predictive).
    wrong <- case$hps
    wrong[[length(wrong)]]$alphas <- wrong[[length(wrong)]]$alphas * 4
    wrong_hp <- keys_chisq(keys, exact_partition_posterior_dm(case$data, case$models, wrong, 1))
    no_update <- function(columns, models, hps, z) {
      d <- length(models)
      other <- if (d > 1) ref_dm_mixed_log_ml(columns[-d], models[-d], hps[-d], z) else 0
      X <- unclass(columns[[d]])
      other + sum(vapply(seq_len(nrow(X)), function(i) {
        ref_dm_log_marginal(X[i, , drop = FALSE], hps[[d]]$alphas)
      }, numeric(1)))
    }
    wrong_ml <- keys_chisq(keys, exact_partition_posterior_dm(case$data, case$models, case$hps, 1,
                                                            log_ml = no_update))
    if (report) {
      message(sprintf("  wrong alphas: %.1f, p = %.3g; wrong likelihood: %.1f, p = %.3g",
                      wrong_hp$statistic, wrong_hp$p_value, wrong_ml$statistic, wrong_ml$p_value))
    }
    expect_lt(wrong_hp$p_value, 1e-6, label = sprintf("%s / %s with wrong alphas", config, name))
    expect_lt(wrong_ml$p_value, 1e-6, label = sprintf("%s / %s with a wrong likelihood", config, name))
  }
})

test_that("the slice kernel of dm's alphas samples their posterior (quadrature, k = 2)", {
  skip_on_cran()
  skip_if_not_installed("coda")
  set.seed(77)
  withr::local_options(microscopes.progress = FALSE)
  data <- data.frame(id = 1:6)
  data$v <- cbind(c(5L, 4L, 0L, NA, 1L, 6L), c(1L, 1L, 7L, NA, 7L, 1L))
  data$id <- NULL
  defn <- model_definition(6, list(dirichlet_multinomial(2)))
  view <- dataview(data)
  z <- c(1, 1, 2, 2, 2, 1)
  X <- unclass(data$v)
  # The block's default hyperprior (?models): log alpha_l ~ N(0, 1.5^2).
  u <- seq(-9, 8, length.out = 341)
  log_post <- function(tempering = 1) {
    outer(u, u, function(a, b) {
      ml <- vapply(seq_along(a), function(i) {
        sum(vapply(unique(z), function(g) {
          ref_dm_log_marginal(X[z == g, , drop = FALSE], exp(c(a[i], b[i])))
        }, numeric(1)))
      }, numeric(1))
      stats::dnorm(a, 0, 1.5, log = TRUE) + stats::dnorm(b, 0, 1.5, log = TRUE) + tempering * ml
    })
  }
  marginals <- function(lp) {
    w <- exp(lp - max(lp))
    list(rowSums(w) / sum(w), colSums(w) / sum(w))
  }
  exact <- marginals(log_post())
  tempered <- marginals(log_post(1.5))
  kc <- list(slice_feature_hp_kernel(width = 1))
  n_chains <- 4
  n_draws <- 1500
  draws <- array(NA_real_, c(n_draws, n_chains, 2))
  runners <- lapply(seq_len(n_chains), function(j) {
    runner(defn, view, initialize_state(defn, view, assignment = z), kc)
  })
  pr <- parallel_runner(runners, threads = 1)
  run(pr, 10)
  for (t in seq_len(n_draws)) {
    run(pr, 1)
    draws[t, , ] <- t(vapply(get_latents(pr), function(s) get_feature_hp(s, 1)$alphas, numeric(2)))
  }
  bin_test <- function(x, mass) {
    cdf <- cumsum(mass)
    cuts <- vapply(seq(0.1, 0.9, by = 0.1), function(q) u[which(cdf >= q)[1]], numeric(1))
    prob <- diff(c(0, cdf[match(cuts, u)], 1))
    cells <- findInterval(log(x), cuts, left.open = TRUE) + 1L
    inflation <- max(1, length(x) / sum(vapply(seq_len(n_chains), function(j) {
      coda::effectiveSize(log(x[, j]))
    }, numeric(1))))
    enum_chisq(tabulate(cells, nbins = 10), prob, inflation = inflation)
  }
  for (c in 1:2) {
    ok <- bin_test(draws[, , c], exact[[c]])
    bad <- bin_test(draws[, , c], tempered[[c]])
    if (nzchar(Sys.getenv("MICROSCOPES_REPORT"))) {
      message(sprintf("dm alpha %d: statistic %.1f, p = %.3g; tempered: %.1f, p = %.3g", c,
                      ok$statistic, ok$p_value, bad$statistic, bad$p_value))
    }
    expect_gt(ok$p_value, 1e-3, label = sprintf("alpha %d: p-value (statistic %.1f)", c, ok$statistic))
    expect_lt(bad$p_value, 1e-4, label = sprintf("alpha %d against a tempered target", c))
  }
})

test_that("queries predict a dm cell by the expected proportions, weighted by the closed form", {
  case <- dm_cases()$mixed
  view <- dataview(case$data)
  defn <- model_definition(6, case$models)
  z <- c(1L, 1L, 2L, 2L, 2L, 1L)
  s <- initialize_state(defn, view, feature_hps = case$hps, assignment = z,
                        cluster_hp = list(alpha = 0.7))
  q <- data.frame(x = c(-1, NA, 2, NA))
  q$v <- rbind(NA, c(2L, 0L, 1L), NA, NA)
  colnames(q$v) <- c("a", "b", "c")
  out <- posterior_predictive_statistic(q, s)
  expect_identical(names(out), c("x", "v"))
  expect_true(is.matrix(out$v))
  expect_identical(colnames(out$v), c("a", "b", "c"))
  # closed form: group weights from the CRP and the observed cells'
  # predictives (nich by helper-models.R, dm by helper-dm.R)
  X <- unclass(case$data$v)
  x <- case$data$x
  groups <- list(which(z == 1), which(z == 2), integer())
  for (i in seq_len(nrow(q))) {
    logw <- log(c(lengths(groups)[1:2], 0.7))
    for (g in 1:3) {
      rows <- groups[[g]]
      if (!is.na(q$x[i])) {
        logw[g] <- logw[g] + ref_log_predictive(normal_inverse_chisq(), q$x[i], x[rows], case$hps[[1]])
      }
      if (!is.na(q$v[i, 1])) {
        logw[g] <- logw[g] + ref_dm_log_predictive(q$v[i, ], X[rows, , drop = FALSE],
                                                   case$hps[[2]]$alphas)
      }
    }
    w <- exp(logw - max(logw))
    w <- w / sum(w)
    if (is.na(q$v[i, 1])) {
      expected <- Reduce(`+`, lapply(1:3, function(g) {
        w[g] * ref_dm_proportions(X[groups[[g]], , drop = FALSE], case$hps[[2]]$alphas)
      }))
      expect_equal(unname(out$v[i, ]), unname(expected), tolerance = 1e-12)
    } else {
      expect_identical(unname(out$v[i, ]), as.double(q$v[i, ]))
      expected_x <- sum(w * vapply(1:3, function(g) {
        ref_predictive_mean(normal_inverse_chisq(), x[groups[[g]]], case$hps[[1]])
      }, numeric(1)))
      expect_equal(out$x[i], expected_x, tolerance = 1e-12)
    }
  }
  # draws: an NA cell is a draw of proportions (each row sums to 1), a
  # given one stays
  draws <- posterior_predictive(q, s, samples_per_chain = 50)
  v <- do.call(rbind, lapply(draws, function(d) d$v[1, ]))
  expect_equal(rowSums(v), rep(1, 50), tolerance = 1e-12)
  expect_true(all(v >= 0))
  expect_identical(unname(draws[[7]]$v[2, ]), c(2, 0, 1))
  # a partly NA query cell is refused
  bad <- q
  bad$v[2, 2] <- NA
  expect_error(posterior_predictive_statistic(bad, s), "partly NA", class = "microscopes_error_column")
})

test_that("a dm chain saved and resumed continues to the bit; altered statistics are refused", {
  set.seed(5)
  case <- dm_cases()$mixed
  view <- dataview(case$data)
  defn <- model_definition(6, case$models)
  kc <- default_kernel_config(defn)
  expect_true(any(vapply(kc, function(k) k$name == "split_merge", logical(1))))
  r <- runner(defn, view, initialize_state(defn, view), kc)
  run(r, 15)
  f <- tempfile(fileext = ".rds")
  saveRDS(get_latent(r), f)
  run(r, 15)
  resumed <- runner(defn, view, readRDS(f), kc)
  run(resumed, 15)
  expect_identical(get_latent(resumed), get_latent(r))
  expect_identical(chain_trace(resumed)$log_joint, chain_trace(r)$log_joint[16:30])
  s <- get_latent(r)
  expect_identical(s$format_version, 5L)
  expect_equal(utils::tail(chain_trace(r)$log_joint, 1), score_assignment(s) + score_data(s),
               tolerance = 1e-10)
  s$stats[[2]][1, "count_2"] <- s$stats[[2]][1, "count_2"] + 1
  expect_error(runner(defn, view, s, kc), "statistics differ", class = "microscopes_error_argument")
})

test_that("dpmixture() fits, summarises, predicts and gives log_lik for a dm column", {
  skip_on_cran()
  set.seed(3)
  n <- 40
  p <- rbind(c(0.7, 0.2, 0.1), c(0.1, 0.2, 0.7))[rep(1:2, each = n / 2), ]
  X <- t(apply(p, 1, function(pr) stats::rmultinom(1, 12, pr)))
  storage.mode(X) <- "integer"
  df <- data.frame(g = factor(rep(c("a", "b"), each = n / 2)))
  df$v <- X
  fit <- dpmixture(df, chains = 2, iter = 80, seed = 1, quiet = TRUE)
  ll <- log_lik(fit)
  expect_identical(dim(ll), c(80L, as.integer(n)))
  expect_true(all(is.finite(ll)))
  # a draw's row: the closed-form predictive of its cell in its group
  # without it (the factor column's in the same way, helper-models.R)
  z <- partition_draws(fit)
  hp <- microscopes:::fit_feature_hps(fit)
  colnames(hp) <- microscopes:::fit_hp_names(fit)
  for (t in c(1L, 80L)) {
    alphas <- unname(hp[t, sprintf("hp[v].alphas[%d]", 1:3)])
    bb_hp <- list(alpha = unname(hp[t, "hp[g].alpha"]), beta = unname(hp[t, "hp[g].beta"]))
    b <- df$g == "b"    # the two-level factor is beta_bernoulli(), "b" = TRUE
    for (i in c(1L, 17L, 33L)) {
      others <- setdiff(which(z[t, ] == z[t, i]), i)
      expected <- ref_dm_log_predictive(X[i, ], X[others, , drop = FALSE], alphas) +
        ref_log_predictive(beta_bernoulli(), b[i], b[others], bb_hp)
      expect_equal(ll[t, i], expected, tolerance = 1e-10)
    }
  }
  prof <- summary(fit)$profiles
  expect_true(all(c("share(1)", "share(2)", "share(3)") %in% prof$statistic))
  q <- df[c(1, 40), ]
  q$v[1, ] <- NA
  imp <- predict(fit, q, type = "impute")
  expect_equal(sum(imp$v[1, ]), 1, tolerance = 1e-12)
  expect_gt(imp$v[1, 1], imp$v[1, 3])   # a row of group "a" leans to entry 1
  pr <- predict(fit, q, type = "prob")
  expect_equal(unname(rowSums(pr)), c(1, 1), tolerance = 1e-12)
})

test_that("a failed allocation while building or running a dm chain is an error, then it works", {
  fail_alloc <- function(k) .Call(microscopes:::C_test_fail_alloc, k)
  on.exit(fail_alloc(0), add = TRUE)
  withr::local_options(microscopes.check_state = TRUE, microscopes.progress = FALSE)
  case <- dm_cases()$mixed
  view <- dataview(case$data)
  defn <- model_definition(6, case$models)
  kc <- default_kernel_config(defn)
  s0 <- initialize_state(defn, view, assignment = 1:6, cluster_hp = list(alpha = 5))
  failures <- 0
  for (k in 1:300) {
    fail_alloc(k)
    outcome <- tryCatch({
      r <- withr::with_seed(k, runner(defn, view, s0, kc))
      run(r, 2)
      "ok"
    }, error = function(e) conditionMessage(e))
    left <- fail_alloc(0)
    if (left > 0) break
    failures <- failures + 1
    expect_match(outcome, "memory")
  }
  expect_gt(failures, 5)
  expect_lt(k, 300)
  r <- runner(defn, view, s0, kc)
  run(r, 2)
  expect_equal(sum(get_latent(r)$group_sizes), 6L)
})
