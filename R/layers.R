# Networks as stacks of typed layers: the layer constructors, wf_layers(),
# the DCGAN nets of the image experiments, and the list the C core reads
# (src/ffi-net.c; shapes and sizes come from ffi_stack_shapes, so R never
# repeats the core's shape rules). A layer keeps its constructor's
# arguments, so a stored spec is validated by building it again.

layer_kinds <- c("dense", "conv2d", "conv_transpose2d", "batch_norm", "layer_norm",
                 "activation", "reshape", "flatten")

# The most layers a stack may have (WF_MAX_LAYERS in src/core/wf.h).
max_layers <- 32L
max_units <- 2^20
max_channels <- 2^16
max_geometry <- 1024L # kernel, stride, padding

new_layer <- function(kind, ...) {
  structure(list(kind = kind, ...), class = "wf_layer")
}

#' Layers of a network stack
#'
#' Constructors of the layers that [wf_layers()] stacks into a network,
#' named and parameterised like PyTorch's `nn_linear()`, `nn_conv2d()`, ...
#' (keras: `layer_dense()`, `layer_conv_2d()`, ...). Tensors between layers
#' have a shape `c(C, H, W)` (channels, rows, columns); a flat vector of
#' `n` values is `c(n, 1, 1)`, and a row of data holds the `C x H x W`
#' values in PyTorch's order (channel, then row, then column).
#'
#' * `wf_dense()`: a fully connected layer over a flat input (put
#'   [wf_flatten()] after image layers), giving `units` values.
#' * `wf_conv2d()`: a 2-D convolution with a square kernel, zero padding
#'   and `channels` output channels; an `H x W` input gives
#'   `floor((H + 2 padding - kernel) / stride) + 1` rows (and so columns).
#' * `wf_conv_transpose2d()`: the transposed convolution (the upsampling of
#'   DCGAN generators): `(H - 1) stride - 2 padding + kernel +
#'   output_padding` rows.
#' * `wf_batch_norm()`: BatchNorm over each channel (batch and pixels);
#'   not in critics whose penalty needs a double backward.
#' * `wf_layer_norm()`: LayerNorm over all values of each sample, with a
#'   scale and shift per value.
#' * `wf_activation()` and its shortcuts `wf_relu()`, `wf_leaky_relu()`,
#'   `wf_tanh()`, `wf_sigmoid()`: elementwise activations.
#' * `wf_reshape()`: the same values seen with another shape (PyTorch's
#'   `view()`); `wf_flatten()`: to a flat vector.
#'
#' @param units Number of outputs (>= 1).
#' @param bias Whether the layer adds a learnt bias.
#' @param channels Number of output channels (>= 1).
#' @param kernel The side of the square kernel (>= 1).
#' @param stride The step between kernel positions (>= 1).
#' @param padding Zeros added on each side of the input (>= 0).
#' @param output_padding Rows and columns added on one side of the output
#'   of a transposed convolution (>= 0, smaller than `stride`).
#' @param name The activation: "relu", "leaky_relu", "tanh", "sigmoid",
#'   "softplus", "elu" or "identity".
#' @param slope The negative slope of "leaky_relu".
#' @param shape The new shape: `c(C, H, W)`, or a single number `n` for a
#'   flat vector (`c(n, 1, 1)`).
#' @return An object of class `wf_layer`.
#' @seealso [wf_layers()], [wf_dcgan_generator()].
#' @export
#' @examples
#' wf_conv2d(64, kernel = 4, stride = 2, padding = 1)
#' wf_conv_transpose2d(1, 4, stride = 2, padding = 1)
#' wf_leaky_relu(0.2)
#' wf_reshape(c(128, 7, 7))
wf_dense <- function(units, bias = TRUE) {
  new_layer("dense", units = check_count(units, "units", max = max_units),
            bias = check_flag(bias, "bias"))
}

#' @rdname wf_dense
#' @export
wf_conv2d <- function(channels, kernel, stride = 1, padding = 0, bias = TRUE) {
  new_layer("conv2d", channels = check_count(channels, "channels", max = max_channels),
            kernel = check_count(kernel, "kernel", max = max_geometry),
            stride = check_count(stride, "stride", max = max_geometry),
            padding = check_count(padding, "padding", min = 0L, max = max_geometry),
            bias = check_flag(bias, "bias"))
}

