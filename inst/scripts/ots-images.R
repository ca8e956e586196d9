# The image-scale OTS/FIT experiment of vignette("images"): Table 1 and
# Figure 4 of Chen, Telgarsky, Zhang, Bailey, Hsu and Peng (2019) on 28 x 28
# Fashion-MNIST with DCGAN nets, at the scale a 2-core machine runs in
# about an hour.
#
# Four methods train the same DCGAN generator (imx$generator(100), latent
# 100) on the same n_train training images, each for the same wall-clock
# budget of training (`budget` seconds, evaluations left out):
#   ots_fit        OTS/FIT, L1 cost (the paper's), alternating (Algorithm 3)
#   ots_fixed      the paper's non-alternating ablation (its Figure 4): one
#                  OTS at the start, FIT passes over its pairs afterwards
#   wgan           WGAN with weight clipping (RMSprop 5e-5, clip 0.01)
#   wgan_gp        WGAN-GP (Adam 1e-4, betas 0.5 / 0.9, lambda 10)
# WGAN and WGAN-GP use imx$critic() and 5 critic steps per generator step,
# batch 64 throughout. At about twelve checkpoints each fit records its
# metrics, among them the exact W1 between 1000 generated and the 1000 test
# images and the LeNet feature distances fd_lenet and kd_lenet (with
# standard errors) against them, and sixteen images of fixed latents.
# After training, Table 1's "WD": the semi-discrete L1 transport cost from
# the generator to the training images and to the test images, by
# wf_semidiscrete() with the same solver settings for every method.
#
#   Rscript inst/scripts/ots-images.R [out_dir] [n_train] [budget] [methods]
#
# Defaults (a check of a few minutes): tempdir(), 1000 images, 60 s, all
# four methods. `methods` (comma-separated) reruns some of them, keeping
# the other methods' results already in out_dir (the csv headers then
# name every command and commit). The shipped files
# (inst/extdata/ots-images.csv, ots-images-wd.csv, ots-images-samples.rds)
# come from
#   Rscript inst/scripts/ots-images.R inst/extdata 4000 600
# run beside rwp-images.R on this project's shared 2-core machine, one
# thread each (the csv headers give the commit, the date and the load).
# Needs Debian's dataset-fashion-mnist.
suppressPackageStartupMessages(library(wgflow))
here <- if (file.exists("inst/scripts/image-runs.R")) "inst/scripts/image-runs.R" else
  system.file("scripts", "image-runs.R", package = "wgflow")
source(here)

cl <- imx$command_line("ots-images.R")
out_dir <- cl$arg(1L, tempdir())
n_train <- as.integer(cl$arg(2L, "1000"))
budget <- as.numeric(cl$arg(3L, "60"))
only <- if (length(cl$args) >= 4L) strsplit(cl$args[[4L]], ",")[[1]] else NULL
command <- cl$command
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
# one thread: the two image scripts run side by side on two cores
wf_threads(1)
say <- imx$progress()

d <- imx$data(n_train)
# OTS settings: the paper's check of 200-320 hits around 256 per bin,
# rescaled to bins of ten training images; a check every 250 steps over
# the last 1000, at most 2000 steps per OTS (so that the budget holds
# several outer iterations)
ots_args <- list(cost = "l1", batch_size = 64L, latent_dim = 100L,
                 generator = imx$generator(100), ots_check_every = 250L,
                 ots_window = 1000L, ots_bins = n_train %/% 10L, ots_max_steps = 2000L)
adam_gp <- wf_adam(1e-4, beta1 = 0.5, beta2 = 0.9)
common <- list(holdout = d$test, eval_n = 1000L, eval_every = 1e6, seed = 1, device = "cpu",
               verbose = FALSE)
# OTS/FIT in one call, evaluated after every outer iteration (see
# imx$run_budget_once(): a continued non-alternating fit would solve OTS
# again); `cb` stops it at the budget
ots_once <- function(alternate) {
  function(cb) do.call(ots_fit, c(list(d$train, epochs = 100000L, alternate = alternate,
                                       callbacks = list(cb)),
                                  ots_args, modifyList(common, list(eval_every = 1L))))
}
methods <- list(
  ots_fit = ots_once(TRUE),
  ots_fixed = ots_once(FALSE),
  wgan = function(e) do.call(wgan, c(list(d$train, penalty = "clip", epochs = e,
                                          critic = imx$critic(), generator = imx$generator(100),
                                          latent_dim = 100L, batch_size = 64L,
                                          critic_steps = 5L), common)),
  wgan_gp = function(e) do.call(wgan, c(list(d$train, penalty = "gp", epochs = e,
                                             critic = imx$critic(),
                                             generator = imx$generator(100), latent_dim = 100L,
                                             batch_size = 64L, critic_steps = 5L,
                                             critic_optimizer = adam_gp,
                                             generator_optimizer = adam_gp), common)))
