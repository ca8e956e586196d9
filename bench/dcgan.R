# Benchmark: one WGAN-GP iteration of the DCGAN pair on 28 x 28 images,
# wgflow against PyTorch on this machine.
#
# The nets of wf_dcgan_generator() (latent 100, width 64: dense, BatchNorm2d,
# two transposed convolutions) and wf_dcgan_critic() (width 64: two
# stride-2 convolutions, leaky ReLU, dense), batch 64. An iteration is 5
# critic steps (real and generated batches, the gradient penalty at
# interpolates through the double backward, Adam) and one generator step:
# an epoch of wgan(penalty = "gp", critic_steps = 5). wgflow runs through
# its user function (per-epoch wall time from fit$metrics, the first two
# epochs and the evaluated last one left out), PyTorch through
# bench/dcgan_torch.py; each with 1 and 2 threads, in alternating rounds.
# Prints the machine figures, the share of the FMA peak, and the ratio
# wgflow / PyTorch of the best figures. Run from the repository root:
#
#   Rscript bench/dcgan.R [rounds]        (make bench-dcgan installs first)
#   WGFLOW_BENCH_PYTHON selects the Python with torch (default: the venv of
#   make bench-venv, PyTorch from PyPI).

suppressPackageStartupMessages(library(wgflow))
source("bench/machine.R")
machine <- cpu_machine()
args <- commandArgs(trailingOnly = TRUE)
rounds <- if (length(args) >= 1) as.integer(args[1]) else 2L

set.seed(1)
x <- matrix(runif(3000 * 784, -1, 1), 3000)
epochs <- 10L

fit_dcgan <- function(epochs, threads) {
  old <- wf_threads(threads)
  on.exit(wf_threads(old))
  wgan(x, penalty = "gp", epochs = epochs, critic = wf_dcgan_critic(),
       generator = wf_dcgan_generator(), batch_size = 64L, critic_steps = 5L,
       eval_every = 1000L, eval_n = 200L, holdout = 200L, seed = 1, device = "cpu",
       verbose = FALSE)
}

time_wgflow <- function(threads) {
  fit <- fit_dcgan(epochs, threads)
  s <- fit$metrics$seconds
  # epoch k's time is s[k] - s[k - 1]; epochs 3 .. epochs - 1 (warm, no evaluation)
  mean(diff(s)[2:(epochs - 2)]) * 1000
}

python <- bench_python()
time_torch <- function(threads) {
  out <- tryCatch(suppressWarnings(system(
    paste(sprintf("OMP_NUM_THREADS=%d", threads), shQuote(python),
          "bench/dcgan_torch.py", threads), intern = TRUE)),
    error = function(e) character())
  line <- grep("^torch_ms_per_iter", out, value = TRUE)
  if (length(line) == 1) as.numeric(sub(".* ", "", line)) else NA_real_
}

wg <- c(Inf, Inf)
pt <- c(Inf, Inf)
for (round in seq_len(rounds)) {
  for (t in 1:2) {
    wg[t] <- min(wg[t], time_wgflow(t))
    pt[t] <- min(pt[t], time_torch(t), na.rm = TRUE)
  }
}
pt[!is.finite(pt)] <- NA

# the FLOPs of one iteration, counted by the backend's matrix products: an
# epoch more, the same evaluation
iter_gflop <- count_gflop(fit_dcgan(3L, 1L)) - count_gflop(fit_dcgan(2L, 1L))

print_machine(machine)
print_peer(python)
cat(sprintf("WGAN-GP iteration of the DCGAN pair, 28 x 28, batch 64 (5 critic steps, 1 generator step): %.3f GFLOP of matrix products (ms per iteration)\n",
            iter_gflop))
for (t in 1:2) cat(sprintf("  wgflow   threads %d : %8.1f  (%s)\n", t, wg[t],
                           peak_line(wg[t], iter_gflop, machine, t)))
cat(sprintf("  wgflow 2 threads / 1 thread speed-up: %.2fx\n", wg[1] / wg[2]))
for (t in 1:2) cat(sprintf("  pytorch  threads %d : %8.1f\n", t, pt[t]))
if (all(is.na(pt))) {
  cat("PyTorch peer did not run (make bench-venv, or set WGFLOW_BENCH_PYTHON)\n")
} else {
  cat(sprintf("ratio wgflow / pytorch (best of each): %.3f\n", min(wg) / min(pt, na.rm = TRUE)))
}
