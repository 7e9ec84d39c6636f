# The seed workload: binarised MNIST 2s and 3s (14,131 x 784), 5 chains
# from random CRP starts, default_kernel_config() (assign, slice_cluster_hp,
# slice_feature_hp over all 784 features), 5 iterations, parallel_runner()
# on 2 threads.
#
# Run from the repository root with the package installed:
#   Rscript bench/seed_workload.R
# MNIST: the directory in MICROSCOPES_MNIST_DIR, else ../shared/mnist
# relative to the repository root. Set BENCH_REPS (default 5) for the
# number of repetitions; every figure is a median over them, and ratios
# come from runs interleaved in the same session (other processes may share
# the machine).
#
# Reports: run() wall seconds with 2 threads and per chain-iteration, the
# split by kernel (kernel_seconds(), summed over chains), 1 vs 2 threads,
# peak RSS, and the time of one assign sweep against n (2k, 4k, 8k, 14k)
# and K.

suppressMessages(library(microscopes))

reps <- as.integer(Sys.getenv("BENCH_REPS", "5"))
mnist_dir <- Sys.getenv("MICROSCOPES_MNIST_DIR", file.path("..", "shared", "mnist"))
if (!dir.exists(mnist_dir)) {
  message(sprintf("MNIST not found in '%s': set MICROSCOPES_MNIST_DIR to the directory holding ",
                  mnist_dir), "the four IDX .gz files. Nothing measured.")
  quit(save = "no", status = 0)
}
mnist_dir <- normalizePath(mnist_dir)

t_load <- system.time(mnist <- read_mnist(mnist_dir, digits = c(2, 3)))[["elapsed"]]
Y <- mnist$images > 0
view <- dataview(Y)
defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
kc <- default_kernel_config(defn)
cat(sprintf("MNIST 2s and 3s: %d x %d, %.1f%% ones (read in %.2f s)\n",
            nrow(Y), ncol(Y), 100 * mean(Y), t_load))

seed_workload <- function(threads, seed, chains = 5L, iterations = 5L) {
  set.seed(seed)
  t0 <- proc.time()[["elapsed"]]
  states <- lapply(seq_len(chains), function(i) initialize_state(defn, view))
  runners <- lapply(states, function(s) runner(defn, view, s, kc))
  pr <- parallel_runner(runners, threads = threads)
  t1 <- proc.time()[["elapsed"]]
  run(pr, iterations)
  t2 <- proc.time()[["elapsed"]]
  ks <- microscopes:::kernel_seconds(pr)
  c(run = t2 - t1, setup = t1 - t0, assign = ks[["assign"]],
    slice_cluster_hp = ks[["slice_cluster_hp"]], slice_feature_hp = ks[["slice_feature_hp"]],
    final_K = stats::median(vapply(get_latents(pr), n_groups, integer(1))))
}

# ---- seed workload, 2 threads, interleaved with 1 thread for the scaling ----
two <- one <- list()
for (i in seq_len(reps)) {
  two[[i]] <- seed_workload(2L, 1000L + i)
  one[[i]] <- seed_workload(1L, 1000L + i)
}
two_m <- do.call(rbind, two)
one_m <- do.call(rbind, one)
med <- function(m) apply(m, 2, stats::median)
cat(sprintf("\nseed workload (5 chains x 5 iterations, 2 threads), median of %d:\n", reps))
cat(sprintf("  run() wall          %.3f s   (per chain-iteration %.4f s of wall)\n",
            med(two_m)[["run"]], med(two_m)[["run"]] / 25))
cat(sprintf("  setup wall          %.3f s   (initialize_state x 5 + runner x 5)\n", med(two_m)[["setup"]]))
cat(sprintf("  kernel seconds, summed over chains: assign %.3f, slice_cluster_hp %.5f, slice_feature_hp %.3f\n",
            med(two_m)[["assign"]], med(two_m)[["slice_cluster_hp"]], med(two_m)[["slice_feature_hp"]]))
busy <- two_m[, "assign"] + two_m[, "slice_cluster_hp"] + two_m[, "slice_feature_hp"]
cat(sprintf("  per chain-iteration (kernel seconds / 25): %.4f s, of which assign %.0f%%\n",
            stats::median(busy) / 25, 100 * stats::median(two_m[, "assign"] / busy)))
cat(sprintf("  median final number of groups: %.0f\n", med(two_m)[["final_K"]]))
cat(sprintf("\nthread scaling: run() wall 1 thread %.3f s, 2 threads %.3f s, ratio 1/2 = %.2f (median of per-pair ratios %.2f)\n",
            med(one_m)[["run"]], med(two_m)[["run"]], med(one_m)[["run"]] / med(two_m)[["run"]],
            stats::median(one_m[, "run"] / two_m[, "run"])))
