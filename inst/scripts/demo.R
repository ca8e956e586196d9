# wgflow demo (run by `make demo`): W1-FE-LP with persistency K = 1 (that
# is WGAN-LP, Proposition 4.1 of Malik & Huang) and K = 3 on the 2-D mixture
# of eight Gaussians, with the paper's settings (3 x 128 ReLU nets, batch
# 512, 10 critic steps, Adam 1e-4, eps = 1) but 300 epochs instead of 800.
#
# Writes, in the current directory:
#   wgflow-demo/metrics.csv  per-epoch metrics of both fits (exact W1 and W2
#                            every 10 epochs)
#   wgflow-demo/demo.png     samples of both fits and the W1 curves against
#                            epoch and wall time
# and prints the exact W1 each fit reached and the training time it took.
#
# Usage: Rscript inst/scripts/demo.R [epochs]

suppressPackageStartupMessages(library(wgflow))

args <- commandArgs(trailingOnly = TRUE)
epochs <- if (length(args) >= 1L) as.integer(args[1]) else 300L
out_dir <- "wgflow-demo"
dir.create(out_dir, showWarnings = FALSE)

x <- wf_toy("8gaussians", n = 20000, seed = 1)
cat(sprintf("wgflow %s demo: W1-FE-LP on 8gaussians, %d epochs, K = 1 and K = 3 (%d CPU threads)\n",
            utils::packageVersion("wgflow"), epochs, wf_threads()))

fits <- list()
for (k in c(1L, 3L)) {
  cat(sprintf("training K = %d ...\n", k))
  fits[[paste0("K = ", k)]] <- w1fe(x, persistency = k, penalty = "lp",
                                    epochs = epochs, eval_every = 10L,
                                    eval_n = 1000L, seed = 1L,
                                    verbose = interactive())
}

metrics <- do.call(rbind, lapply(names(fits), function(nm) {
  m <- as.data.frame(fits[[nm]]$metrics)
  cbind(persistency = fits[[nm]]$settings$persistency, m)
}))
utils::write.csv(metrics, file.path(out_dir, "metrics.csv"), row.names = FALSE)

# ---- the figure ------------------------------------------------------------
cols <- c("K = 1" = "#1f78b4", "K = 3" = "#d95f02")
grDevices::png(file.path(out_dir, "demo.png"), width = 1600, height = 1000, res = 150)
op <- graphics::par(mfrow = c(2, 2), mar = c(4, 4, 2.5, 1))
data_pts <- x[sample.int(nrow(x), 1000L), ]
for (nm in names(fits)) {
  y <- wf_sample(fits[[nm]], 1000L, seed = 1L)
  graphics::plot(y, pch = 16, cex = 0.4, col = cols[[nm]], asp = 1,
                 xlim = c(-2, 2), ylim = c(-2, 2), xlab = "x", ylab = "y",
                 main = sprintf("W1-FE-LP, %s: samples, data (black)", nm))
  graphics::points(data_pts, pch = 16, cex = 0.3, col = "black")
}
ev <- metrics[!is.na(metrics$w1), ]
ylim <- range(ev$w1)
for (axis in c("epoch", "seconds")) {
  graphics::plot(NA, xlim = range(ev[[axis]]), ylim = ylim, log = "y",
                 xlab = if (axis == "epoch") "epoch" else "training wall time (s)",
                 ylab = "exact W1 (held-out data)",
                 main = paste("W1 against", if (axis == "epoch") "epoch" else "wall time"))
  for (nm in names(fits)) {
    k <- fits[[nm]]$settings$persistency
    e <- ev[ev$persistency == k, ]
    graphics::lines(e[[axis]], e$w1, col = cols[[nm]], lwd = 2)
  }
  graphics::legend("topright", legend = names(fits), col = cols, lwd = 2, bty = "n")
}
graphics::par(op)
invisible(grDevices::dev.off())

# ---- the summary -----------------------------------------------------------
cat("\n")
for (nm in names(fits)) {
  m <- fits[[nm]]$metrics
  e <- m[!is.na(m$w1), ]
  cat(sprintf("%s: exact W1 %.4f after %d epochs (best %.4f at epoch %d), training %.1f s, status %s\n",
              nm, utils::tail(e$w1, 1), max(m$epoch), min(e$w1),
              e$epoch[which.min(e$w1)], max(m$seconds), fits[[nm]]$status))
}
# time to reach the W1 that K = 1 reaches at the end
target <- utils::tail(stats::na.omit(fits[[1]]$metrics$w1), 1)
reach <- vapply(fits, function(f) {
  e <- f$metrics[!is.na(f$metrics$w1), ]
  i <- which(e$w1 <= target)[1]
  if (is.na(i)) NA_real_ else e$seconds[i]
}, numeric(1))
cat(sprintf("time to reach W1 <= %.4f (K = 1's final value): K = 1 %.1f s, K = 3 %s\n",
            target, reach[[1]],
            if (is.na(reach[[2]])) "not reached" else sprintf("%.1f s", reach[[2]])))
cat(sprintf("wrote %s and %s\n", file.path(out_dir, "metrics.csv"),
            file.path(out_dir, "demo.png")))
