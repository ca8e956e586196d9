# The methods read a fit through its algorithm's descriptor (R/algorithm.R):
# a made-up algorithm, registered for the length of a test, prints,
# summarises, tidies, glances and plots with its own label, metrics, metric
# titles and settings, and no training runs.

toy_algorithm <- function() {
  wgflow:::new_algorithm(
    name = "toyalgo", aliases = "toyalias",
    nets = character(),
    data = function(fit) list(),
    train_metrics = c("toy_loss", "toy_gap"),
    eval_metrics = c("energy", "spread"),
    metric_titles = c(toy_loss = "made-up toy loss", energy = "made-up energy"),
    setting_keys = c("alpha", "beta"),
    label = function(fit) sprintf("Toy algorithm (alpha = %s)", fit$settings$alpha),
    epoch = function(fit, trainer) stop("the toy algorithm does not train")
  )
}

# Registers the toy algorithm while `code` runs, then removes it.
with_toy_algorithm <- function(code) {
  algos <- wgflow:::wf_algorithms
  wgflow:::register_algorithm(toy_algorithm())
  on.exit(rm(list = intersect(c("toyalgo", "toyalias"), ls(algos)), envir = algos))
  code
}

# A fit as a toy trainer would leave it: no nets, no training, made-up
# metric columns (the exact-distance ones every other epoch).
toy_fit <- function(alpha = 2, algorithm = "toyalgo", energy = c(NA, 2, NA, 1.5)) {
  structure(list(
    family = "toyalgo", algorithm = algorithm, call = NULL,
    settings = list(alpha = alpha, beta = "b", gamma = list(1, 2), eval_n = 5L,
                    seed = 7L, device = "cpu"),
    data = matrix(0, 20, 2), holdout = matrix(0, 5, 2), colnames = NULL,
    metrics = tibble::tibble(epoch = 1:4, seconds = c(0.5, 1, 1.5, 2),
                             toy_loss = c(4, 3, 2, 1), toy_gap = c(0.1, NA, 0.3, NA),
                             energy = energy, spread = c(NA, 7, NA, 8)),
    status = "stopped", message = "stopped by a callback after epoch 4"
  ), class = c("wf_toyalgo", "wf_fit"))
}

test_that("a registered descriptor is found by family and by alias", {
  with_toy_algorithm({
    fit <- toy_fit()
    expect_identical(wgflow:::fit_algorithm(fit)$name, "toyalgo")
    expect_identical(wgflow:::fit_algorithm(list(algorithm = "toyalias"))$name, "toyalgo")
    expect_identical(wgflow:::fit_eval_metrics(fit), c("energy", "spread"))
    expect_true(all(c("toy_loss", "toy_gap", "energy", "spread") %in%
                      wgflow:::known_metrics()))
    expect_identical(wgflow:::metric_title("toy_loss"), "made-up toy loss")
    expect_identical(wgflow:::metric_title("toy_gap"), "toy_gap")
  })
})

test_that("print shows the toy's label and its own exact distances", {
  with_toy_algorithm({
    fit <- toy_fit()
    out <- capture.output(res <- print(fit))
    expect_identical(res, fit)
    txt <- paste(out, collapse = "\n")
    expect_match(out[1], "<wgflow fit> Toy algorithm (alpha = 2)", fixed = TRUE)
    expect_match(txt, "4 done, stopped", fixed = TRUE)
    expect_match(txt, "stopped by a callback after epoch 4", fixed = TRUE)
    expect_match(txt, paste("energy:    1.5 at epoch 4 (exact, held out); lowest 1.5",
                            "at epoch 4 (of 2 noisy evaluations)"), fixed = TRUE)
    expect_match(txt, "spread:    8 at epoch 4 (exact, held out)", fixed = TRUE)
    expect_no_match(txt, "W1|W2|critic|generator")
    expect_match(txt, "2 s of training (0.5 s per epoch) on cpu", fixed = TRUE)
  })
})

test_that("summary collects the toy's metrics, best distances and label", {
  with_toy_algorithm({
    s <- summary(toy_fit(energy = c(NA, 1, NA, 1.5)))
    expect_s3_class(s, "summary.wf_fit")
    expect_identical(s$label, "Toy algorithm (alpha = 2)")
    expect_identical(s$algorithm, "toyalgo")
    expect_identical(s$epochs, 4L)
    expect_identical(s$final$metric, c("toy_loss", "toy_gap", "energy", "spread"))
    expect_equal(s$final$epoch, c(4, 3, 4, 4))
    expect_equal(s$final$value, c(1, 0.3, 1.5, 8))
    expect_identical(s$best$metric, c("energy", "spread"))
    expect_equal(s$best$epoch, c(2, 2))
    expect_equal(s$best$value, c(1, 7))
    expect_true(all(c("alpha", "beta", "gamma") %in% s$settings$setting))
    out <- capture.output(print(s))
    expect_match(out[1], "Toy algorithm (alpha = 2): stopped after 4 epochs", fixed = TRUE)
    expect_true(any(grepl("energy", out)))
  })
})

