# What every family's user function takes and validates by one rule: the
# data, the run's length, batch and evaluation sizes, hold-out, seed,
# device, progress and callbacks, and the refusal of BatchNorm in a net
# whose loss needs a double backward. (The batch size against the training
# rows is adapted in new_fit(), for every family.)

# The arguments every family's function takes, validated once by one rule
# and read by name from that function's frame (`frame`), so a family lists
# them only in its signature: `data` (at least `min_rows` rows), `epochs`,
# `batch_size`, `eval_every`, `eval_n`, `holdout`, `seed`, `device`,
# `verbose`, `callbacks`, and `scale` and `source` where the family offers
# them (FALSE and NULL where not). Returns them in a list, with `x` the data
# as a double matrix and `colnames` its column names; `holdout` and
# `source` are checked by the split, `seed` stays NULL when not given.
training_args <- function(frame = parent.frame(), min_rows = 2L) {
  arg <- function(nm, absent = NULL) {
    if (exists(nm, envir = frame, inherits = FALSE)) get(nm, envir = frame) else absent
  }
  data <- arg("data")
  seed <- arg("seed")
  list(x = check_data(data, "data", min_rows = min_rows), colnames = colnames(data),
       epochs = check_count(arg("epochs"), "epochs"),
       batch_size = check_count(arg("batch_size"), "batch_size", max = 2^24),
       eval_every = check_count(arg("eval_every"), "eval_every"),
       eval_n = check_count(arg("eval_n"), "eval_n", min = 2L),
       holdout = arg("holdout"),
       seed = if (is.null(seed)) NULL else check_count(seed, "seed", min = 0L),
       device = arg("device", "auto"),
       verbose = check_flag(arg("verbose"), "verbose"),
       callbacks = check_callbacks(arg("callbacks", list())),
       scale = check_flag(arg("scale", FALSE), "scale"),
       source = arg("source"))
}

# The split of a run's data into training and held-out rows (and, with a
# source, the source's rows paired with them): split_holdout() or
# split_pair() with the run's holdout, eval_n and seed. A map is learnt in
# the data's own units: no `scale = TRUE` with a source.
run_split <- function(run, ...) {
  if (is.null(run$source)) return(split_holdout(run$x, run$holdout, run$eval_n, run$seed))
  if (run$scale) {
    wf_abort("`scale = TRUE` is not available with a `source`: a map is learnt in the data's own units.",
             class = "wgflow_error_arg", arg = "scale")
  }
  split_pair(run$x, run$source, run$holdout, run$eval_n, run$seed, ...)
}

# A residual generator adds its input to its output: the latent dimension
# must be the data's.
check_residual_latent <- function(generator, latent_dim, d) {
  if (isTRUE(generator$residual) && latent_dim != d) {
    wf_abort("A residual generator needs `latent_dim` == ncol(data).",
             class = "wgflow_error_arg", arg = "latent_dim")
  }
  invisible(latent_dim)
}

# A generator with BatchNorm needs batches of two rows or more.
check_batch_norm_batch <- function(generator, batch_size) {
  if (uses_batch_norm(generator) && batch_size < 2L) {
    wf_abort("A BatchNorm generator needs `batch_size` >= 2.", class = "wgflow_error_arg",
             arg = "batch_size")
  }
  invisible(batch_size)
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
