# The front end (R/fit.R, R/fit-methods.R, R/fit-plot.R, src/draws.c).

fit_Y <- make_binary_data(n = 40, D = 8, n_prototypes = 3, noise = 0.1, missing = 0.05, seed = 3)

test_that("dpmixture() keeps the post-warmup draws on the thinning grid", {
  fit <- dpmixture(fit_Y, chains = 3, iter = 30, warmup = 9, thin = 4, seed = 1,
                   threads = 1, progress = FALSE)
  expect_s3_class(fit, "microscopes_fit")
  kept <- seq(10, 30, by = 4)
  z <- partition_draws(fit)
  expect_identical(dim(z), c(3L * length(kept), nrow(fit_Y)))
  expect_type(z, "integer")
  expect_identical(attr(z, "chain"), rep(1:3, each = length(kept)))
  expect_identical(attr(z, "iteration"), rep(as.integer(kept), 3))
  # labels 1, 2, ... by first appearance in every draw
  for (s in seq_len(nrow(z))) expect_identical(z[s, ], match(z[s, ], unique(z[s, ])))
  # the draws are the chains' states at the kept iterations: K, alpha and
  # the log joint agree with the runners' traces
  trace <- chain_trace(fit$runners)
  trace <- trace[trace$iteration %in% kept, ]
  df <- as.data.frame(fit)
  expect_identical(df$n_groups, trace$n_groups)
  expect_identical(df$alpha, trace$alpha)
  expect_identical(df$log_joint, trace$log_joint)
  expect_identical(apply(z, 1, max), df$n_groups)
  # the last kept draw (iteration 30) is each chain's final state
  last <- which(attr(z, "iteration") == 30L)
  for (j in 1:3) {
    a <- assignments(fit$states[[j]])
    expect_identical(z[last[j], ], match(a, unique(a)))
    hps <- feature_hps(fit$states[[j]])
    expect_identical(unname(unlist(df[last[j], -(1:5)])), as.vector(hps))
  }
  expect_identical(nobs(fit), 40L)
  expect_identical(fit$iterations, rep(30L, 3))
})

test_that("the draws are those of the low-level workflow with the same streams", {
  fit <- dpmixture(fit_Y, chains = 2, iter = 12, warmup = 0, seed = 7, threads = 1,
                   progress = FALSE)
  w <- make_workflow(fit_Y)
  streams <- withr::with_seed(7, microscopes:::chain_streams(2))
  runners <- lapply(1:2, function(j) {
    microscopes:::with_stream(streams[[j]], {
      runner(w$defn, w$view, initialize_state(w$defn, w$view), w$kc)
    })
  })
  pr <- parallel_runner(runners)
  run(pr, 12)
  expect_identical(lapply(get_latents(pr), state_fingerprint),
                   lapply(fit$states, state_fingerprint))
})

test_that("draws do not depend on the number of threads", {
  f1 <- dpmixture(fit_Y, chains = 3, iter = 20, seed = 2, threads = 1, progress = FALSE)
  f2 <- dpmixture(fit_Y, chains = 3, iter = 20, seed = 2, threads = 2, progress = FALSE)
  expect_identical(partition_draws(f1), partition_draws(f2))
  expect_identical(as.data.frame(f1), as.data.frame(f2))
})

test_that("update() equals one longer run, to the bit", {
  long <- dpmixture(fit_Y, chains = 2, iter = 41, warmup = 10, thin = 3, seed = 5,
                    threads = 2, progress = FALSE)
  short <- dpmixture(fit_Y, chains = 2, iter = 15, warmup = 10, thin = 3, seed = 5,
                     threads = 1, progress = FALSE)
  short <- update(short, iter = 20, progress = FALSE)
  short <- update(short, iter = 6, progress = FALSE)
  expect_identical(partition_draws(short), partition_draws(long))
  expect_identical(as.data.frame(short), as.data.frame(long))
  expect_identical(short$iterations, long$iterations)
  # update() within the warmup keeps nothing until the warmup is over
  early <- dpmixture(fit_Y, chains = 2, iter = 5, warmup = 4, seed = 5, progress = FALSE)
  expect_identical(nrow(partition_draws(early)), 2L)
  expect_identical(nrow(partition_draws(update(early, iter = 0, progress = FALSE))), 2L)
})

