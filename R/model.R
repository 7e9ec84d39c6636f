#' Likelihood models for a feature
#'
#' Each constructor declares the likelihood of one feature (one column of
#' the data) inside a group, with a conjugate prior on the group's
#' parameters that the samplers integrate out (collapsed Gibbs sampling,
#' Neal 2000, algorithm 3). Hyperparameters carry the names of
#' datamicroscopes: give them to [initialize_state()] as one named list per
#' feature (`feature_hps = `) and read them back with [get_feature_hp()].
#' Below, a group holds the observed values \eqn{x_1, \dots, x_m} of the
#' feature (missing cells are left out of every term), and the collapsed
#' predictive is the probability of a new value \eqn{x} given them.
#' Every default prior below is proper (the hyperparameter kernels of
#' [default_kernel_config()] slice-sample under it), and positive
#' hyperparameters are kept below \eqn{10^{15}}.
#'
#' @section beta_bernoulli(): Binary data (logical, 0/1, or a two-level
#'   factor whose second level counts as `TRUE`). Group parameter
#'   \eqn{p \sim \mathrm{Beta}(\alpha, \beta)} and
#'   \eqn{x_i \sim \mathrm{Bernoulli}(p)}; hyperparameters `alpha`, `beta`.
#'   With \eqn{h} ones and \eqn{t} zeros in the group, the log marginal is
#'   \eqn{\log B(\alpha + h, \beta + t) - \log B(\alpha, \beta)} and the
#'   predictive is
#'   \eqn{P(x = 1) = (\alpha + h) / (\alpha + \beta + m)}.
#'
#'   Default prior: the hyperparameter kernel's default prior on
#'   \eqn{(\alpha, \beta)} is [prior_noninformative_beta()], the density
#'   \eqn{(\alpha + \beta)^{-5/2}} of datamicroscopes restricted to a box,
#'   which makes it proper. The default initial values are
#'   `alpha = beta = 1`, the uniform prior on \eqn{p}.
#'
#' @section dirichlet_discrete(k): Categorical data with `k` levels (a
#'   factor, or integers 1 to `k`). Group parameter
#'   \eqn{\theta \sim \mathrm{Dirichlet}(\alpha_1, \dots, \alpha_k)} and
#'   \eqn{x_i \sim \mathrm{Categorical}(\theta)}; hyperparameter `alphas`, a
#'   vector of length `k`. With \eqn{c_j} values at level \eqn{j} and
#'   \eqn{A = \sum_j \alpha_j}, the log marginal is
#'   \eqn{\log\Gamma(A) - \log\Gamma(A + m) + \sum_j [\log\Gamma(\alpha_j + c_j) - \log\Gamma(\alpha_j)]}
#'   and the predictive is
#'   \eqn{P(x = j) = (\alpha_j + c_j) / (A + m)}.
#'
#'   Default prior: the hyperparameter kernel's default prior
#'   takes each coordinate of `alphas` independently log-normal with median
#'   1, \eqn{\log \alpha_j \sim N(0, 1.5^2)}: proper, and centred on the
#'   uniform Dirichlet. The default initial value is `alphas = rep(1, k)`.
#'
#' @section gamma_poisson(): Counts 0, 1, 2, .... Group rate
#'   \eqn{\lambda \sim \mathrm{Gamma}(\alpha, \mathrm{scale} = s)} and
#'   \eqn{x_i \sim \mathrm{Poisson}(\lambda)}; hyperparameters `alpha`
#'   (shape) and `inv_beta` (the scale \eqn{s}, one over the rate). With
#'   \eqn{S = \sum_i x_i}, the log marginal is
#'   \eqn{\log\Gamma(\alpha + S) - \log\Gamma(\alpha) - \sum_i \log x_i! - \alpha \log s - (\alpha + S) \log(m + 1/s)}
#'   and the predictive is negative binomial with size \eqn{\alpha + S} and
#'   success probability \eqn{(m + 1/s) / (m + 1 + 1/s)}: its mean is
#'   \eqn{(\alpha + S) / (m + 1/s)}.
#'
#'   Default prior: with \eqn{\bar c} the mean of the column's
#'   observed values (1 if it is 0), the hyperparameter kernel's default
#'   prior is \eqn{\log \alpha \sim N(0, 1.5^2)} and
#'   \eqn{\log s \sim N(\log \bar c, 2^2)}, independently: proper, and
#'   centred so that a group's prior mean rate \eqn{\alpha s} is the
#'   column's mean, which keeps results free of the unit of exposure. The
#'   default initial values are `alpha = 1`, `inv_beta` \eqn{= \bar c}.
#'
#' @section beta_negative_binomial(r): Counts 0, 1, 2, ..., each the number
#'   of failures before the `r`-th success of a sequence of trials with
#'   success probability \eqn{p}: \eqn{P(x \mid p) = \binom{x + r - 1}{x} p^r (1 - p)^x}
#'   (`dnbinom(x, size = r, prob = p)`), with
#'   \eqn{p \sim \mathrm{Beta}(\alpha, \beta)} per group and `r` fixed;
#'   hyperparameters `alpha`, `beta`. With \eqn{S = \sum_i x_i}, the log
#'   marginal is
#'   \eqn{\sum_i \log\binom{x_i + r - 1}{x_i} + \log B(\alpha + m r, \beta + S) - \log B(\alpha, \beta)}
#'   and the predictive is
#'   \eqn{P(x) = \binom{x + r - 1}{x} B(\alpha' + r, \beta' + x) / B(\alpha', \beta')}
#'   with \eqn{\alpha' = \alpha + m r} and \eqn{\beta' = \beta + S}, whose
#'   mean is \eqn{r \beta' / (\alpha' - 1)} (infinite when
#'   \eqn{\alpha' \le 1}).
#'
#'   Default prior: the hyperparameter kernel's default prior on
#'   \eqn{(\alpha, \beta)} is that of beta-Bernoulli,
#'   \eqn{(\alpha + \beta)^{-5/2}} restricted to the box
#'   \eqn{(0.01, 1000)^2} (Gelman et al., section 5.3), proper on the box.
#'   With \eqn{\bar c} the mean of the column's observed values, the
#'   default initial values are \eqn{\alpha = 3} and
#'   \eqn{\beta = 2 \bar c / r} (kept within 0.02 and 500; 1 if
#'   \eqn{\bar c = 0}), which make the prior predictive mean
#'   \eqn{r \beta / (\alpha - 1)} equal to the column's mean with a finite
#'   variance.
#'
#' @section normal_inverse_chisq(): Real numbers. Group mean and variance
#'   \eqn{\sigma^2 \sim \mathrm{Inv}\chi^2(\nu, \sigma_0^2)} (scaled inverse chi-squared),
#'   \eqn{\mu_g \mid \sigma^2 \sim N(\mu_0, \sigma^2 / \kappa)} and
#'   \eqn{x_i \sim N(\mu_g, \sigma^2)}; hyperparameters `mu`
#'   (\eqn{\mu_0}), `kappa`, `sigmasq` (\eqn{\sigma_0^2}) and `nu`
#'   (Gelman et al., *Bayesian Data Analysis*, section 3.3; Murphy 2007).
#'   With mean \eqn{\bar x} of the group's values, the posterior has
#'   \eqn{\kappa_m = \kappa + m}, \eqn{\nu_m = \nu + m},
#'   \eqn{\mu_m = (\kappa \mu_0 + m \bar x) / \kappa_m} and
#'   \eqn{\nu_m \sigma_m^2 = \nu \sigma_0^2 + \sum_i (x_i - \bar x)^2 + \frac{\kappa m}{\kappa_m} (\bar x - \mu_0)^2};
#'   the log marginal is
#'   \eqn{\log\Gamma(\nu_m / 2) - \log\Gamma(\nu / 2) + \frac{1}{2} \log(\kappa / \kappa_m) + \frac{\nu}{2} \log(\nu \sigma_0^2) - \frac{\nu_m}{2} \log(\nu_m \sigma_m^2) - \frac{m}{2} \log \pi}
#'   and the predictive is Student's t with \eqn{\nu_m} degrees of
#'   freedom, location \eqn{\mu_m} and squared scale
#'   \eqn{\sigma_m^2 (1 + 1/\kappa_m)}.
#'
#'   Default prior: with \eqn{\bar c} and \eqn{s_c} the mean and
#'   the population standard deviation of the column's observed values (0
#'   and 1 with none; \eqn{s_c = |\bar c|}, or 1, for a constant column),
#'   the hyperparameter kernel's default prior is, independently,
#'   \eqn{\mu_0 \sim N(\bar c, (3 s_c)^2)},
#'   \eqn{\log \kappa \sim N(0, 1.5^2)},
#'   \eqn{\log \sigma_0^2 \sim N(\log s_c^2, 2^2)} and
#'   \eqn{\log \nu \sim N(0, 1.5^2)}: proper, and centred on the column's
#'   location and scale, so that results do not depend on its units. The
#'   default initial values are `mu` \eqn{= \bar c}, `kappa = 1`,
#'   `sigmasq` \eqn{= s_c^2} and `nu = 1`.
#'
#' @section dirichlet_multinomial(k): Vectors of `k` counts, one vector
#'   per row: a matrix column of the data frame with `k` columns of
#'   non-negative whole numbers (`df$votes <- cbind(a, b, c)`, or
#'   `dataview(df, vectors = list(votes = c("a", "b", "c")))`; see
#'   [dataview()]), such as word counts of a document or the tallies of a
#'   ballot. Group parameter
#'   \eqn{\theta \sim \mathrm{Dirichlet}(\alpha_1, \dots, \alpha_k)} and
#'   \eqn{x_i \sim \mathrm{Multinomial}(m_i, \theta)} with
#'   \eqn{m_i = \sum_l x_{il}} the row's total, which the model takes as
#'   given; hyperparameter `alphas`, a vector of length `k`. With
#'   \eqn{c_l = \sum_i x_{il}} the group's summed counts,
#'   \eqn{C = \sum_l c_l} and \eqn{A = \sum_l \alpha_l}, the log marginal is
#'   \eqn{\sum_i \log\frac{m_i!}{\prod_l x_{il}!} + \log\Gamma(A) - \log\Gamma(A + C) + \sum_l [\log\Gamma(\alpha_l + c_l) - \log\Gamma(\alpha_l)]}
#'   and the predictive of a new vector \eqn{x} with total \eqn{m} is
#'   \eqn{\log\frac{m!}{\prod_l x_l!} + \log\Gamma(A + C) - \log\Gamma(A + C + m) + \sum_l [\log\Gamma(\alpha_l + c_l + x_l) - \log\Gamma(\alpha_l + c_l)]}.
#'   With one count per row (\eqn{m_i = 1}) it is `dirichlet_discrete(k)`.
#'   A row whose cell is `NA` in every column is unobserved and left out; a
#'   cell with some counts `NA` and others given is an error naming the
#'   column and the row, since the multinomial of the given counts needs
#'   the row's total, which is then unknown. The sufficient statistics of
#'   a group are `n` (rows counted), `count_1`, ..., `count_k` (the
#'   \eqn{c_l}) and `sum_log_multinomial` (the sum of the rows' log
#'   multinomial coefficients, which makes the marginal a full density).
#'   A query ([posterior_predictive_statistic()], `predict(fit, type =
#'   "impute")`) predicts an `NA` cell by the expected proportions
#'   \eqn{E[\theta_l] = (\alpha_l + c_l) / (A + C)} averaged over the
#'   group posterior (the row's total is unknown, so the share of each
#'   level is what it predicts; multiply by a total to get counts), and a
#'   predictive draw ([posterior_predictive()]) of an `NA` cell is a draw
#'   of the proportions \eqn{\theta} of the drawn group.
#'
#'   Default prior: as for `dirichlet_discrete()`, the hyperparameter
#'   kernel's default prior takes each coordinate of `alphas`
#'   independently log-normal with median 1,
#'   \eqn{\log \alpha_l \sim N(0, 1.5^2)}: proper, and centred on the
#'   uniform Dirichlet. The default initial value is `alphas = rep(1, k)`.
#'
#' @section normal_inverse_wishart(dim): Vectors of `dim` real numbers,
#'   one vector per row, with a full covariance matrix per group: a double
#'   matrix column of the data frame (`df$xy <- cbind(x, y)`, or
#'   `dataview(df, vectors = list(xy = c("x", "y")))`; see [dataview()]),
#'   the Gaussian mixture most users of BNPmix, dirichletprocess and mclust
#'   run. Group mean and covariance
#'   \eqn{\Sigma \sim \mathrm{IW}(\Psi, \nu)} (inverse Wishart, mean
#'   \eqn{\Psi / (\nu - d - 1)}),
#'   \eqn{\mu_g \mid \Sigma \sim N_d(\mu_0, \Sigma / \lambda)} and
#'   \eqn{x_i \sim N_d(\mu_g, \Sigma)}; hyperparameters `mu0` (length
#'   \eqn{d}), `lambda` (> 0), `psi` (\eqn{\Psi}, a symmetric positive
#'   definite \eqn{d \times d} matrix) and `nu` (> \eqn{d - 1}) (Murphy
#'   2007, section 9; Gelman et al., section 3.6). With mean \eqn{\bar x}
#'   and scatter \eqn{S = \sum_i (x_i - \bar x)(x_i - \bar x)^\top} of
#'   the group's \eqn{m} vectors, the posterior has
#'   \eqn{\lambda_m = \lambda + m}, \eqn{\nu_m = \nu + m},
#'   \eqn{\mu_m = (\lambda \mu_0 + m \bar x) / \lambda_m} and
#'   \eqn{\Psi_m = \Psi + S + \frac{\lambda m}{\lambda_m} (\bar x - \mu_0)(\bar x - \mu_0)^\top};
#'   the log marginal is
#'   \eqn{-\frac{m d}{2} \log \pi + \log\Gamma_d(\nu_m / 2) - \log\Gamma_d(\nu / 2) + \frac{\nu}{2} \log|\Psi| - \frac{\nu_m}{2} \log|\Psi_m| + \frac{d}{2} \log(\lambda / \lambda_m)}
#'   (\eqn{\Gamma_d} the multivariate gamma function) and the predictive
#'   is the multivariate Student t with \eqn{\nu_m - d + 1} degrees of
#'   freedom, location \eqn{\mu_m} and scale matrix
#'   \eqn{\Psi_m (\lambda_m + 1) / (\lambda_m (\nu_m - d + 1))}.
#'   The sampler keeps each group's Cholesky factor of \eqn{\Psi_m} and
#'   updates it by a rank-one update or downdate when a row moves, so a
#'   score is one triangular solve. The sufficient statistics of a group
#'   are `n`, `mean_1`, ..., `mean_d` and the scatter matrix's entries
#'   `scatter_r_c` (column-major). A row whose cell is `NA` in every entry
#'   is unobserved and left out. A row with some entries `NA` and others
#'   observed breaks conjugacy (its group posterior is no longer
#'   normal-inverse-Wishart), so the fit samples by data augmentation: its
#'   missing entries are latent values of the chain, drawn once per
#'   iteration (after the kernels) from their conditional Student t given
#'   the row's observed entries and the other rows of its group (the row is
#'   taken out of its group, its entries drawn, the row put back), and every
#'   score and statistic counts the completed row. The partition's
#'   marginal is then the posterior with the missing entries integrated
#'   out. The latent values start at each coordinate's mean over the rows
#'   observing it, and are part of the state: `get_latent()` saves them in
#'   `latent_cells` (per feature: `rows`, and `values`, those rows' cells as
#'   the chain holds them, observed entries included) and [runner()]
#'   resumes from them exactly; the saved group statistics are those of the
#'   completed rows. Such rows are fitted up to `dim` 48. A query may also
#'   hold partly observed cells: their missing entries are predicted from
#'   the conditional Student t given the observed ones (the predictive mean
#'   is then the conditional mean, averaged over the groups weighted by the
#'   observed entries' marginal density), and a predictive draw fills them
#'   with a draw from that conditional.
#'
#'   Default initial values, empirical (as in mclust's and BNPmix's
#'   defaults): with \eqn{\bar c_r} and \eqn{s_r} the mean and the
#'   population standard deviation of coordinate \eqn{r} over the complete
#'   rows, `mu0` \eqn{= \bar c}, `lambda = 1`, `psi` \eqn{=
#'   \mathrm{diag}(s_r^2)} and `nu` \eqn{= d + 2}, so that a group's
#'   prior mean covariance \eqn{\Psi / (\nu - d - 1)} is the data's
#'   coordinate variances. Default prior: the hyperparameter kernel slices
#'   `lambda` and `nu` only (`mu0` and `psi` stay where they are set), with
#'   \eqn{\log \lambda \sim N(0, 1.5^2)} and
#'   \eqn{\log(\nu - d + 1) \sim N(\log 3, 1.5^2)} independently: proper,
#'   and centred on the initial values (\eqn{\nu - d + 1} is the prior
#'   predictive's degrees of freedom).
#'
#' @param dim The length of each row's vector (the columns of its matrix
#'   column), a whole number >= 1.
#' @section beta_bernoulli_nonconj(): The beta-Bernoulli model of
#'   `beta_bernoulli()` (binary data, hyperparameters `alpha`, `beta`) with
#'   each group's probability \eqn{p_k} kept explicit instead of integrated
#'   out (datamicroscopes' `bbnc`): the test bed of non-conjugate sampling.
#'   A cell given its group scores \eqn{\log p_k} (a 1) or
#'   \eqn{\log(1 - p_k)} (a 0), missing cells left out. The group's term of
#'   the log joint ([score_data()], the chains' trace) is
#'   \eqn{h \log p_k + t \log(1 - p_k) + \log \mathrm{Beta}(p_k \mid \alpha, \beta)}
#'   (\eqn{h} ones and \eqn{t} zeros), a density of the data and of
#'   \eqn{p_k}. The posterior predictive given a group is
#'   \eqn{P(x = 1) = p_k}, and of a new group the prior mean
#'   \eqn{\alpha / (\alpha + \beta)}. A state's statistics of such a
#'   feature ([suffstats()]) are `heads`, `tails`, `p`, `log_p` and
#'   `log_1mp`: \eqn{p_k} is held as its two logs (a Beta draw with a small
#'   \eqn{\alpha} lies below the smallest double with high probability),
#'   saved and restored as held. A state made from an assignment
#'   ([initialize_state()]) starts each \eqn{p_k} at its posterior mean
#'   \eqn{(\alpha + h) / (\alpha + \beta + h + t)}.
#'
#'   It is sampled by [assign_resample_kernel()] (Neal 2000, algorithm 8)
#'   and [theta_kernel()] (the exact Gibbs draw
#'   \eqn{p_k \sim \mathrm{Beta}(\alpha + h, \beta + t)}), which
#'   [default_kernel_config()] chooses when a definition has such a
#'   feature; the collapsed [assign_kernel()] and [split_merge_kernel()]
#'   refuse it. Collapsed models may sit beside it in one definition. A
#'   definition with a `beta_bernoulli_nonconj()` feature needs a data
#'   frame view (logical, 0/1 or two-level factor columns).
#'
#'   Default prior: the hyperparameter kernel's target is
#'   \eqn{\sum_k \log \mathrm{Beta}(p_k \mid \alpha, \beta)} over the groups,
#'   under the default prior of `beta_bernoulli()`,
#'   \eqn{(\alpha + \beta)^{-5/2}} on the box \eqn{(0.01, 1000)^2}; initial
#'   values must lie inside the box. The default initial values are
#'   `alpha = beta = 1`.
#'
#' @param k Number of levels (categories), a whole number >= 2. A factor
#'   column may have fewer levels than `k` (levels never seen), not more.
#'   For `dirichlet_multinomial()`, the number of counts in each row's
#'   vector (the columns of its matrix column).
#' @param r The fixed number of successes of the negative binomial, a
#'   finite number > 0 (whole numbers are the classical case; any positive
#'   `r` defines a distribution).
#' @return A `microscopes_model` object for [model_definition()]: a plain
#'   list with `name` (the constructor's name), `kind` (the datamicroscopes
#'   short name: `"bb"`, `"dd"`, `"gp"`, `"bnb"`, `"nich"`, `"niw"`, `"dm"` or `"bbnc"`), `hp_names`
#'   (the names of its hyperparameters) and `parameters` (`k`, `r` or `dim`, fixed
#'   by the model, not sampled).
#' @references
#'   Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. and
#'   Rubin, D. B. (2013). *Bayesian Data Analysis*, 3rd edition. CRC Press.
#'
#'   Murphy, K. P. (2007). Conjugate Bayesian analysis of the Gaussian
#'   distribution. Technical note, University of British Columbia.
#'
#'   Neal, R. M. (2000). Markov chain sampling methods for Dirichlet process
#'   mixture models. *Journal of Computational and Graphical Statistics*,
#'   9(2), 249-265.
#' @seealso [default_models()] chooses a model for each column of a data
#'   frame; [model_definition()] puts them together.
#' @examples
#' beta_bernoulli()
#' dirichlet_discrete(3)
#' gamma_poisson()
#' beta_negative_binomial(2)
#' normal_inverse_chisq()
#' dirichlet_multinomial(3)
#' normal_inverse_wishart(2)
#' beta_bernoulli_nonconj()
#' @name models
NULL

