# Bit identity against another build of the package (main before a
# redesign, a release): the library named by environment variable `var`
# (default `default`), skipped where it is not installed. A test writes a
# script for a library (`script(lib)`, which saves its results to the file
# given as its first argument), runs it in a fresh Rscript under each build
# and compares the results with identical().
other_build <- function(var, default, what = "baseline build") {
  lib <- Sys.getenv(var, default)
  skip_if_not(dir.exists(file.path(lib, "microscopes")), paste("no", what))
  skip_on_cran()
  lib
}

this_build <- function() dirname(system.file(package = "microscopes"))

run_script_with <- function(script, lib, quiet = FALSE) {
  file <- tempfile(fileext = ".R")
  out <- tempfile(fileext = ".rds")
  writeLines(script(lib), file)
  status <- if (quiet) {
    system2(file.path(R.home("bin"), "Rscript"), c(file, out), stdout = FALSE, stderr = FALSE)
  } else {
    system2(file.path(R.home("bin"), "Rscript"), c(file, out))
  }
  expect_identical(status, 0L)
  readRDS(out)
}
