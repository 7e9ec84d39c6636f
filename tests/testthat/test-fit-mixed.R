# The one-call front end on mixed-type data frames (issue 13 on issue 11's
# model library). Tiny data, few iterations.

mixed_df <- function() {
  data.frame(a = c(TRUE, FALSE, NA, TRUE, TRUE, FALSE, TRUE, FALSE, TRUE, FALSE),
             f = factor(c("x", "y", "z", "x", NA, "y", "z", "x", "x", "y")),
             cnt = c(0L, 3L, 1L, 5L, 2L, NA, 0L, 1L, 4L, 2L),
             v = c(1.2, 3.4, NA, 0.2, 5.5, 2.2, 1.1, 0.9, 4.1, 2.8))
}

test_that("dpmixture() fits a data frame with default_models() and says so", {
  df <- mixed_df()
  expect_message(fit <- dpmixture(df, chains = 2, iter = 30, seed = 1),
                 "default_models")
  expect_silent(dpmixture(df, chains = 2, iter = 30, seed = 1, quiet = TRUE))
  expect_s3_class(fit, "microscopes_fit")
  expect_equal(fit$defn$models, c("beta_bernoulli", "dirichlet_discrete",
                                  "gamma_poisson", "normal_inverse_chisq"))
  z <- partition_draws(fit)
  expect_equal(dim(z), c(30L, nrow(df)))
  out <- capture.output(print(fit))
  expect_match(out[2], "Data: 10 rows x 4 columns \\(4 cells missing\\)")
  expect_match(out[3], "1 beta_bernoulli, 1 dirichlet_discrete, 1 gamma_poisson, 1 normal_inverse_chisq",
               fixed = TRUE)
  expect_true(any(grepl("R-hat", out)))
})

test_that("mixed fits record every feature's hyperparameters per draw", {
  fit <- dpmixture(mixed_df(), chains = 2, iter = 30, seed = 2, quiet = TRUE)
  df <- as.data.frame(fit)
  hp_cols <- c("hp[a].alpha", "hp[a].beta", "hp[f].alphas[1]", "hp[f].alphas[2]",
               "hp[f].alphas[3]", "hp[cnt].alpha", "hp[cnt].inv_beta",
               "hp[v].mu", "hp[v].kappa", "hp[v].sigmasq", "hp[v].nu")
  expect_equal(names(df), c("chain", "iteration", "n_groups", "alpha", "log_joint", hp_cols))
  # The last kept draw of each chain is its final state.
  for (j in 1:2) {
    last <- df[df$chain == j, ][sum(df$chain == j), ]
    s <- fit$states[[j]]
    want <- unlist(lapply(seq_len(4), function(d) get_feature_hp(s, d)), use.names = FALSE)
    expect_equal(unname(unlist(last[hp_cols])), want)
    expect_equal(last$alpha, s$cluster_hp$alpha)
    expect_equal(last$n_groups, length(unique(s$assignments)))
  }
  # The hyperparameters move (the slice kernels run) and stay in support.
  expect_gt(length(unique(df[["hp[v].mu"]])), 1)
  expect_true(all(df[["hp[v].kappa"]] > 0 & df[["hp[f].alphas[2]"]] > 0))
  skip_if_not_installed("posterior")
  d <- posterior::as_draws_df(fit)
  expect_true(all(hp_cols %in% names(d)))
  expect_equal(posterior::ndraws(d), 30L)
})

test_that("an all-bb data frame keeps the bb naming", {
  df <- data.frame(x = c(TRUE, FALSE, TRUE, NA, FALSE, TRUE),
                   y = c(FALSE, FALSE, TRUE, TRUE, NA, TRUE))
  fit <- dpmixture(df, chains = 1, iter = 10, seed = 1, quiet = TRUE)
  expect_equal(names(as.data.frame(fit))[-(1:5)], c("a[x]", "a[y]", "b[x]", "b[y]"))
  # It is the binary-matrix fit, draw for draw, and every generic works.
  m <- as.matrix(df)
  fit_m <- dpmixture(m, chains = 1, iter = 10, seed = 1)
  expect_identical(partition_draws(fit), partition_draws(fit_m))
  expect_identical(as.data.frame(fit), as.data.frame(fit_m))
  expect_identical(summary(fit)$profiles, summary(fit_m)$profiles)
  expect_identical(log_lik(fit), log_lik(fit_m))
  expect_identical(unname(predict(fit, df, type = "prob")), unname(predict(fit_m, m, type = "prob")))
  expect_identical(unname(predict(fit, df, type = "impute")),
                   unname(predict(fit_m, m, type = "impute")))
})

