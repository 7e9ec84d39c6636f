#' Number of threads used by microscopes
#'
#' `microscopes_threads()` reports the number of threads that [run()] and the
#' posterior-predictive queries use, and with an argument sets it for the
#' session, like data.table's `setDTthreads()` / `getDTthreads()`. The
#' number is, in order: the value set here (stored in the option
#' `microscopes.threads`), the environment variable `MICROSCOPES_THREADS`,
#' the number of cores. When the environment variable
#' `_R_CHECK_LIMIT_CORES_` is set (as under `R CMD check --as-cran`), it is
#' never more than 2.
#'
#' Results never depend on the number of threads: every chain and every
#' query row owns its random stream.
#'
#' @param threads `NULL` to report; a whole number >= 1 to set.
#' @return The number of threads in use (invisibly when setting; the
#'   previous value when setting).
#' @examples
#' microscopes_threads()
#' old <- microscopes_threads(1)
#' microscopes_threads()
#' microscopes_threads(old)
#' @export
microscopes_threads <- function(threads = NULL) {
  if (!is.null(threads)) {
    threads <- check_whole_number(threads, "threads", min = 1)
    old <- microscopes_threads()
    options(microscopes.threads = threads)
    return(invisible(old))
  }
  resolve_threads(NULL)
}

resolve_threads <- function(threads, call = caller_call()) {
  force(call)
  if (!is.null(threads)) {
    threads <- check_whole_number(threads, "threads", min = 1, call = call)
  } else {
    threads <- getOption("microscopes.threads")
    if (is.null(threads)) {
      from_env <- suppressWarnings(as.integer(Sys.getenv("MICROSCOPES_THREADS", "")))
      threads <- if (!is.na(from_env) && from_env >= 1) from_env else machine_cores()
    }
    threads <- suppressWarnings(as.integer(threads))
    if (length(threads) != 1L || is.na(threads) || threads < 1L) threads <- 1L
  }
  if (nzchar(Sys.getenv("_R_CHECK_LIMIT_CORES_"))) threads <- min(threads, 2L)
  threads
}

# The machine's cores, counted once per session: parallel::detectCores()
# runs a shell pipeline on Linux, and run() asks for the threads on every
# call (a test that runs a chain one iteration at a time spent most of its
# time starting shells).
cores_cache <- new.env(parent = emptyenv())
machine_cores <- function() {
  if (is.null(cores_cache$cores)) {
    cores <- suppressWarnings(as.integer(parallel::detectCores(logical = TRUE)))
    cores_cache$cores <- if (length(cores) == 1L && !is.na(cores) && cores >= 1L) cores else 1L
  }
  cores_cache$cores
}
