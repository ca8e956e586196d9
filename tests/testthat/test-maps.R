# The map layer of R/maps.R that W2GAN's options stand on: balanced
# held-out rows (split_balanced(), split_pair() with labels), the rows
# sorted into strata for balanced batches, the potentials of a W2 fit
# with either side reparameterised and their plot (layout, arrows, colour
# keys), and the type of the maps. (Maps, Discrete-OT and 1-NN accuracy are
# tested in test-w2gan.R.)

split_balanced <- wgflow:::split_balanced
split_pair <- wgflow:::split_pair
strata_of <- wgflow:::strata_of

test_that("balanced held-out rows: equal counts, round robin, seeded, disjoint", {
  q <- wf_toy_pair("checkerboard", n = 2003, seed = 4, labels = TRUE)
  s <- split_balanced(q$target, q$target_labels, NULL, 512L, 7L, "data_labels")
  expect_identical(nrow(s$held), 400L) # eval_n, at most a fifth of the rows
  # 80 of each of the 5 squares, round robin: row i has label (i - 1) %% 5 + 1
  expect_identical(s$held_labels, rep_len(1:5, 400))
  expect_identical(s$held_labels, q$target_labels[s$rows])
  expect_identical(s$labels, q$target_labels[-s$rows])
  expect_identical(s$held, q$target[s$rows, ])
  expect_identical(s$train, q$target[-s$rows, ])
  expect_false(any(duplicated(s$rows)))
  # a count that is not a multiple of k: one more for the first components,
  # and every prefix balanced to within one
  s2 <- split_balanced(q$target, q$target_labels, 103L, 103L, 7L, "data_labels")
  expect_identical(as.vector(table(s2$held_labels)), c(21L, 21L, 21L, 20L, 20L))
  for (m in c(7L, 50L, 103L)) expect_lte(diff(range(table(s2$held_labels[1:m]))), 1L)
  # the seed decides the rows; the same seed the same rows
  expect_identical(split_balanced(q$target, q$target_labels, 103L, 103L, 7L, "x")$rows,
                   s2$rows)
  expect_false(identical(split_balanced(q$target, q$target_labels, 103L, 103L, 8L, "x")$rows,
                         s2$rows))
  # labels of any type: a factor's levels give the order
  f <- factor(letters[q$target_labels], levels = c("e", "d", "c", "b", "a"))
  s3 <- split_balanced(q$target, f, 10L, 10L, 1L, "data_labels")
  expect_identical(as.character(s3$held_labels), rep(c("e", "d", "c", "b", "a"), 2))
  # without labels: split_holdout() exactly
  expect_identical(split_balanced(q$target, NULL, 50L, 50L, 3L, "data_labels"),
                   wgflow:::split_holdout(q$target, 50L, 50L, 3L))
  # an explicit held-out matrix is used as given; all rows train
  s4 <- split_balanced(q$target, q$target_labels, q$source[1:30, ], 30L, 1L, "data_labels")
  expect_equal(s4$held, q$source[1:30, ], ignore_attr = TRUE)
  expect_identical(s4$labels, q$target_labels)
  # a component too small to keep a training row is named by its argument
  lab <- c(rep(1L, 40), 2L, 2L)
  x <- matrix(rnorm(84), 42)
  expect_arg_error(split_balanced(x, lab, 4L, 4L, 1L, "source_labels"), "source_labels")
})

test_that("split_pair balances either side that has labels", {
  q <- wf_toy_pair("4gaussians", n = 1000, seed = 2, labels = TRUE)
  s <- split_pair(q$target, q$source, 200L, 200L, 5L, data_labels = q$target_labels,
                  source_labels = q$source_labels)
  expect_identical(s$held_labels, rep_len(1:4, 200))
  expect_identical(s$source_held_labels, rep_len(1:4, 200))
  expect_identical(nrow(s$source), 800L)
  # one side only: the other as before (random rows, the same ones)
  s1 <- split_pair(q$target, q$source, 200L, 200L, 5L, data_labels = q$target_labels)
  s0 <- split_pair(q$target, q$source, 200L, 200L, 5L)
  expect_identical(s1$source_held, s0$source_held)
  expect_null(s1$source_held_labels)
  expect_false(identical(s1$held, s0$held))
  expect_arg_error(split_pair(q$target, q$source, 200L, 200L, 5L,
                              source_labels = c(1, 2)), "source_labels")
})

test_that("strata_of sorts rows by component and counts them", {
  x <- cbind(1:7, 0)
  st <- strata_of(x, c(2, 1, 2, 3, 1, 2, 3))
  expect_identical(st$sizes, c(2L, 3L, 2L))
  expect_identical(st$x[, 1], c(2, 5, 1, 3, 6, 4, 7)) # stable within a stratum
})