test_that("mixed fits: update() equals one longer run, also after readRDS()", {
  df <- mixed_df()
  long <- dpmixture(df, chains = 2, iter = 40, warmup = 10, seed = 3, quiet = TRUE)
  short <- dpmixture(df, chains = 2, iter = 25, warmup = 10, seed = 3, quiet = TRUE)
  cont <- update(short, iter = 15)
  expect_identical(partition_draws(cont), partition_draws(long))
  expect_identical(as.data.frame(cont), as.data.frame(long))
  f <- tempfile(fileext = ".rds")
  saveRDS(short, f)
  again <- update(readRDS(f), iter = 15)
  unlink(f)
  expect_identical(as.data.frame(again), as.data.frame(long))
})

test_that("mixed fits take a models list, K =, and give a point partition", {
  df <- mixed_df()
  models <- list(beta_bernoulli(), dirichlet_discrete(3), beta_negative_binomial(2),
                 normal_inverse_chisq())
  fit <- dpmixture(df, models, chains = 2, iter = 20, seed = 4)
  expect_equal(fit$defn$models[3], "beta_negative_binomial")
  expect_true(any(grepl("1 beta_negative_binomial", capture.output(print(fit)))))
  expect_true("hp[cnt].beta" %in% names(as.data.frame(fit)))
  fk <- dpmixture(df, chains = 2, iter = 20, seed = 4, K = 2, quiet = TRUE)
  expect_true(all(as.data.frame(fk)$n_groups <= 2))
  expect_match(capture.output(print(fk))[3], "finite mixture, K = 2")
  p <- point_partition(fit)
  expect_length(p, nrow(df))
  expect_equal(attr(p, "loss"), "VI")
  expect_identical(as.vector(p), fitted(fit))
})

test_that("dpmixture() on a data frame names bad models and columns", {
  df <- mixed_df()
  expect_error(dpmixture(df, list(beta_bernoulli()), chains = 1, iter = 5),
               "`models` has 1 model but the data has 4 columns", class = "microscopes_error_argument")
  expect_error(dpmixture(df, rep(list(gamma_poisson()), 4), chains = 1, iter = 5),
               class = "microscopes_error_argument")
})