#' @rdname wf_dense
#' @export
wf_conv_transpose2d <- function(channels, kernel, stride = 1, padding = 0,
                                output_padding = 0, bias = TRUE) {
  channels <- check_count(channels, "channels", max = max_channels)
  kernel <- check_count(kernel, "kernel", max = max_geometry)
  stride <- check_count(stride, "stride", max = max_geometry)
  padding <- check_count(padding, "padding", min = 0L, max = max_geometry)
  output_padding <- check_count(output_padding, "output_padding", min = 0L,
                                max = max_geometry)
  # as PyTorch: a larger output padding would add rows no kernel reaches
  if (output_padding >= stride) {
    wf_abort(sprintf("`output_padding` (%d) must be smaller than `stride` (%d).",
                     output_padding, stride), class = "wgflow_error_arg",
             arg = "output_padding")
  }
  new_layer("conv_transpose2d", channels = channels, kernel = kernel, stride = stride,
            padding = padding, output_padding = output_padding,
            bias = check_flag(bias, "bias"))
}

#' @rdname wf_dense
#' @export
wf_batch_norm <- function() new_layer("batch_norm")

#' @rdname wf_dense
#' @export
wf_layer_norm <- function() new_layer("layer_norm")

#' @rdname wf_dense
#' @export
wf_activation <- function(name, slope = 0.2) {
  check_choice(name, wf_choices("activation"), "name")
  slope <- check_number(slope, "slope")
  # the slope belongs to leaky_relu alone; others keep 0, so that two
  # equal layers are identical()
  new_layer("activation", name = name, slope = if (name == "leaky_relu") slope else 0)
}

#' @rdname wf_dense
#' @export
wf_relu <- function() wf_activation("relu")

#' @rdname wf_dense
#' @export
wf_leaky_relu <- function(slope = 0.2) wf_activation("leaky_relu", slope)

#' @rdname wf_dense
#' @export
wf_tanh <- function() wf_activation("tanh")

#' @rdname wf_dense
#' @export
wf_sigmoid <- function() wf_activation("sigmoid")

#' @rdname wf_dense
#' @export
wf_reshape <- function(shape) new_layer("reshape", shape = check_shape(shape, "shape"))

#' @rdname wf_dense
#' @export
wf_flatten <- function() new_layer("flatten")

# A tensor shape c(C, H, W) from three whole numbers >= 1 (or one, a flat
# vector c(n, 1, 1)); `three`: only the long form.
check_shape <- function(x, arg, three = FALSE) {
  lengths <- if (three) 3L else c(1L, 3L)
  ok <- is.numeric(x) && length(x) %in% lengths && all(is.finite(x)) &&
    all(x == round(x)) && all(x >= 1) && all(x <= 2^24) && prod(x) <= 2^31 - 1
  if (!ok) {
    must <- if (three) "three whole numbers c(C, H, W) >= 1" else
      "a shape c(C, H, W) or a single size n: whole numbers >= 1"
    arg_error(arg, must, x)
  }
  x <- as.integer(x)
  if (length(x) == 1L) c(x, 1L, 1L) else x
}

# The constructor of each layer kind, called with a stored layer's
# arguments to validate it again.
layer_constructors <- list(
  dense = function(...) wf_dense(...), conv2d = function(...) wf_conv2d(...),
  conv_transpose2d = function(...) wf_conv_transpose2d(...),
  batch_norm = function(...) wf_batch_norm(...), layer_norm = function(...) wf_layer_norm(...),
  activation = function(...) wf_activation(...), reshape = function(...) wf_reshape(...),
  flatten = function(...) wf_flatten(...)
)

# A layer built again from its stored arguments (an error for anything
# that is not one, whatever was edited in it).
rebuild_layer <- function(layer) {
  if (!inherits(layer, "wf_layer") || !is.list(layer) || is.null(names(layer))) {
    stop("not a layer", call. = FALSE)
  }
  kind <- layer$kind
  if (!is.character(kind) || length(kind) != 1L || !kind %in% layer_kinds) {
    stop("not a layer kind", call. = FALSE)
  }
  do.call(layer_constructors[[kind]], unclass(layer)[setdiff(names(layer), "kind")])
}

