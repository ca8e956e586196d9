# Makes tests/testthat/fixtures/w2gan-reference.csv: the metrics and
# generator images of short seeded W2GAN / W2-FE runs with the default
# options (i.i.d. batches, the data side reparameterised or none, no labels),
# written with the code before balanced batches and the generated side's
# reparameterisation existed (commit efd0c1e), so that test-w2gan.R can
# check that those options leave default runs as they were (same seed, same
# numbers to float tolerance). Run from the repository root with that
# version of the package installed:
#   Rscript inst/scripts/w2gan-reference.R
library(wgflow)

p <- wf_toy_pair("checkerboard", n = 1500, seed = 3)
small <- function(w) wf_mlp(c(w, w), init = "normal", init_sd = 0.1)
gen <- wf_mlp(c(16, 16), norm = "batch", residual = TRUE, init = "normal", init_sd = 0.01,
              gamma_init = "normal")
base <- list(p$target, source = p$source, epochs = 12, batch_size = 64, critic = small(16),
             generator = gen, eval_every = 4, eval_n = 100, seed = 9, device = "cpu",
             verbose = FALSE)
runs <- list(
  w2gan = list(f = "w2gan"),
  w2gan_noreparam_pairs = list(f = "w2gan", reparam = FALSE, ineq = "pairs",
                               lambda_e = 0),
  w2gan_e = list(f = "w2gan", lambda_e = 10, regularizer = "entropic", lambda_ineq = 0.1),
  w2fe_k2 = list(f = "w2fe", persistency = 2, step_size = 0.8),
  w2gan_noise = list(f = "w2gan", source = NULL)
)
rows <- list()
for (name in names(runs)) {
  r <- runs[[name]]
  args <- modifyList(base, r[names(r) != "f"], keep.null = TRUE)
  if (is.null(args$source)) args$source <- NULL
  fit <- do.call(r$f, args)
  m <- as.data.frame(fit$metrics)
  cols <- setdiff(names(m), c("epoch", "seconds"))
  for (col in cols) {
    rows[[length(rows) + 1L]] <- data.frame(run = name, what = col, index = m$epoch,
                                            value = m[[col]])
  }
  s <- if (is.null(fit$source)) wf_sample(fit, 20, seed = 3) else
    predict(fit, newdata = p$source[1:20, ])
  rows[[length(rows) + 1L]] <- data.frame(run = name, what = "sample",
                                          index = seq_along(s), value = as.vector(s))
}
out <- do.call(rbind, rows)
out <- out[!is.na(out$value), ]
file <- "tests/testthat/fixtures/w2gan-reference.csv"
utils::write.csv(transform(out, value = sprintf("%.17g", value)), file,
                 row.names = FALSE, quote = FALSE)
cat("wrote", nrow(out), "rows to", file, "\n")