test_that("a W2 fit's potentials and map with either side reparameterised", {
  p <- wf_toy_pair("4gaussians", n = 600, seed = 1)
  x <- p$source[1:6, ]
  for (side in c("data", "generated")) {
    fit <- w2gan(p$target, source = p$source, epochs = 3, batch_size = 64,
                 critic = wf_mlp(c(8, 8), activation = "tanh", init = "normal",
                                 init_sd = 0.5),
                 generator = wf_mlp(8, norm = "batch", residual = TRUE, init = "normal",
                                    gamma_init = "normal"),
                 reparam_side = side, eval_n = 50, seed = 2, verbose = FALSE)
    expect_identical(wgflow:::w2_reparam(fit), side)
    fo <- wf_forward(fit$f, x)[, 1]
    go <- wf_forward(fit$g, x)[, 1]
    pot <- wgflow:::w2_potential_values(fit, x)
    if (side == "data") {
      expect_equal(pot$f, fo)
      expect_equal(pot$g, go - fo)
    } else {
      expect_equal(pot$f, fo - go)
      expect_equal(pot$g, go)
    }
    # x - grad f(x) by central differences of f
    f <- function(y) wgflow:::w2_potential_values(fit, y)$f
    h <- 1e-2 # float32 nets: a step well above their rounding (tanh: smooth)
    num <- sapply(1:2, function(j) {
      e <- matrix(0, nrow(x), 2)
      e[, j] <- h
      (f(x + e) - f(x - e)) / (2 * h)
    })
    expect_equal(x - wf_transport_map(fit, x, via = "potential"), num, tolerance = 1e-3,
                 ignore_attr = TRUE)
  }
  # no reparameterisation: f and g as they are, whatever the side
  fit <- w2gan(p$target, source = p$source, epochs = 1, batch_size = 64,
               critic = wf_mlp(4, init = "normal", init_sd = 0.5),
               generator = wf_mlp(4, norm = "batch", residual = TRUE),
               reparam = FALSE, reparam_side = "generated", eval_n = 50, seed = 2,
               verbose = FALSE)
  expect_identical(wgflow:::w2_reparam(fit), "none")
  expect_equal(wgflow:::w2_potential_values(fit, x)$g, wf_forward(fit$g, x)[, 1])
  # a fit saved before `reparam_side` existed reparameterised the data side
  old <- fit
  old$settings$reparam <- TRUE
  old$settings$reparam_side <- NULL
  expect_identical(wgflow:::w2_reparam(old), "data")
})

test_that("wf_knn_accuracy warns when the two label sets have nothing in common", {
  set.seed(1)
  s <- matrix(rnorm(40), 20)
  t <- matrix(rnorm(40), 20)
  w <- expect_warning(acc <- wf_knn_accuracy(s, rep(c("a", "b"), 10), t, rep(1:2, 10)),
                      class = "wgflow_warning_labels")
  expect_identical(acc, 0)
  expect_match(conditionMessage(w), "no label in common")
  # labels that overlap, even partly, are compared without a warning
  expect_no_warning(wf_knn_accuracy(s, rep(c("a", "b"), 10), t, rep(c("b", "c"), 10)))
  expect_no_warning(wf_knn_accuracy(s, rep(1:2, 10), t, factor(rep(1:2, 10))))
})

test_that("a map fit samples the generator's image of resampled source rows", {
  p <- wf_toy_pair("4gaussians", 600, seed = 1)
  fit <- w2gan(p$target, source = p$source, epochs = 2, critic = wf_mlp(c(8, 8)),
               batch_size = 64, critic_steps = 1, eval_n = 50, seed = 1, device = "cpu",
               verbose = FALSE)
  s <- wf_sample(fit, 20, seed = 3)
  expect_identical(s, wf_sample(fit, 20, seed = 3))
  # each sample is G(x) for a training source row x
  images <- predict(fit, newdata = fit$source)
  hit <- apply(s, 1, function(r) any(colSums(abs(t(images) - r)) < 1e-9))
  expect_true(all(hit))
  # and plot(fit, "samples") draws source rows, not latents
  pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_identical(plot(fit, "samples"), fit)
})

test_that("plot(fit, 'map') draws every fit type, data frames included", {
  pdf(NULL)
  on.exit(grDevices::dev.off())
  x <- wf_toy("8gaussians", 400, seed = 1)
  w <- w1fe(x, epochs = 1, critic = wf_mlp(4), generator = wf_mlp(4), batch_size = 64,
            critic_steps = 1, eval_n = 50, seed = 1, device = "cpu", verbose = FALSE)
  expect_identical(plot(w, "map"), w)
  p <- wf_toy_pair("4gaussians", 600, seed = 1)
  src <- as.data.frame(p$source)
  tgt <- as.data.frame(p$target)
  m <- w2gan(tgt, source = src, epochs = 1, critic = wf_mlp(c(8, 8)), batch_size = 64,
             critic_steps = 1, eval_n = 50, seed = 1, device = "cpu", verbose = FALSE)
  expect_identical(plot(m, "map"), m)
})

# ---- plot(fit, "potential") and the type of the maps ---------------------

