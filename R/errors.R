# Classed errors. Every error wgflow raises has class "wgflow_error" and a
# more specific class (e.g. "wgflow_error_arg" for a bad argument, which also
# carries the argument's name in `arg`), so callers can catch them precisely.

wf_abort <- function(message, class = NULL, arg = NULL, call = NULL) {
  cond <- structure(
    class = unique(c(class, "wgflow_error", "error", "condition")),
    list(message = message, call = call, arg = arg)
  )
  stop(cond)
}

# Classed warnings: class "wgflow_warning" and a more specific class.
wf_warn <- function(message, class = NULL) {
  cond <- structure(
    class = unique(c(class, "wgflow_warning", "warning", "condition")),
    list(message = message, call = NULL)
  )
  warning(cond)
}

# Classed messages: class "wgflow_message" and a more specific class.
wf_inform <- function(message, class = NULL) {
  message(structure(
    class = unique(c(class, "wgflow_message", "message", "condition")),
    list(message = paste0(message, "\n"), call = NULL)
  ))
}

# Called from C (src/ffi-util.c) to raise a core error as a classed condition
# (with the argument's name when the C side knows it).
abort_from_c <- function(message, class, arg = NULL) {
  wf_abort(message, class = class, arg = arg)
}

arg_error <- function(arg, must, x) {
  wf_abort(sprintf("`%s` must be %s, not %s.", arg, must, describe(x)),
           class = "wgflow_error_arg", arg = arg)
}

# A short description of a value for error messages: the value itself for a
# plain scalar, its class and size otherwise (never an empty string).
describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.function(x)) return("a function")
  if (is.data.frame(x)) {
    return(sprintf("a data frame of %d x %d", nrow(x), ncol(x)))
  }
  if (is.factor(x)) {
    return(if (length(x) == 1L) sprintf("a factor (\"%s\")", as.character(x))
           else sprintf("a factor of length %d", length(x)))
  }
  plain <- is.null(attributes(x)) || identical(names(attributes(x)), "names")
  if (length(x) == 1L && is.atomic(x) && plain) {
    return(if (is.character(x)) sprintf("\"%s\"", x) else format(x))
  }
  if (is.matrix(x)) {
    return(sprintf("a %s matrix of %d x %d", typeof(x), nrow(x), ncol(x)))
  }
  if (length(x) == 1L && is.atomic(x)) {
    return(sprintf("a %s (%s)", class(x)[1L], format(x)))
  }
  sprintf("a %s of length %d", class(x)[1L], length(x))
}

check_number <- function(x, arg, min = -Inf, max = Inf, min_open = FALSE) {
  ok <- is.numeric(x) && length(x) == 1L && !is.na(x) && is.finite(x) &&
    x <= max && (if (min_open) x > min else x >= min)
  if (!ok) {
    range <- if (min_open) sprintf("> %s", format(min)) else sprintf(">= %s", format(min))
    if (is.finite(max)) range <- sprintf("%s and <= %s", range, format(max))
    arg_error(arg, sprintf("a finite number %s", range), x)
  }
  as.double(x)
}

check_count <- function(x, arg, min = 1L, max = .Machine$integer.max) {
  ok <- is.numeric(x) && length(x) == 1L && !is.na(x) && is.finite(x) &&
    x == round(x) && x >= min && x <= max
  if (!ok) {
    must <- if (is.finite(max) && max < .Machine$integer.max) {
      sprintf("a whole number in [%d, %d]", min, as.integer(max))
    } else {
      sprintf("a whole number >= %d", min)
    }
    arg_error(arg, must, x)
  }
  as.integer(x)
}

check_flag <- function(x, arg) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) {
    arg_error(arg, "TRUE or FALSE", x)
  }
  x
}

# The names of a choice kind ("activation", "optimizer", "penalty", "cost",
# ...) as the C core spells them (src/core/choices.c): the one list both
# the validation here and the C side's matching use.
wf_choices <- function(kind) .Call(ffi_choices, kind)

check_choice <- function(x, choices, arg) {
  if (!is.character(x) || length(x) != 1L || is.na(x) || !x %in% choices) {
    arg_error(arg, paste0("one of ", paste0("\"", choices, "\"", collapse = ", ")), x)
  }
  x
}

