# W2GAN, W2-FE, their baselines (Discrete-OT, Barycentric-OT, WGAN on pairs)
# and the map tools.

small_critic <- function(w = 32) wf_mlp(c(w, w), init = "normal", init_sd = 0.1)
small_gen <- function(w = 32) {
  wf_mlp(c(w, w), norm = "batch", residual = TRUE, init = "normal", init_sd = 0.01,
         gamma_init = "normal")
}
pair4 <- wf_toy_pair("4gaussians", n = 1500, seed = 3)

test_that("the ideal W2 update contracts W2 by exactly (1 - alpha) (Props. 1-3)", {
  # X <- X - alpha (X - T(X)), T the exact discrete Monge map: the points
  # move along the W2 geodesic, the assignment stays optimal, and
  # W2(X_{k+1}, Y) = (1 - alpha) W2(X_k, Y)
  set.seed(1)
  x <- wf_toy_pair("checkerboard", n = 300, seed = 2)
  X <- x$source
  Y <- x$target
  alpha <- 0.3
  w_prev <- wf_wasserstein(X, Y, p = 2)
  tx <- wf_discrete_map(X, Y)
  perm0 <- attr(tx, "assignment")
  for (k in 1:4) {
    tx <- wf_discrete_map(X, Y)
    expect_identical(attr(tx, "assignment"), perm0)
    X <- X - alpha * (X - tx)
    w <- wf_wasserstein(X, Y, p = 2)
    expect_equal(w, (1 - alpha) * w_prev, tolerance = 1e-10)
    w_prev <- w
  }
  # a step of alpha = 1 lands on the target
  expect_equal(wf_wasserstein(wf_discrete_map(X, Y), Y, p = 2), 0, tolerance = 1e-12)
})

test_that("wf_discrete_map is the exact assignment for the squared cost", {
  set.seed(2)
  x <- matrix(rnorm(14), 7)
  y <- matrix(rnorm(14, 1), 7)
  tx <- wf_discrete_map(x, y)
  perms <- function(v) if (length(v) <= 1) list(v) else
    do.call(c, lapply(seq_along(v), function(i) lapply(perms(v[-i]), function(p) c(v[i], p))))
  costs <- vapply(perms(1:7), function(p) sum((x - y[p, ])^2), numeric(1))
  expect_equal(sum((x - tx)^2), min(costs), tolerance = 1e-12)
  expect_identical(tx[, , drop = FALSE] + 0, y[attr(tx, "assignment"), ] + 0)
  # on the 4gaussians pair the identity is about 1.0 from it
  tx <- wf_discrete_map(pair4$source[1:400, ], pair4$target[1:400, ])
  expect_equal(mean(sqrt(rowSums((tx - pair4$source[1:400, ])^2))), 1, tolerance = 0.1)
  expect_arg_error(wf_discrete_map(x, y[1:5, ]), "y")
  expect_arg_error(wf_discrete_map(x, matrix(0, 7, 3)), "y")
  expect_arg_error(wf_discrete_map("a", y), "x")
})

