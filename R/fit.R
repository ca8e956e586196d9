# The fit constructor every algorithm shares: data and held-out split,
# seeds, scaling, device, networks; the trainer a fit runs on; copies of
# fits and compact calls.

# algo: the family's descriptor; algorithm: the fit's name ("w1fe",
# "wgan", ...); run: the shared arguments from training_args() (eval_n,
# seed, device, the data's colnames, and scale: centre and scale the
# columns by the training rows' means and standard deviations); split:
# training and held-out rows from run_split() (or split_holdout(),
# split_pair(), split_balanced()); nets: a named list (by role) of
# list(spec, input_dim, output_dim, arg), `arg` the argument the spec came
# from (default: the role), named by errors about its shapes; settings: the
# family's validated settings (optimisers as "<role>_optimizer"). Returns a
# fit of class c("wf_<family>", "wf_fit") with no epochs.
#
# Done here for every family: the seed (drawn from R's RNG when NULL), the
# random held-out rows drawn with it (a split made by split_holdout()
# without this seed is drawn again), the scaling, the float32 range of the
# data, the data's image shape (kept as `$image_shape`: samples carry it),
# and a `batch_size` setting larger than the training rows, which is
# reduced to them with a message.
new_fit <- function(algo, algorithm, run, split, nets, settings) {
  seed <- run$seed %||% split$seed %||% sample.int(.Machine$integer.max, 1L)
  eval_n <- run$eval_n
  scale <- run$scale
  colnames <- run$colnames
  device <- resolve_device(run$device)
  if (isTRUE(split$random) && !identical(split$seed, seed)) {
    # drawn again, the other fields (the data frame's class, the image
    # shape) kept
    redrawn <- draw_split(split$x, split$n_held, seed)
    split[names(redrawn)] <- redrawn
  }
  scaling <- NULL
  if (scale) {
    scaling <- column_scaling(split$train)
    split$train <- apply_scaling(split$train, scaling)
    split$held <- apply_scaling(split$held, scaling)
  }
  check_float_range(split$train, "data")
  check_float_range(split$held, if (isTRUE(split$explicit)) "holdout" else "data")
  # images are on their own known scale ([-1, 1]); their corner pixels are
  # near constant, which is no reason to suggest scaling
  if (!scale && is.null(split$image_shape)) hint_scale(split$train)
  warn_small_data(nrow(split$train), min(eval_n, nrow(split$held)))
  settings <- adapt_batch_size(settings, min(nrow(split$train), nrow(split$source)))
  fit <- list(family = algo$name, algorithm = algorithm, call = NULL,
              settings = c(settings, list(eval_n = min(eval_n, nrow(split$held)),
                                          seed = seed, device = device,
                                          scale = scale)),
              data = split$train, holdout = split$held,
              holdout_rows = split$rows, colnames = colnames,
              image_shape = split$image_shape,
              input_class = split$frame, scaling = scaling, floor = NULL,
              eval_key = stream_key(seed, 3L), metrics = NULL, status = "new",
              message = NULL)
  # stream 1, 2, ... of the seed, in role order (the critic's is 1)
  for (i in seq_along(nets)) {
    n <- nets[[i]]
    fit[[names(nets)[i]]] <- new_net(n$spec, n$input_dim, n$output_dim,
                                     stream_key(seed, i), device,
                                     arg = n$arg %||% names(nets)[i])
  }
  structure(fit, class = c(paste0("wf_", algo$name), "wf_fit"))
}

# Training rows and held-out rows. `holdout` is
# * NULL: eval_n rows, at most a fifth of the data, drawn at random;
# * a number in (0, 1): that fraction of the rows, drawn at random;
# * a whole number >= 2: that many rows, drawn at random;
# * a matrix or data frame (or a 4-d array of images): further data, all
#   of `x` trains.
# The data's image shape (attribute "image_shape") is returned as
# `image_shape`; the matrices returned are plain.
# Random rows are drawn with `seed` (R's RNG draws one when NULL; new_fit()
# draws the split again if its seed is another). The rows of `x` that train
# keep their order; `rows` are the held-out rows' indices in `x`.
split_holdout <- function(x, holdout, eval_n, seed = NULL) {
  frame <- attr(x, "wf_frame")
  shape <- image_shape(x)
  attr(x, "wf_frame") <- NULL
  attr(x, "image_shape") <- NULL
  if (is.matrix(holdout) || is.data.frame(holdout) || is.array(holdout)) {
    held <- check_data(holdout, "holdout", cols = ncol(x), min_rows = 2L)
    attr(held, "wf_frame") <- NULL
    attr(held, "image_shape") <- NULL
    return(list(train = x, held = held, rows = NULL, random = FALSE,
                explicit = TRUE, frame = frame, seed = seed, image_shape = shape))
  }
  n_held <- holdout_rows(holdout, nrow(x), eval_n)
  if (is.null(seed)) seed <- sample.int(.Machine$integer.max, 1L)
  split <- draw_split(x, n_held, seed)
  split$frame <- frame
  split$image_shape <- shape
  split
}

