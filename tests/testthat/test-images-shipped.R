# The shipped results of the image experiments (inst/extdata/ots-images*,
# rwp-images*, images-floor.csv, images-timing.csv, made by the scripts of
# the same names in inst/scripts and read by vignette("images")): each
# file names the command and the commit that made it and holds what the
# vignette reads, and the first checkpoint of one RWP run is rerun with the
# scripts' own code (inst/scripts/image-runs.R) and compared with the
# shipped row. A change to the engine that moves it makes the shipped
# files stale: rerun the scripts (their headers say how).

runs_file <- system.file("scripts", "image-runs.R", package = "wgflow")
if (nzchar(runs_file)) source(runs_file, local = TRUE)
shipped <- function(name) {
  path <- system.file("extdata", name, package = "wgflow")
  expect_true(nzchar(path), label = paste(name, "is shipped"))
  imx$read_csv(path)
}

test_that("every shipped image result names its command and commit and has what the vignette reads", {
  skip_if_not(nzchar(runs_file), "inst/scripts not installed")
  cols <- list(
    "ots-images.csv" = c("method", "epoch", "seconds", "ots_steps", "w1", "fd_lenet",
                         "fd_lenet_se", "kd_lenet", "kd_lenet_se"),
    "ots-images-wd.csv" = c("method", "epochs", "seconds", "wd_train", "wd_test",
                            "wd_test_primal", "w1", "fd_lenet", "fd_lenet_se"),
    "rwp-images.csv.gz" = c("setting", "loss", "rwp", "seed", "epoch", "seconds", "w1",
                         "fd_lenet", "fd_lenet_se", "load"),
    "images-floor.csv" = c("metric", "floor", "floor_sd"),
    "images-timing.csv" = c("method", "unit", "seconds"))
  for (f in names(cols)) {
    d <- shipped(f)
    h <- attr(d, "header")
    script <- sub("\\.csv(\\.gz)?$", ".R", sub("-wd", "", f))
    expect_match(h[1], paste0("^command: Rscript inst/scripts/", script), label = f)
    expect_match(h[2], "^commit: [0-9a-f]{7,}(-dirty)?$", label = f)
    expect_true(all(cols[[f]] %in% names(d)), label = paste(f, "columns"))
    expect_gt(nrow(d), 0L)
  }
  ots <- shipped("ots-images.csv")
  expect_setequal(unique(ots$method), c("ots_fit", "ots_fixed", "wgan", "wgan_gp"))
  rw <- shipped("rwp-images.csv.gz")
  expect_setequal(unique(rw$setting), c("wgan-gp", "wgan-gp_rwp", "dragan", "dragan_rwp"))
  expect_identical(sort(unique(rw$seed)), 1:3)
  samples <- readRDS(system.file("extdata", "ots-images-samples.rds", package = "wgflow"))
  expect_identical(lengths(lapply(samples$samples, `[[`, 1L)), rep(16L * 784L, 4L),
                   ignore_attr = TRUE)
})

test_that("the first checkpoint of the shipped WGAN-GP run is what the scripts' code gives", {
  skip_if_not(nzchar(runs_file), "inst/scripts not installed")
  skip_if_not(dir.exists("/usr/share/datasets/fashion-mnist"), "no dataset-fashion-mnist")
  rw <- shipped("rwp-images.csv.gz")
  want <- rw[rw$setting == "wgan-gp" & rw$seed == 1L, ][1, ]
  line <- grep("[0-9]+ training", attr(rw, "header"), value = TRUE)[1]
  d <- imx$data(as.integer(sub("^\\D*([0-9]+) training.*$", "\\1", line)))
  old <- wf_threads(1)
  on.exit(wf_threads(old))
  fit <- rwp(d$train, loss = "wgan-gp", epochs = want$epoch, h = Inf, generator_steps = 1L,
             critic = imx$critic(), generator = imx$generator(128), latent_dim = 128L,
             batch_size = 64L, eval_every = 1e6, eval_n = 1000L, holdout = d$test, seed = 1,
             device = "cpu", verbose = FALSE)
  got <- fit$metrics[nrow(fit$metrics), ]
  # deterministic on one machine; another CPU's kernels move it by rounding
  expect_equal(got$w1, want$w1, tolerance = 1e-3)
  expect_equal(got$fd_lenet, want$fd_lenet, tolerance = 1e-3)
})
