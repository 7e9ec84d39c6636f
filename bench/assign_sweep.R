# One assign sweep on synthetic data shaped like binarised MNIST, against a
# hand-written single-threaded C reference (bench/reference_sweep.c).
#
# Run from the repository root with the package installed:
#   Rscript bench/assign_sweep.R
# Data: n = 14000 rows, D = 784 features, ~21% ones, drawn from 25 random
# prototype images with noise. Start: the true groups with 20% of the rows
# relabelled at random, so K stays near 25 and a share of rows moves in the
# sweep similar to the seed workload's later sweeps. Hyperparameters fixed
# (a = b = 1, alpha = 1) for both samplers; ours is also timed with distinct
# per-feature hyperparameters (its path once a hyperparameter kernel has
# run: one log() per observed feature of each moved row).
# Reported: medians over interleaved runs of sweep seconds and nanoseconds
# per row-group score (sweep time / (n x candidates per row)), and ratios
# ours / reference from the same runs.

suppressMessages(library(microscopes))

reps <- as.integer(Sys.getenv("BENCH_REPS", "7"))
n <- 14000L
D <- 784L
K_true <- 25L

set.seed(20240501)
ink <- matrix(stats::runif(K_true * D) < 0.23, K_true, D)
p_on <- ifelse(ink, 0.85, 0.025)
labels <- sample.int(K_true, n, replace = TRUE)
Y <- matrix(stats::runif(n * D) < p_on[labels, ], n, D)
start <- labels
relabel <- sample.int(n, round(0.2 * n))
start[relabel] <- sample.int(K_true, length(relabel), replace = TRUE)
hps_distinct <- cbind(alpha = stats::runif(D, 0.3, 3), beta = stats::runif(D, 0.3, 3))

# ---- the reference, compiled with R's own flags into a temporary dir ----
build_reference <- function() {
  dir <- tempfile("reference_sweep")
  dir.create(dir)
  src <- file.path(dir, "reference_sweep.c")
  file.copy(file.path("bench", "reference_sweep.c"), src)
  so <- file.path(dir, paste0("reference_sweep", .Platform$dynlib.ext))
  out <- system2(file.path(R.home("bin"), "R"), c("CMD", "SHLIB", "-o", shQuote(so), shQuote(src)),
                 stdout = TRUE, stderr = TRUE)
  if (!file.exists(so)) stop("could not compile bench/reference_sweep.c:\n", paste(out, collapse = "\n"))
  dyn.load(so)
  so
}
so <- build_reference()
x_row_major <- as.integer(t(Y))

reference_run <- function(variant, seed) {
  res <- .C("reference_sweep", n, D, x_row_major, z = as.integer(start - 1L), 256L,
            1, 1, 1, 1L, as.integer(seed), as.integer(variant),
            seconds = double(1), moves = integer(1), candidates = double(1), status = integer(1))
  if (res$status != 0L) stop("reference_sweep ran out of memory")
  c(seconds = res$seconds, candidates = res$candidates, moves = res$moves,
    K = length(unique(res$z)))
}

# ---- ours ----
view <- dataview(Y)
defn <- model_definition(n, rep(list(beta_bernoulli()), D))
ours_run <- function(feature_hps, seed) {
  set.seed(seed)
  s0 <- initialize_state(defn, view, assignment = start, feature_hps = feature_hps)
  r <- runner(defn, view, s0, list(assign_kernel()))
  run(r, 1)
  s1 <- get_latent(r)
  K0 <- n_groups(s0)
  K1 <- n_groups(s1)
  # Candidates per row: the groups plus the new one (a singleton's own
  # group is the new one), about the mean of K before and after, plus one.
  c(seconds = microscopes:::kernel_seconds(r)[["assign"]],
    candidates = (K0 + K1) / 2 + 1, moves = sum(assignments(s1) != start), K = K1)
}

runs <- list(ours = list(), ours_distinct = list(), dense = list(), sparse = list())
for (i in seq_len(reps)) {
  runs$ours[[i]] <- ours_run(NULL, i)
  runs$ours_distinct[[i]] <- ours_run(hps_distinct, i)
  runs$dense[[i]] <- reference_run(0L, i)
  runs$sparse[[i]] <- reference_run(1L, i)
}
summarise <- function(x) {
  m <- do.call(rbind, x)
  ns <- m[, "seconds"] / (n * m[, "candidates"]) * 1e9
  c(seconds = stats::median(m[, "seconds"]), ns_per_score = stats::median(ns),
    candidates = stats::median(m[, "candidates"]), moves = stats::median(m[, "moves"]),
    K = stats::median(m[, "K"]))
}
table <- t(sapply(runs, summarise))
rownames(table) <- c("microscopes, a = b = 1", "microscopes, distinct a_d, b_d",
                     "reference: dense (score from counts)", "reference: sparse (cached per group)")
ratio <- function(a, b) stats::median(sapply(seq_len(reps), function(i) {
  (runs[[a]][[i]][["seconds"]] / runs[[a]][[i]][["candidates"]]) /
    (runs[[b]][[i]][["seconds"]] / runs[[b]][[i]][["candidates"]])
}))

cat(sprintf("assign sweep, n = %d, D = %d, %.1f%% ones, %d prototypes; %d interleaved runs (medians)\n",
            n, D, 100 * mean(Y), K_true, reps))
print(round(table, 4))
cat("\nper-score time ratios (median of per-run ratios, same runs):\n")
cat(sprintf("  ours (a = b = 1) / reference dense   : %.3f\n", ratio("ours", "dense")))
cat(sprintf("  ours (a = b = 1) / reference sparse  : %.3f\n", ratio("ours", "sparse")))
cat(sprintf("  ours (distinct)  / reference dense   : %.3f\n", ratio("ours_distinct", "dense")))
cat(sprintf("  ours (distinct)  / reference sparse  : %.3f\n", ratio("ours_distinct", "sparse")))
