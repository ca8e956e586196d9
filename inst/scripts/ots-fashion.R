# The Fashion-MNIST run of the OTS/FIT vignette (vignettes/ots.Rmd): OTS/FIT
# with the L1 cost and the paper's image architecture on a subset of
# Fashion-MNIST downscaled to 16 x 16, outer iteration by outer iteration,
# keeping each iteration's metrics and a few generated images, and at the
# first and the last iteration the semi-discrete L1 transport cost from the
# generator to the training subset and to test images (the paper's "WD").
#
#   Rscript inst/scripts/ots-fashion.R [out_dir] [n_train] [epochs] [max_steps]
#
# Defaults (a short check, a few minutes): tempdir(), 1000 training images,
# 3 outer iterations, 2000 OTS steps at most. The shipped results
# (inst/extdata/ots-fashion.csv, inst/extdata/ots-fashion-samples.rds) come
# from
#   nice Rscript inst/scripts/ots-fashion.R inst/extdata 4000 16 4000
# (about 17 minutes, 1029 s, of a shared 2-core machine, one thread). Needs Debian's
# dataset-fashion-mnist.
suppressPackageStartupMessages(library(wgflow))

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else tempdir()
n_train <- if (length(args) >= 2) as.integer(args[2]) else 1000L
epochs <- if (length(args) >= 3) as.integer(args[3]) else 3L
max_steps <- if (length(args) >= 4) as.integer(args[4]) else 2000L
n_test <- 1000L
side <- 16L
# one thread: OpenMP threads that spin at barriers lose badly on a machine
# shared with other jobs
wf_threads(1)

train <- wf_images("fashion-mnist", "train", size = side, n = n_train)
test <- wf_images("fashion-mnist", "test", size = side, n = n_test)
check <- 500L
settings <- list(cost = "l1", batch_size = 64L, latent_dim = 100L, ots_check_every = check,
                 ots_window = 4L * check, ots_bins = n_train %/% 10L,
                 ots_max_steps = max_steps, eval_n = 500L)
cat(sprintf("Fashion-MNIST %dx%d: %d training, %d test images; %d outer iterations\n",
            side, side, n_train, n_test, epochs))

# the semi-discrete L1 cost from the generator to a set of images
wd <- function(fit, y) {
  sd <- wf_semidiscrete(fit, y, cost = "l1", n = 2000L, max_steps = max_steps,
                        check_every = check, window = 4L * check,
                        bins = nrow(y) %/% 10L, seed = 11)
  c(dual = sd$dual, primal = sd$primal, steps = sd$steps)
}

# sixteen fixed latents' images after each outer iteration, as bytes
snap <- function(fit) {
  s <- wf_sample(fit, 16, seed = 7)
  as.raw(round(pmin(pmax((s + 1) / 2, 0), 1) * 255))
}

t0 <- proc.time()[["elapsed"]]
fit <- do.call(ots_fit, c(list(train$x, epochs = 1L, holdout = test$x, seed = 1,
                               verbose = FALSE, device = "cpu"), settings))
samples <- list(snap(fit))
first_wd <- c(wd(fit, train$x), wd(fit, test$x))
for (e in seq_len(epochs - 1L)) {
  fit <- wf_continue(fit, epochs = 1L, verbose = FALSE)
  samples[[length(samples) + 1L]] <- snap(fit)
  m <- fit$metrics[nrow(fit$metrics), ]
  cat(sprintf("iteration %2d: %5.0f s, OTS %5d steps (rule %s), dual %7.2f, primal %7.2f, W1 test %.3f train %.3f\n",
              m$epoch, proc.time()[["elapsed"]] - t0, as.integer(m$ots_steps),
              if (m$ots_converged == 1) "fired" else "cap", m$dual, m$primal, m$w1,
              m$w1_train))
}
last_wd <- c(wd(fit, train$x), wd(fit, test$x))

metrics <- as.data.frame(fit$metrics)
metrics$wd_train <- NA_real_
metrics$wd_test <- NA_real_
metrics$wd_train[1] <- first_wd[["dual"]]
metrics$wd_test[1] <- first_wd[[4]]
metrics$wd_train[epochs] <- last_wd[["dual"]]
metrics$wd_test[epochs] <- last_wd[[4]]
metrics$wd_train_primal <- NA_real_
metrics$wd_test_primal <- NA_real_
metrics$wd_train_primal[c(1, epochs)] <- c(first_wd[[2]], last_wd[[2]])
metrics$wd_test_primal[c(1, epochs)] <- c(first_wd[[5]], last_wd[[5]])
metrics$n_train <- n_train
metrics$n_test <- n_test
metrics$side <- side
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
utils::write.csv(metrics, file.path(out_dir, "ots-fashion.csv"), row.names = FALSE)
real <- as.raw(round((train$x[seq_len(16), ] + 1) / 2 * 255))
saveRDS(list(side = side, samples = samples, real = real, seconds = proc.time()[["elapsed"]] - t0),
        file.path(out_dir, "ots-fashion-samples.rds"), compress = "xz")
cat(sprintf("done in %.0f s; semi-discrete L1 cost to train %.2f / test %.2f (first: %.2f / %.2f)\n",
            proc.time()[["elapsed"]] - t0, last_wd[["dual"]], last_wd[[4]],
            first_wd[["dual"]], first_wd[[4]]))
