make_chains <- function(w, nchains, seed) {
  withr::with_seed(seed, {
    latents <- lapply(seq_len(nchains), function(i) initialize_state(w$defn, w$view))
    lapply(latents, function(s) runner(w$defn, w$view, s, w$kc))
  })
}

test_that("chains are bit-identical with 1 or 2 threads", {
  Y <- make_binary_data(n = 120, D = 10, missing = 0.02)
  w <- make_workflow(Y)
  r1 <- parallel_runner(make_chains(w, 3, seed = 42), threads = 1)
  r2 <- parallel_runner(make_chains(w, 3, seed = 42), threads = 2)
  run(r1, 8)
  run(r2, 8)
  l1 <- get_latents(r1)
  l2 <- get_latents(r2)
  expect_length(l1, 3)
  expect_identical(lapply(l1, state_fingerprint), lapply(l2, state_fingerprint))
  expect_identical(l1, l2)
  # The chains differ from one another.
  expect_false(identical(assignments(l1[[1]]), assignments(l1[[2]])))
})

test_that("split runs equal one run, with more chains than threads", {
  Y <- make_binary_data(n = 80, D = 8)
  w <- make_workflow(Y)
  r1 <- parallel_runner(make_chains(w, 5, seed = 7), threads = 2)
  r2 <- parallel_runner(make_chains(w, 5, seed = 7), threads = 2)
  run(r1, 10)
  run(r2, 5)
  run(r2, 5)
  expect_identical(get_latents(r1), get_latents(r2))
  tr <- chain_trace(r1)
  expect_equal(nrow(tr), 50L)
  expect_equal(sort(unique(tr$chain)), 1:5)
})

test_that("a parallel runner and separate runners give the same chains", {
  Y <- make_binary_data(n = 60, D = 6)
  w <- make_workflow(Y)
  chains <- make_chains(w, 2, seed = 99)
  run(parallel_runner(chains, threads = 2), 4)
  singles <- make_chains(w, 2, seed = 99)
  for (r in singles) run(r, 4)
  expect_identical(lapply(chains, get_latent), lapply(singles, get_latent))
})

test_that("parallel_runner rejects what it cannot run", {
  Y <- make_binary_data(n = 30, D = 5)
  w <- make_workflow(Y)
  chains <- make_chains(w, 2, seed = 1)
  expect_snapshot(error = TRUE, {
    parallel_runner(list())
    parallel_runner(list(1, 2))
    parallel_runner(chains, threads = 0)
  })
  Y2 <- make_binary_data(n = 30, D = 6)
  w2 <- make_workflow(Y2)
  other <- make_chains(w2, 1, seed = 1)
  expect_snapshot(error = TRUE, parallel_runner(c(chains, other)))
  same_twice <- parallel_runner(list(chains[[1]], chains[[1]]))
  expect_snapshot(error = TRUE, run(same_twice, 1))
  # A state made for another definition is rejected by runner().
  s_other <- withr::with_seed(1, initialize_state(w2$defn, w2$view))
  expect_snapshot(error = TRUE, runner(w$defn, w$view, s_other, w$kc))
})

test_that("microscopes_threads reports and sets the thread count", {
  withr::local_options(microscopes.threads = NULL)
  withr::local_envvar(MICROSCOPES_THREADS = "3", "_R_CHECK_LIMIT_CORES_" = "")
  expect_equal(microscopes_threads(), 3L)
  old <- microscopes_threads(1)
  expect_equal(old, 3L)
  expect_equal(microscopes_threads(), 1L)
  withr::local_options(microscopes.threads = 8L)
  withr::local_envvar("_R_CHECK_LIMIT_CORES_" = "TRUE")
  expect_equal(microscopes_threads(), 2L)
  expect_error(microscopes_threads(0), "`threads` must be a single whole number >= 1")
})

test_that("Ctrl-C stops run() between iterations and leaves valid states", {
  skip_on_os("windows")
  skip_on_cran()
  Y <- make_binary_data(n = 3000, D = 200, n_prototypes = 8, noise = 0.2, seed = 5)
  w <- make_workflow(Y)
  pr <- parallel_runner(make_chains(w, 3, seed = 2), threads = 2)
  # A real SIGINT, sent by a child process while the main thread waits in C.
  system(sprintf("sh -c 'sleep 1; kill -INT %d' >/dev/null 2>&1 &", Sys.getpid()))
  started <- Sys.time()
  outcome <- tryCatch({
    suppressMessages(run(pr, 100000))
    "finished"
  }, interrupt = function(e) "interrupted")
  elapsed <- as.numeric(difftime(Sys.time(), started, units = "secs"))
  expect_equal(outcome, "interrupted")
  expect_lt(elapsed, 30)
  latents <- get_latents(pr)
  tr <- suppressMessages(chain_trace(pr))
  for (j in seq_along(latents)) {
    s <- latents[[j]]
    expect_equal(sum(s$group_sizes), 3000L)
    t_j <- chain_trace(pr$runners[[j]])
    if (nrow(t_j) > 0) {
      expect_equal(t_j$log_joint[nrow(t_j)], score_assignment(s) + score_data(s), tolerance = 1e-8)
    }
  }
  run(pr, 1)
  expect_equal(nrow(suppressMessages(chain_trace(pr))), nrow(tr) + 3L)
})

test_that("chains run on a PSOCK cluster return valid states", {
  skip_on_cran()
  skip_if(Sys.getenv("MICROSCOPES_SANITIZER") == "tsan", "cluster nodes cannot load a TSan build")
  skip_if(system.file(package = "microscopes") == "" ||
            !isNamespaceLoaded("microscopes") ||
            is.null(packageDescription("microscopes")$Packaged) &&
            is.null(packageDescription("microscopes")$Built),
          "microscopes is not installed for cluster nodes")
  Y <- make_binary_data(n = 60, D = 8)
  w <- make_workflow(Y)
  cl <- parallel::makePSOCKcluster(2)
  on.exit(parallel::stopCluster(cl), add = TRUE)
  parallel::clusterCall(cl, function(p) .libPaths(p), .libPaths())
  set.seed(5)
  states <- run_chains_cluster(cl, w$defn, w$view, nchains = 3, niters = 4, kernel_config = w$kc)
  expect_length(states, 3)
  for (s in states) {
    expect_s3_class(s, "microscopes_state")
    expect_equal(sum(s$group_sizes), 60L)
    r <- runner(w$defn, w$view, s, w$kc)   # valid: counts match the data
    expect_s3_class(r, "microscopes_runner")
  }
  expect_equal(nrow(attr(states, "trace")), 12L)
  # Reproducible from the seed, whatever the number of nodes.
  set.seed(5)
  again <- run_chains_cluster(cl[1], w$defn, w$view, nchains = 3, niters = 4, kernel_config = w$kc)
  attr(again, "trace") <- attr(states, "trace") <- NULL
  expect_identical(again, states)
})

test_that("run() shows a progress bar when asked, and nothing by default in scripts", {
  Y <- make_binary_data(n = 100, D = 8)
  w <- make_workflow(Y)
  pr <- parallel_runner(make_chains(w, 2, seed = 3), threads = 2)
  withr::local_options(cli.progress_show_after = 0, microscopes.progress = TRUE)
  shown <- capture.output(run(pr, 3), type = "message")
  expect_true(any(grepl("Sampling", shown)))
  withr::local_options(microscopes.progress = NULL)
  rlang_interactive <- interactive()
  skip_if(rlang_interactive, "the default shows progress in interactive sessions")
  expect_silent(run(pr, 3))
})
