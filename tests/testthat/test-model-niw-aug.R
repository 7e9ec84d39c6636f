# normal_inverse_wishart() rows with some but not all coordinates NA, fitted
# by data augmentation (src/block_niw_latent.c): the missing coordinates are
# latent, redrawn each iteration from their conditional t given the
# observed ones and the group's other rows. Proven by
# - a Geweke (2004) joint distribution test: the marginal-conditional
#   simulator (partition, group parameters and data from the prior, then
#   coordinates masked) against the successive-conditional one (one MCMC
#   iteration given the observed coordinates, then all data redrawn given
#   the partition, the masked coordinates' true values becoming the
#   latent ones), on summaries of the partition and of the masked values;
#   a deliberately wrong latent draw (the unconditional predictive,
#   ignoring the observed coordinates) fails it;
# - the partition frequencies on a tiny data set with one partly observed
#   row against the exact posterior by enumeration, the missing coordinate
#   integrated out analytically (the marginal t of the observed
#   coordinates, helper-niw.R);
# - the imputed values as chain state: saved, resumed to the bit, checked.

aug_hp <- function() {
  list(mu0 = c(0, 0), lambda = 1, psi = 5 * matrix(c(1, 0.7, 0.7, 1), 2), nu = 8)
}

# Rows 1 and 2 partly observed: row 1 misses coordinate 2, row 2
# coordinate 1 (as an index matrix into X).
aug_mask <- function() cbind(c(1, 2), c(2, 1))

# X | z from the prior: per group Sigma ~ IW(psi, nu), mu ~ N(mu0,
# Sigma / lambda), rows ~ N(mu, Sigma).
aug_draw_data <- function(z, hp) {
  d <- length(hp$mu0)
  X <- matrix(0, length(z), d)
  for (k in unique(z)) {
    Sigma <- solve(stats::rWishart(1, hp$nu, solve(hp$psi))[, , 1])
    R <- chol(Sigma)
    mu <- hp$mu0 + drop(stats::rnorm(d) %*% R) / sqrt(hp$lambda)
    rows <- which(z == k)
    X[rows, ] <- matrix(mu, length(rows), d, byrow = TRUE) +
      matrix(stats::rnorm(length(rows) * d), length(rows), d) %*% R
  }
  X
}

aug_draw_crp <- function(n, alpha) {
  z <- integer(n)
  z[1] <- 1L
  for (i in seq_len(n)[-1]) {
    sizes <- tabulate(z[seq_len(i - 1)])
    z[i] <- sample.int(length(sizes) + 1L, 1, prob = c(sizes, alpha))
  }
  z
}

# The summaries: K, the masked coordinates' mean, their second moment and
# their cross moment with the observed coordinate of the same row.
aug_summaries <- function(z, X, mask) {
  m <- X[mask]
  o <- X[cbind(mask[, 1], 3L - mask[, 2])]
  c(K = length(unique(z)), mean = mean(m), square = mean(m^2), cross = mean(m * o))
}

aug_marginal_conditional <- function(M, n, hp) {
  t(vapply(seq_len(M), function(t) {
    z <- aug_draw_crp(n, 1)
    aug_summaries(z, aug_draw_data(z, hp), aug_mask())
  }, numeric(4)))
}

aug_frame <- function(X) {
  df <- data.frame(row = seq_len(nrow(X)))
  df$xy <- X
  df["xy"]
}

