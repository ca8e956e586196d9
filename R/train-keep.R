# The state of a run's networks after its last finished epoch, kept so
# that a run that diverges returns a usable fit: its nets as they were
# before the failed epoch, not the non-finite values of the failed step.
#
# The state stays on the nets' device (src/core/snapshot.c): each finished
# epoch is checked there (parameters, BatchNorm statistics and both
# optimiser moments must be finite: an Adam moment that overflows float32
# freezes or poisons its coordinate, so the run has diverged even while the
# losses still read finite; the check reads back four counts per net) and
# then copied there (device copies of the parameters, statistics and
# moments, with the step count and the random stream's position). Nothing
# goes up to R per epoch.

# A keeper for the wf_net roles of `fit`: list(save(epoch, check),
# restore(), epoch(), drop()). save() raises a wgflow_error_numeric naming
# the net and the part that is not finite (run_epochs() ends the run as
# "diverged"), keeping none of the nets' states then; restore() puts the
# last saved state back into the nets and says whether there was one;
# epoch() is the epoch it was saved after; drop() frees the kept copies.
new_keeper <- function(fit, roles) {
  roles <- Filter(function(r) inherits(fit[[r]], "wf_net"), roles)
  kept_epoch <- NA_integer_
  save <- function(epoch, check = TRUE) {
    # every net is checked before any is saved, so the kept states are of
    # one epoch
    if (check) {
      for (r in roles) {
        bad <- non_finite_part(fit[[r]])
        if (!is.null(bad)) {
          wf_abort(sprintf("the %s's %s is not finite after epoch %d", r, bad, epoch),
                   class = "wgflow_error_numeric")
        }
      }
    }
    for (r in roles) .Call(ffi_net_snapshot_save, net_ptr(fit[[r]]))
    kept_epoch <<- as.integer(epoch)
    invisible()
  }
  restore <- function() {
    if (is.na(kept_epoch)) return(invisible(FALSE))
    for (r in roles) {
      net <- fit[[r]]
      .Call(ffi_net_snapshot_restore, net_ptr(net))
      net_sync(net)
    }
    invisible(TRUE)
  }
  drop <- function() {
    for (r in roles) .Call(ffi_net_snapshot_drop, fit[[r]]$ptr)
    invisible()
  }
  list(save = save, restore = restore, epoch = function() kept_epoch, drop = drop)
}

# Which part of a net's state holds a non-finite value, or NULL: counted on
# the net's device.
non_finite_part <- function(net) {
  counts <- .Call(ffi_net_nonfinite, net_ptr(net))
  parts <- c("parameters", "BatchNorm statistics", "optimiser first moment",
             "optimiser second moment")
  if (any(counts > 0)) parts[which(counts > 0)[1L]] else NULL
}
