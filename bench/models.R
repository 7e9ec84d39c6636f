# Speed of the model library's feature blocks (issue 11): one assign sweep
# on a synthetic mixed data set, n = 100,000 rows, 10 columns of each of
# dirichlet_discrete(5), gamma_poisson(), beta_negative_binomial(2) and
# normal_inverse_chisq() (plus 10 beta_bernoulli() columns for reference),
# about 20 groups, 5% missing cells; and (issue 14) 10 features of
# dirichlet_multinomial(5), each row's cell a vector of 5 counts (about 10
# in total), 5% of the cells missing, swept alone (not in the mixed
# iteration below, which stays the issue 11 data set).
#
# Run from the repository root with the package installed:
#   Rscript bench/models.R
# For each model kind, a data set of its 10 columns alone is swept from the
# true groups with 20% of the rows relabelled (hyperparameters fixed at
# their defaults); reported: medians over BENCH_REPS interleaved runs of
# the sweep's CPU seconds and of ns per row-group-feature score
# (sweep time / (n x candidate groups per row x features)). Then one
# iteration of the default kernels on the whole mixed data set, with each
# kernel's share of the time (kernel_seconds()).

suppressMessages(library(microscopes))

# BENCH_PART=niw runs only the normal_inverse_wishart section at the end;
# "scalar" only the scalar kinds; "all" (default) both.
part <- Sys.getenv("BENCH_PART", "all")

reps <- as.integer(Sys.getenv("BENCH_REPS", "5"))
n <- as.integer(Sys.getenv("BENCH_N", "100000"))
K_true <- 20L
F <- 10L

set.seed(20261202)
labels <- sample.int(K_true, n, replace = TRUE)
with_missing <- function(x) {
  x[stats::runif(n) < 0.05] <- NA
  x
}
# dm: a matrix column per feature, the counts of a row Poisson around 10
# times its group's proportions (Dirichlet(0.5) over 5 entries); a missing
# cell is a row all NA.
make_dm_columns <- function() {
  df <- data.frame(row = seq_len(n))
  for (j in seq_len(F)) {
    p <- matrix(stats::rgamma(K_true * 5, 0.5), K_true, 5)
    p <- p / rowSums(p)
    X <- matrix(stats::rpois(n * 5, 10 * p[labels, ]), n, 5)
    X[stats::runif(n) < 0.05, ] <- NA
    df[[paste0("dm", j)]] <- X
  }
  df$row <- NULL
  df
}
make_columns <- function(kind) {
  if (kind == "dm") return(make_dm_columns())
  cols <- lapply(seq_len(F), function(j) {
    switch(kind,
      bb = with_missing(stats::runif(n) < stats::runif(K_true)[labels]),
      dd = {
        p <- matrix(stats::rgamma(K_true * 5, 0.5), K_true, 5)
        p <- p / rowSums(p)
        u <- stats::runif(n)
        cum <- t(apply(p, 1, cumsum))[labels, ]
        with_missing(factor(rowSums(u > cum) + 1L, levels = 1:5))
      },
      gp = with_missing(stats::rpois(n, stats::rgamma(K_true, 2, 0.5)[labels])),
      bnb = with_missing(stats::rnbinom(n, size = 2, prob = stats::rbeta(K_true, 4, 2)[labels])),
      nich = with_missing(stats::rnorm(n, stats::rnorm(K_true, 0, 3)[labels],
                                       sqrt(stats::rgamma(K_true, 4, 4))[labels])))
  })
  names(cols) <- paste0(kind, seq_len(F))
  as.data.frame(cols)
}
kinds <- c("bb", "dd", "gp", "bnb", "nich")
sweep_kinds <- c(kinds, "dm")
model_of <- list(bb = beta_bernoulli(), dd = dirichlet_discrete(5), gp = gamma_poisson(),
                 bnb = beta_negative_binomial(2), nich = normal_inverse_chisq(),
                 dm = dirichlet_multinomial(5))
frames <- lapply(stats::setNames(sweep_kinds, sweep_kinds), make_columns)
start <- labels
relabel <- sample.int(n, round(0.2 * n))
start[relabel] <- sample.int(K_true, length(relabel), replace = TRUE)

sweep_once <- function(kind) {
  df <- frames[[kind]]
  view <- dataview(df)
  defn <- model_definition(n, rep(list(model_of[[kind]]), F))
  state <- initialize_state(defn, view, assignment = start)
  r <- runner(defn, view, state, list(assign_kernel()))
  t0 <- proc.time()[["user.self"]]
  run(r, 1)
  seconds <- proc.time()[["user.self"]] - t0
  K <- n_groups(get_latent(r))
  # Candidates per row: the groups plus the new one, about K + 1.
  c(seconds = seconds, ns = 1e9 * seconds / (n * (K + 1) * F), K = K)
}

