# Benchmark: one WGAN-LP critic step, wgflow against PyTorch on this machine.
#
# Critic 2 -> 128 -> 128 -> 128 -> 1 (ReLU), batch 512: forward on real and
# fake, LP penalty at interpolates with its double backward, one Adam step.
# wgflow runs through its R API (wf_critic_step), PyTorch through
# bench/engine_torch.py; each with 1 and 2 threads, best of 3 runs of 200
# steps (PyTorch also with OpenBLAS at 1 and 2 threads), in 3 alternating
# rounds. Prints all and the ratio wgflow / PyTorch of the best figures.
# Run from the repository root.
#
#   Rscript bench/engine.R            (make bench installs wgflow first)
#   WGFLOW_BENCH_PYTHON selects the Python with torch (default: the venv of
#   make bench-venv, PyTorch from PyPI).

suppressPackageStartupMessages(library(wgflow))
source("bench/machine.R")
machine <- cpu_machine()

reps <- 200L
time_wgflow <- function(threads) {
  old <- wf_threads(threads)
  on.exit(wf_threads(old))
  set.seed(1)
  critic <- wf_net(wf_mlp(c(128, 128, 128)), input_dim = 2, output_dim = 1, seed = 1)
  opt <- wf_adam(lr = 1e-4, beta1 = 0.5, beta2 = 0.9)
  real <- matrix(rnorm(1024), 512, 2)
  fake <- matrix(rnorm(1024, 1), 512, 2)
  for (i in 1:20) wf_critic_step(critic, real, fake, opt, penalty = "lp")
  best <- Inf
  for (r in 1:3) {
    t0 <- proc.time()[["elapsed"]]
    for (i in seq_len(reps)) wf_critic_step(critic, real, fake, opt, penalty = "lp")
    best <- min(best, (proc.time()[["elapsed"]] - t0) / reps * 1000)
  }
  best
}

python <- bench_python()
script <- "bench/engine_torch.py"
# PyTorch's intra-op threads and OpenBLAS's own threads are set apart
# (together they oversubscribe two cores badly): try each combination.
configs <- expand.grid(torch = 1:2, openblas = 1:2)
configs$ms <- Inf
time_torch <- function(i) {
  env <- sprintf("OPENBLAS_NUM_THREADS=%d OMP_NUM_THREADS=%d", configs$openblas[i],
                 configs$torch[i])
  out <- tryCatch(suppressWarnings(system(
    paste(env, shQuote(python), shQuote(script), configs$torch[i]),
    intern = TRUE)), error = function(e) character())
  line <- grep("^torch_ms_per_step", out, value = TRUE)
  if (length(line) == 1) as.numeric(sub(".* ", "", line)) else NA_real_
}
# Rounds that alternate the two sides, so a slow spell of this (shared)
# machine hits both; each figure is the best over the rounds.
wg <- c(Inf, Inf)
for (round in 1:3) {
  wg <- pmin(wg, vapply(1:2, time_wgflow, numeric(1)))
  for (i in seq_len(nrow(configs))) configs$ms[i] <- min(configs$ms[i], time_torch(i), na.rm = TRUE)
}
configs$ms[!is.finite(configs$ms)] <- NA

# the FLOPs of one step, counted by the backend's matrix products
step_gflop <- local({
  critic <- wf_net(wf_mlp(c(128, 128, 128)), input_dim = 2, output_dim = 1, seed = 1)
  real <- matrix(rnorm(1024), 512, 2)
  fake <- matrix(rnorm(1024, 1), 512, 2)
  opt <- wf_adam(lr = 1e-4, beta1 = 0.5, beta2 = 0.9)
  count_gflop(wf_critic_step(critic, real, fake, opt, penalty = "lp"))
})

print_machine(machine)
print_peer(python)
cat(sprintf("WGAN-LP critic step, 2-128-128-128-1 ReLU, batch 512, Adam: %.4f GFLOP of matrix products (ms per step)\n",
            step_gflop))
for (t in 1:2) cat(sprintf("  wgflow   threads %d                : %8.3f  (%s)\n", t, wg[t],
                           peak_line(wg[t], step_gflop, machine, t)))
if (is.finite(wg[1]) && is.finite(wg[2])) {
  cat(sprintf("  wgflow 2 threads / 1 thread speed-up: %.2fx\n", wg[1] / wg[2]))
}
for (i in seq_len(nrow(configs))) {
  cat(sprintf("  pytorch  threads %d, openblas %d      : %8.3f\n", configs$torch[i],
              configs$openblas[i], configs$ms[i]))
}
if (all(is.na(configs$ms))) {
  cat("PyTorch peer did not run (make bench-venv, or set WGFLOW_BENCH_PYTHON)\n")
} else {
  cat(sprintf("ratio wgflow / pytorch (best of each): %.3f\n",
              min(wg) / min(configs$ms, na.rm = TRUE)))
}
