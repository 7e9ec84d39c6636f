# Model constructors, data frame views, default_models(),
# model_definition(view) and the packed blocks of pack_blocks().

mixed_frame <- function() {
  data.frame(
    smoker = c(TRUE, FALSE, NA, TRUE, FALSE),
    sex = factor(c("f", "m", "m", NA, "f")),
    colour = factor(c("red", "blue", NA, "green", "red"), levels = c("blue", "green", "red")),
    visits = c(0L, 3L, NA, 1L, 7L),
    year = c(1990L, 2001L, 1995L, NA, 2010L),
    height = c(1.72, NA, 1.60, 1.85, 1.55),
    whole = c(3, 4, 5, 6, 7),
    flag = c(0L, 1L, 1L, NA, 0L))
}

test_that("the constructors give name, kind, hyperparameter names and parameters", {
  expect_identical(unclass(beta_bernoulli()),
                   list(name = "beta_bernoulli", kind = "bb", hp_names = c("alpha", "beta"),
                        parameters = list()))
  expect_identical(unclass(dirichlet_discrete(3)),
                   list(name = "dirichlet_discrete", kind = "dd", hp_names = "alphas",
                        parameters = list(k = 3L)))
  expect_identical(unclass(gamma_poisson()),
                   list(name = "gamma_poisson", kind = "gp", hp_names = c("alpha", "inv_beta"),
                        parameters = list()))
  expect_identical(unclass(beta_negative_binomial(2.5)),
                   list(name = "beta_negative_binomial", kind = "bnb",
                        hp_names = c("alpha", "beta"), parameters = list(r = 2.5)))
  expect_identical(unclass(normal_inverse_chisq()),
                   list(name = "normal_inverse_chisq", kind = "nich",
                        hp_names = c("mu", "kappa", "sigmasq", "nu"), parameters = list()))
  expect_identical(dirichlet_discrete(4.0)$parameters$k, 4L)
  expect_output(print(dirichlet_discrete(3)), "dirichlet_discrete\\(k = 3\\)")
  expect_output(print(beta_bernoulli()), "<microscopes model: beta_bernoulli >", fixed = TRUE)
  expect_identical(format(beta_negative_binomial(2)), "beta_negative_binomial(r = 2)")
})

test_that("the constructors check k and r", {
  expect_snapshot(error = TRUE, dirichlet_discrete())
  expect_snapshot(error = TRUE, dirichlet_discrete(1))
  expect_snapshot(error = TRUE, dirichlet_discrete(2.5))
  expect_snapshot(error = TRUE, dirichlet_discrete("3"))
  expect_snapshot(error = TRUE, dirichlet_discrete(NA))
  expect_snapshot(error = TRUE, dirichlet_discrete(c(2, 3)))
  expect_snapshot(error = TRUE, beta_negative_binomial())
  expect_snapshot(error = TRUE, beta_negative_binomial(0))
  expect_snapshot(error = TRUE, beta_negative_binomial(-1))
  expect_snapshot(error = TRUE, beta_negative_binomial(Inf))
  expect_snapshot(error = TRUE, beta_negative_binomial(NaN))
  expect_snapshot(error = TRUE, beta_negative_binomial(c(1, 2)))
})

