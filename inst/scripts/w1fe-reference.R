# Makes tests/testthat/fixtures/w1fe-reference.csv: the metrics and samples
# of short seeded W1-FE / WGAN runs, written with the code of the day so that
# a later rewrite of the engine can be checked against it (same seed, same
# numbers to float tolerance). Run from the repository root with the package
# installed:
#   Rscript inst/scripts/w1fe-reference.R
library(wgflow)

x <- wf_toy("8gaussians", n = 3000, seed = 11)
runs <- list(
  lp_k3 = list(persistency = 3, penalty = "lp"),
  gp_k1 = list(persistency = 1, penalty = "gp"),
  clip_k2 = list(persistency = 2, penalty = "clip"),
  naive_k2 = list(persistency = 2, penalty = "lp", persistency_mode = "naive")
)
rows <- list()
for (name in names(runs)) {
  fit <- do.call(w1fe, c(list(x, epochs = 20, batch_size = 128, critic_steps = 5,
                              critic = wf_mlp(c(32, 32)), generator = wf_mlp(c(32, 32)),
                              eval_every = 5, eval_n = 200, seed = 7, device = "cpu",
                              verbose = FALSE), runs[[name]]))
  m <- as.data.frame(fit$metrics)
  cols <- setdiff(names(m), c("epoch", "seconds"))
  for (col in cols) {
    rows[[length(rows) + 1L]] <- data.frame(run = name, what = col, index = m$epoch,
                                            value = m[[col]])
  }
  s <- wf_sample(fit, 50, seed = 3)
  rows[[length(rows) + 1L]] <- data.frame(run = name, what = "sample",
                                          index = seq_along(s), value = as.vector(s))
}
out <- do.call(rbind, rows)
out <- out[!is.na(out$value), ]
file <- "tests/testthat/fixtures/w1fe-reference.csv"
utils::write.csv(transform(out, value = sprintf("%.17g", value)), file,
                 row.names = FALSE, quote = FALSE)
cat("wrote", nrow(out), "rows to", file, "\n")
