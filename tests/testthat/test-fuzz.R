# Fuzzing (issue 10): random corruptions of views, states, kernel
# configurations and queries, with a fixed seed. Every call must either
# succeed with a valid state or raise an R error; a crash of R is caught
# because each batch runs in a child R process.

fuzz_script <- function(batch, cases) {
  c(sprintf(".libPaths(c(%s))", paste(deparse(.libPaths()), collapse = "")),
    "suppressMessages(library(microscopes))",
    "options(microscopes.check_state = TRUE, microscopes.progress = FALSE, warn = 1)",
    sprintf("set.seed(%d)", 1000L + batch),
    "Y <- matrix(runif(40 * 6) < 0.4, 40, 6); Y[sample(240, 8)] <- NA",
    "view <- dataview(Y); defn <- model_definition(40, rep(list(beta_bernoulli()), 6))",
    "kc <- default_kernel_config(defn)",
    "r0 <- runner(defn, view, initialize_state(defn, view), kc); run(r0, 2)",
    "state <- get_latent(r0)",
    "values <- list(NULL, NA, NA_integer_, NaN, Inf, -Inf, -1, 0, 1e-308, 1e308, 1e10,",
    "  .Machine$integer.max, -.Machine$integer.max, 2.5, 'a', TRUE, list(1), raw(3), integer(0))",
    "mutate <- function(x) {",
    "  switch(sample.int(6, 1),",
    "    values[[sample.int(length(values), 1)]],",
    "    if (length(x) > 1) x[-1] else x,",
    "    c(x, x),",
    "    { if (length(x) > 0 && is.atomic(x)) x[sample.int(length(x), 1)] <- values[[sample.int(12, 1) + 1]]; x },",
    "    if (is.atomic(x)) as.character(x) else x,",
    "    if (is.numeric(x)) -x else if (is.raw(x)) rev(x) else x)",
    "}",
    "corrupt <- function(obj) {",
    "  field <- sample(names(obj), 1)",
    "  sub <- obj[[field]]",
    "  if (is.list(sub) && length(sub) > 0 && runif(1) < 0.5) {",
    "    inner <- sample.int(length(sub), 1)",
    "    sub[inner] <- list(mutate(sub[[inner]]))",
    "    obj[field] <- list(sub)",
    "  } else obj[field] <- list(mutate(sub))",
    "  obj",
    "}",
    "valid <- function(r) { s <- get_latent(r); stopifnot(sum(s$group_sizes) == 40, length(s$assignments) == 40) }",
    "ok <- 0; failed <- 0",
    sprintf("for (case in seq_len(%d)) {", cases),
    "  what <- sample.int(5, 1)",
    "  res <- tryCatch(suppressWarnings(suppressMessages({",
    "    if (what == 1) { r <- runner(defn, corrupt(view), state, kc); run(r, 2); valid(r) }",
    "    if (what == 2) { r <- runner(defn, view, corrupt(state), kc); run(r, 2); valid(r) }",
    "    if (what == 3) { k <- kc; j <- sample.int(length(k), 1); k[[j]] <- corrupt(k[[j]]);",
    "                     r <- runner(defn, view, state, k); run(r, 2); valid(r) }",
    "    if (what == 4) { q <- Y[1:5, ]; q[sample(30, 10)] <- NA",
    "                     if (runif(1) < 0.5) q[sample(30, 1)] <- values[[sample.int(12, 1) + 1]]",
    "                     s2 <- corrupt(state)",
    "                     posterior_predictive_statistic(q, list(state, s2), samples_per_chain = 2, threads = 2)",
    "                     posterior_predictive_statistic(q, list(s2), exact = TRUE) }",
    "    if (what == 5) { s2 <- corrupt(state); zmatrix(list(state, s2), threads = 2)",
    "                     point_partition(list(s2, state)) }",
    "    TRUE",
    "  })), error = function(e) FALSE)",
    "  if (isTRUE(res)) ok <- ok + 1 else failed <- failed + 1",
    "}",
    "cat('FUZZ DONE', ok, failed, '\\n')")
}

test_that("random corruptions give results or R errors, never a crash", {
  skip_on_cran()
  rscript <- file.path(R.home("bin"), "Rscript")
  started <- Sys.time()
  for (batch in 1:8) {
    script <- withr::local_tempfile(fileext = ".R")
    writeLines(fuzz_script(batch, cases = 250), script)
    out <- suppressWarnings(system2(rscript, c("--vanilla", script), stdout = TRUE, stderr = TRUE))
    status <- attr(out, "status")
    expect_true(is.null(status) || status == 0,
                info = sprintf("batch %d: %s", batch, paste(utils::tail(out, 20), collapse = "\n")))
    done <- grep("^FUZZ DONE", out, value = TRUE)
    expect_length(done, 1)
    counts <- as.integer(strsplit(done, " ")[[1]][3:4])
    expect_equal(sum(counts), 250L)
    expect_gt(counts[1], 0)   # some corruptions are harmless
    expect_gt(counts[2], 0)   # and some are refused
  }
  expect_lt(as.numeric(difftime(Sys.time(), started, units = "secs")), 60)
})
