library(testthat)
library(wgflow)

test_check("wgflow")
