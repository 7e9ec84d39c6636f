# Small IDX files, written here, stand in for MNIST (which is never part of
# the package). Image i of a set has pixel p equal to (7 * i + p) %% 256.

write_idx <- function(path, magic, dims, payload) {
  con <- gzfile(path, "wb")
  on.exit(close(con))
  writeBin(as.integer(c(magic, dims)), con, size = 4L, endian = "big")
  writeBin(as.raw(payload), con)
}

fake_pixels <- function(n, offset = 0L) {
  outer(seq_len(n) + offset, seq_len(784L), function(i, p) (7L * i + p) %% 256L)
}

write_fake_mnist <- function(dir = withr::local_tempdir(.local_envir = parent.frame()),
                             train_labels = c(5L, 0L, 2L, 3L, 2L),
                             test_labels = c(3L, 7L, 2L)) {
  force(dir)
  write_set <- function(images_file, labels_file, labels, offset) {
    n <- length(labels)
    write_idx(file.path(dir, images_file), 2051L, c(n, 28L, 28L),
              t(fake_pixels(n, offset)))
    write_idx(file.path(dir, labels_file), 2049L, n, labels)
  }
  write_set("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", train_labels, 0L)
  write_set("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", test_labels, 100L)
  dir
}

test_that("read_mnist() reads the four IDX files, training set first", {
  dir <- write_fake_mnist()
  mnist <- read_mnist(dir)

  expect_named(mnist, c("images", "labels", "set"))
  expect_true(is.matrix(mnist$images))
  expect_type(mnist$images, "integer")
  expect_identical(dim(mnist$images), c(8L, 784L))
  expect_identical(mnist$images, rbind(fake_pixels(5L), fake_pixels(3L, 100L)))
  expect_identical(mnist$labels, c(5L, 0L, 2L, 3L, 2L, 3L, 7L, 2L))
  expect_identical(mnist$set, factor(rep(c("train", "test"), c(5, 3)),
                                     levels = c("train", "test")))
})

test_that("read_mnist() keeps only the requested digits", {
  dir <- write_fake_mnist()
  mnist <- read_mnist(dir, digits = c(3, 2))

  expect_identical(mnist$labels, c(2L, 3L, 2L, 3L, 2L))
  expect_identical(mnist$images,
                   rbind(fake_pixels(5L)[c(3, 4, 5), ], fake_pixels(3L, 100L)[c(1, 3), ]))
  expect_identical(as.character(mnist$set), rep(c("train", "test"), c(3, 2)))

  none <- read_mnist(dir, digits = 9)
  expect_identical(dim(none$images), c(0L, 784L))
  expect_identical(levels(none$set), c("train", "test"))
})

test_that("read_mnist() checks its arguments", {
  dir <- write_fake_mnist()
  expect_snapshot(error = TRUE, {
    read_mnist(dir, digits = 10)
    read_mnist(dir, digits = "2")
    read_mnist(3)
  })
})

test_that("read_mnist() rejects a wrong magic number, naming the file", {
  dir <- write_fake_mnist()
  # A label file where the images should be.
  write_idx(file.path(dir, "t10k-images-idx3-ubyte.gz"), 2049L, 3L, 1:3)
  expect_error(read_mnist(dir),
               "t10k-images-idx3-ubyte.gz' has magic number 2049, not 2051")
})

test_that("read_mnist() rejects a truncated file, naming the file", {
  dir <- write_fake_mnist()
  path <- file.path(dir, "train-images-idx3-ubyte.gz")

  # The header announces 5 images, the payload holds 4 and a half.
  write_idx(path, 2051L, c(5L, 28L, 28L), t(fake_pixels(5L))[1:(4.5 * 784)])
  expect_error(read_mnist(dir), "train-images-idx3-ubyte.gz' is truncated")

  # A gzip stream cut short, as by an interrupted download.
  write_idx(path, 2051L, c(5L, 28L, 28L), t(fake_pixels(5L)))
  bytes <- readBin(path, "raw", file.size(path))
  writeBin(bytes[seq_len(length(bytes) %/% 2)], path)
  expect_error(read_mnist(dir), "train-images-idx3-ubyte.gz' is truncated")

  # Garbage in the middle of the gzip stream.
  bytes[seq(40, length(bytes) - 20)] <- as.raw(255)
  writeBin(bytes, path)
  expect_error(read_mnist(dir), "train-images-idx3-ubyte.gz' (is truncated|is corrupt)")

  # Not even a header.
  writeBin(as.raw(c(0, 0, 8)), path)
  expect_error(read_mnist(dir), "train-images-idx3-ubyte.gz' is too short")
})

