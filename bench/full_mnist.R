# Full MNIST as a benchmark workload (issue 15, item 4): all 70,000 digits
# (train + test, ten classes) binarised (pixel > 0), a DP mixture of 784
# beta-Bernoulli pixels, BENCH_CHAINS chains (default 5) on BENCH_THREADS
# threads (default microscopes_threads()), default_kernel_config() (Gibbs,
# split-merge, both hyperparameter kernels), BENCH_ITERS iterations
# (default 30) from one group each, each chain from its own seed.
#
#   MICROSCOPES_MNIST_DIR=../shared/mnist BENCH_ITERS=30 Rscript bench/full_mnist.R
#
# This is a benchmark, not a test: it runs for minutes. The chains are run
# one iteration at a time (run(pr, 1)), so each line reports, per
# iteration: wall seconds of the iteration over all chains, CPU seconds of
# the process (user + system, all threads) divided by the chains, i.e. the
# CPU cost of one chain-iteration, the chains' K (min / median / max), and
# their log joints (min / max). At the end: seconds per chain-iteration
# against K (a least-squares line through the per-iteration points), the
# process's peak resident memory (VmHWM of /proc/self/status, Linux only)
# and where the kernels' time went (kernel_seconds()).
# Results go to BENCH_OUT (default: a CSV in tempdir()), never into the
# repository: the chains' states hold nothing of single digits, but they
# stay outside the tree all the same.

suppressMessages(library(microscopes))

iters <- as.integer(Sys.getenv("BENCH_ITERS", "30"))
chains <- as.integer(Sys.getenv("BENCH_CHAINS", "5"))
threads <- Sys.getenv("BENCH_THREADS", "")
threads <- if (nzchar(threads)) as.integer(threads) else microscopes_threads()
out_csv <- Sys.getenv("BENCH_OUT", file.path(tempdir(), "full_mnist.csv"))

mnist_dir <- Sys.getenv("MICROSCOPES_MNIST_DIR", file.path("..", "shared", "mnist"))
if (!dir.exists(mnist_dir)) {
  stop(sprintf("MNIST not found in '%s': set MICROSCOPES_MNIST_DIR.", mnist_dir), call. = FALSE)
}

peak_memory_mb <- function() {
  status <- tryCatch(readLines("/proc/self/status"), error = function(e) character())
  line <- grep("^VmHWM:", status, value = TRUE)
  if (!length(line)) return(NA_real_)
  as.numeric(gsub("[^0-9]", "", line)) / 1024
}
load_avg <- function() tryCatch(readLines("/proc/loadavg"), error = function(e) "?")

t_read <- system.time({
  mnist <- read_mnist(normalizePath(mnist_dir))
  Y <- binarize(mnist$images)
  rm(mnist)
})
n <- nrow(Y)
view <- dataview(Y)
rm(Y)
defn <- model_definition(n, rep(list(beta_bernoulli()), 784))
kc <- default_kernel_config(defn)
runners <- lapply(seq_len(chains), function(j) {
  set.seed(1000 + j)
  runner(defn, view, initialize_state(defn, view, assignment = rep(1L, n)), kc)
})
pr <- parallel_runner(runners, threads = threads)
cat(sprintf("full MNIST: %d digits x 784 pixels, %d chains on %d threads, %d iterations; read + pack %.1f s\n",
            n, chains, threads, iters, t_read[["elapsed"]]))
cat(sprintf("load average before: %s\n", load_avg()))

rows <- vector("list", iters)
for (it in seq_len(iters)) {
  t0 <- proc.time()
  run(pr, 1)
  t1 <- proc.time()
  traces <- lapply(runners, function(r) utils::tail(microscopes:::chain_trace(r), 1))
  K <- vapply(traces, function(x) x$n_groups, integer(1))
  lj <- vapply(traces, function(x) x$log_joint, double(1))
  cpu <- sum((t1 - t0)[c("user.self", "sys.self")])
  rows[[it]] <- data.frame(iteration = it, wall = (t1 - t0)[["elapsed"]],
                           cpu_per_chain = cpu / chains, K_min = min(K), K_median = stats::median(K),
                           K_max = max(K), log_joint_min = min(lj), log_joint_max = max(lj))
  cat(sprintf("iter %3d  wall %6.2f s  CPU/chain-iteration %6.2f s  K %d/%g/%d  log joint %.0f .. %.0f\n",
              it, rows[[it]]$wall, rows[[it]]$cpu_per_chain, min(K), stats::median(K), max(K),
              min(lj), max(lj)))
}
d <- do.call(rbind, rows)
utils::write.csv(d, out_csv, row.names = FALSE)
cat(sprintf("load average after: %s\n", load_avg()))

fit <- stats::lm(cpu_per_chain ~ K_median, data = d)
cat(sprintf("\nCPU s per chain-iteration ~ %.3f + %.5f K (least squares over %d iterations)\n",
            stats::coef(fit)[[1]], stats::coef(fit)[[2]], nrow(d)))
late <- d[d$iteration > iters / 2, ]
cat(sprintf("second half: median CPU s per chain-iteration %.3f at median K %g (%.0f ns per row-group pair)\n",
            stats::median(late$cpu_per_chain), stats::median(late$K_median),
            1e9 * stats::median(late$cpu_per_chain) / (n * stats::median(late$K_median))))
cat(sprintf("peak resident memory: %.0f MB\n", peak_memory_mb()))
ks <- Reduce(`+`, lapply(runners, microscopes:::kernel_seconds))
ks <- ks[ks > 0]
cat("kernel wall seconds, all chains:", paste(sprintf("%s %.1f (%.0f%%)", names(ks), ks, 100 * ks / sum(ks)),
                                                collapse = ", "), "\n")
cat(sprintf("per-iteration table: %s\n", out_csv))