calibrate <- c(wgan = 20L, wgan_gp = 20L)
once <- c("ots_fit", "ots_fixed")

# Table 1's WD: the semi-discrete L1 cost from 2000 generated points to y
wd <- function(fit, y) {
  sd <- wf_semidiscrete(fit, y, cost = "l1", n = 2000L, max_steps = 4000L, check_every = 500L,
                        window = 2000L, bins = nrow(y) %/% 10L, seed = 11, device = "cpu")
  c(dual = sd$dual, primal = sd$primal, steps = sd$steps, converged = sd$converged)
}

rows <- list()
wds <- list()
shots <- list()
earlier <- character()
files <- c(metrics = "ots-images.csv", wd = "ots-images-wd.csv",
           samples = "ots-images-samples.rds")
files[] <- file.path(out_dir, files)
if (!is.null(only) && all(file.exists(files))) {
  # keep the other methods' results, and the commands that made them
  old <- list(metrics = imx$read_csv(files[["metrics"]]), wd = imx$read_csv(files[["wd"]]))
  old_shots <- readRDS(files[["samples"]])$samples
  for (m in setdiff(names(methods), only)) {
    rows[[m]] <- old$metrics[old$metrics$method == m, ]
    wds[[m]] <- old$wd[old$wd$method == m, ]
    shots[[m]] <- old_shots[[m]]
  }
  h <- attr(old$metrics, "header")
  earlier <- unique(c(grep("^earlier", h, value = TRUE),
                      sprintf("earlier (%s): %s, %s", paste(setdiff(names(methods), only),
                                                            collapse = ", "),
                              sub("^command: ", "", h[1]), sub("^commit: ", "commit ", h[2]))))
  earlier <- earlier[!grepl(paste0("^earlier \\((", paste(only, collapse = "|"), ")\\)"),
                            earlier)]
}
save_all <- function() {
  notes <- c(sprintf("%d training and %d test images, budget %.0f s per method, width %d",
                     n_train, nrow(d$test), budget, imx$width), earlier)
  order <- intersect(names(methods), names(rows))
  imx$write_csv(do.call(rbind, rows[order]), files[["metrics"]], command, notes)
  if (length(wds)) {
    imx$write_csv(do.call(rbind, wds[intersect(order, names(wds))]), files[["wd"]], command,
                  notes)
  }
  # the last images of each method (the vignette's grids; all of them
  # would make the installed package larger than it may be)
  last <- lapply(shots[intersect(order, names(shots))], function(s) s[length(s)])
  saveRDS(list(samples = last,
               real = imx$to_bytes(d$train[seq_len(16), ])),
          files[["samples"]], compress = "xz")
}
for (name in if (is.null(only)) names(methods) else only) {
  snaps <- list()
  keep <- function(f) snaps[[length(snaps) + 1L]] <<- imx$snapshot(f)
  fit <- if (name %in% once) {
    imx$run_budget_once(methods[[name]], budget, after = keep)
  } else {
    imx$run_budget(methods[[name]], budget, checks = 12L, calibrate = calibrate[[name]],
                   after = keep)
  }
  m <- imx$checkpoints(fit)
  cols <- c("epoch", "seconds", "dual", "primal", "ots_steps", "ots_converged",
            "fit_loss_last", "critic_loss", "w1_critic", "w1", "w2", "w1_train",
            "fd_lenet", "fd_lenet_se", "kd_lenet", "kd_lenet_se")
  for (col in setdiff(cols, names(m))) m[[col]] <- NA_real_
  rows[[name]] <- data.frame(method = name, m[, cols], status = fit$status)
  shots[[name]] <- snaps
  last <- m[nrow(m), ]
  say("%-9s %5d epochs in %4.0f s: W1 %.2f, fd_lenet %.2f (se %.2f), kd_lenet %.3f",
      name, last$epoch, last$seconds, last$w1, last$fd_lenet, last$fd_lenet_se, last$kd_lenet)
  w_train <- wd(fit, d$train)
  w_test <- wd(fit, d$test)
  wds[[name]] <- data.frame(method = name, epochs = last$epoch, seconds = last$seconds,
                            wd_train = w_train[["dual"]], wd_train_primal = w_train[["primal"]],
                            wd_train_converged = w_train[["converged"]],
                            wd_test = w_test[["dual"]], wd_test_primal = w_test[["primal"]],
                            wd_test_converged = w_test[["converged"]],
                            w1 = last$w1, fd_lenet = last$fd_lenet,
                            fd_lenet_se = last$fd_lenet_se, kd_lenet = last$kd_lenet,
                            kd_lenet_se = last$kd_lenet_se)
  say("%-9s WD train %.2f (primal %.2f), test %.2f (primal %.2f)", name, w_train[["dual"]],
      w_train[["primal"]], w_test[["dual"]], w_test[["primal"]])
  save_all()
}
say("done")
