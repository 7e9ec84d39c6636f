# Reproducers of issue 10 ("Reliability"): no way out of C while worker
# threads run, failure paths that leave a valid state, validation of what C
# indexes with. Each test is one reproducer of the issue.

thread_count <- function() length(list.files("/proc/self/task"))

# Iterations traced over all chains (chain_trace() would cut them to the
# common length).
trace_rows <- function(pr) sum(vapply(pr$runners, function(r) nrow(chain_trace(r)), integer(1)))

big_parallel_runner <- function(n = 20000, D = 100, chains = 4, threads = 2, seed = 1) {
  Y <- withr::with_seed(seed, matrix(runif(n * D) < 0.5, n, D))
  w <- make_workflow(Y)
  # The poll and the pool are under test, not a kernel: Gibbs-only
  # iterations keep these runs short (a split-merge iteration on 20,000
  # random rows takes seconds, so an interrupt would wait for it).
  w$kc <- Filter(function(kernel) kernel$name != "split_merge", w$kc)
  withr::with_seed(seed, {
    rs <- lapply(seq_len(chains), function(i) {
      runner(w$defn, w$view, initialize_state(w$defn, w$view), w$kc)
    })
  })
  parallel_runner(rs, threads = threads)
}

test_that("an error in the progress bar's R code leaves no thread running", {
  skip_on_cran()
  skip_if_not(file.exists("/proc/self/task"), "needs /proc (Linux)")
  pr <- big_parallel_runner()
  before <- thread_count()
  withr::local_options(microscopes.progress = TRUE, cli.progress_show_after = 0,
                       cli.progress_format_iterator = "{stop('boom')}")
  # cli may print the failed format or raise it; either way run() returns
  # (or fails) only once its workers are joined.
  utils::capture.output(try(run(pr, 200), silent = TRUE), type = "message")
  expect_equal(thread_count(), before)
  n <- trace_rows(pr)
  Sys.sleep(0.5)
  expect_equal(trace_rows(pr), n)
  withr::local_options(cli.progress_format_iterator = NULL, microscopes.progress = FALSE)
  run(pr, 1)
  expect_equal(trace_rows(pr) >= n + 1L, TRUE)
})

test_that("a time limit inside run() is an error the caller can catch", {
  skip_on_cran()
  pr <- big_parallel_runner(n = 5000, D = 100, chains = 3)
  withr::local_options(microscopes.progress = FALSE)
  before <- if (file.exists("/proc/self/task")) thread_count()
  caught <- tryCatch({
    setTimeLimit(elapsed = 1, transient = TRUE)
    run(pr, 1e5)
    "finished"
  }, error = function(e) conditionMessage(e))
  setTimeLimit()
  expect_match(caught, "elapsed time limit")
  if (!is.null(before)) expect_equal(thread_count(), before)
  # The chains are kept at their last complete iteration.
  latents <- get_latents(pr)
  for (j in seq_along(latents)) {
    t_j <- chain_trace(pr$runners[[j]])
    s <- latents[[j]]
    if (nrow(t_j) > 0) {
      expect_equal(t_j$log_joint[nrow(t_j)], score_assignment(s) + score_data(s),
                   tolerance = 1e-8)
    }
  }
})

test_that("Ctrl-C with the progress bar on stops run() as an interrupt", {
  skip_on_os("windows")
  skip_on_cran()
  pr <- big_parallel_runner(n = 3000, D = 200, chains = 3)
  withr::local_options(microscopes.progress = TRUE, cli.progress_show_after = 0)
  system(sprintf("sh -c 'sleep 1; kill -INT %d' >/dev/null 2>&1 &", Sys.getpid()))
  outcome <- tryCatch({
    suppressMessages(run(pr, 100000))
    "finished"
  }, interrupt = function(e) "interrupted")
  expect_equal(outcome, "interrupted")
  for (s in get_latents(pr)) expect_equal(sum(s$group_sizes), 3000L)
  withr::local_options(microscopes.progress = FALSE)
  n <- trace_rows(pr)
  run(pr, 1)
  expect_gt(trace_rows(pr), n)
})

