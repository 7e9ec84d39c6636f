# The feature-block seam (issue 11, DECISIONS "Model library"): for
# beta-Bernoulli-only definitions the chains are those of the build before
# the seam, to the bit. The baseline build (main before the seam) is
# installed in MICROSCOPES_SEAM_BASELINE_LIB (default /work/lib-main); each
# build runs in its own process. slice_feature_hp draws from per-feature
# streams since issue 15 (DECISIONS "Speed at K": chains change once), so
# the configurations here leave it out; its exactness is the enumeration
# tests' and its thread independence test-feature-hp-threads.R's.
test_that("bb-only chains are those of the build before the seam, to the bit", {
  baseline <- other_build("MICROSCOPES_SEAM_BASELINE_LIB", "/work/lib-main")
  script <- function(lib) {
    sprintf('
      suppressMessages(library(microscopes, lib.loc = "%s"))
      set.seed(23)
      n <- 240; D <- 24
      prototypes <- matrix(runif(5 * D), 5, D)
      Y <- matrix(runif(n * D) < prototypes[sample.int(5, n, TRUE), ], n, D)
      Y_na <- Y
      Y_na[sample.int(n * D, 150)] <- NA
      defn <- model_definition(n, rep(list(beta_bernoulli()), D))
      configs <- list(
        default = list(assign_kernel(), split_merge_kernel(), slice_cluster_hp_kernel()),
        gibbs = list(assign_kernel(), slice_cluster_hp_kernel()),
        grid = list(grid_feature_hp_kernel(grid = expand.grid(alpha = c(0.5, 2), beta = c(0.5, 2))),
                    assign_kernel(), split_merge_kernel(method = "sams")))
      starts <- list(crp = NULL, singletons = seq_len(n))
      out <- list()
      for (data in c("Y", "Y_na")) for (start in names(starts)) for (kc in names(configs)) {
        X <- get(data)
        runners <- lapply(1:2, function(j)
          runner(defn, X, initialize_state(defn, X, assignment = starts[[start]]), configs[[kc]]))
        pr <- parallel_runner(runners, threads = 2)
        run(pr, 6)
        latents <- get_latents(pr)
        # A resumed runner continues the same chain.
        r2 <- runner(defn, X, latents[[1]], configs[[kc]])
        run(r2, 3)
        tr <- chain_trace(pr)
        out[[paste(data, start, kc)]] <- list(
          trace = tr[, c("chain", "iteration", "n_groups", "alpha", "log_joint")],
          latents = latents, resumed = get_latent(r2),
          score = score_data(latents[[2]]))
      }
      saveRDS(out, commandArgs(TRUE)[1])', lib)
  }
  old <- run_script_with(script, baseline)
  new <- run_script_with(script, this_build())
  expect_identical(names(new), names(old))
  expect_length(old, 12)
  # The saved-state format gained fields since (format 3: the partition
  # prior); they say what the state is, not where the chain went.
  strip <- function(state) {
    state[c("partition_prior", "format_version")] <- NULL
    state
  }
  for (case in names(old)) {
    # Everything: assignments with their group ids, counts, hyperparameters,
    # the stream, the active order and the ghost; traces and scores.
    for (side in c("new", "old")) {
      x <- get(side)[[case]]
      x$latents <- lapply(x$latents, strip)
      x$resumed <- strip(x$resumed)
      assign(paste0(side, "_case"), x)
    }
    expect_identical(new_case, old_case, label = case)
    expect_identical(new[[case]]$latents[[1]]$partition_prior, list(name = "crp"))
  }
})
