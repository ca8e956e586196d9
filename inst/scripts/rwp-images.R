# The image-scale RWP experiment of vignette("images"): Figures 2 and 3 of
# Lin, Li, Osher and Montufar ("Wasserstein Proximal of GANs": the feature
# distance against wall-clock time, lower and steadier with the Relaxed
# Wasserstein Proximal term, for WGAN-GP and DRAGAN) on 28 x 28
# Fashion-MNIST with DCGAN nets, at the scale a 2-core machine runs in
# about an hour.
#
# Four settings, each with the same nets (imx$critic(), imx$generator()),
# the paper's defaults for its loss (rwp_defaults(): WGAN-GP Adam 1e-4,
# betas 0.5 / 0.9, 5 critic steps, latent 128; DRAGAN Adam 2e-4, betas
# 0.5 / 0.999, 1 discriminator step, latent 100), batch 64, on the same
# n_train training images, each for the same wall-clock budget of training
# (`budget` seconds, evaluations left out), over `seeds` seeds:
#   wgan-gp        WGAN-GP (one generator step per outer iteration)
#   wgan-gp_rwp    WGAN-GP with RWP, the paper's l = 10, h = 0.1
#   dragan         DRAGAN (one generator step)
#   dragan_rwp     DRAGAN with RWP, the paper's l = 5, h = 0.2
# At `checks` checkpoints each run records the exact W1 between 1000
# generated and the 1000 test images and the LeNet feature distances
# fd_lenet and kd_lenet (with standard errors) against them; seed 1 keeps
# sixteen images of fixed latents at its last checkpoint.
#
#   Rscript inst/scripts/rwp-images.R [out_dir] [n_train] [budget] [seeds] [checks]
#
# Defaults (a check of a few minutes): tempdir(), 2000 images, 20 s, 1
# seed, 4 checkpoints. The shipped files (inst/extdata/rwp-images.csv.gz,
# rwp-images-samples.rds) come from
#   Rscript inst/scripts/rwp-images.R inst/extdata 20000 200 3 10
# run beside ots-images.R on this project's shared 2-core machine, one
# thread each (the csv header gives the commit and the date; the load is a
# column). Needs Debian's dataset-fashion-mnist.
suppressPackageStartupMessages(library(wgflow))
here <- if (file.exists("inst/scripts/image-runs.R")) "inst/scripts/image-runs.R" else
  system.file("scripts", "image-runs.R", package = "wgflow")
source(here)

cl <- imx$command_line("rwp-images.R")
out_dir <- cl$arg(1L, tempdir())
n_train <- as.integer(cl$arg(2L, "2000"))
budget <- as.numeric(cl$arg(3L, "20"))
seeds <- seq_len(as.integer(cl$arg(4L, "1")))
checks <- as.integer(cl$arg(5L, "4"))
command <- cl$command
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
wf_threads(1)
say <- imx$progress()

d <- imx$data(n_train)
settings <- list(
  "wgan-gp" = list(loss = "wgan-gp", h = Inf, generator_steps = 1L, latent = 128L),
  "wgan-gp_rwp" = list(loss = "wgan-gp", h = 0.1, generator_steps = 10L, latent = 128L),
  "dragan" = list(loss = "dragan", h = Inf, generator_steps = 1L, latent = 100L),
  "dragan_rwp" = list(loss = "dragan", h = 0.2, generator_steps = 5L, latent = 100L))
start <- function(s, seed) {
  function(e) rwp(d$train, loss = s$loss, epochs = e, h = s$h,
                  generator_steps = s$generator_steps, critic = imx$critic(),
                  generator = imx$generator(s$latent), latent_dim = s$latent, batch_size = 64L,
                  eval_every = 1e6, eval_n = 1000L, holdout = d$test, seed = seed,
                  device = "cpu", verbose = FALSE)
}

rows <- list()
shots <- list()
# seeds outermost, so that a run cut short still has every setting
for (seed in seeds) for (name in names(settings)) {
  s <- settings[[name]]
  fit <- imx$run_budget(start(s, seed), budget, checks = checks, calibrate = 10L)
  m <- imx$checkpoints(fit)
  cols <- c("epoch", "seconds", "gen_loss", "proximal", "w1", "w2", "fd_lenet", "fd_lenet_se",
            "kd_lenet", "kd_lenet_se")
  for (col in setdiff(cols, names(m))) m[[col]] <- NA_real_
  rows[[length(rows) + 1L]] <- data.frame(
    setting = name, loss = s$loss, rwp = is.finite(s$h), h = s$h, l = s$generator_steps,
    seed = seed, m[, cols], status = fit$status, load = imx$load())
  if (seed == 1L) shots[[name]] <- imx$snapshot(fit)
  last <- m[nrow(m), ]
  say("%-12s seed %d: %5d iterations in %4.0f s: W1 %.2f, fd_lenet %.2f (se %.2f)", name, seed,
      last$epoch, last$seconds, last$w1, last$fd_lenet, last$fd_lenet_se)
  imx$write_csv(do.call(rbind, rows), file.path(out_dir, "rwp-images.csv.gz"), command,
                sprintf("%d training and %d test images, budget %.0f s per run, width %d",
                        n_train, nrow(d$test), budget, imx$width))
  saveRDS(list(samples = shots, real = imx$to_bytes(d$train[seq_len(16), ])),
          file.path(out_dir, "rwp-images-samples.rds"), compress = "xz")
}
say("done")