test_that("Ctrl-C in a query is an interrupt, which try() does not swallow", {
  skip_on_os("windows")
  skip_on_cran()
  Y <- make_binary_data(n = 400, D = 60, seed = 3)
  w <- make_workflow(Y)
  states <- withr::with_seed(1, lapply(1:40, function(i) initialize_state(w$defn, w$view)))
  queries <- Y[rep(1:400, 10), ]
  queries[, 31:60] <- NA
  system(sprintf("sh -c 'sleep 1; kill -INT %d' >/dev/null 2>&1 &", Sys.getpid()))
  outcome <- tryCatch({
    for (i in 1:1000) {
      try(posterior_predictive_statistic(queries, states, samples_per_chain = 50,
                                         threads = 2), silent = TRUE)
    }
    "finished"
  }, interrupt = function(e) "interrupted")
  expect_equal(outcome, "interrupted")
})

test_that("a real Ctrl-C in an interactive session stops every worker", {
  skip_on_cran()
  skip_on_os(c("windows", "mac", "solaris"))
  skip_if(Sys.which("tmux") == "", "needs tmux")
  # The R in tmux could not load a ThreadSanitizer build without its runtime.
  skip_if(Sys.getenv("MICROSCOPES_SANITIZER") == "tsan", "child R cannot load a TSan build")
  dir <- withr::local_tempdir()
  out <- file.path(dir, "out.txt")
  script <- file.path(dir, "session.R")
  writeLines(c(
    sprintf(".libPaths(c(%s))", paste(deparse(.libPaths()), collapse = "")),
    "suppressMessages(library(microscopes))",
    "set.seed(1); Y <- matrix(runif(5000 * 200) < 0.3, 5000, 200)",
    "v <- dataview(Y); d <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))",
    "rs <- lapply(1:3, function(i) runner(d, v, initialize_state(d, v), default_kernel_config(d)))",
    "pr <- parallel_runner(rs, threads = 2)",
    "before <- length(list.files('/proc/self/task'))",
    sprintf("writeLines('ready', '%s.ready')", out)), script)
  session <- paste0("microscopes-test-", Sys.getpid())
  r_bin <- file.path(R.home("bin"), "R")
  system2("tmux", c("new-session", "-d", "-s", session, "-x", "120", "-y", "30",
                    shQuote(sprintf("%s --vanilla --quiet --interactive", r_bin))))
  on.exit(system2("tmux", c("kill-session", "-t", session), stderr = FALSE), add = TRUE)
  send <- function(...) system2("tmux", c("send-keys", "-t", session, ...))
  Sys.sleep(1)
  send(shQuote(sprintf("source('%s')", script)), "Enter")
  for (i in 1:120) if (!file.exists(paste0(out, ".ready"))) Sys.sleep(0.5)
  expect_true(file.exists(paste0(out, ".ready")))
  send(shQuote("run(pr, 100000)"), "Enter")
  Sys.sleep(2)
  send("C-c")
  Sys.sleep(2)
  after <- file.path(dir, "after.R")
  writeLines(c(
    "rows <- function() sum(sapply(pr$runners, function(r) nrow(chain_trace(r))))",
    "n1 <- rows(); Sys.sleep(1); n2 <- rows()",
    "sizes <- sum(sapply(get_latents(pr), function(s) sum(s$group_sizes)))",
    sprintf("writeLines(as.character(c(before, length(list.files('/proc/self/task')), n1, n2, sizes)), '%s')",
            out)), after)
  send(shQuote(sprintf("source('%s')", after)), "Enter")
  for (i in 1:60) if (!file.exists(out)) Sys.sleep(0.5)
  send(shQuote("q('no')"), "Enter")
  expect_true(file.exists(out))
  res <- as.numeric(readLines(out))
  expect_equal(res[2], res[1])       # threads back to what they were
  expect_equal(res[4], res[3])       # no chain moves any more
  expect_gt(res[3], 0)
  expect_equal(res[5], 3 * 5000)
})