holdout_rows <- function(holdout, n, eval_n) {
  if (is.null(holdout)) return(max(2L, min(eval_n, n %/% 5L)))
  ok <- is.numeric(holdout) && length(holdout) == 1L && !is.na(holdout) &&
    is.finite(holdout) && holdout > 0 && (holdout < 1 || holdout == round(holdout) &&
                                            holdout >= 2)
  if (!ok) {
    arg_error("holdout", paste("NULL, a fraction in (0, 1), a whole number of rows >= 2",
                               "or a matrix of held-out data"), holdout)
  }
  n_held <- if (holdout < 1) max(2L, as.integer(round(holdout * n))) else as.integer(holdout)
  if (n_held > n - 1L) {
    wf_abort(sprintf("`holdout` (%d rows) must leave training rows in `data` (%d rows).",
                     n_held, n), class = "wgflow_error_arg", arg = "holdout")
  }
  n_held
}

# n_held random rows of x held out, drawn by `seed` (R's RNG, restored).
draw_split <- function(x, n_held, seed) {
  rows <- with_rng_seed(derived_seed(seed, 1L), sample.int(nrow(x), n_held))
  list(train = x[-rows, , drop = FALSE], held = x[rows, , drop = FALSE],
       rows = rows, random = TRUE, explicit = FALSE, seed = seed, x = x,
       n_held = n_held)
}

# A seed for R's RNG, for use `which` of a run seeded with `seed` (the
# held-out rows, the sampling floor): distinct uses get distinct streams.
derived_seed <- function(seed, which) {
  as.integer((as.double(seed) + 7919 * which) %% .Machine$integer.max)
}

# The training rows' column means and standard deviations (1 for a
# constant column).
column_scaling <- function(x) {
  center <- colMeans(x)
  sd <- sqrt(pmax(colSums(sweep(x, 2L, center)^2) / max(1, nrow(x) - 1L), 0))
  sd[!is.finite(sd) | sd == 0] <- 1
  list(center = center, scale = sd)
}

apply_scaling <- function(x, s) {
  if (is.null(s)) return(x)
  sweep(sweep(x, 2L, s$center, "-"), 2L, s$scale, "/")
}

undo_scaling <- function(x, s) {
  if (is.null(s)) return(x)
  sweep(sweep(x, 2L, s$scale, "*"), 2L, s$center, "+")
}

# The networks' defaults (initialisation, step sizes) suit columns of about
# unit scale; data far from it (raw `faithful`: sd 1.1 and 13.6, mean 71)
# train poorly without a hint why. Say so once per fit, with the remedy.
# Too few rows to learn from or to score with: below about 50 training rows
# a generator can only memorise them, and below about 30 evaluation rows
# the exact distances are mostly sampling noise (their floor is large).
warn_small_data <- function(n_train, n_eval) {
  few <- c(if (n_train < 50L) sprintf("%d training rows", n_train),
           if (n_eval < 30L) sprintf("%d evaluation rows", n_eval))
  if (length(few)) {
    wf_warn(sprintf(paste("Only %s: too few for a model (at least 50 training rows) or for",
                          "its exact distances (at least 30 evaluation rows) to mean much."),
                    paste(few, collapse = " and ")),
            class = "wgflow_warning_small_data")
  }
  invisible()
}

hint_scale <- function(x) {
  if (nrow(x) < 2L) return(invisible())
  sds <- apply(x, 2L, stats::sd)
  means <- colMeans(x)
  spread <- sds[is.finite(sds) & sds > 0]
  if (length(spread) == 0L) return(invisible())
  if (max(spread) > 10 || min(spread) < 0.1 || max(abs(means)) > 10) {
    wf_inform(sprintf(paste0(
      "wgflow: the columns of `data` have standard deviations from %s to %s ",
      "and means up to %s in size; the default networks suit data of unit ",
      "scale: consider `scale = TRUE`."),
      format(min(spread), digits = 2), format(max(spread), digits = 3),
      format(max(abs(means)), digits = 3)), class = "wgflow_message_scale")
  }
  invisible()
}