test_that("model_definition() keeps the beta-Bernoulli definition and adds parameters", {
  defn <- model_definition(3, rep(list(beta_bernoulli()), 2))
  expect_identical(unclass(defn), list(n = 3L, D = 2L, models = rep("beta_bernoulli", 2),
                                       parameters = list(list(), list())))
  expect_output(print(defn), "<microscopes model definition: 3 rows, 2 beta_bernoulli features>",
                fixed = TRUE)
  # A model saved before `kind` existed is still a beta_bernoulli().
  old <- structure(list(name = "beta_bernoulli"), class = "microscopes_model")
  expect_identical(model_definition(3, list(old, old)), defn)

  mixed <- model_definition(4, list(dirichlet_discrete(3), gamma_poisson(),
                                    beta_negative_binomial(2), normal_inverse_chisq(),
                                    beta_bernoulli()))
  expect_identical(mixed$models, c("dirichlet_discrete", "gamma_poisson",
                                   "beta_negative_binomial", "normal_inverse_chisq",
                                   "beta_bernoulli"))
  expect_identical(mixed$parameters, list(list(k = 3L), list(), list(r = 2), list(), list()))
  expect_identical(microscopes:::defn_kinds(mixed), c("dd", "gp", "bnb", "nich", "bb"))
  expect_output(print(mixed), "5 features (1 dirichlet_discrete, 1 gamma_poisson", fixed = TRUE)
  # Named lists (as default_models() returns) give the same definition.
  expect_identical(model_definition(4, list(a = dirichlet_discrete(3), b = gamma_poisson(),
                                            c = beta_negative_binomial(2),
                                            d = normal_inverse_chisq(), e = beta_bernoulli())),
                   mixed)
})

test_that("model_definition() checks hand-made models and a missing `models`", {
  bad_k <- dirichlet_discrete(3); bad_k$parameters$k <- 1.5
  bad_r <- beta_negative_binomial(1); bad_r$parameters <- list()
  expect_snapshot(error = TRUE, model_definition(3, list(beta_bernoulli(), bad_k)))
  expect_snapshot(error = TRUE, model_definition(3, list(bad_r)))
  expect_snapshot(error = TRUE, model_definition(3))
})

test_that("dataview() keeps a data frame's columns as stored", {
  df <- mixed_frame()
  view <- dataview(df)
  expect_s3_class(view, "microscopes_dataview")
  expect_identical(view$n, 5L)
  expect_identical(view$D, 8L)
  expect_identical(view$source, "data.frame")
  expect_identical(view$colnames, names(df))
  expect_identical(view$columns$smoker, df$smoker)
  expect_identical(view$columns$sex, structure(c(1L, 2L, 2L, NA, 1L), levels = c("f", "m")))
  expect_identical(view$columns$colour, structure(c(3L, 1L, NA, 2L, 3L),
                                                  levels = c("blue", "green", "red")))
  expect_identical(view$columns$visits, df$visits)
  expect_identical(view$columns$height, df$height)
  # attributes other than a factor's levels are dropped; I() is fine
  df2 <- data.frame(x = I(c(a = 1, b = 2)), o = factor(c("lo", "hi"), c("lo", "hi"), ordered = TRUE))
  v2 <- dataview(df2)
  expect_identical(v2$columns$x, c(1, 2))
  expect_identical(v2$columns$o, structure(1:2, levels = c("lo", "hi")))
  expect_snapshot(print(view))
  expect_snapshot(print(dataview(data.frame(x = c(1.5, NA)))))
})

test_that("dataview() of a matrix is what it was", {
  Y <- matrix(c(TRUE, FALSE, NA, TRUE, TRUE, NA), 3, 2, dimnames = list(NULL, c("a", "b")))
  expect_identical(dataview(Y),
                   structure(c(list(n = 3L, D = 2L, colnames = c("a", "b")),
                               .Call(microscopes:::C_pack_data, Y, "Y")),
                             class = "microscopes_dataview"))
  expect_null(dataview(Y)$source)
})

