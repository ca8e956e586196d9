# Reproduces the experiment of Figure 2 of Malik & Huang (W1-FE-LP with
# persistency K in {1, 3, 5, 10} on the 2-D mixture of eight Gaussians,
# exact W1 against epoch and against wall time, 800 epochs) and of Figure 4
# (appendix B.1: W1-FE-GP with K in {1, 3, 5}), each with several seeds,
# with the paper's settings: 3 x 128 ReLU critic and generator, batch 512,
# 10 critic steps per epoch, Adam with learning rate 1e-4 for both, Euler
# step eps = 1 (all w1fe() defaults).
#
# Every 10 epochs the exact W1 (and W2) between 1000 generated samples and
# 1000 held-out data samples is computed; `seconds` is the cumulative
# training wall time of the run (evaluation excluded). Only those rows are
# kept, in inst/extdata/figure2.csv.gz, which vignette("w1fe") plots.
#
# Usage (from the package root, with wgflow installed):
#   Rscript inst/scripts/figure2.R [out.csv] [epochs] [workers] [seeds] [parts]
# defaults inst/extdata/figure2.csv.gz, 800, 2, 3, a temporary folder. Each run
# also appends its evaluation rows to <parts>/<penalty>_K<K>_seed<seed>.csv
# as it goes (to follow progress, or to keep what was done if the run is
# stopped). With workers > 1 the runs are
# spread over that many background R sessions (future::multisession, through
# wf_sweep()), each fit on one CPU thread; with workers = 1 they run one
# after the other on wf_threads() threads.

suppressPackageStartupMessages(library(wgflow))

args <- commandArgs(trailingOnly = TRUE)
arg <- function(i, default) if (length(args) >= i) args[[i]] else default
out <- arg(1L, file.path("inst", "extdata", "figure2.csv.gz"))
epochs <- as.integer(arg(2L, "800"))
workers <- as.integer(arg(3L, "2"))
seeds <- seq_len(as.integer(arg(4L, "3")))
parts <- arg(5L, file.path(tempdir(), "figure2-parts"))
dir.create(parts, showWarnings = FALSE, recursive = TRUE)

# w1fe() that also writes its evaluation rows to a file of its own as it
# trains (a callback sees each epoch's metrics).
w1fe_logged <- function(data, penalty, persistency, seed, ..., parts) {
  file <- file.path(parts, sprintf("%s_K%d_seed%d.csv", penalty, persistency, seed))
  unlink(file)
  log_row <- function(row) {
    if (!is.na(row$w1)) {
      utils::write.table(as.data.frame(row)[c("epoch", "seconds", "w1", "w2", "w1_critic")],
                         file, sep = ",", append = file.exists(file),
                         col.names = !file.exists(file), row.names = FALSE)
    }
    TRUE
  }
  wgflow::w1fe(data, penalty = penalty, persistency = persistency, seed = seed,
               callbacks = log_row, ...)
}

x <- wf_toy("8gaussians", n = 20000, seed = 1)
grid <- rbind(
  data.frame(penalty = "lp", persistency = c(1L, 3L, 5L, 10L)),
  data.frame(penalty = "gp", persistency = c(1L, 3L, 5L))
)

if (workers > 1L) {
  future::plan(future::multisession, workers = workers)
  threads <- 1L
} else {
  future::plan(future::sequential)
  threads <- NULL
}

cat(sprintf("figure2: %d runs (%d settings x %d seeds), %d epochs, %d worker(s), %s thread(s) per run, started %s\n",
            nrow(grid) * length(seeds), nrow(grid), length(seeds), epochs, workers,
            if (is.null(threads)) wf_threads() else threads, format(Sys.time())))
sw <- wf_sweep(x, grid, seeds = seeds, fun = w1fe_logged, epochs = epochs,
               eval_every = 10L, eval_n = 1000L, parts = parts,
               threads = threads, verbose = TRUE)
future::plan(future::sequential)

keep <- c("penalty", "persistency", "seed", "status", "epoch", "seconds",
          "w1", "w2", "w1_critic")
res <- as.data.frame(sw)[!is.na(sw$w1), keep]
res$seconds <- round(res$seconds, 3)
for (col in c("w1", "w2", "w1_critic")) res[[col]] <- signif(res[[col]], 5)
dir.create(dirname(out), showWarnings = FALSE, recursive = TRUE)
# gzip'd when the name ends in .gz (the shipped file: the package's size)
con <- if (grepl("\\.gz$", out)) gzfile(out, "w") else file(out, "w")
utils::write.csv(res, con, row.names = FALSE)
close(con)

cat(sprintf("figure2: done in %.0f s (%s); wrote %d rows to %s (%.0f KB)\n",
            attr(sw, "elapsed"), format(Sys.time()), nrow(res), out,
            file.size(out) / 1024))
fin <- stats::aggregate(cbind(w1, seconds) ~ penalty + persistency,
                        data = res[res$epoch == max(res$epoch), ], FUN = mean)
print(fin)
msgs <- attr(sw, "messages")
if (any(!is.na(msgs))) print(msgs[!is.na(msgs)])
