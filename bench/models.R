# Speed of the model library's feature blocks (issue 11): one assign sweep
# on a synthetic mixed data set, n = 100,000 rows, 10 columns of each of
# dirichlet_discrete(5), gamma_poisson(), beta_negative_binomial(2) and
# normal_inverse_chisq() (plus 10 beta_bernoulli() columns for reference),
# about 20 groups, 5% missing cells.
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
make_columns <- function(kind) {
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
model_of <- list(bb = beta_bernoulli(), dd = dirichlet_discrete(5), gp = gamma_poisson(),
                 bnb = beta_negative_binomial(2), nich = normal_inverse_chisq())
frames <- lapply(stats::setNames(kinds, kinds), make_columns)
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

results <- array(NA_real_, c(reps, length(kinds), 3),
                 dimnames = list(NULL, kinds, c("seconds", "ns", "K")))
for (rep in seq_len(reps)) {
  for (kind in if (rep %% 2) kinds else rev(kinds)) {
    results[rep, kind, ] <- sweep_once(kind)
  }
}
cat(sprintf("One assign sweep, n = %d, %d features per kind, K about %d; medians of %d interleaved runs (CPU time)\n",
            n, F, K_true, reps))
cat(sprintf("load average at start: %s\n", paste(readLines("/proc/loadavg", warn = FALSE), collapse = "")))
for (kind in kinds) {
  cat(sprintf("  %-5s sweep %6.2f s   %6.2f ns per row-group-feature score   K %d\n", kind,
              stats::median(results[, kind, "seconds"]), stats::median(results[, kind, "ns"]),
              as.integer(stats::median(results[, kind, "K"]))))
}

# One iteration of the default kernels on all 50 columns.
mixed <- do.call(cbind, unname(frames))
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