if (part %in% c("all", "scalar")) {
results <- array(NA_real_, c(reps, length(sweep_kinds), 3),
                 dimnames = list(NULL, sweep_kinds, c("seconds", "ns", "K")))
for (rep in seq_len(reps)) {
  for (kind in if (rep %% 2) sweep_kinds else rev(sweep_kinds)) {
    results[rep, kind, ] <- sweep_once(kind)
  }
}
cat(sprintf("One assign sweep, n = %d, %d features per kind, K about %d; medians of %d interleaved runs (CPU time)\n",
            n, F, K_true, reps))
cat(sprintf("load average at start: %s\n", paste(readLines("/proc/loadavg", warn = FALSE), collapse = "")))
for (kind in sweep_kinds) {
  cat(sprintf("  %-5s sweep %6.2f s   %6.2f ns per row-group-feature score   K %d\n", kind,
              stats::median(results[, kind, "seconds"]), stats::median(results[, kind, "ns"]),
              as.integer(stats::median(results[, kind, "K"]))))
}

}

# One iteration of the default kernels on all 50 columns.
if (part %in% c("all", "scalar")) {
mixed <- do.call(cbind, unname(frames[kinds]))
view <- dataview(mixed)
defn <- model_definition(n, unlist(lapply(kinds, function(k) rep(list(model_of[[k]]), F)),
                                   recursive = FALSE))
state <- initialize_state(defn, view, assignment = start)
r <- runner(defn, view, state, default_kernel_config(defn))
run(r, 1)
share <- microscopes:::kernel_seconds(r)
share <- share[share > 0]
cat(sprintf("\nDefault kernels on the mixed data set (%d columns), one iteration: %.2f s\n",
            ncol(mixed), sum(share)))
print(round(share / sum(share), 3))

# Non-conjugate beta-Bernoulli (issue 14): the bb columns above as
# beta_bernoulli_nonconj(), one sweep of algorithm 8 at m = 10
# (assign_resample_kernel()), beside the collapsed bb sweep on the same
# data and start. Algorithm 8 scores each row against K groups and m
# auxiliary ones (candidates K + m; the collapsed sweep K + 1) and draws
# m - [singleton] sets of F Beta variates per row from the prior; ns per
# row-group-feature score = sweep time / (n x candidates x F). The theta
# kernel's time per iteration (K x F Beta draws) is shown too.
sweep_bbnc <- function(m) {
  df <- frames[["bb"]]
  view <- dataview(df)
  defn <- model_definition(n, rep(list(beta_bernoulli_nonconj()), F))
  state <- initialize_state(defn, view, assignment = start)
  r <- runner(defn, view, state, list(assign_resample_kernel(m), theta_kernel()))
  run(r, 1)
  seconds <- microscopes:::kernel_seconds(r)
  K <- n_groups(get_latent(r))
  c(seconds = seconds[["assign_resample"]], theta = seconds[["theta"]],
    ns = 1e9 * seconds[["assign_resample"]] / (n * (K + m) * F), K = K)
}
bbnc <- t(vapply(seq_len(reps), function(rep) sweep_bbnc(10L), numeric(4)))
cat(sprintf(paste("\nbbnc, algorithm 8 at m = 10 (same data and start as bb): sweep %.2f s,",
                  "%.2f ns per row-group-feature score, theta kernel %.3f s, K %d\n"),
            stats::median(bbnc[, "seconds"]), stats::median(bbnc[, "ns"]),
            stats::median(bbnc[, "theta"]), as.integer(stats::median(bbnc[, "K"]))))
cat(sprintf("  collapsed bb sweep: %.2f s, %.2f ns per score; algorithm 8 / collapsed: %.2fx the sweep, %.2fx per score\n",
            stats::median(results[, "bb", "seconds"]), stats::median(results[, "bb", "ns"]),
            stats::median(bbnc[, "seconds"]) / stats::median(results[, "bb", "seconds"]),
            stats::median(bbnc[, "ns"]) / stats::median(results[, "bb", "ns"])))
}

