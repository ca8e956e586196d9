# A small domain-adaptation study by transport maps, a proxy for the
# W2GAN paper's Table 1 (USPS -> MNIST, 1-NN accuracy: source only 33.31 %,
# W2GAN 67.89 %) and Malik & Huang's Figure 3 (W1-FE-LP with persistency K
# in {1, 3, 5, 10} over epochs, USPS -> MNIST: K = 3 best, K = 10 worst).
# Neither USPS nor MNIST can be installed here; Debian's Fashion-MNIST can.
#
# The domain pair: 16 x 16 Fashion-MNIST images in [-1, 1]. Source: training
# images 1..3000 after a fixed contrast change, x -> 0.3 x + 0.6 (washed
# out and bright), with their labels; target: training images 3001..6000
# unchanged (disjoint rows, labels unused); evaluation: 2000 test images.
# A 1-NN classifier is fitted on the (mapped) source with the source labels
# and scored on the test images (wf_knn_accuracy()). References computed
# once: "source only" (the unmapped source), "Discrete-OT" (the exact
# assignment of the source to the target sample, the best a W2 map of these
# two samples can do) and "target oracle" (the target sample with its own
# labels).
#
# Maps, all identity-start residual generators (2 x 256, BatchNorm) from the
# source to the target, 2 x 256 ReLU critics, batch 64, 5 critic steps per
# epoch: W2GAN with the paper's image settings (all lambdas 10, epsilon
# reparameterisation with lambda_e 10, Adam 1e-4 (0.5, 0.999)), and W1-FE-LP
# with K in {1, 3, 5, 10} (Malik & Huang's: Adam 1e-4, eps 1, lambda 10).
# Accuracy every `every` epochs, by training in stretches (wf_continue()).
#
# Settings and runs: inst/scripts/w2gan-runs.R (w2x$domain_*). Accuracy
# after 50 epochs (the rerun test's slice) and then every `every` epochs,
# by training in stretches (wf_continue(): the same networks as one run).
#
# Writes <out>/w2gan-domain.csv (led by comment lines: the command and the
# commit that made it): method, K, seed, epoch, seconds (training wall
# time), accuracy. tests/testthat/test-w2gan-shipped.R reruns the first
# evaluation of seed 1 (W2GAN and W1-FE-LP with K = 3).
#
# Usage (from the package root, with wgflow installed):
#   nice Rscript inst/scripts/w2gan-domain.R [out] [epochs] [every] [seeds]
# defaults: a temporary folder, 200, 100, 1 (a quick look); the shipped file:
#   nice Rscript inst/scripts/w2gan-domain.R inst/extdata 2000 250 3

suppressPackageStartupMessages(library(wgflow))
here <- if (file.exists("inst/scripts/w2gan-runs.R")) "inst/scripts/w2gan-runs.R" else
  system.file("scripts", "w2gan-runs.R", package = "wgflow")
source(here)

args <- commandArgs(trailingOnly = TRUE)
arg <- function(i, default) if (length(args) >= i) args[[i]] else default
out <- arg(1L, file.path(tempdir(), "w2gan-domain"))
epochs <- as.integer(arg(2L, "200"))
every <- as.integer(arg(3L, "100"))
seeds <- seq_len(as.integer(arg(4L, "1")))
command <- paste(c("nice Rscript inst/scripts/w2gan-domain.R", args), collapse = " ")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
wf_threads(1L)

dd <- w2x$domain_data()
rows <- list(
  data.frame(method = "source only", K = NA, seed = NA, epoch = 0L, seconds = 0,
             accuracy = dd$acc(dd$src)),
  data.frame(method = "Discrete-OT", K = NA, seed = NA, epoch = 0L, seconds = 0,
             accuracy = dd$acc(wf_discrete_map(dd$src, dd$tgt))),
  data.frame(method = "target oracle", K = NA, seed = NA, epoch = 0L, seconds = 0,
             accuracy = wf_knn_accuracy(dd$tgt, dd$tgt_lab, dd$test$x, dd$test$labels)))
cat(sprintf("source only %.3f, Discrete-OT %.3f, target oracle %.3f\n", rows[[1]]$accuracy,
            rows[[2]]$accuracy, rows[[3]]$accuracy))

at <- sort(unique(c(min(50L, every, epochs), seq(every, epochs, by = every), epochs)))
started <- Sys.time()
for (seed in seeds) {
  for (i in seq_len(nrow(w2x$domain_runs))) {
    r <- w2x$domain_runs[i, ]
    d <- w2x$domain_run(dd, r$method, r$K, seed, at, every)
    rows[[length(rows) + 1]] <- d
    last <- d[nrow(d), ]
    cat(sprintf("%-9s K = %-2s seed %d: accuracy %.3f after %d epochs (%.0f s training)\n",
                r$method, if (is.na(r$K)) "-" else r$K, seed, last$accuracy, last$epoch,
                last$seconds))
  }
}
res <- do.call(rbind, rows)
res$accuracy <- round(res$accuracy, 4)
w2x$write_csv(res, file.path(out, "w2gan-domain.csv"), command)
cat(sprintf("done in %.1f min; %s\n", as.double(difftime(Sys.time(), started, units = "mins")),
            file.path(out, "w2gan-domain.csv")))
