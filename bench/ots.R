# Benchmark: the semi-discrete assignment of OTS (the backend op ot_assign),
# wgflow's CPU backend against PyTorch on this machine, and the fraction of
# the CPU's FMA peak it reaches.
#
# For a batch a [B x d] and data y [N x d] (uniform on [-1, 1], the scale of
# images) with a dual vector psi, idx_j = argmin_i c(a_j, y_i) - psi_i, at
# N = 60000, d = 784 (Fashion-MNIST), B in {64, 1024}, costs "sq" (|.|^2/2)
# and "l1". wgflow runs bench/ots.c (built here against src/, no R package
# needed); PyTorch runs bench/ots_torch.py: torch.cdist + argmin, and for
# "sq" also the matmul form (|y|^2/2 - psi) - a y^T, argmin. Each with 1 and
# 2 threads, in rounds alternating the two sides; each figure is the best
# over rounds of the best of `reps` calls, in wall time and in process CPU
# time. On a machine shared with other jobs the wall times of both sides
# suffer from whatever else runs; with one thread the CPU time is the time
# the call actually ran, so the one-thread CPU-time ratio is the steadier
# comparison there (both are printed). The FMA peak: bench/ots.c's
# micro-benchmark (independent FMA chains on the widest vectors), measured
# on one thread in every round (wall and CPU time); the fraction for t
# threads is GFLOP/s / (t x the one-thread peak), the product's 2 B N d
# flops counted.
# On a CPU with AVX512-BF16 wgflow's squared cost is screened with bf16
# products and its candidates rescored in fp32 (src/cpu/ot_assign_bf16.c;
# the same indices as the fp32 kernel), form "fused"; form "fp32" is the
# fp32 kernel alone (WGFLOW_BENCH_SCREEN=0), timed in the same rounds. The
# screen's fraction of the fp32 FMA peak may pass 100 %.
# PyTorch's L1 at B = 1024 takes about a minute a call: it runs once, in the
# first round.
#
#   Rscript bench/ots.R          (make bench-ots)
#   WGFLOW_BENCH_PYTHON selects the Python with torch (default: make bench-venv's);
#   WGFLOW_BENCH_ROUNDS (3), WGFLOW_BENCH_QUICK=1 (N = 6000: a smoke run).

source("bench/machine.R") # bench_python(), print_peer(): no wgflow needed
rounds <- as.integer(Sys.getenv("WGFLOW_BENCH_ROUNDS", "3"))
quick <- nzchar(Sys.getenv("WGFLOW_BENCH_QUICK"))
N <- if (quick) 6000L else 60000L
d <- 784L
python <- bench_python()
exe <- file.path("build", "bench", "ots")
dir.create(dirname(exe), recursive = TRUE, showWarnings = FALSE)
cpu <- list.files("src/cpu", pattern = "[.]c$", full.names = TRUE)
cc <- sprintf("gcc -std=gnu11 -O2 -fopenmp -Isrc/core -Isrc/cpu -o %s bench/ots.c %s src/core/status.c -lm",
              exe, paste(cpu, collapse = " "))
if (system(cc) != 0) stop("could not build bench/ots.c")

cat(sprintf("machine: %s; load before: %s\n",
            trimws(sub(".*: ", "", grep("model name", readLines("/proc/cpuinfo"), value = TRUE)[1])),
            trimws(system("uptime", intern = TRUE))))
print_peer(python)

run_lines <- function(cmd) tryCatch(suppressWarnings(system(cmd, intern = TRUE)),
                                    error = function(e) character())
field <- function(line, k) as.numeric(strsplit(line, " ")[[1]][k])

