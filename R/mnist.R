# MNIST: find, download and read the four standard IDX files.
#
# The IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/): a
# big-endian 32-bit magic number 0x00000800 + (type << 8) + n_dims, where
# type 0x08 is unsigned byte, then n_dims big-endian 32-bit sizes, then the
# payload in row-major order. Images are 0x00000803 (2051: n x 28 x 28),
# labels are 0x00000801 (2049: n).

mnist_files <- c(
  train_images = "train-images-idx3-ubyte.gz",
  train_labels = "train-labels-idx1-ubyte.gz",
  test_images  = "t10k-images-idx3-ubyte.gz",
  test_labels  = "t10k-labels-idx1-ubyte.gz"
)

#' Read the MNIST handwritten digits
#'
#' Reads the four standard MNIST IDX files (training and test images and
#' labels, gzip-compressed as distributed) into one integer matrix, with the
#' training images first. Headers are checked (magic number, 28 x 28 images,
#' as many labels as images) and a truncated or corrupt file is an error that
#' names the file.
#'
#' @param dir Directory that holds `train-images-idx3-ubyte.gz`,
#'   `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz` and
#'   `t10k-labels-idx1-ubyte.gz`, or `NULL` to find it with [mnist_dir()].
#' @param digits Optional integer vector of digits (0 to 9) to keep, e.g.
#'   `c(2, 3)`; `NULL` keeps all. Filtering happens as each file is read, so
#'   only the kept images are ever expanded to integers.
#' @return A list with
#'   * `images`: integer matrix, one row per image, 784 columns holding the
#'     grey levels (0 = background to 255 = ink) of the 28 x 28 pixels in
#'     row-major order (pixel `(r, c)` is column `28 * (r - 1) + c`);
#'   * `labels`: integer vector of digits, one per row of `images`;
#'   * `set`: factor with levels `c("train", "test")`, the file each row
#'     came from.
#' @seealso [binarize()] to turn the grey levels into the 0/1 data of a
#'   beta-Bernoulli model, [mnist_dir()] for where the files are looked for.
#' @examples
#' if (nzchar(Sys.getenv("MICROSCOPES_MNIST_DIR"))) {
#'   mnist <- read_mnist(digits = c(2, 3))
#'   table(mnist$labels, mnist$set)
#'   dim(binarize(mnist$images))
#' }
#' @export
read_mnist <- function(dir = NULL, digits = NULL) {
  check_dir_arg(dir, null_ok = TRUE)
  if (!is.null(digits)) {
    if (!is.numeric(digits) || length(digits) == 0L || anyNA(digits) ||
        any(digits != round(digits)) || any(digits < 0 | digits > 9)) {
      abort_arg("digits", sprintf("must be `NULL` or whole numbers from 0 to 9, not %s.",
                                  describe_value(digits)))
    }
    digits <- as.integer(digits)
  }
  dir <- mnist_dir(dir)
  path <- file.path(dir, mnist_files)
  names(path) <- names(mnist_files)

  train <- read_mnist_set(path[["train_images"]], path[["train_labels"]], digits)
  test <- read_mnist_set(path[["test_images"]], path[["test_labels"]], digits)
  n_train <- length(train$labels)
  n_test <- length(test$labels)
  # Pixels stay raw (1 byte each), one column per image, until the images
  # of both sets are together: then one transpose of the raw matrix and one
  # conversion to integer, the only full-size integer copy.
  images <- c(train$pixels, test$pixels)
  dim(images) <- c(784L, n_train + n_test)
  images <- t(images)
  storage.mode(images) <- "integer"
  list(
    images = images,
    labels = c(train$labels, test$labels),
    set = factor(rep(c("train", "test"), c(n_train, n_test)),
                 levels = c("train", "test"))
  )
}

