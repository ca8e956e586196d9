# Grids of settings x seeds, run through the user's future::plan().

#' Run a grid of settings over several seeds
#'
#' Fits `fun` (by default [w1fe()]) once for every row of `grid` and every
#' seed, and binds the per-epoch metrics of all the runs into one tibble, so
#' convergence can be compared across settings with replicates (for
#' example W1 against wall time for persistency K in 1, 3, 5, 10, Figure 2 of
#' Malik & Huang): see [wf_convergence()], [wf_compare()] and
#' [tidy.wf_sweep()].
#'
#' The runs are futures ([future::future()], one per run), so where they run
#' is decided by the caller's [future::plan()]: one after the other in this
#' session (`future::sequential`, the default), in background R sessions on
#' this machine (`future::multisession`), or on other machines
#' (`future::cluster`). wgflow adds no scheduler of its own. Every run is
#' seeded by its `seed`, so a sweep gives the same metrics (except the
#' timings) under every plan; each run also gets its own parallel-safe
#' stream of R's random numbers (L'Ecuyer-CMRG), and the session's random
#' number generator (its kind and its state) is left as it was.
#'
#' Only the metrics (and the sampling floor) of each run travel back from
#' the workers unless `keep_fits = TRUE`. A run that fails with an error
#' gives one row with status `"error"` (its message is in
#' `attr(, "messages")`) and a warning; if every run fails, the first run's
#' error is raised. Ctrl-C stops the whole sweep: the runs done (and the
#' epochs done of the run that was interrupted) are returned, with a
#' warning; runs already started on other workers are left to finish there
#' and are not waited for.
#'
#' The CPU backend runs each fit on [wf_threads()] threads. When the workers
#' share the cores of one machine, give each one thread (`threads = 1`) and
#' as many workers as cores: several multithreaded fits competing for the
#' same cores can run many times slower than one.
#'
#' A sweep takes as long as its runs: the Figure 2 sweep of the w1fe
#' vignette (21 runs of 800 epochs with the paper's networks) takes about 20
#' minutes on two CPU cores, and `epochs = 800` with the default networks
#' costs about a minute and a half per run on one core.
#'
#' @param data The training data, passed unchanged to `fun` as its first
#'   argument (for [w1fe()], a numeric matrix, one sample per row).
#' @param grid A data frame whose columns are arguments of `fun` and whose
#'   rows are the settings to run, e.g. from [expand.grid()] with
#'   `stringsAsFactors = FALSE` (factor columns are passed as character
#'   strings). List columns pass arbitrary values such as [wf_mlp()]
#'   specifications. `NULL` runs `fun` with the same settings for each seed.
#' @param seeds Whole numbers: each row of `grid` is run once per seed, with
#'   `seed = seed`.
#' @param fun The training function; it must take `data` first and a `seed`
#'   argument and return a fit with `$metrics` (a data frame, one row per
#'   epoch) and `$status`.
#' @param ... Further arguments of `fun`, the same for every run (they must
#'   be named, and not also be columns of `grid`).
#' @param threads `NULL` to leave the CPU threads of each run as they are in
#'   the session that runs it, or a whole number: [wf_threads()] for each run
#'   (restored afterwards).
#' @param keep_fits Return the fits too, as `attr(, "fits")`: a [wf_fits()]
#'   list with one fit per run, in the order of the result (by grid row,
#'   then seed). Fits are much larger than their metrics; leave `FALSE` for
#'   big sweeps.
#' @param verbose Report each run as it finishes. The fits themselves are run
#'   with `verbose = FALSE` unless `...` says otherwise.
#' @return A tibble of class `wf_sweep` with the columns of `grid`, `seed`,
#'   `status` (the fit's, e.g. "completed" or "diverged", or "error") and the
#'   columns of the fits' `$metrics` (a column one fit lacks is `NA` there),
#'   one row per epoch of every run, ordered by grid row, then seed, then
#'   epoch. A metric named like a column of `grid` (W1-FE's critic
#'   `penalty`, with `penalty` in the grid) is renamed `<name>_metric`.
#'   Attributes: `settings` (the names of the columns of `grid`, and
#'   "seed"), `grid`, `seeds`, `messages` (one per run, `NA` when
#'   the run had none), `eval_metrics` (the exact distances of the fits'
#'   algorithm, main first), `floors` (the runs' sampling floors, see
#'   [wf_floor()]: settings, `seed`, `metric`, `n`, `floor`, `floor_sd`,
#'   `reps`), `elapsed` (seconds for the whole sweep), `interrupted`
#'   (whether Ctrl-C stopped it) and, with `keep_fits = TRUE`, `fits`.
#' @seealso [w1fe()], [wf_convergence()], [wf_compare()],
#'   [tidy.wf_sweep()]; `vignette("w1fe", package = "wgflow")` uses a sweep
#'   to reproduce Figure 2 of Malik & Huang.
#' @export
#' @examples
#' x <- wf_toy("8gaussians", n = 2000, seed = 1)
#' grid <- expand.grid(persistency = c(1, 3), penalty = "lp",
#'                     stringsAsFactors = FALSE)
#' # future::plan(future::multisession, workers = 2) to run in parallel
#' sw <- wf_sweep(x, grid, seeds = 1:2, epochs = 3, batch_size = 64,
#'                critic = wf_mlp(16), generator = wf_mlp(16), eval_n = 100)
#' sw[!is.na(sw$w1), c("persistency", "seed", "epoch", "seconds", "w1")]
wf_sweep <- function(data, grid, seeds = 1:3, fun = w1fe, ..., threads = NULL,
                     keep_fits = FALSE, verbose = FALSE) {
  if (missing(data)) {
    wf_abort("`data` is missing, with no default.", class = "wgflow_error_arg",
             arg = "data")
  }
  if (!is.function(fun)) arg_error("fun", "a function", fun)
  if (!any(c("seed", "...") %in% names(formals(fun)))) {
    wf_abort("`fun` must have a `seed` argument.", class = "wgflow_error_arg", arg = "fun")
  }
  if (missing(grid)) grid <- NULL
  grid <- check_grid(grid, fun)
  seeds <- check_seeds(seeds)
  fixed <- check_dots(list(...), names(grid), fun)
  if (!is.null(threads)) threads <- check_count(threads, "threads", max = 1024L)
  keep_fits <- check_flag(keep_fits, "keep_fits")
  verbose <- check_flag(verbose, "verbose")
  if ("verbose" %in% names(formals(fun)) && !"verbose" %in% c(names(fixed), names(grid))) {
    fixed$verbose <- FALSE
  }

  # Runs in seed-major order, so that each setting sees the machine in a
  # similar state (wall-clock comparisons); results are reordered below.
  n_rows <- nrow(grid)
  tasks <- expand.grid(row = seq_len(n_rows), seed = seeds)
  task_list <- lapply(seq_len(nrow(tasks)), function(i) {
    list(index = i, row = tasks$row[i], seed = tasks$seed[i],
         settings = grid_row(grid, tasks$row[i]))
  })
  n_tasks <- length(task_list)

  t0 <- proc.time()[["elapsed"]]
  collected <- run_futures(task_list, data = data, fun = fun, fixed = fixed,
                           threads = threads, keep_fit = keep_fits, verbose = verbose)
  elapsed <- proc.time()[["elapsed"]] - t0
  results <- collected$results
  done <- !vapply(results, is.null, logical(1))
  if (collected$interrupted) {
    wf_warn(sprintf("wf_sweep(): interrupted; returning the %d of %d runs done.",
                    sum(done), n_tasks), class = "wgflow_warning_interrupted")
    if (!any(done)) {
      wf_abort("wf_sweep(): interrupted before any run was done.",
               class = "wgflow_error_interrupt")
    }
  }

  failed <- vapply(results[done], function(r) !is.null(r$error), logical(1))
  if (all(failed) && !collected$interrupted) stop(results[[1]]$error)
  if (any(failed)) {
    warning(sprintf("wf_sweep(): %d of %d runs failed; the first: %s",
                    sum(failed), sum(done), conditionMessage(results[done][failed][[1]]$error)),
            call. = FALSE)
  }

  ord <- order(tasks$row, match(tasks$seed, seeds))
  ord <- ord[done[ord]]
  results <- results[ord]
  tasks <- tasks[ord, , drop = FALSE]
  parts <- lapply(seq_along(results), function(i) {
    r <- results[[i]]
    m <- r$metrics
    if (is.null(m) || nrow(m) == 0L) m <- data.frame(epoch = NA_integer_)
    m <- as.data.frame(m, stringsAsFactors = FALSE)
    head <- grid[rep(tasks$row[i], nrow(m)), , drop = FALSE]
    head$seed <- rep(tasks$seed[i], nrow(m))
    head$status <- rep(r$status, nrow(m))
    rownames(head) <- NULL
    m <- rename_clashes(m, names(head))
    cbind(head, m)
  })
  out <- tibble::as_tibble(bind_fill(parts))
  messages <- vapply(results, function(r) {
    if (!is.null(r$error)) conditionMessage(r$error) else
      if (is.null(r$message)) NA_character_ else as.character(r$message)
  }, character(1))
  floors <- do.call(rbind, lapply(seq_along(results), function(i) {
    fl <- results[[i]]$floor
    if (!is.data.frame(fl) || nrow(fl) == 0L) return(NULL)
    head <- grid[rep(tasks$row[i], nrow(fl)), , drop = FALSE]
    head$seed <- rep(tasks$seed[i], nrow(fl))
    rownames(head) <- NULL
    cbind(head, as.data.frame(fl))
  }))
  evals <- unlist(lapply(results, `[[`, "eval_metrics"))
  attr(out, "settings") <- c(names(grid), "seed")
  attr(out, "grid") <- tibble::as_tibble(grid)
  attr(out, "seeds") <- seeds
  attr(out, "messages") <- messages
  attr(out, "eval_metrics") <- if (length(evals)) unique(evals) else NULL
  attr(out, "floors") <- if (is.null(floors)) NULL else tibble::as_tibble(floors)
  attr(out, "elapsed") <- elapsed
  attr(out, "interrupted") <- collected$interrupted
  if (keep_fits) {
    fits <- lapply(results, `[[`, "fit")
    attr(out, "fits") <- structure(fits, class = c("wf_fits", "list"))
  }
  class(out) <- c("wf_sweep", class(out))
  out
}

