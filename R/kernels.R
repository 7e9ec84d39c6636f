# Kernel constructors. A kernel configuration is a plain list of kernels that
# run() applies in order once per iteration; each kernel is a plain list, so
# configurations can be saved and printed.

kernel_kinds <- c(assign = 0L, slice_cluster_hp = 1L, slice_feature_hp = 2L,
                  grid_feature_hp = 3L, split_merge = 4L, assign_fixed = 5L,
                  assign_resample = 6L, theta = 7L)

split_merge_methods <- c(sams = 0L, restricted_gibbs = 1L, sequential_launch = 2L)

#' Priors for hyperparameters
#'
#' `prior_gamma(shape, rate)` is a Gamma prior, used for the CRP
#' concentration and, optionally, independently for each beta
#' hyperparameter. `prior_noninformative_beta()` is the default prior of a
#' feature's beta hyperparameters \eqn{(a, b)}: the density
#' \eqn{p(a, b) \propto (a + b)^{-5/2}} of datamicroscopes (and of Gelman et
#' al., *Bayesian Data Analysis*, section 5.3), restricted to the box
#' \eqn{[lower, upper]^2}.
#'
#' @section Why a bounded box:
#' On \eqn{(0, \infty)^2} this prior is improper near \eqn{a = b = 0}, and so
#' is the posterior of any feature that never varies inside a group (such as
#' the always-blank border pixels of MNIST): its likelihood stays bounded
#' away from zero as \eqn{a, b \to 0} while the prior's mass there is
#' infinite, so a slice sampler drifts towards zero without end. On the box
#' the posterior is proper for every data set. For such a feature the
#' sampled \eqn{(a, b)} then sit near `lower`, with \eqn{b} around
#' \eqn{K a / 2.5} for K groups; the predictive probability \eqn{a / (a + b)}
#' that a new group turns the feature on does not depend on `lower`. With
#' the partition summed over, even a feature that varies keeps some
#' posterior mass near zero (partitions that split it into pure groups,
#' such as all singletons, have a likelihood bounded near zero), so on small
#' data sets its sampled \eqn{(a, b)} may also reach `lower`; on data sets
#' the size of MNIST such partitions carry no weight and a varying feature's
#' posterior stays well inside the box. Use `prior_gamma()` instead for a
#' proper prior on the whole positive quadrant.
#'
#' @param shape,rate Shape and rate of the Gamma prior (both > 0).
#' @param lower,upper Bounds of the box for each of \eqn{a} and \eqn{b}
#'   (`0 < lower < upper`, `upper` may be `Inf`).
#' @return A `microscopes_prior` object.
#' @examples
#' prior_gamma(1, 1)
#' prior_noninformative_beta()
#' @export
prior_gamma <- function(shape = 1, rate = 1) {
  shape <- check_positive_number(shape, "shape")
  rate <- check_positive_number(rate, "rate")
  structure(list(name = "gamma", kind = 1L, shape = shape, rate = rate,
                 lower = 0, upper = Inf), class = "microscopes_prior")
}

#' @rdname prior_gamma
#' @export
prior_noninformative_beta <- function(lower = 0.01, upper = 1000) {
  lower <- check_positive_number(lower, "lower")
  if (!is.numeric(upper) || length(upper) != 1L || is.na(upper) || upper <= lower) {
    abort_arg("upper", sprintf("must be a single number greater than `lower` (%s).", format(lower)))
  }
  structure(list(name = "noninformative_beta", kind = 0L, shape = NA_real_,
                 rate = NA_real_, lower = lower, upper = as.double(upper)),
            class = "microscopes_prior")
}

#' @export
print.microscopes_prior <- function(x, ...) {
  if (x$name == "gamma") {
    cat(sprintf("<microscopes prior: Gamma(shape = %g, rate = %g)>\n", x$shape, x$rate))
  } else {
    cat(sprintf("<microscopes prior: (a + b)^(-5/2) on [%g, %g]^2>\n", x$lower, x$upper))
  }
  invisible(x)
}

