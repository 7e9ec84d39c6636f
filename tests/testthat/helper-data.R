# Small synthetic binary data sets for tests: rows drawn from a few
# prototypes so that the samplers have structure to find.
make_binary_data <- function(n = 60, D = 10, n_prototypes = 3, noise = 0.1,
                             missing = 0, seed = 1) {
  withr::with_seed(seed, {
    prototypes <- matrix(runif(n_prototypes * D) < 0.5, n_prototypes, D)
    which_prototype <- sample.int(n_prototypes, n, replace = TRUE)
    Y <- prototypes[which_prototype, , drop = FALSE]
    flip <- matrix(runif(n * D) < noise, n, D)
    Y <- xor(Y, flip)
    if (missing > 0) Y[matrix(runif(n * D) < missing, n, D)] <- NA
    Y
  })
}

make_workflow <- function(Y, kernel_config = NULL) {
  view <- dataview(Y)
  defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
  if (is.null(kernel_config)) kernel_config <- default_kernel_config(defn)
  list(view = view, defn = defn, kc = kernel_config)
}

state_fingerprint <- function(s) {
  list(assignments(s), get_cluster_hp(s)$alpha, feature_hps(s))
}
