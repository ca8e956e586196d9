# Reproduces, at a reduced scale, the 2-D map experiments of Leygonie et
# al. (W2GAN paper, section 6.1): maps from the source to the target of the
# three pairs of wf_toy_pair() ("4gaussians", "checkerboard", "2spirals", in
# the public code's directions) learned by W2GAN, WGAN-LP, WGAN-GP (wgan()
# with `source =`, identity-start generators) and Barycentric-OT, measured
# against the Discrete-OT map (the exact assignment) over training, over
# several seeds; W2-FE (K = 3) rides along. For vignette("w2gan").
#
# Settings: inst/scripts/w2gan-runs.R (3 x 64 networks, batch 256, 2500
# generator updates with 5 critic steps each; the paper: 3 x 128, 512,
# 5000). W2GAN and W2-FE run as the public code does: balanced batches
# (equal counts of every mixture component, from the pairs' labels) and
# the generated side's potential reparameterised (f = -g + e). The
# baselines draw i.i.d. batches (their functions have no balanced option).
#
# Evaluation, the same for every method: after 25 updates and then every
# `iters / 20` (Barycentric-OT: every 1/20 of its epochs), the generator
# maps a fixed evaluation set of 512 source points, drawn apart from the
# training samples with equal counts of every component (per pair and
# seed, as the public code's fixed batch), and is compared with the
# Discrete-OT map of those points to 512 target points drawn the same way:
# the map error mean |G(x) - T_disc(x)|, the mean cosine of G(x) - x and
# T_disc(x) - x, and the exact W2 of G(x) to those targets. Training runs in
# stretches between evaluations (wf_continue(): the same networks as one
# run).
#
# Writes (csv files led by comment lines: the command and the commit that
# made them; w2x$read_csv() or read.csv(comment.char = "#") reads them):
#   <out>/w2gan-figure2.csv.gz   pair, method, seed, epoch, seconds, status,
#                                map_error, map_cosine, w2 (every evaluation)
#   <out>/w2gan-maps.csv.gz      pair, method, x, y, gx, gy: 100 points of the
#                                evaluation set and their images, seed 1
#                                (Discrete-OT included: its assignment)
#   <out>/w2gan-potential.csv.gz pair, x, y, f, g, tx, ty: W2GAN's potentials
#                                and x - grad f(x) on a 30 x 30 grid, seed 1,
#                                after a quarter of the training
#   <out>/w2gan-geodesic.csv.gz  epoch, x, y, gx, gy: W2GAN's generator on the
#                                checkerboard at four points of training,
#                                seed 1
# tests/testthat/test-w2gan-shipped.R reruns the first evaluation of seed 1
# of every pair and method and compares it with these files.
#
# Usage (from the package root, with wgflow installed):
#   nice Rscript inst/scripts/w2gan-figure2.R [out] [iters] [seeds]
# defaults: a temporary folder, 200, 1 (a quick look); the shipped files:
#   nice Rscript inst/scripts/w2gan-figure2.R inst/extdata 2500 3

suppressPackageStartupMessages(library(wgflow))
here <- if (file.exists("inst/scripts/w2gan-runs.R")) "inst/scripts/w2gan-runs.R" else
  system.file("scripts", "w2gan-runs.R", package = "wgflow")
source(here)

args <- commandArgs(trailingOnly = TRUE)
arg <- function(i, default) if (length(args) >= i) args[[i]] else default
out <- arg(1L, file.path(tempdir(), "w2gan-figure2"))
iters <- as.integer(arg(2L, "200"))
seeds <- seq_len(as.integer(arg(3L, "1")))
command <- paste(c("nice Rscript inst/scripts/w2gan-figure2.R", args), collapse = " ")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
wf_threads(1L)

rows <- list()
maps <- list()
pots <- list()
geo <- list()
started <- Sys.time()
quarter <- round(iters * 0.25)
for (pair in w2x$pairs) {
  p <- w2x$pair_data(pair)
  for (seed in seeds) {
    ev <- w2x$eval_set(pair, seed)
    show <- seq_len(100)
    if (seed == 1L) {
      maps[[length(maps) + 1]] <- data.frame(pair = pair, method = "Discrete-OT",
                                             x = ev$source[show, 1], y = ev$source[show, 2],
                                             gx = ev$t_disc[show, 1], gy = ev$t_disc[show, 2])
    }
    for (method in names(w2x$methods)) {
      t0 <- Sys.time()
      hook <- NULL
      if (method == "W2GAN" && seed == 1L) {
        # the generator's images along the way (the geodesic of Figure 4)
        # and the potentials a quarter of the way (Figure 3)
        hook <- function(fit, epoch) {
          if (pair == "checkerboard" && epoch %in% round(iters * c(0.05, 0.25, 0.5, 1))) {
            gx <- predict(fit, newdata = ev$source[show, ])
            geo[[length(geo) + 1]] <<- data.frame(epoch = epoch, x = ev$source[show, 1],
                                                  y = ev$source[show, 2], gx = gx[, 1],
                                                  gy = gx[, 2])
          }
          if (epoch == quarter) {
            lim <- apply(rbind(p$source, p$target), 2, range)
            gxy <- as.matrix(expand.grid(x = seq(lim[1, 1], lim[2, 1], length.out = 30),
                                         y = seq(lim[1, 2], lim[2, 2], length.out = 30)))
            f <- wf_forward(fit$f, gxy)[, 1]
            g <- wf_forward(fit$g, gxy)[, 1]
            if (fit$settings$reparam_side == "generated") f <- f - g else g <- g - f
            tx <- wf_transport_map(fit, gxy, via = "potential")
            pots[[length(pots) + 1]] <<- data.frame(pair = pair, x = gxy[, 1], y = gxy[, 2],
                                                    f = f, g = g, tx = tx[, 1], ty = tx[, 2])
          }
        }
      }
      r <- w2x$figure2_run(pair, method, seed, total = iters, hook = hook, p = p, ev = ev)
      rows[[length(rows) + 1]] <- r$rows
      if (seed == 1L) {
        gx <- predict(r$fit, newdata = ev$source[show, ])
        maps[[length(maps) + 1]] <- data.frame(pair = pair, method = method,
                                               x = ev$source[show, 1], y = ev$source[show, 2],
                                               gx = gx[, 1], gy = gx[, 2])
      }
      last <- r$rows[nrow(r$rows), ]
      cat(sprintf("%-13s %-15s seed %d: map error %.3f, cosine %.3f, W2 %.3f (%s, %.0f s)\n",
                  pair, method, seed, last$map_error, last$map_cosine, last$w2, last$status,
                  as.double(difftime(Sys.time(), t0, units = "secs"))))
    }
  }
}
round_df <- function(d) {
  for (nm in names(d)) if (is.double(d[[nm]])) d[[nm]] <- round(d[[nm]], 3)
  d
}
w2x$write_csv(do.call(rbind, rows), file.path(out, "w2gan-figure2.csv.gz"), command)
w2x$write_csv(round_df(do.call(rbind, maps)), file.path(out, "w2gan-maps.csv.gz"), command)
w2x$write_csv(round_df(do.call(rbind, pots)), file.path(out, "w2gan-potential.csv.gz"),
              command)
if (length(geo)) {
  w2x$write_csv(round_df(do.call(rbind, geo)), file.path(out, "w2gan-geodesic.csv.gz"),
                command)
}
cat(sprintf("done in %.1f min; files in %s\n",
            as.double(difftime(Sys.time(), started, units = "mins")), out))