test_that("update() twice from one fit branches: both equal one longer run", {
  long <- dpmixture(fit_Y, chains = 2, iter = 30, warmup = 10, thin = 2, seed = 7,
                    progress = FALSE)
  fit <- dpmixture(fit_Y, chains = 2, iter = 20, warmup = 10, thin = 2, seed = 7,
                   progress = FALSE)
  f2 <- update(fit, 10, progress = FALSE)
  # fit's runners have moved on with f2: update() must not trust them
  f3 <- update(fit, 10, progress = FALSE)
  for (f in list(f2, f3)) {
    expect_identical(partition_draws(f), partition_draws(long))
    expect_identical(as.data.frame(f), as.data.frame(long))
    expect_identical(f$iterations, long$iterations)
    expect_identical(f$states, long$states)
  }
  # and each branch goes on from its own chains
  expect_identical(as.data.frame(update(f2, 4, progress = FALSE)),
                   as.data.frame(update(f3, 4, progress = FALSE)))
  expect_identical(as.data.frame(update(fit, 14, progress = FALSE)),
                   as.data.frame(update(long, 4, progress = FALSE)))
  # runners moved by hand are stale too
  run(fit$runners, 3)
  expect_identical(as.data.frame(update(fit, 10, progress = FALSE)), as.data.frame(long))
})

test_that("an error mid-run leaves the fit as it was: the next update() is exact", {
  skip_on_cran()
  Y <- make_binary_data(n = 2000, D = 100, n_prototypes = 6, noise = 0.2, seed = 3)
  fit <- dpmixture(Y, chains = 2, iter = 4, warmup = 2, seed = 4, progress = FALSE)
  long <- dpmixture(Y, chains = 2, iter = 7, warmup = 2, seed = 4, progress = FALSE)
  caught <- tryCatch({
    setTimeLimit(elapsed = 1, transient = TRUE)
    update(fit, 1e6, progress = FALSE)
    "finished"
  }, error = function(e) conditionMessage(e))
  setTimeLimit()
  expect_match(caught, "elapsed time limit")
  # the chains did run: the fit's runners are past its states
  it <- vapply(fit$runners$runners, function(r) .Call(microscopes:::C_runner_iteration, r$ptr),
               numeric(1))
  expect_true(all(it > vapply(fit$states, `[[`, numeric(1), "iteration")))
  more <- update(fit, 3, progress = FALSE)
  expect_identical(as.data.frame(more), as.data.frame(long))
  expect_identical(more$states, long$states)
})

test_that("update() refuses an iter that would overflow the iteration count", {
  fit <- dpmixture(fit_Y, chains = 2, iter = 6, seed = 1, progress = FALSE)
  expect_error(update(fit, .Machine$integer.max, progress = FALSE),
               "`iter` must be a single whole number between 0 and 2147483641",
               class = "microscopes_error_argument")
})

test_that("a recorder that cannot be attached leaves no chain recording", {
  fit <- dpmixture(fit_Y, chains = 3, iter = 6, seed = 1, progress = FALSE)
  bad <- fit
  bad$iterations[3] <- -5L
  expect_error(microscopes:::fit_run(bad, 2, progress = FALSE), "recording draws")
  for (r in fit$runners$runners) {
    expect_error(.Call(microscopes:::C_runner_take_draws, r$ptr), "records no draws")
  }
  # and the fit goes on as if nothing happened
  expect_identical(update(fit, 2, progress = FALSE)$iterations, c(8L, 8L, 8L))
})

test_that("seed = leaves the session's generator alone; set.seed() works too", {
  set.seed(99)
  before <- .Random.seed
  f1 <- dpmixture(fit_Y, chains = 2, iter = 10, seed = 3, progress = FALSE)
  expect_identical(.Random.seed, before)
  f2 <- dpmixture(fit_Y, chains = 2, iter = 10, seed = 3, progress = FALSE)
  expect_identical(partition_draws(f1), partition_draws(f2))
  set.seed(4)
  f3 <- dpmixture(fit_Y, chains = 2, iter = 10, progress = FALSE)
  set.seed(4)
  f4 <- dpmixture(fit_Y, chains = 2, iter = 10, progress = FALSE)
  expect_identical(partition_draws(f3), partition_draws(f4))
  expect_false(identical(partition_draws(f1), partition_draws(f3)))
  # chains differ from one another
  z <- partition_draws(f1)
  expect_false(identical(as.data.frame(f1)$log_joint[1:5], as.data.frame(f1)$log_joint[6:10]))
})