# The runs as futures, in the order of `tasks`, each with its own L'Ecuyer
# stream of R's random numbers. Returns list(results (NULL for runs not
# done), interrupted). Ctrl-C, or a run whose fit reports an interrupt,
# stops the launching and the waiting; what is already resolved is kept.
# The session's RNG kind and state are restored whatever happens.
run_futures <- function(tasks, data, fun, fixed, threads, keep_fit, verbose) {
  rng <- save_rng()
  on.exit(restore_rng(rng), add = TRUE)
  streams <- rng_streams(length(tasks))
  n <- length(tasks)
  results <- vector("list", n)
  futures <- vector("list", n)
  interrupted <- FALSE
  run <- sweep_run # a function of the namespace: workers load wgflow
  expr <- quote(run(task, data, fun, fixed, threads, keep_fit, verbose, n_tasks))
  seen <- character() # wgflow's messages, said once a sweep, not once a run
  once <- function(m) {
    if (conditionMessage(m) %in% seen) invokeRestart("muffleMessage")
    seen <<- c(seen, conditionMessage(m))
  }
  collect <- function(i) {
    r <- withCallingHandlers(future::value(futures[[i]]), wgflow_message = once)
    futures[i] <<- list(NULL) # collected once: value() relays its messages again
    results[i] <<- list(r)
    if (identical(r$status, "interrupted")) interrupted <<- TRUE
  }
  tryCatch({
    for (i in seq_len(n)) {
      futures[[i]] <- future::future(
        expr, substitute = FALSE,
        globals = list(run = run, task = tasks[[i]], data = data, fun = fun,
                       fixed = fixed, threads = threads, keep_fit = keep_fit,
                       verbose = verbose, n_tasks = n),
        packages = "wgflow", seed = streams[[i]], label = sprintf("wf_sweep-%d", i))
      # collect what has finished, so an interrupted run stops the sweep
      for (j in seq_len(i)) {
        if (!is.null(futures[[j]]) && future::resolved(futures[[j]])) collect(j)
      }
      if (interrupted) break
    }
    if (!interrupted) {
      for (j in seq_len(n)) {
        if (!is.null(futures[[j]])) collect(j)
        if (interrupted) break
      }
    }
  }, interrupt = function(e) {
    interrupted <<- TRUE
  })
  if (interrupted) {
    # keep what finished meanwhile, without waiting for the rest
    for (j in seq_len(n)) {
      f <- futures[[j]]
      if (!is.null(f) && isTRUE(tryCatch(future::resolved(f), error = function(e) FALSE))) {
        tryCatch(collect(j), error = function(e) NULL, interrupt = function(e) NULL)
      }
    }
  }
  list(results = results, interrupted = interrupted)
}