# ---- normal_inverse_wishart(d) (issue 14) ---------------------------------
# One assign sweep of one niw feature at d = 2, 8, 32, n = 50,000 rows,
# 20 groups (means 3 sd apart along random directions, random
# covariances), from the true groups with 20% of the rows relabelled,
# hyperparameters at their empirical defaults. ns per row-group score =
# sweep CPU time / (n x (K + 1)): every row's removal, its K + 1 scores and
# its addition (a moved row costs one downdate and one update). The
# isolated costs (a score alone; one remove + add) are those of
# tools/niw_selftest.sh, which prints them. Then, if installed in
# BENCH_LIB (default /work/lib-bench), dirichletprocess on the same
# d = 2 data and the same number of iterations, for a time ratio.
if (part %in% c("all", "niw")) {
  n_niw <- as.integer(Sys.getenv("BENCH_NIW_N", "50000"))
  niw_data <- function(d) {
    set.seed(d)
    lab <- sample.int(K_true, n_niw, replace = TRUE)
    centres <- matrix(stats::rnorm(K_true * d, 0, 3), K_true, d)
    X <- centres[lab, , drop = FALSE]
    for (k in seq_len(K_true)) {
      rows <- which(lab == k)
      A <- matrix(stats::rnorm(d * d, 0, 0.5), d) + diag(d)
      X[rows, ] <- X[rows, , drop = FALSE] + matrix(stats::rnorm(length(rows) * d), ncol = d) %*% A
    }
    list(X = X, labels = lab)
  }
  niw_sweep <- function(sim, iterations = 1) {
    d <- ncol(sim$X)
    df <- data.frame(row = seq_len(n_niw))
    df$x <- sim$X
    df <- df["x"]
    view <- dataview(df)
    defn <- model_definition(n_niw, list(normal_inverse_wishart(d)))
    start_niw <- sim$labels
    moved <- sample.int(n_niw, round(0.2 * n_niw))
    start_niw[moved] <- sample.int(K_true, length(moved), replace = TRUE)
    r <- runner(defn, view, initialize_state(defn, view, assignment = start_niw),
                list(assign_kernel()))
    t0 <- proc.time()[["user.self"]]
    run(r, iterations)
    seconds <- (proc.time()[["user.self"]] - t0) / iterations
    K <- n_groups(get_latent(r))
    c(seconds = seconds, ns = 1e9 * seconds / (n_niw * (K + 1)), K = K)
  }
  dims <- c(2L, 8L, 32L)
  sims <- lapply(dims, niw_data)
  niw_results <- array(NA_real_, c(reps, length(dims), 3),
                       dimnames = list(NULL, dims, c("seconds", "ns", "K")))
  for (rep in seq_len(reps)) {
    for (i in if (rep %% 2) seq_along(dims) else rev(seq_along(dims))) {
      niw_results[rep, i, ] <- niw_sweep(sims[[i]])
    }
  }
  cat(sprintf("\nnormal_inverse_wishart(d): one assign sweep, n = %d, K about %d; medians of %d interleaved runs (CPU time)\n",
              n_niw, K_true, reps))
  cat(sprintf("load average at start: %s\n", paste(readLines("/proc/loadavg", warn = FALSE), collapse = "")))
  for (i in seq_along(dims)) {
    cat(sprintf("  d = %2d  sweep %6.3f s   %7.1f ns per row-group score (move included)   K %d\n", dims[i],
                stats::median(niw_results[, i, "seconds"]), stats::median(niw_results[, i, "ns"]),
                as.integer(stats::median(niw_results[, i, "K"]))))
  }

  bench_lib <- Sys.getenv("BENCH_LIB", "/work/lib-bench")
  have_dp <- requireNamespace("dirichletprocess", lib.loc = bench_lib, quietly = TRUE) ||
    suppressWarnings(requireNamespace("dirichletprocess", quietly = TRUE))
  if (have_dp) {
    # dirichletprocess is pure R and far slower: a subsample of the d = 2
    # data, both fitted for the same iterations of Gibbs (its Fit() is
    # Neal's algorithm 8 over cluster parameters plus alpha updates).
    n_dp <- as.integer(Sys.getenv("BENCH_DP_N", "2000"))
    iters <- as.integer(Sys.getenv("BENCH_DP_ITERS", "20"))
    X <- sims[[1]]$X[seq_len(n_dp), ]
    dp <- dirichletprocess::DirichletProcessMvnormal(scale(X))
    t0 <- proc.time()[["user.self"]]
    dp <- dirichletprocess::Fit(dp, iters, progressBar = FALSE)
    dp_seconds <- proc.time()[["user.self"]] - t0
    df <- data.frame(row = seq_len(n_dp))
    df$x <- X
    fit_seconds <- system.time(
      dpmixture(df["x"], chains = 1, iter = iters, warmup = 0, seed = 1)
    )[["user.self"]]
    cat(sprintf(paste("\nd = 2, n = %d, %d iterations: dirichletprocess %.2f s, microscopes dpmixture()",
                      "(Gibbs + split-merge + hyperparameters) %.3f s: ratio %.0f\n"),
                n_dp, iters, dp_seconds, fit_seconds, dp_seconds / max(fit_seconds, 1e-3)))
  } else {
    cat("\ndirichletprocess is not installed (BENCH_LIB or the default library): no time ratio.\n")
  }
}