test_that("a short 4gaussians W2GAN run brings the map error well below the identity's", {
  fit <- w2gan(pair4$target, source = pair4$source, epochs = 400, batch_size = 128,
               critic = small_critic(64), generator = small_gen(64),
               generator_optimizer = wf_adam(5e-4), eval_every = 100, eval_n = 300,
               seed = 1, verbose = FALSE)
  m <- fit$metrics
  expect_s3_class(fit, "wf_fit")
  expect_identical(fit$status, "completed")
  expect_identical(nrow(m), 400L)
  expect_true(all(c("critic_loss", "w2_dual", "ineq_penalty", "eq_penalty", "e_penalty",
                    "gen_loss", "map_error", "map_cosine", "w2") %in% names(m)))
  expect_true(all(is.na(m$e_penalty))) # the reparameterisation without its penalty
  ev <- m[!is.na(m$map_error), ]
  expect_identical(ev$epoch, c(100L, 200L, 300L, 400L))
  # the identity starts about 1.0 away; the learned map is far closer and
  # moves the points in the Discrete-OT map's directions
  expect_lt(ev$map_error[4], 0.4)
  expect_gt(ev$map_cosine[4], 0.95)
  expect_lt(ev$w2[4], ev$w2[1])
  # the critic's W2^2 / 2 estimate at the start is of the order of the
  # truth (about 0.5), then falls as the generator closes in
  expect_gt(m$w2_dual[50], 0.3)
  expect_lt(m$w2_dual[400], m$w2_dual[50])
  # a map of new points; the potential's map
  y <- predict(fit, newdata = pair4$source[1:5, ])
  expect_identical(dim(y), c(5L, 2L))
  expect_identical(colnames(y), c("x", "y"))
  expect_equal(wf_transport_map(fit, pair4$source[1:5, ]), y)
  tp <- wf_transport_map(fit, pair4$source[1:5, ], via = "potential")
  expect_identical(dim(tp), c(5L, 2L))
  expect_output(print(fit), "W2GAN map")
  expect_output(print(fit), "map_error:")
  pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  expect_silent(plot(fit, "map", n = 100))
  expect_silent(plot(fit, "potential"))
  expect_silent(plot(fit, "metrics"))
})

test_that("W2-FE with K = 1 and SGD is W2GAN at learning rate 2 eps lr", {
  eps <- 0.7
  lr <- 0.5
  args <- list(pair4$target, source = pair4$source, epochs = 1, batch_size = 64,
               critic = small_critic(16), generator = small_gen(16), eval_n = 50,
               seed = 4, verbose = FALSE)
  a <- do.call(w2fe, c(args, list(persistency = 1, step_size = eps,
                                  generator_optimizer = wf_sgd(lr))))
  b <- do.call(w2gan, c(args, list(generator_optimizer = wf_sgd(2 * eps * lr))))
  expect_identical(wf_params(a$f), wf_params(b$f))
  # the same step, to float rounding; at learning rate lr it is 1 / (2 eps)
  # times as long, so the difference measures the step
  c1 <- do.call(w2gan, c(args, list(generator_optimizer = wf_sgd(lr))))
  pa <- wf_params(a$generator)
  pb <- wf_params(b$generator)
  pc <- wf_params(c1$generator)
  expect_gt(max(abs(pb - pc)), 1e-5)
  expect_lt(max(abs(pa - pb)), 1e-3 * max(abs(pb - pc)))
  expect_true(all(c("euler_grad_norm", "fit_mse_first", "fit_mse_last") %in%
                    names(a$metrics)))
  expect_identical(a$metrics$fit_mse_first, a$metrics$fit_mse_last)
  expect_output(print(w2fe(pair4$target, source = pair4$source, persistency = 3,
                           epochs = 1, batch_size = 64, critic = small_critic(8),
                           generator = small_gen(8), eval_n = 50, seed = 1,
                           verbose = FALSE)), "W2-FE \\(K = 3\\) map")
})

test_that("every penalty option trains; from noise W2GAN evaluates W1 and W2", {
  for (opt in list(list(ineq = "pairs", lambda_eq = 0), list(ineq = "interpolates"),
                   list(ineq = "none", reparam = FALSE),
                   list(reparam = TRUE, lambda_e = 10),
                   list(regularizer = "entropic", lambda_ineq = 0.05))) {
    fit <- do.call(w2gan, c(list(pair4$target, source = pair4$source, epochs = 3,
                                 batch_size = 64, critic = small_critic(8),
                                 generator = small_gen(8), eval_n = 50, seed = 2,
                                 verbose = FALSE), opt))
    expect_identical(fit$status, "completed")
    expect_true(all(is.finite(fit$metrics$critic_loss)))
    if (identical(opt$lambda_eq, 0)) expect_true(all(is.na(fit$metrics$eq_penalty)))
    if (identical(opt$lambda_e, 10)) expect_true(all(fit$metrics$e_penalty >= 0))
  }
  fit <- w2gan(pair4$target, epochs = 3, batch_size = 64, critic = small_critic(8),
               generator = small_gen(8), eval_n = 50, eval_every = 1, seed = 2,
               verbose = FALSE)
  expect_s3_class(fit, "wf_w2gan")
  expect_true(all(c("w1", "w2") %in% names(fit$metrics)))
  expect_true(all(is.finite(fit$metrics$w1)))
  expect_identical(dim(wf_sample(fit, 10, seed = 1)), c(10L, 2L))
  expect_error(wf_transport_map(fit, pair4$source[1:2, ], via = "potential"), NA)
})

