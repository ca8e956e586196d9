# Machine-independent figures for the CPU benchmarks (sourced by them):
# the CPU model, the code path wgflow's loops take, the fp32 FMA peak
# measured now (a register-resident FMA loop, 1 and 2 threads), and the
# FLOPs of a workload counted by the CPU backend's matrix products, so a
# benchmark can print the fraction of the peak it reached beside its ratio
# to PyTorch.

cpu_knob <- function(name, value = -1L) {
  .Call(wgflow:::ffi_device_knob, "cpu", name, as.integer(value))
}

cpu_machine <- function() {
  info <- tryCatch(readLines("/proc/cpuinfo"), error = function(e) character())
  model <- sub(".*:\\s*", "", grep("^model name", info, value = TRUE)[1])
  isa <- c("baseline x86-64", "AVX2 + FMA", "AVX-512")[cpu_knob("isa") + 1L]
  peak <- vapply(1:2, function(t) cpu_knob("peak_mflops", t) / 1e3, numeric(1))
  list(model = if (is.na(model)) "unknown" else model, isa = isa, peak = peak,
       load = tryCatch(readLines("/proc/loadavg"), error = function(e) "unknown"))
}

# GFLOP of the matrix products run by expr (the CPU backend's counter).
count_gflop <- function(expr) {
  cpu_knob("mflop", 0L)
  force(expr)
  cpu_knob("mflop") / 1e3
}

print_machine <- function(m) {
  cat(sprintf("CPU: %s; wgflow's loops: %s; fp32 FMA peak measured now: %.1f GFLOP/s (1 thread), %.1f (2 threads); load average %s\n",
              m$model, m$isa, m$peak[1], m$peak[2], m$load))
}

# "x ms = y GFLOP/s = z % of the peak at t threads"
peak_line <- function(ms, gflop, m, threads) {
  rate <- gflop / (ms / 1000)
  sprintf("%.1f GFLOP/s, %.0f%% of the %d-thread peak", rate,
          100 * rate / m$peak[threads], threads)
}

# The peer's Python: WGFLOW_BENCH_PYTHON, else the venv of `make bench-venv`
# (PyTorch, numpy and POT as a user installs them today, from PyPI), else
# the system's python3 (Debian's torch 1.13: generic BLAS, AVX2 kernels; no
# fair peer, so the scripts say so).
bench_python <- function() {
  python <- Sys.getenv("WGFLOW_BENCH_PYTHON", "")
  if (nzchar(python)) return(python)
  if (file.exists("build/bench-venv/bin/python")) return("build/bench-venv/bin/python")
  "/usr/bin/python3"
}

# One line on the peer: torch's version and its BLAS / oneDNN settings,
# POT's version, or why it could not be asked.
peer_line <- function(python = bench_python()) {
  probe <- paste(
    "import importlib",
    "out = []",
    "try:",
    "    import torch",
    "    keys = ('BLAS_INFO', 'USE_MKLDNN', 'USE_OPENMP')",
    "    tok = torch.__config__.show().replace('Build settings:', ',').replace('\\n', ',')",
    "    cfg = [kv.strip() for kv in tok.split(',') if kv.strip().split('=')[0] in keys]",
    "    out.append('torch ' + torch.__version__ + ' (' + ', '.join(cfg) + ')')",
    "except Exception as e:",
    "    out.append('no torch')",
    "try:",
    "    import ot",
    "    out.append('POT ' + ot.__version__)",
    "except Exception:",
    "    pass",
    "print('; '.join(out))", sep = "\n")
  out <- tryCatch(suppressWarnings(system2(python, c("-c", shQuote(probe)), stdout = TRUE,
                                           stderr = FALSE)),
                  error = function(e) "could not run")
  sprintf("peer: %s at %s%s", paste(out, collapse = " "), python,
          if (identical(python, "/usr/bin/python3")) " (the system's; run `make bench-venv` for PyPI's)" else "")
}

print_peer <- function(python = bench_python()) cat(peer_line(python), "\n", sep = "")