as_feature_prior <- function(prior, call = caller_call()) {
  force(call)
  if (identical(prior, "noninformative_beta")) return(prior_noninformative_beta())
  if (inherits(prior, "microscopes_prior")) return(prior)
  abort_arg("prior", sprintf(
    "must be \"noninformative_beta\", `prior_noninformative_beta()` or `prior_gamma()`, not %s.",
    describe_value(prior)), call = call)
}

new_kernel <- function(name, features = NULL, prior = NULL, width = 1,
                       grid = NULL) {
  structure(list(name = name, kind = kernel_kinds[[name]], features = features,
                 prior = prior, width = width, grid = grid),
            class = "microscopes_kernel")
}

check_features <- function(features, call = caller_call()) {
  force(call)
  if (is.null(features)) return(NULL)
  ok <- is.numeric(features) && length(features) > 0L && !anyNA(features) &&
    all(is.finite(features)) && all(features == round(features)) && all(features >= 1) &&
    all(features <= .Machine$integer.max) && !anyDuplicated(features)
  if (!ok) {
    abort_arg("features", "must be NULL (all features) or distinct whole numbers >= 1.",
              call = call)
  }
  as.integer(features)
}

#' MCMC kernels
#'
#' The moves a [runner()] makes, applied in the order of the kernel
#' configuration once per iteration of [run()]:
#' * `assign_kernel()`: collapsed Gibbs sampling of every row's group, rows
#'   in random order, with one new empty group offered each time (Neal 2000,
#'   algorithm 3).
#' * `assign_fixed_kernel()`: the same for a finite mixture
#'   ([fixed_model_definition()], datamicroscopes' `assign_fixed`): a row
#'   joins a group of \eqn{m} other rows with weight \eqn{m + \alpha/K}
#'   and an empty group with weight \eqn{(K - K_+)\alpha/K}, \eqn{K_+} the
#'   number of groups the other rows fill (the empty labels are
#'   exchangeable, so one empty group stands for all of them); no empty
#'   group is offered when all \eqn{K} are in use.
#' * `slice_cluster_hp_kernel()`: slice sampling (Neal 2003) of the
#'   concentration \eqn{\alpha} given the partition: the CRP's, or for a
#'   finite mixture the total concentration of its Dirichlet(\eqn{\alpha/K},
#'   ..., \eqn{\alpha/K}) weights, under the same proper Gamma prior
#'   (Gamma(1, 1) by default).
#' * `slice_feature_hp_kernel()`: slice sampling of each feature's beta
#'   hyperparameters \eqn{(a, b)}, one coordinate at a time, given the groups'
#'   counts; see [prior_noninformative_beta()] for the default prior. Since
#'   version 0.5.0 it slices \eqn{\log a} and \eqn{\log b} (`scale =
#'   "log"`), so that `width` is a factor (\eqn{e^{width}}) whatever the
#'   hyperparameter's scale; `scale = "linear"` is the kernel of 0.4.0 and
#'   before, bit for bit, and a kernel object saved by those versions (which
#'   has no `scale`) runs it.
#' * `grid_feature_hp_kernel()`: a Gibbs step over a grid of \eqn{(a, b)}
#'   values for each feature.
#' * `split_merge_kernel()`: Metropolis-Hastings moves that split one group
#'   in two or merge two groups in one step, which single-row Gibbs moves
#'   cannot do (they must pass through improbable intermediate partitions).
#'   Each of `proposals` proposals per iteration is a split or a merge with
#'   probability 1/2, for a pair of rows drawn at random; a split is proposed
#'   by restricted Gibbs scans from a random launch (`"restricted_gibbs"`,
#'   Jain and Neal 2004, the default) or by sequential allocation
#'   (`"sams"`, Dahl 2003), and accepted with the exact ratio of the
#'   collapsed model (CRP prior, every feature's group marginal likelihood,
#'   the proposal probabilities both ways). `"sequential_launch"` is
#'   restricted Gibbs from a launch drawn by sequential allocation. The
#'   defaults were chosen by measurement on MNIST 2s and 3s
#'   (`bench/results.md`): from one group, restricted Gibbs with 3 launch
#'   scans raised the log joint faster per CPU second than SAMS or a
#'   sequential launch, and 50 proposals keep an iteration at K ~ 150 within
#'   about 1.5 times a Gibbs-only one. In a finite mixture the prior ratio
#'   is the finite mixture's, and a split is only proposed while fewer than
#'   \eqn{K} groups are in use (a split may only open an empty group).
#'
#' * `assign_resample_kernel(m)`: Neal's (2000) algorithm 8, for models
#'   with non-conjugate features ([beta_bernoulli_nonconj()], whose groups
#'   keep explicit parameters; datamicroscopes' `assign_resample`). Rows
#'   in random order; with the row left out, a group of \eqn{n_{-i,c}}
#'   other rows is offered with the partition prior's weight (the CRP's
#'   \eqn{n_{-i,c}}) times the row's likelihood given the group's
#'   parameters, and `m` auxiliary groups whose parameters are drawn from
#'   the prior, each with the new-group weight over `m`
#'   (\eqn{\alpha / m}); if the row was alone in its group, that group's
#'   parameters are the first auxiliary. Conjugate features of the same
#'   definition score their collapsed predictive (their prior predictive
#'   for an auxiliary), so collapsed and non-conjugate features may sit in
#'   one model. In a finite mixture ([fixed_model_definition()]) the
#'   weights are those of `assign_fixed` (an auxiliary
#'   \eqn{(K - K_+)\alpha / (K m)}, none when all \eqn{K} labels are in
#'   use): the same kernel serves both.
#' * `theta_kernel()`: every group's explicit parameters drawn from their
#'   conditional given the group's rows (for [beta_bernoulli_nonconj()]
#'   the exact Gibbs draw \eqn{p_k \sim \mathrm{Beta}(\alpha + h, \beta + t)}).
#'
#' `default_kernel_config(defn)` is `assign`, `split_merge`, then
#' `slice_cluster_hp`, then `slice_feature_hp` over all features
#' (datamicroscopes' configuration plus the split-merge moves); for a
#' finite mixture ([fixed_model_definition()]) it starts with
#' `assign_fixed` instead of `assign`. A definition with a
#' non-conjugate feature gets `assign_resample(m = 10)`, `theta`,
#' `slice_cluster_hp` and the `slice_feature_hp` kernels, as
#' datamicroscopes chooses for them, and no split-merge: its acceptance
#' ratio is that of the collapsed model (DECISIONS.md). The collapsed
#' `assign_kernel()`, `assign_fixed_kernel()` and `split_merge_kernel()`
#' refuse such a definition.
#'
#' @section Group ids:
#' Groups live in numbered slots, and a group's id is its slot. New groups
#' take the lowest free slot, and when the slots in use span more than about
#' twice the number of groups, a runner relabels them at the start of an
#' iteration so that ids are 1, ..., K again, in the order of the old ids.
#' So group ids may change over a run (compare partitions, not labels); the
#' relabelling never changes a draw.
#'
#' @param prior For `slice_cluster_hp_kernel()`, a [prior_gamma()]. For
#'   `slice_feature_hp_kernel()`, `"noninformative_beta"` (the bounded
#'   default), [prior_noninformative_beta()] or [prior_gamma()].
#' @param width Initial width of the slice sampler's interval. Stepping out
#'   goes at most 100 widths from the current value in one update (Neal's
#'   \eqn{m}), so on tiny data sets, whose hyperparameter posteriors can
#'   spread over hundreds of units, a larger width (say 5) mixes faster.
#'   `slice_feature_hp_kernel()`'s default (`NULL`) is 1 on the log scale
#'   and 2 on the linear scale. On MNIST 2s and 3s at 173 groups an update
#'   took 6.1 evaluations of the density on the log scale at width 1 (6.6,
#'   6.2 and 6.4 at widths 0.5, 2 and 3) against 12.2 on the linear scale
#'   at width 2, where the 13% of pixels that are blank nearly everywhere
#'   (their \eqn{b} in the hundreds, with a long tail) took 69 to step out
#'   across their posterior. (On the linear scale, width 0.1, the default of
#'   version 0.2.0, took 2.5 times the work of width 2.)
#' @param scale For `slice_feature_hp_kernel()`: `"log"` (the default)
#'   slices the beta-Bernoulli hyperparameters as \eqn{\log a}, \eqn{\log
#'   b}, with the Jacobian in the target; `"linear"` slices \eqn{a},
#'   \eqn{b} themselves, as versions up to 0.4.0 did. Both sample the same
#'   posterior. Other models' positive hyperparameters are always sliced on
#'   the log scale.
#' @param features Features (column numbers) to update; `NULL` for all.
#' @param grid For `grid_feature_hp_kernel()`: a matrix or data frame with
#'   columns `alpha` and `beta` (the grid points) and optionally `weight`
#'   (prior probabilities, default uniform).
#' @param proposals Split-merge proposals per iteration (at most 1,000,000).
#' @param method How a split is proposed: `"restricted_gibbs"` or `"sams"`.
#' @param launch_scans For `"restricted_gibbs"`: restricted Gibbs scans
#'   that move the random launch split before the scan that is the proposal.
#' @param m Auxiliary groups per row of `assign_resample_kernel()`, a whole
#'   number from 1 to 1000 (Neal's \eqn{m}; datamicroscopes' default 10).
#' @param defn A model definition from [model_definition()] or
#'   [fixed_model_definition()].
#' @return A `microscopes_kernel`; `default_kernel_config()` returns a
#'   `microscopes_kernel_config`, a list of kernels.
#' @references Neal, R. M. (2000). Markov chain sampling methods for
#'   Dirichlet process mixture models. *Journal of Computational and
#'   Graphical Statistics* 9(2), 249-265.
#'
#'   Neal, R. M. (2003). Slice sampling. *Annals of Statistics* 31(3),
#'   705-767.
#'
#'   Jain, S. and Neal, R. M. (2004). A split-merge Markov chain Monte Carlo
#'   procedure for the Dirichlet process mixture model. *Journal of
#'   Computational and Graphical Statistics* 13(1), 158-182.
#'
#'   Dahl, D. B. (2003). An improved merge-split sampler for conjugate
#'   Dirichlet process mixture models. Technical report 1086, Department of
#'   Statistics, University of Wisconsin-Madison.
#' @examples
#' defn <- model_definition(10, rep(list(beta_bernoulli()), 3))
#' default_kernel_config(defn)
#' grid <- expand.grid(alpha = c(0.5, 1, 2), beta = c(0.5, 1, 2))
#' kc <- list(assign_kernel(), grid_feature_hp_kernel(grid = grid))
#'
#' # Non-conjugate features: algorithm 8 and the theta kernel.
#' df <- data.frame(a = c(TRUE, TRUE, FALSE, NA, FALSE), b = c(FALSE, TRUE, TRUE, TRUE, FALSE))
#' defn <- model_definition(df, list(beta_bernoulli_nonconj(), beta_bernoulli()))
#' default_kernel_config(defn)
#' r <- runner(defn, dataview(df), initialize_state(defn, dataview(df)),
#'             list(assign_resample_kernel(m = 5), theta_kernel()))
#' run(r, 10)
#' @export
assign_kernel <- function() {
  new_kernel("assign")
}

