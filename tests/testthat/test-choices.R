# The choices R passes to C by name (src/core/choices.c, R/errors.R's
# wf_choices()): one list, read from C, validates in R and is matched in C.

test_that("the choice kinds list the names C matches, in enum order", {
  ch <- wgflow:::wf_choices
  expect_identical(ch("activation"), c("identity", "relu", "leaky_relu", "tanh",
                                       "softplus", "elu", "sigmoid"))
  expect_identical(ch("optimizer"), c("sgd", "adam", "rmsprop"))
  expect_identical(ch("penalty"), c("none", "gp", "lp"))
  expect_identical(ch("critic_loss"), c("wgan", "gan", "dragan"))
  expect_identical(ch("cost"), c("l2", "l1"))
  expect_identical(ch("ineq"), c("none", "pairs", "interpolates", "both"))
  expect_identical(ch("regularizer"), c("l2", "entropic"))
  expect_identical(ch("reparam"), c("none", "data", "generated"))
  expect_identical(ch("persistency_mode"), c("euler", "naive"))
  expect_identical(ch("norm"), c("none", "batch", "layer"))
  expect_identical(ch("init"), c("torch", "normal"))
  expect_true("conv_transpose2d" %in% ch("layer"))
  expect_error(ch("nosuchkind"), class = "wgflow_error_arg")
})

test_that("R's validation offers exactly the C names", {
  expect_error(wf_mlp(8, activation = "swish"), class = "wgflow_error_arg")
  err <- tryCatch(wf_mlp(8, activation = "swish"), error = identity)
  for (nm in wgflow:::wf_choices("activation")) expect_match(conditionMessage(err), nm)
  opt <- wf_adam(1e-3)
  opt$kind <- "lion"
  expect_error(wf_critic_step(wf_net(wf_mlp(4), 2, 1, seed = 1), matrix(0, 4, 2),
                              matrix(1, 4, 2), opt), class = "wgflow_error_arg")
})

test_that("a choice reaching C by a wrong name is a classed error naming it", {
  critic <- wf_net(wf_mlp(4), 2, 1, seed = 1)
  x <- matrix(rnorm(8), 4, 2)
  err <- tryCatch(.Call(wgflow:::ffi_penalty, wgflow:::net_ptr(critic), x, "l3", 10),
                  error = identity)
  expect_s3_class(err, "wgflow_error_arg")
  expect_match(conditionMessage(err), "penalty.*\"l3\"")
  expect_error(.Call(wgflow:::ffi_penalty, wgflow:::net_ptr(critic), x, 1L, 10),
               class = "wgflow_error_arg")
})

test_that("a phase refuses a missing argument and a wrong choice by name", {
  toy <- quiet_small(wf_toy("8gaussians", n = 200, seed = 1))
  fit <- quiet_small(w1fe(toy, epochs = 1, critic = wf_mlp(8), generator = wf_mlp(8),
                          batch_size = 16, eval_n = 30, seed = 1, verbose = FALSE))
  trainer <- wgflow:::new_trainer(fit)
  on.exit(wgflow:::free_trainer(trainer))
  args <- list(batch_size = 16, steps = 1, penalty = "lp", lambda = 10, clip = 0)
  expect_silent(wgflow:::run_phase(trainer, "critic", args))
  err <- tryCatch(wgflow:::run_phase(trainer, "critic", args[-5]), error = identity)
  expect_s3_class(err, "wgflow_error_arg")
  expect_match(conditionMessage(err), "`clip` is missing")
  err <- tryCatch(wgflow:::run_phase(trainer, "critic", modifyList(args, list(penalty = "l9"))),
                  error = identity)
  expect_match(conditionMessage(err), "`penalty` must be one of the penalty names")
  expect_error(wgflow:::run_phase(trainer, "critic", modifyList(args, list(lambda = "a"))),
               class = "wgflow_error_arg")
  expect_error(wgflow:::run_phase(trainer, "critic", modifyList(args, list(steps = 1:2))),
               class = "wgflow_error_arg")
})
