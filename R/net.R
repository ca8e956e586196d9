# Nets: a network built from a spec, its state held in C (on the device,
# behind an external pointer) and in an R copy (`params`, `state`, `opt`,
# `rng`: what saveRDS() keeps). The copy's long vectors are views of the C
# state (src/ffi-view.c) that read it when R first looks at them, so an
# engine call copies nothing up to R; saveRDS() reads them, so a saved net
# holds plain values. After readRDS() the pointer is dead and the net is
# rebuilt from the R copy on first use.

#' Build a network from a specification
#'
#' The low-level interface to the engine, used by the training functions and
#' the tests, and open to power users. A `wf_net` is a mutable object (an
#' environment): optimiser steps change it in place. Its state lives in the
#' engine, on its device; [wf_params()], [wf_state()] and `saveRDS()` read it
#' when called (so engine calls copy nothing back to R), and what they
#' returned keeps its values when the net changes later.
#'
#' @param spec A [wf_mlp()] or [wf_layers()] specification.
#' @param input_dim,output_dim Input and output widths. For a [wf_layers()]
#'   stack, `input_dim` may be left out when the stack's input shape is set
#'   (its size), a stack without one takes a flat input of `input_dim`
#'   values, and `output_dim` defaults to the stack's output size; given,
#'   both must match the stack's sizes.
#' @param seed `NULL` (draw the net's random stream from R's RNG, so
#'   `set.seed()` reproduces it) or a whole number.
#' @param device "cpu", "cuda" or "auto" (the GPU when one is usable; see
#'   [wf_device_info()]).
#' @return An object of class `wf_net`.
#' @seealso [wf_params()], [wf_forward()], [wf_critic_loss()].
#' @export
#' @examples
#' net <- wf_net(wf_mlp(c(16, 16)), input_dim = 2, output_dim = 1, seed = 1)
#' net
#' length(wf_params(net))
#' critic <- wf_net(wf_dcgan_critic(image = c(1, 16, 16), width = 8), seed = 1)
#' critic
#' dim(wf_forward(critic, matrix(0, 3, 256)))
wf_net <- function(spec, input_dim, output_dim = 1L, seed = NULL, device = "cpu") {
  check_spec(spec, "spec")
  stack <- is_stack(spec)
  if (missing(input_dim)) input_dim <- if (stack && !is.null(spec$input)) prod(spec$input)
  input_dim <- check_count(input_dim, "input_dim", max = 2^20)
  if (stack && missing(output_dim)) {
    output_dim <- stack_info(spec, input_dim, NULL, "spec")$output_dim
  }
  output_dim <- check_count(output_dim, "output_dim", max = 2^20)
  if (stack) stack_info(spec, input_dim, output_dim, "spec")
  if (isTRUE(spec$residual) && input_dim != output_dim) {
    wf_abort(sprintf("A residual net needs `input_dim` == `output_dim` (%d vs %d).",
                     input_dim, output_dim), class = "wgflow_error_arg",
             arg = "output_dim")
  }
  device <- resolve_device(device)
  new_net(spec, input_dim, output_dim, seed_key(seed), device)
}

# A net from validated arguments and a Philox key (two 32-bit halves);
# `arg` names the spec in errors (the argument it came from).
new_net <- function(spec, input_dim, output_dim, key, device, arg = "spec") {
  net <- new.env(parent = emptyenv())
  net$spec <- spec
  net$input_dim <- as.integer(input_dim)
  net$output_dim <- as.integer(output_dim)
  net$device <- device
  net$ptr <- .Call(ffi_net_create, spec_for_c(spec, input_dim, output_dim, arg), key,
                   device)
  net$ptr_id <- .Call(ffi_net_id, net$ptr)
  class(net) <- "wf_net"
  net_sync(net)
  net
}

# 32-bit halves of a 64-bit Philox key, from `seed` or from R's RNG.
seed_key <- function(seed) {
  if (is.null(seed)) {
    return(floor(stats::runif(2) * 4294967296))
  }
  seed <- check_count(seed, "seed", min = 0L)
  c(as.double(seed), 2654435769) # high half: a fixed odd constant
}