#' @rdname assign_kernel
#' @export
assign_fixed_kernel <- function() {
  new_kernel("assign_fixed")
}

#' @rdname assign_kernel
#' @export
assign_resample_kernel <- function(m = 10) {
  if (!is.numeric(m) || length(m) != 1L || is.na(m) || m < 1 || m > 1000 || m != round(m)) {
    abort_arg("m", sprintf("must be a single whole number between 1 and 1000 (auxiliary groups), not %s.",
                           describe_value(m)))
  }
  kernel <- new_kernel("assign_resample")
  kernel$m <- as.integer(m)
  kernel
}

#' @rdname assign_kernel
#' @export
theta_kernel <- function() {
  new_kernel("theta")
}

#' @rdname assign_kernel
#' @export
slice_cluster_hp_kernel <- function(prior = prior_gamma(1, 1), width = 1) {
  if (!inherits(prior, "microscopes_prior") || prior$name != "gamma") {
    abort_arg("prior", sprintf("must be a Gamma prior from `prior_gamma()`, not %s.",
                               describe_value(prior)))
  }
  new_kernel("slice_cluster_hp", prior = prior,
             width = check_positive_number(width, "width"))
}

#' @rdname assign_kernel
#' @export
slice_feature_hp_kernel <- function(features = NULL, prior = "noninformative_beta",
                                    width = NULL, scale = c("log", "linear")) {
  if (!is.character(scale) || length(scale) < 1L || !scale[1] %in% c("log", "linear")) {
    abort_arg("scale", sprintf("must be \"log\" or \"linear\", not %s.", describe_value(scale)))
  }
  scale <- scale[1]
  if (is.null(width)) width <- if (scale == "log") 1 else 2
  kernel <- new_kernel("slice_feature_hp", features = check_features(features),
                       prior = as_feature_prior(prior),
                       width = check_positive_number(width, "width"))
  kernel$scale <- scale
  kernel
}