test_that("a failed allocation at any point of a run leaves a valid state", {
  fail_alloc <- function(k) .Call(microscopes:::C_test_fail_alloc, k)
  on.exit(fail_alloc(0), add = TRUE)
  withr::local_options(microscopes.check_state = TRUE, microscopes.progress = FALSE)
  Y <- make_binary_data(n = 120, D = 20, n_prototypes = 6, missing = 0.02, seed = 4)
  w <- make_workflow(Y)
  # All rows in one group and a large alpha: the sweep opens many groups, so
  # the slot arrays grow (8, 16, 32, ... slots) and so does the trace.
  s0 <- initialize_state(w$defn, w$view, cluster_hp = list(alpha = 50),
                         assignment = rep(1L, 120))
  failures <- 0
  for (k in 1:400) {
    r <- withr::with_seed(k, runner(w$defn, w$view, s0, w$kc))
    fail_alloc(k)
    outcome <- tryCatch({ run(r, 2); "ok" }, error = function(e) conditionMessage(e))
    left <- fail_alloc(0)
    if (left > 0) break    # the k-th allocation was never reached: all tried
    failures <- failures + 1
    expect_match(outcome, "out of memory")
    s <- get_latent(r)     # audited against a recount (microscopes.check_state)
    expect_equal(sum(s$group_sizes), 120L)
    run(r, 1)              # and the chain goes on
    expect_equal(sum(get_latent(r)$group_sizes), 120L)
  }
  expect_gt(failures, 10)
  expect_lt(k, 400)
})

test_that("out of memory inside run() under ulimit -v, then run() again, does not crash", {
  skip_on_cran()
  # ASan and TSan reserve terabytes of address space for their shadow memory.
  skip_if(Sys.getenv("MICROSCOPES_SANITIZER") %in% c("asan", "tsan"), "no ulimit -v under a sanitizer")
  skip_on_os(c("windows", "mac", "solaris"))
  dir <- withr::local_tempdir()
  script <- file.path(dir, "oom.R")
  writeLines(c(
    sprintf(".libPaths(c(%s))", paste(deparse(.libPaths()), collapse = "")),
    "suppressMessages(library(microscopes))",
    "set.seed(1); n <- 1500; D <- 2500",
    "Y <- matrix(runif(n * D) < 0.5, n, D)",
    "v <- dataview(Y); d <- model_definition(n, rep(list(beta_bernoulli()), D)); rm(Y); invisible(gc())",
    "s <- initialize_state(d, v, cluster_hp = list(alpha = 1e10), assignment = rep(1L, n))",
    "r <- runner(d, v, s, list(assign_kernel()))",
    "first <- tryCatch({ run(r, 1); 'ok' }, error = function(e) conditionMessage(e))",
    "cat('FIRST:', first, '\\n')",
    "second <- tryCatch({ run(r, 1); 'ok' }, error = function(e) conditionMessage(e))",
    "cat('SECOND:', second, '\\n')",
    "cat('ROWS:', sum(get_latent(r)$group_sizes), '\\n')"), script)
  rscript <- file.path(R.home("bin"), "Rscript")
  # The run peaks at about 559 MB of address space without a limit: the
  # limit sits 20 MB below, not at the edge, where a few kilobytes more or
  # less of R code in the namespace decided whether run() ran out of memory.
  out <- suppressWarnings(system2("sh", c("-c", shQuote(sprintf(
    "ulimit -v 540000; %s --vanilla %s 2>&1", rscript, script))), stdout = TRUE))
  status <- attr(out, "status")
  expect_true(is.null(status) || status == 0, info = paste(out, collapse = "\n"))
  first <- grep("^FIRST:", out, value = TRUE)
  expect_length(first, 1)
  expect_match(first, "out of memory")
  expect_length(grep("^SECOND:", out, value = TRUE), 1)
  expect_true(any(out == "ROWS: 1500 "))
})

