# One chain-iteration at K about 170 (issue 15): MNIST 2s and 3s from the
# cached state of bench/large_k_state.R, timed per build.
#
#   MICROSCOPES_MNIST_DIR=... BENCH_LIBS=/work/lib-main,/work/lib-speed \
#     BENCH_REPS=5 Rscript bench/large_k.R
#
# Every repetition runs each build in a fresh Rscript process (R_LIBS set to
# the build's library), interleaved build by build, so that two builds see
# the same load; figures are medians, comparisons the median of per-pair
# ratios (build / first build). Each process builds one runner from the
# saved state (which resumes the state's stream, so every run of a build is
# the same chain) and runs BENCH_ITERS iterations (default 3) on one
# thread, for each configuration:
#   gibbs_hp: assign, slice_cluster_hp, slice_feature_hp;
#   default:  default_kernel_config() (adds split-merge);
#   linear_hp: gibbs_hp with the linear-scale feature kernel, the kernel of
#             0.4.0 and before (`scale = "linear"` where the build has it,
#             the default where it has not), so the same chain on every
#             build: the log joints must agree.
# Reported per chain-iteration: process CPU seconds (user + system) during
# run(), each kernel's wall seconds (kernel_seconds()) and share, and
# nanoseconds per row-group pair (CPU / (n K)). BENCH_THREADS (default 1)
# sets the threads of the run, all inside the one chain (`runner(threads =
# )`; builds without it: the slice_feature_hp kernel's internal `threads`
# element); with more than one, CPU sums the threads, so compare wall and
# the kernel's seconds. BENCH_TARGET_K picks another cached state
# (large_k_state(target_K = ): 160 gives K = 170, 380 gives about 305).
# Load: the load average is printed before and after; the machine is shared.

child <- Sys.getenv("BENCH_CHILD") == "1"
iters <- as.integer(Sys.getenv("BENCH_ITERS", "3"))
target_K <- as.integer(Sys.getenv("BENCH_TARGET_K", "160"))
threads <- as.integer(Sys.getenv("BENCH_THREADS", "1"))

script_dir <- function() {
  arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(arg)) dirname(normalizePath(sub("^--file=", "", arg[1]))) else "bench"
}

if (child) {
  suppressMessages(library(microscopes))
  source(file.path(script_dir(), "large_k_state.R"))
  mnist <- large_k_mnist()
  s <- large_k_state(mnist, target_K = target_K, verbose = FALSE)
  has_scale <- "scale" %in% names(formals(microscopes::slice_feature_hp_kernel))
  linear <- gibbs_hp_config()
  if (has_scale) linear[[3]] <- microscopes::slice_feature_hp_kernel(scale = "linear")
  configs <- list(gibbs_hp = gibbs_hp_config(),
                  default = microscopes::default_kernel_config(mnist$defn),
                  linear_hp = linear)
  # Threads inside the chain: runner(threads = ) where the build has it
  # (a run's total threads, issue 15); before, the internal `threads`
  # element of the slice_feature_hp kernel (older builds ignore it).
  has_threads <- "threads" %in% names(formals(microscopes::runner))
  hp_kind <- microscopes:::kernel_kinds[["slice_feature_hp"]]
  if (!has_threads) for (name in names(configs)) for (i in seq_along(configs[[name]])) {
    if (identical(configs[[name]][[i]]$kind, hp_kind)) configs[[name]][[i]]$threads <- threads
  }
  for (name in names(configs)) {
    r <- if (has_threads) runner(mnist$defn, mnist$view, s, configs[[name]], threads = threads) else
      runner(mnist$defn, mnist$view, s, configs[[name]])
    gc()
    t0 <- proc.time()
    run(r, iters)
    t1 <- proc.time()
    cpu <- sum((t1 - t0)[c("user.self", "sys.self")])
    ks <- microscopes:::kernel_seconds(r)
    out <- get_latent(r)
    cat(sprintf("RESULT %s %d %.6f %.6f %.6f %.6f %.6f %.3f %s\n", name, n_groups(s), cpu / iters,
                (t1 - t0)[["elapsed"]] / iters, ks[["assign"]] / iters, ks[["split_merge"]] / iters,
                ks[["slice_feature_hp"]] / iters,
                microscopes:::chain_trace(r)$log_joint[iters], n_groups(out)))
  }
  quit(save = "no")
}

libs <- strsplit(Sys.getenv("BENCH_LIBS", .libPaths()[1]), ",")[[1]]
# BENCH_THREAD_PAIR=1: one build (the first of BENCH_LIBS) on 1 and on 2
# threads inside the chain, interleaved, as if two builds.
if (Sys.getenv("BENCH_THREAD_PAIR") == "1") libs <- c(paste0(libs[1], "#1"), paste0(libs[1], "#2"))
reps <- as.integer(Sys.getenv("BENCH_REPS", "5"))
load_avg <- function() tryCatch(readLines("/proc/loadavg"), error = function(e) "?")
cat(sprintf("load average before: %s\n", load_avg()))
rows <- list()
for (rep in seq_len(reps)) {
  for (lib in libs) {
    lib_dir <- sub("#.*$", "", lib)
    th <- if (grepl("#", lib)) sub("^.*#", "", lib) else as.character(threads)
    out <- system2("Rscript", c(file.path(script_dir(), "large_k.R")), stdout = TRUE,
                   env = c(sprintf("R_LIBS=%s", lib_dir), "BENCH_CHILD=1", sprintf("BENCH_THREADS=%s", th)))
    res <- grep("^RESULT", out, value = TRUE)
    if (!length(res)) stop("child failed: ", paste(out, collapse = "\n"))
    for (line in res) {
      f <- strsplit(line, " ")[[1]]
      rows[[length(rows) + 1L]] <- data.frame(rep = rep, lib = lib, config = f[2], K = as.integer(f[3]),
                                              cpu = as.numeric(f[4]), wall = as.numeric(f[5]),
                                              assign = as.numeric(f[6]), split_merge = as.numeric(f[7]),
                                              feature_hp = as.numeric(f[8]), log_joint = as.numeric(f[9]),
                                              K_after = as.integer(f[10]))
    }
  }
}
cat(sprintf("load average after: %s\n", load_avg()))
d <- do.call(rbind, rows)
n <- 14131
cat(sprintf("\nper chain-iteration, %d iterations from the saved state (K = %d), %d thread(s), median of %d:\n",
            iters, d$K[1], threads, reps))
for (config in unique(d$config)) {
  cat(sprintf("\n%s\n", config))
  base <- d[d$config == config & d$lib == libs[1], ]
  for (lib in libs) {
    x <- d[d$config == config & d$lib == lib, ]
    busy <- x$assign + x$split_merge + x$feature_hp
    cat(sprintf("  %-22s CPU %.4f s (%.0f ns per row-group pair), wall %.4f; assign %.4f, split_merge %.4f, feature_hp %.4f s (%.0f%% of kernel time); log joint %.1f, K %d\n",
                basename(lib), stats::median(x$cpu), 1e9 * stats::median(x$cpu) / (n * x$K[1]),
                stats::median(x$wall), stats::median(x$assign), stats::median(x$split_merge),
                stats::median(x$feature_hp), 100 * stats::median(x$feature_hp / busy),
                x$log_joint[1], x$K_after[1]))
    if (lib != libs[1]) {
      cat(sprintf("  %-22s ratio to %s (median of per-pair): CPU %.3f, feature_hp %.3f, assign %.3f\n", "",
                  basename(libs[1]), stats::median(x$cpu / base$cpu),
                  stats::median(x$feature_hp / base$feature_hp), stats::median(x$assign / base$assign)))
    }
  }
}