test_that("a kept draw costs 2 n + 16 D bytes and a few more", {
  Y <- make_binary_data(n = 2000, D = 20, seed = 1)
  fit <- dpmixture(Y, chains = 2, iter = 20, warmup = 0, seed = 1, progress = FALSE)
  S <- nrow(as.data.frame(fit))
  expect_identical(S, 40L)
  expect_identical(length(fit$draws[[1]]$labels), 20L * 2000L * 2L)
  per_draw <- as.numeric(utils::object.size(fit$draws)) / S
  expect_lt(per_draw, 2 * 2000 + 16 * 20 + 100)
  # DECISIONS: 1,000 kept draws of 14,131 rows x 784 features < 100 MB
  expect_lt(1000 * (2 * 14131 + 16 * 784 + 100), 100e6)
})

test_that("init = starts the chains where asked", {
  w <- make_workflow(fit_Y)
  start <- initialize_state(w$defn, w$view, assignment = rep(1L, 40))
  fit <- dpmixture(fit_Y, chains = 2, iter = 1, warmup = 0, init = start, seed = 1,
                   kernels = list(slice_cluster_hp_kernel()), progress = FALSE)
  expect_identical(unname(partition_draws(fit)[, 1]), c(1L, 1L))
  expect_identical(as.data.frame(fit)$n_groups, c(1L, 1L))
})

test_that("saveRDS() keeps the draws; update() after readRDS() rebuilds the runners", {
  fit <- dpmixture(fit_Y, chains = 2, iter = 10, seed = 8, progress = FALSE)
  f <- withr::local_tempfile(fileext = ".rds")
  saveRDS(fit, f)
  back <- readRDS(f)
  expect_identical(partition_draws(back), partition_draws(fit))
  expect_output(print(back), "2 x 5 kept draws")
  expect_false(microscopes:::fit_runners_alive(back))
  set.seed(1)
  more <- update(back, iter = 4, progress = FALSE)
  expect_identical(nrow(partition_draws(more)), 18L)
  expect_identical(attr(partition_draws(more), "iteration"), rep(c(6:10, 11:14), 2))
  # Exactness needs a state that carries its chain's random stream (the
  # checkpoints of the reliability issue): then a runner rebuilt from the
  # final state continues the chain exactly. Checked here once states do.
  s <- fit$states[[1]]
  w <- make_workflow(fit_Y)
  r1 <- runner(w$defn, w$view, s, fit$kernel_config)
  r2 <- runner(w$defn, w$view, s, fit$kernel_config)
  run(r1, 1)
  run(r2, 1)
  skip_if_not(identical(state_fingerprint(get_latent(r1)), state_fingerprint(get_latent(r2))),
              "states do not carry their random stream yet")
  cont <- update(fit, iter = 4, progress = FALSE)
  expect_identical(partition_draws(more), partition_draws(cont))
})

test_that("log_lik() is each row's leave-one-out predictive in its own group", {
  fit <- dpmixture(fit_Y, chains = 2, iter = 6, warmup = 3, seed = 4, progress = FALSE)
  ll <- log_lik(fit, threads = 2)
  z <- partition_draws(fit)
  hps <- as.matrix(as.data.frame(fit)[, -(1:5)])
  expect_identical(dim(ll), dim(z))
  expect_identical(attr(ll, "chain"), attr(z, "chain"))
  Y <- fit_Y
  D <- ncol(Y)
  for (s in seq_len(nrow(z))) {
    a <- hps[s, 1:D]
    b <- hps[s, D + 1:D]
    for (i in c(1, 17, 40)) {
      others <- setdiff(which(z[s, ] == z[s, i]), i)
      h <- colSums(Y[others, , drop = FALSE] == 1, na.rm = TRUE)
      t <- colSums(Y[others, , drop = FALSE] == 0, na.rm = TRUE)
      p1 <- (a + h) / (a + b + h + t)
      x <- Y[i, ]
      expected <- sum(ifelse(x, log(p1), log(1 - p1)), na.rm = TRUE)
      expect_equal(ll[s, i], expected, tolerance = 1e-12)
    }
  }
  expect_identical(log_lik(fit, threads = 1), ll)
})

