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

# Called from C (src/ffi-util.c) to raise a core error as a classed condition.
abort_from_c <- function(message, class) {
  wf_abort(message, class = class)
}

arg_error <- function(arg, must, x) {
  wf_abort(sprintf("`%s` must be %s, not %s.", arg, must, describe(x)),
           class = "wgflow_error_arg", arg = arg)
}

describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.function(x)) return("a function")
  if (length(x) == 1L && is.atomic(x)) {
    return(if (is.character(x)) sprintf("\"%s\"", x) else format(x))
  }
  if (is.matrix(x)) {
    return(sprintf("a %s matrix of %d x %d", typeof(x), nrow(x), ncol(x)))
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

check_choice <- function(x, choices, arg) {
  if (!is.character(x) || length(x) != 1L || is.na(x) || !x %in% choices) {
    arg_error(arg, paste0("one of ", paste0("\"", choices, "\"", collapse = ", ")), x)
  }
  x
}

# A numeric matrix (or data frame of numeric columns) with `cols` columns,
# no NA/NaN/Inf, at least `min_rows` rows; returned as a double matrix.
check_data <- function(x, arg, cols = NULL, min_rows = 1L) {
  if (is.data.frame(x)) {
    if (!all(vapply(x, is.numeric, logical(1)))) {
      arg_error(arg, "a numeric matrix or a data frame of numeric columns", x)
    }
    x <- as.matrix(x)
  }
  if (!is.matrix(x) || !(is.double(x) || is.integer(x))) {
    arg_error(arg, "a numeric matrix", x)
  }
  if (!is.null(cols) && ncol(x) != cols) {
    arg_error(arg, sprintf("a numeric matrix with %d column%s", cols,
                           if (cols == 1) "" else "s"), x)
  }
  if (nrow(x) < min_rows) {
    arg_error(arg, sprintf("a matrix with at least %d row%s", min_rows,
                           if (min_rows == 1) "" else "s"), x)
  }
  if (anyNA(x) || any(!is.finite(x))) {
    wf_abort(sprintf("`%s` must not contain NA, NaN or infinite values.", arg),
             class = "wgflow_error_arg", arg = arg)
  }
  storage.mode(x) <- "double"
  dimnames(x) <- NULL
  x
}