#' A network as a stack of layers
#'
#' Describes a network as a sequence of layers ([wf_dense()],
#' [wf_conv2d()], [wf_conv_transpose2d()], [wf_batch_norm()],
#' [wf_layer_norm()], activations, [wf_reshape()], [wf_flatten()]), like
#' PyTorch's `nn_sequential()` or a keras sequential model. Every training
#' function takes such a stack wherever it takes a [wf_mlp()]: as a critic,
#' a generator or a potential. Its parameters are laid out as PyTorch's
#' `named_parameters()` of the same layers ([wf_param_layout()]).
#'
#' The input shape is `input`, or, when `NULL`, filled in when a model is
#' built: from the data's image shape for a net that takes the data (a
#' critic or potential on a matrix with an `"image_shape"` attribute, such
#' as [wf_images()]`$x`, or on a 4-d array `[n, C, H, W]`), and otherwise
#' a flat vector of the net's input width. A generator's input is its
#' latent vector (`c(latent_dim, 1, 1)`); a generator with a fixed `input`
#' sets the latent dimension of a fit. The last layer's output must have
#' the number of values the role needs (1 for a critic, the data's columns
#' for a generator).
#'
#' Printing a stack lists each layer with its output shape and number of
#' parameters once the input shape is known.
#'
#' @param ... Layers, or lists of layers (spliced), or stacks (their layers
#'   spliced); 1 to 32 in all. `NULL` entries are left out, so
#'   `if (norm) wf_layer_norm()` can stand among them.
#' @param input `NULL` (see above), the input shape `c(C, H, W)`, or a
#'   single number `n` for a flat input of `n` values.
#' @param init "torch" (PyTorch's default initialisation of each layer:
#'   weights and biases uniform on `(-1/sqrt(fan_in), 1/sqrt(fan_in))`,
#'   norms' scale 1 and shift 0) or "normal" (weights `N(0, init_sd^2)`,
#'   biases 0: the DCGAN paper's).
#' @param init_sd Standard deviation for `init = "normal"`.
#' @return An object of class `wf_layers_spec`.
#' @seealso [wf_dense()] for the layers, [wf_dcgan_generator()] and
#'   [wf_dcgan_critic()] for the DCGAN nets, [wf_net()] to build one.
#' @export
#' @examples
#' critic <- wf_layers(
#'   wf_conv2d(16, kernel = 4, stride = 2, padding = 1), wf_leaky_relu(0.2),
#'   wf_conv2d(32, kernel = 4, stride = 2, padding = 1), wf_leaky_relu(0.2),
#'   wf_flatten(), wf_dense(1),
#'   input = c(1, 28, 28)
#' )
#' critic
#' # an MLP as a stack, its input filled in from the data
#' wf_layers(wf_dense(64), wf_relu(), wf_dense(1))
wf_layers <- function(..., input = NULL, init = "torch", init_sd = 0.02) {
  layers <- splice_layers(list(...))
  if (length(layers) < 1L || length(layers) > max_layers) {
    wf_abort(sprintf("`...` must hold 1 to %d layers, not %d.", max_layers, length(layers)),
             class = "wgflow_error_arg", arg = "...")
  }
  if (!is.null(input)) input <- check_shape(input, "input")
  check_choice(init, wf_choices("init"), "init")
  init_sd <- check_number(init_sd, "init_sd", min = 0)
  structure(list(layers = layers, input = input, init = init, init_sd = init_sd),
            class = "wf_layers_spec")
}