test_that("predict() gives probabilities over the point partition's clusters", {
  fit <- dpmixture(fit_Y, chains = 2, iter = 40, seed = 1, progress = FALSE)
  cl <- fitted(fit)
  expect_identical(cl, as.vector(point_partition(fit)))
  expect_identical(predict(fit), cl)
  K <- max(cl)
  new <- fit_Y[c(1, 2, 30), ]
  new[, 5:8] <- NA
  new <- rbind(new, NA)
  p <- predict(fit, new, type = "prob")
  expect_identical(dim(p), c(4L, K + 1L))
  expect_equal(rowSums(p), rep(1, 4))
  # by hand: CRP weights times the predictive of the observed entries,
  # hyperparameters and alpha averaged over the draws
  df <- as.data.frame(fit)
  D <- ncol(fit_Y)
  a <- colMeans(df[, 5 + 1:D])
  b <- colMeans(df[, 5 + D + 1:D])
  alpha <- mean(df$alpha)
  x <- new[1, ]
  w <- vapply(seq_len(K + 1), function(k) {
    rows <- which(cl == k)
    h <- colSums(fit_Y[rows, , drop = FALSE] == 1, na.rm = TRUE)
    t <- colSums(fit_Y[rows, , drop = FALSE] == 0, na.rm = TRUE)
    p1 <- (a + h) / (a + b + h + t)
    prior <- if (k <= K) length(rows) else alpha
    prior * prod(ifelse(x, p1, 1 - p1), na.rm = TRUE)
  }, numeric(1))
  expect_equal(unname(p[1, ]), w / sum(w), tolerance = 1e-12)
  expect_equal(unname(predict(fit, new, type = "density")[1]),
               log(sum(w) / (nrow(fit_Y) + alpha)), tolerance = 1e-12)
  # a row with nothing observed gets the CRP prior
  expect_equal(unname(p[4, ]), c(tabulate(cl), alpha) / (nrow(fit_Y) + alpha))
  expect_identical(unname(predict(fit, new, type = "cluster")), unname(max.col(p, "first")))
  imp <- predict(fit, new, type = "impute")
  expect_identical(imp[!is.na(new)], 1 * new[!is.na(new)])
  expect_true(all(imp[is.na(new)] > 0 & imp[is.na(new)] < 1))
  expect_equal(unname(imp[1, 5:8]), unname(drop(p[1, ] %*% t(sapply(seq_len(K + 1), function(k) {
    rows <- which(cl == k)
    h <- colSums(fit_Y[rows, 5:8, drop = FALSE] == 1, na.rm = TRUE)
    t <- colSums(fit_Y[rows, 5:8, drop = FALSE] == 0, na.rm = TRUE)
    (a[5:8] + h) / (a[5:8] + b[5:8] + h + t)
  })))), tolerance = 1e-12)
  expect_snapshot(error = TRUE, {
    predict(fit, new, type = "probability")
    predict(fit, type = "prob")
    predict(fit, new[, 1:3])
    predict(fit, new, kind = "prob")
  })
})

test_that("print() and summary() report convergence in plain words", {
  fit <- dpmixture(fit_Y, chains = 2, iter = 20, seed = 1, progress = FALSE)
  out <- capture.output(print(fit))
  expect_match(out[1], "microscopes fit")
  expect_true(any(grepl("Data: 40 rows x 8 binary features", out)))
  expect_true(any(grepl("Chains: 2 x 10 kept draws \\(iterations 20, warmup 10, thin 1\\)", out)))
  expect_true(any(grepl("^K \\(groups\\)", out)))
  expect_true(any(grepl("R-hat", out)))
  # 10 draws per chain: ESS < 400, said plainly
  expect_true(any(grepl("^Warning: Bulk or tail ESS < 400", out)))
  diag <- microscopes:::fit_diagnostics(fit)
  m <- cbind(as.data.frame(fit)$n_groups[1:10], as.data.frame(fit)$n_groups[11:20])
  expect_equal(diag$rhat[1], posterior::rhat(m))
  expect_equal(diag$ess_bulk[3], posterior::ess_bulk(cbind(as.data.frame(fit)$log_joint[1:10],
                                                          as.data.frame(fit)$log_joint[11:20])))
  s <- summary(fit)
  expect_s3_class(s, "summary.microscopes_fit")
  expect_identical(s$sizes, tabulate(fitted(fit)))
  expect_identical(nrow(s$profiles), length(s$sizes) * 8L)
  expect_named(s$profiles, c("cluster", "size", "feature", "statistic", "value"))
  expect_true(all(s$profiles$value > 0 & s$profiles$value < 1))
  expect_output(print(s), "Point partition \\(VI loss")
  expect_output(print(s), "credible ball")
})

