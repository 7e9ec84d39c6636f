# Reproducers of issue 10 ("Reliability"): no way out of C while worker
# threads run, failure paths that leave a valid state, validation of what C
# indexes with. Each test is one reproducer of the issue.

thread_count <- function() length(list.files("/proc/self/task"))

big_parallel_runner <- function(n = 20000, D = 100, chains = 4, threads = 2, seed = 1) {
  Y <- withr::with_seed(seed, matrix(runif(n * D) < 0.5, n, D))
  w <- make_workflow(Y)
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
  n <- nrow(chain_trace(pr))
  Sys.sleep(0.5)
  expect_equal(nrow(chain_trace(pr)), n)
  withr::local_options(cli.progress_format_iterator = NULL, microscopes.progress = FALSE)
  run(pr, 1)
  expect_equal(nrow(chain_trace(pr)) >= n + 1L, TRUE)
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
  tr <- chain_trace(pr)
  latents <- get_latents(pr)
  for (j in seq_along(latents)) {
    t_j <- tr[tr$chain == j, ]
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
  n <- nrow(chain_trace(pr))
  run(pr, 1)
  expect_gt(nrow(chain_trace(pr)), n)
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
    "n1 <- nrow(chain_trace(pr)); Sys.sleep(1); n2 <- nrow(chain_trace(pr))",
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
  out <- suppressWarnings(system2("sh", c("-c", shQuote(sprintf(
    "ulimit -v 560000; %s --vanilla %s 2>&1", rscript, script))), stdout = TRUE))
  status <- attr(out, "status")
  expect_true(is.null(status) || status == 0, info = paste(out, collapse = "\n"))
  first <- grep("^FIRST:", out, value = TRUE)
  expect_length(first, 1)
  expect_match(first, "out of memory")
  expect_length(grep("^SECOND:", out, value = TRUE), 1)
  expect_true(any(out == "ROWS: 1500 "))
})
