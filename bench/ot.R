# Benchmark: exact W1 and W2 between two 2-D point clouds of n = 2000,
# wgflow's wf_wasserstein() against POT's ot.emd2 on the same points.
#
# x: wf_toy("8gaussians") (tight clusters on the circle of radius sqrt(2)),
# y: a standard normal sample, the pair a W1-FE evaluation compares. Both sides are timed from points to
# distance (POT: the cost matrix in numpy plus ot.emd2, also shown alone),
# best of 3, in one run; the two distances must agree to 1e-9 relative.
# Prints ms for each and the ratio wgflow / POT. Run from the repository
# root:
#
#   Rscript bench/ot.R [n]       (make bench-ot installs wgflow and POT first)
#   WGFLOW_BENCH_PYTHON=/path/to/python selects the Python with POT.

suppressPackageStartupMessages(library(wgflow))

args <- commandArgs(trailingOnly = TRUE)
n <- if (length(args) >= 1) as.integer(args[1]) else 2000L
reps <- 3L
set.seed(1)
x <- wf_toy("8gaussians", n = n, seed = 1)
y <- matrix(rnorm(2 * n), n, 2)

time_wgflow <- function(p) {
  best <- Inf
  for (r in seq_len(reps)) {
    t0 <- proc.time()[["elapsed"]]
    d <- wf_wasserstein(x, y, p = p)
    best <- min(best, proc.time()[["elapsed"]] - t0)
  }
  c(distance = d, ms = best * 1000)
}
wg <- rbind(time_wgflow(1), time_wgflow(2))

# the same points for POT, at full precision
fx <- tempfile(fileext = ".csv")
fy <- tempfile(fileext = ".csv")
on.exit(unlink(c(fx, fy)))
write_points <- function(m, f) {
  writeLines(sprintf("%.17g,%.17g", m[, 1], m[, 2]), f)
}
write_points(x, fx)
write_points(y, fy)
default_python <- if (file.exists("build/pot-venv/bin/python")) {
  "build/pot-venv/bin/python"
} else {
  "/usr/bin/python3"
}
python <- Sys.getenv("WGFLOW_BENCH_PYTHON", default_python)
out <- tryCatch(suppressWarnings(system2(python, c("bench/ot_pot.py", fx, fy, reps),
                                         stdout = TRUE, stderr = TRUE)),
                error = function(e) character())
pot <- matrix(NA_real_, 2, 3, dimnames = list(NULL, c("distance", "ms", "emd_ms")))
for (p in 1:2) {
  line <- grep(sprintf("^pot p=%d ", p), out, value = TRUE)
  if (length(line) == 1) {
    for (f in colnames(pot)) {
      pot[p, f] <- as.numeric(sub(sprintf(".* %s=([^ ]+).*", f), "\\1", line))
    }
  }
}

cat(sprintf("Exact W_p, n = %d vs %d in 2-D (8 Gaussians vs N(0, I)), best of %d (ms)\n",
            n, n, reps))
for (p in 1:2) {
  cat(sprintf("  W%d  wgflow %9.1f   POT %9.1f (ot.emd2 alone %9.1f)   ratio %.3f\n",
              p, wg[p, "ms"], pot[p, "ms"], pot[p, "emd_ms"], wg[p, "ms"] / pot[p, "ms"]))
  cat(sprintf("      W%d = %.15g (wgflow), %.15g (POT), relative difference %.2e\n",
              p, wg[p, "distance"], pot[p, "distance"],
              abs(wg[p, "distance"] - pot[p, "distance"]) / pot[p, "distance"]))
}
if (anyNA(pot)) {
  cat("POT did not run (is POT installed for ", python, "?)\n", sep = "")
  if (length(out)) cat(out, sep = "\n")
} else {
  agree <- abs(wg[, "distance"] - pot[, "distance"]) <= 1e-9 * pot[, "distance"]
  cat(sprintf("distances agree to 1e-9: %s\n", if (all(agree)) "yes" else "NO"))
  cat(sprintf("ratio wgflow / POT: W1 %.3f, W2 %.3f\n", wg[1, "ms"] / pot[1, "ms"],
              wg[2, "ms"] / pot[2, "ms"]))
}
