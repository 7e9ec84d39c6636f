# A valid latent state (see the state format in the package's spec), built
# by hand from 0/1 data and a grouping, without the C core: the sufficient
# statistics are counted in R. NA pixels count as neither heads nor tails.
fake_image_state <- function(data, assignments, a = 1, b = 1, alpha = 1) {
  data <- as.matrix(data)
  storage.mode(data) <- "integer"
  assignments <- as.integer(assignments)
  groups <- sort(unique(assignments))
  row_group <- factor(assignments, levels = groups)
  count <- function(value) {
    hits <- (!is.na(data) & data == value) * 1L
    counts <- rowsum(hits, row_group, reorder = TRUE)
    storage.mode(counts) <- "integer"
    dimnames(counts) <- NULL
    counts
  }
  D <- ncol(data)
  structure(list(
    n = nrow(data),
    D = D,
    assignments = assignments,
    groups = groups,
    group_sizes = as.integer(tabulate(row_group, nbins = length(groups))),
    heads = count(1L),
    tails = count(0L),
    cluster_hp = list(alpha = alpha),
    feature_hps = matrix(c(rep(a, length.out = D), rep(b, length.out = D)), D, 2,
                         dimnames = list(NULL, c("alpha", "beta"))),
    models = rep("beta_bernoulli", D)
  ), class = "microscopes_state")
}

# n random side x side "images": row i is a horizontal bar at row
# 1 + (i %% side), plus a few random pixels.
fake_images <- function(n, side, seed = 1) {
  withr::with_seed(seed, {
    images <- matrix(stats::runif(n * side * side) < 0.1, n, side * side)
  })
  for (i in seq_len(n)) {
    r <- 1 + (i %% side)
    images[i, (r - 1) * side + seq_len(side)] <- TRUE
  }
  images
}

# 5 groups of sizes 20, 10, 6, 3, 1 (ids not contiguous, not in size order).
five_group_state <- function() {
  images <- fake_images(40, side = 8)
  assignments <- rep(c(7L, 2L, 9L, 4L, 11L), c(6, 20, 10, 3, 1))
  fake_image_state(images, assignments)
}
