# Pictures of image data: each figure is composed as one grey-level canvas
# (a numeric matrix, 0 = black ink, 1 = white paper, like matplotlib's
# cmap = "binary" on probabilities), then either drawn with a single
# rasterImage() call or written as a PNG, which needs no graphics device.

#' Plot the groups of a mixture of images
#'
#' Draws each group of a latent state as its posterior mean image, the
#' posterior predictive probability that each pixel is on,
#' \eqn{(a_d + heads_{kd}) / (a_d + b_d + heads_{kd} + tails_{kd})}, in black
#' ink on white, largest group first, `digits_per_row` groups to a row. This
#' is the cluster figure of the MNIST example of datamicroscopes.
#'
#' @param state A latent state (class `microscopes_state`) whose features
#'   are the pixels of a square image in row-major order, e.g. 784 for
#'   28 x 28.
#' @param scale_by_size If `TRUE`, each image is shrunk in proportion to its
#'   group's size relative to the largest group (nearest-neighbour
#'   resampling) and centred on its tile, so that the figure shows how much
#'   data each group explains.
#' @param digits_per_row Number of groups on a row of the figure.
#' @param max_groups If not `NULL`, show only this many of the largest
#'   groups.
#' @param file If not `NULL`, the path of a PNG file to write (with the png
#'   package) instead of drawing on the current graphics device.
#' @param width,height Only with `file`: the largest size of the PNG in
#'   pixels. Each image pixel becomes a square of the largest whole number
#'   of PNG pixels that fits; by default 4.
#' @param ... Passed to [graphics::title()] when drawing on a device, e.g.
#'   `main = "MNIST groups"`.
#' @return The composed canvas, invisibly: a numeric matrix with values in
#'   \[0, 1\] (0 is black), `side` rows per row of groups and `side` columns
#'   per group, where `side` is the square root of the number of features.
#' @seealso [plot_predictions()].
#' @examples
#' set.seed(1)
#' # 60 noisy 6 x 6 images of three shapes: a bar, a column and a cross.
#' ink <- c(0, 0, 1, 1, 0, 0)
#' bar <- rep(ink, each = 6)
#' column <- rep(ink, times = 6)
#' shapes <- rbind(bar, column, pmax(bar, column)) == 1
#' Y <- shapes[rep(1:3, c(30, 20, 10)), ]
#' Y <- xor(Y, matrix(runif(length(Y)) < 0.05, nrow(Y)))
#' view <- dataview(Y)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' r <- runner(defn, view, initialize_state(defn, view), default_kernel_config(defn))
#' run(r, niters = 20)
#' state <- get_latent(r)
#'
#' plot_clusters(state, main = "groups, largest first")
#' plot_clusters(state, scale_by_size = TRUE)
#' if (requireNamespace("png", quietly = TRUE)) {
#'   canvas <- plot_clusters(state, file = tempfile(fileext = ".png"))
#'   dim(canvas)
#' }
#' @export
plot_clusters <- function(state, scale_by_size = FALSE, digits_per_row = 12,
                          max_groups = NULL, file = NULL, width = NULL,
                          height = NULL, ...) {
  check_image_state(state)
  side <- image_side(state$D, "state", "features")
  check_flag(scale_by_size, "scale_by_size")
  digits_per_row <- check_whole_number(digits_per_row, "digits_per_row", min = 1)
  if (!is.null(max_groups)) {
    max_groups <- check_whole_number(max_groups, "max_groups", min = 1)
  }
  check_png_args(file, width, height)

  sizes <- as.numeric(state$group_sizes)
  if (length(sizes) == 0L) abort_arg("state", "has no groups to draw.")
  order_by_size <- order(sizes, decreasing = TRUE)
  if (!is.null(max_groups)) {
    order_by_size <- utils::head(order_by_size, max_groups)
  }
  sizes <- sizes[order_by_size]
  means <- group_mean_images(state)[, order_by_size, drop = FALSE]

  grey <- 1 - means
  if (scale_by_size) {
    for (k in seq_len(ncol(grey))) {
      grey[, k] <- shrink_image(grey[, k], side, sizes[k] / sizes[1])
    }
  }
  n_col <- min(digits_per_row, ncol(grey))
  canvas <- tile_images(grey, side, n_col)
  output_canvas(canvas, file, width, height, ...)
}