# The layers of wf_layers()'s `...`: layers, lists of layers and stacks,
# each layer validated again.
splice_layers <- function(items) {
  out <- list()
  for (i in seq_along(items)) {
    item <- items[[i]]
    if (is.null(item)) next # `if (cond) layer` left out
    parts <- if (inherits(item, "wf_layers_spec")) item$layers else
      if (inherits(item, "wf_layer")) list(item) else
        if (is.list(item) && !is.object(item)) item else list(item)
    for (layer in parts) {
      if (is.null(layer)) next
      rebuilt <- tryCatch(rebuild_layer(layer), error = function(e) NULL)
      if (is.null(rebuilt)) {
        wf_abort(sprintf(paste0("Element %d of `...` must be a layer (wf_dense(), ",
                                "wf_conv2d(), wf_relu(), ...), a list of layers or a ",
                                "stack, not %s."), i, describe(layer)),
                 class = "wgflow_error_arg", arg = "...")
      }
      out[[length(out) + 1L]] <- rebuilt
    }
  }
  out
}

# ---- the DCGAN nets --------------------------------------------------------

# The upsamplings of a DCGAN for square images c(C, S, S): S halves while
# it is even and above 7 (28 -> 7 in two, 32 -> 4 in three, 64 -> 4 in four).
dcgan_geometry <- function(image) {
  image <- check_shape(image, "image", three = TRUE)
  if (image[2] != image[3]) {
    wf_abort(sprintf("`image` must be square, c(C, S, S), not %s.", format_shape(image)),
             class = "wgflow_error_arg", arg = "image")
  }
  base <- image[2]
  n_up <- 0L
  while (base %% 2L == 0L && base > 7L) {
    base <- base %/% 2L
    n_up <- n_up + 1L
  }
  if (n_up < 1L) {
    wf_abort(sprintf(paste0("`image` sides must halve at least once to 7 or less through ",
                            "even sides (e.g. 28, 32, 64), not %d."), image[2]),
             class = "wgflow_error_arg", arg = "image")
  }
  list(image = image, n_up = n_up, base = base)
}

#' The DCGAN generator and critic
#'
#' The convolutional nets of DCGAN (Radford, Metz and Chintala), as the
#' image experiments of WGAN-GP, W1-FE, RWP and OTS use them, for square
#' images `c(C, S, S)`. The side halves while it is even and above 7 (28 to
#' 7 in two steps, 32 to 4 in three, 64 to 4 in four); each step is a
#' stride-2 (transposed) convolution with a 4 x 4 kernel and padding 1.
#'
#' * Generator: `latent_dim` -> [wf_dense()] to `width * 2^(steps - 1)`
#'   channels of the base side -> [wf_reshape()] -> BatchNorm -> ReLU, then
#'   per step a transposed convolution halving the channels, BatchNorm and
#'   ReLU, the last one to `C` channels followed by the `output`
#'   activation (tanh for data in \[-1, 1\], as [wf_images()]).
#' * Critic: per step a convolution (`width` channels, then doubling),
#'   LayerNorm after all but the first when `norm = "layer"` (WGAN-GP's
#'   critic: no BatchNorm under a gradient penalty), LeakyReLU(0.2); then
#'   [wf_flatten()] and [wf_dense()] to one output.
#'
#' Both start from the DCGAN paper's initialisation, weights `N(0, 0.02^2)`
#' and biases 0, and have their input shape set, so a generator fixes a
#' fit's latent dimension.
#'
#' @param latent_dim The generator's input width.
#' @param image The images' shape `c(C, H, W)` (square: H = W).
#' @param width Channels of the critic's first convolution and of the
#'   generator's last hidden one (64 in the paper; smaller is faster).
#' @param output The generator's output activation: "tanh", "sigmoid" or
#'   "identity".
#' @param norm The critic's normalisation: "none" or "layer".
#' @return A [wf_layers()] specification.
#' @references Radford, Metz, Chintala (2016). Unsupervised representation
#'   learning with deep convolutional generative adversarial networks.
#'   ICLR.
#'
#'   Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville (2017). Improved
#'   training of Wasserstein GANs. NeurIPS.
#' @export
#' @examples
#' wf_dcgan_generator(latent_dim = 100, image = c(1, 28, 28))
#' wf_dcgan_critic(image = c(1, 32, 32), width = 32, norm = "layer")
wf_dcgan_generator <- function(latent_dim = 100, image = c(1, 28, 28), width = 64,
                               output = "tanh") {
  latent_dim <- check_count(latent_dim, "latent_dim", max = max_units)
  g <- dcgan_geometry(image)
  top <- dcgan_top_channels(width, g)
  check_choice(output, c("tanh", "sigmoid", "identity"), "output")
  layers <- list(wf_dense(top * g$base^2), wf_reshape(c(top, g$base, g$base)),
                 wf_batch_norm(), wf_relu())
  channels <- top
  for (i in seq_len(g$n_up - 1L)) {
    channels <- channels %/% 2L
    layers <- c(layers, list(wf_conv_transpose2d(channels, 4, stride = 2, padding = 1),
                             wf_batch_norm(), wf_relu()))
  }
  layers <- c(layers, list(wf_conv_transpose2d(g$image[1], 4, stride = 2, padding = 1),
                           wf_activation(output)))
  wf_layers(layers, input = latent_dim, init = "normal", init_sd = 0.02)
}

