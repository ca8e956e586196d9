# The sampling floors of vignette("images"): what a generator that draws
# exactly from the data's law would score on the image experiments'
# evaluation (1000 generated images against the 1000 test images of
# ots-images.R and rwp-images.R): the exact W1 (wf_floor()) and the LeNet
# feature distances fd_lenet and kd_lenet (wf_feature_floor()) between the
# test images and 1000 training images, over 5 random draws.
#
#   Rscript inst/scripts/images-floor.R [out_dir]
#
# writes images-floor.csv (a minute; needs Debian's dataset-fashion-mnist).
suppressPackageStartupMessages(library(wgflow))
here <- if (file.exists("inst/scripts/image-runs.R")) "inst/scripts/image-runs.R" else
  system.file("scripts", "image-runs.R", package = "wgflow")
source(here)
cl <- imx$command_line("images-floor.R")
out_dir <- cl$arg(1L, tempdir())
command <- cl$command
d <- imx$data(20000L)
w1 <- wf_floor(d$train, d$test, n = 1000L, p = 1, reps = 5L, seed = 1)
feat <- wf_feature_floor(d$train, d$test, n = 1000L, reps = 5L, seed = 1)
out <- rbind(data.frame(metric = "w1", floor = w1$floor, floor_sd = w1$floor_sd),
             as.data.frame(feat)[, c("metric", "floor", "floor_sd")])
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
imx$write_csv(out, file.path(out_dir, "images-floor.csv"), command,
              "1000 test images against 1000 of the first 20000 training images, 5 draws")
print(out)