#' @rdname assign_kernel
#' @export
grid_feature_hp_kernel <- function(features = NULL, grid) {
  features <- check_features(features)
  if (missing(grid)) abort_arg("grid", "is required: a matrix with columns alpha and beta.")
  if (!(is.data.frame(grid) || is.matrix(grid)) ||
      !all(c("alpha", "beta") %in% colnames(grid)) || nrow(grid) < 1L) {
    abort_arg("grid", "must be a matrix or data frame with columns `alpha` and `beta` and at least one row.")
  }
  a <- grid[, "alpha"]
  b <- grid[, "beta"]
  weight <- if ("weight" %in% colnames(grid)) grid[, "weight"] else rep(1, nrow(grid))
  if (!is.numeric(a) || !is.numeric(b) || any(!is.finite(a) | !is.finite(b)) ||
      any(a <= 0 | b <= 0)) {
    abort_arg("grid", "must hold finite values > 0 in columns `alpha` and `beta`.")
  }
  if (!is.numeric(weight) || any(!is.finite(weight)) || any(weight < 0) || sum(weight) <= 0) {
    abort_arg("grid", "must hold non-negative finite weights, not all zero, in column `weight`.")
  }
  grid <- cbind(alpha = as.double(a), beta = as.double(b),
                log_weight = log(weight / sum(weight)))
  new_kernel("grid_feature_hp", features = features, grid = grid,
             prior = prior_noninformative_beta())
}