# A numeric matrix (or data frame of numeric columns) with `cols` columns
# (at least one), no NA/NaN/Inf, at least `min_rows` rows; returned as a
# double matrix. A data frame's class is kept in the attribute "wf_frame"
# (the training functions return samples in the same type). Images: a 4-d
# array [n, C, H, W] becomes one image per row, and a matrix's attribute
# "image_shape" c(C, H, W) is checked against its columns and kept.
check_data <- function(x, arg, cols = NULL, min_rows = 1L) {
  frame <- NULL
  if (is.array(x) && length(dim(x)) == 4L && (is.double(x) || is.integer(x))) {
    x <- image_rows(x)
  }
  if (is.data.frame(x)) {
    numeric_col <- vapply(x, is.numeric, logical(1))
    if (!all(numeric_col)) {
      bad <- which(!numeric_col)[1L]
      col <- x[[bad]]
      wf_abort(sprintf(paste0("`%s` must be a numeric matrix or a data frame of numeric ",
                              "columns; its column %s is %s."), arg,
                       if (!is.null(names(x)) && nzchar(names(x)[bad])) {
                         sprintf("`%s`", names(x)[bad])
                       } else {
                         bad
                       },
                       if (is.factor(col)) "a factor" else
                         sprintf("of type %s", paste(class(col), collapse = "/"))),
               class = "wgflow_error_arg", arg = arg)
    }
    frame <- class(x)
    x <- as.matrix(x)
    if (ncol(x) == 0L) x <- matrix(numeric(), nrow(x), 0L)
  }
  if (!is.matrix(x) || !(is.double(x) || is.integer(x))) {
    arg_error(arg, "a numeric matrix", x)
  }
  if (ncol(x) == 0L) {
    arg_error(arg, "a numeric matrix with at least one column", x)
  }
  if (!is.null(cols) && ncol(x) != cols) {
    arg_error(arg, sprintf("a numeric matrix with %d column%s", cols,
                           if (cols == 1) "" else "s"), x)
  }
  if (nrow(x) < min_rows) {
    arg_error(arg, sprintf("a matrix with at least %d row%s", min_rows,
                           if (min_rows == 1) "" else "s"), x)
  }
  if (!all_finite(x)) {
    wf_abort(sprintf("`%s` must not contain NA, NaN or infinite values.", arg),
             class = "wgflow_error_arg", arg = arg)
  }
  storage.mode(x) <- "double"
  dimnames(x) <- NULL
  if (!is.null(frame)) attr(x, "wf_frame") <- frame
  if (!is.null(shape <- image_shape(x))) {
    ok <- is.numeric(shape) && length(shape) == 3L && all(is.finite(shape)) &&
      all(shape >= 1) && all(shape == round(shape)) && prod(shape) == ncol(x)
    if (!ok) {
      wf_abort(sprintf(paste0("`%s` has an `image_shape` attribute that is not c(C, H, W) ",
                              "with C x H x W = %d (its columns): %s."), arg, ncol(x),
                       paste(format(shape), collapse = ", ")),
               class = "wgflow_error_arg", arg = arg)
    }
    attr(x, "image_shape") <- as.integer(shape)
  }
  x
}

# A 4-d array of images [n, C, H, W] as a matrix of one image per row, its
# values in PyTorch's order (channel, then row, then column, the column
# running fastest), with the attribute "image_shape" c(C, H, W).
image_rows <- function(x) {
  d <- dim(x)
  out <- matrix(aperm(x, c(1L, 4L, 3L, 2L)), d[1], prod(d[2:4]))
  attr(out, "image_shape") <- as.integer(d[2:4])
  out
}

# TRUE when a numeric (or logical) vector holds no NA, NaN or infinite
# value; in C, without R's logical vector of the same length.
all_finite <- function(x) .Call(ffi_all_finite, x)

# The largest magnitude a float32 engine value can hold: larger finite
# doubles would become Inf inside the engine.
float_max <- 3.4028234663852886e38

# Refuse values whose magnitude is beyond float32 (classed, naming `arg`).
check_float_range <- function(x, arg) {
  if (length(x) > 0L && max(abs(x)) > float_max) {
    wf_abort(sprintf(paste0("`%s` has values beyond the single-precision range ",
                            "of the engine (|x| <= %.3g); rescale it (e.g. `scale = TRUE`)."),
                     arg, float_max),
             class = "wgflow_error_arg", arg = arg)
  }
  invisible(x)
}