test_that("dataview() refuses data frames it cannot model, naming the column", {
  expect_snapshot(error = TRUE, dataview(data.frame(a = 1:2, b = c("x", "y"))))
  expect_snapshot(error = TRUE, dataview(data.frame(a = 1:2, b = I(list(1, 2)))))
  expect_snapshot(error = TRUE, dataview(data.frame(a = 1:2)[0, , drop = FALSE]))
  expect_snapshot(error = TRUE, dataview(data.frame()))
  m <- data.frame(a = 1:2); m$xy <- cbind(c("u", "v"), c("w", "x"))
  expect_snapshot(error = TRUE, dataview(m))
  expect_snapshot(error = TRUE, dataview(data.frame(d = as.Date(c("2020-01-01", "2021-06-30")))))
  expect_snapshot(error = TRUE, dataview(data.frame(f = addNA(factor(c("a", NA))))))
  expect_snapshot(error = TRUE, dataview(data.frame(z = c(1i, 2i))))
  expect_snapshot(error = TRUE, dataview(data.frame(a = 1:2, a = 3:4, check.names = FALSE)))
  expect_snapshot(error = TRUE, dataview(structure(list(1:2, 3:4), names = c("a", ""),
                                                   class = "data.frame", row.names = 1:2)))
})

test_that("default_models() follows the documented rules and says what it chose", {
  df <- mixed_frame()
  expect_snapshot(models <- default_models(df))
  expect_identical(names(models), names(df))
  expect_identical(unname(vapply(models, format, character(1))),
                   c("beta_bernoulli()", "beta_bernoulli()", "dirichlet_discrete(k = 3)",
                     "gamma_poisson()", "normal_inverse_chisq()", "normal_inverse_chisq()",
                     "normal_inverse_chisq()", "beta_bernoulli()"))
  expect_silent(quiet <- default_models(df, quiet = TRUE))
  expect_identical(quiet, models)
  expect_identical(default_models(dataview(df), quiet = TRUE), models)
  # Counts: integer, >= 0, smallest observed value 0 or 1.
  pick <- function(x) default_models(data.frame(x = x), quiet = TRUE)$x$name
  expect_identical(pick(c(1L, 5L, 2L)), "gamma_poisson")
  expect_identical(pick(c(2L, 5L, 3L)), "normal_inverse_chisq")
  expect_identical(pick(c(-1L, 5L, 3L)), "normal_inverse_chisq")
  expect_identical(pick(c(0, 5, 3)), "normal_inverse_chisq")
  expect_identical(pick(c(0, 1, NA)), "beta_bernoulli")
  expect_identical(pick(c(NA_integer_, NA)), "normal_inverse_chisq")
  expect_identical(pick(c(NA, NA)), "beta_bernoulli")
  # Unused levels count towards k.
  expect_identical(default_models(data.frame(x = factor("a", letters[1:4])),
                                  quiet = TRUE)$x$parameters$k, 4L)
  # A binary matrix stays all beta-Bernoulli, without a message.
  Y <- matrix(c(1, 0, 1, 1), 2)
  expect_silent(bb <- default_models(Y))
  expect_identical(bb, rep(list(beta_bernoulli()), 2))
  expect_identical(default_models(dataview(Y)), bb)
  expect_snapshot(error = TRUE, default_models(data.frame(x = factor(c("a", "a")))))
  expect_snapshot(error = TRUE, default_models(list(1, 2)))
  expect_snapshot(error = TRUE, default_models(matrix(c(1, 2), 1)))
  expect_snapshot(error = TRUE, default_models(data.frame(x = 1), quiet = NA))
})

test_that("model_definition(view) takes the rows and default models from the data", {
  df <- mixed_frame()
  defn <- model_definition(df, quiet = TRUE)
  expect_identical(defn, model_definition(5, default_models(df, quiet = TRUE)))
  expect_identical(model_definition(dataview(df), quiet = TRUE), defn)
  expect_message(model_definition(df), "default_models")
  Y <- matrix(c(1, 0, 1, 1, 0, NA), 3)
  expect_identical(model_definition(dataview(Y)),
                   model_definition(3, rep(list(beta_bernoulli()), 2)))
  expect_identical(model_definition(Y), model_definition(3, rep(list(beta_bernoulli()), 2)))
  # with models given, n comes from the data and the columns are checked
  models <- default_models(df, quiet = TRUE)
  models$visits <- beta_negative_binomial(2)
  expect_identical(model_definition(df, models)$models[4], "beta_negative_binomial")
  expect_snapshot(error = TRUE, model_definition(df, models[1:3]))
  models$year <- dirichlet_discrete(3)
  expect_snapshot(error = TRUE, model_definition(df, models))
  expect_snapshot(error = TRUE, model_definition(Y, list(gamma_poisson(), beta_bernoulli())))
  expect_snapshot(error = TRUE, model_definition(data.frame(a = "x")))
})