#' @rdname wf_dcgan_generator
#' @export
wf_dcgan_critic <- function(image = c(1, 28, 28), width = 64, norm = c("none", "layer")) {
  g <- dcgan_geometry(image)
  dcgan_top_channels(width, g)
  if (identical(norm, c("none", "layer"))) norm <- "none"
  check_choice(norm, c("none", "layer"), "norm")
  width <- as.integer(width)
  layers <- list(wf_conv2d(width, 4, stride = 2, padding = 1), wf_leaky_relu(0.2))
  channels <- width
  for (i in seq_len(g$n_up - 1L)) {
    channels <- channels * 2L
    layers <- c(layers, list(wf_conv2d(channels, 4, stride = 2, padding = 1)),
                if (norm == "layer") list(wf_layer_norm()), list(wf_leaky_relu(0.2)))
  }
  layers <- c(layers, list(wf_flatten(), wf_dense(1)))
  wf_layers(layers, input = g$image, init = "normal", init_sd = 0.02)
}

# The widest convolution's channels, width * 2^(steps - 1), checked (with
# the generator's first dense layer) against the layers' limits.
dcgan_top_channels <- function(width, g) {
  width <- check_count(width, "width", max = max_channels)
  top <- width * 2^(g$n_up - 1L)
  if (top > max_channels || top * g$base^2 > max_units) {
    wf_abort(sprintf(paste0("`width` (%d) is too large for %s images: the widest layer ",
                            "would have %.0f channels of %d x %d."), width,
                     format_shape(g$image), top, g$base, g$base),
             class = "wgflow_error_arg", arg = "width")
  }
  as.integer(top)
}

# ---- spec helpers the families and nets share ------------------------------

is_stack <- function(spec) inherits(spec, "wf_layers_spec")

is_net_spec <- function(x) inherits(x, c("wf_mlp_spec", "wf_layers_spec"))

stack_kinds <- function(spec) vapply(spec$layers, function(l) l$kind, character(1))

# Whether a spec normalises by batch statistics: such a net has no double
# backward, so no gradient penalty can go through it.
uses_batch_norm <- function(spec) {
  if (is_stack(spec)) "batch_norm" %in% stack_kinds(spec) else identical(spec$norm, "batch")
}

# The image shape c(C, H, W) a data matrix carries, or NULL.
image_shape <- function(x) attr(x, "image_shape", exact = TRUE)

# The spec of a net that takes rows of data of this image shape (NULL: not
# images): a stack without an input shape gets it.
with_input_shape <- function(spec, shape) {
  if (is_stack(spec) && is.null(spec$input) && !is.null(shape)) spec$input <- shape
  spec
}

# The latent dimension of a generator: a stack with a fixed input sets it
# (an explicit, different `latent_dim` is an error); otherwise `latent_dim`,
# or `default` when it is NULL.
resolve_latent_dim <- function(generator, latent_dim, default) {
  fixed <- if (is_stack(generator) && !is.null(generator$input)) {
    as.integer(prod(generator$input))
  }
  if (is.null(latent_dim)) return(fixed %||% as.integer(default))
  latent_dim <- check_count(latent_dim, "latent_dim", max = max_units)
  if (!is.null(fixed) && latent_dim != fixed) {
    wf_abort(sprintf(paste0("`latent_dim` (%d) differs from the %d inputs of the ",
                            "`generator` stack (%s); leave it NULL."), latent_dim, fixed,
                     format_shape(generator$input)),
             class = "wgflow_error_arg", arg = "latent_dim")
  }
  latent_dim
}

