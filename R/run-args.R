# What every family's user function takes and validates by one rule: the
# run's length, batch and evaluation sizes and seed, and the refusal of
# BatchNorm in a net whose loss needs a double backward. (The batch size
# against the training rows is adapted in new_fit(), for every family.)

# epochs, batch_size, eval_every, eval_n and seed as given to a family,
# validated (seed stays NULL when not given).
check_run_args <- function(epochs, batch_size, eval_every, eval_n, seed) {
  list(epochs = check_count(epochs, "epochs"),
       batch_size = check_count(batch_size, "batch_size", max = 2^24),
       eval_every = check_count(eval_every, "eval_every"),
       eval_n = check_count(eval_n, "eval_n", min = 2L),
       seed = if (is.null(seed)) NULL else check_count(seed, "seed", min = 0L))
}

# A net (spec, from argument `arg`) whose loss needs its double backward
# (a gradient penalty, the W2 penalties, SBE's potential objective)
# cannot use BatchNorm: one refusal, one class, for every family.
refuse_batch_norm <- function(spec, arg, why = "its penalty needs a double backward") {
  if (uses_batch_norm(spec)) {
    wf_abort(sprintf("`%s` cannot use BatchNorm: %s.", arg, why),
             class = c("wgflow_error_batch_norm", "wgflow_error_arg"), arg = arg)
  }
  invisible(spec)
}