# A `batch_size` setting larger than the training rows becomes their number,
# with a message (batches are drawn with replacement, so any size works, but
# one larger than the data only repeats rows).
adapt_batch_size <- function(settings, n_train) {
  b <- settings$batch_size
  if (is.numeric(b) && length(b) == 1L && !is.na(b) && b > n_train) {
    wf_inform(sprintf(paste0("wgflow: `batch_size` (%d) is larger than the %d training ",
                             "rows; using batch_size = %d."), as.integer(b), n_train, n_train),
              class = "wgflow_message_batch_size")
    settings$batch_size <- as.integer(n_train)
  }
  settings
}

# The Philox key of stream `which` of a run seeded with `seed`.
stream_key <- function(seed, which) c(as.double(seed), 2654435769 + which)

# The C trainer of a fit: its nets, their optimisers and its data on the
# device. Freed by its finalizer, or explicitly with free_trainer().
new_trainer <- function(fit) {
  algo <- fit_algorithm(fit)
  roles <- algo$nets
  nets <- stats::setNames(lapply(roles, function(r) net_ptr(fit[[r]])), roles)
  opts <- stats::setNames(lapply(roles, function(r) {
    opt_for_c(fit$settings[[paste0(r, "_optimizer")]])
  }), roles)
  trainer <- .Call(ffi_trainer_create, algo$name, nets, opts, algo$data(fit))
  # on a GPU, repeated steps are recorded once and replayed (CUDA graphs);
  # options(wgflow.graphs = FALSE) runs every step eagerly
  if (!isTRUE(getOption("wgflow.graphs", TRUE))) {
    .Call(ffi_trainer_set_graphs, trainer, FALSE)
  }
  trainer
}

free_trainer <- function(trainer) .Call(ffi_trainer_free, trainer)

# One phase of a trainer: `args` a named list of numbers and strings (the
# choices, matched in C); returns the phase's named outputs.
run_phase <- function(trainer, phase, args) {
  .Call(ffi_trainer_run, trainer, phase, as.list(args))
}

# Set the learning rate of the optimiser of the trainer's net in role
# position `index` (1-based, the descriptor's order) for the next phases.
set_trainer_lr <- function(trainer, index, lr) {
  .Call(ffi_trainer_set_lr, trainer, as.integer(index), as.double(lr))
}

# Bring the R copies of a fit's nets up to their C state (net_sync(): no
# copy of the values, which are read when R looks at them).
sync_nets <- function(fit) {
  for (role in fit_algorithm(fit)$nets) {
    if (inherits(fit[[role]], "wf_net")) net_sync(fit[[role]])
  }
  invisible(fit)
}

# Before training changes a fit's nets: views of their R copies that
# someone else holds keep their values (net_freeze()).
freeze_nets <- function(fit) {
  for (role in fit_algorithm(fit)$nets) {
    if (inherits(fit[[role]], "wf_net")) net_freeze(fit[[role]])
  }
  invisible(fit)
}

# A copy of a fit whose networks are new objects holding the values of
# their R copy (views read: the copy must not follow the original's C state;
# no C handle: it is rebuilt from the R copy on first use, as after
# readRDS()). Training or using the copy never changes the original.
copy_fit <- function(fit) {
  for (nm in names(fit)) {
    if (inherits(fit[[nm]], "wf_net")) fit[[nm]] <- copy_net(fit[[nm]])
  }
  fit
}

copy_net <- function(net) {
  out <- new.env(parent = emptyenv())
  for (nm in setdiff(ls(net, all.names = TRUE), c("ptr", "ptr_id"))) {
    assign(nm, plain_values(get(nm, envir = net)), envir = out)
  }
  out$ptr <- NULL
  class(out) <- class(net)
  out
}