# One image file and its label file, filtered to `digits`: the raw pixels,
# 784 x n, and the labels.
read_mnist_set <- function(image_path, label_path, digits) {
  labels <- read_idx(label_path, magic = 2049L)
  images <- read_idx(image_path, magic = 2051L)
  if (!identical(images$dims[2:3], c(28L, 28L))) {
    stop_mnist(image_path, sprintf("holds %d x %d images, not 28 x 28.",
                                   images$dims[2], images$dims[3]))
  }
  if (images$dims[1] != labels$dims[1]) {
    stop_mnist(image_path, sprintf(
      "holds %d images but %s holds %d labels.",
      images$dims[1], basename(label_path), labels$dims[1]
    ))
  }
  labels <- as.integer(labels$payload)
  if (any(labels > 9L)) {
    stop_mnist(label_path, "holds labels outside 0 to 9.")
  }
  pixels <- images$payload
  dim(pixels) <- c(784L, images$dims[1])
  if (!is.null(digits)) {
    keep <- labels %in% digits
    pixels <- pixels[, keep, drop = FALSE]
    labels <- labels[keep]
  }
  list(pixels = pixels, labels = labels)
}

# Reads one (possibly gzip-compressed) IDX file of unsigned bytes; returns
# its dims and payload as a raw vector. Errors name the file.
read_idx <- function(path, magic) {
  if (!file.exists(path)) stop_mnist(path, "does not exist.")
  if (dir.exists(path)) stop_mnist(path, "is a directory, not an IDX file.")
  con <- tryCatch(gzfile(path, "rb"), error = function(e) {
    stop_mnist(path, sprintf("cannot be opened (%s).", conditionMessage(e)))
  }, warning = function(w) {
    stop_mnist(path, sprintf("cannot be opened (%s).", conditionMessage(w)))
  })
  on.exit(close(con))
  n_dims <- magic %% 256L
  # zlib reports a damaged stream as a warning or an error; both are fatal.
  corrupt <- function(e) stop_mnist(path, paste0("is corrupt (", conditionMessage(e), ")."))
  read <- function(what, n, ...) {
    tryCatch(readBin(con, what, n = n, ...), error = corrupt, warning = corrupt)
  }
  found <- read("integer", 1L, size = 4L, endian = "big")
  if (length(found) < 1L) {
    stop_mnist(path, "is too short to hold an IDX header; is it truncated?")
  }
  if (found != magic) {
    stop_mnist(path, sprintf(
      "has magic number %d, not %d (IDX %s); is it the right file?",
      found, magic, if (magic == 2051L) "images" else "labels"
    ))
  }
  dims <- read("integer", n_dims, size = 4L, endian = "big")
  if (length(dims) < n_dims) {
    stop_mnist(path, "is too short to hold an IDX header; is it truncated?")
  }
  if (any(dims < 0L)) {
    stop_mnist(path, "has negative sizes in its IDX header; it is corrupt.")
  }
  size <- prod(as.numeric(dims))
  if (size > .Machine$integer.max) {
    stop_mnist(path, "announces more data than an IDX file of MNIST can hold; it is corrupt.")
  }
  payload <- read("raw", size)
  if (length(payload) < size) {
    if (gzip_trailer_complete(path, 4 * (1 + n_dims) + size)) {
      stop_mnist(path, sprintf(paste(
        "is corrupt: its gzip trailer records the full %.0f bytes, but its",
        "compressed data decompress to fewer; download it again."),
        4 * (1 + n_dims) + size))
    }
    stop_mnist(path, sprintf(
      "is truncated: its header announces %.0f bytes of data but it holds %d.",
      size, length(payload)
    ))
  }
  # One byte more than announced tells a longer file from a complete one.
  if (length(read("raw", 1L)) > 0L) {
    stop_mnist(path, "is longer than its IDX header says; it is corrupt.")
  }
  list(dims = dims, payload = payload)
}

# A gzip file ends with the length of its uncompressed data (mod 2^32,
# RFC 1952): when that length is the full one, a short read means damaged
# compressed data, not a file cut short.
gzip_trailer_complete <- function(path, expected_bytes) {
  size <- file.size(path)
  if (is.na(size) || size < 18) return(FALSE)
  con <- file(path, "rb")
  on.exit(close(con))
  head <- readBin(con, "raw", 2L)
  if (!identical(head, as.raw(c(0x1f, 0x8b)))) return(FALSE)
  seek(con, size - 4)
  isize <- sum(as.numeric(readBin(con, "raw", 4L)) * 256^(0:3))
  isize == expected_bytes %% 2^32
}

