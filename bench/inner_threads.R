# One chain on 1 and on 2 threads in the same process (issue 15): two
# runners built from the cached K ~ 170 state of bench/large_k_state.R, one
# with threads = 1 and one with threads = 2 (all inside the chain), run in
# turns, BENCH_ITERS iterations (default 5) per turn, BENCH_REPS turns each
# (default 7). In one process both see the same memory and the same
# machine, so the pairs compare the threads and not the process starts
# that bench/large_k.R's fresh children include.
#
#   MICROSCOPES_MNIST_DIR=... BENCH_CONFIG=gibbs_hp Rscript bench/inner_threads.R
#
# BENCH_CONFIG: gibbs_hp (assign, slice_cluster_hp, slice_feature_hp; the
# default), feature_hp (slice_feature_hp alone, the kernel's own scaling)
# or default (default_kernel_config(), with split-merge). Reported: wall
# seconds per chain-iteration and the kernels' seconds (kernel_seconds()),
# medians per thread count and the median of the per-turn ratios
# (1 thread / 2 threads: the speed-up). The two runners are the same chain
# (the same stream and state), so they also check that 2 threads change
# nothing: their log joints must agree at the end.

suppressMessages(library(microscopes))
script_dir <- function() {
  arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(arg)) dirname(normalizePath(sub("^--file=", "", arg[1]))) else "bench"
}
source(file.path(script_dir(), "large_k_state.R"))
iters <- as.integer(Sys.getenv("BENCH_ITERS", "5"))
reps <- as.integer(Sys.getenv("BENCH_REPS", "7"))
config <- Sys.getenv("BENCH_CONFIG", "gibbs_hp")
mnist <- large_k_mnist()
s <- large_k_state(mnist, verbose = FALSE)
kc <- switch(config,
             gibbs_hp = gibbs_hp_config(),
             feature_hp = structure(list(slice_feature_hp_kernel()), class = "microscopes_kernel_config"),
             default = default_kernel_config(mnist$defn),
             stop("BENCH_CONFIG must be gibbs_hp, feature_hp or default"))
runners <- list(runner(mnist$defn, mnist$view, s, kc, threads = 1L),
                runner(mnist$defn, mnist$view, s, kc, threads = 2L))
cat(sprintf("load average before: %s\n", readLines("/proc/loadavg")))
rows <- NULL
for (rep in seq_len(reps)) for (th in 1:2) {
  r <- runners[[th]]
  k0 <- microscopes:::kernel_seconds(r)
  t0 <- proc.time()[["elapsed"]]
  run(r, iters)
  t1 <- proc.time()[["elapsed"]]
  k <- (microscopes:::kernel_seconds(r) - k0) / iters
  rows <- rbind(rows, data.frame(rep = rep, threads = th, wall = (t1 - t0) / iters,
                                 assign = k[["assign"]], split_merge = k[["split_merge"]],
                                 feature_hp = k[["slice_feature_hp"]]))
}
cat(sprintf("load average after: %s\n", readLines("/proc/loadavg")))
cat(sprintf("\n%s, K = %d, %d turns of %d iterations, seconds per chain-iteration (medians):\n",
            config, n_groups(s), reps, iters))
print(aggregate(cbind(wall, assign, split_merge, feature_hp) ~ threads, rows, stats::median),
      row.names = FALSE)
one <- rows[rows$threads == 1, ]
two <- rows[rows$threads == 2, ]
speedup <- function(col) if (all(one[[col]] > 0)) sprintf("%.3f", stats::median(one[[col]] / two[[col]])) else "-"
cat(sprintf("speed-up, 1 thread / 2 (median of turns): wall %s, assign %s, split_merge %s, feature_hp %s\n",
            speedup("wall"), speedup("assign"), speedup("split_merge"), speedup("feature_hp")))
joints <- vapply(runners, function(r) utils::tail(microscopes:::chain_trace(r)$log_joint, 1), 0)
cat(sprintf("log joints at the end: %.6f (1 thread), %.6f (2 threads): %s\n", joints[1], joints[2],
            if (identical(joints[1], joints[2])) "the same chain" else "DIFFERENT CHAINS"))