# "128x7x7", or "6272" for a flat shape.
format_shape <- function(shape) {
  shape <- as.integer(shape)
  if (length(shape) == 3L && shape[2] == 1L && shape[3] == 1L) return(as.character(shape[1]))
  paste(shape, collapse = "x")
}

# ---- the C side's list, shapes and sizes -----------------------------------

# One layer as the C list's columns.
layer_for_c <- function(layer) {
  out <- list(kind = layer$kind, units = 0L, kernel = 0L, stride = 1L, padding = 0L,
              output_padding = 0L, bias = 0L, activation = "", slope = 0,
              shape = c(0L, 0L, 0L))
  switch(layer$kind,
    dense = {
      out$units <- layer$units
      out$bias <- as.integer(layer$bias)
    },
    conv2d = , conv_transpose2d = {
      out$units <- layer$channels
      out$kernel <- layer$kernel
      out$stride <- layer$stride
      out$padding <- layer$padding
      out$output_padding <- layer$output_padding %||% 0L
      out$bias <- as.integer(layer$bias)
    },
    activation = {
      out$activation <- layer$name
      out$slope <- as.double(layer$slope)
    },
    reshape = out$shape <- layer$shape
  )
  out
}

# The list src/ffi-net.c reads for a stack whose input has shape in_shape.
stack_for_c <- function(spec, in_shape) {
  layers <- lapply(spec$layers, layer_for_c)
  column <- function(name, type) vapply(layers, function(l) l[[name]], type)
  shape <- matrix(as.integer(unlist(lapply(layers, `[[`, "shape"))), ncol = 3L, byrow = TRUE)
  list(in_shape = as.integer(in_shape), kind = column("kind", character(1)),
       units = column("units", integer(1)), kernel = column("kernel", integer(1)),
       stride = column("stride", integer(1)), padding = column("padding", integer(1)),
       output_padding = column("output_padding", integer(1)),
       bias = column("bias", integer(1)), activation = column("activation", character(1)),
       slope = column("slope", double(1)), shape = shape, init = spec$init,
       init_sd = as.double(spec$init_sd))
}

# The core's shapes of a stack on an input of shape in_shape: the C list,
# `shapes` (a matrix of c, h, w with a row for the input and one per
# layer), `params` and `state` per layer. A layer that does not fit is a
# classed error naming `arg`.
stack_shapes <- function(spec, in_shape, arg) {
  c_spec <- stack_for_c(spec, in_shape)
  out <- tryCatch(.Call(ffi_stack_shapes, c_spec), wgflow_error_arg = function(e) {
    wf_abort(sprintf("`%s` does not fit its input (%s): %s", arg, format_shape(in_shape),
                     conditionMessage(e)), class = "wgflow_error_arg", arg = arg)
  })
  list(c_spec = c_spec, shapes = cbind(c = out$c, h = out$h, w = out$w),
       params = out$params, state = out$state)
}

# stack_shapes() for a net of input_dim inputs and output_dim outputs
# (NULL: any): the input shape is the stack's `input` or a flat vector of
# input_dim values, and both sizes must agree (a classed error naming
# `arg`). The last result is kept: every call on a net checks its sizes.
stack_info <- function(spec, input_dim, output_dim = NULL, arg = "spec") {
  key <- list(spec, input_dim, output_dim)
  if (identical(key, validated$stack_key)) return(validated$stack_info)
  in_shape <- spec$input %||% c(as.integer(input_dim), 1L, 1L)
  info <- stack_shapes(spec, in_shape, arg)
  sizes <- apply(info$shapes, 1L, prod)
  if (sizes[1] != input_dim) {
    wf_abort(sprintf("`%s` takes inputs of shape %s (%.0f values), but its input here has %.0f.",
                     arg, format_shape(in_shape), sizes[1], input_dim),
             class = "wgflow_error_arg", arg = arg)
  }
  n_out <- sizes[length(sizes)]
  if (!is.null(output_dim) && n_out != output_dim) {
    wf_abort(sprintf("`%s` gives outputs of shape %s (%.0f values), but %.0f are needed here.",
                     arg, format_shape(info$shapes[nrow(info$shapes), ]), n_out, output_dim),
             class = "wgflow_error_arg", arg = arg)
  }
  info$output_dim <- as.integer(n_out)
  validated$stack_key <- key
  validated$stack_info <- info
  info
}