stop_mnist <- function(path, msg) {
  stop(sprintf("MNIST file '%s' %s", path, msg), call. = FALSE)
}

#' Find the MNIST files
#'
#' Resolves the directory that [read_mnist()] reads from. It is the first of
#' 1. `dir`, when given;
#' 2. the environment variable `MICROSCOPES_MNIST_DIR`, when set;
#' 3. the user cache directory, `tools::R_user_dir("microscopes", "cache")`,
#'    when it holds the four files;
#' 4. in an interactive session only, and after asking, the same cache
#'    directory after [download_mnist()] has filled it.
#'
#' Otherwise it is an error that says where to put the files. A directory
#' "has MNIST" when it holds `train-images-idx3-ubyte.gz`,
#' `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz` and
#' `t10k-labels-idx1-ubyte.gz`; a directory named by `dir` or by the
#' environment variable that lacks one of them is an error too, rather than
#' being silently skipped.
#'
#' @param dir A directory, or `NULL` to look in the places above.
#' @return The directory, as a normalised path.
#' @seealso [read_mnist()], [download_mnist()].
#' @examples
#' # Where download_mnist() puts the files, and mnist_dir() looks last:
#' tools::R_user_dir("microscopes", "cache")
#' if (nzchar(Sys.getenv("MICROSCOPES_MNIST_DIR"))) {
#'   mnist_dir()
#' }
#' @export
mnist_dir <- function(dir = NULL) {
  check_dir_arg(dir, null_ok = TRUE)
  resolve_mnist_dir(
    dir,
    interactive = interactive(),
    ask = function(question) isTRUE(utils::askYesNo(question)),
    download = download_mnist
  )
}

# The logic of mnist_dir(), with the interactive parts passed in so that
# tests can exercise every branch without a console or a network.
resolve_mnist_dir <- function(dir, interactive, ask, download) {
  if (!is.null(dir)) {
    return(check_mnist_dir(dir, "`dir`"))
  }
  env_dir <- Sys.getenv("MICROSCOPES_MNIST_DIR")
  if (nzchar(env_dir)) {
    return(check_mnist_dir(env_dir, "Environment variable MICROSCOPES_MNIST_DIR"))
  }
  cache <- tools::R_user_dir("microscopes", "cache")
  if (length(missing_mnist_files(cache)) == 0L) {
    return(normalizePath(cache))
  }
  if (interactive) {
    question <- sprintf(
      "MNIST was not found. Download it (about 11 MB) into '%s'?", cache
    )
    if (ask(question)) {
      download(cache)
      return(check_mnist_dir(cache, "The download directory"))
    }
  }
  stop(
    "MNIST was not found. Put the files ",
    paste(mnist_files, collapse = ", "), " in '", cache,
    "', or in another directory that you pass as `dir` or name in the ",
    "environment variable MICROSCOPES_MNIST_DIR; ",
    "`download_mnist()` downloads them into '", cache, "'.",
    call. = FALSE
  )
}

check_dir_arg <- function(dir, null_ok = FALSE, call = caller_call()) {
  force(call)
  if (null_ok && is.null(dir)) return(invisible(dir))
  if (!is.character(dir) || length(dir) != 1L || is.na(dir) || !nzchar(dir)) {
    abort_arg("dir", sprintf("must be %sa single directory path, not %s.",
                             if (null_ok) "`NULL` or " else "",
                             describe_value(dir)), call = call)
  }
  invisible(dir)
}

missing_mnist_files <- function(dir) {
  mnist_files[!file.exists(file.path(dir, mnist_files))]
}

check_mnist_dir <- function(dir, what) {
  missing <- missing_mnist_files(dir)
  if (length(missing) > 0L) {
    stop(sprintf(
      "%s is '%s', which lacks the MNIST file%s %s.",
      what, dir, if (length(missing) > 1L) "s" else "",
      paste(missing, collapse = ", ")
    ), call. = FALSE)
  }
  normalizePath(dir)
}

