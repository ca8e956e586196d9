# The training cost per epoch of each setting of the Figure 2 / Figure 4
# experiment (inst/scripts/figure2.R), measured in one R session, one CPU
# thread, the settings interleaved in rounds so that they all see the machine
# in the same state. The `seconds` of a long sweep on a shared machine also
# record the load of everything else that ran at the time; epochs times this
# cost per epoch is a load-free clock for comparing the settings.
#
# Usage (from the package root, with wgflow installed):
#   Rscript inst/scripts/figure2-timing.R [out.csv] [epochs] [rounds]
# defaults inst/extdata/figure2-timing.csv, 40, 5. Writes one row per
# setting: penalty, persistency, the median seconds per epoch over the
# rounds, and its minimum and maximum.

suppressPackageStartupMessages(library(wgflow))

args <- commandArgs(trailingOnly = TRUE)
arg <- function(i, default) if (length(args) >= i) args[[i]] else default
out <- arg(1L, file.path("inst", "extdata", "figure2-timing.csv"))
epochs <- as.integer(arg(2L, "40"))
rounds <- as.integer(arg(3L, "5"))

x <- wf_toy("8gaussians", n = 20000, seed = 1)
grid <- rbind(
  data.frame(penalty = "lp", persistency = c(1L, 3L, 5L, 10L)),
  data.frame(penalty = "gp", persistency = c(1L, 3L, 5L))
)
set.seed(1)
old <- wf_threads(1L)
times <- matrix(NA_real_, nrow(grid), rounds)
for (r in seq_len(rounds)) {
  for (i in sample.int(nrow(grid))) {
    fit <- w1fe(x, persistency = grid$persistency[i], penalty = grid$penalty[i],
                epochs = epochs, eval_every = epochs, eval_n = 100L,
                seed = r, verbose = FALSE)
    times[i, r] <- max(fit$metrics$seconds) / epochs
  }
  cat(sprintf("round %d/%d done\n", r, rounds))
}
wf_threads(old)
res <- data.frame(grid, seconds_per_epoch = apply(times, 1, stats::median),
                  min = apply(times, 1, min), max = apply(times, 1, max))
res[-(1:2)] <- signif(res[-(1:2)], 4)
utils::write.csv(res, out, row.names = FALSE)
print(res)
