# Split-merge moves (issue 12): do chains reach the posterior, and at what
# cost? Run from the repository root with the package installed:
#   BENCH_PART=synthetic Rscript bench/split_merge.R
# Parts (BENCH_PART, comma-separated; default "synthetic"):
#   synthetic   20 binary prototypes over 200 features (pairwise Hamming
#               distance about 80-120), n = 5,000, 5% of bits flipped: from
#               a one-group start and from CRP starts, does every chain
#               reach K = 20 and ARI > 0.99 within 20 iterations? Also the
#               algorithm comparison (SAMS vs restricted Gibbs) and the
#               number of proposals per iteration.
#   mnist_one   MNIST 2s and 3s from one group: iterations and CPU seconds
#               to reach the log-joint band of long Gibbs chains.
#   mnist_compare  MNIST from one group: SAMS against restricted Gibbs
#               proposals (launch scans 0, 3, 10) and proposals per
#               iteration, by log joint against iterations and CPU seconds.
#   mnist_rhat  MNIST, 5 chains, default starts, 2 threads: R-hat of the
#               log joint and K over the second half, ARI within and
#               between chains, for growing run lengths.
#   cost        MNIST at K ~ 150: one iteration of the default config
#               against a Gibbs-only iteration, side by side.
# BENCH_SEEDS (default 5) chains/seeds per setting; every figure is a
# median over them. CPU seconds are the process's user + system time
# around single-threaded runs.
# MNIST: MICROSCOPES_MNIST_DIR, else ../shared/mnist.

suppressMessages(library(microscopes))

parts <- strsplit(Sys.getenv("BENCH_PART", "synthetic"), ",")[[1]]
n_seeds <- as.integer(Sys.getenv("BENCH_SEEDS", "5"))

cpu_seconds <- function() {
  t <- proc.time()
  t[["user.self"]] + t[["sys.self"]]
}

# Adjusted Rand index (Hubert and Arabie 1985).
ari <- function(x, y) {
  tab <- table(x, y)
  choose2 <- function(v) sum(v * (v - 1) / 2)
  index <- choose2(tab)
  a <- choose2(rowSums(tab))
  b <- choose2(colSums(tab))
  expected <- a * b / choose2(length(x))
  (index - expected) / ((a + b) / 2 - expected)
}

machine_load <- function() {
  load <- tryCatch(readLines("/proc/loadavg"), error = function(e) "unknown")
  sprintf("load average (1, 5, 15 min): %s", paste(strsplit(load, " ")[[1]][1:3], collapse = ", "))
}

# Runs one chain iteration by iteration (1 thread), recording K, the log
# joint, the ARI to `truth` and cumulative CPU seconds.
trace_chain <- function(defn, view, latent, kc, iterations, truth = NULL) {
  r <- runner(defn, view, latent, kc)
  out <- data.frame(iteration = seq_len(iterations), K = NA_integer_, log_joint = NA_real_,
                    ari = NA_real_, cpu = NA_real_)
  cpu <- 0
  for (t in seq_len(iterations)) {
    c0 <- cpu_seconds()
    run(r, 1)
    cpu <- cpu + cpu_seconds() - c0
    s <- get_latent(r)
    out$K[t] <- n_groups(s)
    out$log_joint[t] <- utils::tail(chain_trace(r)$log_joint, 1)
    if (!is.null(truth)) out$ari[t] <- ari(assignments(s), truth)
    out$cpu[t] <- cpu
  }
  list(trace = out, runner = r)
}

# ---- synthetic: known truth ----
synthetic_data <- function(seed, n = 5000, D = 200, n_prototypes = 20, flip = 0.05) {
  set.seed(seed)
  prototypes <- matrix(stats::runif(n_prototypes * D) < 0.5, n_prototypes, D)
  truth <- sample.int(n_prototypes, n, replace = TRUE)
  Y <- prototypes[truth, ]
  flips <- matrix(stats::runif(n * D) < flip, n, D)
  list(Y = xor(Y, flips), truth = truth, hamming = as.matrix(stats::dist(prototypes, "manhattan")))
}

synthetic_run <- function(kc, start, seed, iterations = 20) {
  d <- synthetic_data(seed)
  view <- dataview(d$Y)
  defn <- model_definition(nrow(d$Y), rep(list(beta_bernoulli()), ncol(d$Y)))
  set.seed(100 + seed)
  assignment <- if (start == "one") rep(1L, nrow(d$Y)) else NULL
  latent <- initialize_state(defn, view, assignment = assignment)
  tr <- trace_chain(defn, view, latent, kc, iterations, truth = d$truth)$trace
  reached <- which(tr$K == 20 & tr$ari > 0.99)
  c(first_iteration = if (length(reached)) reached[1] else NA, final_K = tr$K[iterations],
    final_ari = tr$ari[iterations], cpu_to_reach = if (length(reached)) tr$cpu[reached[1]] else NA,
    cpu_total = tr$cpu[iterations], cpu_per_iteration = tr$cpu[iterations] / iterations)
}

