# Shared by the test files: a bad argument must raise a classed wgflow
# error whose `arg` field names it.
# Evaluates `expr`, expects an error of class `class` (and "wgflow_error")
# whose `arg` field is `arg`.
expect_arg_error <- function(expr, arg, class = "wgflow_error_arg", info = NULL) {
  cnd <- tryCatch({
    force(expr)
    NULL
  }, error = function(e) e)
  where <- if (is.null(info)) "" else paste0(" [", info, "]")
  if (is.null(cnd)) {
    expect(FALSE, sprintf("expected a <%s> error naming `%s`, but there was no error%s",
                          class, arg, where))
    return(invisible(NULL))
  }
  expect(inherits(cnd, class) && inherits(cnd, "wgflow_error"),
         sprintf("expected a <%s> error naming `%s`%s, got <%s>: %s", class, arg,
                 where, paste(class(cnd), collapse = "/"), conditionMessage(cnd)))
  expect(identical(cnd$arg, arg),
         sprintf("expected the error's `arg` to be \"%s\"%s, got %s (message: %s)",
                 arg, where, if (is.null(cnd$arg)) "NULL" else dQuote(cnd$arg, FALSE),
                 conditionMessage(cnd)))
  invisible(cnd)
}

# Tests that train on deliberately tiny data, where the small-data warning
# (wgflow_warning_small_data) is expected and beside the point.
quiet_small <- function(expr) suppressWarnings(expr, classes = "wgflow_warning_small_data")
