# wf_sweep(): grids x seeds through future, bound into one tibble.

sweep_data <- function() wf_toy("8gaussians", n = 600, seed = 1)

tiny_sweep <- function(grid, seeds = 1:2, ...) {
  wf_sweep(sweep_data(), grid, seeds = seeds, epochs = 3, batch_size = 64,
           critic = wf_mlp(16), generator = wf_mlp(16), eval_n = 100,
           eval_every = 2, ...)
}

# The metrics of a sweep as a plain data frame, timings dropped.
sweep_values <- function(sw) {
  d <- as.data.frame(sw)
  d$seconds <- NULL
  attributes(d) <- attributes(d)[c("names", "row.names", "class")]
  d
}

test_that("a sequential sweep binds every run's metrics with its settings", {
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  grid <- expand.grid(persistency = c(1, 3), penalty = c("lp", "gp"),
                      stringsAsFactors = FALSE)
  sw <- tiny_sweep(grid, seeds = c(2, 5))
  expect_s3_class(sw, c("wf_sweep", "tbl_df"))
  expect_equal(nrow(sw), 3 * nrow(grid) * 2)
  expect_true(all(c("persistency", "penalty", "seed", "status", "epoch",
                    "seconds", "w1", "w2", "w1_critic") %in% names(sw)))
  expect_identical(names(sw)[1:4], c("persistency", "penalty", "seed", "status"))
  expect_type(sw$penalty, "character")
  expect_true(all(sw$status == "completed"))
  # ordered by grid row, then seed, then epoch
  expect_equal(sw$persistency, rep(grid$persistency, each = 6))
  expect_equal(sw$penalty, rep(grid$penalty, each = 6))
  expect_equal(sw$seed, rep(rep(c(2L, 5L), each = 3), 4))
  expect_equal(sw$epoch, rep(1:3, 8))
  # exact distances at epochs 2 and 3 (the last) only
  expect_equal(is.na(sw$w1), rep(c(TRUE, FALSE, FALSE), 8))
  expect_identical(attr(sw, "settings"), c("persistency", "penalty", "seed"))
  expect_identical(attr(sw, "seeds"), c(2L, 5L))
  expect_equal(nrow(attr(sw, "grid")), 4)
  expect_length(attr(sw, "messages"), 8)
  expect_null(attr(sw, "fits"))

  # each run is the fit w1fe() gives with that seed
  one <- w1fe(sweep_data(), persistency = 3, penalty = "gp", epochs = 3,
              batch_size = 64, critic = wf_mlp(16), generator = wf_mlp(16),
              eval_n = 100, eval_every = 2, seed = 5, verbose = FALSE)
  rows <- sw$persistency == 3 & sw$penalty == "gp" & sw$seed == 5
  expect_equal(sw$w1[rows], one$metrics$w1)
  expect_equal(sw$critic_loss[rows], one$metrics$critic_loss)
  # the critic's `penalty` metric is kept beside the `penalty` setting
  expect_equal(sw$penalty_metric[rows], one$metrics$penalty)
})

test_that("verbose reports each run once", {
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  msgs <- character()
  withCallingHandlers(
    tiny_sweep(data.frame(persistency = c(1, 3)), seeds = 1:2, verbose = TRUE),
    message = function(m) {
      msgs <<- c(msgs, conditionMessage(m))
      invokeRestart("muffleMessage")
    })
  runs <- grep("^run [0-9]/4", msgs, value = TRUE)
  expect_length(runs, 4L)
  expect_setequal(substr(runs, 1, 9), sprintf("run %d/4 (", 1:4))
})

test_that("a sweep without a grid replicates one setting; fits can be kept", {
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  sw <- tiny_sweep(NULL, seeds = 1:2, persistency = 2, keep_fits = TRUE)
  expect_equal(nrow(sw), 6)
  expect_identical(names(sw)[1:2], c("seed", "status"))
  fits <- attr(sw, "fits")
  expect_length(fits, 2)
  expect_s3_class(fits[[2]], "wf_w1fe")
  expect_equal(fits[[2]]$settings$seed, 2L)
  expect_equal(fits[[2]]$settings$persistency, 2L)
  expect_equal(fits[[2]]$metrics$w1, sw$w1[sw$seed == 2])
  expect_equal(dim(wf_sample(fits[[1]], 10, seed = 1)), c(10L, 2L))
})