# A wf_net whose R copy is whole: a valid spec, widths, and parameter,
# state, optimiser and random-stream vectors of the lengths the spec gives
# (what a rebuild from the R copy needs), and a handle that is its own.
check_net <- function(net, arg = "net") {
  if (!inherits(net, "wf_net") || !is.environment(net)) arg_error(arg, "a wf_net", net)
  bad <- function(what) {
    # one full stop: `what` may be another check's sentence
    wf_abort(sprintf("`%s` is not a valid wf_net: %s.", arg, sub("[.]+$", "", what)),
             class = "wgflow_error_arg", arg = arg)
  }
  get0_ <- function(nm) get0(nm, envir = net, inherits = FALSE)
  spec <- get0_("spec")
  if (!valid_spec(spec)) bad("its `spec` is not a wf_mlp() or wf_layers() specification")
  dims <- c(get0_("input_dim") %||% NA, get0_("output_dim") %||% NA)
  if (!is.numeric(dims) || length(dims) != 2L || anyNA(dims) || any(dims < 1) ||
      any(dims != round(dims)) || any(dims > 2^20)) {
    bad("its `input_dim` and `output_dim` must be whole numbers >= 1")
  }
  n <- tryCatch(net_sizes(spec, dims[1], dims[2]), wgflow_error_arg = function(e) {
    bad(sub("^`[^`]*` ", "its `spec` ", conditionMessage(e)))
  })
  problem <- r_copy_problem(net, n)
  if (!is.null(problem)) bad(problem)
  device <- get0_("device")
  if (!is.character(device) || length(device) != 1L || !device %in% c("cpu", "cuda")) {
    bad("its `device` must be \"cpu\" or \"cuda\"")
  }
  ptr <- get0_("ptr")
  if (.Call(ffi_net_alive, ptr) && !identical(.Call(ffi_net_id, ptr), get0_("ptr_id"))) {
    bad("its handle belongs to another net (was `ptr` copied from one?)")
  }
  net
}

# What is wrong with a net's R copy, given the lengths `n` its spec gives
# (params, state), or NULL. A function of its own, with no closure in its
# frame: R then drops this frame's references to the copy's vectors when it
# returns, so a view checked here does not look held by someone else to
# net_freeze() (which would read it on every call).
r_copy_problem <- function(net, n) {
  params <- get0("params", envir = net, inherits = FALSE)
  # a view not read yet is the C net's own state: reading it to check it
  # would copy it up on every call
  if (!is.double(params) || length(params) != n[["params"]] ||
      (!view_unread(params) && !all_finite(params))) {
    return(sprintf("its `params` must be %d finite numbers", n[["params"]]))
  }
  state <- get0("state", envir = net, inherits = FALSE)
  if (!is.double(state) || length(state) != n[["state"]]) {
    return(sprintf("its `state` must be %d numbers", n[["state"]]))
  }
  opt <- get0("opt", envir = net, inherits = FALSE)
  if (!is.list(opt) || !is.double(opt$step) || length(opt$step) != 1L ||
      !is.double(opt$m1) || length(opt$m1) != n[["params"]] ||
      !is.double(opt$m2) || length(opt$m2) != n[["params"]]) {
    return("its optimiser state `opt` is not list(step, m1, m2) of the right lengths")
  }
  rng <- get0("rng", envir = net, inherits = FALSE)
  if (!is.double(rng) || length(rng) != 4L || anyNA(rng) || any(rng < 0) ||
      any(rng >= 4294967296) || any(rng != floor(rng))) {
    return("its random stream `rng` must be four 32-bit whole numbers")
  }
  NULL
}

# A spec that its constructor (wf_mlp() or wf_layers()) accepts again.
valid_spec <- function(spec) {
  if (!is_net_spec(spec) || !is.list(spec)) return(FALSE)
  # the spec last found valid: every call that takes a net checks its spec,
  # and rebuilding it through wf_mlp() took half of that check
  if (identical(spec, validated$spec)) return(TRUE)
  rebuilt <- tryCatch(if (is_stack(spec)) rebuild_stack(spec) else rebuild_mlp(spec),
                      error = function(e) NULL)
  if (is.null(rebuilt)) return(FALSE)
  validated$spec <- spec
  TRUE
}

rebuild_mlp <- function(spec) {
  fields <- c("hidden", "activation", "output_activation", "norm", "residual",
              "init", "init_sd", "leaky_slope")
  if (!all(fields %in% names(spec))) return(NULL)
  do.call(wf_mlp, unclass(spec)[fields])
}

rebuild_stack <- function(spec) {
  if (!all(c("layers", "init", "init_sd") %in% names(spec)) || !is.list(spec$layers) ||
      is.object(spec$layers)) {
    return(NULL)
  }
  wf_layers(spec$layers, input = spec$input, init = spec$init, init_sd = spec$init_sd)
}

# The list the C side reads to build a net (src/ffi-net.c). For a stack,
# its sizes are checked against input_dim and output_dim first (a classed
# error naming `arg`).
spec_for_c <- function(spec, input_dim, output_dim, arg = "spec") {
  if (!is_stack(spec)) return(mlp_for_c(spec, input_dim, output_dim))
  stack_info(spec, input_dim, output_dim, arg)$c_spec
}