#' @rdname models
#' @export
beta_bernoulli <- function() {
  new_model("beta_bernoulli", "bb", c("alpha", "beta"))
}

#' @rdname models
#' @export
dirichlet_discrete <- function(k) {
  if (missing(k)) {
    abort_arg("k", "is missing: give the number of levels, a whole number >= 2.")
  }
  k <- check_whole_number(k, "k", min = 2)
  new_model("dirichlet_discrete", "dd", "alphas", list(k = k))
}

#' @rdname models
#' @export
gamma_poisson <- function() {
  new_model("gamma_poisson", "gp", c("alpha", "inv_beta"))
}

#' @rdname models
#' @export
beta_negative_binomial <- function(r) {
  if (missing(r)) {
    abort_arg("r", "is missing: give the fixed number of successes, a finite number > 0.")
  }
  r <- check_positive_number(r, "r")
  new_model("beta_negative_binomial", "bnb", c("alpha", "beta"), list(r = r))
}

#' @rdname models
#' @export
normal_inverse_chisq <- function() {
  new_model("normal_inverse_chisq", "nich", c("mu", "kappa", "sigmasq", "nu"))
}

#' @rdname models
#' @export
dirichlet_multinomial <- function(k) {
  if (missing(k)) {
    abort_arg("k", "is missing: give the number of counts in each vector, a whole number >= 2.")
  }
  k <- check_whole_number(k, "k", min = 2)
  new_model("dirichlet_multinomial", "dm", "alphas", list(k = k))
}

