# Reference outputs of R surveillance::algo.glrnb for tests/lib/detect/test_glrnb_r.py.
# Regenerate (from the repository root):  Rscript tests/lib/detect/glrnb_r_reference.R tests/lib/detect/data/glrnb_r
# Series: every weekly/monthly count series shipped with the surveillance package (fluBYBW's 140 influenza
# series among them) and seeded synthetic series that make glm.fit / glm.nb halve steps or fit on the boundary.
suppressMessages({library(surveillance); library(MASS); library(parallel)})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "tests/lib/detect/data/glrnb_r"
dir.create(out, showWarnings = FALSE, recursive = TRUE)

series <- list()
add <- function(id, source, y, freq) {
  y <- as.numeric(y)
  if (any(is.na(y)) || length(y) < 30) return(invisible())
  series[[id]] <<- list(id = id, source = source, y = y, freq = freq)
}
from_sts <- function(name, obj) {
  if (inherits(obj, "disProg")) obj <- disProg2sts(obj)
  if (!inherits(obj, "sts")) return(invisible())
  if (!(obj@freq %in% c(52, 12))) return(invisible())
  obs <- obj@observed
  for (j in seq_len(ncol(obs))) {
    unit <- colnames(obs)[j]
    if (is.null(unit) || unit == "") unit <- as.character(j)
    add(paste0(name, "/", unit), paste0("data(", name, ", package = 'surveillance')"), obs[, j], obj@freq)
  }
}
for (name in c("abattoir", "fluBYBW", "h1_nrwrp", "ha.sts", "influMen", "measlesDE", "measlesWeserEms",
               "meningo.age", "momo", "rotaBB", "salmAllOnset", "salmHospitalized", "salmNewport",
               "salmonella.agona", "shadar", "stsNewport", "m1", "m2", "m3", "m4", "m5", "q1_nrwh", "q2",
               "k1", "n1", "n2", "s1", "s2", "s3")) {
  e <- new.env()
  ok <- tryCatch({ suppressWarnings(data(list = name, package = "surveillance", envir = e)); TRUE },
                 error = function(err) FALSE)
  if (ok && exists(name, envir = e)) from_sts(name, get(name, envir = e))
}

# Synthetic series (seeded) for the fitting paths: very sparse counts, a lone huge count, a long run of zeros
# in the training period, seasonality so strong that the Poisson IRLS overshoots, and near-Poisson counts
# for which theta.ml runs to its limit.
set.seed(20261205)
t <- 1:260
for (i in 1:12) add(sprintf("syn/sparse_%02d", i), "synthetic: Bernoulli(p) counts", rbinom(260, 1, runif(1, 0.005, 0.08)), 52)
for (i in 1:8) {
  y <- rpois(260, runif(1, 0.2, 3)); y[sample(1:150, 1)] <- sample(c(200, 1000, 5000), 1)
  add(sprintf("syn/spike_%02d", i), "synthetic: Poisson with one huge count", y, 52)
}
for (i in 1:8) {
  y <- rpois(260, runif(1, 1, 20)); y[1:sample(60:180, 1)] <- 0
  add(sprintf("syn/zero_run_%02d", i), "synthetic: zeros, then Poisson", y, 52)
}
for (i in 1:12) {
  amp <- runif(1, 3, 9)
  y <- rnbinom(260, size = runif(1, 0.5, 5), mu = exp(amp * cos(2 * pi * t / 52 + runif(1, 0, 2 * pi)) - amp / 2))
  add(sprintf("syn/seasonal_%02d", i), "synthetic: NB with extreme seasonality", y, 52)
}
for (i in 1:8) {
  y <- rpois(260, exp(log(runif(1, 2, 50)) + 0.8 * sin(2 * pi * t / 52)))
  add(sprintf("syn/poisson_%02d", i), "synthetic: Poisson (theta -> Inf)", y, 52)
}
for (i in 1:6) {
  y <- rep(0, 260); y[sample(1:200, sample(1:3, 1))] <- sample(1:20, 1)
  add(sprintf("syn/few_%02d", i), "synthetic: almost all zeros", y, 52)
}

controls <- list(
  GLRNB_default = list(),
  GLRPOIS_cases = list(alpha = 0, mu0 = list(S = 2, trend = TRUE, refit = FALSE), c.ARL = 5, ret = "cases"),
  GLRNB_trend_S2 = list(mu0 = list(S = 2, trend = TRUE, refit = FALSE), c.ARL = 3)
)

meta <- data.frame()
obs_rows <- list()
res_rows <- list()
err_rows <- list()
for (s in series) {
  n <- length(s$y)
  first <- if (s$freq == 52) max(n - 103, floor(n / 2) + 1) else max(n - 35, floor(n / 2) + 1)
  meta <- rbind(meta, data.frame(id = s$id, source = s$source, freq = s$freq, n = n, first = first, last = n))
  obs_rows[[s$id]] <- data.frame(id = s$id, t = seq_len(n), observed = s$y)
  dp <- create.disProg(week = seq_len(n), observed = s$y, state = rep(0, n), freq = s$freq)
  for (cid in names(controls)) {
    t0 <- proc.time()[["elapsed"]]
    ctl <- c(list(range = first:n), controls[[cid]])
    # in a forked child with a time limit: for some series R's C code never returns
    job <- parallel::mcparallel(tryCatch(suppressWarnings(algo.glrnb(dp, control = ctl)), error = function(e) e))
    r <- parallel::mccollect(job, wait = FALSE, timeout = 30)
    if (is.null(r)) {
      tools::pskill(job$pid); parallel::mccollect(job, wait = TRUE)
      r <- simpleError("R did not return within 30 s")
    } else r <- r[[1]]
    if (inherits(r, "error")) {
      message(sprintf("%s %s error: %s", s$id, cid, conditionMessage(r)))
      err_rows[[length(err_rows) + 1]] <- data.frame(id = s$id, control_id = cid, message = conditionMessage(r))
      next
    }
    alpha <- r$control$alpha
    res_rows[[length(res_rows) + 1]] <- data.frame(
      id = s$id, control_id = cid, t = first:n, upperbound = as.numeric(r$upperbound),
      alarm = as.numeric(r$alarm), expected = as.numeric(r$control$mu0),
      dispersion = if (is.null(alpha)) NA else alpha)
    message(sprintf("%s %s %.2f s", s$id, cid, proc.time()[["elapsed"]] - t0))
  }
}
write.csv(meta, file.path(out, "series.csv"), row.names = FALSE)
write.csv(do.call(rbind, obs_rows), file.path(out, "observed.csv"), row.names = FALSE)
write.csv(do.call(rbind, res_rows), file.path(out, "outputs.csv"), row.names = FALSE, na = "")
errs <- if (length(err_rows)) do.call(rbind, err_rows) else data.frame(id = character(), control_id = character(), message = character())
write.csv(errs, file.path(out, "errors.csv"), row.names = FALSE)
cat(sprintf("%d series, %d result rows, %d errors; R %s, surveillance %s, MASS %s\n", length(series),
            sum(sapply(res_rows, nrow)), nrow(errs), R.version.string, packageVersion("surveillance"),
            packageVersion("MASS")))