# ---- printing --------------------------------------------------------------

# "conv2d(64, kernel 4, stride 2, padding 1)", "leaky_relu(0.2)", ...
format_layer <- function(layer) {
  no_bias <- if (isFALSE(layer$bias)) ", no bias" else ""
  switch(layer$kind,
    dense = sprintf("dense(%d%s)", layer$units, no_bias),
    conv2d = , conv_transpose2d = sprintf(
      "%s(%d, kernel %d, stride %d, padding %d%s%s)", layer$kind, layer$channels,
      layer$kernel, layer$stride, layer$padding,
      if ((layer$output_padding %||% 0L) > 0L) {
        sprintf(", output_padding %d", layer$output_padding)
      } else "", no_bias),
    activation = if (layer$name == "leaky_relu") {
      sprintf("leaky_relu(%s)", format(layer$slope))
    } else layer$name,
    reshape = sprintf("reshape(%s)", paste(layer$shape, collapse = ", ")),
    layer$kind)
}

# One line for settings and labels: the layers, compactly, and the input.
format_stack <- function(spec) {
  short <- vapply(spec$layers, function(l) {
    switch(l$kind,
      dense = sprintf("dense %d%s", l$units, if (isFALSE(l$bias)) " no bias" else ""),
      conv2d = , conv_transpose2d = sprintf(
        "%s %d k%d s%d p%d%s%s", l$kind, l$channels, l$kernel, l$stride, l$padding,
        if ((l$output_padding %||% 0L) > 0L) sprintf(" op%d", l$output_padding) else "",
        if (isFALSE(l$bias)) " no bias" else ""),
      activation = if (l$name == "leaky_relu") {
        sprintf("leaky_relu %s", format(l$slope))
      } else l$name,
      reshape = sprintf("reshape %s", format_shape(l$shape)),
      l$kind)
  }, character(1))
  paste0(paste(short, collapse = " > "),
         if (!is.null(spec$input)) sprintf(" (input %s)", format_shape(spec$input)) else "")
}

# The shapes a stack passes through, each once: "100 -> 6272 -> 128x7x7 -> ...".
shape_chain <- function(shapes) {
  labels <- apply(shapes, 1L, format_shape)
  keep <- c(TRUE, labels[-1L] != labels[-length(labels)])
  paste(labels[keep], collapse = " -> ")
}

#' @export
print.wf_layers_spec <- function(x, ...) {
  check_spec(x, "x")
  n <- length(x$layers)
  # shapes first, so that a stack that does not fit prints nothing
  info <- if (!is.null(x$input)) stack_shapes(x, x$input, "x")
  cat(sprintf("<wf_layers_spec> %d layer%s, input %s, init %s%s\n", n,
              if (n == 1L) "" else "s",
              if (is.null(x$input)) "from the data" else format_shape(x$input), x$init,
              if (x$init == "normal") sprintf(" (sd %s)", format(x$init_sd)) else ""))
  labels <- vapply(x$layers, format_layer, character(1))
  if (is.null(x$input)) {
    cat(sprintf("  %2d  %s\n", seq_len(n), labels), sep = "")
    cat("  (output shapes and parameters appear once the input shape is known)\n")
    return(invisible(x))
  }
  outputs <- apply(info$shapes[-1L, , drop = FALSE], 1L, format_shape)
  params <- format(info$params, big.mark = ",", scientific = FALSE)
  w <- max(nchar(labels), 5L)
  wo <- max(nchar(outputs), 6L)
  wp <- max(nchar(params), 10L)
  cat(sprintf("  %2s  %-*s  %-*s  %*s\n", "", w, "layer", wo, "output", wp, "parameters"))
  cat(sprintf("  %2d  %-*s  %-*s  %*s\n", seq_len(n), w, labels, wo, outputs, wp, params),
      sep = "")
  state <- sum(info$state)
  cat(sprintf("  total: %s parameters%s\n",
              format(sum(info$params), big.mark = ",", scientific = FALSE),
              if (state > 0) sprintf(" (and %s BatchNorm running statistics)",
                                     format(state, big.mark = ",", scientific = FALSE)) else ""))
  invisible(x)
}