# Objects the validators last accepted, compared with identical().
validated <- new.env(parent = emptyenv())

check_spec <- function(spec, arg) {
  if (!valid_spec(spec)) arg_error(arg, "a wf_mlp() or wf_layers() specification", spec)
  spec
}

# Lengths of a net's parameter and BatchNorm state vectors.
net_sizes <- function(spec, input_dim, output_dim) {
  if (is_stack(spec)) {
    info <- stack_info(spec, input_dim, output_dim, "spec")
    return(c(params = sum(info$params), state = sum(info$state)))
  }
  widths <- c(input_dim, spec$hidden, output_dim)
  L <- length(widths) - 1L
  params <- sum(widths[-1L] * widths[-(L + 1L)] + widths[-1L])
  hidden <- if (L > 1L) widths[2:L] else numeric()
  if (spec$norm != "none") params <- params + 2 * sum(hidden)
  c(params = params, state = if (spec$norm == "batch") 2 * sum(hidden) else 0)
}

# The live external pointer, rebuilt from the R copy if it died (readRDS,
# a copy of a fit). A handle that belongs to another net is refused. Every
# engine call takes its handle here, so this is also where the views of the
# R copy that someone else holds are read, before the call changes the net.
net_ptr <- function(net, arg = "net") {
  if (.Call(ffi_net_alive, net$ptr)) {
    if (!identical(.Call(ffi_net_id, net$ptr), net$ptr_id)) check_net(net, arg)
    net_freeze(net)
  } else {
    # a net saved on a GPU is rebuilt on the CPU where no GPU is usable
    if (identical(net$device, "cuda") && !is.null(gpu_refusal <- cuda_training_refusal())) {
      message("wgflow: rebuilding a GPU net on the CPU (", gpu_refusal, ").")
      net$device <- "cpu"
    }
    ptr <- .Call(ffi_net_create, spec_for_c(net$spec, net$input_dim, net$output_dim),
                 net$rng[1:2], net$device)
    .Call(ffi_net_set, ptr, 0L, net$params)
    .Call(ffi_net_set, ptr, 1L, net$state)
    .Call(ffi_net_set_opt, ptr, net$opt$step, net$opt$m1, net$opt$m2)
    .Call(ffi_net_set_rng, ptr, net$rng)
    net$ptr <- ptr
    net$ptr_id <- .Call(ffi_net_id, ptr)
    net_sync(net) # the R copy's views now follow the new handle
  }
  net$ptr
}

# Bring the R copy up to the C state after anything that changed it: the
# long vectors become views (read when R looks at them), the step count and
# random stream are written. Costs no copy of the values.
net_sync <- function(net) {
  .Call(ffi_net_sync, net$ptr, net)
  invisible(net)
}

# Before the C net changes: the views of its R copy that another R object
# holds are read, so they keep the values they show now.
net_freeze <- function(net) {
  .Call(ffi_net_freeze, net)
  invisible(net)
}

# A vector of a net's R copy as plain values (a view read from the engine;
# a list, such as `opt`, with its views read); anything else as it is.
plain_values <- function(x) .Call(ffi_view_plain, x)

# Is x a view of a net's state that has not been read yet?
view_unread <- function(x) .Call(ffi_view_unread, x)

#' Parameters of a net
#'
#' `wf_params()` returns all parameters as one numeric vector, in the layout
#' of [wf_param_layout()] (the order of PyTorch's `named_parameters()` for
#' the same `nn.Sequential`, each weight matrix flattened by rows).
#' `wf_params<-` replaces them. `wf_state()` returns the BatchNorm running
#' statistics (for each BatchNorm layer: running mean, then running
#' variance).
#'
#' `wf_param_layout()` says where each parameter tensor lies: its `name`
#' (PyTorch's: `linear1.weight`, `norm1.bias` for an MLP; `conv1.weight`,
#' `convt1.weight`, `bn1.weight`, `ln1.bias`, `linear1.weight` for a
#' [wf_layers()] stack, numbered by kind), the `layer` it belongs to, its
#' `kind` ("weight", "bias", "gamma", "beta"), its `shape` (e.g.
#' "64 x 1 x 4 x 4": a convolution's `[out][in][k][k]`, a transposed
#' convolution's `[in][out][k][k]`, a LayerNorm's `h x w x c`, channels
#' last), `rows` (its first dimension) and `cols` (the others' product),
#' `offset` and `length` in `wf_params()`.
#'
#' @param net A [wf_net()].
#' @param value A numeric vector of the same length, all finite.
#' @return A numeric vector (`wf_params<-` returns the net;
#'   `wf_param_layout()` a data frame).
#' @export
#' @examples
#' net <- wf_net(wf_mlp(4), 2, 1, seed = 1)
#' p <- wf_params(net)
#' wf_params(net) <- p * 0.5
wf_params <- function(net) {
  check_net(net)
  plain_values(net$params)
}