# n seeds (.Random.seed vectors) of successive L'Ecuyer-CMRG streams, drawn
# from the session's RNG (whose state the caller restores).
rng_streams <- function(n) {
  if (!exists(".Random.seed", envir = globalenv(), inherits = FALSE)) stats::runif(1)
  base <- sample.int(.Machine$integer.max, 1L)
  old <- RNGkind("L'Ecuyer-CMRG")
  on.exit(RNGkind(old[1], old[2], old[3]), add = TRUE)
  set.seed(base)
  s <- get(".Random.seed", envir = globalenv())
  out <- vector("list", n)
  for (i in seq_len(n)) {
    s <- parallel::nextRNGStream(s)
    out[[i]] <- s
  }
  out
}

save_rng <- function() {
  env <- globalenv()
  list(kind = RNGkind(), had = exists(".Random.seed", envir = env, inherits = FALSE),
       seed = get0(".Random.seed", envir = env, inherits = FALSE))
}

restore_rng <- function(rng) {
  env <- globalenv()
  RNGkind(rng$kind[1], rng$kind[2], rng$kind[3])
  if (rng$had) {
    assign(".Random.seed", rng$seed, envir = env)
  } else if (exists(".Random.seed", envir = env, inherits = FALSE)) {
    rm(".Random.seed", envir = env)
  }
}

