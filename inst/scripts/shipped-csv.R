# How the experiment scripts write the files they ship: csv files led by
# comment lines that record the command and the commit that made them.
#
#   source(system.file("scripts", "shipped-csv.R", package = "wgflow"))
#
# defines `shipped`, a list of commit(), write_csv() and read_csv() (and
# nothing else in the caller's scope).

shipped <- local({
  # The commit of the package's source tree ("-dirty": with uncommitted
  # changes), or "unknown" outside a git checkout.
  commit <- function() {
    out <- tryCatch(suppressWarnings(system2("git", c("describe", "--always", "--dirty",
                                                      "--abbrev=12"),
                                             stdout = TRUE, stderr = FALSE)),
                    error = function(e) character())
    if (length(out) == 1L && nzchar(out)) out else "unknown"
  }
  # A csv (gzip'd when the name ends in .gz) led by comment lines: the
  # command and commit that made it, the package and R versions, the date,
  # and any further lines of `notes`.
  write_csv <- function(d, path, command, notes = character()) {
    con <- if (grepl("\\.gz$", path)) gzfile(path, "w") else file(path, "w")
    on.exit(close(con))
    writeLines(c(paste("# command:", command), paste("# commit:", commit()),
                 sprintf("# wgflow %s, %s, %s", utils::packageVersion("wgflow"),
                         R.version.string, format(Sys.Date())),
                 if (length(notes)) paste("#", notes)), con)
    utils::write.csv(d, con, row.names = FALSE)
  }
  # A shipped csv, its comment lines as attribute "header"
  read_csv <- function(path) {
    con <- if (grepl("\\.gz$", path)) gzfile(path, "r") else file(path, "r")
    head <- readLines(con, n = 20L)
    close(con)
    d <- utils::read.csv(path, comment.char = "#")
    attr(d, "header") <- sub("^# ", "", grep("^#", head, value = TRUE))
    d
  }
  list(commit = commit, write_csv = write_csv, read_csv = read_csv)
})