test_that("a map fit saves, restores and continues", {
  fit <- w2gan(pair4$target, source = pair4$source, epochs = 2, batch_size = 64,
               critic = small_critic(8), generator = small_gen(8), eval_n = 50, seed = 5,
               verbose = FALSE)
  back <- saved_and_read(fit)
  expect_identical(back$source, fit$source)
  more <- wf_continue(back, epochs = 2, verbose = FALSE)
  fit2 <- wf_continue(fit, epochs = 2, verbose = FALSE)
  expect_identical(more$metrics$epoch, 1:4)
  expect_equal(wf_params(more$generator), wf_params(fit2$generator))
})

test_that("the baselines: Barycentric-OT and WGAN-LP on the pair", {
  bot <- barycentric_ot(pair4$target, pair4$source, epochs = 60, dual_epochs = 30,
                        batch_size = 128, potential = wf_mlp(c(32, 32)),
                        generator = small_gen(), eval_every = 30, eval_n = 300, seed = 1,
                        verbose = FALSE)
  m <- bot$metrics
  expect_s3_class(bot, "wf_barycentric")
  expect_true(all(!is.na(m$ot_dual[1:30])) && all(is.na(m$ot_dual[31:60])))
  expect_true(all(is.na(m$map_loss[1:30])) && all(!is.na(m$map_loss[31:60])))
  ev <- m$map_error[!is.na(m$map_error)]
  expect_gt(ev[1], 0.9) # the dual stage leaves the identity map
  # 30 map epochs bring it toward the Discrete-OT map: over seeds 1-5 the
  # error fell to 0.76, 0.33, 0.52, 0.27, 0.41 of about 1.04 (30 epochs is
  # short for this seed-to-seed spread, so the bound is loose)
  expect_lt(ev[2], 0.8 * ev[1])
  expect_output(print(bot), "Barycentric-OT \\(L2\\)")
  lp <- wgan(pair4$target, source = pair4$source, penalty = "lp", epochs = 3,
             batch_size = 64, critic = wf_mlp(c(8, 8)), generator = small_gen(8),
             critic_steps = 2, eval_n = 50, seed = 1, verbose = FALSE)
  # one family with an optional source: a map fit is a wf_w1fe with $source
  expect_s3_class(lp, "wf_w1fe")
  expect_identical(lp$family, "w1fe")
  expect_false(is.null(lp$source))
  expect_identical(lp$algorithm, "wgan")
  # a map fit saved under the old family name resolves to the same family
  old <- lp
  old$family <- "w1fe_map"
  expect_identical(wgflow:::fit_algorithm(old)$eval_metrics, wgflow:::map_eval_metrics)
  expect_identical(nrow(wf_continue(old, epochs = 1, verbose = FALSE)$metrics), 4L)
  expect_true(all(c("map_error", "map_cosine", "w2") %in% names(lp$metrics)))
  expect_output(print(lp), "WGAN-LP map")
  # the default generator with a source is the identity start
  lp2 <- w1fe(pair4$target, source = pair4$source, epochs = 1, batch_size = 64,
              critic = wf_mlp(8), critic_steps = 1, eval_n = 50, seed = 1, verbose = FALSE)
  expect_true(lp2$generator$spec$residual)
  expect_identical(lp2$generator$spec$gamma_init, "normal")
})