test_that("predict() on a mixed fit: probabilities, clusters, densities, imputation", {
  df <- mixed_df()
  fit <- dpmixture(df, chains = 2, iter = 30, seed = 5, quiet = TRUE)
  nd <- df[1:4, ]
  nd$a[1] <- NA
  nd$f[2] <- NA
  nd$v[3] <- NA
  nd[4, ] <- NA
  K <- max(fitted(fit))
  p <- predict(fit, nd, type = "prob")
  expect_equal(dim(p), c(4L, K + 1L))
  expect_equal(unname(rowSums(p)), rep(1, 4))
  expect_identical(unname(predict(fit, nd, type = "cluster")),
                   unname(max.col(p, ties.method = "first")))
  # An empty row: the partition prior's predictive, density 0.
  sizes <- tabulate(fitted(fit))
  alpha <- mean(as.data.frame(fit)$alpha)
  expect_equal(unname(p[4, ]), c(sizes, alpha) / (nrow(df) + alpha))
  d <- predict(fit, nd, type = "density")
  expect_equal(unname(d[4]), 0)
  # The densities are a distribution: over a factor's levels, over TRUE/FALSE.
  one <- df[rep(1, 3), ]
  one[] <- NA
  one$f <- factor(c("x", "y", "z"), levels = levels(df$f))
  expect_equal(sum(exp(predict(fit, one, type = "density"))), 1)
  two <- df[rep(1, 2), ]
  two[] <- NA
  two$a <- c(TRUE, FALSE)
  expect_equal(sum(exp(predict(fit, two, type = "density"))), 1)
  # Chain rule: p(a, f) / p(a) is the imputed level probability of f given a.
  both <- df[rep(1, 3), ]
  both[] <- NA
  both$a <- TRUE
  both$f <- factor(c("x", "y", "z"), levels = levels(df$f))
  given <- both[1, ]
  given$f <- factor(NA, levels = levels(df$f))
  imp <- predict(fit, given, type = "impute")
  lp <- attr(imp, "level_probabilities")$f
  expect_equal(unname(exp(predict(fit, both, type = "density") -
                            predict(fit, given, type = "density"))), unname(lp[1, ]))
  # Imputation fills only the NA cells, in the columns' types.
  im <- predict(fit, nd, type = "impute")
  expect_equal(dim(im), dim(nd))
  expect_type(im$a, "logical")
  expect_s3_class(im$f, "factor")
  expect_false(anyNA(im))
  obs <- !is.na(nd)
  expect_equal(im$a[obs[, "a"]], nd$a[obs[, "a"]])
  expect_equal(im$v[obs[, "v"]], nd$v[obs[, "v"]])
  expect_equal(as.character(im$f[obs[, "f"]]), as.character(nd$f[obs[, "f"]]))
  expect_error(predict(fit, nd[, 1:3], type = "prob"), "`newdata`",
               class = "microscopes_error_argument")
})

test_that("summary() and plot() of a mixed fit: posterior mean profiles from the data", {
  df <- mixed_df()
  fit <- dpmixture(df, chains = 2, iter = 30, seed = 6, quiet = TRUE)
  s <- summary(fit)
  pr <- s$profiles
  expect_named(pr, c("cluster", "size", "feature", "statistic", "value"))
  z <- fitted(fit)
  K <- max(z)
  expect_equal(sort(unique(pr$cluster)), seq_len(K))
  expect_equal(sort(unique(pr$statistic)),
               sort(c("P(1)", "P(x)", "P(y)", "P(z)", "mean count", "mean")))
  # Level probabilities sum to 1 in each cluster.
  f <- pr[pr$feature == "f", ]
  expect_equal(as.vector(tapply(f$value, f$cluster, sum)), rep(1, K))
  # Closed forms from the raw data and the hyperparameters averaged over
  # the draws.
  hp <- colMeans(as.data.frame(fit)[, -(1:5)])
  for (k in seq_len(K)) {
    rows <- z == k
    v <- df$v[rows & !is.na(df$v)]
    kappa <- hp[["hp[v].kappa"]]
    want_v <- (kappa * hp[["hp[v].mu"]] + sum(v)) / (kappa + length(v))
    expect_equal(pr$value[pr$feature == "v" & pr$cluster == k], want_v)
    cnt <- df$cnt[rows & !is.na(df$cnt)]
    ib <- hp[["hp[cnt].inv_beta"]]
    want_c <- (hp[["hp[cnt].alpha"]] + sum(cnt)) * ib / (1 + length(cnt) * ib)
    expect_equal(pr$value[pr$feature == "cnt" & pr$cluster == k], want_c)
    a <- df$a[rows & !is.na(df$a)]
    want_a <- (hp[["hp[a].alpha"]] + sum(a)) / (hp[["hp[a].alpha"]] + hp[["hp[a].beta"]] + length(a))
    expect_equal(pr$value[pr$feature == "a" & pr$cluster == k], want_a)
    lv <- df$f[rows & !is.na(df$f)]
    al <- hp[c("hp[f].alphas[1]", "hp[f].alphas[2]", "hp[f].alphas[3]")]
    want_f <- (al + as.vector(table(lv))) / (sum(al) + length(lv))
    expect_equal(pr$value[pr$feature == "f" & pr$cluster == k], unname(want_f))
  }
  out <- capture.output(print(s))
  expect_true(any(grepl("cluster x feature x statistic", out, fixed = TRUE)))
  expect_true(any(grepl("f P(x)", out, fixed = TRUE)))
  path <- tempfile(fileext = ".pdf")
  grDevices::pdf(path)
  on.exit({ grDevices::dev.off(); unlink(path) })
  expect_identical(plot(fit, type = "profiles"), fit)
  expect_identical(plot(fit, type = "trace"), fit)
  expect_identical(plot(fit, type = "psm"), fit)
})

