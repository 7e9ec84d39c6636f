# The MNIST 2-vs-3 showcase, end to end: the datamicroscopes seed job timed,
# a fit with its convergence diagnostics (R-hat and bulk ESS of the log
# joint and of K, from the posterior package), the cluster images and the
# half-image predictions.
#
# Usage (from anywhere):
#   MICROSCOPES_MNIST_DIR=/path/to/mnist Rscript mnist_demo.R [output_dir] [iterations]
# MNIST is found through MICROSCOPES_MNIST_DIR, then the user cache (see
# ?read_mnist). Writes clusters.png, clusters_by_size.png, predictions.png,
# infers.rds and results.rds to output_dir (default: mnist-demo-output).
suppressPackageStartupMessages(library(microscopes))

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[[1]] else "mnist-demo-output"
n_iterations <- if (length(args) >= 2) as.integer(args[[2]]) else 60L
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
options(microscopes.progress = interactive())
n_chains <- 5L
cat(sprintf("microscopes %s, %d threads\n", packageVersion("microscopes"), microscopes_threads()))

mnist <- read_mnist(digits = c(2, 3))
set.seed(2015)
shuffle <- sample(nrow(mnist$images))
Y <- binarize(mnist$images[shuffle, ])
labels <- mnist$labels[shuffle]
is_train <- mnist$set[shuffle] == "train"
cat(sprintf("%d digits (%d twos, %d threes), %d pixels, %.1f%% on\n",
            nrow(Y), sum(labels == 2), sum(labels == 3), ncol(Y), 100 * mean(Y)))

make_chains <- function(Y) {
  view <- dataview(Y)
  defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
  kc <- default_kernel_config(defn)
  latents <- lapply(seq_len(n_chains), function(i) initialize_state(defn, view))
  parallel_runner(lapply(latents, function(s) runner(defn, view, s, kc)))
}

# 1. The seed job exactly: all 14,131 digits, random start, 5 chains x 5
#    iterations of the default kernels.
r <- make_chains(Y)
seed_seconds <- system.time(run(r, niters = 5))[["elapsed"]]
cat(sprintf("Seed job (5 chains x 5 iterations): %.2f s; datamicroscopes took 156.39 min (%.0fx)\n",
            seed_seconds, 156.39 * 60 / seed_seconds))
rm(r)

# 2. A fit on MNIST's training 2s and 3s; its test 2s and 3s stay unseen
#    for prediction. Whether it has converged is measured below, not
#    assumed: 60 iterations of Gibbs alone are far from it.
r <- make_chains(Y[is_train, ])
fit_seconds <- system.time(run(r, niters = n_iterations))[["elapsed"]]
trace <- chain_trace(r)
cat(sprintf("Fit: %d chains x %d iterations on %d training digits: %.1f s\n",
            n_chains, n_iterations, sum(is_train), fit_seconds))
print(trace[trace$iteration %% 10 == 0 | trace$iteration == 1, ], row.names = FALSE)
diagnostics <- NULL
if (requireNamespace("posterior", quietly = TRUE)) {
  half <- trace[trace$iteration > n_iterations / 2, ]
  by_chain <- function(column) sapply(split(half[[column]], half$chain), identity)
  diagnostics <- data.frame(
    quantity = c("log_joint", "n_groups"),
    rhat = c(posterior::rhat(by_chain("log_joint")), posterior::rhat(by_chain("n_groups"))),
    ess_bulk = c(posterior::ess_bulk(by_chain("log_joint")),
                 posterior::ess_bulk(by_chain("n_groups"))))
  cat(sprintf("Over iterations %d-%d: R-hat log joint %.3f, K %.3f; bulk ESS %.1f, %.1f%s\n",
              min(half$iteration), n_iterations, diagnostics$rhat[1], diagnostics$rhat[2],
              diagnostics$ess_bulk[1], diagnostics$ess_bulk[2],
              if (any(diagnostics$rhat > 1.01)) " (R-hat > 1.01: not converged)" else ""))
} else {
  cat("Install the posterior package for R-hat and effective sample sizes.\n")
}

