# Reproduces, at a reduced scale, the 2-D map experiments of Leygonie et
# al. (W2GAN paper, section 6.1): maps from the source to the target of the
# three pairs of wf_toy_pair() ("4gaussians", "checkerboard", "2spirals")
# learned by W2GAN, WGAN-LP, WGAN-GP (wgan() with `source =`, identity-start
# generators) and Barycentric-OT, measured against the Discrete-OT map
# (the exact assignment) over training, over several seeds; W2-FE (K = 3)
# rides along. For vignette("w2gan").
#
# Scale (the paper's in brackets): samples of 10000 per side; potentials,
# critics and H of 3 x 64 ReLU [3 x 128]; batch 256 [512]; `iters`
# generator updates [5000] with 5 critic steps each; Adam(0.9, 0.999) with
# learning rates 5e-4 for every critic, 1e-4 for every generator (the
# W2GAN code's; larger rates leave the checkerboard's map error rising
# after an early minimum while W2 keeps falling); W2GAN penalties
# as its defaults (lambda 200, inequality on pairs and interpolates,
# equality on both sides, g = -f + e); WGAN-GP / WGAN-LP lambda 10;
# Barycentric-OT 0.8 iters x 10 steps, half dual, half map, lr 0.005
# [20000 + 20000]. Every `iters / 20` updates: the map error
# mean |G(x) - T_disc(x)| on 512 held-out source points against the
# Discrete-OT map to 512 held-out target points, the mean cosine of
# G(x) - x and T_disc(x) - x, and the exact W2 of G(x) to those targets.
#
# Writes (small csv files for the vignette):
#   <out>/w2gan-figure2.csv.gz pair, method, seed, epoch, seconds, map_error,
#                             map_cosine, w2  (every evaluation)
#   <out>/w2gan-maps.csv.gz   pair, method, x, y, gx, gy: 100 held-out source
#                             points and their images, seed 1 (Discrete-OT
#                             included: its assignment)
#   <out>/w2gan-potential.csv.gz pair, x, y, f, g, tx, ty: W2GAN's potentials and
#                             x - grad f(x) on a 30 x 30 grid, seed 1, after
#                             a quarter of the training (while the map still
#                             moves the points)
#   <out>/w2gan-geodesic.csv.gz epoch, x, y, gx, gy: W2GAN's generator on the
#                             checkerboard at four points of training, seed 1
# (gzip'd: read.csv() reads them as they are)
#
# Usage (from the package root, with wgflow installed):
#   nice Rscript inst/scripts/w2gan-figure2.R [out] [iters] [seeds]
# defaults: a temporary folder, 200, 1 (a quick look); the shipped files:
#   nice Rscript inst/scripts/w2gan-figure2.R inst/extdata 2500 3

suppressPackageStartupMessages(library(wgflow))

args <- commandArgs(trailingOnly = TRUE)
arg <- function(i, default) if (length(args) >= i) args[[i]] else default
out <- arg(1L, file.path(tempdir(), "w2gan-figure2"))
iters <- as.integer(arg(2L, "200"))
seeds <- seq_len(as.integer(arg(3L, "1")))
dir.create(out, showWarnings = FALSE, recursive = TRUE)
wf_threads(1L)

n <- 10000L
eval_n <- 512L
every <- max(1L, iters %/% 20L)
width <- c(64, 64, 64)
critic_w2 <- wf_mlp(width, init = "normal", init_sd = 0.1)
gen <- wf_mlp(width, norm = "batch", residual = TRUE, init = "normal", init_sd = 0.01,
              gamma_init = "normal")
adam <- wf_adam(5e-4, 0.9, 0.999)
adam_g <- wf_adam(1e-4, 0.9, 0.999)
common <- list(batch_size = 256L, eval_every = every, eval_n = eval_n,
               holdout = eval_n, device = "cpu", verbose = FALSE)

methods <- list(
  "W2GAN" = function(p, seed, epochs = iters) {
    do.call(w2gan, c(list(p$target, source = p$source, epochs = epochs, critic = critic_w2,
                          generator = gen, critic_optimizer = adam,
                          generator_optimizer = adam_g, seed = seed), common))
  },
  "W2-FE (K = 3)" = function(p, seed) {
    do.call(w2fe, c(list(p$target, source = p$source, persistency = 3L, epochs = iters,
                         critic = critic_w2, generator = gen, critic_optimizer = adam,
                         generator_optimizer = adam_g, seed = seed), common))
  },
  "WGAN-LP" = function(p, seed) {
    do.call(wgan, c(list(p$target, source = p$source, penalty = "lp", epochs = iters,
                         critic = wf_mlp(width), generator = gen, critic_steps = 5L,
                         critic_optimizer = adam, generator_optimizer = adam_g,
                         seed = seed), common))
  },
  "WGAN-GP" = function(p, seed) {
    do.call(wgan, c(list(p$target, source = p$source, penalty = "gp", epochs = iters,
                         critic = wf_mlp(width), generator = gen, critic_steps = 5L,
                         critic_optimizer = adam, generator_optimizer = adam_g,
                         seed = seed), common))
  },
  "Barycentric-OT" = function(p, seed) {
    epochs <- max(2L, round(0.8 * iters))
    bo <- common
    bo$eval_every <- max(1L, epochs %/% 20L)
    do.call(barycentric_ot, c(list(p$target, p$source, epochs = epochs,
                                   dual_epochs = epochs %/% 2L, potential = wf_mlp(width),
                                   generator = gen, seed = seed), bo))
  }
)

