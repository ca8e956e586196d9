# The feature network of the image metrics fd_lenet and kd_lenet
# (R/features.R, wf_lenet(), wf_features()): a LeNet-like convolutional
# classifier of Fashion-MNIST, trained with wgflow's own engine
# (wf_classifier_step(): softmax cross-entropy, Adam) on the 60000
# training images, its accuracy measured on the 10000 test images, its
# weights written as 16-bit integers with one scale per tensor (the file
# format read_classifier() in R/features.R reads; the accuracy recorded is
# that of the stored weights, read back with wf_lenet(path)). The features
# (the 128 activations before the last layer) are brought to unit scale
# over the training images, the logits unchanged.
#
#   nice Rscript inst/scripts/lenet-fashion.R [out_file] [epochs] [seed]
#
# Defaults: a temporary file, 10 epochs, seed 1. The shipped
# inst/extdata/lenet-fashion.rds comes from
#   nice Rscript inst/scripts/lenet-fashion.R inst/extdata/lenet-fashion.rds 10 1
# on one thread of a shared 2-core machine (455 s of training, about 8
# minutes in all; test accuracy 0.9152, 381 KB); the file's `record` says
# when, from which commit, how long it took and the accuracy reached.
# Needs Debian's dataset-fashion-mnist.
suppressPackageStartupMessages(library(wgflow))

args <- commandArgs(trailingOnly = TRUE)
out_file <- if (length(args) >= 1) args[1] else tempfile(fileext = ".rds")
epochs <- if (length(args) >= 2) as.integer(args[2]) else 10L
seed <- if (length(args) >= 3) as.integer(args[3]) else 1L
batch_size <- 64L
# Adam at 1e-3, then 3e-4 for the last 30% of the epochs and 1e-4 for the
# last 10% (fixed in advance: the test images choose nothing)
lr_at <- function(epoch) {
  if (epoch > 0.9 * epochs) 1e-4 else if (epoch > 0.7 * epochs) 3e-4 else 1e-3
}
wf_threads(1) # a shared machine: one thread

spec <- wf_layers(
  wf_conv2d(16, kernel = 5, padding = 2), wf_relu(),              # 16 x 28 x 28
  wf_conv2d(32, kernel = 4, stride = 2, padding = 1), wf_relu(),  # 32 x 14 x 14
  wf_conv2d(64, kernel = 4, stride = 2, padding = 1), wf_relu(),  # 64 x 7 x 7
  wf_conv2d(64, kernel = 3, stride = 2, padding = 1), wf_relu(),  # 64 x 4 x 4
  wf_flatten(), wf_dense(128), wf_relu(),                         # the features
  wf_dense(10),                                                   # the logits
  input = c(1, 28, 28)
)

train <- wf_images("fashion-mnist", "train")
test <- wf_images("fashion-mnist", "test")
cat(sprintf("Fashion-MNIST: %d training and %d test images; %d epochs of batches of %d\n",
            nrow(train$x), nrow(test$x), epochs, batch_size))

accuracy <- function(net, x, labels) {
  pred <- integer(nrow(x))
  for (lo in seq(1L, nrow(x), by = 500L)) {
    rows <- lo:min(nrow(x), lo + 499L)
    pred[rows] <- max.col(wf_forward(net, x[rows, , drop = FALSE]), ties.method = "first")
  }
  mean(pred == as.integer(labels))
}

set.seed(seed)
net <- wf_net(spec, seed = seed)
t0 <- proc.time()[["elapsed"]]
history <- data.frame()
n <- nrow(train$x)
for (epoch in seq_len(epochs)) {
  opt <- wf_adam(lr_at(epoch))
  order <- sample.int(n)
  loss <- 0
  steps <- 0L
  for (lo in seq(1L, n - batch_size + 1L, by = batch_size)) {
    rows <- order[lo:(lo + batch_size - 1L)]
    loss <- loss + wf_classifier_step(net, train$x[rows, , drop = FALSE],
                                      train$labels[rows], opt)$loss
    steps <- steps + 1L
  }
  seconds <- proc.time()[["elapsed"]] - t0
  acc <- accuracy(net, test$x, test$labels) # shown, never used to choose
  history <- rbind(history, data.frame(epoch = epoch, lr = lr_at(epoch),
                                       train_loss = loss / steps, test_accuracy = acc,
                                       seconds = seconds))
  cat(sprintf("epoch %2d  lr %.0e  train loss %.4f  test accuracy %.4f  %6.0f s\n", epoch,
              lr_at(epoch), loss / steps, acc, seconds))
}
train_seconds <- proc.time()[["elapsed"]] - t0
float_accuracy <- history$test_accuracy[epochs]

