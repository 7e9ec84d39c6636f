#' Likelihood models for a feature
#'
#' `beta_bernoulli()` declares a binary feature with a beta prior on its
#' per-group probability of being 1: for group k,
#' \eqn{p_k \sim \mathrm{Beta}(a, b)} and \eqn{x_i \sim \mathrm{Bernoulli}(p_k)},
#' with \eqn{p_k} integrated out (collapsed).
#'
#' @return A `microscopes_model` object for [model_definition()].
#' @examples
#' beta_bernoulli()
#' @export
beta_bernoulli <- function() {
  structure(list(name = "beta_bernoulli"), class = "microscopes_model")
}

#' @export
print.microscopes_model <- function(x, ...) {
  cat("<microscopes model:", x$name, ">\n")
  invisible(x)
}

#' Define a mixture model
#'
#' A Dirichlet process mixture (Chinese restaurant process prior over the
#' partition of the rows) whose groups share, feature by feature, the
#' likelihood models given in `models`.
#'
#' @param n Number of rows (entities) in the data.
#' @param models A list with one likelihood model per feature (column), for
#'   example `rep(list(beta_bernoulli()), D)`.
#' @return A `microscopes_model_definition`: a plain list with `n`, `D` and
#'   `models`.
#' @examples
#' defn <- model_definition(10, rep(list(beta_bernoulli()), 4))
#' defn
#' @export
model_definition <- function(n, models) {
  n <- check_whole_number(n, "n", min = 1)
  if (!is.list(models) || inherits(models, "microscopes_model") ||
      length(models) == 0L) {
    abort_arg("models", sprintf(
      "must be a non-empty list of feature models such as `rep(list(beta_bernoulli()), D)`, not %s.",
      describe_type(models)))
  }
  is_model <- vapply(models, inherits, logical(1), "microscopes_model")
  if (!all(is_model)) {
    abort_arg("models", sprintf(
      "must hold only feature models such as `beta_bernoulli()`; element %d is %s.",
      which(!is_model)[1], describe_type(models[[which(!is_model)[1]]])))
  }
  names <- vapply(models, `[[`, character(1), "name")
  if (!all(names == "beta_bernoulli")) {
    abort_arg("models", sprintf(
      "may only hold beta_bernoulli() models for now; element %d is \"%s\".",
      which(names != "beta_bernoulli")[1], names[names != "beta_bernoulli"][1]))
  }
  structure(list(n = n, D = length(models), models = names),
            class = "microscopes_model_definition")
}

#' Define a finite mixture model
#'
#' A mixture of at most `groups` groups (datamicroscopes'
#' `fixed_model_definition()`): the mixture weights have a symmetric
#' Dirichlet prior, \eqn{w \sim \mathrm{Dirichlet}(\alpha/K, \ldots,
#' \alpha/K)} with \eqn{K} = `groups`, and each group's features follow the
#' likelihood models given in `models`, as in [model_definition()]. This is
#' the finite latent class model of BayesLCA, poLCA or flexmix, with the
#' weights and the groups' parameters integrated out (collapsed).
#'
#' @section The concentration alpha:
#' \eqn{\alpha} (the state's `cluster_hp$alpha`) is the *total*
#' concentration of the Dirichlet prior: each weight has parameter
#' \eqn{\alpha/K}. So a finite mixture and a Dirichlet process mixture with
#' the same \eqn{\alpha} have the same prior expected number of groups for
#' large \eqn{K} (the finite mixture's prior on partitions tends to the
#' Chinese restaurant process as \eqn{K \to \infty}), and the same default
#' Gamma(1, 1) prior suits both ([slice_cluster_hp_kernel()]). The prior of
#' a partition into \eqn{K_+ \le K} non-empty groups of sizes
#' \eqn{n_1, \ldots, n_{K_+}} (group labels not distinguished) is
#' \deqn{p(z) = \frac{K!}{(K - K_+)!} \frac{\Gamma(\alpha)}{\Gamma(n + \alpha)}
#'   \prod_{k=1}^{K_+} \frac{\Gamma(n_k + \alpha/K)}{\Gamma(\alpha/K)},}{p(z) =
#'   K!/(K - K+)! Gamma(alpha)/Gamma(n + alpha) prod_k Gamma(n_k + alpha/K)/Gamma(alpha/K),}
#' which [score_assignment()] returns (in logs).
#'
#' @param n Number of rows (entities) in the data.
#' @param groups The number of groups \eqn{K} (a whole number >= 1); some
#'   may stay empty.
#' @param models A list with one likelihood model per feature (column), as
#'   for [model_definition()].
#' @return A `microscopes_fixed_model_definition` (also a
#'   `microscopes_model_definition`): the plain list of [model_definition()]
#'   with `groups` (\eqn{K}) and `prior = "dirichlet"` added.
#' @seealso [assign_fixed_kernel()], [default_kernel_config()], and
#'   [dpmixture()]'s `K` argument.
#' @examples
#' defn <- fixed_model_definition(10, groups = 3, rep(list(beta_bernoulli()), 4))
#' defn
#' default_kernel_config(defn)
#' @export
fixed_model_definition <- function(n, groups, models) {
  call <- sys.call()
  groups <- check_whole_number(groups, "groups", min = 1, call = call)
  defn <- tryCatch(model_definition(n, models), microscopes_error_argument = function(e) {
    e$call <- call
    stop(e)
  })
  defn$groups <- groups
  defn$prior <- "dirichlet"
  class(defn) <- c("microscopes_fixed_model_definition", class(defn))
  defn
}