#' @rdname models
#' @export
normal_inverse_wishart <- function(dim) {
  if (missing(dim)) {
    abort_arg("dim", "is missing: give the length of each row's vector, a whole number >= 1.")
  }
  dim <- check_whole_number(dim, "dim", min = 1, max = 1000)
  new_model("normal_inverse_wishart", "niw", c("mu0", "lambda", "psi", "nu"), list(dim = dim))
}

#' @rdname models
#' @export
beta_bernoulli_nonconj <- function() {
  new_model("beta_bernoulli_nonconj", "bbnc", c("alpha", "beta"))
}

new_model <- function(name, kind, hp_names, parameters = list()) {
  structure(list(name = name, kind = kind, hp_names = hp_names, parameters = parameters),
            class = "microscopes_model")
}

# The likelihood kinds: constructor name -> datamicroscopes short name,
# and the C id of each kind (the enum of src/block.h, also the order in
# which blocks are scored and packed).
model_kinds <- c(beta_bernoulli = "bb", dirichlet_discrete = "dd", gamma_poisson = "gp",
                 beta_negative_binomial = "bnb", normal_inverse_chisq = "nich",
                 normal_inverse_wishart = "niw", dirichlet_multinomial = "dm",
                 beta_bernoulli_nonconj = "bbnc")