#' Plot posterior predictions of images
#'
#' Draws predicted images above the true ones, as in the prediction figure of
#' the MNIST example of datamicroscopes: typically, a few held-out digits
#' whose bottom half was hidden (`NA`) are completed by
#' [posterior_predictive_statistic()], and the probability of ink in each
#' pixel is drawn in black on white.
#'
#' @param predicted A numeric matrix of probabilities in \[0, 1\], one image
#'   per row, its columns the pixels of a square image in row-major order
#'   (e.g. 784 for 28 x 28); a vector is one image.
#' @param truth `NULL`, or a logical or 0/1 matrix of the same dimensions:
#'   the true images, drawn in a second row. `NA` pixels are drawn grey.
#' @param observed_rows `NULL`, or the number of image rows, from the top,
#'   that were observed (14 when the bottom half of a 28 x 28 image was
#'   hidden): a thin grey line then marks where prediction starts in each
#'   predicted image.
#' @param file If not `NULL`, the path of a PNG file to write (with the png
#'   package) instead of drawing on the current graphics device.
#' @param width,height Only with `file`: the largest size of the PNG in
#'   pixels. Each image pixel becomes a square of the largest whole number
#'   of PNG pixels that fits; by default 4.
#' @param ... Passed to [graphics::title()] when drawing on a device.
#' @return The composed canvas, invisibly, without the boundary line: a
#'   numeric matrix with values in \[0, 1\] (0 is black), `side` rows for
#'   the predictions (and `side` more for `truth`) and `side` columns per
#'   image.
#' @seealso [plot_clusters()].
#' @examples
#' set.seed(1)
#' # 6 x 6 images of a bar or a column; predict the bottom half of two.
#' ink <- c(0, 0, 1, 1, 0, 0)
#' shapes <- rbind(bar = rep(ink, each = 6), column = rep(ink, times = 6)) == 1
#' Y <- shapes[rep(1:2, c(30, 30)), ]
#' Y <- xor(Y, matrix(runif(length(Y)) < 0.05, nrow(Y)))
#' view <- dataview(Y)
#' defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
#' r <- runner(defn, view, initialize_state(defn, view), default_kernel_config(defn))
#' run(r, niters = 20)
#'
#' truth <- shapes
#' queries <- truth
#' queries[, 19:36] <- NA # bottom 3 rows unknown
#' predicted <- posterior_predictive_statistic(queries, get_latent(r),
#'                                             samples_per_chain = 50)
#' plot_predictions(predicted, truth, observed_rows = 3)
#' @export
plot_predictions <- function(predicted, truth = NULL, observed_rows = NULL,
                             file = NULL, width = NULL, height = NULL, ...) {
  if (is.atomic(predicted) && is.null(dim(predicted))) {
    predicted <- matrix(predicted, nrow = 1L)
  }
  if (!is.matrix(predicted) || !(is.numeric(predicted) || is.logical(predicted))) {
    abort_arg("predicted", sprintf(
      "must be a numeric matrix of probabilities, one image per row, not %s.",
      describe_type(predicted)
    ))
  }
  if (anyNA(predicted) || any(predicted < 0 | predicted > 1)) {
    abort_arg("predicted", "must hold probabilities in [0, 1], without NA.")
  }
  side <- image_side(ncol(predicted), "predicted", "columns")
  if (!is.null(truth)) {
    if (!is.matrix(truth) || !(is.numeric(truth) || is.logical(truth))) {
      abort_arg("truth", sprintf("must be `NULL` or a logical or 0/1 matrix, not %s.",
                                 describe_type(truth)))
    }
    if (!identical(dim(truth), dim(predicted))) {
      abort_arg("truth", sprintf(
        "must have the dimensions of `predicted` (%d x %d), not %d x %d.",
        nrow(predicted), ncol(predicted), nrow(truth), ncol(truth)
      ))
    }
    if (any(!is.na(truth) & truth != 0 & truth != 1)) {
      abort_arg("truth", "must hold only 0, 1 (or FALSE, TRUE) and NA.")
    }
  }
  if (!is.null(observed_rows)) {
    ok <- is.numeric(observed_rows) && length(observed_rows) == 1L &&
      !is.na(observed_rows) && observed_rows == round(observed_rows) &&
      observed_rows >= 0 && observed_rows <= side
    if (!ok) {
      abort_arg("observed_rows", sprintf(
        "must be `NULL` or a whole number of image rows from 0 to %d, not %s.",
        side, describe_value(observed_rows)
      ))
    }
  }
  check_png_args(file, width, height)

  n_images <- nrow(predicted)
  canvas <- tile_images(1 - t(predicted), side, n_images)
  if (!is.null(truth)) {
    truth_grey <- 1 - t(truth)
    truth_grey[is.na(truth_grey)] <- 0.5
    canvas <- rbind(canvas, tile_images(truth_grey, side, n_images))
  }
  # The line sits at the bottom edge of the last observed row.
  line_at <- if (!is.null(observed_rows) && observed_rows > 0 && observed_rows < side) {
    list(row = observed_rows, cols = c(0, ncol(canvas)))
  }
  output_canvas(canvas, file, width, height, line_at = line_at, ...)
}

# Validation ---------------------------------------------------------------

check_image_state <- function(state, call = caller_call()) {
  force(call)
  if (!is_state(state)) {
    what <- if (is.list(state) && length(state) > 0L &&
                all(vapply(state, is_state, logical(1)))) {
      "a list of states; pick one, e.g. `states[[1]]`"
    } else {
      describe_type(state)
    }
    abort_arg("state", sprintf(
      "must be a latent state (from `initialize_state()` or `get_latent()`), not %s.",
      what
    ), call = call)
  }
  invisible(state)
}

