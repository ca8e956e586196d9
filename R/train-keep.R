# The state of a run's networks after its last finished epoch, kept so
# that a run that diverges returns a usable fit: its nets as they were
# before the failed epoch, not the non-finite values of the failed step.
#
# Each finished epoch copies the nets' C state up to their R vectors
# (net_sync()) and checks it: parameters, BatchNorm statistics and both
# optimiser moments must be finite (an Adam moment that overflows float32
# freezes or poisons its coordinate, so the run has diverged even while
# the losses still read finite). The R vectors of the last good epoch are
# held by reference; the next sync then writes new vectors, so keeping
# costs one copy of the state per epoch and no further copy.

# A keeper for the wf_net roles of `fit`: list(save(epoch, check),
# restore(), epoch()). save() raises a wgflow_error_numeric naming the net
# and the part that is not finite (run_epochs() ends the run as
# "diverged"); restore() puts the last saved state back into the nets (R
# copy and C handle) and says whether there was one; epoch() is the epoch
# it was saved after.
new_keeper <- function(fit, roles) {
  roles <- Filter(function(r) inherits(fit[[r]], "wf_net"), roles)
  kept <- NULL
  kept_epoch <- NA_integer_
  take <- function() {
    stats::setNames(lapply(roles, function(r) {
      net <- fit[[r]]
      list(params = net$params, state = net$state, opt = net$opt, rng = net$rng)
    }), roles)
  }
  save <- function(epoch, check = TRUE) {
    for (r in roles) {
      net <- fit[[r]]
      net_sync(net)
      bad <- if (check) non_finite_part(net) else NULL
      if (!is.null(bad)) {
        wf_abort(sprintf("the %s's %s is not finite after epoch %d", r, bad, epoch),
                 class = "wgflow_error_numeric")
      }
    }
    kept <<- take()
    kept_epoch <<- as.integer(epoch)
    invisible()
  }
  restore <- function() {
    if (is.null(kept)) return(invisible(FALSE))
    for (r in roles) {
      net <- fit[[r]]
      k <- kept[[r]]
      ptr <- net_ptr(net)
      .Call(ffi_net_set, ptr, 0L, k$params)
      .Call(ffi_net_set, ptr, 1L, k$state)
      .Call(ffi_net_set_opt, ptr, k$opt$step, k$opt$m1, k$opt$m2)
      .Call(ffi_net_set_rng, ptr, k$rng)
      net_sync(net)
    }
    invisible(TRUE)
  }
  list(save = save, restore = restore, epoch = function() kept_epoch)
}

# Which part of a net's R copy holds a non-finite value, or NULL.
non_finite_part <- function(net) {
  parts <- list(parameters = net$params, "BatchNorm statistics" = net$state,
                "optimiser first moment" = net$opt$m1,
                "optimiser second moment" = net$opt$m2)
  for (nm in names(parts)) {
    if (length(parts[[nm]]) && !all_finite(parts[[nm]])) return(nm)
  }
  NULL
}