test_that("tidy and glance use the toy's metric columns and setting keys", {
  with_toy_algorithm({
    fit <- toy_fit()
    td <- tidy(fit)
    expect_named(td, c("epoch", "seconds", "metric", "value", "std.error"))
    expect_true(all(is.na(td$std.error))) # the toy records no standard errors
    expect_identical(nrow(td), 4L + 2L + 2L + 2L)
    expect_setequal(td$metric, c("toy_loss", "toy_gap", "energy", "spread"))
    expect_equal(td$value[td$metric == "energy"], c(2, 1.5))
    gl <- glance(fit)
    expect_identical(nrow(gl), 1L)
    expect_named(gl, c("algorithm", "label", "alpha", "beta", "epochs", "seconds",
                       "energy", "best_energy", "best_epoch", "spread", "status",
                       "device", "seed"))
    expect_identical(gl$label, "Toy algorithm (alpha = 2)")
    expect_equal(gl$alpha, 2)
    expect_identical(gl$beta, "b")
    expect_equal(gl$energy, 1.5)
    expect_equal(gl$best_energy, 1.5)
    expect_identical(gl$best_epoch, 4L)
    expect_equal(gl$spread, 8)
    expect_identical(gl$status, "stopped")
    expect_equal(gl$seed, 7)
  })
})

test_that("plot draws the toy's main distance with its title", {
  with_toy_algorithm({
    grDevices::pdf(NULL)
    on.exit(grDevices::dev.off(), add = TRUE)
    fit <- toy_fit()
    expect_silent(plot(fit, "metrics"))
    expect_silent(plot(fit, "metrics", metric = "toy_gap"))
    expect_error(plot(fit, "metrics", metric = "w1"), class = "wgflow_error_arg")
  })
})

test_that("autoplot uses the toy's label, metric titles and setting keys", {
  skip_if_not_installed("ggplot2")
  with_toy_algorithm({
    fit <- toy_fit()
    p <- ggplot2::autoplot(fit)
    expect_s3_class(p, "ggplot")
    expect_identical(p$labels$y, "made-up energy")
    expect_identical(p$labels$title, "Toy algorithm (alpha = 2)")
    expect_equal(sort(unique(p$data$y)), c(1.5, 2))
    expect_no_error(ggplot2::ggplot_build(p))
    p2 <- ggplot2::autoplot(fit, metric = "toy_loss", x = "epoch")
    expect_identical(p2$labels$y, "made-up toy loss")
    expect_identical(p2$labels$x, "epoch")
    # two fits that differ in a setting key: their runs carry the keys and
    # are coloured by the first setting that varies, the label
    fit3 <- toy_fit(alpha = 3)
    runs <- wgflow:::fits_as_runs(wgflow:::collect_fits(fit, fit3))
    expect_identical(runs$settings, c("label", "algorithm", "alpha", "beta", "seed"))
    expect_equal(runs$data$alpha, rep(c(2, 3), each = 4))
    p3 <- ggplot2::autoplot(fit, fit3)
    expect_identical(p3$labels$colour, "label")
    expect_setequal(levels(p3$data$colour),
                    c("Toy algorithm (alpha = 2)", "Toy algorithm (alpha = 3)"))
    expect_no_error(ggplot2::ggplot_build(p3))
    expect_identical(ggplot2::autoplot(fit, fit3, color = "alpha")$labels$colour, "alpha")
  })
})

test_that("the toy algorithm is unregistered after its tests", {
  expect_false(any(c("toyalgo", "toyalias") %in% ls(wgflow:::wf_algorithms)))
  expect_null(wgflow:::fit_algorithm(list(family = "toyalgo")))
  expect_true("w1fe" %in% ls(wgflow:::wf_algorithms))
})

test_that("a family's training metrics are its C phases' output names, in order", {
  w1fe <- wgflow:::fit_algorithm(list(family = "w1fe"))
  expect_identical(wgflow:::train_metrics(w1fe),
                   c("critic_loss", "w1_critic", "penalty", "grad_norm",
                     "euler_grad_norm", "fit_mse_first", "fit_mse_last"))
  ots <- wgflow:::fit_algorithm(list(family = "ots"))
  # the dual's optimiser step is state kept in the fit, not a metric
  expect_identical(wgflow:::train_metrics(ots),
                   c("dual", "primal", "hist_min", "hist_max", "ots_steps",
                     "ots_converged", "fit_loss_first", "fit_loss_last", "fit_steps"))
  w2gan <- wgflow:::fit_algorithm(list(family = "w2gan"))
  expect_identical(utils::tail(wgflow:::train_metrics(w2gan), 1), "gen_loss")
  expect_error(.Call(wgflow:::ffi_algo_outputs, "w1fe", "nosuchphase"),
               class = "wgflow_error_arg")
})

test_that("every registered family's phases exist in C", {
  for (nm in ls(wgflow:::wf_algorithms)) {
    algo <- get(nm, envir = wgflow:::wf_algorithms)
    m <- wgflow:::train_metrics(algo)
    expect_true(is.character(m) && length(m) > 0 && !anyDuplicated(m), info = nm)
  }
})
