# wgflow (float32) against PyTorch float64 references; see
# tests/testthat/fixtures/torch/README.md. Errors are max|a - b| / max(1, max|b|).

# Tolerances. float32 carries ~6e-8 relative error per operation and these
# nets are small (widths <= 16, depth <= 3): on the CPU backend the observed
# errors are <= 4e-7 for forward and first-order quantities, <= 1.2e-6 for
# second-order ones (double backward, penalties) and <= 1e-7 for parameters
# after 5 optimiser steps. The tolerances leave ~10x room for other summation
# orders (BLAS blocking, threads, FMA); a real bug shows up far above them.
TOL_FWD <- 5e-6
TOL_GRAD <- 1e-5
TOL_2ND <- 2e-5
TOL_OPT <- 2e-6
TOL_UPDATE <- 1e-4 # relative to how far the optimiser moved the parameters

cases <- fixture_cases()

test_that("the fixtures are installed", {
  expect_gt(length(cases), 0L)
})

for (case in cases) {
  info <- fixture_info(case)
  bn <- info$norm == "batch"

  test_that(paste(case, "- parameter layout"), {
    p <- read_fixture(case, "params")
    net <- wf_net(fixture_spec(case), input_dim = info$input_dim,
                  output_dim = info$output_dim, seed = 1)
    expect_equal(length(wf_params(net)), length(p))
    wf_params(net) <- p
    # stored in float32: exact up to the rounding of each value
    expect_close(wf_params(net), p, 1e-7, paste(case, "params round trip"))
  })

  test_that(paste(case, "- forward (eval)"), {
    net <- fixture_net(case)
    x <- read_fixture(case, "x")
    expect_close(wf_forward(net, x, train = FALSE), read_fixture(case, "y"),
                 TOL_FWD, paste(case, "forward eval"))
  })

  test_that(paste(case, "- input gradient (eval)"), {
    net <- fixture_net(case)
    x <- read_fixture(case, "x")
    expect_close(wf_input_grad(net, x, train = FALSE),
                 read_fixture(case, "input_grad"),
                 TOL_GRAD, paste(case, "input_grad eval"))
  })

  test_that(paste(case, "- backward (eval)"), {
    net <- fixture_net(case)
    x <- read_fixture(case, "x")
    b <- wf_backward(net, x, read_fixture(case, "dy"), train = FALSE)
    expect_close(b$param_grad, read_fixture(case, "backward_param_grad"),
                 TOL_GRAD, paste(case, "backward param_grad eval"))
    expect_close(b$input_grad, read_fixture(case, "backward_input_grad"),
                 TOL_GRAD, paste(case, "backward input_grad eval"))
  })

  if (bn) {
    test_that(paste(case, "- BatchNorm train forward and running stats"), {
      net <- fixture_net(case)
      init <- unlist(lapply(info$hidden, function(w) c(rep(0, w), rep(1, w))))
      expect_close(wf_state(net), init, 1e-7, paste(case, "initial state"))
      x <- read_fixture(case, "x")
      expect_close(wf_forward(net, x, train = TRUE),
                   read_fixture(case, "y_train"),
                   TOL_FWD, paste(case, "forward train"))
      expect_close(wf_state(net), read_fixture(case, "running"),
                   TOL_FWD, paste(case, "running stats after one train pass"))
      expect_close(wf_forward(net, x, train = FALSE),
                   read_fixture(case, "y_eval_after_train"),
                   TOL_FWD, paste(case, "forward eval after train"))
    })

    test_that(paste(case, "- BatchNorm backward (train)"), {
      net <- fixture_net(case)
      x <- read_fixture(case, "x")
      b <- wf_backward(net, x, read_fixture(case, "dy"), train = TRUE)
      expect_close(b$param_grad, read_fixture(case, "backward_param_grad_train"),
                   TOL_GRAD, paste(case, "backward param_grad train"))
      expect_close(b$input_grad, read_fixture(case, "backward_input_grad_train"),
                   TOL_GRAD, paste(case, "backward input_grad train"))
    })

    test_that(paste(case, "- BatchNorm input gradient (train)"), {
      net <- fixture_net(case)
      x <- read_fixture(case, "x")
      expect_close(wf_input_grad(net, x, train = TRUE),
                   read_fixture(case, "input_grad_train"),
                   TOL_GRAD, paste(case, "input_grad train"))
    })
  } else {
    test_that(paste(case, "- double backward"), {
      net <- fixture_net(case)
      x <- read_fixture(case, "x")
      d <- wf_double_backward(net, x, read_fixture(case, "u"))
      expect_close(d$value, read_fixture(case, "dbl_value"),
                   TOL_2ND, paste(case, "double backward value"))
      expect_close(d$param_grad, read_fixture(case, "dbl_param_grad"),
                   TOL_2ND, paste(case, "double backward param_grad"))
      expect_close(d$input_grad, read_fixture(case, "dbl_input_grad"),
                   TOL_2ND, paste(case, "double backward input_grad"))
      expect_close(d$dir_grad, read_fixture(case, "input_grad"),
                   TOL_GRAD, paste(case, "double backward dir_grad"))
    })
  }

  if (has_fixture(case, "lp_loss")) {
    for (pen in c("gp", "lp")) {
      test_that(paste(case, "-", pen, "critic loss"), {
        net <- fixture_net(case)
        r <- wf_critic_loss(net, read_fixture(case, "real"),
                            read_fixture(case, "fake"), penalty = pen,
                            lambda = 10, t = read_fixture(case, "t"))
        for (part in c("loss", "w1", "penalty", "grad_norm")) {
          expect_close(r[[part]], read_fixture(case, paste0(pen, "_", part)),
                       TOL_2ND, paste(case, pen, part))
        }
        expect_close(r$param_grad, read_fixture(case, paste0(pen, "_param_grad")),
                     TOL_2ND, paste(case, pen, "param_grad"))
      })
    }
  }

  if (has_fixture(case, "adam_params")) {
    optimisers <- list(
      adam = function() wf_adam(lr = 1e-3, beta1 = 0.5, beta2 = 0.9, eps = 1e-8),
      rmsprop = function() wf_rmsprop(lr = 1e-3, alpha = 0.99, eps = 1e-8),
      sgd = function() wf_sgd(lr = 1e-2, momentum = 0.9),
      adam_wd = function() wf_adam(lr = 1e-3, beta1 = 0.5, beta2 = 0.9,
                                   eps = 1e-8, weight_decay = 0.01)
    )
    for (opt_name in names(optimisers)) {
      test_that(paste(case, "-", opt_name, "trajectory (5 LP critic steps)"), {
        net <- fixture_net(case) # fresh optimiser state
        opt <- optimisers[[opt_name]]()
        real <- read_fixture(case, "real")
        fake <- read_fixture(case, "fake")
        t <- read_fixture(case, "t")
        losses <- numeric(5)
        for (k in 1:5) {
          r <- wf_critic_step(net, real, fake, opt, penalty = "lp",
                              lambda = 10, t = t)
          losses[k] <- r$loss
        }
        expect_close(losses, read_fixture(case, paste0(opt_name, "_losses")),
                     TOL_2ND, paste(case, opt_name, "losses before each step"))
        p0 <- read_fixture(case, "params")
        ref <- read_fixture(case, paste0(opt_name, "_params"))
        expect_close(wf_params(net), ref, TOL_OPT,
                     paste(case, opt_name, "params after 5 steps"))
        # the update itself, relative to how far the parameters moved
        moved <- ref - p0
        err <- max(abs((wf_params(net) - p0) - moved)) / max(abs(moved))
        expect_lt(err, TOL_UPDATE,
                  label = sprintf("%s %s: update relative error %.3g",
                                  case, opt_name, err))
      })
    }
  }
}
