# A reproducible large-K workload (issue 15): a saved state of binarised
# MNIST 2s and 3s (14,131 x 784) with K about 170 (made with target_K = 160: the Gibbs iterations after the
# split moves add groups), the number of groups the
# Gibbs-only chains sit at after a few hundred iterations.
#
# Source it (bench/large_k.R does) and call large_k_state(): the state is
# made once and cached OUTSIDE the repository (MNIST and anything derived
# from single digits must never be committed). The cache directory is
# MICROSCOPES_BENCH_CACHE, else tools::R_user_dir("microscopes", "cache").
# MNIST: MICROSCOPES_MNIST_DIR, else ../shared/mnist.
#
# How the state is made (seed 15): one group, then iterations of assign +
# split-merge (10 proposals, restricted Gibbs) + both hyperparameter kernels
# until K >= target_K, then 10 iterations of Gibbs plus hyperparameters
# (no split-merge), so that the rows have settled into the groups the
# split moves made. The saved state carries its random stream, so every
# runner built from it runs the same chain: a benchmark's iteration starts
# from the same place every time, whichever build makes the state (the
# cached file is what makes runs of two builds comparable; delete it to
# remake it).

large_k_mnist <- function() {
  mnist_dir <- Sys.getenv("MICROSCOPES_MNIST_DIR", file.path("..", "shared", "mnist"))
  if (!dir.exists(mnist_dir)) {
    stop(sprintf("MNIST not found in '%s': set MICROSCOPES_MNIST_DIR.", mnist_dir), call. = FALSE)
  }
  mnist <- microscopes::read_mnist(normalizePath(mnist_dir), digits = c(2, 3))
  Y <- mnist$images > 0
  list(view = microscopes::dataview(Y),
       defn = microscopes::model_definition(nrow(Y), rep(list(microscopes::beta_bernoulli()), ncol(Y))))
}

large_k_cache_dir <- function() {
  dir <- Sys.getenv("MICROSCOPES_BENCH_CACHE", tools::R_user_dir("microscopes", "cache"))
  dir.create(dir, recursive = TRUE, showWarnings = FALSE)
  dir
}

gibbs_hp_config <- function() {
  structure(list(microscopes::assign_kernel(), microscopes::slice_cluster_hp_kernel(),
                 microscopes::slice_feature_hp_kernel()),
            class = "microscopes_kernel_config")
}

large_k_state <- function(mnist = large_k_mnist(), target_K = 160L, seed = 15L, verbose = TRUE) {
  path <- file.path(large_k_cache_dir(), sprintf("mnist23_state_K%d_seed%d.rds", target_K, seed))
  if (file.exists(path)) return(readRDS(path))
  defn <- mnist$defn
  view <- mnist$view
  set.seed(seed)
  s <- microscopes::initialize_state(defn, view, assignment = rep(1L, defn$n))
  grow <- structure(list(microscopes::assign_kernel(), microscopes::split_merge_kernel(proposals = 10),
                         microscopes::slice_cluster_hp_kernel(), microscopes::slice_feature_hp_kernel()),
                    class = "microscopes_kernel_config")
  r <- microscopes::runner(defn, view, s, grow)
  it <- 0L
  while (microscopes::n_groups(microscopes::get_latent(r)) < target_K && it < 200L) {
    microscopes::run(r, 1)
    it <- it + 1L
    if (verbose) message(sprintf("  iteration %d: K = %d", it, microscopes::n_groups(microscopes::get_latent(r))))
  }
  r <- microscopes::runner(defn, view, microscopes::get_latent(r), gibbs_hp_config())
  microscopes::run(r, 10)
  s <- microscopes::get_latent(r)
  if (verbose) message(sprintf("  after 10 Gibbs + hp iterations: K = %d; saved to %s",
                               microscopes::n_groups(s), path))
  saveRDS(s, path)
  s
}
