# plot_clusters() and plot_predictions() on tiny fake images (8 x 8), built
# by hand with fake_image_state() and five_group_state() (helper-plot.R).

tile <- function(canvas, side, row, col) {
  canvas[(row - 1) * side + seq_len(side), (col - 1) * side + seq_len(side)]
}

test_that("plot_clusters() draws each group's posterior mean, largest first", {
  state <- five_group_state()
  canvas <- plot_clusters(state, digits_per_row = 3, file = tempfile(fileext = ".png"))

  expect_identical(dim(canvas), c(2L * 8L, 3L * 8L))
  expect_true(all(canvas >= 0 & canvas <= 1))
  # Largest group: id 2, row 2 of heads.
  a <- state$feature_hps[, "alpha"]
  b <- state$feature_hps[, "beta"]
  mean_2 <- (a + state$heads[1, ]) / (a + b + state$heads[1, ] + state$tails[1, ])
  expect_equal(tile(canvas, 8, 1, 1), 1 - matrix(mean_2, 8, 8, byrow = TRUE))
  # Then ids 9, 7, 4, 11; the last place of the grid is blank paper.
  mean_11 <- (a + state$heads[5, ]) / (a + b + state$heads[5, ] + state$tails[5, ])
  expect_equal(tile(canvas, 8, 2, 2), 1 - matrix(mean_11, 8, 8, byrow = TRUE))
  expect_true(all(tile(canvas, 8, 2, 3) == 1))
})

test_that("plot_clusters() writes a PNG of the canvas, 4 pixels per pixel by default", {
  skip_if_not_installed("png")
  state <- five_group_state()
  file <- withr::local_tempfile(fileext = ".png")

  canvas <- plot_clusters(state, file = file)
  expect_true(file.exists(file))
  written <- png::readPNG(file)
  expect_identical(dim(canvas), c(8L, 40L)) # 5 groups fit on one row of 12
  expect_identical(dim(written), 4L * dim(canvas))
  expect_equal(written[seq(1, 32, by = 4), seq(1, 160, by = 4)], canvas,
               tolerance = 1 / 255)

  plot_clusters(state, file = file, width = 400)
  expect_identical(dim(png::readPNG(file)), 10L * dim(canvas))
  plot_clusters(state, file = file, width = 400, height = 50)
  expect_identical(dim(png::readPNG(file)), 6L * dim(canvas))
  plot_clusters(state, file = file, width = 10)
  expect_identical(dim(png::readPNG(file)), dim(canvas))
})

test_that("plot_clusters(scale_by_size = TRUE) shrinks small groups onto white", {
  state <- five_group_state()
  plain <- plot_clusters(state, file = tempfile(fileext = ".png"))
  scaled <- plot_clusters(state, scale_by_size = TRUE, file = tempfile(fileext = ".png"))

  expect_identical(dim(scaled), dim(plain))
  expect_identical(tile(scaled, 8, 1, 1), tile(plain, 8, 1, 1))
  # Group of 10 (half the largest): a 4 x 4 image centred in rows 3 to 6.
  half <- tile(scaled, 8, 1, 2)
  expect_true(all(half[-(3:6), ] == 1))
  expect_true(all(half[, -(3:6)] == 1))
  expect_identical(half[3:6, 3:6], tile(plain, 8, 1, 2)[c(2, 4, 6, 8), c(2, 4, 6, 8)])
  # Group of 1: a single pixel.
  expect_identical(sum(tile(scaled, 8, 1, 5) != 1), 1L)
})

test_that("plot_clusters() can show only the largest groups", {
  state <- five_group_state()
  canvas <- plot_clusters(state, max_groups = 2, file = tempfile(fileext = ".png"))
  expect_identical(dim(canvas), c(8L, 16L))
  expect_identical(canvas, plot_clusters(state, file = tempfile(fileext = ".png"))[, 1:16])
})

test_that("plot_clusters() draws on the current device", {
  state <- five_group_state()
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_invisible(canvas <- plot_clusters(state, main = "five groups"))
  expect_identical(dim(canvas), c(8L, 40L))
  expect_invisible(plot_clusters(state, scale_by_size = TRUE, digits_per_row = 2))
})

