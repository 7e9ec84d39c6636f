# Exact checkpoints (issue 10): a state from get_latent() carries the
# chain's random stream, iteration count and sampler order, so a runner made
# from it in another R process goes on with the very chain.

run_in_fresh_r <- function(lines) {
  script <- tempfile(fileext = ".R")
  on.exit(unlink(script))
  writeLines(c(sprintf(".libPaths(c(%s))", paste(deparse(.libPaths()), collapse = "")),
               "suppressMessages(library(microscopes))", lines), script)
  out <- system2(file.path(R.home("bin"), "Rscript"), c("--vanilla", script),
                 stdout = TRUE, stderr = TRUE)
  expect_null(attr(out, "status"), info = paste(out, collapse = "\n"))
  invisible(out)
}

same_rows <- function(trace) {
  rownames(trace) <- NULL
  trace
}

checkpoint_workflow <- function() {
  Y <- make_binary_data(n = 120, D = 16, n_prototypes = 4, missing = 0.03, seed = 21)
  make_workflow(Y)
}

test_that("run 10, save, resume in a fresh R process, run 10 = run 20", {
  skip_on_cran()
  w <- checkpoint_workflow()
  s0 <- withr::with_seed(1, initialize_state(w$defn, w$view))
  whole <- withr::with_seed(2, runner(w$defn, w$view, s0, w$kc))
  run(whole, 20)
  half <- withr::with_seed(2, runner(w$defn, w$view, s0, w$kc))
  run(half, 10)
  dir <- withr::local_tempdir()
  saveRDS(list(w = w, s = get_latent(half)), file.path(dir, "in.rds"))
  run_in_fresh_r(c(
    sprintf("x <- readRDS('%s')", file.path(dir, "in.rds")),
    "set.seed(99)  # resuming draws nothing from R's generator",
    "r <- runner(x$w$defn, x$w$view, x$s, x$w$kc)",
    "run(r, 10)",
    sprintf("saveRDS(list(s = get_latent(r), t = chain_trace(r)), '%s')", file.path(dir, "out.rds"))))
  out <- readRDS(file.path(dir, "out.rds"))
  expect_identical(out$s, get_latent(whole))
  expect_identical(out$s$iteration, 20)
  expect_identical(same_rows(out$t), same_rows(chain_trace(whole)[11:20, ]))
})

# A start with every row alone fills slots 1..n and the ghost; a row that
# then opens a group takes slot n + 1 before compaction, so a saved state
# can hold group ids above n (up to n + 3). Such a state must resume, and
# resume the very chain (it once failed runner()'s check of the labels).
test_that("a state whose group ids exceed n resumes to the bit", {
  Y <- make_binary_data(n = 60, D = 10, n_prototypes = 3, missing = 0.02, seed = 4)
  w <- make_workflow(Y)
  singletons <- initialize_state(w$defn, w$view, assignment = seq_len(nrow(Y)))
  kc <- list(assign_kernel(), slice_cluster_hp_kernel())
  for (seed in 1:20) {
    r <- withr::with_seed(seed, runner(w$defn, w$view, singletons, kc))
    run(r, 1)
    s <- get_latent(r)
    if (max(s$assignments) > nrow(Y)) break
  }
  expect_gt(max(s$assignments), nrow(Y))
  expect_lte(max(s$assignments), nrow(Y) + 3L)
  resumed <- runner(w$defn, w$view, s, kc)
  run(resumed, 3)
  run(r, 3)
  expect_identical(get_latent(resumed), get_latent(r))
})

test_that("parallel runners resume from get_latents() to the bit", {
  skip_on_cran()
  w <- checkpoint_workflow()
  make <- function() {
    withr::with_seed(3, parallel_runner(lapply(1:3, function(i) {
      runner(w$defn, w$view, initialize_state(w$defn, w$view), w$kc)
    }), threads = 2))
  }
  whole <- make()
  run(whole, 20)
  half <- make()
  run(half, 10)
  dir <- withr::local_tempdir()
  saveRDS(list(w = w, s = get_latents(half)), file.path(dir, "in.rds"))
  run_in_fresh_r(c(
    sprintf("x <- readRDS('%s')", file.path(dir, "in.rds")),
    "pr <- parallel_runner(lapply(x$s, function(s) runner(x$w$defn, x$w$view, s, x$w$kc)), threads = 1)",
    "run(pr, 10)",
    sprintf("saveRDS(list(s = get_latents(pr), t = chain_trace(pr)), '%s')", file.path(dir, "out.rds"))))
  out <- readRDS(file.path(dir, "out.rds"))
  expect_identical(out$s, get_latents(whole))
  tr <- chain_trace(whole)
  expect_identical(same_rows(out$t), same_rows(tr[tr$iteration > 10, ]))
})