model_kind_ids <- c(bb = 0L, dd = 1L, gp = 2L, bnb = 3L, nich = 4L, niw = 5L, dm = 6L,
                    bbnc = 7L)

# Kinds whose cell is a vector (a matrix column of the data frame; issue
# 14): the C side packs each feature's cell as cell_width columns.
vector_kinds <- c("niw", "dm")

# The width of feature model `model`'s cell: its vector's length for a
# vector kind (dm: k), 1 for a scalar kind.
model_cell_width <- function(model) {
  switch(model$kind, dm = as.integer(model$parameters$k),
         niw = as.integer(model$parameters$dim), 1L)
}

# The shape of each hyperparameter of `model`, by name: a length (1 for a
# scalar, dd's and dm's k for `alphas`) or, for a matrix (niw's psi), its
# dimensions. A feature's hyperparameters travel to C as one vector, these
# pieces one after the other (a matrix column by column).
model_hp_shapes <- function(model) {
  if (model$kind == "niw") {
    dim <- as.integer(model$parameters$dim)
    return(list(mu0 = dim, lambda = 1L, psi = c(dim, dim), nu = 1L)[model$hp_names])
  }
  size <- switch(model$kind, dd = , dm = list(as.integer(model$parameters$k)), NULL)
  if (is.null(size)) size <- rep(list(1L), length(model$hp_names))
  stats::setNames(size, model$hp_names)
}

