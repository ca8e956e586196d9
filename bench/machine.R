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