test_that("plot_clusters() checks its arguments", {
  state <- five_group_state()
  not_square <- fake_image_state(matrix(TRUE, 2, 12), c(1, 2))
  expect_snapshot(error = TRUE, {
    plot_clusters(not_square)
    plot_clusters(unclass(state))
    plot_clusters(list(state, state))
    plot_clusters(state, scale_by_size = NA)
    plot_clusters(state, digits_per_row = 0)
    plot_clusters(state, max_groups = 1.5)
    plot_clusters(state, file = 1)
  })
})

test_that("plot_predictions() draws predictions above the truth", {
  skip_if_not_installed("png")
  truth <- fake_images(3, side = 8) * 1
  predicted <- truth
  predicted[, 33:64] <- 0.25
  file <- withr::local_tempfile(fileext = ".png")

  canvas <- plot_predictions(predicted, truth, file = file)
  expect_identical(dim(canvas), c(16L, 24L))
  expect_equal(tile(canvas, 8, 1, 2), 1 - matrix(predicted[2, ], 8, 8, byrow = TRUE))
  expect_equal(tile(canvas, 8, 2, 3), 1 - matrix(truth[3, ], 8, 8, byrow = TRUE))
  written <- png::readPNG(file)
  expect_identical(dim(written), c(64L, 96L))

  expect_identical(dim(plot_predictions(predicted, file = file)), c(8L, 24L))
  expect_identical(dim(png::readPNG(file)), c(32L, 96L))
})

test_that("plot_predictions() marks where prediction starts", {
  skip_if_not_installed("png")
  predicted <- matrix(0, 2, 64) # white paper everywhere
  file <- withr::local_tempfile(fileext = ".png")

  canvas <- plot_predictions(predicted, predicted, observed_rows = 4, file = file)
  expect_true(all(canvas == 1)) # the line is not part of the canvas
  written <- png::readPNG(file)
  grey_rows <- which(rowSums(written < 1) > 0)
  expect_identical(grey_rows, 16L) # the last PNG row of image row 4
  expect_true(all(written[16, ] < 0.6))
})

test_that("plot_predictions() draws on the current device", {
  truth <- fake_images(4, side = 8)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_invisible(canvas <- plot_predictions(truth * 0.5, truth, observed_rows = 4))
  expect_identical(dim(canvas), c(16L, 32L))
  # One image, as a vector; NA in the truth is drawn grey.
  truth[1, 1] <- NA
  canvas <- plot_predictions(rep(0.5, 64), truth[1, , drop = FALSE])
  expect_identical(canvas[9, 1], 0.5)
})

test_that("plot_predictions() checks its arguments", {
  ok <- matrix(0.5, 2, 16)
  expect_snapshot(error = TRUE, {
    plot_predictions(matrix(0.5, 2, 15))
    plot_predictions(as.data.frame(ok))
    plot_predictions(ok + 1)
    plot_predictions(ok, truth = matrix(1, 3, 16))
    plot_predictions(ok, truth = ok)
    plot_predictions(ok, observed_rows = 5)
  })
})

test_that("the plots work on states and predictions from the sampler", {
  skip_if_not_installed("png")
  set.seed(3)
  Y <- fake_images(30, side = 4)
  view <- dataview(Y)
  defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
  r <- runner(defn, view, initialize_state(defn, view), default_kernel_config(defn))
  run(r, niters = 5)
  state <- get_latent(r)
  # The hand-made fixture counts as the sampler does.
  expect_identical(fake_image_state(Y, state$assignments)$heads, state$heads)

  canvas <- plot_clusters(state, digits_per_row = 2, file = tempfile(fileext = ".png"))
  expect_equal(dim(canvas), c(4 * ceiling(n_groups(state) / 2), 4 * min(2, n_groups(state))))

  queries <- Y[1:3, ]
  queries[, 9:16] <- NA
  predicted <- posterior_predictive_statistic(queries, state, samples_per_chain = 10,
                                              merge = "avg")
  canvas <- plot_predictions(predicted, Y[1:3, ], observed_rows = 2,
                             file = tempfile(fileext = ".png"))
  expect_identical(dim(canvas), c(8L, 12L))
})
