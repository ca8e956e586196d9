# The experiments of vignette("rwp"): a 2-D proxy of Figure 4 of Lin, Li,
# Osher and Montufar ("Wasserstein Proximal of GANs": ten generator updates
# per outer iteration with and without the RWP proximal term, WGAN-GP), SBE
# with its two anchors, and a small Fashion-MNIST run.
#
# Part 1, eight Gaussians (wf_toy("8gaussians"), 20000 training points,
# 1000 held out): WGAN-GP critic, the paper's WGAN-GP settings (Adam 1e-4,
# betas (0.5, 0.9), batch 64, 5 critic steps, lambda 10), 3 x 128 ReLU
# networks, latent dimension 2; every seed runs
#   rwp      l = 10, h = 0.1            (RWP, the paper's h)
#   rwp_h    l = 10, h = 0.0025         (RWP, h scaled to two dimensions)
#   noprox   l = 10, h = Inf            (ten plain generator updates)
#   wgan     l = 1                      (WGAN-GP)
#   sbe      SBE, lag-one anchor, h = 0.2, 5 potential steps, 1 generator step
#   sbe_lit  SBE read literally (anchor = the generator now)
# (SBE with the same Adam settings as the others, so that only the method
# differs.) Why a second h: per coordinate the proximal pull is (g - g_prev)/h
# in any dimension, while the WGAN-GP critic's pull, |grad phi| ~ 1 spread
# over D coordinates, is ~ 1/sqrt(D) each; the paper's h = 0.1 on 32 x 32 x 3
# images (D = 3072) weighs the two like h = 0.1 sqrt(2 / 3072) = 0.0026 does
# in two dimensions. Every `every` outer iterations the exact W1 and W2 between 1000
# generated samples and the 1000 held-out points are recorded, with the
# cumulative training wall time.
#
# Part 2, Fashion-MNIST at 16 x 16 (wf_images(size = 16): 20000 training
# images, 2000 test images held out), WGAN-GP, 3 x 256 ReLU critic,
# generator 64 -> 256 -> 256 -> 256 with tanh output: rwp (l = 10, h = 0.1),
# noprox (l = 10, no proximal term) and wgan (l = 1), one seed. At ten
# checkpoints: the exact W1 and W2 between 1000 generated and 1000 test
# images (pixels), and the Frechet distance between Gaussian fits of 2000
# generated and 2000 test images' pixels (wf_frechet()). No Inception
# network is available, so no FID.
#
# Usage (from the package root, with wgflow installed):
#   Rscript inst/scripts/rwp-figure4.R [outdir] [outer] [seeds] [fmnist_outer]
# defaults: inst/extdata, 300, 1, 200 (a quick check); the shipped files
# were made with `nice Rscript inst/scripts/rwp-figure4.R inst/extdata
# 5000 3 3000`, one run after the other on one CPU thread: 51 minutes on
# this shared two-core machine under a load of 3 to 6 (about half that on
# an idle one). Writes
# rwp-figure4.csv.gz (gzip'd: the package's size), rwp-figure4-timing.csv (the cost of an outer iteration
# of each setting, measured apart from the runs) and rwp-fmnist.csv to
# outdir.

suppressPackageStartupMessages(library(wgflow))

args <- commandArgs(trailingOnly = TRUE)
arg <- function(i, default) if (length(args) >= i) args[[i]] else default
outdir <- arg(1L, file.path("inst", "extdata"))
outer <- as.integer(arg(2L, "300"))
seeds <- seq_len(as.integer(arg(3L, "1")))
fm_outer <- as.integer(arg(4L, "200"))
every <- max(1L, outer %/% 50L)
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)
wf_threads(1)
t_start <- proc.time()[["elapsed"]]
say <- function(...) cat(sprintf(...), sprintf("[%.0f s]\n", proc.time()[["elapsed"]] - t_start))

# ---- part 1: eight Gaussians -------------------------------------------------
x <- wf_toy("8gaussians", n = 21000, seed = 1)
held <- x[20001:21000, ]
x <- x[1:20000, ]
nets <- list(critic = wf_mlp(c(128, 128, 128)), generator = wf_mlp(c(128, 128, 128)))
adam <- wf_adam(1e-4, beta1 = 0.5, beta2 = 0.9)
common <- list(epochs = outer, latent_dim = 2, batch_size = 64, critic_steps = 5,
               lambda = 10, critic = nets$critic, generator = nets$generator,
               critic_optimizer = adam, generator_optimizer = adam,
               eval_every = every, eval_n = 1000, holdout = held, device = "cpu",
               verbose = FALSE)
settings <- list(
  rwp = list(fun = rwp, args = list(loss = "wgan-gp", h = 0.1, generator_steps = 10)),
  rwp_h = list(fun = rwp, args = list(loss = "wgan-gp", h = 0.0025, generator_steps = 10)),
  noprox = list(fun = rwp, args = list(loss = "wgan-gp", h = Inf, generator_steps = 10)),
  wgan = list(fun = rwp, args = list(loss = "wgan-gp", h = 0.1, generator_steps = 1)),
  sbe = list(fun = sbe, args = list(loss = "wgan-gp", h = 0.2, anchor = "lag",
                                    potential_steps = 5, generator_steps = 1,
                                    potential_optimizer = adam)),
  sbe_lit = list(fun = sbe, args = list(loss = "wgan-gp", h = 0.2, anchor = "literal",
                                        potential_steps = 5, generator_steps = 1,
                                        potential_optimizer = adam))
)
keep <- c("epoch", "seconds", "w1", "w2", "critic_loss", "gen_loss")
rows <- list()
for (seed in seeds) {
  for (name in names(settings)) {
    st <- settings[[name]]
    fit <- do.call(st$fun, c(list(x), st$args, common, list(seed = seed)))
    m <- as.data.frame(fit$metrics)
    m <- m[!is.na(m$w1), intersect(keep, names(m))]
    rows[[length(rows) + 1L]] <- data.frame(setting = name, seed = seed, status = fit$status, m)
    say("8gaussians %-8s seed %d: %s, final W1 %.3f, %.1f s of training", name, seed,
        fit$status, m$w1[nrow(m)], max(m$seconds))
  }
}
res <- do.call(rbind, rows)
res$seconds <- round(res$seconds, 3)
for (col in c("w1", "w2", "critic_loss", "gen_loss")) res[[col]] <- signif(res[[col]], 5)
con <- gzfile(file.path(outdir, "rwp-figure4.csv.gz"), "w")
utils::write.csv(res, con, row.names = FALSE)
close(con)