# Whether hyperparameter `name` of `model` takes any real value (a
# location, or niw's scale matrix with its off-diagonal entries); every
# other one must be > 0.
hp_is_real <- function(model, name) {
  (model$kind == "nich" && name == "mu") || (model$kind == "niw" && name %in% c("mu0", "psi"))
}

# Feature `model`'s hyperparameter vector (C's order) -> its named list.
hp_list_from_vector <- function(model, v) {
  shapes <- model_hp_shapes(model)
  at <- 0L
  out <- lapply(shapes, function(shape) {
    len <- prod(shape)
    piece <- v[at + seq_len(len)]
    at <<- at + len
    if (length(shape) == 2L) matrix(piece, shape[1], shape[2]) else piece
  })
  stats::setNames(out, names(shapes))
}

# Kinds whose groups keep explicit parameters (sampled by
# assign_resample_kernel() and theta_kernel(), not by the collapsed kernels).
nonconjugate_kinds <- "bbnc"

# Does the definition have a feature with explicit group parameters?
defn_is_nonconjugate <- function(defn) any(defn_kinds(defn) %in% nonconjugate_kinds)

#' @export
format.microscopes_model <- function(x, ...) {
  p <- x$parameters
  if (length(p) == 0L) return(sprintf("%s()", x$name))
  sprintf("%s(%s)", x$name,
          paste(sprintf("%s = %s", names(p), vapply(p, format, character(1))), collapse = ", "))
}