test_that("read_mnist() rejects other corrupt files", {
  dir <- write_fake_mnist()
  images <- file.path(dir, "train-images-idx3-ubyte.gz")
  labels <- file.path(dir, "train-labels-idx1-ubyte.gz")

  write_idx(labels, 2049L, 4L, c(1L, 2L, 3L, 4L))
  expect_error(read_mnist(dir), "holds 5 images but train-labels-idx1-ubyte.gz holds 4 labels")

  write_idx(labels, 2049L, 5L, c(1L, 2L, 3L, 4L, 12L))
  expect_error(read_mnist(dir), "train-labels-idx1-ubyte.gz' holds labels outside 0 to 9")

  write_idx(labels, 2049L, 5L, 1:5)
  write_idx(images, 2051L, c(5L, 20L, 20L), rep(0L, 5 * 400))
  expect_error(read_mnist(dir), "train-images-idx3-ubyte.gz' holds 20 x 20 images, not 28 x 28")

  write_idx(images, 2051L, c(5L, 28L, 28L), c(t(fake_pixels(5L)), 1L))
  expect_error(read_mnist(dir), "train-images-idx3-ubyte.gz' is longer than its IDX header says")

  write_idx(images, 2051L, c(1e9, 28L, 28L), 0L)
  expect_error(read_mnist(dir), "train-images-idx3-ubyte.gz' announces more data")
})

test_that("mnist_dir() prefers `dir`, then the environment variable, then the cache", {
  explicit <- write_fake_mnist()
  from_env <- write_fake_mnist()
  cache_root <- withr::local_tempdir()
  withr::local_envvar(MICROSCOPES_MNIST_DIR = from_env, R_USER_CACHE_DIR = cache_root)
  cache <- tools::R_user_dir("microscopes", "cache")
  dir.create(cache, recursive = TRUE)
  write_fake_mnist(cache)

  expect_identical(mnist_dir(explicit), normalizePath(explicit))
  expect_identical(mnist_dir(), normalizePath(from_env))
  withr::local_envvar(MICROSCOPES_MNIST_DIR = NA)
  expect_identical(mnist_dir(), normalizePath(cache))
  expect_identical(read_mnist()$labels, read_mnist(explicit)$labels)
})

test_that("mnist_dir() says which files are missing from a named directory", {
  dir <- write_fake_mnist()
  unlink(file.path(dir, c("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")))
  expect_error(mnist_dir(dir),
               "lacks the MNIST files t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz")
  withr::local_envvar(MICROSCOPES_MNIST_DIR = dir)
  expect_error(mnist_dir(), "Environment variable MICROSCOPES_MNIST_DIR is '.*', which lacks")
})

test_that("without MNIST, a non-interactive session gets an error saying where to put it", {
  cache_root <- withr::local_tempdir()
  withr::local_envvar(MICROSCOPES_MNIST_DIR = NA, R_USER_CACHE_DIR = cache_root)
  cache <- tools::R_user_dir("microscopes", "cache")
  never <- function(...) stop("must not be called")

  expect_snapshot(
    error = TRUE,
    resolve_mnist_dir(NULL, interactive = FALSE, ask = never, download = never),
    transform = function(lines) gsub(cache, "<cache>", lines, fixed = TRUE)
  )
  expect_error(mnist_dir(), "MNIST was not found", fixed = TRUE)
})

test_that("an interactive session is asked before downloading into the cache", {
  cache_root <- withr::local_tempdir()
  withr::local_envvar(MICROSCOPES_MNIST_DIR = NA, R_USER_CACHE_DIR = cache_root)
  cache <- tools::R_user_dir("microscopes", "cache")
  asked <- NULL
  downloaded_into <- NULL
  fake_download <- function(dir) {
    downloaded_into <<- dir
    dir.create(dir, recursive = TRUE)
    write_fake_mnist(dir)
  }

  expect_error(
    resolve_mnist_dir(NULL, interactive = TRUE,
                      ask = function(q) { asked <<- q; FALSE },
                      download = fake_download),
    "MNIST was not found"
  )
  expect_match(asked, cache, fixed = TRUE)
  expect_null(downloaded_into)

  dir <- resolve_mnist_dir(NULL, interactive = TRUE, ask = function(q) TRUE,
                           download = fake_download)
  expect_identical(downloaded_into, cache)
  expect_identical(dir, normalizePath(cache))
})

file_url <- function(dir) {
  dir <- normalizePath(dir, winslash = "/")
  paste0(if (startsWith(dir, "/")) "file://" else "file:///", dir, "/")
}

