# Runs the statistics tests share: a small W1-FE fit on toy data, and the
# per-epoch rows of made-up runs; and an object saved and read back.

stat_data <- wf_toy("8gaussians", n = 1500, seed = 2)

stat_fit <- function(seed = 1, persistency = 3L, epochs = 4L, ...) {
  w1fe(stat_data, persistency = persistency, epochs = epochs, batch_size = 64,
       critic_steps = 2, critic = wf_mlp(16), generator = wf_mlp(16), eval_n = 150,
       eval_every = 2, seed = seed, device = "cpu", verbose = FALSE, ...)
}

# Per-epoch rows of made-up runs: setting k, seed, the metric w1 falling to
# `end` (evaluated every other epoch), seconds = epoch * cost.
fake_sweep <- function(end = c(`1` = 0.5, `3` = 0.2), seeds = 1:5, epochs = 10,
                       cost = 1) {
  rows <- list()
  for (k in names(end)) for (s in seeds) {
    e <- seq_len(epochs)
    w <- 1 - (1 - end[[k]]) * e / epochs + 0.01 * s
    w[e %% 2 == 1] <- NA
    rows[[length(rows) + 1]] <- data.frame(k = as.numeric(k), seed = s, status = "completed",
                                           epoch = e, seconds = e * cost, w1 = w)
  }
  do.call(rbind, rows)
}

# A small W1-FE fit (K = 3 unless `persistency` is given; `fn = wgan` for
# WGAN) on toy data, for the tests of the methods: print, summary, tidy,
# glance, autoplot, plot, predict.
tiny_fit <- function(seed = 1, persistency = 3L, epochs = 5L, fn = w1fe, ...) {
  x <- wf_toy("8gaussians", n = 2000, seed = 1)
  args <- modifyList(
    list(x, epochs = epochs, batch_size = 128, critic = wf_mlp(c(32, 32)),
         generator = wf_mlp(c(32, 32)), eval_n = 200, eval_every = 1,
         seed = seed, verbose = FALSE),
    list(...))
  if (!identical(fn, wgan)) args$persistency <- persistency
  do.call(fn, args)
}

# The default tiny_fit(), trained once on first use and shared.
methods_fit <- local({
  kept <- NULL
  function() {
    if (is.null(kept)) kept <<- tiny_fit()
    kept
  }
})

# A small W1-FE fit evaluated every epoch, for the tests of callbacks,
# predict types, continuing and sweeps.
live_data <- wf_toy("8gaussians", n = 800, seed = 4)

live_fit <- function(..., epochs = 4L, seed = 1L) {
  w1fe(live_data, epochs = epochs, batch_size = 64, critic_steps = 2,
       critic = wf_mlp(16), generator = wf_mlp(16), eval_n = 100, eval_every = 1,
       seed = seed, device = "cpu", verbose = FALSE, ...)
}

# A one-epoch W1-FE fit with small nets and the defaults a first-time user
# meets (hold-out, batch size, scale), for the tests of R/fit.R.
default_fit <- function(data, ..., epochs = 1L) {
  w1fe(data, epochs = epochs, critic_steps = 1, critic = wf_mlp(8), generator = wf_mlp(8),
       device = "cpu", verbose = FALSE, ...)
}

# x as saveRDS() writes it and readRDS() reads it back (a temporary file,
# removed at once): what a user gets in a new session
saved_and_read <- function(x) {
  path <- tempfile(fileext = ".rds")
  on.exit(unlink(path))
  saveRDS(x, path)
  readRDS(path)
}