# One MCMC iteration (assign kernel, then the latent draw) given the
# observed coordinates, then X | z redrawn; the summaries after each
# iteration, of the state's completed cells.
aug_successive_conditional <- function(steps, n, hp, wrong = FALSE) {
  withr::local_options(microscopes.progress = FALSE)
  defn <- model_definition(n, list(normal_inverse_wishart(2)))
  kc <- list(assign_kernel())
  mask <- aug_mask()
  z <- aug_draw_crp(n, 1)
  X <- aug_draw_data(z, hp)
  out <- matrix(0, steps, 4, dimnames = list(NULL, c("K", "mean", "square", "cross")))
  for (t in seq_len(steps)) {
    # a state of the completed data, whose masked coordinates' true values
    # are the latent ones
    s <- initialize_state(defn, dataview(aug_frame(X)), cluster_hp = list(alpha = 1),
                          feature_hps = list(hp), assignment = z)
    s$latent_cells <- list(list(rows = 1:2, values = X[1:2, , drop = FALSE]))
    observed <- X
    observed[mask] <- NA
    r <- runner(defn, dataview(aug_frame(observed)), s, kc)
    if (wrong) .Call(microscopes:::C_runner_test_wrong_latent, r$ptr)
    run(r, 1)
    s <- get_latent(r)
    z <- assignments(s)
    X[1:2, ] <- s$latent_cells[[1]]$values
    out[t, ] <- aug_summaries(z, X, mask)
    X <- aug_draw_data(z, hp)
  }
  out
}

aug_z <- function(sc, mc) {
  se_sc <- apply(sc, 2, enum_mcse)
  se_mc <- apply(mc, 2, stats::sd) / sqrt(nrow(mc))
  (colMeans(sc) - colMeans(mc)) / sqrt(se_sc^2 + se_mc^2)
}

test_that("Geweke: partly missing niw rows by data augmentation sample the joint distribution", {
  skip_on_cran()
  set.seed(2004)
  n <- 5
  hp <- aug_hp()
  mc <- aug_marginal_conditional(20000, n, hp)
  sc <- aug_successive_conditional(2000, n, hp)
  z <- aug_z(sc, mc)
  p <- 2 * stats::pnorm(-abs(z))
  wrong <- aug_successive_conditional(400, n, hp, wrong = TRUE)
  z_wrong <- aug_z(wrong, mc)
  p_wrong <- 2 * stats::pnorm(-abs(z_wrong))
  if (nzchar(Sys.getenv("MICROSCOPES_REPORT"))) {
    message("niw aug Geweke z: ", paste(sprintf("%s %.2f (p %.3g)", names(z), z, p), collapse = ", "))
    message("niw aug Geweke, wrong latent draw, z: ",
            paste(sprintf("%s %.2f (p %.3g)", names(z_wrong), z_wrong, p_wrong), collapse = ", "))
  }
  # four z-tests at a fixed seed: each p > 0.001 / 4
  expect_gt(min(p), 0.001 / 4, label = sprintf("smallest Geweke p-value (z = %s)",
                                               paste(sprintf("%.2f", z), collapse = ", ")))
  # the unconditional predictive loses the masked coordinates' dependence
  # on the observed one of their row
  expect_lt(p_wrong[["cross"]], 1e-6, label = sprintf("Geweke p-value of the wrong latent draw (z = %.2f)",
                                                      z_wrong[["cross"]]))
})

# The exact partition posterior of X whose row `partial` misses some
# coordinates: each group's log marginal is that of its complete rows plus
# the marginal t density of the partial row's observed coordinates given
# them (the missing ones integrated out).
aug_partition_posterior <- function(X, hp, alpha) {
  complete <- stats::complete.cases(X)
  z <- enum_partitions(nrow(X))
  log_w <- apply(z, 1, function(zr) {
    enum_log_crp(zr, alpha) + sum(vapply(unique(zr), function(k) {
      rows <- which(zr == k)
      full <- X[rows[complete[rows]], , drop = FALSE]
      lm <- ref_niw_log_marginal(full, hp)
      for (i in rows[!complete[rows]]) {
        lm <- lm + ref_mvt_split(X[i, ], ref_niw_predictive(full, hp))$log_density
      }
      lm
    }, numeric(1)))
  })
  data.frame(key = apply(z, 1, enum_key), prob = enum_normalise(log_w), stringsAsFactors = FALSE)
}

