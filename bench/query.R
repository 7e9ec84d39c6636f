# Benchmark of posterior-predictive queries (issue 5).
#
#   Rscript bench/query.R            # after R CMD INSTALL .
#
# 2,000 queries x 784 features, bottom half (features 393:784) missing, over
# 5 latent states with ~25 groups each, samples_per_chain = 10; also the 8
# seed queries, the exact mode, zmatrix and point_partition. MNIST-like
# synthetic data (25 prototypes, ~19% of entries on) so that the script needs
# no download; states are built by hand from the data and a perturbed
# partition, as get_latents() would return them. Reports the median of 5 runs.
library(microscopes)

n_train <- 6000
n_query <- 2000
D <- 784
K <- 25
n_states <- 5

set.seed(2024)
proto <- matrix(rbeta(K * D, 0.15, 0.65), K, D)   # mean ~0.19
draw_rows <- function(n) {
  z <- sample(K, n, replace = TRUE)
  list(z = z, Y = matrix(runif(n * D) < proto[z, ], n, D))
}
train <- draw_rows(n_train)
query <- draw_rows(n_query)

make_state <- function(Y, z, alpha = 1, hps = c(1, 1)) {
  groups <- sort(unique(z))
  f <- factor(z, levels = groups)
  heads <- rowsum(1L * (Y == 1), f, na.rm = TRUE)
  tails <- rowsum(1L * (Y == 0), f, na.rm = TRUE)
  dimnames(heads) <- dimnames(tails) <- NULL
  structure(list(
    n = nrow(Y), D = ncol(Y), assignments = as.integer(z),
    groups = groups, group_sizes = as.integer(tabulate(f, length(groups))),
    heads = heads, tails = tails, cluster_hp = list(alpha = alpha),
    feature_hps = matrix(hps, ncol(Y), 2, byrow = TRUE,
                         dimnames = list(NULL, c("alpha", "beta"))),
    models = rep("beta_bernoulli", ncol(Y))
  ), class = "microscopes_state")
}
infers <- lapply(seq_len(n_states), function(s) {
  z <- train$z
  moved <- sample(n_train, n_train %/% 20)   # 5% of rows moved per state
  z[moved] <- sample(K + 1, length(moved), replace = TRUE)
  make_state(train$Y, z, alpha = runif(1, 0.5, 3))
})
cat(sprintf("states: %s groups\n",
            paste(vapply(infers, function(s) length(s$groups), 1L),
                  collapse = ", ")))

queries <- query$Y
queries[, 393:784] <- NA

median_ms <- function(expr, times = 5) {
  f <- function() eval(expr, parent.frame(2))
  f()  # warm-up
  ms <- vapply(seq_len(times), function(i) {
    t0 <- proc.time()[["elapsed"]]
    f()
    1000 * (proc.time()[["elapsed"]] - t0)
  }, numeric(1))
  median(ms)
}

threads <- microscopes_threads()
report <- function(label, expr) {
  cat(sprintf("%-62s %8.1f ms\n", label, median_ms(substitute(expr))))
}
cat(sprintf("threads: %d (microscopes_threads())\n", threads))
report("8 queries, avg, 5 states x 10 samples",
       posterior_predictive_statistic(queries[1:8, ], infers,
                                      samples_per_chain = 10))
report("2000 queries, avg, 5 states x 10 samples",
       posterior_predictive_statistic(queries, infers, samples_per_chain = 10))
report("2000 queries, avg, 5 states x 10 samples, 1 thread",
       posterior_predictive_statistic(queries, infers, samples_per_chain = 10,
                                      threads = 1))
report("2000 queries, mode, 5 states x 10 samples",
       posterior_predictive_statistic(queries, infers, samples_per_chain = 10,
                                      merge = "mode"))
report("2000 queries, exact, 5 states",
       posterior_predictive_statistic(queries, infers, exact = TRUE))
report("2000 queries, exact, 5 states, 1 thread",
       posterior_predictive_statistic(queries, infers, exact = TRUE,
                                      threads = 1))
report("2000 queries, posterior_predictive, 5 states x 10 samples",
       posterior_predictive(queries, infers, samples_per_chain = 10))
report(sprintf("point_partition, %d rows, 5 states", n_train),
       point_partition(infers))
report(sprintf("zmatrix, %d rows, 5 states", n_train), zmatrix(infers))

# sanity: how well the exact query fills in the bottom halves
p <- posterior_predictive_statistic(queries, infers, exact = TRUE)
miss <- is.na(queries)
cat(sprintf("exact query: mean |p - truth| on missing entries = %.3f (prior-only: %.3f)\n",
            mean(abs(p[miss] - query$Y[miss])),
            mean(abs(mean(train$Y) - query$Y[miss]))))