#' @rdname assign_kernel
#' @export
split_merge_kernel <- function(proposals = 50,
                               method = c("restricted_gibbs", "sams", "sequential_launch"),
                               launch_scans = 3) {
  if (!is.character(method) || length(method) < 1L || !method[1] %in% names(split_merge_methods)) {
    abort_arg("method", sprintf("must be \"restricted_gibbs\", \"sams\" or \"sequential_launch\", not %s.",
                                describe_value(method)))
  }
  method <- method[1]
  if (!is.numeric(proposals) || length(proposals) != 1L || is.na(proposals) ||
      proposals < 0 || proposals != round(proposals) || proposals > 1e6) {
    abort_arg("proposals", sprintf("must be a single whole number between 0 and 1000000, not %s.",
                                   describe_value(proposals)))
  }
  if (!is.numeric(launch_scans) || length(launch_scans) != 1L || is.na(launch_scans) ||
      launch_scans < 0 || launch_scans != round(launch_scans) || launch_scans > 1000) {
    abort_arg("launch_scans", sprintf("must be a single whole number between 0 and 1000, not %s.",
                                      describe_value(launch_scans)))
  }
  kernel <- new_kernel("split_merge")
  kernel$proposals <- as.integer(proposals)
  kernel$method <- method
  kernel$launch_scans <- as.integer(launch_scans)
  kernel
}

#' @rdname assign_kernel
#' @export
default_kernel_config <- function(defn) {
  check_definition(defn)
  assign <- if (definition_groups(defn) > 0L) assign_fixed_kernel() else assign_kernel()
  nonconjugate <- defn_is_nonconjugate(defn)
  if (nonconjugate) assign <- list(assign_resample_kernel(), theta_kernel()) else assign <- list(assign)
  if (!defn_is_mixed(defn)) {
    return(structure(c(assign, list(split_merge_kernel(), slice_cluster_hp_kernel(),
                            slice_feature_hp_kernel())),
                     class = "microscopes_kernel_config"))
  }
  # Mixed models: beta_bernoulli() features keep their kernel (its prior,
  # its default scale and width); the others are sliced under their model's default
  # hyperprior (see ?models), width 1 (in log units for positive
  # hyperparameters: the kernel's scale-free default).
  bb <- which(defn$models == "beta_bernoulli")
  other <- which(defn$models != "beta_bernoulli")
  feature_kernels <- c(if (length(bb) > 0L) list(slice_feature_hp_kernel(features = bb)),
                       list(slice_feature_hp_kernel(features = other, width = 1)))
  # Split-merge where every block has the group operations it needs (a
  # non-conjugate one has not).
  split_merge <- if (!nonconjugate && blocks_support_split_merge(defn)) list(split_merge_kernel())
  structure(c(assign, split_merge, list(slice_cluster_hp_kernel()), feature_kernels),
            class = "microscopes_kernel_config")
}

