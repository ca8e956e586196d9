# Benchmark: exact W1 and W2 between two point clouds of n points in d
# dimensions, wgflow's wf_wasserstein() against POT's ot.emd2 on the same
# points, with the time and the peak memory of each.
#
# 2-D: x is wf_toy("8gaussians") (tight clusters on the circle of radius
# sqrt(2)), y a standard normal sample, the pair a W1-FE evaluation
# compares; d > 2: x and y are standard normal, y shifted by 0.5 in every
# coordinate. Both sides are timed from points to distance (POT: the cost
# matrix in numpy plus ot.emd2), best of `reps`; each (n, d, p) runs in a
# fresh process of its own, so its peak resident memory (VmHWM, minus that
# of the same process before the solve) is the solver's. POT gets a time
# limit (its dense n x n costs take 8 n^2 bytes: 3.2 GB at n = 20000). The
# two distances must agree to 1e-9 relative.
#
#   Rscript bench/ot.R [sizes] [dims] [reps]      (from the repository root)
#   e.g. Rscript bench/ot.R 2000,10000,20000 2,784 1
#   make bench-ot installs wgflow and POT (into build/pot-venv) first;
#   WGFLOW_BENCH_PYTHON selects the Python with POT, WGFLOW_BENCH_POT_LIMIT
#   POT's time limit in seconds (default 900).

suppressPackageStartupMessages(library(wgflow))

points <- function(n, d) {
  set.seed(1)
  if (d == 2) {
    list(x = wf_toy("8gaussians", n = n, seed = 1), y = matrix(rnorm(2 * n), n, 2))
  } else {
    list(x = matrix(rnorm(n * d), n, d), y = matrix(rnorm(n * d) + 0.5, n, d))
  }
}

peak_mb <- function() {
  s <- grep("^VmHWM", readLines("/proc/self/status"), value = TRUE)
  as.numeric(gsub("[^0-9]", "", s)) / 1024
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) >= 1 && args[1] == "--worker") {
  # one measurement: n d p reps [points file for POT]
  n <- as.integer(args[2]); d <- as.integer(args[3]); p <- as.numeric(args[4])
  reps <- as.integer(args[5])
  pts <- points(n, d)
  if (length(args) >= 6) {
    writeLines(apply(pts$x, 1, function(r) paste(sprintf("%.17g", r), collapse = ",")),
               paste0(args[6], "x.csv"))
    writeLines(apply(pts$y, 1, function(r) paste(sprintf("%.17g", r), collapse = ",")),
               paste0(args[6], "y.csv"))
  }
  base <- peak_mb()
  best <- Inf
  for (r in seq_len(reps)) {
    t0 <- proc.time()[["elapsed"]]
    dist <- wf_wasserstein(pts$x, pts$y, p = p)
    best <- min(best, proc.time()[["elapsed"]] - t0)
  }
  cat(sprintf("wgflow ms=%.3f distance=%.17g peak_mb=%.1f\n", best * 1000, dist,
              peak_mb() - base))
  quit(save = "no")
}

sizes <- if (length(args) >= 1) as.integer(strsplit(args[1], ",")[[1]]) else 2000L
dims <- if (length(args) >= 2) as.integer(strsplit(args[2], ",")[[1]]) else 2L
reps <- if (length(args) >= 3) as.integer(args[3]) else 3L
default_python <- if (file.exists("build/bench-venv/bin/python")) {
  "build/bench-venv/bin/python"
} else if (file.exists("build/pot-venv/bin/python")) {
  "build/pot-venv/bin/python"
} else {
  "/usr/bin/python3"
}
python <- Sys.getenv("WGFLOW_BENCH_PYTHON", default_python)
pot_limit <- as.numeric(Sys.getenv("WGFLOW_BENCH_POT_LIMIT", "900"))
rscript <- file.path(R.home("bin"), "Rscript")

field <- function(line, name) {
  if (length(line) != 1) return(NA_real_)
  as.numeric(sub(sprintf(".*%s=([^ ]+).*", name), "\\1", line))
}

rows <- list()
for (d in dims) for (n in sizes) for (p in 1:2) {
  stem <- tempfile()
  wl <- system2(rscript, c("bench/ot.R", "--worker", n, d, p, reps, stem), stdout = TRUE,
                stderr = TRUE)
  wl <- grep("^wgflow ", wl, value = TRUE)
  pl <- tryCatch(suppressWarnings(system2(
    "timeout", c(pot_limit, python, "bench/ot_pot.py", paste0(stem, "x.csv"),
                 paste0(stem, "y.csv"), reps, p), stdout = TRUE, stderr = TRUE)),
    error = function(e) character())
  pl <- grep(sprintf("^pot p=%d ", p), pl, value = TRUE)
  unlink(paste0(stem, c("x.csv", "y.csv")))
  rows[[length(rows) + 1L]] <- data.frame(
    n = n, d = d, p = p, wgflow_ms = field(wl, "ms"), wgflow_mb = field(wl, "peak_mb"),
    pot_ms = field(pl, "ms"), pot_mb = field(pl, "peak_mb"),
    wgflow_w = field(wl, "distance"), pot_w = field(pl, "distance"))
}
res <- do.call(rbind, rows)

cat(sprintf("Exact W_p between n and n points (8 Gaussians vs N(0, I) in 2-D; N(0, I) vs N(0.5, I) above), best of %d; load average %s\n",
            reps, readLines("/proc/loadavg")))
cat(sprintf("%7s %4s %2s  %12s %10s  %12s %10s  %7s  %s\n", "n", "d", "p", "wgflow ms",
            "wgflow MB", "POT ms", "POT MB", "ratio", "agree"))
for (i in seq_len(nrow(res))) {
  r <- res[i, ]
  agree <- if (is.na(r$pot_w)) "POT did not finish" else
    if (abs(r$wgflow_w - r$pot_w) <= 1e-9 * r$pot_w) "yes" else "NO"
  cat(sprintf("%7d %4d %2d  %12.1f %10.1f  %12.1f %10.1f  %7.3f  %s\n", r$n, r$d, r$p,
              r$wgflow_ms, r$wgflow_mb, r$pot_ms, r$pot_mb, r$wgflow_ms / r$pot_ms, agree))
}