# The features at unit scale: with c = 1 / sqrt(mean |f|^2 / 128) over the
# training images, the first dense layer's weight and bias times c and the
# last one's weight divided by c give features c f and the same logits
# (ReLU commutes with c > 0). So a . b / d in the KID's kernel
# (a . b / d + 1)^3 is of order 1, as on Inception features; raw, it was
# about 25 and the cubic kernel's estimate drowned in its own noise.
feature_ms <- function(net) {
  f <- wf_features(train$x, net = net)
  mean(rowSums(f^2)) / ncol(f)
}
feature_scale <- 1 / sqrt(feature_ms(net))
layout <- wf_param_layout(net)
p <- wf_params(net)
at <- function(name) layout$offset[layout$name == name] + seq_len(layout$length[layout$name == name])
p[at("linear1.weight")] <- p[at("linear1.weight")] * feature_scale
p[at("linear1.bias")] <- p[at("linear1.bias")] * feature_scale
p[at("linear2.weight")] <- p[at("linear2.weight")] / feature_scale
wf_params(net) <- p
cat(sprintf("features scaled by %.4f: mean |f|^2 / 128 over the training images now %.4f\n",
            feature_scale, feature_ms(net)))

# the weights as 16-bit integers, one scale per tensor
p <- wf_params(net)
scale <- vapply(seq_len(nrow(layout)), function(i) {
  w <- p[layout$offset[i] + seq_len(layout$length[i])]
  if (max(abs(w)) > 0) max(abs(w)) / 32767 else 1
}, double(1))
q <- as.integer(round(p / rep(scale, layout$length)))
git <- function(...) {
  out <- tryCatch(suppressWarnings(system2("git", c(...), stdout = TRUE, stderr = FALSE)),
                  error = function(e) character())
  if (length(out) == 0L) NA_character_ else paste(out, collapse = "\n")
}
commit <- git("rev-parse", "HEAD")
dirty <- git("status", "--porcelain", "--untracked-files=no")
record <- list(
  test_accuracy = NA_real_, test_accuracy_float = float_accuracy, test_n = nrow(test$x),
  train_n = nrow(train$x), epochs = epochs, batch_size = batch_size,
  optimizer = "Adam (0.9, 0.999), lr 1e-3, 3e-4 after 70% of the epochs, 1e-4 after 90%",
  seed = seed, seconds = train_seconds, history = history, feature_scale = feature_scale,
  commit = if (is.na(commit)) NA_character_ else
    paste0(commit, if (!is.na(dirty)) " (with uncommitted changes)" else ""),
  command = paste("Rscript inst/scripts/lenet-fashion.R", paste(args, collapse = " ")),
  date = format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z"),
  r_version = R.version.string, wgflow_version = as.character(utils::packageVersion("wgflow")),
  threads = wf_threads()
)
weights <- list(format = "wgflow-classifier-1", spec = spec,
                tensors = data.frame(name = layout$name, offset = layout$offset,
                                     length = layout$length, scale = scale),
                q = writeBin(q, raw(), size = 2L, endian = "little"),
                state = wf_state(net), classes = levels(train$labels), record = record)
saveRDS(weights, out_file, compress = "xz")

# the accuracy of the stored weights, read back as wf_lenet() reads them
stored <- wf_lenet(out_file)
weights$record$test_accuracy <- accuracy(stored, test$x, test$labels)
saveRDS(weights, out_file, compress = "xz")
cat(sprintf(paste0("trained in %.0f s; test accuracy %.4f (stored 16-bit weights), %.4f ",
                   "(float); %s, %.0f KB\n"), train_seconds, weights$record$test_accuracy,
            float_accuracy, out_file, file.size(out_file) / 1024))
