# Documentation and checks: the citation, the
# package help page, the papers cited, and the thread count. (The
# --as-cran check itself is `make test`; .ci/check-log's own test is
# .ci/test-check-log.)

test_that("citation('wgflow') names the developers and a year, without warnings", {
  expect_silent(cit <- citation("wgflow"))
  expect_gte(length(cit), 2L)
  txt <- paste(format(cit, style = "text"), collapse = "\n")
  expect_match(txt, "The wgflow developers", fixed = TRUE)
  expect_no_match(txt, "developers w", fixed = TRUE)
  expect_match(txt, "R package version", fixed = TRUE)
  expect_match(txt, "Malik", fixed = TRUE)
  expect_match(cit[[1]]$year, "^[0-9]{4}$")
})

test_that("the help pages: ?wgflow is an overview, and the papers are cited", {
  db <- tools::Rd_db("wgflow")
  rd_text <- function(name) paste(capture.output(tools::Rd2txt(db[[name]])), collapse = "\n")
  keywords <- unlist(lapply(db[["wgflow-package.Rd"]], function(x) {
    if (identical(attr(x, "Rd_tag"), "\\keyword")) as.character(x)
  }))
  expect_false("internal" %in% keywords)
  overview <- rd_text("wgflow-package.Rd")
  for (who in c("Malik", "Arjovsky", "Gulrajani", "Petzka", "Leygonie", "Chen", "Lin")) {
    expect_match(overview, who, fixed = TRUE, info = who)
  }
  expect_match(overview, "wf_compare", fixed = TRUE)
  for (page in c("w1fe.Rd", "wgan.Rd")) {
    txt <- rd_text(page)
    for (who in c("Arjovsky", "Gulrajani", "Petzka", "Malik")) {
      expect_match(txt, who, fixed = TRUE, info = paste(page, who))
    }
  }
  threads <- rd_text("wf_threads.Rd")
  expect_no_match(threads, "default is 2", fixed = TRUE)
  expect_match(threads, "fewer than four cores", fixed = TRUE)
})

test_that("more threads than cores warn", {
  cores <- .Call(wgflow:::ffi_cpu_cores)
  old <- wf_threads()
  on.exit(suppressWarnings(wf_threads(old)))
  expect_warning(wf_threads(cores + 1L), class = "wgflow_warning_threads")
  expect_identical(wf_threads(), cores + 1L) # still set, as asked
  expect_silent(wf_threads(1))
})

test_that("every .Call routine is registered", {
  routines <- getDLLRegisteredRoutines("wgflow")$.Call
  names <- vapply(routines, function(r) r$name, character(1))
  used <- unique(unlist(lapply(ls(asNamespace("wgflow")), function(f) {
    fn <- get(f, envir = asNamespace("wgflow"))
    if (!is.function(fn)) return(NULL)
    regmatches(deparse(fn), gregexpr("ffi_[a-z_0-9]+", deparse(fn)))
  })))
  expect_true(all(used %in% names), info = paste(setdiff(used, names), collapse = ", "))
})
