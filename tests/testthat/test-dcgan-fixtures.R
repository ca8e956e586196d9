# The DCGAN nets (layer stacks: convolutions, transposed convolutions,
# BatchNorm2d, LayerNorm over (c, h, w)) in float32 against PyTorch float64
# references made by inst/fixtures/make_dcgan_fixtures.py with the same
# parameters. Errors are max|a - b| / max(1, max|b|). The nets are deeper
# and wider than the MLP fixtures' (sums over up to 128 terms a layer), so
# the tolerances are a few times those of test-torch-fixtures.R; a wrong
# layout or pass is off by orders of magnitude more.
TOL_FWD <- 2e-5
TOL_GRAD <- 5e-5
TOL_2ND <- 1e-4

dcgan_dir <- function() test_path("fixtures", "torch-dcgan")

dcgan_cases <- function() {
  root <- dcgan_dir()
  dirs <- list.dirs(root, full.names = FALSE, recursive = FALSE)
  sort(dirs[file.exists(file.path(root, dirs, "spec.dcf"))])
}

read_dcgan <- function(case, name) {
  path <- file.path(dcgan_dir(), case, paste0(name, ".txt"))
  dims <- scan(path, what = integer(), nlines = 1L, quiet = TRUE)
  vals <- scan(path, what = double(), skip = 1L, quiet = TRUE)
  if (length(dims) == 2L) matrix(vals, dims[1], dims[2], byrow = TRUE) else vals
}

dcgan_net <- function(case) {
  info <- as.list(read.dcf(file.path(dcgan_dir(), case, "spec.dcf"))[1, ])
  image <- as.integer(strsplit(info$image, " ")[[1]])
  width <- as.integer(info$width)
  spec <- if (info$kind == "generator") {
    wf_dcgan_generator(latent_dim = as.integer(info$latent_dim), image = image,
                       width = width)
  } else {
    wf_dcgan_critic(image = image, width = width, norm = info$norm)
  }
  input <- if (info$kind == "generator") as.integer(info$latent_dim) else prod(image)
  output <- if (info$kind == "generator") prod(image) else 1L
  net <- wf_net(spec, input_dim = input, output_dim = output, seed = 1)
  wf_params(net) <- read_dcgan(case, "params")
  net
}

cases <- dcgan_cases()

test_that("the DCGAN fixtures are there", {
  expect_gte(length(cases), 4L)
})

for (case in cases) {
  generator <- startsWith(case, "generator")

  test_that(paste(case, "- layout, forward and first-order passes (eval)"), {
    net <- dcgan_net(case)
    expect_equal(length(wf_params(net)), length(read_dcgan(case, "params")))
    x <- read_dcgan(case, "x")
    expect_close(wf_forward(net, x, train = FALSE), read_dcgan(case, "y"), TOL_FWD,
                 paste(case, "forward"))
    expect_close(wf_input_grad(net, x, train = FALSE), read_dcgan(case, "input_grad"),
                 TOL_GRAD, paste(case, "input_grad"))
    b <- wf_backward(net, x, read_dcgan(case, "dy"), train = FALSE)
    expect_close(b$param_grad, read_dcgan(case, "backward_param_grad"), TOL_GRAD,
                 paste(case, "backward param_grad"))
    expect_close(b$input_grad, read_dcgan(case, "backward_input_grad"), TOL_GRAD,
                 paste(case, "backward input_grad"))
  })

  if (generator) {
    test_that(paste(case, "- BatchNorm2d in training mode"), {
      net <- dcgan_net(case)
      x <- read_dcgan(case, "x")
      expect_close(wf_forward(net, x, train = TRUE), read_dcgan(case, "y_train"),
                   TOL_FWD, paste(case, "forward train"))
      expect_close(wf_state(net), read_dcgan(case, "running"), TOL_FWD,
                   paste(case, "running statistics"))
      net <- dcgan_net(case)
      b <- wf_backward(net, x, read_dcgan(case, "dy"), train = TRUE)
      expect_close(b$param_grad, read_dcgan(case, "backward_param_grad_train"),
                   TOL_GRAD, paste(case, "backward param_grad train"))
      expect_close(b$input_grad, read_dcgan(case, "backward_input_grad_train"),
                   TOL_GRAD, paste(case, "backward input_grad train"))
      net <- dcgan_net(case)
      expect_close(wf_input_grad(net, x, train = TRUE),
                   read_dcgan(case, "input_grad_train"), TOL_GRAD,
                   paste(case, "input_grad train"))
    })
  } else {
    test_that(paste(case, "- double backward and the gradient penalty"), {
      net <- dcgan_net(case)
      x <- read_dcgan(case, "x")
      d <- wf_double_backward(net, x, read_dcgan(case, "u"))
      expect_close(d$value, read_dcgan(case, "dbl_value"), TOL_2ND,
                   paste(case, "double backward value"))
      expect_close(d$param_grad, read_dcgan(case, "dbl_param_grad"), TOL_2ND,
                   paste(case, "double backward param_grad"))
      expect_close(d$input_grad, read_dcgan(case, "dbl_input_grad"), TOL_2ND,
                   paste(case, "double backward input_grad"))
      r <- wf_critic_loss(net, read_dcgan(case, "real"), read_dcgan(case, "fake"),
                          penalty = "gp", lambda = 10, t = read_dcgan(case, "t"))
      for (part in c("loss", "w1", "penalty", "grad_norm")) {
        expect_close(r[[part]], read_dcgan(case, paste0("gp_", part)), TOL_2ND,
                     paste(case, "gp", part))
      }
      expect_close(r$param_grad, read_dcgan(case, "gp_param_grad"), TOL_2ND,
                   paste(case, "gp param_grad"))
    })
  }
}
