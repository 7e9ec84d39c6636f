# The seed workload of bench/paired_seed.R (default kernels on the 14,131
# MNIST 2s and 3s, chains from CRP starts, 5 iterations) timed by CPU time
# rather than wall time, for "no slower" claims on a shared machine: 3
# chains on one thread, user + system seconds of run(), turns alternating
# baseline / new in fresh R processes.
#   Rscript bench/paired_seed_cpu.R /path/to/baseline-lib /path/to/new-lib [pairs]
args <- commandArgs(TRUE)
libs <- c(baseline = args[1], new = args[2])
pairs <- if (length(args) >= 3) as.integer(args[3]) else 4L
mnist_dir <- normalizePath(Sys.getenv("MICROSCOPES_MNIST_DIR", "../shared/mnist"))
one <- tempfile(fileext = ".R")
writeLines(c(
  "args <- commandArgs(TRUE)",
  "suppressMessages(library(microscopes, lib.loc = args[1]))",
  "mnist <- read_mnist(args[2], digits = c(2, 3)); Y <- mnist$images > 0",
  "view <- dataview(Y); defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))",
  "kc <- default_kernel_config(defn)",
  "set.seed(1001)",
  "runners <- lapply(1:3, function(j) runner(defn, view, initialize_state(defn, view), kc))",
  "pr <- parallel_runner(runners, threads = 1)",
  "t <- system.time(run(pr, 5))",
  "cat(t[['user.self']] + t[['sys.self']], '\\n')"), one)
rscript <- file.path(R.home("bin"), "Rscript")
res <- list(baseline = numeric(0), new = numeric(0))
for (p in seq_len(pairs)) {
  for (which in if (p %% 2) names(libs) else rev(names(libs))) {
    out <- system2(rscript, c("--vanilla", one, libs[[which]], mnist_dir), stdout = TRUE)
    res[[which]] <- c(res[[which]], scan(text = utils::tail(out, 1), quiet = TRUE))
  }
}
med <- vapply(res, stats::median, numeric(1))
cat(sprintf("run() CPU, %d runs each: median baseline %.3f s, new %.3f s, ratio %.3f; median of paired ratios %.3f\n",
            length(res$new), med[["baseline"]], med[["new"]], med[["new"]] / med[["baseline"]],
            stats::median(res$new / res$baseline)))