aug_partition_draws <- function(X, hp, wrong = FALSE, n_chains = 4, n_draws = 1500) {
  defn <- model_definition(nrow(X), list(normal_inverse_wishart(ncol(X))))
  wrong_latent <- function(r) {
    if (wrong) .Call(microscopes:::C_runner_test_wrong_latent, r$ptr)
    r
  }
  partition_key_draws(defn, dataview(aug_frame(X)), list(hp), list(assign_kernel()),
                      n_chains, n_draws, prepare = wrong_latent)
}

test_that("a partly missing niw row: partition frequencies match the exact posterior (enumeration)", {
  skip_on_cran()
  set.seed(41)
  X <- rbind(c(-1.1, -0.7), c(-0.4, -1.3), c(0.2, NA), c(1.7, 1.2), c(2.3, 2.9), c(-1.6, 0.4))
  hp <- list(mu0 = c(0, 0.5), lambda = 0.5, psi = matrix(c(0.8, 0.6, 0.6, 0.6), 2), nu = 3.5)
  exact <- aug_partition_posterior(X, hp, alpha = 1)
  # what a sampler that never imputed (the row's observed coordinate
  # left out as if it were missing too) would target
  ignored <- X
  ignored[3, ] <- NA
  wrong_target <- aug_partition_posterior(ignored, hp, alpha = 1)
  keys <- aug_partition_draws(X, hp)
  observed <- as.numeric(table(factor(keys, levels = exact$key)))
  inflation <- enum_inflation(keys, exact$key, exact$prob)
  ok <- enum_chisq(observed, exact$prob, inflation = inflation)
  bad <- enum_chisq(observed, wrong_target$prob, inflation = inflation)
  keys_wrong <- aug_partition_draws(X, hp, wrong = TRUE)
  observed_wrong <- as.numeric(table(factor(keys_wrong, levels = exact$key)))
  wrong_kernel <- enum_chisq(observed_wrong, exact$prob,
                             inflation = enum_inflation(keys_wrong, exact$key, exact$prob))
  if (nzchar(Sys.getenv("MICROSCOPES_REPORT"))) {
    message(sprintf(paste("niw aug enumeration: statistic %.1f on %d df, p = %.3g; row ignored:",
                          "p = %.3g; wrong latent draw: statistic %.1f, p = %.3g"),
                    ok$statistic, ok$df, ok$p_value, bad$p_value, wrong_kernel$statistic,
                    wrong_kernel$p_value))
  }
  expect_gt(ok$p_value, 1e-3, label = sprintf("chi-square p-value (statistic %.1f on %d df)",
                                             ok$statistic, ok$df))
  expect_lt(bad$p_value, 1e-6, label = "the posterior with the partly observed row left out")
  expect_lt(wrong_kernel$p_value, 1e-6, label = "the wrong latent draw")
})