test_that("default runs are those of the code before balanced batches and reparam_side", {
  # fixtures/w2gan-reference.csv: made by inst/scripts/w2gan-reference.R
  # with commit efd0c1e (no `batches`, `*_labels`, `reparam_side`); the
  # options' defaults must leave every run as it was (on the machine that
  # made it: to the bit)
  ref <- utils::read.csv(test_path("fixtures", "w2gan-reference.csv"))
  p <- wf_toy_pair("checkerboard", n = 1500, seed = 3)
  gen <- wf_mlp(c(16, 16), norm = "batch", residual = TRUE, init = "normal",
                init_sd = 0.01, gamma_init = "normal")
  base <- list(p$target, source = p$source, epochs = 12, batch_size = 64,
               critic = wf_mlp(c(16, 16), init = "normal", init_sd = 0.1), generator = gen,
               eval_every = 4, eval_n = 100, seed = 9, device = "cpu", verbose = FALSE)
  runs <- list(
    w2gan = list(f = "w2gan"),
    w2gan_noreparam_pairs = list(f = "w2gan", reparam = FALSE, ineq = "pairs",
                                 lambda_e = 0),
    w2gan_e = list(f = "w2gan", lambda_e = 10, regularizer = "entropic",
                   lambda_ineq = 0.1),
    w2fe_k2 = list(f = "w2fe", persistency = 2, step_size = 0.8),
    w2gan_noise = list(f = "w2gan", source = NULL)
  )
  for (name in names(runs)) {
    r <- runs[[name]]
    args <- modifyList(base, r[names(r) != "f"], keep.null = TRUE)
    if (is.null(args$source)) args$source <- NULL
    fit <- do.call(r$f, args)
    want <- ref[ref$run == name, ]
    expect_gt(nrow(want), 50)
    for (col in setdiff(unique(want$what), "sample")) {
      w <- want[want$what == col, ]
      expect_equal(fit$metrics[[col]][w$index], w$value, tolerance = 1e-6,
                   label = paste(name, col))
    }
    s <- if (is.null(fit$source)) wf_sample(fit, 20, seed = 3) else
      predict(fit, newdata = p$source[1:20, ])
    w <- want[want$what == "sample", ]
    expect_equal(as.vector(s)[w$index], w$value, tolerance = 1e-6,
                 label = paste(name, "images"))
  }
})

test_that("reparam_side: the generated side (f = -g + e) trains, and either side's map", {
  # the settings of the 4gaussians run above, the public code's side
  args <- list(pair4$target, source = pair4$source, epochs = 400, batch_size = 128,
               critic = small_critic(64), generator = small_gen(64),
               generator_optimizer = wf_adam(5e-4), eval_every = 100, eval_n = 300,
               seed = 1, verbose = FALSE)
  gen_side <- do.call(w2gan, c(args, list(reparam_side = "generated")))
  expect_identical(gen_side$settings$reparam_side, "generated")
  ev <- gen_side$metrics[!is.na(gen_side$metrics$map_error), ]
  expect_lt(ev$map_error[4], 0.4)
  expect_gt(ev$map_cosine[4], 0.95)
  # the two arrangements are different algorithms
  short <- modifyList(args, list(epochs = 2))
  a <- do.call(w2gan, c(short, list(reparam_side = "generated")))
  b <- do.call(w2gan, short)
  expect_identical(b$settings$reparam_side, "data")
  expect_false(identical(wf_params(a$generator), wf_params(b$generator)))
  # the potential's map and the plots read the side
  tp <- wf_transport_map(gen_side, pair4$source[1:5, ], via = "potential")
  grad_f <- function(fit, x, h = 1e-3) { # float32 nets: a step above their rounding
    f <- function(y) wf_forward(fit$f, y)[, 1] - wf_forward(fit$g, y)[, 1]
    sapply(1:2, function(j) {
      e <- matrix(0, nrow(x), 2)
      e[, j] <- h
      (f(x + e) - f(x - e)) / (2 * h)
    })
  }
  expect_equal(pair4$source[1:5, ] - tp, grad_f(gen_side, pair4$source[1:5, ]),
               tolerance = 2e-3, ignore_attr = TRUE)
  pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  expect_silent(plot(gen_side, "potential"))
  # W2-FE with the generated side, and e's penalty on the generated batch
  fe <- w2fe(pair4$target, source = pair4$source, persistency = 2, epochs = 3,
             batch_size = 64, critic = small_critic(8), generator = small_gen(8),
             reparam_side = "generated", lambda_e = 10, eval_n = 50, seed = 3,
             verbose = FALSE)
  expect_identical(fe$status, "completed")
  expect_true(all(fe$metrics$e_penalty >= 0))
  expect_true(all(fe$metrics$euler_grad_norm > 0))
  # without the reparameterisation the side is irrelevant
  a <- do.call(w2gan, modifyList(short, list(reparam = FALSE)))
  b <- do.call(w2gan, modifyList(short, list(reparam = FALSE, reparam_side = "generated")))
  expect_identical(wf_params(a$generator), wf_params(b$generator))
})