pairs <- c("4gaussians", "checkerboard", "2spirals")
rows <- list()
maps <- list()
pots <- list()
geo <- list()
started <- Sys.time()
for (pair in pairs) {
  p <- wf_toy_pair(pair, n = n + eval_n, seed = 100L + match(pair, pairs))
  src_held <- p$source[(n + 1):(n + eval_n), , drop = FALSE]
  show <- src_held[seq_len(100), , drop = FALSE]
  t_disc <- wf_discrete_map(src_held, p$target[(n + 1):(n + eval_n), , drop = FALSE])
  maps[[length(maps) + 1]] <- data.frame(pair = pair, method = "Discrete-OT",
                                         x = show[, 1], y = show[, 2],
                                         gx = t_disc[seq_len(100), 1],
                                         gy = t_disc[seq_len(100), 2])
  for (seed in seeds) {
    for (method in names(methods)) {
      t0 <- Sys.time()
      if (method == "W2GAN" && seed == 1L) {
        # in stretches, to keep the generator's images along the way (the
        # geodesic of Figure 4) and the potentials early on (Figure 3)
        stops <- unique(c(0L, round(iters * c(0.05, 0.25, 0.5, 1))))
        fit <- methods[[method]](p, seed, epochs = stops[2])
        for (k in seq_along(stops)[-1]) {
          if (k > 2) fit <- wf_continue(fit, epochs = stops[k] - stops[k - 1], verbose = FALSE)
          if (pair == "checkerboard") {
            geo[[length(geo) + 1]] <- data.frame(
              epoch = stops[k], x = show[, 1], y = show[, 2],
              gx = predict(fit, newdata = show)[, 1], gy = predict(fit, newdata = show)[, 2])
          }
          if (stops[k] == round(iters * 0.25)) {
            lim <- apply(rbind(p$source, p$target), 2, range)
            gxy <- as.matrix(expand.grid(x = seq(lim[1, 1], lim[2, 1], length.out = 30),
                                         y = seq(lim[1, 2], lim[2, 2], length.out = 30)))
            f <- wf_forward(fit$f, gxy)[, 1]
            g <- wf_forward(fit$g, gxy)[, 1] - f # g = -f + e
            tx <- wf_transport_map(fit, gxy, via = "potential")
            pots[[length(pots) + 1]] <- data.frame(pair = pair, x = gxy[, 1], y = gxy[, 2],
                                                   f = f, g = g, tx = tx[, 1], ty = tx[, 2])
          }
        }
      } else {
        fit <- methods[[method]](p, seed)
      }
      m <- fit$metrics[!is.na(fit$metrics$map_error), ]
      rows[[length(rows) + 1]] <- data.frame(
        pair = pair, method = method, seed = seed, status = fit$status, epoch = m$epoch,
        seconds = round(m$seconds, 2), map_error = signif(m$map_error, 4),
        map_cosine = signif(m$map_cosine, 4), w2 = signif(m$w2, 4))
      if (seed == 1L) {
        gx <- predict(fit, newdata = show)
        maps[[length(maps) + 1]] <- data.frame(pair = pair, method = method,
                                               x = show[, 1], y = show[, 2],
                                               gx = gx[, 1], gy = gx[, 2])
      }
      cat(sprintf("%-13s %-15s seed %d: map error %.3f, cosine %.3f, W2 %.3f (%s, %.0f s)\n",
                  pair, method, seed, utils::tail(m$map_error, 1),
                  utils::tail(m$map_cosine, 1), utils::tail(m$w2, 1), fit$status,
                  as.double(difftime(Sys.time(), t0, units = "secs"))))
    }
  }
}
round_df <- function(d) {
  for (nm in names(d)) if (is.double(d[[nm]])) d[[nm]] <- round(d[[nm]], 3)
  d
}
write_gz <- function(d, name) {
  con <- gzfile(file.path(out, name), "w")
  on.exit(close(con))
  utils::write.csv(round_df(d), con, row.names = FALSE)
}
write_gz(do.call(rbind, rows), "w2gan-figure2.csv.gz")
write_gz(do.call(rbind, maps), "w2gan-maps.csv.gz")
write_gz(do.call(rbind, pots), "w2gan-potential.csv.gz")
if (length(geo)) write_gz(do.call(rbind, geo), "w2gan-geodesic.csv.gz")
cat(sprintf("done in %.1f min; files in %s\n",
            as.double(difftime(Sys.time(), started, units = "mins")), out))