summarise_runs <- function(rows, label) {
  m <- do.call(rbind, rows)
  cat(sprintf(paste("%-44s reached %d/%d; first iteration median %s [%s]; final K %s;",
                    "final ARI min %.4f; CPU s to reach median %s; CPU s/iteration median %.3f\n"),
              label, sum(!is.na(m[, "first_iteration"])), nrow(m),
              format(stats::median(m[, "first_iteration"])),
              paste(m[, "first_iteration"], collapse = " "),
              paste(m[, "final_K"], collapse = " "), min(m[, "final_ari"]),
              format(round(stats::median(m[, "cpu_to_reach"]), 2)),
              stats::median(m[, "cpu_per_iteration"])))
  invisible(m)
}

if ("synthetic" %in% parts) {
  cat("== synthetic: 20 prototypes x 200 features, n = 5000, 5% flips, 20 iterations ==\n")
  cat(machine_load(), "\n")
  h <- synthetic_data(1)$hamming
  cat(sprintf("pairwise Hamming distance of the prototypes (seed 1): %d-%d\n",
              min(h[upper.tri(h)]), max(h[upper.tri(h)])))
  hp <- list(slice_cluster_hp_kernel(), slice_feature_hp_kernel())
  configs <- list(
    "default (assign + restricted Gibbs, 3 launch scans, x50 + hp)" = NULL,
    "Gibbs only (assign + hp)" = c(list(assign_kernel()), hp),
    "assign + SAMS x10 + hp" = c(list(assign_kernel(), split_merge_kernel(10)), hp),
    "assign + SAMS x200 + hp" = c(list(assign_kernel(), split_merge_kernel(200)), hp),
    "assign + RG(0 launch scans) x50 + hp" =
      c(list(assign_kernel(), split_merge_kernel(50, "restricted_gibbs", 0)), hp),
    "assign + RG(3 launch scans) x50 + hp" =
      c(list(assign_kernel(), split_merge_kernel(50, "restricted_gibbs", 3)), hp))
  only <- Sys.getenv("BENCH_CONFIGS", "")
  if (nzchar(only)) configs <- configs[as.integer(strsplit(only, ",")[[1]])]
  for (name in names(configs)) {
    kc <- configs[[name]]
    if (is.null(kc)) kc <- default_kernel_config(model_definition(5000, rep(list(beta_bernoulli()), 200)))
    for (start in c("one", "crp")) {
      rows <- lapply(seq_len(n_seeds), function(seed) synthetic_run(kc, start, seed))
      summarise_runs(rows, sprintf("%s, %s start", name, start))
    }
  }
  cat(machine_load(), "\n")
}

# ---- MNIST ----
if (any(c("mnist_one", "mnist_compare", "mnist_rhat", "cost") %in% parts)) {
  mnist_dir <- Sys.getenv("MICROSCOPES_MNIST_DIR", file.path("..", "shared", "mnist"))
  mnist <- read_mnist(mnist_dir, digits = c(2, 3))
  Y <- mnist$images > 0
  view <- dataview(Y)
  defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
  cat(sprintf("MNIST 2s and 3s: %d x %d\n", nrow(Y), ncol(Y)))
}

band <- c(-2092000, -2082000)