test_that("as_draws_df() gives posterior's draws by chain and iteration", {
  fit <- dpmixture(fit_Y, chains = 2, iter = 10, seed = 1, progress = FALSE)
  d <- posterior::as_draws_df(fit)
  expect_s3_class(d, "draws_df")
  expect_identical(posterior::nchains(d), 2L)
  expect_identical(posterior::niterations(d), 5L)
  expect_identical(as.vector(d$lp__), as.data.frame(fit)$log_joint)
  expect_true(all(c("n_groups", "alpha", "lp__") %in% posterior::variables(d)))
  expect_s3_class(posterior::as_draws(fit), "draws")
})

test_that("plot() draws every type without an n x n matrix of all rows", {
  fit <- dpmixture(fit_Y, chains = 2, iter = 10, seed = 1, progress = FALSE)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  for (type in c("trace", "psm", "profiles", "k")) expect_invisible(plot(fit, type = type))
  expect_invisible(plot(fit, type = "psm", max_rows = 10))
  expect_error(plot(fit, type = "pairs"), "`type`")
})

test_that("chains on a parallel cluster or a future plan give the local draws", {
  skip_on_cran()
  local <- dpmixture(fit_Y, chains = 3, iter = 12, seed = 11, progress = FALSE)
  cl <- parallel::makeCluster(2)
  on.exit(parallel::stopCluster(cl))
  remote <- dpmixture(fit_Y, chains = 3, iter = 12, seed = 11, cluster = cl)
  expect_identical(partition_draws(remote), partition_draws(local))
  expect_identical(as.data.frame(remote), as.data.frame(local))
  expect_null(remote$runners)
  more <- update(remote, iter = 2, progress = FALSE)
  expect_identical(nrow(partition_draws(more)), 3L * 8L)
  skip_if_not_installed("future.apply")
  old_plan <- future::plan(future::sequential)
  withr::defer(future::plan(old_plan))
  fut <- dpmixture(fit_Y, chains = 3, iter = 12, seed = 11, cluster = "future")
  expect_identical(partition_draws(fut), partition_draws(local))
  future::plan(future::multisession, workers = 2)
  fut2 <- dpmixture(fit_Y, chains = 3, iter = 12, seed = 11, cluster = "future")
  expect_identical(partition_draws(fut2), partition_draws(local))
  expect_identical(as.data.frame(fut2), as.data.frame(local))
})

test_that("dpmixture() and run() name the argument that is wrong", {
  expect_snapshot(error = TRUE, {
    dpmixture(data.frame(a = c("x", "y")))
    dpmixture(fit_Y, chains = 0)
    dpmixture(fit_Y, iter = 10, warmup = 10)
    dpmixture(fit_Y, thin = 1.5)
    dpmixture(fit_Y, init = list(1))
    dpmixture(fit_Y, cluster = 2)
    dpmixture(fit_Y, seed = "a")
  })
  fit <- dpmixture(fit_Y, chains = 1, iter = 2, seed = 1, progress = FALSE)
  expect_snapshot(error = TRUE, {
    update(fit)
    update(fit, iter = 2, itr = 3)
    partition_draws(list())
    log_lik(fit, cores = 2)
  })
  w <- make_workflow(fit_Y)
  r <- runner(w$defn, w$view, initialize_state(w$defn, w$view), w$kc)
  expect_snapshot(error = TRUE, run(r, 5, progress = FALSE))
  err <- tryCatch(dpmixture(fit_Y, chains = 0), error = identity)
  expect_s3_class(err, "microscopes_error_argument")
  expect_s3_class(err, "microscopes_error")
})