test_that("run_chains_cluster(latents = ) resumes the chains to the bit", {
  skip_on_cran()
  skip_if(system.file(package = "microscopes") == "", "microscopes is not installed for cluster nodes")
  w <- checkpoint_workflow()
  cl <- parallel::makePSOCKcluster(2)
  on.exit(parallel::stopCluster(cl), add = TRUE)
  parallel::clusterCall(cl, function(p) .libPaths(p), .libPaths())
  set.seed(8)
  whole <- run_chains_cluster(cl, w$defn, w$view, nchains = 3, niters = 20, kernel_config = w$kc)
  set.seed(8)
  half <- run_chains_cluster(cl, w$defn, w$view, nchains = 3, niters = 10, kernel_config = w$kc)
  rest <- run_chains_cluster(cl, w$defn, w$view, nchains = 3, niters = 10, kernel_config = w$kc,
                             latents = half)
  tr_whole <- attr(whole, "trace")
  tr_rest <- attr(rest, "trace")
  attr(whole, "trace") <- attr(rest, "trace") <- NULL
  expect_identical(rest, whole)
  key <- function(t) same_rows(t[order(t$chain, t$iteration), ])
  expect_identical(key(tr_rest), key(tr_whole[tr_whole$iteration > 10, ]))
  expect_error(run_chains_cluster(cl, w$defn, w$view, nchains = 2, niters = 1, kernel_config = w$kc,
                                  latents = list(half[[1]], half[[1]])),
               "`latents` 1 and 2 share one random stream position.*reseed\\(\\)")
})

test_that("runners sharing a stream position are refused, and reseed() gives fresh streams", {
  w <- checkpoint_workflow()
  r <- withr::with_seed(4, runner(w$defn, w$view, initialize_state(w$defn, w$view), w$kc))
  run(r, 2)
  s <- get_latent(r)
  twins <- lapply(1:2, function(i) runner(w$defn, w$view, s, w$kc))
  expect_error(parallel_runner(twins), "`runners` 1 and 2 share one random stream position.*reseed\\(\\)")
  set.seed(5)
  fresh <- lapply(1:2, function(i) runner(w$defn, w$view, reseed(s), w$kc))
  pr <- parallel_runner(fresh)
  run(pr, 2)
  l <- get_latents(pr)
  expect_false(identical(l[[1]]$rng, l[[2]]$rng))
  # reseed() draws from R's generator: set.seed() reproduces it.
  expect_identical(withr::with_seed(6, reseed(s))$rng, withr::with_seed(6, reseed(s))$rng)
  expect_equal(s$format_version, 5L)
  expect_error(reseed(1), "`state` must be a latent state")
})

test_that("a state saved by microscopes 0.1.0 still loads, with a fresh stream and a message", {
  w <- checkpoint_workflow()
  s <- withr::with_seed(7, initialize_state(w$defn, w$view))
  old <- unclass(s)
  old[c("format_version", "rng", "iteration", "sampler")] <- NULL
  old <- structure(old, class = "microscopes_state")
  expect_message(r <- runner(w$defn, w$view, old, w$kc), "saved by microscopes 0.1.0")
  run(r, 2)
  expect_equal(get_latent(r)$iteration, 2)
  # A fresh state has no stream either, but is of the current format: no message.
  expect_no_message(runner(w$defn, w$view, s, w$kc))
  newer <- s
  newer$format_version <- 99L
  expect_error(runner(w$defn, w$view, newer, w$kc), "state format version 99")
  bad <- get_latent(r)
  bad$rng <- raw(32)
  expect_error(runner(w$defn, w$view, bad, w$kc), "all zeros.*reseed")
  bad <- get_latent(r)
  bad$sampler$ghost <- bad$groups[1]
  expect_error(runner(w$defn, w$view, bad, w$kc), "its `sampler` must list")
})

test_that("chains at different iterations: traces are cut to the common length, with a message", {
  w <- checkpoint_workflow()
  rs <- withr::with_seed(9, lapply(1:2, function(i) {
    runner(w$defn, w$view, initialize_state(w$defn, w$view), w$kc)
  }))
  run(rs[[1]], 3)
  run(rs[[2]], 5)
  pr <- parallel_runner(rs)
  expect_message(tr <- chain_trace(pr), "different iterations \\(3/5 traced")
  expect_equal(as.vector(table(tr$chain)), c(3L, 3L))
  skip_if_not_installed("coda")
  expect_message(m <- as_mcmc_list(pr), "cut to the 3")
  expect_equal(coda::niter(m), 3L)
})