#' Download MNIST
#'
#' Downloads the four MNIST IDX files (about 11 MB in all) with
#' [utils::download.file()] into `dir`, creating it if needed, and checks
#' that each one reads. Files already present are kept. [mnist_dir()] offers
#' to call this in an interactive session when it finds no MNIST.
#'
#' @param dir Directory to download into; by default the user cache
#'   directory where [mnist_dir()] looks.
#' @param url Base URL of a mirror that serves the four files under their
#'   standard names (by default the mirror that torchvision uses); set
#'   `options(microscopes.mnist_url = )` to change the default.
#' @return `dir`, invisibly.
#' @seealso [read_mnist()].
#' @examples
#' if (interactive()) {
#'   download_mnist()
#' }
#' @export
download_mnist <- function(dir = tools::R_user_dir("microscopes", "cache"),
                           url = getOption("microscopes.mnist_url",
                                           "https://ossci-datasets.s3.amazonaws.com/mnist/")) {
  check_dir_arg(dir)
  if (!is.character(url) || length(url) != 1L || is.na(url) || !nzchar(url)) {
    abort_arg("url", sprintf("must be a single URL, not %s.", describe_value(url)))
  }
  if (!dir.exists(dir) && !dir.create(dir, recursive = TRUE)) {
    stop(sprintf("Cannot create the directory '%s'.", dir), call. = FALSE)
  }
  if (!grepl("/$", url)) url <- paste0(url, "/")
  old <- options(timeout = max(300, getOption("timeout")))
  on.exit(options(old))
  for (file in mnist_files) {
    dest <- file.path(dir, file)
    if (file.exists(dest)) next
    # Download next to the destination, then rename, so that an interrupted
    # download never leaves a partial file under the real name.
    partial <- paste0(dest, ".part")
    status <- tryCatch(
      utils::download.file(paste0(url, file), partial, mode = "wb",
                           quiet = !interactive()),
      error = function(e) conditionMessage(e),
      warning = function(w) conditionMessage(w)
    )
    if (!identical(status, 0L)) {
      unlink(partial)
      reason <- if (is.character(status)) paste0(" (", status, ")") else ""
      stop(sprintf(paste0(
        "Downloading '%s%s' failed%s. Download the MNIST files by hand into ",
        "'%s', or set `options(microscopes.mnist_url = )` to another mirror."
      ), url, file, reason, dir), call. = FALSE)
    }
    if (!file.rename(partial, dest)) {
      stop(sprintf("Cannot move the downloaded '%s' to '%s'.", partial, dest), call. = FALSE)
    }
  }
  # A mirror may serve an HTML error page with status 200: check every file.
  for (file in mnist_files) {
    read_idx(file.path(dir, file), magic = if (grepl("images", file)) 2051L else 2049L)
  }
  invisible(dir)
}

#' Binarize grey-level images
#'
#' Turns grey levels into the logical data of a beta-Bernoulli mixture:
#' a pixel is `TRUE` (ink) when its grey level exceeds `threshold`.
#'
#' @param images A numeric matrix of grey levels, such as
#'   `read_mnist()$images`.
#' @param threshold A single number; pixels strictly above it are `TRUE`.
#'   The default, 0, treats any ink as ink.
#' @return A logical matrix with the dimensions of `images`.
#' @examples
#' grey <- matrix(c(0L, 12L, 200L, 255L), nrow = 1)
#' binarize(grey)
#' binarize(grey, threshold = 127)
#' @export
binarize <- function(images, threshold = 0) {
  if (!is.matrix(images) || !(is.numeric(images) || is.logical(images))) {
    abort_arg("images", sprintf("must be a numeric matrix of grey levels, not %s.",
                                describe_type(images)))
  }
  if (!is.numeric(threshold) || length(threshold) != 1L || is.na(threshold)) {
    abort_arg("threshold", sprintf("must be a single number, not %s.",
                                   describe_value(threshold)))
  }
  images > threshold
}
