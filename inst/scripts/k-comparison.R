# A comparison of persistency K for W1-FE-LP on the eight-Gaussian mixture
# with the package's convergence statistics: per-run summaries, the time to
# a W1 threshold as a censored time-to-event (Kaplan-Meier medians), and
# each K against K = 1 with bootstrap intervals over seeds and tests
# (log-rank for the time, Welch for the final W1 and its mean over the run).
#
# The paper's networks and settings (w1fe() defaults), fewer epochs than
# Figure 2 (300 by default), more seeds (5). One run takes about 30 s on a
# quiet CPU core.
#
# Usage (from the package root, with wgflow installed):
#   Rscript inst/scripts/k-comparison.R [epochs] [seeds] [threshold] [out.csv] [workers]
# defaults 300, 5, 0.3, no csv, 1 worker (the runs one after the other on
# one thread; with workers > 1, future::multisession with one thread each).

suppressPackageStartupMessages(library(wgflow))

args <- commandArgs(trailingOnly = TRUE)
arg <- function(i, default) if (length(args) >= i) args[[i]] else default
epochs <- as.integer(arg(1L, "300"))
seeds <- seq_len(as.integer(arg(2L, "5")))
threshold <- as.numeric(arg(3L, "0.3"))
out <- arg(4L, "")
workers <- as.integer(arg(5L, "1"))

x <- wf_toy("8gaussians", n = 20000, seed = 1)
grid <- data.frame(persistency = c(1L, 3L, 5L))
if (workers > 1L) future::plan(future::multisession, workers = workers) else
  future::plan(future::sequential)
wf_threads(1L)

cat(sprintf("k-comparison: K in {%s} x %d seeds, %d epochs, W1-FE-LP, started %s\n",
            paste(grid$persistency, collapse = ", "), length(seeds), epochs,
            format(Sys.time())))
sw <- wf_sweep(x, grid, seeds = seeds, epochs = epochs, eval_every = 10L,
               eval_n = 1000L, threads = 1L, verbose = TRUE)
future::plan(future::sequential)
cat(sprintf("k-comparison: %d runs in %.0f s\n\n", nrow(attr(sw, "grid")) * length(seeds),
            attr(sw, "elapsed")))

print(summary(sw))
conv <- wf_convergence(sw, threshold = threshold)
cat("\n")
print(conv[, c("persistency", "seed", "final", "final_se", "best", "auc", "reached",
               "epoch_to_threshold", "seconds_to_threshold")], n = Inf)
km <- wf_survival(conv, time = "seconds")
cat(sprintf("\nKaplan-Meier medians of the seconds to W1 <= %s:\n", format(threshold)))
print(attr(km, "medians"))
for (outcome in c("epoch", "seconds", "final", "auc")) {
  cat("\n")
  print(wf_compare(conv, by = "persistency", outcome = outcome), width = 200)
}
fl <- attr(sw, "floors")
cat(sprintf("\nSampling floor of W1 at n = %d: %.4f (sd over runs' means %.4f)\n",
            fl$n[1], mean(fl$floor[fl$metric == "w1"]), stats::sd(fl$floor[fl$metric == "w1"])))

if (nzchar(out)) {
  keep <- c("persistency", "seed", "status", "epoch", "seconds", "w1", "w1_se", "w2", "w2_se")
  res <- as.data.frame(sw)[!is.na(sw$w1), keep]
  utils::write.csv(res, out, row.names = FALSE)
  cat(sprintf("wrote %d rows to %s\n", nrow(res), out))
}
