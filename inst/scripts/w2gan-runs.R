# What the W2GAN experiment scripts share, and what the test that reruns a
# slice of each shipped experiment uses (tests/testthat/test-w2gan-shipped.R):
# the settings of the reduced-scale 2-D runs, one function per method, the
# training in stretches with an evaluation after each, and the csv files
# that record the commit and the command that made them.
#
#   source(system.file("scripts", "w2gan-runs.R", package = "wgflow"))
#
# defines `w2x`, a list of these (and nothing else in the caller's scope).
# The scripts: w2gan-figure2.R (five methods on the three pairs),
# w2gan-checkerboard.R (W2GAN's arrangements on the checkerboard over 8
# seeds), w2gan-domain.R (domain adaptation, its own settings).

w2x <- local({
  # ---- settings (the paper's in brackets) -------------------------------
  # samples of 10000 per side [fresh batches]; potentials, critics and H
  # of 3 x 64 ReLU [3 x 128]; batch 256 [512]; 2500 generator updates
  # [5000] with 5 critic steps each; Adam(0.9, 0.999) with learning rates
  # 5e-4 for every critic, 1e-4 for every generator; W2GAN penalties as its
  # defaults (lambda 200, inequality on pairs and interpolates, equality on
  # both sides, the epsilon reparameterisation without its penalty);
  # WGAN-GP / WGAN-LP lambda 10; Barycentric-OT 0.8 x 2500 epochs of 10
  # steps, half dual, half map, lr 0.005 [20000 + 20000].
  pairs <- c("4gaussians", "checkerboard", "2spirals")
  n <- 10000L
  eval_n <- 512L
  iters <- 2500L
  width <- c(64, 64, 64)
  critic_w2 <- wgflow::wf_mlp(width, init = "normal", init_sd = 0.1)
  gen <- wgflow::wf_mlp(width, norm = "batch", residual = TRUE, init = "normal",
                        init_sd = 0.01, gamma_init = "normal")
  adam <- wgflow::wf_adam(5e-4, 0.9, 0.999)
  adam_g <- wgflow::wf_adam(1e-4, 0.9, 0.999)
  common <- list(batch_size = 256L, eval_n = eval_n, holdout = eval_n, device = "cpu",
                 verbose = FALSE)

  # The training samples of a pair (with the rows' components) and the
  # evaluation set of a (pair, seed): 512 + 512 fresh points with equal
  # counts of every component (the public code's fixed batch), and the
  # Discrete-OT map between them.
  pair_data <- function(pair) {
    wgflow::wf_toy_pair(pair, n = n, seed = 100L + match(pair, pairs), labels = TRUE)
  }
  eval_set <- function(pair, seed) {
    e <- wgflow::wf_toy_pair(pair, n = eval_n, seed = 1000L * match(pair, pairs) + seed)
    list(source = e$source, target = e$target,
         t_disc = wgflow::wf_discrete_map(e$source, e$target))
  }

  # W2GAN with the public code's arrangement (balanced batches, the
  # generated side reparameterised) or another (`batches`, `reparam_side`)
  w2gan_run <- function(p, seed, epochs, eval_every, batches = "balanced",
                        reparam_side = "generated", persistency = NULL) {
    args <- c(list(p$target, source = p$source, epochs = epochs, critic = critic_w2,
                   generator = gen, critic_optimizer = adam,
                   generator_optimizer = adam_g, batches = batches,
                   data_labels = p$target_labels, source_labels = p$source_labels,
                   reparam_side = reparam_side, eval_every = eval_every, seed = seed),
              common)
    if (is.null(persistency)) return(do.call(wgflow::w2gan, args))
    do.call(wgflow::w2fe, c(args, list(persistency = persistency)))
  }
  wgan_run <- function(p, seed, epochs, eval_every, penalty) {
    do.call(wgflow::wgan, c(list(p$target, source = p$source, penalty = penalty,
                                 epochs = epochs, critic = wgflow::wf_mlp(width),
                                 generator = gen, critic_steps = 5L,
                                 critic_optimizer = adam, generator_optimizer = adam_g,
                                 eval_every = eval_every, seed = seed), common))
  }
  bary_epochs <- function(iters) max(2L, as.integer(round(0.8 * iters)))
  bary_run <- function(p, seed, epochs, eval_every, total) {
    total_epochs <- bary_epochs(total)
    do.call(wgflow::barycentric_ot, c(list(p$target, p$source, epochs = epochs,
                                           dual_epochs = total_epochs %/% 2L,
                                           potential = wgflow::wf_mlp(width), generator = gen,
                                           eval_every = eval_every, seed = seed), common))
  }

  # method name -> function(p, seed, epochs, eval_every, total) giving a fit
  # of `epochs` epochs of a run of `total` generator updates in all
  methods <- list(
    "W2GAN" = function(p, seed, epochs, eval_every, total) {
      w2gan_run(p, seed, epochs, eval_every)
    },
    "W2-FE (K = 3)" = function(p, seed, epochs, eval_every, total) {
      w2gan_run(p, seed, epochs, eval_every, persistency = 3L)
    },
    "WGAN-LP" = function(p, seed, epochs, eval_every, total) {
      wgan_run(p, seed, epochs, eval_every, "lp")
    },
    "WGAN-GP" = function(p, seed, epochs, eval_every, total) {
      wgan_run(p, seed, epochs, eval_every, "gp")
    },
    "Barycentric-OT" = bary_run
  )

  # W2GAN's arrangements on the checkerboard (w2gan-checkerboard.R):
  # batches x reparameterised side
  arrangements <- data.frame(
    arrangement = c("public code's", "balanced only", "generated side only",
                    "wgflow default"),
    batches = c("balanced", "balanced", "iid", "iid"),
    reparam_side = c("generated", "data", "generated", "data"),
    stringsAsFactors = FALSE)

  # The epochs after which a run is evaluated: an early one (the rerun
  # test's slice), then every `total / 20` (for Barycentric-OT: of its
  # epochs).
  stops <- function(method, total = iters) {
    epochs <- if (identical(method, "Barycentric-OT")) bary_epochs(total) else total
    every <- max(1L, epochs %/% 20L)
    sort(unique(c(min(25L, every), seq(every, epochs, by = every))))
  }

  # mean |y - T_disc(x)|, the mean cosine of y - x and T_disc(x) - x, and the
  # exact W2 of y to the evaluation targets
  map_scores <- function(y, ev) {
    d1 <- y - ev$source
    d2 <- ev$t_disc - ev$source
    n1 <- sqrt(rowSums(d1^2))
    n2 <- sqrt(rowSums(d2^2))
    ok <- n1 > 0 & n2 > 0
    c(map_error = mean(sqrt(rowSums((y - ev$t_disc)^2))),
      map_cosine = mean(rowSums(d1 * d2)[ok] / (n1[ok] * n2[ok])),
      w2 = wgflow::wf_wasserstein(y, ev$target, p = 2))
  }

  # Trains `start(epochs)` to each of `at` in turn (wf_continue() between
  # them: the same networks as one run) and scores the generator on the
  # evaluation set `ev` after each; `hook(fit, epoch)` runs there too.
  # Returns list(rows = a data frame: epoch, seconds (training), status,
  # map_error, map_cosine, w2; fit = the last fit).
  run_stretches <- function(start, at, ev, hook = NULL) {
    rows <- list()
    fit <- NULL
    done <- 0L
    for (e in at) {
      fit <- if (is.null(fit)) start(e) else wgflow::wf_continue(fit, epochs = e - done,
                                                                  verbose = FALSE)
      done <- e
      s <- map_scores(stats::predict(fit, newdata = ev$source), ev)
      rows[[length(rows) + 1L]] <- data.frame(
        epoch = e, seconds = round(max(fit$metrics$seconds), 2), status = fit$status,
        map_error = signif(s[["map_error"]], 4), map_cosine = signif(s[["map_cosine"]], 4),
        w2 = signif(s[["w2"]], 4))
      if (!is.null(hook)) hook(fit, e)
      if (fit$status != "completed") break
    }
    list(rows = do.call(rbind, rows), fit = fit)
  }

  # One figure-2 run: pair, method, seed, up to `upto` of `total` updates
  # (the rerun test stops early).
  figure2_run <- function(pair, method, seed, total = iters, upto = Inf, hook = NULL,
                          p = pair_data(pair), ev = eval_set(pair, seed)) {
    at <- stops(method, total)
    at <- at[at <= upto]
    every <- max(1L, (if (method == "Barycentric-OT") bary_epochs(total) else total) %/% 20L)
    start <- function(e) methods[[method]](p, seed, e, every, total)
    r <- run_stretches(start, at, ev, hook)
    r$rows <- cbind(data.frame(pair = pair, method = method, seed = seed), r$rows)
    r
  }

  # One checkerboard run of W2GAN in an arrangement (a row of
  # `arrangements`), evaluated by the fit itself: with the components'
  # labels its held-out rows are balanced (w2gan()'s `map_error`).
  checkerboard_run <- function(arrangement, seed, total = iters, eval_every = 125L,
                               p = pair_data("checkerboard")) {
    a <- arrangements[arrangements$arrangement == arrangement, ]
    fit <- w2gan_run(p, seed, total, eval_every, batches = a$batches,
                     reparam_side = a$reparam_side)
    m <- fit$metrics[!is.na(fit$metrics$map_error), ]
    list(rows = data.frame(arrangement = arrangement, batches = a$batches,
                           reparam_side = a$reparam_side, seed = seed, epoch = m$epoch,
                           seconds = round(m$seconds, 2), status = fit$status,
                           map_error = signif(m$map_error, 4),
                           map_cosine = signif(m$map_cosine, 4), w2 = signif(m$w2, 4)),
         fit = fit)
  }

  # ---- domain adaptation (w2gan-domain.R) ---------------------------------
  # 16 x 16 Fashion-MNIST in [-1, 1]: source = training images 1..3000
  # after x -> 0.3 x + 0.6, with their labels; target = training images
  # 3001..6000; the 1-NN accuracy on 2000 test images.
  domain_data <- function() {
    train <- wgflow::wf_images("fashion-mnist", "train", size = 16, n = 6000)
    test <- wgflow::wf_images("fashion-mnist", "test", size = 16, n = 2000)
    src <- train$x[1:3000, ] * 0.3 + 0.6
    src_lab <- train$labels[1:3000]
    list(src = src, src_lab = src_lab, tgt = train$x[3001:6000, ],
         tgt_lab = train$labels[3001:6000], test = test,
         acc = function(mapped) wgflow::wf_knn_accuracy(mapped, src_lab, test$x,
                                                        test$labels))
  }
  # the runs: W2GAN with the paper's image settings, W1-FE-LP with K
  domain_runs <- data.frame(method = c("W2GAN", rep("W1-FE-LP", 4)), K = c(NA, 1, 3, 5, 10))
  domain_start <- function(dd, method, K, seed, epochs, every) {
    gen_d <- wgflow::wf_mlp(c(256, 256), norm = "batch", residual = TRUE, init = "normal",
                            init_sd = 0.01, gamma_init = "normal")
    common_d <- list(dd$tgt, source = dd$src, batch_size = 64L, critic_steps = 5L,
                     eval_every = every, eval_n = 200L, holdout = 200L, device = "cpu",
                     verbose = FALSE)
    if (method == "W2GAN") {
      return(do.call(wgflow::w2gan, c(common_d, list(
        epochs = epochs, critic = wgflow::wf_mlp(c(256, 256), init = "normal",
                                                 init_sd = 0.1),
        generator = gen_d, lambda_ineq = 10, lambda_eq = 10, lambda_e = 10,
        critic_optimizer = wgflow::wf_adam(1e-4, 0.5, 0.999),
        generator_optimizer = wgflow::wf_adam(1e-4, 0.5, 0.999), seed = seed))))
    }
    do.call(wgflow::w1fe, c(common_d, list(
      epochs = epochs, persistency = K, penalty = "lp",
      critic = wgflow::wf_mlp(c(256, 256)), generator = gen_d, seed = seed)))
  }
  # accuracy after each of `at` epochs (in stretches); a data frame of
  # method, K, seed, epoch, seconds (training), accuracy
  domain_run <- function(dd, method, K, seed, at, every) {
    rows <- list()
    fit <- NULL
    done <- 0L
    for (e in at) {
      fit <- if (is.null(fit)) suppressMessages(domain_start(dd, method, K, seed, e, every)) else
        wgflow::wf_continue(fit, epochs = e - done, verbose = FALSE)
      done <- e
      rows[[length(rows) + 1L]] <- data.frame(
        method = method, K = K, seed = seed, epoch = e,
        seconds = round(max(fit$metrics$seconds), 2),
        accuracy = round(dd$acc(stats::predict(fit, newdata = dd$src)), 4))
      if (fit$status != "completed") break
    }
    do.call(rbind, rows)
  }

  # ---- the checkerboard against the public code ---------------------------
  # The public code's final map errors on the checkerboard at this scale,
  # seeds 1-8, on balanced evaluation points (measured in the fidelity
  # review of the project, ../shared/reviews/fidelity.md: jshe/wasserstein-2
  # exp_2d, 3 x 64, batch 256, 2500 updates)
  public_finals <- c(0.342, 0.369, 0.358, 0.420, 0.776, 0.810, 0.359, 0.345)
  # A run drifted when its final map error is at least 0.2 above its best.
  drift_gap <- 0.2
  # Per arrangement of a w2gan-checkerboard.csv table: seeds, finals, best,
  # how many drifted, and the Wilcoxon rank-sum (Mann-Whitney) test of the
  # finals against the public code's (two-sided; exact without ties).
  checkerboard_summary <- function(d, reference = public_finals) {
    out <- lapply(split(d, factor(d$arrangement, unique(d$arrangement))), function(a) {
      runs <- split(a, a$seed)
      final <- vapply(runs, function(r) r$map_error[which.max(r$epoch)], numeric(1))
      best <- vapply(runs, function(r) min(r$map_error), numeric(1))
      cosine <- vapply(runs, function(r) r$map_cosine[which.max(r$epoch)], numeric(1))
      wt <- suppressWarnings(stats::wilcox.test(final, reference,
                                                exact = !anyDuplicated(c(final, reference))))
      data.frame(arrangement = a$arrangement[1], seeds = length(runs),
                 drifted = sum(final - best >= drift_gap), final_median = stats::median(final),
                 final_mean = mean(final), final_sd = stats::sd(final),
                 best_mean = mean(best), cosine_median = stats::median(cosine),
                 W = unname(wt$statistic), p = wt$p.value)
    })
    out <- do.call(rbind, out)
    rownames(out) <- NULL
    out
  }

  # One factor of the four arrangements (`col` "batches" or "reparam_side"
  # of `arrangements`) over the 16 runs of each of its levels: the runs at
  # `level` against the others, by their finals (rank-sum test) and their
  # drifts (Fisher's exact test).
  checkerboard_factor <- function(d, col, level) {
    runs <- split(d, list(d$arrangement, d$seed), drop = TRUE)
    fin <- vapply(runs, function(r) r$map_error[which.max(r$epoch)], numeric(1))
    drift <- vapply(runs, function(r) {
      r$map_error[which.max(r$epoch)] - min(r$map_error) >= drift_gap
    }, logical(1))
    lev <- vapply(runs, function(r) {
      arrangements[[col]][arrangements$arrangement == r$arrangement[1]]
    }, character(1)) == level
    list(n = sum(lev), drift_in = sum(drift[lev]), drift_out = sum(drift[!lev]),
         med_in = stats::median(fin[lev]), med_out = stats::median(fin[!lev]),
         p_final = stats::wilcox.test(fin[lev], fin[!lev])$p.value,
         p_drift = stats::fisher.test(table(lev, drift))$p.value)
  }

  # ---- shipped files (inst/scripts/shipped-csv.R) -------------------------
  csv_file <- if (file.exists("inst/scripts/shipped-csv.R")) "inst/scripts/shipped-csv.R" else
    system.file("scripts", "shipped-csv.R", package = "wgflow")
  source(csv_file, local = TRUE)

  list(pairs = pairs, n = n, eval_n = eval_n, iters = iters, width = width,
       pair_data = pair_data, eval_set = eval_set, methods = methods,
       arrangements = arrangements, stops = stops, map_scores = map_scores,
       run_stretches = run_stretches, figure2_run = figure2_run,
       checkerboard_run = checkerboard_run, domain_data = domain_data,
       domain_runs = domain_runs, domain_start = domain_start, domain_run = domain_run,
       public_finals = public_finals, drift_gap = drift_gap,
       checkerboard_summary = checkerboard_summary,
       checkerboard_factor = checkerboard_factor, commit = shipped$commit, write_csv = shipped$write_csv,
       read_csv = shipped$read_csv)
})
