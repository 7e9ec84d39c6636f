# The MNIST 2-vs-3 showcase, end to end: the datamicroscopes seed job timed,
# a dpmixture() fit with its convergence diagnostics (rank-normalised split
# R-hat and bulk ESS of K, alpha and the log joint, from the posterior
# package), the cluster images, the half-image predictions, and the quality
# figures: purity, adjusted Rand index and 2-vs-3 accuracy, and the
# held-out bottom-half log loss three ways.
#
# Usage (from anywhere):
#   MICROSCOPES_MNIST_DIR=/path/to/mnist Rscript mnist_demo.R [output_dir] [iterations]
# MNIST is found through MICROSCOPES_MNIST_DIR, then the user cache (see
# ?read_mnist). Writes clusters.png, clusters_by_size.png, predictions.png,
# fit.rds and results.rds to output_dir (default: mnist-demo-output).
# results.rds holds only aggregates (cluster statistics of groups of at
# least 10 digits, traces, summary numbers), never an individual digit:
# it is what inst/extdata/mnist_results.rds is made from.
suppressPackageStartupMessages(library(microscopes))

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[[1]] else "mnist-demo-output"
n_iterations <- if (length(args) >= 2) as.integer(args[[2]]) else 60L
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
options(microscopes.progress = interactive())
n_chains <- 5L
draws_per_chain <- 10L  # kept draws per chain used for the held-out queries
started <- proc.time()[["elapsed"]]
cat(sprintf("microscopes %s, %d threads\n", packageVersion("microscopes"), microscopes_threads()))

mnist <- read_mnist(digits = c(2, 3))
set.seed(2015)
shuffle <- sample(nrow(mnist$images))
Y <- binarize(mnist$images[shuffle, ])
labels <- mnist$labels[shuffle]
is_train <- mnist$set[shuffle] == "train"
cat(sprintf("%d digits (%d twos, %d threes), %d pixels, %.1f%% on\n",
            nrow(Y), sum(labels == 2), sum(labels == 3), ncol(Y), 100 * mean(Y)))

# 1. The seed job exactly, in the datamicroscopes workflow: all 14,131
#    digits, random start, 5 chains x 5 iterations of the default kernels.
view <- dataview(Y)
defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
kc <- default_kernel_config(defn)
latents <- lapply(seq_len(n_chains), function(i) initialize_state(defn, view))
r <- parallel_runner(lapply(latents, function(s) runner(defn, view, s, kc)))
seed_seconds <- system.time(run(r, niters = 5))[["elapsed"]]
cat(sprintf("Seed job (5 chains x 5 iterations): %.2f s; datamicroscopes took 156.39 min (%.0fx)\n",
            seed_seconds, 156.39 * 60 / seed_seconds))
rm(r, latents)

# 2. A fit on MNIST's training 2s and 3s; its test 2s and 3s stay unseen
#    for prediction. The second half of the iterations is kept.
train <- Y[is_train, ]
train_labels <- labels[is_train]
fit_seconds <- system.time(
  fit <- dpmixture(train, chains = n_chains, iter = n_iterations,
                   warmup = n_iterations %/% 2, seed = 2015)
)[["elapsed"]]
trace <- chain_trace(fit$runners)
saveRDS(fit, file.path(out_dir, "fit.rds"))
cat(sprintf("Fit: %d chains x %d iterations (%d kept) on %d training digits: %.1f s\n",
            n_chains, n_iterations, n_iterations - n_iterations %/% 2, nrow(train), fit_seconds))
print(trace[trace$iteration %% 10 == 0 | trace$iteration == 1, ], row.names = FALSE)

draws <- as.data.frame(fit)[, c("chain", "iteration", "n_groups", "alpha", "log_joint")]
diagnostics <- NULL
if (requireNamespace("posterior", quietly = TRUE)) {
  by_chain <- function(column) sapply(split(draws[[column]], draws$chain), identity)
  quantities <- c(K = "n_groups", alpha = "alpha", "log joint" = "log_joint")
  diagnostics <- data.frame(
    quantity = names(quantities),
    median = vapply(quantities, function(q) median(draws[[q]]), numeric(1)),
    rhat = vapply(quantities, function(q) posterior::rhat(by_chain(q)), numeric(1)),
    ess_bulk = vapply(quantities, function(q) posterior::ess_bulk(by_chain(q)), numeric(1)),
    row.names = NULL)
  cat(sprintf("Over the kept iterations %d-%d of %d chains:\n", min(draws$iteration),
              max(draws$iteration), n_chains))
  print(diagnostics, row.names = FALSE)
} else {
  cat("Install the posterior package for R-hat and effective sample sizes.\n")
}

# Latent states of kept draws, for the queries: `draws_per_chain` evenly
# spaced kept draws of each chain (the exact queries cost one pass over the
# test digits per state).
z <- partition_draws(fit)
hps <- as.matrix(as.data.frame(fit)[, -(1:5)])
D <- ncol(train)
draw_state <- function(t) {
  initialize_state(fit$defn, fit$data, cluster_hp = list(alpha = draws$alpha[t]),
                   feature_hps = cbind(hps[t, seq_len(D)], hps[t, D + seq_len(D)]),
                   assignment = z[t, ])
}
picked <- unlist(lapply(split(seq_len(nrow(draws)), draws$chain), function(rows) {
  rows[unique(round(seq(1, length(rows), length.out = min(draws_per_chain, length(rows)))))]
}))
states <- lapply(picked, draw_state)
picked_chain <- draws$chain[picked]

