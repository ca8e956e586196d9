# The load-free clock of vignette("images"): what one unit of training of
# each method of ots-images.R and rwp-images.R costs on one thread of this
# machine when it is quiet, so that runs made on a loaded, shared machine
# can be put on one time axis: a run's load-free time is its units times
# these costs. Units: for OTS/FIT an OTS step and a FIT step (both batch 64;
# an OTS step assigns to all n_train images), for WGAN and WGAN-GP an
# iteration (5 critic steps and a generator step), for RWP an outer
# iteration of each setting. Each is measured in `rounds` alternating
# rounds; the smallest figure is kept (the least disturbed).
#
#   Rscript inst/scripts/images-timing.R [out_dir] [rounds]
#
# writes images-timing.csv (a few minutes; needs dataset-fashion-mnist).
suppressPackageStartupMessages(library(wgflow))
here <- if (file.exists("inst/scripts/image-runs.R")) "inst/scripts/image-runs.R" else
  system.file("scripts", "image-runs.R", package = "wgflow")
source(here)
cl <- imx$command_line("images-timing.R")
out_dir <- cl$arg(1L, tempdir())
rounds <- as.integer(cl$arg(2L, "2"))
command <- cl$command
wf_threads(1)
d <- imx$data(20000L)
ots_train <- d$train[seq_len(4000), ]
common <- list(holdout = d$test, eval_n = 100L, eval_every = 1e6, seed = 1, device = "cpu",
               verbose = FALSE)
adam_gp <- wf_adam(1e-4, beta1 = 0.5, beta2 = 0.9)
steps <- 300L

# seconds per unit of each measurement (the fit's own training clock)
per_epoch <- function(fit, skip = 2L) {
  s <- fit$metrics$seconds
  (s[length(s)] - s[skip]) / (length(s) - skip)
}
measure <- list(
  ots = function() {
    # two outer iterations of the non-alternating method: OTS + FIT, then FIT
    f <- do.call(ots_fit, c(list(ots_train, cost = "l1", epochs = 2, alternate = FALSE,
                                 generator = imx$generator(100), latent_dim = 100L,
                                 batch_size = 64L, ots_max_steps = steps,
                                 ots_check_every = steps, ots_window = steps,
                                 ots_bins = 400L), common))
    s <- f$metrics$seconds
    c(ots_step = (s[1] - (s[2] - s[1])) / steps, fit_step = (s[2] - s[1]) / steps)
  },
  wgan = function() {
    f <- do.call(wgan, c(list(ots_train, penalty = "clip", epochs = 22, critic = imx$critic(),
                              generator = imx$generator(100), latent_dim = 100L,
                              batch_size = 64L, critic_steps = 5L), common))
    c(iteration = per_epoch(f))
  },
  wgan_gp = function() {
    f <- do.call(wgan, c(list(ots_train, penalty = "gp", epochs = 22, critic = imx$critic(),
                              generator = imx$generator(100), latent_dim = 100L,
                              batch_size = 64L, critic_steps = 5L, critic_optimizer = adam_gp,
                              generator_optimizer = adam_gp), common))
    c(iteration = per_epoch(f))
  })
rwp_settings <- list(
  "wgan-gp" = list(loss = "wgan-gp", h = Inf, l = 1L, latent = 128L, epochs = 22L),
  "wgan-gp_rwp" = list(loss = "wgan-gp", h = 0.1, l = 10L, latent = 128L, epochs = 17L),
  "dragan" = list(loss = "dragan", h = Inf, l = 1L, latent = 100L, epochs = 62L),
  "dragan_rwp" = list(loss = "dragan", h = 0.2, l = 5L, latent = 100L, epochs = 22L))
for (nm in names(rwp_settings)) local({
  s <- rwp_settings[[nm]]
  measure[[paste0("rwp:", nm)]] <<- function() {
    f <- do.call(rwp, c(list(d$train, loss = s$loss, epochs = s$epochs, h = s$h,
                             generator_steps = s$l, critic = imx$critic(),
                             generator = imx$generator(s$latent), latent_dim = s$latent,
                             batch_size = 64L), common))
    c(iteration = per_epoch(f))
  }
})

rows <- list()
for (r in seq_len(rounds)) for (nm in names(measure)) {
  v <- measure[[nm]]()
  rows[[length(rows) + 1L]] <- data.frame(method = nm, unit = names(v), seconds = unname(v),
                                          round = r, load = imx$load())
  cat(sprintf("round %d %-18s %s [load %.1f]\n", r, nm,
              paste(sprintf("%s %.4f s", names(v), v), collapse = ", "), imx$load()))
}
all <- do.call(rbind, rows)
best <- aggregate(seconds ~ method + unit, data = all, FUN = min)
best$load_max <- aggregate(load ~ method + unit, data = all, FUN = max)$load
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
imx$write_csv(best, file.path(out_dir, "images-timing.csv"), command,
              sprintf("one thread; smallest of %d alternating rounds", rounds))
print(best)