# The grid kernel holds (alpha, beta) points of beta_bernoulli(): it cannot
# update the hyperparameters of other models.
check_kernels_fit_models <- function(kernel_config, defn, arg = "kernel_config",
                                     call = caller_call()) {
  force(call)
  if (inherits(kernel_config, "microscopes_kernel")) kernel_config <- list(kernel_config)
  for (kernel in kernel_config) {
    if (!identical(kernel$name, "grid_feature_hp")) next
    features <- if (is.null(kernel$features)) seq_len(defn$D) else kernel$features
    other <- features[defn$models[features] != "beta_bernoulli"]
    if (length(other) > 0L) {
      abort_arg(arg, sprintf(paste(
        "has a grid_feature_hp kernel for feature %d, a %s() feature; the grid kernel",
        "updates beta_bernoulli() features only: use `slice_feature_hp_kernel()`."),
        other[1], defn$models[other[1]]), call = call)
    }
  }
  invisible(kernel_config)
}

#' @export
print.microscopes_kernel <- function(x, ...) {
  cat("<microscopes kernel:", format_kernel(x), ">\n")
  invisible(x)
}

#' @export
print.microscopes_kernel_config <- function(x, ...) {
  cat("<microscopes kernel config>\n")
  for (k in seq_along(x)) cat(sprintf("  %d. %s\n", k, format_kernel(x[[k]])))
  invisible(x)
}

format_kernel <- function(kernel) {
  features <- if (is.null(kernel$features)) "all features" else
    sprintf("%d features", length(kernel$features))
  switch(kernel$name,
    assign = "assign (collapsed Gibbs, Neal 2000 algorithm 3)",
    assign_fixed = "assign_fixed (collapsed Gibbs of a finite mixture, Dirichlet(alpha/K) weights)",
    slice_cluster_hp = sprintf("slice_cluster_hp (Gamma(%g, %g) prior, width %g)",
                               kernel$prior$shape, kernel$prior$rate, kernel$width),
    slice_feature_hp = sprintf("slice_feature_hp (%s, %s prior, width %g%s)", features,
                               kernel$prior$name, kernel$width,
                               if (identical(kernel$scale, "log")) " on the log scale" else ""),
    grid_feature_hp = sprintf("grid_feature_hp (%s, %d grid points)", features,
                              nrow(kernel$grid)),
    assign_resample = sprintf("assign_resample (Neal 2000 algorithm 8, m = %d auxiliary groups)",
                              kernel$m),
    theta = "theta (Gibbs draws of the groups' explicit parameters)",
    split_merge = sprintf("split_merge (%s, %d proposals per iteration%s)",
                          switch(kernel$method, sams = "SAMS, Dahl 2003",
                                 restricted_gibbs = "restricted Gibbs, Jain and Neal 2004",
                                 sequential_launch = "restricted Gibbs from a SAMS launch"),
                          kernel$proposals,
                          if (kernel$method == "sams") "" else
                            sprintf(", %d launch scans", kernel$launch_scans)))
}