cat("  (chains are scheduled an iteration at a time, so 5 chains keep both threads busy: ideal ratio 2)\n")

# ---- memory of the seed workload in a fresh R process ----
# VmHWM (peak) includes reading MNIST as integers; VmRSS before and after
# the chains isolates what the 5 samplers hold.
rss_script <- tempfile(fileext = ".R")
writeLines(c(
  "suppressMessages(library(microscopes))",
  "status <- function(key) { s <- readLines('/proc/self/status'); as.numeric(gsub('[^0-9]', '', s[grepl(paste0('^', key), s)])) / 1024 }",
  sprintf("mnist <- read_mnist('%s', digits = c(2, 3))", mnist_dir),
  "Y <- mnist$images > 0; rm(mnist); invisible(gc())",
  "view <- dataview(Y); defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))",
  "kc <- default_kernel_config(defn); set.seed(1); invisible(gc())",
  "before <- status('VmRSS')",
  "runners <- lapply(1:5, function(i) runner(defn, view, initialize_state(defn, view), kc))",
  "run(parallel_runner(runners, threads = 2), 5)",
  "invisible(gc())",
  "cat(status('VmHWM'), before, status('VmRSS'), '\\n')"), rss_script)
if (file.exists("/proc/self/status")) {
  out <- system2(file.path(R.home("bin"), "Rscript"), rss_script, stdout = TRUE)
  rss <- scan(text = utils::tail(out, 1), quiet = TRUE)
  cat(sprintf(paste0("\nmemory of a fresh R process: peak (VmHWM) %.0f MB, reached while reading MNIST;",
                     "\n  VmRSS %.0f MB before the 5 runners, %.0f MB after 5 iterations: %.1f MB for the samplers\n"),
              rss[1], rss[2], rss[3], rss[3] - rss[2]))
}

# ---- one assign sweep against n and K ----
# Hyperparameters as the workload has them after its first iteration (all
# distinct, so moves take logs): from a short chain on all rows.
set.seed(7)
r <- runner(defn, view, initialize_state(defn, view), kc)
run(r, 3)
hps <- feature_hps(get_latent(r))

sweep_seconds <- function(rows, assignment, alpha = 1) {
  v <- dataview(Y[rows, , drop = FALSE])
  d <- model_definition(length(rows), rep(list(beta_bernoulli()), ncol(Y)))
  s0 <- initialize_state(d, v, cluster_hp = list(alpha = alpha), feature_hps = hps,
                         assignment = assignment)
  r <- runner(d, v, s0, list(assign_kernel()))
  run(r, 1)
  K <- (n_groups(s0) + n_groups(get_latent(r))) / 2
  secs <- microscopes:::kernel_seconds(r)[["assign"]]
  c(seconds = secs, K = K, ns_per_score = secs / (length(rows) * (K + 1)) * 1e9,
    moved = mean(assignments(get_latent(r)) != assignment))
}

# Groups from k-means on the binary images (a partition near a mode, as in
# later sweeps), with K clusters.
kmeans_labels <- function(rows, K) {
  set.seed(K)
  suppressWarnings(stats::kmeans(Y[rows, ] + 0, centers = K, iter.max = 10)$cluster)
}

cat("\none assign sweep (distinct hyperparameters, start from k-means groups), median of", reps, "\n")
cat("against n (K = 25):\n")
set.seed(3)
all_rows <- sample.int(nrow(Y))
for (n_rows in c(2000L, 4000L, 8000L, nrow(Y))) {
  rows <- sort(all_rows[seq_len(n_rows)])
  labels <- kmeans_labels(rows, 25)
  m <- do.call(rbind, lapply(seq_len(reps), function(i) { set.seed(i); sweep_seconds(rows, labels) }))
  cat(sprintf("  n = %5d: %.4f s per sweep, K = %.1f, %.0f ns per row-group score, %.0f%% of rows moved\n",
              n_rows, stats::median(m[, "seconds"]), stats::median(m[, "K"]),
              stats::median(m[, "ns_per_score"]), 100 * stats::median(m[, "moved"])))
}
cat("against K (n = all rows):\n")
rows <- seq_len(nrow(Y))
for (K in c(10L, 25L, 50L, 100L)) {
  labels <- kmeans_labels(rows, K)
  m <- do.call(rbind, lapply(seq_len(reps), function(i) { set.seed(i); sweep_seconds(rows, labels) }))
  cat(sprintf("  K = %3d: %.4f s per sweep, K during the sweep %.1f, %.0f ns per row-group score, %.0f%% of rows moved\n",
              K, stats::median(m[, "seconds"]), stats::median(m[, "K"]),
              stats::median(m[, "ns_per_score"]), 100 * stats::median(m[, "moved"])))
}