test_that("balanced batches and evaluation from the components' labels", {
  q <- wf_toy_pair("checkerboard", n = 1500, seed = 2, labels = TRUE)
  args <- list(q$target, source = q$source, epochs = 4, batch_size = 64,
               critic = small_critic(8), generator = small_gen(8), eval_every = 2,
               eval_n = 100, seed = 6, verbose = FALSE, data_labels = q$target_labels,
               source_labels = q$source_labels)
  bal <- do.call(w2gan, c(args, list(batches = "balanced")))
  iid <- do.call(w2gan, c(args, list(batches = "iid")))
  expect_identical(bal$settings$batches, "balanced")
  expect_identical(iid$settings$batches, "iid")
  # the labels balance the held-out rows either way: 100 rows, round robin
  for (fit in list(bal, iid)) {
    expect_identical(fit$labels$holdout[1:100], rep_len(1:5, 100))
    expect_identical(fit$labels$source_holdout[1:100], rep_len(1:4, 100))
    expect_identical(length(fit$labels$data), nrow(fit$data))
    expect_identical(length(fit$labels$source), nrow(fit$source))
    # each row keeps its label: the square it lies in
    cc <- 1.5 / sqrt(2)
    sq <- cbind(c(cc, -cc, cc, -cc, 0), c(cc, -cc, -cc, cc, 0))
    near <- max.col(-sapply(1:5, function(k) (fit$holdout[, 1] - sq[k, 1])^2 +
                                         (fit$holdout[, 2] - sq[k, 2])^2))
    expect_identical(near, as.integer(fit$labels$holdout))
  }
  # the same held-out rows, so the same first evaluation's reference; the
  # batches differ
  expect_identical(bal$holdout, iid$holdout)
  expect_identical(bal$source_holdout, iid$source_holdout)
  expect_false(identical(bal$metrics$critic_loss, iid$metrics$critic_loss))
  expect_identical(bal$strata$data, as.vector(table(bal$labels$data)))
  expect_identical(bal$strata$source, as.vector(table(bal$labels$source)))
  expect_null(iid$strata)
  # W2-FE and W2GAN from noise take them too; one component is i.i.d.
  fe <- do.call(w2fe, c(args, list(batches = "balanced", persistency = 2)))
  expect_identical(fe$status, "completed")
  noise <- w2gan(q$target, epochs = 2, batch_size = 64, critic = small_critic(8),
                 generator = small_gen(8), eval_n = 100, seed = 6, verbose = FALSE,
                 batches = "balanced", data_labels = q$target_labels)
  expect_identical(noise$labels$holdout[1:100], rep_len(1:5, 100))
  sp <- wf_toy_pair("2spirals", n = 800, seed = 1, labels = TRUE)
  one <- lapply(c("balanced", "iid"), function(b) {
    w2gan(sp$target, source = sp$source, epochs = 3, batch_size = 64,
          critic = small_critic(8), generator = small_gen(8), eval_n = 50, seed = 2,
          batches = b, data_labels = sp$target_labels, source_labels = sp$source_labels,
          verbose = FALSE)
  })
  expect_identical(one[[1]]$metrics$critic_loss, one[[2]]$metrics$critic_loss)
  expect_identical(wf_params(one[[1]]$generator), wf_params(one[[2]]$generator))
  # saved, restored and continued: the same as one run
  more <- wf_continue(saved_and_read(bal), epochs = 2, verbose = FALSE)
  long <- do.call(w2gan, c(modifyList(args, list(epochs = 6)), list(batches = "balanced")))
  expect_equal(wf_params(more$generator), wf_params(long$generator))
  expect_equal(more$metrics$critic_loss, long$metrics$critic_loss)
})