if ("mnist_compare" %in% parts) {
  iterations <- as.integer(Sys.getenv("BENCH_ITERATIONS", "40"))
  cat(sprintf("== MNIST one-group start: split proposals compared, %d iterations, 1 thread ==\n",
              iterations))
  cat(machine_load(), "\n")
  hp <- list(slice_cluster_hp_kernel(), slice_feature_hp_kernel())
  configs <- list(
    "SAMS x50" = split_merge_kernel(50, "sams"),
    "SAMS x200" = split_merge_kernel(200, "sams"),
    "RG(0) x50" = split_merge_kernel(50, "restricted_gibbs", 0),
    "RG(3) x50" = split_merge_kernel(50, "restricted_gibbs", 3),
    "RG(3) x200" = split_merge_kernel(200, "restricted_gibbs", 3),
    "RG(10) x50" = split_merge_kernel(50, "restricted_gibbs", 10),
    "RG(3) x100" = split_merge_kernel(100, "restricted_gibbs", 3),
    "SL(0) x100" = split_merge_kernel(100, "sequential_launch", 0),
    "SL(1) x100" = split_merge_kernel(100, "sequential_launch", 1))
  only <- Sys.getenv("BENCH_CONFIGS", "")
  if (nzchar(only)) configs <- configs[as.integer(strsplit(only, ",")[[1]])]
  at <- unique(pmin(c(10, 20, 40, 60, iterations), iterations))
  first_seed <- as.integer(Sys.getenv("BENCH_FIRST_SEED", "1"))
  for (seed in first_seed - 1L + seq_len(n_seeds)) for (name in names(configs)) {
    set.seed(500 + seed)
    latent <- initialize_state(defn, view, assignment = rep(1L, nrow(Y)))
    res <- trace_chain(defn, view, latent, c(list(assign_kernel(), configs[[name]]), hp),
                       iterations)
    tr <- res$trace
    ks <- microscopes:::kernel_seconds(res$runner)
    sm <- chain_trace(res$runner)
    inside <- which(tr$log_joint >= band[1])
    cat(sprintf(paste("seed %d %-11s log joint at %s: %s | K %s | CPU s %s | split-merge s %.1f,",
                      "assign s %.1f | band at iteration %s | splits %d/%d merges %d/%d\n"),
                seed, name, paste(at, collapse = "/"), paste(round(tr$log_joint[at]), collapse = " "),
                paste(tr$K[at], collapse = " "), paste(round(tr$cpu[at], 1), collapse = " "),
                ks[["split_merge"]], ks[["assign"]], if (length(inside)) inside[1] else "none",
                sum(sm$split_accepted), sum(sm$split_proposed), sum(sm$merge_accepted),
                sum(sm$merge_proposed)))
  }
  cat(machine_load(), "\n")
}

if ("mnist_one" %in% parts) {
  iterations <- as.integer(Sys.getenv("BENCH_ITERATIONS", "100"))
  cat(sprintf("== MNIST one-group start, default config, %d iterations, 1 thread ==\n", iterations))
  cat(machine_load(), "\n")
  rows <- lapply(seq_len(n_seeds), function(seed) {
    set.seed(200 + seed)
    latent <- initialize_state(defn, view, assignment = rep(1L, nrow(Y)))
    res <- trace_chain(defn, view, latent, default_kernel_config(defn), iterations)
    tr <- res$trace
    inside <- which(tr$log_joint >= band[1])
    cat(sprintf("seed %d: first iteration in band %s (CPU %s s); log joint at 10/25/50/%d: %s; K: %s\n",
                seed, if (length(inside)) inside[1] else "none",
                if (length(inside)) round(tr$cpu[inside[1]], 1) else "-", iterations,
                paste(round(tr$log_joint[pmin(c(10, 25, 50, iterations), iterations)]), collapse = " "),
                paste(tr$K[pmin(c(10, 25, 50, iterations), iterations)], collapse = " ")))
    print(round(microscopes:::kernel_seconds(res$runner), 1))
    c(first = if (length(inside)) inside[1] else NA, cpu = if (length(inside)) tr$cpu[inside[1]] else NA,
      final = tr$log_joint[iterations], K = tr$K[iterations])
  })
  m <- do.call(rbind, rows)
  cat(sprintf("median first iteration in band %s, median CPU s %s, median final log joint %.0f, final K %s\n",
              format(stats::median(m[, "first"])), format(round(stats::median(m[, "cpu"]), 1)),
              stats::median(m[, "final"]), paste(m[, "K"], collapse = " ")))
  cat(machine_load(), "\n")
}

