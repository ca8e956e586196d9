cat("demo\n")
