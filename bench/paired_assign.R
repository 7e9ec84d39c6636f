# Paired benchmark of bench/assign_sweep.R's workload (assign sweeps over
# n = 14000 x D = 784 synthetic MNIST-like data, a = b = 1 and distinct
# per-feature hyperparameters) against another build of the package, for
# "no slower" claims: turns alternate baseline / new, each in a fresh R
# process that times, per hyperparameter setting, 20 sweeps of one
# single-threaded chain by the CPU time of run() (user + system: on a
# shared machine wall time measures the neighbours).
#   Rscript bench/paired_assign.R /path/to/baseline-lib /path/to/new-lib [pairs]
args <- commandArgs(TRUE)
libs <- c(baseline = args[1], new = args[2])
pairs <- if (length(args) >= 3) as.integer(args[3]) else 7L
one <- tempfile(fileext = ".R")
writeLines(c(
  "args <- commandArgs(TRUE)",
  "suppressMessages(library(microscopes, lib.loc = args[1]))",
  "n <- 14000L; D <- 784L; K_true <- 25L",
  "set.seed(20240501)",
  "ink <- matrix(stats::runif(K_true * D) < 0.23, K_true, D)",
  "p_on <- ifelse(ink, 0.85, 0.025)",
  "labels <- sample.int(K_true, n, replace = TRUE)",
  "Y <- matrix(stats::runif(n * D) < p_on[labels, ], n, D)",
  "start <- labels",
  "relabel <- sample.int(n, round(0.2 * n))",
  "start[relabel] <- sample.int(K_true, length(relabel), replace = TRUE)",
  "hps_distinct <- cbind(alpha = stats::runif(D, 0.3, 3), beta = stats::runif(D, 0.3, 3))",
  "view <- dataview(Y); defn <- model_definition(n, rep(list(beta_bernoulli()), D))",
  "sweep <- function(hps, seed) {",
  "  set.seed(seed)",
  "  r <- runner(defn, view, initialize_state(defn, view, assignment = start, feature_hps = hps),",
  "              list(assign_kernel()))",
  "  t <- system.time(run(r, 20))",
  "  t[['user.self']] + t[['sys.self']]",
  "}",
  "cat(sweep(NULL, 1), sweep(hps_distinct, 1), '\\n')"),
  one)
rscript <- file.path(R.home("bin"), "Rscript")
res <- list(baseline = list(), new = list())
for (p in seq_len(pairs)) {
  for (which in if (p %% 2) names(libs) else rev(names(libs))) {
    out <- system2(rscript, c("--vanilla", one, libs[[which]]), stdout = TRUE)
    res[[which]][[p]] <- scan(text = utils::tail(out, 1), quiet = TRUE)
  }
}
for (variant in c("a = b = 1", "distinct a_d, b_d")) {
  cols <- if (variant == "a = b = 1") 1 else 2
  b <- unlist(lapply(res$baseline, `[`, cols))
  v <- unlist(lapply(res$new, `[`, cols))
  cat(sprintf("20 assign sweeps (%s), CPU, %d runs each: median baseline %.3f s, new %.3f s, ratio %.3f; median of paired ratios %.3f\n",
              variant, length(v), stats::median(b), stats::median(v),
              stats::median(v) / stats::median(b), stats::median(v / b)))
}
