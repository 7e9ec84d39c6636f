#' Names in microscopes: accessor pairs and clashes with dplyr
#'
#' @section Singular and plural accessors:
#' The names of datamicroscopes are kept for its workflow, and R-style
#' vectorised companions read everything at once:
#'
#' | one item (datamicroscopes)  | everything at once (R)                 |
#' |-----------------------------|----------------------------------------|
#' | `get_feature_hp(s, d)`: `list(alpha = , beta = )` of feature `d` | `feature_hps(s)`: the D x 2 matrix, columns `alpha`, `beta` |
#' | `get_suffstats(s, g, d)`: `list(heads = , tails = )` of group `g`, feature `d` | `suffstats(s)`: the groups x D x 2 array |
#' | `groupsize(s, g)`: the size of group `g` | `s$group_sizes`, or `tabulate()` of `assignments(s)` |
#' | `get_latent(r)`: the state of one runner | `get_latents(pr)`: the states of every chain |
#' | `get_cluster_hp(s)`: `list(alpha = )` | (one CRP concentration per state) |
#'
#' The `get_*()` forms take an index and return a small named list, as in
#' Python; the plural forms return arrays indexed like the data (features
#' by column number). A *feature* is one entry of the model definition's
#' `models`, i.e. one column of a binary matrix.
#'
#' For a whole fit from [dpmixture()], [as.data.frame()][as.data.frame.microscopes_fit]
#' gives the hyperparameters of every kept draw (`a[feature]`,
#' `b[feature]`) and [partition_draws()] the partitions.
#'
#' @section Clashes with dplyr:
#' [groups()] and [n_groups()] (group ids and number of groups of a latent
#' state, as in datamicroscopes) have the names of two dplyr generics for
#' grouped data frames. Whichever package is attached last masks the
#' other's function, and R says so when it is attached. Both orders work for
#' states: microscopes registers `groups()` and `n_groups()` methods for
#' `microscopes_state` objects with dplyr's generics (when dplyr is
#' loaded), so `dplyr::groups(s)` and `dplyr::n_groups(s)` give the same as
#' `microscopes::groups(s)` and `microscopes::n_groups(s)`, and every
#' example of this package runs with `library(dplyr)` before or after
#' `library(microscopes)`. With microscopes attached last, `groups()` on a
#' grouped data frame needs `dplyr::groups()`.
#' @name microscopes-names
#' @examples
#' set.seed(1)
#' Y <- matrix(runif(20 * 4) < 0.3, 20, 4)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' s <- initialize_state(defn, dataview(Y))
#' get_feature_hp(s, 2)
#' feature_hps(s)[2, ]
#' g <- groups(s)[1]
#' get_suffstats(s, g, 2)
#' suffstats(s)[as.character(g), 2, ]
NULL

# Methods for dplyr's generics of the same names (registered when dplyr is
# loaded; dplyr is not a dependency), so that both attach orders work.

#' @exportS3Method dplyr::groups
groups.microscopes_state <- function(x) groups(x)

#' @exportS3Method dplyr::n_groups
n_groups.microscopes_state <- function(x) n_groups(x)