test_that("wf_knn_accuracy is 1-NN accuracy", {
  set.seed(7)
  xs <- matrix(rnorm(60), 30)
  ls <- sample(letters[1:3], 30, TRUE)
  xt <- matrix(rnorm(40), 20)
  lt <- sample(letters[1:3], 20, TRUE)
  d <- as.matrix(dist(rbind(xt, xs)))[1:20, 21:50]
  want <- mean(ls[apply(d, 1, which.min)] == lt)
  expect_equal(wf_knn_accuracy(xs, ls, xt, lt), want)
  expect_equal(wf_knn_accuracy(xs, factor(ls), xs, ls), 1)
  expect_arg_error(wf_knn_accuracy(xs, ls[-1], xt, lt), "source_labels")
  expect_arg_error(wf_knn_accuracy(xs, ls, xt, c(lt[-1], NA)), "target_labels")
  expect_arg_error(wf_knn_accuracy(xs, ls, xt[, 1, drop = FALSE], lt), "target")
  expect_arg_error(wf_knn_accuracy("x", ls, xt, lt), "mapped_source")
})

test_that("bad inputs raise classed errors naming the argument", {
  x <- pair4$target
  s <- pair4$source
  base <- list(x, source = s, epochs = 1, batch_size = 16, critic = small_critic(4),
               generator = small_gen(4), eval_n = 20, verbose = FALSE)
  call_w2 <- function(...) {
    a <- modifyList(base, list(...))
    do.call(w2gan, a)
  }
  expect_arg_error(call_w2(source = s[, 1, drop = FALSE]), "source")
  expect_arg_error(call_w2(source = matrix("a", 10, 2)), "source")
  expect_arg_error(call_w2(source = s[1:2, ]), "source")
  expect_arg_error(call_w2(source = s[1:21, ]), "source") # too few rows beside 20 held out
  expect_arg_error(do.call(w2gan, c(list(data.frame(a = letters[1:5], b = 1:5)),
                                    base[-1])), "data")
  expect_arg_error(do.call(w2gan, c(list(x[1:2, ]), base[-1])), "data")
  expect_arg_error(call_w2(lambda_ineq = -1), "lambda_ineq")
  expect_arg_error(call_w2(lambda_eq = -0.1), "lambda_eq")
  expect_arg_error(call_w2(lambda_e = NA), "lambda_e")
  expect_arg_error(call_w2(ineq = "bogus"), "ineq")
  expect_arg_error(call_w2(regularizer = "kl"), "regularizer")
  expect_arg_error(call_w2(regularizer = "entropic", lambda_ineq = 0), "lambda_ineq")
  expect_arg_error(call_w2(reparam = NA), "reparam")
  expect_arg_error(call_w2(reparam_side = "both"), "reparam_side")
  expect_arg_error(call_w2(reparam_side = NA_character_), "reparam_side")
  expect_arg_error(call_w2(batches = "stratified"), "batches")
  expect_arg_error(call_w2(batches = c("iid", "balanced")), "batches")
  q <- wf_toy_pair("checkerboard", n = 300, seed = 1, labels = TRUE)
  call_q <- function(...) {
    a <- c(list(q$target), modifyList(base[-1], list(
      source = q$source, data_labels = q$target_labels, source_labels = q$source_labels)))
    do.call(w2gan, modifyList(a, list(...)))
  }
  expect_arg_error(call_q(batches = "balanced", data_labels = NULL), "data_labels")
  expect_arg_error(call_q(batches = "balanced", source_labels = NULL), "source_labels")
  expect_arg_error(call_q(data_labels = q$target_labels[-1]), "data_labels")
  expect_arg_error(call_q(data_labels = replace(q$target_labels, 3, NA)), "data_labels")
  expect_arg_error(call_q(source_labels = list(1)), "source_labels")
  expect_arg_error(call_q(source_labels = q$source_labels[1:10]), "source_labels")
  expect_arg_error(call_q(batches = "balanced", batch_size = 4), "batch_size")
  expect_arg_error(do.call(w2gan, modifyList(base, list(source = NULL,
                                                        source_labels = 1:1500))),
                   "source_labels")
  expect_arg_error(do.call(w2fe, modifyList(base, list(reparam_side = 1))), "reparam_side")
  expect_arg_error(do.call(w2fe, modifyList(base, list(batches = "balanced"))), "data_labels")
  # a component with too few rows for a balanced held-out share
  lab <- c(rep(1L, 1499), 2L)
  expect_arg_error(call_w2(data_labels = lab), "data_labels")
  expect_arg_error(call_w2(critic = wf_mlp(4, norm = "batch")), "critic")
  expect_arg_error(call_w2(critic = "relu"), "critic")
  expect_arg_error(call_w2(generator = 3), "generator")
  expect_arg_error(call_w2(batch_size = 1), "batch_size")
  expect_arg_error(call_w2(batch_size = 2^25), "batch_size")
  expect_arg_error(call_w2(latent_dim = 3), "latent_dim")
  expect_arg_error(call_w2(critic_steps = 0), "critic_steps")
  expect_arg_error(call_w2(critic_optimizer = "adam"), "critic_optimizer")
  expect_arg_error(call_w2(epochs = -1), "epochs")
  expect_arg_error(do.call(w2fe, modifyList(base, list(persistency = 0))), "persistency")
  expect_arg_error(do.call(w2fe, modifyList(base, list(step_size = 0))), "step_size")
  expect_arg_error(barycentric_ot(x, s, lambda = -1, verbose = FALSE), "lambda")
  expect_arg_error(barycentric_ot(x, s, regularizer = "none", verbose = FALSE),
                   "regularizer")
  expect_arg_error(barycentric_ot(x, verbose = FALSE), "source")
  expect_arg_error(barycentric_ot(x, s, dual_epochs = -1, verbose = FALSE), "dual_epochs")
  expect_arg_error(w1fe(x, source = s[, 1, drop = FALSE], verbose = FALSE), "source")
  fit <- w2gan(x, source = s, epochs = 1, batch_size = 16, critic = small_critic(4),
               generator = small_gen(4), eval_n = 30, verbose = FALSE)
  expect_arg_error(wf_transport_map(fit, s, via = "both"), "via")
  expect_arg_error(wf_transport_map(fit, s[, 1, drop = FALSE], via = "potential"), "x")
  expect_arg_error(plot(fit, "bogus"), "what")
  lp <- wgan(x, source = s, epochs = 1, batch_size = 16, critic = wf_mlp(4),
             generator = small_gen(4), critic_steps = 1, eval_n = 30, verbose = FALSE)
  expect_error(wf_transport_map(lp, s, via = "potential"), class = "wgflow_error_unsupported")
})