test_that("pack_blocks() lays out blocks in kind order, row-major, 0-based, NA as INT_MIN/NaN", {
  df <- data.frame(
    h = c(1.5, NA, -2),
    b1 = c(TRUE, NA, FALSE),
    c1 = c(4L, NA, 0L),
    f = factor(c("z", "x", NA), levels = c("x", "y", "z")),
    c2 = c(2, 0, 5),
    b2 = factor(c("no", "yes", "yes"), levels = c("no", "yes")),
    n2 = c(3L, 5L, NA),
    g = c(NA, 1L, 2L))
  models <- list(normal_inverse_chisq(), beta_bernoulli(), gamma_poisson(),
                 dirichlet_discrete(4), beta_negative_binomial(1.5), beta_bernoulli(),
                 normal_inverse_chisq(), dirichlet_discrete(2))
  view <- dataview(df)
  defn <- model_definition(3, models)
  blocks <- microscopes:::pack_blocks(view, defn)
  expect_identical(vapply(blocks, `[[`, integer(1), "kind"), 0:4)
  for (b in blocks) {
    expect_named(b, c("kind", "features", "ivalues", "dvalues", "n_levels", "parameter", "bb"))
  }
  bb <- blocks[[1]]
  expect_identical(bb$features, c(2L, 6L))
  expect_null(bb$ivalues); expect_null(bb$dvalues)
  expect_identical(bb$bb, dataview(matrix(c(TRUE, NA, FALSE, FALSE, TRUE, TRUE), 3, 2,
                                          dimnames = list(NULL, c("b1", "b2")))))
  dd <- blocks[[2]]
  expect_identical(dd$features, c(4L, 8L))
  expect_identical(dd$ivalues, c(2L, NA, 0L, 0L, NA, 1L))
  expect_identical(dd$n_levels, c(4L, 2L))
  expect_null(dd$dvalues); expect_null(dd$bb); expect_null(dd$parameter)
  gp <- blocks[[3]]
  expect_identical(gp$features, 3L)
  expect_identical(gp$ivalues, c(4L, NA, 0L))  # NA_integer_ is INT_MIN = BLOCK_INT_NA
  bnb <- blocks[[4]]
  expect_identical(bnb$features, 5L)
  expect_identical(bnb$ivalues, c(2L, 0L, 5L))
  expect_identical(bnb$parameter, 1.5)
  nich <- blocks[[5]]
  expect_identical(nich$features, c(1L, 7L))
  expect_identical(nich$dvalues[-c(3, 6)], c(1.5, 3, 5, -2))
  expect_true(is.nan(nich$dvalues[3]) && is.nan(nich$dvalues[6]))
  expect_null(nich$ivalues)

  # A binary matrix view: one bb block holding the view itself.
  Y <- matrix(c(1, 0, NA, 1, 1, 0), 3)
  mview <- dataview(Y)
  mblocks <- microscopes:::pack_blocks(mview, model_definition(3, rep(list(beta_bernoulli()), 2)))
  expect_length(mblocks, 1L)
  expect_identical(mblocks[[1]]$bb, mview)
  expect_identical(mblocks[[1]]$features, 1:2)
  # Only the kinds present get a block.
  only <- microscopes:::pack_blocks(dataview(df[c("g", "h")]),
                                    model_definition(3, list(dirichlet_discrete(2),
                                                             normal_inverse_chisq())))
  expect_identical(vapply(only, `[[`, integer(1), "kind"), c(1L, 4L))
})