test_that("download_mnist() fetches the four files and checks them", {
  # A file:// URL exercises download.file() without a network.
  mirror <- write_fake_mnist()
  dest <- file.path(withr::local_tempdir(), "new", "cache")
  expect_identical(download_mnist(dest, url = file_url(mirror)), dest)
  expect_setequal(list.files(dest), mnist_files)
  expect_identical(read_mnist(dest), read_mnist(mirror))

  # A mirror that serves something else than MNIST.
  writeBin(charToRaw("<html>Not found</html>"), file.path(mirror, "t10k-labels-idx1-ubyte.gz"))
  expect_error(download_mnist(withr::local_tempdir(), url = file_url(mirror)),
               "t10k-labels-idx1-ubyte.gz' has magic number")
})

test_that("download_mnist() fails clearly and leaves no partial file", {
  dest <- withr::local_tempdir()
  nowhere <- file_url(withr::local_tempdir())
  expect_error(download_mnist(dest, url = nowhere),
               "Downloading '.*train-images-idx3-ubyte.gz' failed")
  expect_length(list.files(dest), 0L)
})

test_that("download_mnist() checks its arguments", {
  expect_snapshot(error = TRUE, {
    download_mnist(dir = 1)
    download_mnist(tempdir(), url = c("a", "b"))
  })
})

test_that("binarize() marks pixels above the threshold", {
  grey <- matrix(c(0L, 1L, 127L, 128L, 255L, 0L), nrow = 2)
  expect_identical(binarize(grey), grey > 0L)
  expect_identical(binarize(grey, threshold = 127), grey > 127L)
  expect_type(binarize(grey), "logical")
  expect_snapshot(error = TRUE, {
    binarize(as.data.frame(grey))
    binarize(grey, threshold = NA)
  })
})

test_that("read_mnist() reads the real MNIST (when MICROSCOPES_MNIST_DIR has it)", {
  dir <- Sys.getenv("MICROSCOPES_MNIST_DIR")
  skip_if_not(nzchar(dir) && length(missing_mnist_files(dir)) == 0L,
              "MICROSCOPES_MNIST_DIR does not point to the four MNIST files")
  mnist <- read_mnist(digits = c(2, 3))

  expect_identical(dim(mnist$images), c(14131L, 784L))
  expect_identical(as.vector(table(mnist$labels)), c(6990L, 7141L))
  expect_identical(as.vector(table(mnist$set)), c(12089L, 2042L))
  expect_identical(range(mnist$images), c(0L, 255L))
})

test_that("a short run on real MNIST 2s and 3s gives pure clusters", {
  dir <- Sys.getenv("MICROSCOPES_MNIST_DIR")
  skip_if_not(nzchar(dir) && length(missing_mnist_files(dir)) == 0L,
              "MICROSCOPES_MNIST_DIR does not point to the four MNIST files")
  mnist <- read_mnist(digits = c(2, 3))
  set.seed(23)
  rows <- sample(nrow(mnist$images), 4000)
  Y <- binarize(mnist$images[rows, ])
  view <- dataview(Y)
  defn <- model_definition(nrow(Y), rep(list(beta_bernoulli()), ncol(Y)))
  kc <- default_kernel_config(defn)
  runners <- lapply(1:2, function(i) runner(defn, view, initialize_state(defn, view), kc))
  r <- parallel_runner(runners, threads = 2)
  run(r, 15)
  purity <- cluster_purity(get_latents(r), mnist$labels[rows])
  expect_true(all(purity >= 0.9), label = sprintf("purity %s >= 0.9", toString(round(purity, 3))))
  # Blank border pixels keep their hyperparameters inside the prior's box.
  hp <- feature_hps(get_latents(r)[[1]])
  expect_true(all(hp >= 0.01 & hp <= 1000))
  expect_lt(hp[1, "alpha"], 0.1)
})

test_that("read_mnist() tells one corrupted byte from a truncated file, and a directory from a file", {
  dir <- write_fake_mnist()
  path <- file.path(dir, "train-images-idx3-ubyte.gz")
  bytes <- readBin(path, "raw", file.size(path))
  # One byte of the compressed data changed; the gzip trailer is intact.
  damaged <- NULL
  for (at in seq(30, length(bytes) - 30, by = 7)) {
    b <- bytes
    b[at] <- xor(b[at], as.raw(0x55))
    writeBin(b, path)
    msg <- tryCatch({ read_mnist(dir); NULL }, error = conditionMessage)
    if (!is.null(msg) && grepl("decompress to fewer", msg)) { damaged <- msg; break }
  }
  expect_match(damaged, "train-images-idx3-ubyte.gz' is corrupt")
  unlink(path)
  dir.create(path)
  expect_error(read_mnist(dir), "train-images-idx3-ubyte.gz' is a directory")
})
