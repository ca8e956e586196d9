# Benchmark: ms per iteration (5 critic steps + 1 generator step) of W2GAN
# with its 2-D defaults, wgflow against a PyTorch implementation of the same
# algorithm (bench/w2gan_torch.py), in alternating rounds, and the map error
# both reach (mean |G(x) - T_disc(x)| on 512 held-out source points, the
# Discrete-OT map to 512 held-out target points).
#
# Workload (Leygonie et al., 2-D, public code): 4gaussians pair, potentials
# 3 x 128 ReLU with g = -f + e, generator z + H(z) (3 x 128, BatchNorm),
# batch 512, 5 critic steps, inequality penalties on pairs and interpolates
# and the equality penalty on both sides at 200, Adam 5e-4 / 1e-4.
# wgflow with 1 and 2 threads, PyTorch with torch threads in {1, 2} x
# OpenBLAS threads in {1, 2}; the best of each is reported. PyTorch runs in
# two structures of the same critic loss: "public" as the W2GAN public code
# (the potentials at the pairs evaluated again, with their gradients, for
# the equality penalties) and "shared" (once, as wgflow); a ratio for each.
#
#   Rscript bench/w2gan.R [iterations] [rounds]      (from the repository root)

suppressPackageStartupMessages(library(wgflow))
source("bench/machine.R")
machine <- cpu_machine()
args <- commandArgs(trailingOnly = TRUE)
iters <- if (length(args) >= 1) as.integer(args[1]) else 60L
rounds <- if (length(args) >= 2) as.integer(args[2]) else 2L
p <- wf_toy_pair("4gaussians", n = 20000, seed = 1)
held <- wf_toy_pair("4gaussians", n = 512, seed = 2)
t_disc <- wf_discrete_map(held$source, held$target)
map_error <- function(y) mean(sqrt(rowSums((y - t_disc)^2)))

run_wgflow <- function(threads) {
  old <- wf_threads(threads)
  on.exit(wf_threads(old))
  fit <- NULL
  # two evaluation rows keep the exact distances out of the timing; the
  # warning that they mean little is expected here
  gflop <- count_gflop(withCallingHandlers(
    fit <- w2gan(p$target, source = p$source, epochs = iters, eval_every = iters,
                 eval_n = 2L, holdout = 2L, seed = 1, device = "cpu", verbose = FALSE),
    wgflow_warning_small_data = function(w) invokeRestart("muffleWarning")))
  ms <- diff(fit$metrics$seconds[c(3, iters)]) / (iters - 3) * 1000
  list(ms = ms, gflop = gflop / iters,
       err = map_error(predict(fit, newdata = held$source)))
}

python <- bench_python()
csv <- function(x) {
  path <- tempfile(fileext = ".csv")
  utils::write.table(x, path, sep = ",", row.names = FALSE, col.names = FALSE)
  path
}
tgt_csv <- csv(p$target)
src_csv <- csv(p$source)
held_csv <- csv(held$source)
run_torch <- function(torch_threads, openblas, mode) {
  out_csv <- tempfile(fileext = ".csv")
  env <- sprintf("OPENBLAS_NUM_THREADS=%d OMP_NUM_THREADS=%d", openblas, torch_threads)
  out <- tryCatch(suppressWarnings(system(paste(
    env, shQuote(python), "bench/w2gan_torch.py", tgt_csv, src_csv, held_csv, out_csv,
    iters, torch_threads, mode), intern = TRUE)), error = function(e) character())
  line <- grep("^torch_ms_per_iter", out, value = TRUE)
  if (length(line) != 1 || !file.exists(out_csv)) return(list(ms = NA_real_, err = NA_real_))
  list(ms = as.numeric(sub(".* ", "", line)),
       err = map_error(as.matrix(utils::read.csv(out_csv, header = FALSE))))
}

configs <- rbind(data.frame(peer = "wgflow", threads = 1:2, openblas = NA, mode = ""),
                 expand.grid(peer = "pytorch", threads = 1:2, openblas = 1:2,
                             mode = c("public", "shared"), stringsAsFactors = FALSE))
ms <- matrix(NA_real_, nrow(configs), rounds)
err <- matrix(NA_real_, nrow(configs), rounds)
gflop <- NA_real_
load_before <- readLines("/proc/loadavg")
for (r in seq_len(rounds)) {
  # alternate the order of the peers from round to round
  order <- if (r %% 2 == 1) seq_len(nrow(configs)) else rev(seq_len(nrow(configs)))
  for (i in order) {
    res <- if (configs$peer[i] == "wgflow") run_wgflow(configs$threads[i]) else
      run_torch(configs$threads[i], configs$openblas[i], configs$mode[i])
    ms[i, r] <- res$ms
    if (!is.null(res$gflop)) gflop <- res$gflop
    err[i, r] <- res$err
  }
}
load_after <- readLines("/proc/loadavg")

cat(sprintf("W2GAN 2-D defaults (4gaussians, 3x128, batch 512, 5 critic steps, eq + ineq at 200): %d iterations x %d rounds\n",
            iters, rounds))
cat(sprintf("load average before: %s\n             after:  %s\n", load_before, load_after))
print_machine(machine)
print_peer(python)
for (i in seq_len(nrow(configs))) {
  cat(sprintf("  %-8s %-6s threads %d%s: %8.2f ms/iter (best of %d; rounds: %s), map error %.3f\n",
              configs$peer[i], configs$mode[i], configs$threads[i],
              if (is.na(configs$openblas[i])) "            " else
                sprintf(", openblas %d", configs$openblas[i]),
              min(ms[i, ]), rounds, paste(sprintf("%.1f", ms[i, ]), collapse = " "),
              err[i, which.min(ms[i, ])]))
}
best_wg <- min(ms[configs$peer == "wgflow", ], na.rm = TRUE)
for (t in 1:2) {
  cat(sprintf("  wgflow threads %d: %.3f GFLOP/iteration, %s\n", t, gflop,
              peak_line(min(ms[configs$peer == "wgflow" & configs$threads == t, ]), gflop,
                        machine, t)))
}
for (mode in c("public", "shared")) {
  torch_ms <- ms[configs$peer == "pytorch" & configs$mode == mode, ]
  if (all(is.na(torch_ms))) {
    cat("PyTorch peer did not run (make bench-venv, or set WGFLOW_BENCH_PYTHON)\n")
  } else {
    cat(sprintf("ratio wgflow / pytorch (%s) ms per iteration (best of each): %.3f\n",
                mode, best_wg / min(torch_ms, na.rm = TRUE)))
  }
}