test_that("log_lik() of a mixed fit: leave-one-out predictives by the marginal ratio", {
  df <- mixed_df()
  models <- list(beta_bernoulli(), dirichlet_discrete(3), gamma_poisson(),
                 normal_inverse_chisq())
  fit <- dpmixture(df, models, chains = 2, iter = 12, warmup = 8, seed = 7)
  ll <- log_lik(fit, threads = 1)
  expect_equal(dim(ll), c(8L, nrow(df)))
  expect_identical(attr(ll, "chain"), rep(1:2, each = 4))
  expect_identical(log_lik(fit, threads = 2), ll)
  z <- partition_draws(fit)
  hp <- as.matrix(as.data.frame(fit)[, -(1:5)])
  hp_list <- function(v) {
    list(list(alpha = v[[1]], beta = v[[2]]), list(alphas = unname(v[3:5])),
         list(alpha = v[[6]], inv_beta = v[[7]]),
         list(mu = v[[8]], kappa = v[[9]], sigmasq = v[[10]], nu = v[[11]]))
  }
  marginal <- function(data, assignment, hps) {
    view <- dataview(data)
    defn <- model_definition(view, models)
    s <- initialize_state(defn, view, assignment = assignment, feature_hps = hps)
    score_data(s)
  }
  # log p(x_i | z, x_{-i}) = log p(x | z) - log p(x_{-i} | z_{-i}), for a
  # few draws and rows (including a row alone in its group when there is one).
  for (t in c(1, 5, 8)) {
    hps <- hp_list(hp[t, ])
    full <- marginal(df, z[t, ], hps)
    for (i in c(1, 3, 6, 10)) {
      rest <- marginal(df[-i, ], z[t, -i], hps)
      expect_equal(ll[t, i], full - rest, tolerance = 1e-10)
    }
  }
})

test_that("predict(type = 'impute') gives a two-level factor's level", {
  df <- mixed_df()
  df$g <- factor(ifelse(df$v > 2, "high", "low"), levels = c("low", "high"))
  fit <- dpmixture(df, chains = 1, iter = 20, seed = 8, quiet = TRUE)
  expect_equal(fit$defn$models[5], "beta_bernoulli")
  nd <- df[c(1, 2, 4), ]
  nd$g[1:2] <- NA
  im <- predict(fit, nd, type = "impute")
  expect_s3_class(im$g, "factor")
  expect_identical(levels(im$g), c("low", "high"))
  expect_identical(im$g[3], nd$g[3])
  expect_false(anyNA(im$g))
})

test_that("mixed fits: threads and a future plan give the local draws", {
  df <- mixed_df()
  local <- dpmixture(df, chains = 3, iter = 12, seed = 11, threads = 1, quiet = TRUE)
  two <- dpmixture(df, chains = 3, iter = 12, seed = 11, threads = 2, quiet = TRUE)
  expect_identical(as.data.frame(two), as.data.frame(local))
  expect_identical(partition_draws(two), partition_draws(local))
  skip_if_not_installed("future.apply")
  old_plan <- future::plan(future::sequential)
  withr::defer(future::plan(old_plan))
  fut <- dpmixture(df, chains = 3, iter = 12, seed = 11, cluster = "future", quiet = TRUE)
  expect_identical(partition_draws(fut), partition_draws(local))
  expect_identical(as.data.frame(fut), as.data.frame(local))
  more <- update(fut, iter = 2, progress = FALSE)
  expect_identical(nrow(partition_draws(more)), 3L * 8L)
})
