# Runs the test suite against the installed package and ends with the line
# "N passed, N failed, N skipped" (tests counted as test_that() blocks).
Sys.setenv(NOT_CRAN = "true")  # run snapshot, interrupt and cluster tests too
library(testthat)
library(microscopes)
results <- test_dir("tests/testthat", package = "microscopes", load_package = "installed",
                    reporter = ProgressReporter$new(show_praise = FALSE),
                    stop_on_failure = FALSE)
df <- as.data.frame(results)
failed <- sum(df$failed > 0 | df$error)
skipped <- sum(df$skipped & !(df$failed > 0 | df$error))
passed <- nrow(df) - failed - skipped
line <- sprintf("%d passed, %d failed", passed, failed)
if (skipped > 0) line <- sprintf("%s, %d skipped", line, skipped)
cat(line, "\n", sep = "")
quit(status = if (failed > 0) 1L else 0L)
