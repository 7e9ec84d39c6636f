# Paired benchmark of the seed workload (5 chains x 5 iterations of the
# default kernels on the 14,131 MNIST 2s and 3s, 2 threads) against another
# build of the package, for "no slower" claims: run in turns, baseline and
# new, each in a fresh R process, and compare medians of run() wall time.
#   Rscript bench/paired_seed.R /path/to/baseline-lib /path/to/new-lib [pairs]
args <- commandArgs(TRUE)
libs <- c(baseline = args[1], new = args[2])
pairs <- if (length(args) >= 3) as.integer(args[3]) else 7L
mnist_dir <- normalizePath(Sys.getenv("MICROSCOPES_MNIST_DIR", "../shared/mnist"))
one <- tempfile(fileext = ".R")
writeLines(c(
  "args <- commandArgs(TRUE)",
  "suppressMessages(library(microscopes, lib.loc = args[1]))",
  "mnist <- read_mnist(args[2], digits = c(2, 3)); Y <- mnist$images > 0",
  "view <- dataview(Y); defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))",
  "kc <- default_kernel_config(defn)",
  "times <- sapply(1:3, function(i) {",
  "  set.seed(1000 + i)",
  "  runners <- lapply(1:5, function(j) runner(defn, view, initialize_state(defn, view), kc))",
  "  pr <- parallel_runner(runners, threads = 2)",
  "  system.time(run(pr, 5))[['elapsed']]",
  "})",
  "cat(times, '\\n')"), one)
rscript <- file.path(R.home("bin"), "Rscript")
res <- list(baseline = numeric(0), new = numeric(0))
for (p in seq_len(pairs)) {
  for (which in if (p %% 2) names(libs) else rev(names(libs))) {
    out <- system2(rscript, c("--vanilla", one, libs[[which]], mnist_dir), stdout = TRUE)
    res[[which]] <- c(res[[which]], scan(text = utils::tail(out, 1), quiet = TRUE))
  }
}
med <- vapply(res, stats::median, numeric(1))
cat(sprintf("run() wall, %d runs each: median baseline %.3f s, new %.3f s, ratio new/baseline %.3f\n",
            length(res$new), med[["baseline"]], med[["new"]], med[["new"]] / med[["baseline"]]))
ratios <- res$new / res$baseline
cat(sprintf("median of paired ratios %.3f (min %.3f, max %.3f)\n", stats::median(ratios),
            min(ratios), max(ratios)))
