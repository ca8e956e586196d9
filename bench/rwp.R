# Benchmark: ms per outer iteration of RWP (Lin, Li, Osher, Montufar) with a
# WGAN-GP critic, wgflow against a PyTorch implementation of the same
# algorithm (bench/rwp_torch.py), and the exact W1 each reaches.
#
# Workload (the paper's WGAN-GP settings, appendix C, on the 2-D mixture of
# eight Gaussians): 3 x 128 ReLU critic and generator, latent 128 (or 2, as
# in vignette("rwp")'s experiment), batch 64, 5 critic steps (GP, lambda
# 10), then l = 10 generator steps with the proximal term, h = 0.1; Adam
# 1e-4, betas (0.5, 0.9).
# Rounds alternate the two sides (a slow spell of this shared machine hits
# both); wgflow runs with 1 and 2 threads, PyTorch with torch threads in
# {1, 2} x OpenBLAS threads in {1, 2}; each figure is its best over the
# rounds, and the ratio is that of the best of each side.
#
#   Rscript bench/rwp.R [outer iterations] [rounds] [latent]   (from the
#   repository root; defaults 300, 3, 128)
#   WGFLOW_BENCH_PYTHON selects the Python with torch (default: the venv of
#   make bench-venv, PyTorch from PyPI).

suppressPackageStartupMessages(library(wgflow))
source("bench/machine.R")
machine <- cpu_machine()
args <- commandArgs(trailingOnly = TRUE)
n_outer <- if (length(args) >= 1) as.integer(args[1]) else 300L
rounds <- if (length(args) >= 2) as.integer(args[2]) else 3L
latent <- if (length(args) >= 3) as.integer(args[3]) else 128L
eval_n <- 2000L
x <- wf_toy("8gaussians", n = 20000, seed = 1)
held <- wf_toy("8gaussians", n = eval_n, seed = 2)

run_wgflow <- function(threads) {
  old <- wf_threads(threads)
  on.exit(wf_threads(old))
  fit <- NULL
  gflop <- count_gflop(
    fit <- rwp(x, loss = "wgan-gp", h = 0.1, generator_steps = 10, epochs = n_outer,
               latent_dim = latent,
               eval_every = n_outer, eval_n = eval_n, holdout = held, seed = 1,
               device = "cpu", verbose = FALSE))
  # seconds are cumulative training time (evaluation excluded); skip 3 warm-up
  ms <- diff(fit$metrics$seconds[c(3, n_outer)]) / (n_outer - 3) * 1000
  list(ms = ms, gflop = gflop / n_outer,
       w1 = wf_wasserstein(wf_sample(fit, eval_n, seed = 1), held, p = 1))
}

python <- bench_python()
data_csv <- tempfile(fileext = ".csv")
utils::write.table(x, data_csv, sep = ",", row.names = FALSE, col.names = FALSE)
configs <- expand.grid(torch = 1:2, openblas = 1:2)
configs$ms <- Inf
configs$w1 <- NA_real_
run_torch <- function(i) {
  out_csv <- tempfile(fileext = ".csv")
  env <- sprintf("OPENBLAS_NUM_THREADS=%d OMP_NUM_THREADS=%d", configs$openblas[i],
                 configs$torch[i])
  out <- tryCatch(suppressWarnings(system(paste(
    env, shQuote(python), "bench/rwp_torch.py", data_csv, out_csv, n_outer, eval_n,
    configs$torch[i], latent), intern = TRUE)), error = function(e) character())
  line <- grep("^torch_ms_per_outer", out, value = TRUE)
  if (length(line) != 1 || !file.exists(out_csv)) return(list(ms = NA_real_, w1 = NA_real_))
  y <- as.matrix(utils::read.csv(out_csv, header = FALSE))
  list(ms = as.numeric(sub(".* ", "", line)), w1 = wf_wasserstein(y, held, p = 1))
}

load_before <- tryCatch(system("uptime", intern = TRUE), error = function(e) "?")
wg <- data.frame(threads = 1:2, ms = Inf, w1 = NA_real_, gflop = NA_real_)
for (round in seq_len(rounds)) {
  for (t in 1:2) {
    r <- run_wgflow(t)
    if (r$ms < wg$ms[t]) wg[t, c("ms", "w1", "gflop")] <- c(r$ms, r$w1, r$gflop)
  }
  for (i in seq_len(nrow(configs))) {
    r <- run_torch(i)
    if (!is.na(r$ms) && r$ms < configs$ms[i]) configs[i, c("ms", "w1")] <- c(r$ms, r$w1)
  }
}
configs$ms[!is.finite(configs$ms)] <- NA
load_after <- tryCatch(system("uptime", intern = TRUE), error = function(e) "?")

cat(sprintf(paste0("RWP (WGAN-GP, l = 10, h = 0.1), 2-D data, 3x128 ReLU, latent %d, ",
                   "batch 64, 5 critic steps: %d outer iterations, best of %d rounds\n"),
            latent, n_outer, rounds))
print_machine(machine)
print_peer(python)
for (t in 1:2) {
  cat(sprintf("  wgflow   threads %d            : %8.2f ms/outer iteration, exact W1 %.4f; %.3f GFLOP/iteration, %s\n",
              t, wg$ms[t], wg$w1[t], wg$gflop[t],
              peak_line(wg$ms[t], wg$gflop[t], machine, t)))
}
for (i in seq_len(nrow(configs))) {
  cat(sprintf("  pytorch  threads %d, openblas %d : %8.2f ms/outer iteration, exact W1 %.4f\n",
              configs$torch[i], configs$openblas[i], configs$ms[i], configs$w1[i]))
}
cat("  load before:", trimws(load_before), "\n  load after: ", trimws(load_after), "\n")
if (all(is.na(configs$ms))) {
  cat("PyTorch peer did not run (make bench-venv, or set WGFLOW_BENCH_PYTHON)\n")
} else {
  cat(sprintf("ratio wgflow / pytorch ms per outer iteration (best of each): %.3f\n",
              min(wg$ms) / min(configs$ms, na.rm = TRUE)))
}