test_that("a tampered dataview is refused before C indexes with it", {
  Y <- make_binary_data(n = 40, D = 8, missing = 0.05, seed = 2)
  w <- make_workflow(Y)
  s <- withr::with_seed(1, initialize_state(w$defn, w$view))
  refused <- function(v) {
    expect_error(runner(w$defn, v, s, w$kc), "`view` is not a valid dataview")
  }
  v <- w$view; v$on_feature[1:10] <- 10000L; refused(v)
  v <- w$view; v$on_feature[1] <- -1L; refused(v)
  v <- w$view; v$on_start[5] <- v$on_start[5] + 3L; refused(v)
  v <- w$view; v$on_start[41] <- 2L; refused(v)
  v <- w$view; v$missing_feature[1] <- 100L; refused(v)
  v <- w$view; v$codes[3] <- as.raw(7); refused(v)
  v <- w$view; v$codes[which(v$codes == as.raw(0))[1]] <- as.raw(1); refused(v)
  v <- w$view; v$n <- NULL
  expect_error(runner(w$defn, v, s, w$kc), "`view` is not a valid dataview: its `n` is NULL")
  v <- w$view; v$n <- NA_integer_
  expect_error(initialize_state(w$defn, v), "`view` is not a valid dataview")
})

test_that("overflowing weights are normalised without overflow", {
  Y <- make_binary_data(n = 30, D = 6, seed = 5)
  w <- make_workflow(Y)
  states <- withr::with_seed(2, lapply(1:3, function(i) initialize_state(w$defn, w$view)))
  q <- Y[1:4, ]
  q[, 4:6] <- NA
  huge <- posterior_predictive_statistic(q, states, exact = TRUE, weights = rep(1e308, 3))
  plain <- posterior_predictive_statistic(q, states, exact = TRUE)
  expect_equal(huge, plain)
  expect_true(all(huge[, 4:6] > 0))
  z <- zmatrix(states, weights = rep(1e308, 3))
  expect_equal(diag(z), rep(1, 30))
  expect_equal(z, zmatrix(states))
  expect_error(.Call(microscopes:::C_query_zmatrix, lapply(states, function(s) s$assignments - 1L),
                     rep(1e308, 3), 1L), "`weights` must have a finite sum")
})

test_that("hyperparameters whose sums overflow, and alpha = 1e300, are refused", {
  Y <- make_binary_data(n = 20, D = 4, seed = 6)
  w <- make_workflow(Y)
  expect_error(initialize_state(w$defn, w$view, feature_hps = matrix(1e308, 4, 2)),
               "`feature_hps` must be at most 1e\\+15")
  expect_error(initialize_state(w$defn, w$view, cluster_hp = list(alpha = 1e300)),
               "`cluster_hp\\$alpha` must be at most 1e\\+15")
  s <- withr::with_seed(1, initialize_state(w$defn, w$view))
  bad <- s; bad$feature_hps[] <- 1e308
  expect_error(runner(w$defn, w$view, bad, w$kc), "feature hyperparameters must be")
  expect_error(posterior_predictive_statistic(Y[1:2, ], bad, exact = TRUE),
               "feature hyperparameters that are not > 0 and <= 1e15")
  bad <- s; bad$cluster_hp$alpha <- 1e300
  expect_error(runner(w$defn, w$view, bad, w$kc), "alpha must be a number > 0 and <= 1e\\+15")
  expect_error(posterior_predictive_statistic(Y[1:2, ], bad, exact = TRUE),
               "`alpha` that is not > 0 and <= 1e15")
})

