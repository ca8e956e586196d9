# What the image-scale experiment scripts share (ots-images.R, rwp-images.R,
# read by vignette("images")): Fashion-MNIST 28 x 28, the DCGAN nets at the
# width a 2-core machine affords, training under a wall-clock budget with
# evaluations at checkpoints, and generated images kept as bytes.
#
#   source(system.file("scripts", "image-runs.R", package = "wgflow"))
#
# defines `imx`, a list of these (and nothing else in the caller's scope).

imx <- local({
  csv_file <- if (file.exists("inst/scripts/shipped-csv.R")) "inst/scripts/shipped-csv.R" else
    system.file("scripts", "shipped-csv.R", package = "wgflow")
  source(csv_file, local = TRUE)

  # ---- data and nets ----------------------------------------------------
  # training images (the first n of the training split) and 1000 test
  # images: every fit evaluates its distances against these held-out ones
  data <- function(n_train, n_test = 1000L) {
    list(train = wgflow::wf_images("fashion-mnist", "train", n = n_train)$x,
         test = wgflow::wf_images("fashion-mnist", "test", n = n_test)$x)
  }
  # DCGAN nets at width 32 (the papers' 64 costs four times as much per
  # convolution; see the vignette): generator latent -> 7x7x64 -> 14x14x32
  # -> 28x28x1, critic 28x28x1 -> 14x14x32 -> 7x7x64 -> 1
  width <- 32L
  generator <- function(latent_dim) wgflow::wf_dcgan_generator(latent_dim, width = width)
  critic <- function() wgflow::wf_dcgan_critic(width = width)

  # ---- training under a budget -----------------------------------------------
  # Trains a fit made by start(epochs) in stretches until its training clock
  # (fit$metrics$seconds: wall time of the training steps, evaluations
  # left out) reaches `budget` seconds. A stretch is as many epochs as
  # take about budget / checks seconds, from the speed of the first
  # `calibrate` epochs; every stretch ends with an evaluation (the
  # families evaluate at the last epoch of every call), and `after(fit)` is
  # called after each, e.g. to keep images. Returns the fit.
  run_budget <- function(start, budget, checks = 12L, calibrate = 5L, after = NULL) {
    fit <- start(calibrate)
    if (!is.null(after)) after(fit)
    per_epoch <- max(fit$metrics$seconds) / nrow(fit$metrics)
    stretch <- max(1L, as.integer(round(budget / checks / per_epoch)))
    while (max(fit$metrics$seconds) < budget && identical(fit$status, "completed")) {
      fit <- wgflow::wf_continue(fit, epochs = stretch, verbose = FALSE)
      if (!is.null(after)) after(fit)
    }
    fit
  }
  # The same budget in one call of the family, evaluating every epoch, for
  # a fit whose state does not survive wf_continue() whole: OTS/FIT without
  # alternation keeps its OTS pairs in the trainer, so every continued run
  # would solve OTS again. start(callback) makes the fit with that callback,
  # which calls after(fit) at each epoch and stops the run once the
  # training clock reaches `budget` (status "stopped").
  run_budget_once <- function(start, budget, after = NULL) {
    start(function(row, fit) {
      if (!is.null(after)) after(fit)
      row$seconds < budget
    })
  }
  # The evaluated rows of a fit's metrics, as a data frame
  checkpoints <- function(fit) {
    m <- as.data.frame(fit$metrics)
    m[!is.na(m$fd_lenet), , drop = FALSE]
  }

  # ---- images as bytes ----------------------------------------------------
  # sixteen images of fixed latents (or rows of x), in [0, 255]
  to_bytes <- function(x) as.raw(round(pmin(pmax((x + 1) / 2, 0), 1) * 255))
  snapshot <- function(fit) to_bytes(wgflow::wf_sample(fit, 16, seed = 7))
  from_bytes <- function(b) matrix(as.integer(b) / 255 * 2 - 1, 16)

  # ---- the scripts' command lines and progress lines ----------------------
  # The command line of inst/scripts/<script>: arg(i, default), the
  # arguments, and the command that ran it (for the csv headers).
  command_line <- function(script) {
    args <- commandArgs(trailingOnly = TRUE)
    list(arg = function(i, default) if (length(args) >= i) args[[i]] else default,
         args = args,
         command = paste(c(paste0("Rscript inst/scripts/", script), args), collapse = " "))
  }
  # say(format, ...): a line, then the seconds since progress() and the load
  progress <- function() {
    t0 <- proc.time()[["elapsed"]]
    function(...) cat(sprintf(...), sprintf("[%.0f s, load %.1f]\n",
                                            proc.time()[["elapsed"]] - t0, load()))
  }

  # load average over the last minute (the machine is shared)
  load <- function() {
    if (file.exists("/proc/loadavg")) as.numeric(strsplit(readLines("/proc/loadavg"), " ")[[1]][1])
    else NA_real_
  }

  list(data = data, width = width, generator = generator, critic = critic,
       run_budget = run_budget, run_budget_once = run_budget_once, checkpoints = checkpoints, to_bytes = to_bytes,
       snapshot = snapshot, from_bytes = from_bytes, load = load,
       command_line = command_line, progress = progress,
       write_csv = shipped$write_csv, read_csv = shipped$read_csv)
})