#' @export
print.microscopes_model <- function(x, ...) {
  label <- if (length(x$parameters) == 0L) x$name else format(x)
  cat("<microscopes model:", label, ">\n")
  invisible(x)
}

# A model object as the current constructors make it, from one that may
# have been saved before the `kind`, `hp_names` and `parameters` fields
# existed (then it is a beta_bernoulli()) or edited by hand; validated by
# the constructor itself, so that a hand-made `k = 1.5` fails as
# `dirichlet_discrete(1.5)` would. `i` is its position in `models`.
normalise_model <- function(m, i, call = caller_call()) {
  force(call)
  name <- m$name
  if (!is.character(name) || length(name) != 1L || !name %in% names(model_kinds)) {
    abort_arg("models", sprintf(
      "element %d is a model %s that microscopes does not know; use %s.",
      i, describe_value(name), paste0(names(model_kinds), "()", collapse = ", ")), call = call)
  }
  p <- m$parameters
  out <- tryCatch(switch(name,
    beta_bernoulli = beta_bernoulli(),
    dirichlet_discrete = dirichlet_discrete(p$k),
    gamma_poisson = gamma_poisson(),
    beta_negative_binomial = beta_negative_binomial(p$r),
    normal_inverse_chisq = normal_inverse_chisq(),
    normal_inverse_wishart = normal_inverse_wishart(p$dim),
    dirichlet_multinomial = dirichlet_multinomial(p$k),
    beta_bernoulli_nonconj = beta_bernoulli_nonconj()),
    microscopes_error_argument = function(e) {
      abort_arg("models", sprintf("element %d is not a valid %s() model: %s", i, name,
                                  conditionMessage(e)), call = call)
    })
  out
}

#' Define a mixture model
#'
#' A Dirichlet process mixture (Chinese restaurant process prior over the
#' partition of the rows) whose groups share, feature by feature, the
#' likelihood models given in `models` (see [models]).
#'
#' `model_definition(n, models)` takes the number of rows and one model per
#' feature. `model_definition(view)` takes both from the data: `n` from the
#' rows of a dataview (or of a data frame or binary matrix, made into one
#' with [dataview()]) and the models from [default_models()], which says
#' what it chose unless `quiet = TRUE`; `model_definition(view, models)`
#' takes `n` from the data and checks that every column fits its model.
#'
#' @param n Number of rows (entities) in the data; or the data itself: a
#'   dataview, a data frame or a binary matrix.
#' @param models A list with one likelihood model per feature (column), for
#'   example `rep(list(beta_bernoulli()), D)` or
#'   `list(dirichlet_discrete(3), gamma_poisson(), normal_inverse_chisq())`.
#'   Optional when `n` is the data: then `default_models(n)`.
#' @param quiet When the models come from [default_models()], `TRUE` leaves
#'   out its message listing the model chosen for each column.
#' @return A `microscopes_model_definition`: a plain list with `n`, `D`,
#'   `models` (the constructor name of each feature's model, such as
#'   `"beta_bernoulli"`) and `parameters` (one list per feature: `k` for
#'   `dirichlet_discrete()`, `r` for `beta_negative_binomial()`, empty
#'   otherwise).
#' @examples
#' defn <- model_definition(10, rep(list(beta_bernoulli()), 4))
#' defn
#' model_definition(5, list(dirichlet_discrete(3), normal_inverse_chisq()))
#' sprays <- transform(InsectSprays, count = as.integer(count))
#' model_definition(sprays)
#' @export
model_definition <- function(n, models, quiet = FALSE) {
  call <- sys.call()
  if (inherits(n, "microscopes_dataview") || is.data.frame(n) || is.matrix(n)) {
    view <- if (inherits(n, "microscopes_dataview")) n else
      dataview_for_arg(n, "n", call = call)
    if (missing(models)) {
      models <- default_models(view, quiet = check_flag(quiet, "quiet"))
    }
    if (is.list(models) && !inherits(models, "microscopes_model") &&
        length(models) != view$D) {
      abort_arg("models", sprintf("has %d %s but the data has %d columns (features).",
                                  length(models), if (length(models) == 1L) "model" else "models",
                                  view$D), call = call)
    }
    defn <- new_definition(view$n, models, call = call)
    check_view_shape(view, defn, call = call)
    if (identical(view$source, "data.frame")) {
      for (j in seq_len(defn$D)) {
        column_values(view$columns[[j]], defn_model(defn, j), view$colnames[j], j, call = call)
      }
    } else if (!all(defn$models == "beta_bernoulli")) {
      abort_binary_view(defn, "models", call = call)
    }
    return(defn)
  }
  n <- check_whole_number(n, "n", min = 1, call = call)
  if (missing(models)) {
    abort_arg("models", "is missing: give one feature model per column, such as `rep(list(beta_bernoulli()), D)`.",
              call = call)
  }
  new_definition(n, models, call = call)
}