test_that("list columns and factor columns of the grid are passed on", {
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  grid <- data.frame(penalty = factor(c("lp", "gp")))
  grid$critic <- list(wf_mlp(8), wf_mlp(c(8, 8)))
  sw <- wf_sweep(sweep_data(), grid, seeds = 1, epochs = 2, batch_size = 32,
                 generator = wf_mlp(8), eval_n = 50, keep_fits = TRUE)
  expect_type(sw$penalty, "character")
  expect_equal(sw$penalty, c("lp", "lp", "gp", "gp"))
  fits <- attr(sw, "fits")
  expect_equal(fits[[2]]$settings$critic$hidden, c(8, 8))
  expect_equal(fits[[1]]$settings$penalty, "lp")
})

test_that("a sweep gives the same metrics under a multisession plan", {
  skip_on_cran()
  skip_if_not_installed("future")
  # the workers load wgflow from the library, not from a source tree
  skip_if_not(file.exists(file.path(find.package("wgflow"), "Meta", "package.rds")),
              "wgflow is not installed")
  grid <- expand.grid(persistency = c(1, 3), penalty = "lp",
                      stringsAsFactors = FALSE)
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  seq_sw <- tiny_sweep(grid, seeds = 1:2)
  future::plan(future::multisession, workers = 2)
  par_sw <- tiny_sweep(grid, seeds = 1:2, threads = 1)
  expect_s3_class(par_sw, "wf_sweep")
  expect_equal(nrow(par_sw), 3 * 2 * 2)
  expect_identical(sweep_values(par_sw), sweep_values(seq_sw))
})

test_that("a failed run is reported, and a sweep whose runs all fail is an error", {
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  grid <- data.frame(persistency = c(1, 0))
  expect_warning(sw <- tiny_sweep(grid, seeds = 1), "1 of 2 runs failed")
  expect_equal(sw$status, c(rep("completed", 3), "error"))
  expect_true(is.na(sw$epoch[4]))
  expect_match(attr(sw, "messages")[2], "persistency")
  cnd <- tryCatch(tiny_sweep(data.frame(persistency = 0), seeds = 1:2),
                  error = function(e) e)
  expect_s3_class(cnd, "wgflow_error_arg")
  expect_identical(cnd$arg, "persistency")
})

test_that("bad arguments are classed errors naming the argument", {
  x <- sweep_data()
  g <- data.frame(persistency = 1)
  expect_arg_error(wf_sweep(), "data")
  expect_arg_error(wf_sweep(x, list(persistency = 1)), "grid")
  expect_arg_error(wf_sweep(x, data.frame(persistency = numeric())), "grid")
  expect_arg_error(wf_sweep(x, data.frame(persistence = 1)), "grid")
  expect_arg_error(wf_sweep(x, data.frame(seed = 1)), "grid")
  expect_arg_error(wf_sweep(x, data.frame(data = 1)), "grid")
  expect_arg_error(wf_sweep(x, g, seeds = c(1, NA)), "seeds")
  expect_arg_error(wf_sweep(x, g, seeds = 1.5), "seeds")
  expect_arg_error(wf_sweep(x, g, seeds = -1), "seeds")
  expect_arg_error(wf_sweep(x, g, seeds = integer()), "seeds")
  expect_arg_error(wf_sweep(x, g, seeds = "1"), "seeds")
  expect_arg_error(wf_sweep(x, g, seeds = c(1, 1)), "seeds")
  expect_arg_error(wf_sweep(x, g, fun = "w1fe"), "fun")
  expect_arg_error(wf_sweep(x, g, fun = function(data) NULL), "fun")
  expect_arg_error(wf_sweep(x, g, 1, w1fe, 10), "...")
  expect_arg_error(wf_sweep(x, g, persistency = 2), "...")
  expect_arg_error(wf_sweep(x, g, epoch = 2), "...")
  expect_arg_error(wf_sweep(x, g, threads = 0), "threads")
  expect_arg_error(wf_sweep(x, g, keep_fits = NA), "keep_fits")
  expect_arg_error(wf_sweep(x, g, verbose = "yes"), "verbose")
  bad_fun <- function(data, seed) list(metrics = 1)
  expect_arg_error(wf_sweep(x, NULL, seeds = 1, fun = bad_fun), "fun")
})