test_that("a huge posterior_predictive() is refused at once, with its size", {
  Y <- make_binary_data(n = 20, D = 4, seed = 6)
  w <- make_workflow(Y)
  s <- withr::with_seed(1, initialize_state(w$defn, w$view))
  q <- Y[1:10, ]
  q[, 3:4] <- NA
  took <- system.time(
    expect_error(posterior_predictive(q, s, samples_per_chain = 1e8),
                 "asks for 100000000 draws, whose array would take 16.8 GB")
  )[["elapsed"]]
  expect_lt(took, 2)
  withr::local_options(microscopes.max_query_bytes = 1000)
  expect_error(posterior_predictive(q, s, samples_per_chain = 10), "more than the limit")
})

test_that("small validation holes give errors naming the argument", {
  Y <- make_binary_data(n = 20, D = 4, seed = 7)
  w <- make_workflow(Y)
  expect_error(initialize_state(w$defn, w$view, assignment = c(Inf, rep(1, 19))),
               "`assignment` must be a vector of 20 whole-number group labels")
  s <- withr::with_seed(1, initialize_state(w$defn, w$view))
  # Hand-edited states: an integer alpha and double assignments are read as
  # numbers; a missing `n` is named.
  s1 <- s; s1$cluster_hp$alpha <- 1L
  expect_s3_class(runner(w$defn, w$view, s1, w$kc), "microscopes_runner")
  s2 <- s; s2$assignments <- as.double(s2$assignments)
  r2 <- runner(w$defn, w$view, s2, w$kc)
  run(r2, 1)
  expect_type(get_latent(r2)$assignments, "integer")
  s3 <- s; s3$n <- NULL
  expect_error(runner(w$defn, w$view, s3, w$kc), "`latent` is not a valid state: its `n`")
  expect_error(n_groups(s3), "`s` is not a valid state: its `n`")
  expect_error(zmatrix(s3), "`infers` state 1 is malformed: `n`")
  s4 <- s; s4$cluster_hp$alpha <- NA
  expect_error(groups(s4), "`s` is not a valid state: its CRP concentration")
  expect_error(slice_feature_hp_kernel(features = 1e10),
               "`features` must be NULL \\(all features\\) or distinct whole numbers")
  expect_error(slice_feature_hp_kernel(features = Inf), "`features` must be")
})

test_that("Ctrl-C stops log_lik() and the point-partition search as an interrupt", {
  skip_on_os("windows")
  skip_on_cran()
  # Long calls on made-up draws (singletons: K x D work per draw); each
  # would take tens of seconds, and must stop within a few.
  n <- 1000L
  D <- 1000L
  Y <- make_binary_data(n = n, D = D, seed = 2)
  view <- dataview(Y)
  S <- 1000L
  labels <- .Call(microscopes:::C_draws_pack, matrix(rep(seq_len(n), each = S), S, n), 2L)
  hps <- matrix(1, S, 2 * D)
  interrupt_after <- function(expr) {
    system(sprintf("sh -c 'sleep 1; kill -INT %d' >/dev/null 2>&1 &", Sys.getpid()))
    started <- Sys.time()
    outcome <- tryCatch({
      force(expr)
      "finished"
    }, interrupt = function(e) "interrupted")
    list(outcome = outcome, seconds = as.numeric(difftime(Sys.time(), started, units = "secs")))
  }
  got <- interrupt_after(.Call(microscopes:::C_draws_log_lik, view, labels, 2L, hps, 2L))
  expect_equal(got$outcome, "interrupted")
  expect_lt(got$seconds, 8)
  # the search: near-singleton draws, many runs
  set.seed(1)
  z <- t(vapply(1:40, function(s) {
    v <- seq_len(n)
    pick <- sample(n, 200)
    v[pick[1:100]] <- v[pick[101:200]]
    match(v, unique(v))
  }, integer(n)))
  packed <- .Call(microscopes:::C_draws_pack, z, 2L)
  got <- interrupt_after(.Call(microscopes:::C_partition_search, packed, n, 2L, rep(1 / 40, 40),
                               1L, 1000L, 4L, 1000L, 1, 2L))
  expect_equal(got$outcome, "interrupted")
  expect_lt(got$seconds, 8)
})