test_that("Ctrl-C returns the fit so far, with a warning, and update() continues it", {
  skip_on_os("windows")
  skip_on_cran()
  Y <- make_binary_data(n = 3000, D = 200, n_prototypes = 8, noise = 0.2, seed = 5)
  # A real SIGINT, sent by a child process while the main thread waits in C.
  system(sprintf("sh -c 'sleep 1; kill -INT %d' >/dev/null 2>&1 &", Sys.getpid()))
  started <- Sys.time()
  expect_warning(fit <- dpmixture(Y, chains = 3, iter = 100000, warmup = 2, seed = 1,
                                  threads = 2, progress = FALSE),
                 "Interrupted: the fit holds the draws so far")
  expect_lt(as.numeric(difftime(Sys.time(), started, units = "secs")), 30)
  expect_s3_class(fit, "microscopes_fit")
  expect_true(all(fit$iterations < 100000L))
  df <- as.data.frame(fit)
  for (j in 1:3) {
    expect_identical(sum(df$chain == j), as.integer(max(0, fit$iterations[j] - 2)))
    expect_identical(sum(fit$states[[j]]$group_sizes), 3000L)
  }
  more <- update(fit, iter = 1, progress = FALSE)
  expect_identical(more$iterations, fit$iterations + 1L)
  # one more draw for each chain whose new iteration is past the warmup (a
  # slow machine, or a sanitizer build, may stop chains still in it)
  expect_identical(nrow(as.data.frame(more)), nrow(df) + sum(fit$iterations + 1L > 2L))
})

test_that("above 65,536 rows the labels take 32 bits, and read back the same", {
  skip_on_cran()
  Y <- cbind(rep(c(TRUE, FALSE), 35000), rep(c(TRUE, TRUE, FALSE, FALSE), 17500))
  kc <- list(assign_kernel())
  fit <- dpmixture(Y, chains = 1, iter = 2, warmup = 0, kernels = kc, seed = 1,
                   init = NULL, progress = FALSE)
  expect_identical(fit$draws[[1]]$label_bytes, 4L)
  expect_identical(length(fit$draws[[1]]$labels), 2L * 70000L * 4L)
  z <- partition_draws(fit)
  a <- assignments(fit$states[[1]])
  expect_identical(z[2, ], match(a, unique(a)))
  expect_identical(apply(z, 1, max), as.data.frame(fit)$n_groups)
})

test_that("every generic works on the bundled house_votes data", {
  data(house_votes, package = "microscopes", envir = environment())
  expect_identical(dim(house_votes), c(435L, 16L))
  expect_identical(sum(is.na(house_votes)), 392L)
  expect_identical(levels(attr(house_votes, "party")), c("democrat", "republican"))
  fit <- dpmixture(house_votes, chains = 2, iter = 60, seed = 1, progress = FALSE)
  expect_output(print(fit), "435 rows x 16 binary features \\(392 entries missing\\)")
  s <- summary(fit)
  expect_identical(sum(s$sizes), 435L)
  expect_identical(levels(s$profiles$feature), colnames(house_votes))
  cl <- fitted(fit)
  # the largest clusters are dominated by one party each
  tab <- table(cl, attr(house_votes, "party"))
  big <- tab[rowSums(tab) >= 50, , drop = FALSE]
  expect_true(nrow(big) >= 2)
  expect_true(all(apply(big, 1, max) / rowSums(big) > 0.75))
  new <- house_votes[1:4, ]
  new[, 9:16] <- NA
  p <- predict(fit, new, type = "prob")
  expect_equal(unname(rowSums(p)), rep(1, 4))
  expect_identical(ncol(p), max(cl) + 1L)
  expect_true(all(is.finite(predict(fit, new, type = "density"))))
  expect_identical(dim(log_lik(fit)), c(60L, 435L))
  expect_identical(nobs(fit), 435L)
  expect_identical(nrow(as.data.frame(fit)), 60L)
  expect_named(as.data.frame(fit)[1:5], c("chain", "iteration", "n_groups", "alpha", "log_joint"))
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  for (type in c("trace", "psm", "profiles", "k")) expect_invisible(plot(fit, type = type))
})