test_that("pack_blocks() refuses columns that do not fit their model, naming column and row", {
  pack <- function(column, model) {
    microscopes:::pack_blocks(dataview(data.frame(x = 1:4, col = I(column))),
                              model_definition(4, list(normal_inverse_chisq(), model)))
  }
  bb <- beta_bernoulli(); dd <- dirichlet_discrete(3); gp <- gamma_poisson()
  bnb <- beta_negative_binomial(2); nich <- normal_inverse_chisq()
  # beta_bernoulli()
  expect_snapshot(error = TRUE, pack(c(0L, 1L, 2L, NA), bb))
  expect_snapshot(error = TRUE, pack(c(0, 0.5, 1, 1), bb))
  expect_snapshot(error = TRUE, pack(factor(c("a", "b", "c", "a")), bb))
  # dirichlet_discrete(3)
  expect_snapshot(error = TRUE, pack(factor(c("a", "b", "c", "d")), dd))
  expect_snapshot(error = TRUE, pack(c(1L, 3L, 4L, NA), dd))
  expect_snapshot(error = TRUE, pack(c(1L, 0L, 2L, 3L), dd))
  expect_snapshot(error = TRUE, pack(c(1, 2, 3, 1), dd))
  expect_snapshot(error = TRUE, pack(c(TRUE, FALSE, TRUE, NA), dd))
  # gamma_poisson() and beta_negative_binomial(2)
  expect_snapshot(error = TRUE, pack(c(0L, 2L, -1L, 4L), gp))
  expect_snapshot(error = TRUE, pack(c(0, 2.5, 1, 4), gp))
  expect_snapshot(error = TRUE, pack(c(0, 2, Inf, 4), gp))
  expect_snapshot(error = TRUE, pack(c(0, 3e9, 1, 4), gp))
  expect_snapshot(error = TRUE, pack(factor(c("a", "b", "a", "b")), gp))
  expect_snapshot(error = TRUE, pack(c(TRUE, FALSE, TRUE, NA), bnb))
  expect_snapshot(error = TRUE, pack(c(1L, NA, -3L, 0L), bnb))
  # normal_inverse_chisq()
  expect_snapshot(error = TRUE, pack(c(1.5, -Inf, 2, NA), nich))
  expect_snapshot(error = TRUE, pack(c(TRUE, FALSE, TRUE, NA), nich))
  expect_snapshot(error = TRUE, pack(factor(c("a", "b", "a", "b")), nich))
  # what fits: whole doubles as counts, integers as reals, 0/1 as binary
  ok <- pack(c(0, 2, NA, 4), gp)
  expect_identical(ok[[1]]$ivalues, c(0L, 2L, NA, 4L))
  expect_identical(pack(c(1L, NA, 3L, 2L), dd)[[1]]$ivalues, c(0L, NA, 2L, 1L))
  expect_identical(pack(c(0L, 1L, NA, 1L), bb)[[1]]$bb$codes,
                   dataview(matrix(c(0L, 1L, NA, 1L)))$codes)
  expect_identical(pack(c(1L, NA, 3L, 2L), nich)[[1]]$dvalues,
                   c(1, 1, 2, NaN, 3, 3, 4, 2))
})

test_that("a mixed definition needs a data frame view; an all-bb data frame runs as its matrix", {
  df <- mixed_frame()
  defn <- model_definition(df, quiet = TRUE)
  M <- matrix(c(TRUE, FALSE), nrow(df), defn$D)
  expect_snapshot(error = TRUE, initialize_state(defn, dataview(M)))
  binary <- data.frame(a = c(TRUE, FALSE, TRUE), b = c(FALSE, FALSE, TRUE))
  bdefn <- model_definition(binary, quiet = TRUE)
  s_frame <- initialize_state(bdefn, dataview(binary), assignment = c(1, 1, 2))
  s_matrix <- initialize_state(bdefn, dataview(as.matrix(binary)), assignment = c(1, 1, 2))
  expect_identical(s_frame, s_matrix)
})