#' @rdname wf_params
#' @export
`wf_params<-` <- function(net, value) {
  check_net(net)
  n <- length(net$params)
  if (!is.numeric(value) || length(value) != n || !all_finite(value)) {
    arg_error("value", sprintf("a finite numeric vector of length %d", n), value)
  }
  .Call(ffi_net_set, net_ptr(net), 0L, as.double(value))
  net_sync(net)
  net
}

#' @rdname wf_params
#' @export
wf_state <- function(net) {
  check_net(net)
  plain_values(net$state)
}

#' @rdname wf_params
#' @export
wf_param_layout <- function(net) {
  check_net(net)
  if (is_stack(net$spec)) return(stack_param_layout(net))
  widths <- c(net$input_dim, net$spec$hidden, net$output_dim)
  L <- length(widths) - 1L
  rows <- list()
  offset <- 0
  add <- function(name, layer, kind, r, c) {
    rows[[length(rows) + 1L]] <<- data.frame(
      name = name, layer = layer, kind = kind, rows = r, cols = c,
      offset = offset, length = r * c,
      shape = if (c == 1) format(r) else paste(r, "x", c), stringsAsFactors = FALSE)
    offset <<- offset + r * c
  }
  for (l in seq_len(L)) {
    add(sprintf("linear%d.weight", l), l, "weight", widths[l + 1L], widths[l])
    add(sprintf("linear%d.bias", l), l, "bias", widths[l + 1L], 1L)
    if (l < L && net$spec$norm != "none") {
      add(sprintf("norm%d.weight", l), l, "gamma", widths[l + 1L], 1L)
      add(sprintf("norm%d.bias", l), l, "beta", widths[l + 1L], 1L)
    }
  }
  do.call(rbind, rows)
}

#' @export
print.wf_net <- function(x, ...) {
  check_net(x, "x")
  cat(sprintf("<wf_net> %s, %d parameters, %s\n", net_description(x), length(x$params),
              x$device))
  invisible(x)
}

# A net in words: "2 -> 16 -> 16 -> 1, relu, layer norm" for an MLP, its
# shapes and layers for a stack (stack_description()).
net_description <- function(net) {
  spec <- net$spec
  if (is_stack(spec)) return(stack_description(net))
  widths <- paste(c(net$input_dim, spec$hidden, net$output_dim), collapse = " -> ")
  extras <- c(spec$activation,
              if (!identical(spec$norm, "none")) paste(spec$norm, "norm"),
              if (isTRUE(spec$residual)) "residual")
  paste0(widths, ", ", paste(extras, collapse = ", "))
}

#' Number of CPU threads
#'
#' The CPU backend splits matrix products and long elementwise operations
#' over this many OpenMP threads. When wgflow is loaded the number is 1 on
#' machines with fewer than four cores and 2 otherwise: on two cores a
#' second thread makes every step wait whenever another process is busy (a
#' loaded two-core machine ran 6.7 times slower with 2 threads), so ask for
#' it only on an otherwise idle machine. Within [wf_sweep()] workers, use 1.
#' Asking for more threads than the machine has cores warns: they would
#' only wait for each other.
#'
#' @param n `NULL` to query, or a whole number >= 1 to set.
#' @return The previous number of threads (invisibly when setting).
#' @export
#' @examples
#' wf_threads()          # the current number
#' old <- wf_threads(1)
#' wf_threads(old)
wf_threads <- function(n = NULL) {
  if (is.null(n)) return(.Call(ffi_threads, NULL))
  n <- check_count(n, "n", max = 1024L)
  cores <- .Call(ffi_cpu_cores)
  if (n > cores) {
    wf_warn(sprintf(paste0("wf_threads(%d): this machine has %d core%s; more threads ",
                           "than cores only wait for each other."), n, cores,
                    if (cores == 1L) "" else "s"), class = "wgflow_warning_threads")
  }
  invisible(.Call(ffi_threads, n))
}

# Bytes of C memory held by live nets, as counted for R's collector
# (src/ffi-net.c), and the count at which creating a net next collects.
net_memory <- function() .Call(ffi_net_memory)
