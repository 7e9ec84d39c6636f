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