test_that("any training function with `seed` and `$metrics` can be swept", {
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  toy_fun <- function(data, a = 1, seed = NULL, ...) {
    list(metrics = data.frame(epoch = 1:2, seconds = c(0, 0), value = a * seed + nrow(data)),
         status = "completed")
  }
  sw <- wf_sweep(matrix(0, 3, 2), data.frame(a = c(1, 10)), seeds = c(1, 2),
                 fun = toy_fun, verbose = FALSE)
  expect_equal(sw$value, c(4, 4, 5, 5, 13, 13, 23, 23))
  expect_equal(sw$a, rep(c(1, 10), each = 4))
})

test_that("a sweep says each of wgflow's messages once, not once a run", {
  x <- wf_toy("8gaussians", 200, seed = 1)
  msgs <- character()
  withCallingHandlers(
    wf_sweep(x, data.frame(persistency = c(1, 2)), seeds = 1:2, epochs = 1,
             batch_size = 5000, critic = wf_mlp(4), generator = wf_mlp(4), eval_n = 30,
             critic_steps = 1),
    wgflow_message_batch_size = function(m) {
      msgs <<- c(msgs, conditionMessage(m))
      invokeRestart("muffleMessage")
    })
  expect_length(msgs, 1L)
})

test_that("Ctrl-C in wf_sweep() stops the sweep and returns the runs done", {
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  # the second run's fit is interrupted after its epoch 2
  fun <- function(data, seed, ...) {
    interrupt <- function(row) {
      if (seed == 2 && row$epoch == 2) {
        signalCondition(structure(class = c("interrupt", "condition"),
                                  list(message = "", call = NULL)))
      }
      TRUE
    }
    suppressWarnings(w1fe(data, seed = seed, callbacks = interrupt, ...))
  }
  expect_warning(
    sw <- wf_sweep(live_data, NULL, seeds = 1:4, fun = fun, epochs = 3, batch_size = 32,
                   critic = wf_mlp(8), generator = wf_mlp(8), eval_n = 50),
    class = "wgflow_warning_interrupted")
  expect_true(attr(sw, "interrupted"))
  expect_identical(unique(sw$seed), 1:2)
  expect_identical(sw$status, c(rep("completed", 3), rep("interrupted", 2)))
  # an interrupt outside a fit is caught by the sweep itself
  fun2 <- function(data, seed, ...) {
    if (seed == 3) {
      signalCondition(structure(class = c("interrupt", "condition"),
                                list(message = "", call = NULL)))
    }
    list(metrics = data.frame(epoch = 1, seconds = 0, w1 = seed), status = "completed")
  }
  expect_warning(sw2 <- wf_sweep(live_data, NULL, seeds = 1:4, fun = fun2),
                 "interrupted; returning the 2 of 4 runs done")
  expect_identical(sw2$seed, 1:2)
})

test_that("wf_sweep() leaves R's random number generator as it found it", {
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  x <- wf_toy("8gaussians", n = 300, seed = 1)
  kind <- RNGkind()
  set.seed(42)
  a <- runif(3)
  set.seed(42)
  sw <- wf_sweep(x, NULL, seeds = 1:2, epochs = 1, batch_size = 32, critic = wf_mlp(8),
                 generator = wf_mlp(8), eval_n = 50)
  expect_identical(RNGkind(), kind)
  expect_identical(runif(3), a)
  set.seed(1)
  expect_identical(runif(1), {
    RNGkind("Mersenne-Twister", "Inversion", "Rejection")
    set.seed(1)
    runif(1)
  })
  # a fit's split does not depend on the session's RNG kind either
  RNGkind("L'Ecuyer-CMRG")
  on.exit(RNGkind(kind[1], kind[2], kind[3]), add = TRUE)
  f_lec <- default_fit(x, batch_size = 32, seed = 4)
  RNGkind(kind[1], kind[2], kind[3])
  expect_identical(default_fit(x, batch_size = 32, seed = 4)$holdout_rows, f_lec$holdout_rows)
})