new_definition <- function(n, models, call) {
  if (!is.list(models) || inherits(models, "microscopes_model") ||
      length(models) == 0L) {
    abort_arg("models", sprintf(
      "must be a non-empty list of feature models such as `rep(list(beta_bernoulli()), D)`, not %s.",
      describe_type(models)), call = call)
  }
  is_model <- vapply(models, inherits, logical(1), "microscopes_model")
  if (!all(is_model)) {
    abort_arg("models", sprintf(
      "must hold only feature models such as `beta_bernoulli()`; element %d is %s.",
      which(!is_model)[1], describe_type(models[[which(!is_model)[1]]])), call = call)
  }
  models <- lapply(seq_along(models), function(i) normalise_model(models[[i]], i, call = call))
  names <- vapply(models, `[[`, character(1), "name")
  parameters <- lapply(models, `[[`, "parameters")
  structure(list(n = n, D = length(models), models = names, parameters = parameters),
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
# Feature j's model object, from a definition (one made before
# `parameters` existed holds beta_bernoulli() features only).
defn_model <- function(defn, j) {
  name <- defn$models[[j]]
  p <- if (is.null(defn$parameters)) list() else defn$parameters[[j]]
  switch(name,
    beta_bernoulli = beta_bernoulli(),
    dirichlet_discrete = dirichlet_discrete(p$k),
    gamma_poisson = gamma_poisson(),
    beta_negative_binomial = beta_negative_binomial(p$r),
    normal_inverse_chisq = normal_inverse_chisq(),
    normal_inverse_wishart = normal_inverse_wishart(p$dim),
    dirichlet_multinomial = dirichlet_multinomial(p$k),
    beta_bernoulli_nonconj = beta_bernoulli_nonconj(),
    stop(sprintf("unknown model \"%s\" in the definition", name)))
}

# The datamicroscopes kind ("bb", ...) of each feature of a definition.
defn_kinds <- function(defn) unname(model_kinds[defn$models])

#' @export
print.microscopes_model_definition <- function(x, ...) {
  if (length(unique(x$models)) == 1L) {
    cat(sprintf("<microscopes model definition: %d rows, %d %s features>\n",
                x$n, x$D, x$models[1]))
  } else {
    counts <- table(factor(x$models, levels = unique(x$models)))
    cat(sprintf("<microscopes model definition: %d rows, %d features (%s)>\n", x$n, x$D,
                paste(sprintf("%d %s", as.vector(counts), names(counts)), collapse = ", ")))
  }
  invisible(x)
}

#' @export
print.microscopes_fixed_model_definition <- function(x, ...) {
  cat(sprintf(paste("<microscopes model definition: finite mixture, K = %d groups",
                    "(weights ~ Dirichlet(alpha/K)), %d rows, %d %s features>\n"),
              x$groups, x$n, x$D, paste(unique(x$models), collapse = "/")))
  invisible(x)
}

#' Wrap data for the samplers
#'
#' Validates the data once and keeps it in the form the C samplers read.
#' Every runner made from one view shares this copy.
#'
#' A binary matrix is packed into row-major codes plus, for each row, the
#' list of its features equal to 1 and of its missing features.
#'
#' A data frame gives one feature per column. Each column must be logical,
#' a factor (ordered or not), integer or double; a character column must be
#' made a factor first (`factor()`), and list columns and columns of other
#' classes (dates, times) are refused, as are data frames without rows or
#' columns and columns without a name or with a name used twice. The
#' columns are kept as they are stored: logical; a factor as its integer
#' codes 1, 2, ... with attribute `levels`; integer; double.
#' [default_models()] chooses a model for each column from this type.
#'
#' @section Vector-valued features: A matrix column of the data frame is
#'   *one* feature whose value in each row is a vector, such as the counts
#'   of [dirichlet_multinomial()]: `df$votes <- cbind(a, b, c)` (also
#'   `df$votes <- I(m)`, or `data.frame(..., votes = I(m))`, which keeps the
#'   matrix whole). It must be a logical, integer or double matrix with at
#'   least one column; `view$columns$votes` holds it as the n x w matrix.
#'   Instead of binding the columns yourself, name them:
#'   `dataview(df, vectors = list(votes = c("a", "b", "c")))` binds the
#'   columns `a`, `b`, `c` of `df` into one matrix column `votes` (its
#'   columns named `a`, `b`, `c`) at the place of `a`, and drops `b` and
#'   `c`; each column may belong to one vector only, and must be a
#'   logical, integer or double vector (a mix of integer and double gives a
#'   double matrix). Queries ([posterior_predictive_statistic()],
#'   `predict()`) take and return such a feature as a matrix column of the
#'   same width. [model_definition()] and [dpmixture()] called with a data
#'   frame take it as it is; give them a view made with `vectors =` (or
#'   bind the columns in the data frame) to use named columns.
#'
#' In both, `NA` (or `NaN`) marks an unobserved cell, which is left out of
#' every likelihood term (a vector-valued feature's model says what a row
#' with some entries `NA` means).
#'
#' @param Y A logical matrix, or a numeric matrix of 0s and 1s, with one row
#'   per entity and one column per feature; or a data frame with one row per
#'   entity and one column per feature (a matrix column is one vector-valued
#'   feature).
#' @param vectors For a data frame, `NULL` (the default) or a named list
#'   declaring vector-valued features by their columns: each element, named
#'   after the feature, gives the names of its columns (see the section).
#' @return A `microscopes_dataview`: a plain list (safe to `saveRDS`) with
#'   `n` (rows), `D` (features) and `colnames`; for a data frame also
#'   `source = "data.frame"` and `columns`.
#' @examples
#' Y <- matrix(c(TRUE, FALSE, NA, TRUE), 2, 2)
#' view <- dataview(Y)
#' view
#' dataview(warpbreaks)
#' # one feature of 3 counts per row: a matrix column, or named columns
#' ballots <- data.frame(a = c(3L, 0L, 1L), b = c(1L, 2L, 0L), c = c(0L, 4L, 2L))
#' view <- dataview(ballots, vectors = list(votes = c("a", "b", "c")))
#' view$columns$votes
#' @export
dataview <- function(Y, vectors = NULL) {
  if (!is.null(vectors)) Y <- bind_vector_columns(Y, vectors, call = sys.call())
  if (is.data.frame(Y)) {
    return(dataview_from_data_frame(Y, "Y", call = sys.call()))
  }
  if (!is.matrix(Y) || !(is.logical(Y) || is.numeric(Y))) {
    abort_arg("Y", sprintf("must be a logical or 0/1 matrix or a data frame, not %s.",
                           describe_type(Y)))
  }
  if (nrow(Y) == 0L || ncol(Y) == 0L) {
    abort_arg("Y", "must have at least one row and one column.")
  }
  packed <- .Call(C_pack_data, Y, "Y")
  structure(c(list(n = nrow(Y), D = ncol(Y), colnames = colnames(Y)), packed),
            class = "microscopes_dataview")
}

# dataview(x) for an argument not called `Y`: its errors name `arg`.
dataview_for_arg <- function(x, arg, call) {
  if (is.data.frame(x)) return(dataview_from_data_frame(x, arg, call = call))
  tryCatch(dataview(x), error = function(e) {
    stop(microscopes_condition(sub("^`Y`", sprintf("`%s`", arg), conditionMessage(e)),
                               class = "microscopes_error_argument", call = call))
  })
}

#' @export
print.microscopes_dataview <- function(x, ...) {
  if (identical(x$source, "data.frame")) {
    types <- vapply(x$columns, column_type, character(1))
    counts <- table(factor(types, levels = c("logical", "factor", "integer", "double",
                                             "logical matrix", "integer matrix",
                                             "double matrix")))
    counts <- counts[counts > 0]
    # a matrix column's cell is missing when any of its entries is
    n_missing <- sum(vapply(x$columns, function(col) {
      if (is.matrix(col)) sum(rowSums(is.na(col)) > 0) else sum(is.na(col))
    }, numeric(1)))
    cat(sprintf("<microscopes dataview: %d rows x %d %s (%s), %s missing %s>\n",
                x$n, x$D, if (x$D == 1L) "column" else "columns",
                paste(as.vector(counts), names(counts), collapse = ", "),
                format(n_missing), if (n_missing == 1) "cell" else "cells"))
    return(invisible(x))
  }
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

# Rows and features of a view against a definition.
check_view_shape <- function(view, defn, call = caller_call()) {
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

# What the samplers are given: a view that fits the definition, in a form
# the C core of this build runs.
check_view_fits <- function(view, defn, call = caller_call()) {
  force(call)
  check_view_shape(view, defn, call = call)
  check_sampler_supports(view, defn, call = call)
  invisible(view)
}

# Every model runs: a definition with models other than beta_bernoulli()
# needs a data frame view (pack_blocks() packs its columns).
check_sampler_supports <- function(view, defn, call = caller_call()) {
  force(call)
  if (defn_is_mixed(defn) && !identical(view$source, "data.frame")) {
    abort_binary_view(defn, "view", call = call)
  }
  invisible(view)
}

abort_binary_view <- function(defn, arg, call) {
  other <- which(defn$models != "beta_bernoulli")[1]
  abort_arg(arg, sprintf(
    "has a %s() feature (feature %d), but the view holds a binary matrix; make the view from a data frame to use other models.",
    defn$models[other], other), call = call)
}