# One run of a sweep, in whichever R session the plan chose. Returns
# list(metrics, status, message, floor, eval_metrics, fit, error); never
# signals an error.
sweep_run <- function(task, data, fun, fixed, threads, keep_fit, verbose, n_tasks) {
  if (!is.null(threads)) {
    old <- wf_threads(threads)
    on.exit(wf_threads(old), add = TRUE)
  }
  args <- c(list(data), task$settings, list(seed = task$seed), fixed)
  fit <- tryCatch(do.call(fun, args), error = function(e) e)
  label <- sweep_label(task)
  if (inherits(fit, "error")) {
    if (verbose) message(sprintf("run %d/%d (%s): error: %s", task$index, n_tasks,
                                 label, conditionMessage(fit)))
    return(list(metrics = NULL, status = "error", message = NULL, fit = NULL,
                error = fit))
  }
  metrics <- fit$metrics
  if (!is.data.frame(metrics)) {
    err <- structure(class = c("wgflow_error_arg", "wgflow_error", "error", "condition"),
                     list(message = "`fun` must return a fit whose `$metrics` is a data frame.",
                          call = NULL, arg = "fun"))
    return(list(metrics = NULL, status = "error", message = NULL, fit = NULL,
                error = err))
  }
  status <- if (is.null(fit$status)) NA_character_ else as.character(fit$status)[1]
  is_fit <- inherits(fit, "wf_fit") && !is.null(fit_algorithm(fit))
  main <- if (is_fit) fit_eval_metrics(fit)[1] else "w1"
  if (verbose) {
    # the last value of the main exact distance of the fit's algorithm
    last <- if (main %in% names(metrics)) utils::tail(stats::na.omit(metrics[[main]]), 1) else numeric()
    secs <- if ("seconds" %in% names(metrics) && nrow(metrics) > 0) max(metrics$seconds) else NA
    message(sprintf("run %d/%d (%s): %s, %d epochs, %.1f s%s", task$index, n_tasks,
                    label, status, nrow(metrics), secs,
                    if (length(last)) sprintf(", %s %.4g", toupper(main), last) else ""))
  }
  list(metrics = metrics, status = status, message = fit$message,
       floor = if (is_fit) fit$floor else NULL,
       eval_metrics = if (is_fit) fit_eval_metrics(fit) else NULL,
       fit = if (keep_fit) fit else NULL, error = NULL)
}

# A metric column named like a setting (W1-FE's critic `penalty` and its
# `penalty` setting) becomes `<name>_metric`, so neither is lost.
rename_clashes <- function(m, settings) {
  clash <- names(m) %in% settings
  names(m)[clash] <- paste0(names(m)[clash], "_metric")
  m
}

sweep_label <- function(task) {
  s <- task$settings
  parts <- vapply(names(s), function(nm) {
    v <- s[[nm]]
    val <- if (is.atomic(v) && length(v) == 1L) format(v) else
      sprintf("<%s>", class(v)[1])
    paste(nm, "=", val)
  }, character(1))
  paste(c(parts, paste("seed =", task$seed)), collapse = ", ")
}

# The arguments of grid row i: atomic columns as scalars (factors as
# character), list columns as their element.
grid_row <- function(grid, i) {
  out <- lapply(grid, function(col) {
    if (is.list(col)) col[[i]] else if (is.factor(col)) as.character(col[i]) else col[i]
  })
  names(out) <- names(grid)
  out
}