#' @export
print.wf_layer <- function(x, ...) {
  layer <- tryCatch(rebuild_layer(x), error = function(e) NULL)
  if (is.null(layer)) arg_error("x", "a layer from wf_dense(), wf_conv2d(), ...", x)
  cat("<wf_layer> ", format_layer(layer), "\n", sep = "")
  invisible(x)
}

# A stack net in words: its shapes, layers and kinds ("1x28x28 -> ... -> 1,
# 6 layers (conv2d, leaky_relu, flatten, dense)").
stack_description <- function(net) {
  info <- stack_info(net$spec, net$input_dim, net$output_dim, "net")
  kinds <- unique(vapply(net$spec$layers, function(l) {
    if (l$kind == "activation") l$name else l$kind
  }, character(1)))
  n <- length(net$spec$layers)
  sprintf("%s, %d layer%s (%s)", shape_chain(info$shapes), n, if (n == 1L) "" else "s",
          paste(kinds, collapse = ", "))
}

# wf_param_layout() of a stack: PyTorch's named_parameters() order, names
# numbered by kind (linear1, conv1, convt1, bn1, ln1).
stack_param_layout <- function(net) {
  info <- stack_info(net$spec, net$input_dim, net$output_dim, "net")
  shapes <- info$shapes
  prefixes <- c(dense = "linear", conv2d = "conv", conv_transpose2d = "convt",
                batch_norm = "bn", layer_norm = "ln")
  counts <- stats::setNames(integer(length(prefixes)), names(prefixes))
  rows <- list()
  offset <- 0
  add <- function(name, l, kind, dims) {
    r <- dims[1]
    len <- prod(dims)
    rows[[length(rows) + 1L]] <<- data.frame(
      name = name, layer = l, kind = kind, rows = r, cols = len / r, offset = offset,
      length = len, shape = paste(dims, collapse = " x "), stringsAsFactors = FALSE)
    offset <<- offset + len
  }
  for (l in seq_along(net$spec$layers)) {
    layer <- net$spec$layers[[l]]
    if (!layer$kind %in% names(prefixes)) next
    counts[[layer$kind]] <- counts[[layer$kind]] + 1L
    stem <- paste0(prefixes[[layer$kind]], counts[[layer$kind]])
    input <- shapes[l, ]
    k <- layer$kernel
    switch(layer$kind,
      dense = add(paste0(stem, ".weight"), l, "weight", c(layer$units, prod(input))),
      conv2d = add(paste0(stem, ".weight"), l, "weight", c(layer$channels, input[["c"]], k, k)),
      conv_transpose2d = add(paste0(stem, ".weight"), l, "weight",
                             c(input[["c"]], layer$channels, k, k)),
      batch_norm = {
        add(paste0(stem, ".weight"), l, "gamma", input[["c"]])
        add(paste0(stem, ".bias"), l, "beta", input[["c"]])
      },
      layer_norm = {
        # one value per c x h x w entry, stored channels-last (h, w, c)
        dims <- if (input[["h"]] * input[["w"]] == 1) input[["c"]] else
          input[c("h", "w", "c")]
        add(paste0(stem, ".weight"), l, "gamma", dims)
        add(paste0(stem, ".bias"), l, "beta", dims)
      })
    if (isTRUE(layer$bias)) {
      add(paste0(stem, ".bias"), l, "bias", layer$units %||% layer$channels)
    }
  }
  if (length(rows) == 0L) {
    return(data.frame(name = character(), layer = integer(), kind = character(),
                      rows = numeric(), cols = numeric(), offset = numeric(),
                      length = numeric(), shape = character(), stringsAsFactors = FALSE))
  }
  do.call(rbind, rows)
}