infers_file <- file.path(out_dir, "infers.rds")
saveRDS(get_latents(r), infers_file)
infers <- readRDS(infers_file)
best <- which.max(vapply(infers, function(s) score_assignment(s) + score_data(s), numeric(1)))

# 3. The learned clusters: each group's posterior mean image.
plot_clusters(infers[[best]], file = file.path(out_dir, "clusters.png"))
plot_clusters(infers[[best]], scale_by_size = TRUE, file = file.path(out_dir, "clusters_by_size.png"))

# 4. Predict the bottom half of unseen digits from their top half.
test_rows <- which(!is_train)
bottom <- 393:784
queries <- Y[test_rows, ]
queries[, bottom] <- NA
shown <- c(head(test_rows[labels[test_rows] == 2], 4), head(test_rows[labels[test_rows] == 3], 4))
shown_queries <- Y[shown, ]
shown_queries[, bottom] <- NA
predicted <- posterior_predictive_statistic(shown_queries, infers, samples_per_chain = 10, merge = "avg")
plot_predictions(predicted, truth = Y[shown, ], observed_rows = 14,
                 file = file.path(out_dir, "predictions.png"))

# 5. Numbers to trust.
purity <- cluster_purity(infers, labels[is_train])
label_prob <- predict_labels(queries, infers, labels[is_train])
accuracy <- mean(colnames(label_prob)[max.col(label_prob, ties.method = "first")] ==
                   as.character(labels[test_rows]))
p_bottom <- posterior_predictive_statistic(queries, infers, exact = TRUE)[, bottom]
marginal <- colMeans(Y[is_train, bottom])
truth <- Y[test_rows, bottom]
log_loss <- bernoulli_log_loss(p_bottom, truth)
baseline <- bernoulli_log_loss(matrix(marginal, nrow(truth), length(marginal), byrow = TRUE), truth)

# The stored results keep only aggregates of at least 10 digits: the best
# chain's groups of >= 10 digits (their counts and the hyperparameters, for
# plot_clusters()), without the per-digit assignments.
stored_state <- infers[[best]]
keep <- stored_state$group_sizes >= 10
stored_state$groups <- stored_state$groups[keep]
stored_state$group_sizes <- stored_state$group_sizes[keep]
stored_state$heads <- stored_state$heads[keep, , drop = FALSE]
stored_state$tails <- stored_state$tails[keep, , drop = FALSE]
stored_state$assignments <- NULL

results <- list(
  seed_seconds = seed_seconds, fit_seconds = fit_seconds, n_iterations = n_iterations,
  n_chains = n_chains, threads = microscopes_threads(), n_train = sum(is_train),
  n_test = length(test_rows), n_groups = vapply(infers, n_groups, integer(1)),
  purity = purity, accuracy = accuracy, log_loss = log_loss, baseline_log_loss = baseline,
  trace = trace, diagnostics = diagnostics, state = stored_state
)
saveRDS(results, file.path(out_dir, "results.rds"), compress = "xz")
cat(sprintf("Groups per chain: %s\n", paste(results$n_groups, collapse = " ")))
cat(sprintf("Cluster purity (training digits): %.3f (chains %s)\n", mean(purity),
            paste(sprintf("%.3f", purity), collapse = " ")))
cat(sprintf("2-vs-3 accuracy from the top half alone (%d unseen digits): %.3f\n",
            length(test_rows), accuracy))
cat(sprintf("Bottom-half log loss: %.4f nats/pixel (per-pixel marginal baseline %.4f, %.1f%% lower)\n",
            log_loss, baseline, 100 * (1 - log_loss / baseline)))
cat(sprintf("Wrote %s\n", paste(list.files(out_dir), collapse = ", ")))