# The number of groups of a finite mixture's definition, or 0 for a
# Dirichlet process mixture (the C code's convention, partition_prior.h).
definition_groups <- function(defn) {
  if (inherits(defn, "microscopes_fixed_model_definition")) as.integer(defn$groups) else 0L
}

# "a finite mixture of K = 3 groups" or "a Dirichlet process mixture".
describe_partition_prior <- function(groups) {
  if (groups > 0L) sprintf("a finite mixture of K = %d groups", groups) else
    "a Dirichlet process mixture"
}

#' @export
print.microscopes_model_definition <- function(x, ...) {
  cat(sprintf("<microscopes model definition: %d rows, %d %s features>\n",
              x$n, x$D, paste(unique(x$models), collapse = "/")))
  invisible(x)
}

#' @export
print.microscopes_fixed_model_definition <- function(x, ...) {
  cat(sprintf(paste("<microscopes model definition: finite mixture, K = %d groups",
                    "(weights ~ Dirichlet(alpha/K)), %d rows, %d %s features>\n"),
              x$groups, x$n, x$D, paste(unique(x$models), collapse = "/")))
  invisible(x)
}

#' Wrap a data matrix for the samplers
#'
#' Validates a binary data matrix once and packs it into the compact form the
#' C samplers read: row-major codes plus, for each row, the list of its
#' features equal to 1 and of its missing features. Every runner made from
#' one view shares this packed copy.
#'
#' @param Y A logical matrix, or a numeric matrix of 0s and 1s, with one row
#'   per entity and one column per feature. `NA` marks an unobserved entry,
#'   which is left out of every likelihood term.
#' @return A `microscopes_dataview`: a plain list (safe to `saveRDS`).
#' @examples
#' Y <- matrix(c(TRUE, FALSE, NA, TRUE), 2, 2)
#' view <- dataview(Y)
#' view
#' @export
dataview <- function(Y) {
  if (is.data.frame(Y)) {
    abort_arg("Y", "must be a logical or 0/1 matrix, not a data frame; use `as.matrix()` first.")
  }
  if (!is.matrix(Y) || !(is.logical(Y) || is.numeric(Y))) {
    abort_arg("Y", sprintf("must be a logical or 0/1 matrix, not %s.", describe_type(Y)))
  }
  if (nrow(Y) == 0L || ncol(Y) == 0L) {
    abort_arg("Y", "must have at least one row and one column.")
  }
  packed <- .Call(C_pack_data, Y, "Y")
  structure(c(list(n = nrow(Y), D = ncol(Y), colnames = colnames(Y)), packed),
            class = "microscopes_dataview")
}

#' @export
print.microscopes_dataview <- function(x, ...) {
  n_on <- length(x$on_feature)
  n_missing <- length(x$missing_feature)
  cat(sprintf("<microscopes dataview: %d rows x %d binary features, %.1f%% ones, %d missing>\n",
              x$n, x$D, 100 * n_on / (x$n * x$D - n_missing), n_missing))
  invisible(x)
}

as_dataview <- function(view, arg = "view", call = caller_call()) {
  force(call)
  if (inherits(view, "microscopes_dataview")) return(view)
  if (is.matrix(view)) {
    return(tryCatch(dataview(view), error = function(e) {
      stop(simpleError(sub("^`Y`", sprintf("`%s`", arg), conditionMessage(e)), call = call))
    }))
  }
  abort_arg(arg, sprintf("must be a dataview (from `dataview()`) or a binary matrix, not %s.",
                         describe_type(view)), call = call)
}

check_definition <- function(defn, call = caller_call()) {
  force(call)
  check_class(defn, "microscopes_model_definition", "defn",
              "a model definition from `model_definition()`", call = call)
}

check_view_fits <- function(view, defn, call = caller_call()) {
  force(call)
  for (field in c("n", "D")) {
    v <- view[[field]]
    if (!is.numeric(v) || length(v) != 1L || is.na(v) || !is.finite(v) || v < 1) {
      abort_arg("view", sprintf(
        "is not a valid dataview: its `%s` is %s; make it with `dataview()`.",
        field, describe_value(v)), call = call)
    }
  }
  if (view$n != defn$n) {
    abort_arg("view", sprintf("has %d rows but `defn` was made for n = %d.", view$n, defn$n),
              call = call)
  }
  if (view$D != defn$D) {
    abort_arg("view", sprintf("has %d features (columns) but `defn` has %d models.",
                              view$D, defn$D), call = call)
  }
  invisible(view)
}
