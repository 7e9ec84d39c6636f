library(testthat)
library(microscopes)

test_check("microscopes")