check_grid <- function(grid, fun) {
  if (is.null(grid)) return(data.frame(row.names = 1L))
  if (!is.data.frame(grid)) arg_error("grid", "a data frame (or NULL)", grid)
  if (nrow(grid) == 0L) {
    wf_abort("`grid` must have at least one row.", class = "wgflow_error_arg",
             arg = "grid")
  }
  nms <- names(grid)
  if (length(nms) > 0L && (anyNA(nms) || any(!nzchar(nms)) || anyDuplicated(nms))) {
    wf_abort("The columns of `grid` must have unique, non-empty names.",
             class = "wgflow_error_arg", arg = "grid")
  }
  reserved <- intersect(nms, c("seed", "status", "epoch"))
  if (length(reserved) > 0L) {
    wf_abort(sprintf("`grid` must not have a column named %s: %s.",
                     paste0("`", reserved, "`", collapse = ", "),
                     if ("seed" %in% reserved) "seeds are given by `seeds`" else
                       "that name is taken by the result"),
             class = "wgflow_error_arg", arg = "grid")
  }
  formal <- names(formals(fun))
  if (!"..." %in% formal) {
    unknown <- setdiff(nms, formal[-1L])
    if (length(unknown) > 0L) {
      wf_abort(sprintf("The columns of `grid` must be arguments of `fun`; not %s.",
                       paste0("`", unknown, "`", collapse = ", ")),
               class = "wgflow_error_arg", arg = "grid")
    }
  }
  if (length(formal) > 0L && formal[1L] %in% nms) {
    wf_abort(sprintf("`grid` must not have a column `%s`: that is `data`.", formal[1L]),
             class = "wgflow_error_arg", arg = "grid")
  }
  grid <- as.data.frame(grid, stringsAsFactors = FALSE)
  attr(grid, "out.attrs") <- NULL
  for (nm in nms) if (is.factor(grid[[nm]])) grid[[nm]] <- as.character(grid[[nm]])
  rownames(grid) <- NULL
  grid
}

check_seeds <- function(seeds) {
  ok <- is.numeric(seeds) && length(seeds) >= 1L && !anyNA(seeds) &&
    all(is.finite(seeds)) && all(seeds == round(seeds)) && all(seeds >= 0) &&
    all(seeds <= .Machine$integer.max)
  if (!ok) arg_error("seeds", "a vector of whole numbers >= 0", seeds)
  if (anyDuplicated(seeds)) {
    wf_abort("`seeds` must not repeat a seed: a repeat would rerun the same fit.",
             class = "wgflow_error_arg", arg = "seeds")
  }
  as.integer(seeds)
}

check_dots <- function(dots, grid_names, fun) {
  if (length(dots) == 0L) return(list())
  nms <- names(dots)
  if (is.null(nms) || anyNA(nms) || any(!nzchar(nms)) || anyDuplicated(nms)) {
    wf_abort("The arguments in `...` must be named (each once): they are passed to `fun`.",
             class = "wgflow_error_arg", arg = "...")
  }
  if ("seed" %in% nms) {
    wf_abort("Give the seeds as `seeds`, not `seed` in `...`.",
             class = "wgflow_error_arg", arg = "...")
  }
  both <- intersect(nms, grid_names)
  if (length(both) > 0L) {
    wf_abort(sprintf("%s given both in `grid` and in `...`.",
                     paste0("`", both, "`", collapse = ", ")),
             class = "wgflow_error_arg", arg = "...")
  }
  formal <- names(formals(fun))
  if (!"..." %in% formal) {
    unknown <- setdiff(nms, formal[-1L])
    if (length(unknown) > 0L) {
      wf_abort(sprintf("%s in `...` %s not an argument of `fun`.",
                       paste0("`", unknown, "`", collapse = ", "),
                       if (length(unknown) == 1L) "is" else "are"),
               class = "wgflow_error_arg", arg = "...")
    }
  }
  dots
}

# rbind of data frames whose columns differ: missing columns become NA.
bind_fill <- function(parts) {
  cols <- unique(unlist(lapply(parts, names)))
  parts <- lapply(parts, function(p) {
    for (nm in setdiff(cols, names(p))) {
      proto <- NULL
      for (q in parts) if (nm %in% names(q)) { proto <- q[[nm]]; break }
      p[[nm]] <- if (is.list(proto)) rep(list(NULL), nrow(p)) else
        rep(proto[NA_integer_][1], nrow(p))
    }
    p[cols]
  })
  do.call(rbind, parts)
}
