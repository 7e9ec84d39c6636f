# default_feature_hp(): initial hyperparameters from a column's location and
# scale (R/model-defaults.R). Model objects are built by hand here, in the
# shape of CONTRACT.md, so that this file does not depend on the constructors.
model_of <- function(kind, hp_names, parameters = list()) {
  structure(list(name = kind, kind = kind, hp_names = hp_names,
                 parameters = parameters), class = "microscopes_model")
}

test_that("nich defaults follow the column's units", {
  nich <- model_of("nich", c("mu", "kappa", "sigmasq", "nu"))
  x <- c(1.5, 2.5, NA, 4, 0.5)
  hp <- microscopes:::default_feature_hp(nich, x)
  expect_named(hp, nich$hp_names)
  observed <- x[!is.na(x)]
  expect_equal(hp$mu, mean(observed))
  expect_equal(hp$sigmasq, mean((observed - mean(observed))^2))
  scaled <- microscopes:::default_feature_hp(nich, 1000 * x + 7)
  expect_equal(scaled$mu, 1000 * hp$mu + 7)
  expect_equal(scaled$sigmasq, 1e6 * hp$sigmasq)
  expect_equal(scaled[c("kappa", "nu")], hp[c("kappa", "nu")])
})

test_that("fallbacks give positive scales for empty and constant columns", {
  nich <- model_of("nich", c("mu", "kappa", "sigmasq", "nu"))
  expect_equal(microscopes:::default_feature_hp(nich, c(NA_real_, NA))$sigmasq, 1)
  expect_equal(microscopes:::default_feature_hp(nich, c(3, 3, 3))$sigmasq, 9)
  expect_equal(microscopes:::default_feature_hp(nich, c(0, 0))$sigmasq, 1)
  gp <- model_of("gp", c("alpha", "inv_beta"))
  expect_equal(microscopes:::default_feature_hp(gp, c(0L, 0L, NA)),
               list(alpha = 1, inv_beta = 1))
})

test_that("count defaults match the column's mean", {
  gp <- model_of("gp", c("alpha", "inv_beta"))
  counts <- c(0L, 3L, 5L, NA, 4L)
  hp <- microscopes:::default_feature_hp(gp, counts)
  expect_equal(hp$alpha * hp$inv_beta, 3)
  bnb <- model_of("bnb", c("alpha", "beta"), list(r = 2))
  hp <- microscopes:::default_feature_hp(bnb, counts)
  # prior predictive mean r beta / (alpha - 1) is the column mean
  expect_equal(2 * hp$beta / (hp$alpha - 1), 3)
  expect_equal(microscopes:::default_feature_hp(bnb, c(1e6L, 1e6L))$beta, 500)
})

test_that("dd and bb defaults are uniform", {
  dd <- model_of("dd", "alphas", list(k = 4))
  expect_equal(microscopes:::default_feature_hp(dd, factor(c("a", "b"))),
               list(alphas = rep(1, 4)))
  bb <- model_of("bb", c("alpha", "beta"))
  expect_equal(microscopes:::default_feature_hp(bb, c(TRUE, NA)),
               list(alpha = 1, beta = 1))
  expect_error(microscopes:::default_feature_hp(model_of("zz", character()), 1),
               "no default hyperparameters")
})