# A fit's call without the values a do.call() put into it: a function
# object becomes the algorithm's name, a large value a short placeholder
# (`<matrix 272 x 2>`), so that a fit's size and its summary do not grow
# with its data.
compact_call <- function(call, name = NULL) {
  if (!is.call(call)) return(call)
  head <- call[[1L]]
  if (!is.symbol(head) && !(is.call(head) && identical(head[[1L]], as.name("::")))) {
    call[[1L]] <- as.name(name %||% "fun")
  }
  if (length(call) < 2L) return(call)
  for (i in 2:length(call)) {
    a <- call[[i]]
    if (is.null(a) || is.symbol(a)) next
    small <- if (is.atomic(a)) length(a) <= 8L && is.null(dim(a)) else
      if (is.call(a)) sum(nchar(deparse(a, width.cutoff = 500L))) <= 200L else FALSE
    if (!small) call[i] <- list(as.name(sprintf("<%s>", placeholder(a))))
  }
  call
}

placeholder <- function(x) {
  if (is_stack(x)) return(sprintf("wf_layers, %d layers", length(x$layers)))
  if (inherits(x, "wf_mlp_spec")) return(paste("wf_mlp", format_setting(x)))
  if (inherits(x, "wf_optimizer")) return(optimizer_label(x))
  if (is.function(x)) return("function")
  if (is.data.frame(x)) return(sprintf("data frame %d x %d", nrow(x), ncol(x)))
  if (is.matrix(x)) return(sprintf("matrix %d x %d", nrow(x), ncol(x)))
  if (is.call(x)) return("expression")
  sprintf("%s of length %d", class(x)[1L], length(x))
}

# A fit whose parts are what the methods read: a list of class wf_fit of a
# registered algorithm, settings a list, metrics NULL or a data frame with
# `epoch` and `seconds`, and a valid net in each role (`need`: roles that
# must be there, e.g. "generator"). Objects of the right class with the
# wrong contents get a classed error naming `arg`, not a base-R error.
check_fit <- function(fit, arg = "fit", need = NULL) {
  must <- "a fit from a wgflow trainer such as w1fe() or wgan()"
  if (!inherits(fit, "wf_fit")) arg_error(arg, must, fit)
  bad <- function(what) {
    wf_abort(sprintf("`%s` is not a valid wgflow fit: %s.", arg, what),
             class = "wgflow_error_arg", arg = arg)
  }
  if (!is.list(fit)) bad("it is not a list")
  algo <- fit_algorithm(fit)
  if (is.null(algo)) bad("its `family` names no known training algorithm")
  if (!is.list(fit$settings)) bad("its `settings` are missing")
  m <- fit$metrics
  if (!is.null(m) && (!is.data.frame(m) || !all(c("epoch", "seconds") %in% names(m)))) {
    bad("its `metrics` are not a data frame with `epoch` and `seconds`")
  }
  for (role in unique(c(algo$nets, need))) {
    if (!inherits(fit[[role]], "wf_net")) bad(sprintf("it has no `%s` network", role))
    tryCatch(check_net(fit[[role]], role), wgflow_error_arg = function(e) {
      # "`net` is not a valid wf_net: ... ." becomes "its `critic` is not ..."
      why <- sub("[.]+$", "", sub("^`[^`]*` ", "", conditionMessage(e)))
      bad(sprintf("its `%s` %s", role, why))
    })
  }
  for (part in c("data", "holdout")) {
    v <- fit[[part]]
    if (!is.null(v) && (!is.matrix(v) || !is.double(v))) bad(sprintf("its `%s` is not a numeric matrix", part))
  }
  fit
}

# Evaluates `expr` with R's RNG seeded by `seed` under R's default kinds
# (Mersenne-Twister, Inversion, Rejection), whatever kind the session uses
# (a future of wf_sweep() runs under L'Ecuyer-CMRG), then puts the kind and
# the state back. So a fit's random held-out rows and floor draws depend on
# its seed alone. With seed = NULL, simply evaluates `expr` on the global
# stream (the toy samples' default).
with_rng_seed <- function(seed, expr) {
  if (is.null(seed)) return(expr)
  env <- globalenv()
  kind <- RNGkind()
  had_seed <- exists(".Random.seed", envir = env, inherits = FALSE)
  if (had_seed) old_seed <- get(".Random.seed", envir = env, inherits = FALSE)
  on.exit({
    RNGkind(kind[1], kind[2], kind[3])
    if (had_seed) {
      assign(".Random.seed", old_seed, envir = env)
    } else if (exists(".Random.seed", envir = env, inherits = FALSE)) {
      rm(".Random.seed", envir = env)
    }
  }, add = TRUE)
  set.seed(seed, kind = "Mersenne-Twister", normal.kind = "Inversion",
           sample.kind = "Rejection")
  expr
}