test_that("imputed coordinates are chain state: saved, resumed to the bit, checked", {
  set.seed(7)
  withr::local_options(microscopes.progress = FALSE, microscopes.check_state = TRUE)
  X <- rbind(matrix(stats::rnorm(40), 20), matrix(stats::rnorm(40, 4), 20))
  X[3, 2] <- NA
  X[25, 1] <- NA
  X[7, ] <- NA
  df <- aug_frame(X)
  df$a <- stats::rnorm(40)
  view <- dataview(df)
  defn <- model_definition(view, quiet = TRUE)
  kc <- default_kernel_config(defn)
  s0 <- initialize_state(defn, view)
  # initial imputation: the coordinate's mean over the rows observing it
  expect_identical(s0$latent_cells[[1]]$rows, c(3L, 25L))
  expect_null(s0$latent_cells[[2]])
  expect_equal(s0$latent_cells[[1]]$values,
               rbind(c(X[3, 1], mean(X[, 2], na.rm = TRUE)), c(mean(X[, 1], na.rm = TRUE), X[25, 2])))
  r <- runner(defn, view, s0, kc)
  run(r, 10)
  f <- tempfile(fileext = ".rds")
  saveRDS(get_latent(r), f)
  run(r, 10)
  saved <- readRDS(f)
  expect_identical(saved$format_version, 5L)
  # observed coordinates stay as given; the missing ones have moved
  expect_identical(saved$latent_cells[[1]]$values[cbind(1:2, 1:2)], c(X[3, 1], X[25, 2]))
  expect_false(any(saved$latent_cells[[1]]$values == s0$latent_cells[[1]]$values[cbind(1:2, 2:1)]))
  resumed <- runner(defn, view, saved, kc)
  run(resumed, 10)
  expect_identical(get_latent(resumed), get_latent(r))
  expect_identical(chain_trace(resumed)$log_joint, chain_trace(r)$log_joint[11:20])
  s <- get_latent(r)
  # the trace's log joint is that of the completed cells the state holds
  expect_equal(utils::tail(chain_trace(r)$log_joint, 1), score_assignment(s) + score_data(s),
               tolerance = 1e-10)
  # imputed values that do not match the statistics, or rows that are not
  # the partly missing ones, are refused
  bad <- s
  bad$latent_cells[[1]]$values[1, 2] <- bad$latent_cells[[1]]$values[1, 2] + 0.5
  expect_error(runner(defn, view, bad, kc), "statistics differ", class = "microscopes_error_argument")
  bad <- s
  bad$latent_cells[[1]]$rows <- c(3L, 26L)
  expect_error(runner(defn, view, bad, kc), "latent_cells", class = "microscopes_error_argument")
  # a fit takes partly missing rows
  fit <- dpmixture(df, chains = 2, iter = 20, seed = 1, quiet = TRUE)
  expect_s3_class(fit, "microscopes_fit")
  expect_error(log_lik(fit), "not available", class = "microscopes_error_argument")
})

test_that("niw chains without partly missing rows draw no extra random numbers", {
  # the latent draw consumes the stream only when there are latent rows: a
  # chain whose rows are complete (or all NA) equals one that never had
  # the op, which is what keeps niw chains of such data as they were
  set.seed(3)
  withr::local_options(microscopes.progress = FALSE)
  X <- rbind(matrix(stats::rnorm(30), 15), matrix(stats::rnorm(30, 3), 15))
  X[4, ] <- NA
  stream_after <- function(X) {
    view <- dataview(aug_frame(X))
    defn <- model_definition(view, quiet = TRUE)
    r <- runner(defn, view, initialize_state(defn, view), list())
    s <- get_latent(r)
    run(r, 3)
    list(state = s, before = s$rng, after = .Call(microscopes:::C_runner_stream, r$ptr))
  }
  complete <- stream_after(X)
  expect_null(complete$state$latent_cells)
  expect_identical(complete$after, complete$before)
  X[5, 2] <- NA
  partly <- stream_after(X)
  expect_false(identical(partly$after, partly$before))
})

test_that("a failed allocation while building or running a chain with partly missing niw rows is an error, then it works", {
  fail_alloc <- function(k) .Call(microscopes:::C_test_fail_alloc, k)
  on.exit(fail_alloc(0), add = TRUE)
  withr::local_options(microscopes.check_state = TRUE, microscopes.progress = FALSE)
  X <- rbind(c(-1.1, -0.7), c(-0.4, NA), c(0.2, 0.9), c(NA, 1.2), c(2.3, 2.9), c(-1.6, 0.4))
  view <- dataview(aug_frame(X))
  defn <- model_definition(6, list(normal_inverse_wishart(2)))
  kc <- default_kernel_config(defn)
  s0 <- initialize_state(defn, view, assignment = c(1, 1, 2, 2, 3, 3))
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
  expect_identical(get_latent(r)$latent_cells[[1]]$rows, c(2L, 4L))
})
