# Runs the statistics tests share: a small W1-FE fit on toy data, and the
# per-epoch rows of made-up runs.

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