# final W1 (mean of the last 5 checkpoints) and the spread over the last 10
# (sd within a run), averaged over seeds
last_stats <- do.call(rbind, lapply(split(res, list(res$setting, res$seed), drop = TRUE), function(d) {
  d <- d[order(d$epoch), ]
  tail10 <- utils::tail(d$w1, 10)
  data.frame(setting = d$setting[1], seed = d$seed[1], w1_last5 = mean(utils::tail(d$w1, 5)),
             sd_last10 = stats::sd(tail10), range_last10 = diff(range(tail10)),
             seconds = max(d$seconds))
}))
print(stats::aggregate(cbind(w1_last5, sd_last10, range_last10, seconds) ~ setting,
                       data = last_stats, FUN = mean), digits = 3)

# The machine is shared, so the wall times above carry its load. The cost
# of an outer iteration of each setting, measured apart: 200 iterations
# each, settings alternating, best of three rounds.
timing <- data.frame(setting = names(settings), seconds_per_outer = Inf)
for (round in 1:3) {
  for (i in seq_along(settings)) {
    st <- settings[[i]]
    targs <- utils::modifyList(common, list(epochs = 203L, eval_every = 1000L))
    fit <- do.call(st$fun, c(list(x), st$args, targs, list(seed = 99)))
    cost <- diff(fit$metrics$seconds[c(3, 203)]) / 200
    timing$seconds_per_outer[i] <- min(timing$seconds_per_outer[i], cost)
  }
}
timing$seconds_per_outer <- signif(timing$seconds_per_outer, 4)
utils::write.csv(timing, file.path(outdir, "rwp-figure4-timing.csv"), row.names = FALSE)
print(timing)

# ---- part 2: Fashion-MNIST at 16 x 16 ---------------------------------------
fm <- tryCatch({
  train <- wf_images("fashion-mnist", "train", size = 16, n = 20000)$x
  test <- wf_images("fashion-mnist", "test", size = 16, n = 2000)$x
  list(train = train, test = test)
}, wgflow_error_missing_data = function(e) NULL)
if (is.null(fm)) {
  say("Fashion-MNIST not found: part 2 skipped")
} else {
  chunks <- 10L
  per <- max(1L, fm_outer %/% chunks)
  fm_nets <- list(critic = wf_mlp(c(256, 256, 256)),
                  generator = wf_mlp(c(256, 256, 256), output_activation = "tanh"))
  fm_settings <- list(rwp = list(h = 0.1, generator_steps = 10),
                      noprox = list(h = Inf, generator_steps = 10),
                      wgan = list(h = 0.1, generator_steps = 1))
  fm_rows <- list()
  for (name in names(fm_settings)) {
    fit <- NULL
    for (k in seq_len(chunks)) {
      fit <- if (is.null(fit)) {
        do.call(rwp, c(list(fm$train, loss = "wgan-gp", epochs = per, latent_dim = 64,
                            batch_size = 64, critic_steps = 5, lambda = 10,
                            critic = fm_nets$critic, generator = fm_nets$generator,
                            critic_optimizer = adam, generator_optimizer = adam,
                            eval_every = per, eval_n = 1000, holdout = fm$test[1:1000, ],
                            seed = 1, device = "cpu", verbose = FALSE),
                       fm_settings[[name]]))
      } else {
        wf_continue(fit, epochs = per, verbose = FALSE)
      }
      m <- fit$metrics
      gen <- wf_sample(fit, 2000, seed = 5)
      fm_rows[[length(fm_rows) + 1L]] <- data.frame(
        setting = name, epoch = max(m$epoch), seconds = round(max(m$seconds), 3),
        w1 = signif(m$w1[nrow(m)], 5), w2 = signif(m$w2[nrow(m)], 5),
        frechet = signif(wf_frechet(gen, fm$test), 5), status = fit$status)
    }
    last <- fm_rows[[length(fm_rows)]]
    say("fashion-mnist %-5s: %d outer iterations, W1 %.3f, W2 %.3f, Frechet %.3f, %.0f s",
        name, last$epoch, last$w1, last$w2, last$frechet, last$seconds)
  }
  # the reference levels: the test images against 2000 further training images
  ref <- fm$train[18001:20000, ]
  fm_rows[[length(fm_rows) + 1L]] <- data.frame(
    setting = "data", epoch = NA, seconds = NA,
    w1 = signif(wf_wasserstein(ref[1:1000, ], fm$test[1:1000, ], p = 1), 5),
    w2 = signif(wf_wasserstein(ref[1:1000, ], fm$test[1:1000, ], p = 2), 5),
    frechet = signif(wf_frechet(ref, fm$test), 5), status = "reference")
  fm_res <- do.call(rbind, fm_rows)
  utils::write.csv(fm_res, file.path(outdir, "rwp-fmnist.csv"), row.names = FALSE)
  print(fm_res)
}
say("done")