cases <- expand.grid(cost = c("sq", "l1"), B = c(64L, 1024L), stringsAsFactors = FALSE)
res <- list()
record <- function(side, form, cost, B, threads, ms, cpu_ms) {
  key <- paste(side, form, cost, B, threads)
  old <- res[[key]] %||% list(ms = Inf, cpu_ms = Inf)
  res[[key]] <<- list(side = side, form = form, cost = cost, B = B, threads = threads,
                      ms = min(old$ms, ms, na.rm = TRUE),
                      cpu_ms = min(old$cpu_ms, cpu_ms, na.rm = TRUE))
}
`%||%` <- function(a, b) if (is.null(a)) b else a
peak1 <- peak1_cpu <- 0
for (round in seq_len(rounds)) {
  pk <- run_lines(sprintf("%s peak 1", exe))
  if (length(pk) == 1) {
    peak1 <- max(peak1, field(pk, 3))
    peak1_cpu <- max(peak1_cpu, field(pk, 4))
  }
  for (i in seq_len(nrow(cases))) {
    cost <- cases$cost[i]
    B <- cases$B[i]
    for (t in 1:2) {
      reps <- if (B >= 1024) 2L else 5L
      out <- run_lines(sprintf("%s assign %s %d %d %d %d %d", exe, cost, B, N, d, t, reps))
      if (length(out) == 1) record("wgflow", "fused", cost, B, t, field(out, 7), field(out, 10))
      if (cost != "sq") next
      out <- run_lines(sprintf("WGFLOW_BENCH_SCREEN=0 %s assign %s %d %d %d %d %d", exe, cost,
                               B, N, d, t, reps))
      if (length(out) == 1) record("wgflow", "fp32", cost, B, t, field(out, 7), field(out, 10))
    }
    slow <- cost == "l1" && B >= 1024 && !quick
    if (slow && round > 1) next
    for (t in 1:2) {
      env <- sprintf("OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=%d", t, t)
      reps <- if (slow) 1L else if (B >= 1024) 2L else 3L
      out <- run_lines(sprintf("%s %s bench/ots_torch.py %s %d %d %d %d %d", env,
                               shQuote(python), cost, B, N, d, reps, t))
      for (line in grep("^torch ", out, value = TRUE)) {
        p <- strsplit(line, " ")[[1]]
        record("pytorch", p[2], cost, B, t, as.numeric(p[8]), as.numeric(p[10]))
      }
    }
  }
}
tab <- do.call(rbind, lapply(res, as.data.frame))
rownames(tab) <- NULL
tab <- tab[order(tab$cost, tab$B, tab$side, tab$form, tab$threads), ]
flops <- function(cost, B) (if (cost == "sq") 2 else 3) * B * as.double(N) * d
tab$gflops <- mapply(function(c, b, ms) flops(c, b) / (ms * 1e-3) * 1e-9, tab$cost, tab$B,
                     tab$ms)
tab$peak_fraction <- ifelse(tab$side == "wgflow" & tab$cost == "sq",
                            tab$gflops / (tab$threads * peak1), NA)
# one thread, by CPU time: the fraction of the one-thread peak (CPU time)
tab$peak_fraction_cpu <- ifelse(tab$side == "wgflow" & tab$cost == "sq" & tab$threads == 1,
                                mapply(function(c, b, ms) flops(c, b) / (ms * 1e-3) * 1e-9,
                                         tab$cost, tab$B, tab$cpu_ms) / peak1_cpu, NA)

cat(sprintf("\nsemi-discrete assignment, N = %d, d = %d (ms per call, best of %d rounds)\n",
            N, d, rounds))
cat(sprintf("FMA peak, one thread: %.1f GFLOP/s wall, %.1f by CPU time (fractions below are of threads x these)\n",
            peak1, peak1_cpu))
print(format(tab, digits = 4), row.names = FALSE)
cat("\nratio wgflow / pytorch (target <= 0.5)\n")
cat("  wall time, best thread count each side | one thread, CPU time:\n")
for (i in seq_len(nrow(cases))) {
  cost <- cases$cost[i]
  B <- cases$B[i]
  w <- tab[tab$side == "wgflow" & tab$form == "fused" & tab$cost == cost & tab$B == B, ]
  p <- tab[tab$side == "pytorch" & tab$cost == cost & tab$B == B, ]
  w1 <- w[w$threads == 1, ]
  parts <- vapply(unique(p$form), function(f) {
    p1 <- p[p$form == f & p$threads == 1, ]
    sprintf("%s %.3f | %.3f", f, min(w$ms) / min(p$ms[p$form == f]),
            min(w1$cpu_ms) / min(p1$cpu_ms))
  }, character(1))
  frac <- if (cost == "sq") {
    sprintf("; FMA peak: %.0f%% (wall, %d thread(s)), %.0f%% (one thread, CPU time)",
            100 * w$peak_fraction[which.min(w$ms)], w$threads[which.min(w$ms)],
            100 * w1$peak_fraction_cpu)
  } else ""
  cat(sprintf("  %-2s B = %4d: wgflow %.2f ms (one thread %.2f ms CPU); vs %s%s\n", cost,
              B, min(w$ms), min(w1$cpu_ms), paste(parts, collapse = "; vs "), frac))
  k <- tab[tab$side == "wgflow" & tab$form == "fp32" & tab$cost == cost & tab$B == B, ]
  if (nrow(k) > 0)
    cat(sprintf("        the fp32 kernel alone: %.2f ms (one thread %.2f ms CPU); fused / fp32 %.3f | %.3f\n",
                min(k$ms), min(k$cpu_ms[k$threads == 1]), min(w$ms) / min(k$ms),
                min(w1$cpu_ms) / min(k$cpu_ms[k$threads == 1])))
}
cat(sprintf("load after: %s\n", trimws(system("uptime", intern = TRUE))))