if ("mnist_rhat" %in% parts) {
  total <- as.integer(Sys.getenv("BENCH_ITERATIONS", "200"))
  checkpoints <- as.integer(strsplit(Sys.getenv("BENCH_CHECKPOINTS", "50,100,150,200"), ",")[[1]])
  cat(sprintf("== MNIST 5 chains, default config and starts, 2 threads, up to %d iterations ==\n", total))
  cat(machine_load(), "\n")
  set.seed(300)
  runners <- lapply(1:5, function(j) runner(defn, view, initialize_state(defn, view),
                                            default_kernel_config(defn)))
  pr <- parallel_runner(runners, threads = 2)
  states <- list()
  wall <- 0
  done <- 0
  for (cp in checkpoints) {
    wall <- wall + system.time(run(pr, cp - done))[["elapsed"]]
    done <- cp
    states[[as.character(cp)]] <- lapply(get_latents(pr), assignments)
    tr <- chain_trace(pr)
    half <- tr[tr$iteration > cp / 2, ]
    as_matrix <- function(column) sapply(split(half[[column]], half$chain), identity)
    rhat_lj <- posterior::rhat(as_matrix("log_joint"))
    rhat_k <- posterior::rhat(as_matrix("n_groups"))
    ess_lj <- posterior::ess_bulk(as_matrix("log_joint"))
    ess_k <- posterior::ess_bulk(as_matrix("n_groups"))
    now <- states[[as.character(cp)]]
    between <- stats::median(combn(5, 2, function(p) ari(now[[p[1]]], now[[p[2]]])))
    lag_state <- states[[as.character(cp / 2)]]
    within <- if (is.null(lag_state)) NA else
      stats::median(vapply(1:5, function(j) ari(now[[j]], lag_state[[j]]), numeric(1)))
    last <- tr[tr$iteration == cp, ]
    cat(sprintf(paste("iterations %d (wall %.0f s): R-hat log joint %.3f, K %.3f; bulk ESS %.1f, %.1f;",
                      "ARI within (lag %g) %s, between %.3f; log joint median %.0f [%s]; K %s\n"),
                cp, wall, rhat_lj, rhat_k, ess_lj, ess_k, cp / 2,
                if (is.na(within)) "-" else sprintf("%.3f", within), between,
                stats::median(last$log_joint), paste(round(range(last$log_joint)), collapse = ", "),
                paste(last$n_groups, collapse = " ")))
    previous <- if (length(states) > 1) as.numeric(names(states)[length(states) - 1]) else 0
    sm <- colSums(tr[tr$iteration > previous,
                     c("split_proposed", "split_accepted", "merge_proposed", "merge_accepted")])
    cat(sprintf("   split-merge since the last checkpoint: splits %d/%d, merges %d/%d accepted\n",
                sm[[2]], sm[[1]], sm[[4]], sm[[3]]))
    if (wall > as.numeric(Sys.getenv("BENCH_WALL_LIMIT", "600"))) break
  }
  print(round(microscopes:::kernel_seconds(pr), 1))
  cat(machine_load(), "\n")
}

if ("cost" %in% parts) {
  cat("== cost at K ~ 150: default config vs Gibbs only (assign + hp), 1 thread, interleaved ==\n")
  cat(machine_load(), "\n")
  # A state at K ~ 150 from a Gibbs chain (warm-up not counted).
  set.seed(400)
  gibbs <- list(assign_kernel(), slice_cluster_hp_kernel(), slice_feature_hp_kernel())
  warm <- runner(defn, view, initialize_state(defn, view), gibbs)
  run(warm, as.integer(Sys.getenv("BENCH_WARMUP", "60")))
  start <- get_latent(warm)
  cat(sprintf("start K = %d\n", n_groups(start)))
  reps <- as.integer(Sys.getenv("BENCH_REPS", "5"))
  per_iteration <- function(kc) {
    r <- runner(defn, view, start, kc)
    c0 <- cpu_seconds()
    run(r, 2)
    c(cpu = (cpu_seconds() - c0) / 2, microscopes:::kernel_seconds(r) / 2)
  }
  with_split_merge <- function(kernel) c(list(assign_kernel(), kernel), gibbs[-1])
  configs <- list(gibbs_only = gibbs, default = default_kernel_config(defn),
                  "RG(3) x100" = with_split_merge(split_merge_kernel(100, "restricted_gibbs", 3)),
                  "SAMS x50" = with_split_merge(split_merge_kernel(50, "sams")))
  rows <- list()
  for (i in seq_len(reps)) for (j in seq_along(configs))
    rows[[length(rows) + 1]] <- c(config = j, per_iteration(configs[[j]]))
  m <- do.call(rbind, rows)
  med <- function(cfg) apply(m[m[, "config"] == cfg, -1, drop = FALSE], 2, stats::median)
  medians <- do.call(rbind, lapply(seq_along(configs), med))
  rownames(medians) <- names(configs)
  print(round(medians[, colSums(medians) > 0], 3))
  for (j in seq_along(configs)[-1]) {
    ratios <- m[m[, "config"] == j, "cpu"] / m[m[, "config"] == 1, "cpu"]
    cat(sprintf("%s / Gibbs only, CPU s per iteration: per-pair ratios %s (median %.2f)\n",
                names(configs)[j], paste(round(ratios, 2), collapse = " "), stats::median(ratios)))
  }
  cat(machine_load(), "\n")
}
