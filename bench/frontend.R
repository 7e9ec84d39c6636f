# The cost of the front end on the MNIST seed workload (14,131 x 784, 5
# chains from CRP starts, default_kernel_config(), 5 iterations, 2 threads):
# run() alone against run() with every iteration recorded as a kept draw in
# C (what dpmixture() does, here with warmup = 0 and thin = 1, the most it
# can record), from the same starts and streams, interleaved pairs; and the
# memory of a kept draw.
#
#   Rscript bench/frontend.R      (BENCH_REPS, default 5; MICROSCOPES_MNIST_DIR)

suppressMessages(library(microscopes))

reps <- as.integer(Sys.getenv("BENCH_REPS", "5"))
mnist_dir <- Sys.getenv("MICROSCOPES_MNIST_DIR", file.path("..", "shared", "mnist"))
if (!dir.exists(mnist_dir)) {
  message(sprintf("MNIST not found in '%s': set MICROSCOPES_MNIST_DIR. Nothing measured.", mnist_dir))
  quit(save = "no", status = 0)
}
mnist <- read_mnist(normalizePath(mnist_dir), digits = c(2, 3))
Y <- mnist$images > 0
view <- dataview(Y)
defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
kc <- default_kernel_config(defn)
chains <- 5L
iterations <- 5L

one_run <- function(seed, record) {
  set.seed(seed)
  runners <- lapply(seq_len(chains), function(i) runner(defn, view, initialize_state(defn, view), kc))
  pr <- parallel_runner(runners, threads = 2L)
  t0 <- proc.time()[["elapsed"]]
  if (record) {
    for (r in runners) .Call(microscopes:::C_runner_record, r$ptr, 0, 0, 1L, iterations)
  }
  run(pr, iterations)
  draws <- if (record) lapply(runners, function(r) .Call(microscopes:::C_runner_take_draws, r$ptr))
  t1 <- proc.time()[["elapsed"]]
  list(seconds = t1 - t0, draws = draws,
       states = lapply(get_latents(pr), assignments))
}

plain <- recorded <- numeric(reps)
bytes <- NA
for (i in seq_len(reps)) {
  a <- one_run(2000L + i, record = FALSE)
  b <- one_run(2000L + i, record = TRUE)
  stopifnot(identical(a$states, b$states))   # recording changes no draw
  plain[i] <- a$seconds
  recorded[i] <- b$seconds
  bytes <- as.numeric(utils::object.size(b$draws)) / (chains * iterations)
}
cat(sprintf("MNIST 2s and 3s: %d x %d; %d chains x %d iterations, 2 threads; median of %d interleaved pairs\n",
            nrow(Y), ncol(Y), chains, iterations, reps))
cat(sprintf("  run() alone              %.3f s\n", stats::median(plain)))
cat(sprintf("  run() recording draws    %.3f s (every iteration kept, draws copied to R)\n",
            stats::median(recorded)))
cat(sprintf("  overhead: median of per-pair ratios %.4f (%+.2f%%)\n",
            stats::median(recorded / plain), 100 * (stats::median(recorded / plain) - 1)))
cat(sprintf("  memory per kept draw: %.0f bytes (2 n + 16 D = %d); 1,000 draws: %.1f MB\n",
            bytes, 2L * nrow(Y) + 16L * ncol(Y), 1000 * bytes / 1e6))

# ---- summaries of a fit on MNIST: a short fit, 2 chains x 20 kept draws ----
# (the search, log_lik() and partition_draws() scale linearly in the draws)
set.seed(1)
t_fit <- system.time(fit <- dpmixture(Y, chains = 2, iter = 40, warmup = 20, threads = 2,
                                      progress = FALSE))[["elapsed"]]
S <- nrow(as.data.frame(fit))
K <- stats::median(as.data.frame(fit)$n_groups)
t_draws <- system.time(z <- partition_draws(fit))[["elapsed"]]
t_ll <- system.time(ll <- log_lik(fit, threads = 2))[["elapsed"]]
t_pp <- system.time(pp <- point_partition(fit, threads = 2))[["elapsed"]]
cat(sprintf("\nMNIST fit, 2 chains x %d kept draws (median K %.0f), dpmixture() %.1f s:\n", S / 2, K, t_fit))
cat(sprintf("  partition_draws() %.3f s; log_lik() %.2f s; point_partition() (VI, 8 runs + 4 draw starts, 2 threads) %.1f s, %d clusters\n",
            t_draws, t_ll, t_pp, max(pp)))