# A kernel configuration must sample the definition's model: assign for a
# Dirichlet process mixture, assign_fixed for a finite mixture.
check_kernels_fit_definition <- function(kernel_config, defn, arg = "kernel_config",
                                         call = caller_call()) {
  force(call)
  if (inherits(kernel_config, "microscopes_kernel")) kernel_config <- list(kernel_config)
  names <- vapply(kernel_config, function(k) as.character(k$name)[1], character(1))
  finite <- definition_groups(defn) > 0L
  if (defn_is_nonconjugate(defn)) {
    collapsed <- intersect(c("assign", "assign_fixed", "split_merge"), names)
    if (length(collapsed) > 0L) {
      feature <- which(defn_kinds(defn) %in% nonconjugate_kinds)[1]
      abort_arg(arg, sprintf(paste(
        "has %s, which samples the collapsed model, but feature %d is a",
        "%s() feature with explicit group parameters: use `assign_resample_kernel()`",
        "and `theta_kernel()` (as `default_kernel_config(defn)` does)%s."),
        paste0("`", collapsed[1], "_kernel()`"), feature, defn$models[feature],
        if (collapsed[1] == "split_merge") ", without split-merge" else ""), call = call)
    }
  }
  if (finite && "assign" %in% names) {
    abort_arg(arg, paste(
      "has an `assign_kernel()`, which samples a Dirichlet process mixture, but `defn` is",
      "a finite mixture (`fixed_model_definition()`): use `assign_fixed_kernel()`."), call = call)
  }
  if (!finite && "assign_fixed" %in% names) {
    abort_arg(arg, paste(
      "has an `assign_fixed_kernel()`, which samples a finite mixture, but `defn` is a",
      "Dirichlet process mixture (`model_definition()`): use `assign_kernel()`."), call = call)
  }
  invisible(kernel_config)
}

# The kernels as the C code reads them: features resolved to 1..D, every
# field present.
check_kernel_config <- function(kernel_config, D, call = caller_call()) {
  force(call)
  if (inherits(kernel_config, "microscopes_kernel")) kernel_config <- list(kernel_config)
  ok <- is.list(kernel_config) &&
    all(vapply(kernel_config, inherits, logical(1), "microscopes_kernel"))
  if (!ok) {
    abort_arg("kernel_config", "must be a list of kernels such as `default_kernel_config(defn)`.",
              call = call)
  }
  lapply(kernel_config, function(kernel) {
    features <- kernel$features
    if (is.null(features)) features <- seq_len(D)
    if (any(features > D)) {
      abort_arg("kernel_config", sprintf(
        "has a %s kernel for feature %d, but the model has %d features.",
        kernel$name, max(features), D), call = call)
    }
    prior <- kernel$prior
    if (is.null(prior)) prior <- prior_gamma(1, 1)
    spec <- list(kind = kernel$kind, features = as.integer(features), width = kernel$width,
                 prior = unclass(prior), grid = kernel$grid)
    # A slice_feature_hp kernel made before 0.5.0 has no `scale`: the
    # linear one it had then.
    if (identical(kernel$name, "slice_feature_hp")) spec$log_scale <- identical(kernel$scale, "log")
    if (identical(kernel$name, "split_merge")) {
      spec$proposals <- kernel$proposals
      spec$method <- split_merge_methods[[kernel$method]]
      spec$launch_scans <- kernel$launch_scans
      # Tests only (test-split-merge.R): a kernel whose acceptance ratio
      # leaves out the proposal densities ("proposal") or the pair's
      # selection probabilities ("pair"), to show the tests catch it.
      spec$test_drop_proposal <- if (is.null(kernel$test_wrong_ratio)) 0L else
        match(kernel$test_wrong_ratio, c("proposal", "pair"), nomatch = 0L)
    }
    if (identical(kernel$name, "assign_resample")) {
      spec$auxiliary <- kernel$m
      # Tests only (test-model-bbnc.R): auxiliaries weighted alpha, not
      # alpha / m ("alpha"), or a singleton's own parameters not reused as
      # the first auxiliary ("no_reuse").
      spec$test_wrong_auxiliary <- if (is.null(kernel$test_wrong_auxiliary)) 0L else
        match(kernel$test_wrong_auxiliary, c("alpha", "no_reuse"), nomatch = 0L)
    }
    if (identical(kernel$name, "assign_fixed")) {
      # Tests only (test-fixed.R): a kernel that weights the empty group by
      # alpha/K, forgetting the number K - K+ of empty labels it stands for.
      spec$test_wrong_prior <- if (isTRUE(kernel$test_wrong_prior)) 1L else 0L
    }
    spec
  })
}
