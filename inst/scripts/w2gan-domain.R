# A small domain-adaptation study by transport maps, a proxy for the
# W2GAN paper's Table 1 (USPS -> MNIST, 1-NN accuracy: source only 33.31 %,
# W2GAN 67.89 %) and Malik & Huang's Figure 3 (W1-FE-LP with persistency K
# in {1, 3, 5, 10} over epochs, USPS -> MNIST: K = 3 best, K = 10 worst).
# Neither USPS nor MNIST can be installed here; Debian's Fashion-MNIST can.
#
# The domain pair: 16 x 16 Fashion-MNIST images in [-1, 1]. Source: training
# images 1..3000 after a fixed contrast change, x -> 0.3 x + 0.6 (washed
# out and bright), with their labels; target: training images 3001..6000
# unchanged (disjoint rows, labels unused); evaluation: 2000 test images.
# A 1-NN classifier is fitted on the (mapped) source with the source labels
# and scored on the test images (wf_knn_accuracy()). References computed
# once: "source only" (the unmapped source), "Discrete-OT" (the exact
# assignment of the source to the target sample, the best a W2 map of these
# two samples can do) and "target oracle" (the target sample with its own
# labels).
#
# Maps, all identity-start residual generators (2 x 256, BatchNorm) from the
# source to the target, 2 x 256 ReLU critics, batch 64, 5 critic steps per
# epoch: W2GAN with the paper's image settings (all lambdas 10, epsilon
# reparameterisation with lambda_e 10, Adam 1e-4 (0.5, 0.999)), and W1-FE-LP
# with K in {1, 3, 5, 10} (Malik & Huang's: Adam 1e-4, eps 1, lambda 10).
# Accuracy every `every` epochs, by training in stretches (wf_continue()).
#
# Writes <out>/w2gan-domain.csv: method, K, seed, epoch, seconds (training
# wall time), accuracy.
#
# Usage (from the package root, with wgflow installed):
#   nice Rscript inst/scripts/w2gan-domain.R [out] [epochs] [every] [seeds]
# defaults: a temporary folder, 200, 100, 1 (a quick look); the shipped file:
#   nice Rscript inst/scripts/w2gan-domain.R inst/extdata 3000 250 1

suppressPackageStartupMessages(library(wgflow))

args <- commandArgs(trailingOnly = TRUE)
arg <- function(i, default) if (length(args) >= i) args[[i]] else default
out <- arg(1L, file.path(tempdir(), "w2gan-domain"))
epochs <- as.integer(arg(2L, "200"))
every <- as.integer(arg(3L, "100"))
seeds <- seq_len(as.integer(arg(4L, "1")))
dir.create(out, showWarnings = FALSE, recursive = TRUE)
wf_threads(1L)

train <- wf_images("fashion-mnist", "train", size = 16, n = 6000)
test <- wf_images("fashion-mnist", "test", size = 16, n = 2000)
src <- train$x[1:3000, ] * 0.3 + 0.6
src_lab <- train$labels[1:3000]
tgt <- train$x[3001:6000, ]
tgt_lab <- train$labels[3001:6000]
acc <- function(mapped) wf_knn_accuracy(mapped, src_lab, test$x, test$labels)

rows <- list(
  data.frame(method = "source only", K = NA, seed = NA, epoch = 0L, seconds = 0,
             accuracy = acc(src)),
  data.frame(method = "Discrete-OT", K = NA, seed = NA, epoch = 0L, seconds = 0,
             accuracy = acc(wf_discrete_map(src, tgt))),
  data.frame(method = "target oracle", K = NA, seed = NA, epoch = 0L, seconds = 0,
             accuracy = wf_knn_accuracy(tgt, tgt_lab, test$x, test$labels)))
cat(sprintf("source only %.3f, Discrete-OT %.3f, target oracle %.3f\n", rows[[1]]$accuracy,
            rows[[2]]$accuracy, rows[[3]]$accuracy))

critic <- wf_mlp(c(256, 256))
gen <- wf_mlp(c(256, 256), norm = "batch", residual = TRUE, init = "normal",
              init_sd = 0.01, gamma_init = "normal")
common <- list(tgt, source = src, batch_size = 64L, critic_steps = 5L, eval_every = every,
               eval_n = 200L, holdout = 200L, device = "cpu", verbose = FALSE)
runs <- c(list(list(method = "W2GAN", K = NA)),
          lapply(c(1L, 3L, 5L, 10L), function(k) list(method = "W1-FE-LP", K = k)))
started <- Sys.time()
for (seed in seeds) {
  for (r in runs) {
    first <- min(every, epochs)
    fit <- if (r$method == "W2GAN") {
      do.call(w2gan, c(common, list(
        epochs = first, critic = wf_mlp(c(256, 256), init = "normal", init_sd = 0.1),
        generator = gen, lambda_ineq = 10, lambda_eq = 10, lambda_e = 10,
        critic_optimizer = wf_adam(1e-4, 0.5, 0.999),
        generator_optimizer = wf_adam(1e-4, 0.5, 0.999), seed = seed)))
    } else {
      do.call(w1fe, c(common, list(
        epochs = first, persistency = r$K, penalty = "lp", critic = critic,
        generator = gen, seed = seed)))
    }
    done <- first
    repeat {
      m <- fit$metrics
      rows[[length(rows) + 1]] <- data.frame(
        method = r$method, K = r$K, seed = seed, epoch = done,
        seconds = round(max(m$seconds), 2), accuracy = acc(predict(fit, newdata = src)))
      if (done >= epochs || fit$status != "completed") break
      step <- min(every, epochs - done)
      fit <- wf_continue(fit, epochs = step, verbose = FALSE)
      done <- done + step
    }
    last <- rows[[length(rows)]]
    cat(sprintf("%-9s K = %-2s seed %d: accuracy %.3f after %d epochs (%s, %.0f s training)\n",
                r$method, if (is.na(r$K)) "-" else r$K, seed, last$accuracy, last$epoch,
                fit$status, last$seconds))
  }
}
res <- do.call(rbind, rows)
res$accuracy <- round(res$accuracy, 4)
utils::write.csv(res, file.path(out, "w2gan-domain.csv"), row.names = FALSE)
cat(sprintf("done in %.1f min; %s\n", as.double(difftime(Sys.time(), started, units = "mins")),
            file.path(out, "w2gan-domain.csv")))