potential_fit <- function(target, source) {
  w2gan(target, source = source, epochs = 2, batch_size = 64, critic_steps = 1,
        critic = wf_mlp(c(8, 8), init = "normal", init_sd = 0.5),
        generator = wf_mlp(8, norm = "batch", residual = TRUE), eval_n = 50, seed = 1,
        device = "cpu", verbose = FALSE)
}

test_that("the potential plot's layout suits the device's shape", {
  layout_for <- function(w, h, aspect = 1) wgflow:::potential_layout(c(w, h), aspect, 0.2)
  square <- layout_for(7, 7)
  expect_identical(square$kind, "grid")
  expect_identical(dim(square$matrix), c(2L, 3L))
  expect_setequal(as.vector(square$matrix), 1:6) # the fourth cell says what is drawn
  expect_identical(layout_for(12, 4)$kind, "row")
  expect_identical(layout_for(4, 12)$kind, "column")
  # a flat grid on a square device: one column of wide panels
  expect_identical(layout_for(7, 7, aspect = 0.25)$kind, "column")
  # the chosen arrangement has the largest panels, and they fill a good
  # part of the device (one row of three on a square device: under 10 %)
  for (sz in list(c(7, 7), c(12, 4), c(4, 12), c(9, 5))) {
    l <- layout_for(sz[1], sz[2])
    expect_identical(l$side[[l$kind]], max(l$side))
    expect_gt(3 * l$side[[l$kind]]^2 / prod(sz), 0.15)
  }
  expect_lt(3 * layout_for(7, 7)$side[["row"]]^2 / 49, 0.1)
})

test_that("plot(fit, 'potential') draws short arrows and keys for f and g", {
  p <- wf_toy_pair("4gaussians", 600, seed = 1)
  fit <- potential_fit(p$target, p$source)
  pdf(NULL, width = 7, height = 7)
  on.exit(dev.off())
  plan <- wgflow:::plot_fit_potential(fit)
  expect_identical(plan$layout$kind, "grid")
  # one arrow per cell of a coarse grid, none longer than 0.8 of a cell
  n_arrows <- nrow(plan$arrows)
  expect_true(n_arrows >= 64 && n_arrows <= 400)
  expect_identical(sqrt(n_arrows) %% 1, 0)
  a <- plan$arrows
  len <- sqrt((a[, "x1"] - a[, "x0"])^2 + (a[, "y1"] - a[, "y0"])^2)
  expect_lte(max(len), 0.8 * plan$spacing + 1e-9)
  expect_lte(plan$scale, 1)
  # shortened by a common factor: directions and relative lengths are the map's
  tx <- wf_transport_map(fit, a[, c("x0", "y0")], via = "potential")
  expect_equal(unname(a[, c("x1", "y1")] - a[, c("x0", "y0")]),
               unname(plan$scale * (tx - a[, c("x0", "y0")])), tolerance = 1e-6)
  # f and g on the grid, each with a key over its own finite range
  expect_identical(dim(plan$f), c(40L, 40L))
  expect_named(plan$keys, c("f", "g"))
  expect_equal(plan$keys$f, range(plan$f))
  expect_equal(plan$keys$g, range(plan$g))
  # arrows to scale are not shortened; an explicit count is kept
  expect_identical(nrow(wgflow:::plot_fit_potential(fit, arrows = 5L)$arrows), 25L)
  # a wide device: one row; plot() returns the fit
  pdf(NULL, width = 12, height = 4)
  expect_identical(wgflow:::plot_fit_potential(fit)$layout$kind, "row")
  expect_identical(plot(fit, "potential"), fit)
  dev.off()
  expect_identical(wgflow:::arrow_caption(1), "arrows to scale")
  expect_identical(wgflow:::arrow_caption(0.25), "arrows at 0.25 of their length")
  expect_identical(wgflow:::finite_range(c(NA, 2, Inf, 1)), c(1, 2))
  expect_identical(wgflow:::finite_range(c(3, 3)), c(2.5, 3.5))
})

test_that("wf_transport_map() gives the data's type whichever `via`", {
  p <- wf_toy_pair("4gaussians", 600, seed = 1)
  m <- potential_fit(p$target, p$source)
  x <- p$source[1:5, ]
  expect_true(is.matrix(wf_transport_map(m, x, via = "potential")))
  src <- as.data.frame(p$source)
  d <- potential_fit(as.data.frame(p$target), src)
  by_gen <- wf_transport_map(d, src[1:5, ])
  by_pot <- wf_transport_map(d, src[1:5, ], via = "potential")
  expect_s3_class(by_gen, "data.frame")
  expect_s3_class(by_pot, "data.frame")
  expect_identical(names(by_pot), names(by_gen))
  expect_identical(dim(by_pot), c(5L, 2L))
  # a matrix of points gives the same values, in the fit's type too
  by_mat <- wf_transport_map(d, as.matrix(src[1:5, ]), via = "potential")
  expect_s3_class(by_mat, "data.frame")
  expect_equal(by_mat, by_pot)
  expect_equal(as.matrix(by_pot),
               wf_transport_map(m, as.matrix(src[1:5, ]), via = "potential"),
               ignore_attr = TRUE)
})