# The point partition (posterior expected VI loss) and a state holding it.
partition_seconds <- system.time(partition <- point_partition(fit))[["elapsed"]]
point_state <- initialize_state(fit$defn, fit$data,
                                cluster_hp = list(alpha = median(draws$alpha)),
                                feature_hps = cbind(colMeans(hps[, seq_len(D)]),
                                                    colMeans(hps[, D + seq_len(D)])),
                                assignment = as.integer(partition))
cat(sprintf("Point partition: %d groups (%.1f s)\n", n_groups(point_state), partition_seconds))

# 3. The learned clusters: each group's posterior mean image.
plot_clusters(point_state, file = file.path(out_dir, "clusters.png"))
plot_clusters(point_state, scale_by_size = TRUE, file = file.path(out_dir, "clusters_by_size.png"))

# 4. Predict the bottom half of unseen digits from their top half, over
#    the kept draws of all chains: the exact posterior predictive
#    probabilities.
test_rows <- which(!is_train)
bottom <- 393:784
queries <- Y[test_rows, ]
queries[, bottom] <- NA
shown <- c(head(test_rows[labels[test_rows] == 2], 4), head(test_rows[labels[test_rows] == 3], 4))
shown_queries <- Y[shown, ]
shown_queries[, bottom] <- NA
predicted <- posterior_predictive_statistic(shown_queries, states, exact = TRUE)
plot_predictions(predicted, truth = Y[shown, ], observed_rows = 14,
                 file = file.path(out_dir, "predictions.png"))

# 5. Numbers to trust.
#    Agreement of the point partition with the 2/3 labels.
purity <- cluster_purity(point_state, train_labels)
ari <- adjusted_rand_index(partition, train_labels)
singleton_ari <- adjusted_rand_index(seq_along(train_labels), train_labels)
final_purity <- cluster_purity(fit$states, train_labels)
final_ari <- vapply(fit$states, function(s) adjusted_rand_index(s$assignments, train_labels), numeric(1))
#    2-vs-3 from the top half, over the kept draws of all chains.
label_prob <- predict_labels(queries, states, train_labels)
accuracy <- mean(colnames(label_prob)[max.col(label_prob, ties.method = "first")] ==
                   as.character(labels[test_rows]))
#    Held-out bottom-half log loss of the exact posterior predictive, three
#    ways, and the per-pixel marginal baseline.
truth <- Y[test_rows, bottom]
held_out <- function(infers) {
  bernoulli_log_loss(posterior_predictive_statistic(queries, infers, exact = TRUE)[, bottom], truth)
}
query_seconds <- system.time({
  log_loss <- c(
    final_state = held_out(fit$states[[1]]),
    one_chain_draws = held_out(states[picked_chain == 1]),
    all_chains_draws = held_out(states))
})[["elapsed"]]
final_state_each <- vapply(fit$states, held_out, numeric(1))
marginal <- colMeans(train[, bottom])
baseline <- bernoulli_log_loss(matrix(marginal, nrow(truth), length(marginal), byrow = TRUE), truth)

# The stored results keep only aggregates of at least 10 digits: the point
# partition's groups of >= 10 digits (their counts and the hyperparameters,
# for plot_clusters()), without the per-digit assignments.
stored_state <- point_state
keep <- stored_state$group_sizes >= 10
stored_state$groups <- stored_state$groups[keep]
stored_state$group_sizes <- stored_state$group_sizes[keep]
stored_state$heads <- stored_state$heads[keep, , drop = FALSE]
stored_state$tails <- stored_state$tails[keep, , drop = FALSE]
stored_state$assignments <- NULL
stopifnot(all(stored_state$group_sizes >= 10))

results <- list(
  seed_seconds = seed_seconds, fit_seconds = fit_seconds, n_iterations = n_iterations,
  warmup = n_iterations %/% 2, n_chains = n_chains, draws_per_chain = draws_per_chain,
  threads = microscopes_threads(), n_train = nrow(train), n_test = length(test_rows),
  n_groups = vapply(fit$states, n_groups, integer(1)), point_groups = n_groups(point_state),
  purity = purity, ari = ari, singleton_ari = singleton_ari,
  final_purity = final_purity, final_ari = final_ari, accuracy = accuracy,
  log_loss = log_loss, final_state_log_loss = final_state_each, baseline_log_loss = baseline,
  trace = trace, draws = draws, diagnostics = diagnostics, state = stored_state,
  partition_seconds = partition_seconds, query_seconds = query_seconds,
  total_seconds = proc.time()[["elapsed"]] - started
)
saveRDS(results, file.path(out_dir, "results.rds"), compress = "xz")
cat(sprintf("Groups per chain (final): %s; point partition %d\n",
            paste(results$n_groups, collapse = " "), results$point_groups))
cat(sprintf("Point partition vs labels: purity %.3f, ARI %.3f (singletons: purity 1, ARI %.3f)\n",
            purity, ari, singleton_ari))
cat(sprintf("Final states: purity %s; ARI %s\n", paste(sprintf("%.3f", final_purity), collapse = " "),
            paste(sprintf("%.3f", final_ari), collapse = " ")))
cat(sprintf("2-vs-3 accuracy from the top half alone (%d unseen digits): %.3f\n",
            length(test_rows), accuracy))
cat(sprintf("Bottom-half log loss (nats/pixel), baseline %.4f:\n", baseline))
cat(sprintf("  %-17s %.4f (%.1f%% below the baseline)\n", names(log_loss), log_loss,
            100 * (1 - log_loss / baseline)), sep = "")
cat(sprintf("  final state of each chain: %s\n", paste(sprintf("%.4f", final_state_each), collapse = " ")))
cat(sprintf("Queries %.1f s; total %.1f s\n", query_seconds, results$total_seconds))
cat(sprintf("Wrote %s\n", paste(list.files(out_dir), collapse = ", ")))