# The side of the square image that `n_pixels` pixels make, or an error.
image_side <- function(n_pixels, arg, what, call = caller_call()) {
  force(call)
  side <- as.integer(round(sqrt(n_pixels)))
  if (n_pixels < 1 || side * side != n_pixels) {
    abort_arg(arg, sprintf(
      "must have a square number of %s to be drawn as square images (e.g. 784 = 28 x 28), not %d.",
      what, as.integer(n_pixels)
    ), call = call)
  }
  side
}

check_png_args <- function(file, width, height, call = caller_call()) {
  force(call)
  if (is.null(file)) return(invisible())
  if (!is.character(file) || length(file) != 1L || is.na(file) || !nzchar(file)) {
    abort_arg("file", sprintf("must be `NULL` or a single file path, not %s.",
                              describe_value(file)), call = call)
  }
  if (!requireNamespace("png", quietly = TRUE)) {
    stop("Writing a PNG `file` needs the png package: install.packages(\"png\").",
         call. = FALSE)
  }
  if (!is.null(width)) check_whole_number(width, "width", min = 1, call = call)
  if (!is.null(height)) check_whole_number(height, "height", min = 1, call = call)
  invisible()
}

# Images and canvases ------------------------------------------------------

# Posterior mean of each pixel in each group: a D x K matrix, one column per
# group in the order of state$groups.
group_mean_images <- function(state) {
  hps <- state$feature_hps
  a <- hps[, "alpha"]
  b <- hps[, "beta"]
  heads <- t(state$heads)
  (heads + a) / (heads + t(state$tails) + a + b)
}

# Shrinks a row-major side x side image (a vector) by `weight`, with
# nearest-neighbour resampling, and centres it on a white tile, as the seed
# did with PIL's resize() and ImageOps.expand().
shrink_image <- function(v, side, weight) {
  small <- max(as.integer(floor(weight * side)), 1L)
  if (small >= side) return(v)
  pick <- floor((seq_len(small) - 0.5) * side / small) + 1
  image <- matrix(v, side, side, byrow = TRUE)
  tile <- matrix(1, side, side)
  at <- (side - small) %/% 2L + seq_len(small)
  tile[at, at] <- image[pick, pick]
  as.vector(t(tile))
}

# Lays out the images in the columns of `images` (each a row-major
# side x side image) left to right, top to bottom, `n_col` to a row; empty
# places are white.
tile_images <- function(images, side, n_col) {
  n_images <- ncol(images)
  n_row <- max(1L, ceiling(n_images / n_col))
  pixels <- c(images, rep(1, side * side * (n_row * n_col - n_images)))
  # Pixel (r, c) of image (row, col) is at [c, r, col, row]; the canvas
  # wants it at [r + side * (row - 1), c + side * (col - 1)].
  dim(pixels) <- c(side, side, n_col, n_row)
  canvas <- aperm(pixels, c(2L, 4L, 1L, 3L))
  dim(canvas) <- c(side * n_row, side * n_col)
  canvas
}

# Draws the canvas on the current device, or writes it to a PNG file.
# `line_at`: NULL or list(row, cols), a grey line under canvas row `row`.
output_canvas <- function(canvas, file, width, height, line_at = NULL, ...) {
  if (!is.null(file)) {
    scale <- png_scale(dim(canvas), width, height)
    big <- canvas[rep(seq_len(nrow(canvas)), each = scale),
                  rep(seq_len(ncol(canvas)), each = scale), drop = FALSE]
    if (!is.null(line_at)) {
      # The last PNG row of the image row: it darkens white to grey and
      # leaves ink as it is.
      at <- line_at$row * scale
      big[at, ] <- pmin(big[at, ], 0.55)
    }
    png::writePNG(big, target = file)
    return(invisible(canvas))
  }
  dots <- list(...)
  old <- graphics::par(mar = c(0.5, 0.5, if (length(dots$main)) 2.5 else 0.5, 0.5))
  on.exit(graphics::par(old))
  graphics::plot.new()
  graphics::plot.window(xlim = c(0, ncol(canvas)), ylim = c(0, nrow(canvas)),
                        xaxs = "i", yaxs = "i", asp = 1)
  graphics::rasterImage(grDevices::as.raster(canvas), 0, 0, ncol(canvas),
                        nrow(canvas), interpolate = FALSE)
  if (!is.null(line_at)) {
    y <- nrow(canvas) - line_at$row
    graphics::segments(line_at$cols[1], y, line_at$cols[2], y, col = "grey45")
  }
  if (length(dots)) graphics::title(...)
  invisible(canvas)
}

png_scale <- function(dims, width, height) {
  if (is.null(width) && is.null(height)) return(4L)
  fits <- c(if (!is.null(width)) width / dims[2], if (!is.null(height)) height / dims[1])
  max(1L, as.integer(floor(min(fits))))
}
