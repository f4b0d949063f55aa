# Generates fixtures.json for internal/stats from R's psych and epiR.
# Usage (from this directory): Rscript gen_fixtures.R  (or ./gen_fixtures.sh)
# The Go tests only read fixtures.json; CI does not run R.
suppressPackageStartupMessages({
  library(psych)
  library(epiR)
  library(vcd)
  library(sandwich)
})

RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20240601)

# ---- minimal JSON writer (full precision, no jsonlite dependency) ----
arr <- function(x) structure(as.numeric(x), class = "jsarr")
mat <- function(m) lapply(seq_len(nrow(m)), function(i) arr(m[i, ]))
num <- function(v) {
  if (is.null(v) || length(v) == 0 || is.na(v) || !is.finite(v)) return("null")
  sprintf("%.17g", v)
}
to_json <- function(x) {
  if (inherits(x, "jsarr")) return(paste0("[", paste(vapply(unclass(x), num, ""), collapse = ","), "]"))
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (!is.null(names(x))) {
      body <- vapply(names(x), function(k) paste0("\"", k, "\":", to_json(x[[k]])), "")
      return(paste0("{", paste(body, collapse = ","), "}"))
    }
    return(paste0("[", paste(vapply(x, to_json, ""), collapse = ",\n"), "]"))
  }
  if (is.character(x)) return(paste0("\"", x, "\""))
  if (is.logical(x)) return(if (is.na(x)) "null" else tolower(as.character(x)))
  if (length(x) != 1) stop("scalar expected; wrap vectors with arr()")
  num(x)
}

# ---- data sets ----
sf <- matrix(c(9, 2, 5, 8,
               6, 1, 3, 2,
               8, 4, 6, 8,
               7, 1, 2, 6,
               10, 5, 6, 9,
               6, 2, 4, 7), ncol = 4, byrow = TRUE)
wright <- c(494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427)
mini <- c(512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451)
dyadC <- c(5, 4, 5, 4, 5, 5, 4, 4, 5, 4, 4, 5)
dyadT <- c(4, 3, 4, 4, 4, 3, 4, 3, 4, 3, 3, 4)
likert <- function(latent, shift = 0, sd = 0.7) pmin(5, pmax(1, round(4 + shift + 0.8 * latent + rnorm(length(latent), sd = sd))))

lat <- rnorm(30)
wai_c <- likert(lat, 0.4)            # client: ceiling-heavy
wai_t <- likert(lat, -0.3)           # therapist: lower
cont_x <- round(rnorm(25, 50, 10), 3)
cont_y <- round(0.8 * cont_x + 12 + rnorm(25, 0, 6), 3)
cont_z <- round(cont_x + rnorm(25, 3, 8), 3)
neg_x <- c(3, 1, 4, 1, 5, 2, 6, 5, 3, 5)
neg_y <- c(2, 5, 1, 4, 1, 4, 2, 2, 5, 3)
tie_x <- c(5, 5, 5, 4, 5, 5, 3, 5, 4, 5, 5, 2)
tie_y <- c(5, 4, 5, 4, 5, 3, 3, 5, 4, 4, 5, 3)

icc_sets <- list(
  list(name = "shrout_fleiss", x = sf, conf = 0.95),
  list(name = "pefr_first", x = cbind(wright, mini), conf = 0.95),
  list(name = "wai_ceiling_30x2", x = cbind(wai_c, wai_t), conf = 0.95),
  list(name = "continuous_25x3", x = cbind(cont_x, cont_y, cont_z), conf = 0.90),
  list(name = "negative_10x2", x = cbind(neg_x, neg_y), conf = 0.95),
  list(name = "ties_12x2", x = cbind(tie_x, tie_y), conf = 0.95),
  list(name = "small_3x2", x = cbind(c(1, 2, 4), c(2, 2, 5)), conf = 0.95),
  list(name = "small_4x3", x = cbind(c(2, 4, 3, 5), c(3, 4, 3, 4), c(1, 5, 2, 5)), conf = 0.95),
  list(name = "dyad_items_12x2", x = cbind(dyadC, dyadT), conf = 0.95),
  # One dyad's twelve items where ICC2's Satterthwaite df is 0.163, so its
  # lower bound needs qf(0.975, 11, 0.163) = 5.8e18 (found from outside).
  list(name = "dyad_tiny_df_12x2", x = cbind(c(4, 4, 4, 4, 5, 5, 4, 5, 4, 5, 5, 5),
                                              c(3, 3, 4, 3, 3, 2, 3, 2, 3, 2, 3, 3)), conf = 0.95)
)

icc_fix <- lapply(icc_sets, function(s) {
  r <- suppressWarnings(suppressMessages(psych::ICC(s$x, lmer = FALSE, alpha = 1 - s$conf)))
  res <- r$results
  forms <- lapply(seq_len(6), function(i) list(
    type = res$type[i], icc = res$ICC[i], f = res$F[i], df1 = res$df1[i], df2 = res$df2[i],
    p = res$p[i], lower = res[["lower bound"]][i], upper = res[["upper bound"]][i]))
  list(name = s$name, conf = s$conf, x = mat(s$x), n = r$n.obs, k = r$n.judge,
       msr = r$stats["MS", "subjects"], msc = r$stats["MS", "Judges"],
       mse = r$stats["MS", "Residual"], msw = r$MSW, forms = forms)
})

pair_sets <- list(
  list(name = "pefr_first", x = wright, y = mini, conf = 0.95),
  list(name = "wai_ceiling_30", x = wai_c, y = wai_t, conf = 0.95),
  list(name = "continuous_25", x = cont_x, y = cont_y, conf = 0.90),
  list(name = "negative_10", x = neg_x, y = neg_y, conf = 0.95),
  list(name = "ties_12", x = tie_x, y = tie_y, conf = 0.95),
  list(name = "small_3", x = c(1, 2, 4), y = c(2, 2, 5), conf = 0.95),
  list(name = "small_4", x = c(2, 4, 3, 5), y = c(3, 4, 3, 4), conf = 0.95)
)

cor_fix <- function(x, y, conf) {
  ct <- cor.test(x, y, conf.level = conf)
  ci <- if (is.null(ct$conf.int)) c(NA, NA) else ct$conf.int
  list(r = unname(cor(x, y)), p = ct$p.value, lower = ci[1], upper = ci[2])
}
lm_fix <- function(x, y) {
  s <- summary(lm(y ~ x))
  co <- s$coefficients
  list(intercept = co[1, 1], slope = co[2, 1],
       se = if (length(x) > 2) co[2, 2] else NA, p = if (length(x) > 2) co[2, 4] else NA)
}
pair_fix <- lapply(pair_sets, function(s) {
  x <- s$x; y <- s$y; n <- length(x); conf <- s$conf
  sp <- cor_fix(rank(x), rank(y), conf)
  sp$rho <- unname(cor(x, y, method = "spearman"))
  cc <- epiR::epi.ccc(x, y, ci = "z-transform", conf.level = conf)
  d <- x - y; m <- (x + y) / 2
  tq <- qt((1 + conf) / 2, n - 1)
  bias <- mean(d); s_d <- sd(d); mult <- 1.96
  se_b <- s_d / sqrt(n); se_l <- sqrt(3 * s_d^2 / n)
  lo <- bias - mult * s_d; up <- bias + mult * s_d
  list(name = s$name, conf = conf, x = arr(x), y = arr(y),
       pearson = cor_fix(x, y, conf), spearman = sp,
       ccc = list(est = cc$rho.c$est, lower = cc$rho.c$lower, upper = cc$rho.c$upper,
                  s_shift = cc$s.shift, l_shift = cc$l.shift, c_b = cc$C.b),
       ba = list(multiplier = mult, bias = bias, sd = s_d, lower = lo, upper = up,
                 bias_lower = bias - tq * se_b, bias_upper = bias + tq * se_b,
                 lower_lower = lo - tq * se_l, lower_upper = lo + tq * se_l,
                 upper_lower = up - tq * se_l, upper_upper = up + tq * se_l,
                 trend = lm_fix(m, d)),
       slope = lm_fix(x, y))
})

# WAI-SR-like 40 x 12 with one latent factor; a copy with a constant item (psych drops it).
lat40 <- rnorm(40)
wai12 <- sapply(1:12, function(j) likert(lat40, 0.2, 0.8))
wai12const <- wai12; wai12const[, 5] <- 5
negitems <- cbind(c(1, 2, 3, 4, 5, 2, 3), c(2, 2, 4, 5, 5, 1, 3), c(5, 4, 3, 1, 2, 4, 3))
alpha_sets <- list(
  list(name = "shrout_fleiss_6x4", x = sf),
  list(name = "wai12_40x12", x = wai12),
  list(name = "wai12_const_item", x = wai12const),
  list(name = "small_4x3", x = cbind(c(2, 4, 3, 5), c(3, 4, 3, 4), c(1, 5, 2, 5))),
  list(name = "negative_item_7x3", x = negitems),
  list(name = "pefr_two_items", x = cbind(wright, mini))
)
alpha_fix <- lapply(alpha_sets, function(s) {
  a <- suppressWarnings(suppressMessages(psych::alpha(as.data.frame(s$x), check.keys = FALSE, warnings = FALSE)))
  list(name = s$name, x = mat(s$x), n = nrow(s$x), k = a$nvar,
       raw_alpha = a$total$raw_alpha, std_alpha = a$total$std.alpha,
       feldt_lower = unlist(a$feldt$lower.ci)[[1]], feldt_upper = unlist(a$feldt$upper.ci)[[1]],
       # The Feldt interval at another level: psych::alpha.ci, p.val = 1 - conf.
       feldt90 = with(psych::alpha.ci(a$total$raw_alpha, nrow(s$x), a$nvar, p.val = 0.10), list(lower = lower.ci, upper = upper.ci)))
})

sas <- matrix(c(0, 4, 1, 0, 8, 0, 0, 1, 5), 3, byrow = TRUE)
expand <- function(tab) {
  idx <- which(tab > 0, arr.ind = TRUE)
  a <- rep(idx[, 1], tab[idx]); b <- rep(idx[, 2], tab[idx])
  list(a = a, b = b)
}
sasv <- expand(sas)
anx2 <- c(3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4)
anx3 <- c(2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2)
kappa_sets <- list(
  list(name = "sas_3x3", a = sasv$a, b = sasv$b, levels = 1:3, conf = 0.95),
  list(name = "anxiety_r2_r3", a = anx2, b = anx3, levels = 1:6, conf = 0.95),
  list(name = "wai_item_1to5", a = wai_c, b = wai_t, levels = 1:5, conf = 0.95),
  list(name = "wai_item_1to7_sparse", a = wai_c, b = wai_t, levels = 1:7, conf = 0.90),
  list(name = "perfect_5", a = c(1, 2, 3, 3, 2), b = c(1, 2, 3, 3, 2), levels = 1:4, conf = 0.95),
  list(name = "small_4", a = c(1, 2, 2, 3), b = c(2, 2, 3, 3), levels = 1:3, conf = 0.95)
)
# Large-sample variances of Fleiss, Cohen & Everitt (1969), written out
# from the paper's formulas (not centred, unlike the Go code); vcd::Kappa
# gives the non-null ASE independently.
fce <- function(tab, W) {
  n <- sum(tab); p <- tab / n; pr <- rowSums(p); pc <- colSums(p)
  po <- sum(W * p); pe <- sum(W * outer(pr, pc))
  wi <- as.vector(W %*% pc)      # w-bar_i. = sum_j w_ij p_.j
  wj <- as.vector(t(W) %*% pr)   # w-bar_.j = sum_i w_ij p_i.
  A <- outer(wi, wj, "+")
  v <- (sum(p * (W * (1 - pe) - A * (1 - po))^2) - (po * pe - 2 * pe + po)^2) / (n * (1 - pe)^4)
  v0 <- (sum(outer(pr, pc) * (W - A)^2) - pe^2) / (n * (1 - pe)^2)
  list(kappa = (po - pe) / (1 - pe), var = v, var0 = v0)
}
kappa_fix <- lapply(kappa_sets, function(s) {
  K <- length(s$levels)
  lin <- 1 - abs(outer(1:K, 1:K, "-")) / (K - 1)
  quad <- 1 - (outer(1:K, 1:K, "-") / (K - 1))^2
  tab <- table(factor(s$a, levels = s$levels), factor(s$b, levels = s$levels))
  q <- suppressWarnings(suppressMessages(psych::cohen.kappa(cbind(s$a, s$b), levels = s$levels, alpha = 1 - s$conf)))
  l <- suppressWarnings(suppressMessages(psych::cohen.kappa(cbind(s$a, s$b), w = lin, levels = s$levels, alpha = 1 - s$conf)))
  vl <- vcd::Kappa(unclass(tab), weights = "Equal-Spacing")
  vq <- vcd::Kappa(unclass(tab), weights = "Fleiss-Cohen")
  z <- qnorm((1 + s$conf) / 2)
  est <- function(psych_value, psych_var, vcd_est, W) {
    f <- fce(tab, W)
    stopifnot(isTRUE(all.equal(unname(vcd_est[["value"]]), f$kappa, tolerance = 1e-12)),
              abs(vcd_est[["ASE"]] - sqrt(max(f$var, 0))) < 1e-7) # perfect_5: cancellation noise ~1e-8
    ase <- unname(vcd_est[["ASE"]])
    zs <- if (f$var0 > 0) f$kappa / sqrt(f$var0) else NA
    list(value = psych_value, psych_var = psych_var, fce_var = f$var, ase = ase,
         lower = f$kappa - z * ase, upper = f$kappa + z * ase, null_var = f$var0,
         z = zs, p = if (is.na(zs)) NA else 2 * pnorm(-abs(zs)))
  }
  list(name = s$name, conf = s$conf, a = arr(s$a), b = arr(s$b), levels = arr(s$levels),
       unweighted = est(q$kappa, q$var.kappa, vl$Unweighted, diag(K)),
       quadratic = est(q$weighted.kappa, q$var.weighted, vq$Weighted, quad),
       linear = est(l$weighted.kappa, l$var.weighted, vl$Weighted, lin))
})

# Profile indices by their textbook definitions (Cronbach & Gleser 1953; James et al. 1984).
profile_fix <- function(name, c, t, lo, hi) {
  k <- length(c); pv <- function(v) mean((v - mean(v))^2)
  s_c <- sqrt(pv(c)); s_t <- sqrt(pv(t))
  d2 <- sum((c - t)^2); elev <- k * (mean(c) - mean(t))^2; scat <- k * (s_c - s_t)^2
  A <- hi - lo + 1; su <- (A^2 - 1) / 12; sbar <- mean((c - t)^2 / 2)
  q <- sbar / su
  rwg <- if (q > 1) 0 else k * (1 - q) / (k * (1 - q) + q)
  rp <- if (k >= 3 && s_c > 0 && s_t > 0) cor(c, t) else NA
  list(name = name, c = arr(c), t = arr(t), scale_min = lo, scale_max = hi,
       mean_diff = mean(c) - mean(t), mean_abs_diff = mean(abs(c - t)), d2 = d2, d = sqrt(d2),
       elevation = elev, scatter = scat, shape = d2 - elev - scat, profile_r = rp, rwg_j = rwg)
}
pc <- likert(rnorm(12), 0.5); pt <- likert(rnorm(12), -0.2)
prof_fix <- list(
  profile_fix("synthetic_dyad", dyadC, dyadT, 1, 5),
  profile_fix("random_dyad", pc, pt, 1, 5),
  profile_fix("wide_disagreement_1to7", c(7, 6, 7, 1, 2, 7), c(1, 2, 1, 7, 6, 2), 1, 7)
)

# Krippendorff's alpha, coincidence matrix exactly as in Krippendorff (2011),
# "Computing Krippendorff's Alpha-Reliability" (units x coders, NA missing).
kripp <- function(x, metric) {
  vals <- sort(unique(x[!is.na(x)]))
  V <- length(vals)
  o <- matrix(0, V, V)
  for (u in seq_len(nrow(x))) {
    v <- x[u, !is.na(x[u, ])]
    m <- length(v)
    if (m < 2) next
    for (i in seq_len(m)) for (j in seq_len(m)) if (i != j) {
      a <- match(v[i], vals); b <- match(v[j], vals)
      o[a, b] <- o[a, b] + 1 / (m - 1)
    }
  }
  nc <- rowSums(o); n <- sum(nc)
  d2 <- switch(metric,
    nominal = 1 * outer(vals, vals, "!="),
    interval = outer(vals, vals, "-")^2,
    ratio = ifelse(outer(vals, vals, "+") == 0, 0, (outer(vals, vals, "-") / outer(vals, vals, "+"))^2),
    ordinal = {
      d <- matrix(0, V, V)
      for (c in 1:V) for (k in 1:V) {
        g <- min(c, k):max(c, k)
        d[c, k] <- (sum(nc[g]) - (nc[c] + nc[k]) / 2)^2
      }
      d
    })
  Do <- sum(o * d2) / n
  De <- sum(outer(nc, nc) * d2) / (n * (n - 1))
  list(metric = metric, alpha = 1 - Do / De, d_o = Do, d_e = De, n = n,
       units = sum(rowSums(!is.na(x)) >= 2))
}
kripp_case <- function(name, x) {
  list(name = name, x = mat(x),
       results = lapply(c("nominal", "ordinal", "interval", "ratio"), function(m) kripp(x, m)))
}
k2011 <- t(matrix(c(
  1, 2, 3, 3, 2, 1, 4, 1, 2, NA, NA, NA,
  1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NA, 3,
  NA, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NA,
  1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NA), nrow = 4, byrow = TRUE))
kwiki <- t(matrix(c(
  NA, NA, NA, NA, NA, 3, 4, 1, 2, 1, 1, 3, 3, NA, 3,
  1, NA, 2, 1, 3, 3, 4, 3, NA, NA, NA, NA, NA, NA, NA,
  NA, NA, 2, 1, 3, 4, 4, NA, 2, 1, 1, 3, 3, NA, 4), nrow = 3, byrow = TRUE))
klat <- rnorm(30)
klik <- sapply(1:3, function(j) likert(klat, 0.1, 0.8))
klik[sample(length(klik), 14)] <- NA
kcont <- sapply(1:4, function(j) round(exp(0.3 * klat + rnorm(30, 0, 0.2)) * 10, 2))
kcont[sample(length(kcont), 20)] <- NA
kripp_fix <- list(
  kripp_case("krippendorff_2011_12x4", k2011),
  kripp_case("wikipedia_15x3", kwiki),
  kripp_case("likert_30x3_missing", klik),
  kripp_case("positive_30x4_missing", kcont)
)

# Cluster-robust (CR1) mean: sandwich::vcovCL on lm(y ~ 1), checked against
# the sandwich formula written out in base R.
crm_fix <- function(name, g, y, conf) {
  fit <- lm(y ~ 1)
  V <- sandwich::vcovCL(fit, cluster = g, type = "HC1")
  G <- length(unique(g)); N <- length(y)
  e <- y - mean(y)
  v_base <- G / (G - 1) * sum(tapply(e, g, sum)^2) / N^2
  stopifnot(isTRUE(all.equal(V[1, 1], v_base, tolerance = 1e-12)))
  se <- sqrt(V[1, 1]); tq <- qt((1 + conf) / 2, G - 1)
  list(name = name, conf = conf, g = arr(g), y = arr(y), n = N, clusters = G,
       mean = unname(coef(fit)[1]), se = se, naive_se = sd(y) / sqrt(N), df = G - 1,
       lower = unname(coef(fit)[1]) - tq * se, upper = unname(coef(fit)[1]) + tq * se)
}
cg <- rep(1:9, c(1, 2, 2, 3, 4, 1, 5, 2, 3))
cu <- rnorm(9, 0, 0.4)
crm_sets <- list(
  crm_fix("dyad_diffs_23_in_9", cg, round(0.4 + cu[cg] + rnorm(length(cg), 0, 0.5), 3), 0.95),
  crm_fix("wai_diffs_16_in_6", rep(1:6, c(4, 3, 3, 2, 2, 2)),
          round(rnorm(16, 0.6, 0.5) * 12) / 12, 0.90),
  crm_fix("two_clusters", c(1, 1, 1, 2, 2), c(0.5, 1, 0, -0.25, 0.75), 0.95)
)
qx <- round(rnorm(11), 3)
quantile_fix <- list(x = arr(qx), p = arr(c(0, 0.025, 0.05, 0.5, 0.95, 0.975, 1)),
                     q = arr(quantile(qx, c(0, 0.025, 0.05, 0.5, 0.95, 0.975, 1), type = 7)))

# Cronbach's alpha with missing answers: psych::alpha's default use = "pairwise".
amiss <- function(x, share) { x[sample(length(x), round(share * length(x)))] <- NA; x }
lat60 <- rnorm(60)
wai60 <- amiss(sapply(1:10, function(j) likert(lat60, 0.2, 0.8)), 0.07)
lat25 <- rnorm(25)
wai25 <- amiss(sapply(1:6, function(j) likert(lat25, 0, 0.9)), 0.10)
wai25c <- wai25; wai25c[, 3] <- ifelse(is.na(wai25c[, 3]), NA, 5)   # a constant item
cont40 <- amiss(sapply(1:5, function(j) round(lat60[1:40] + rnorm(40, 0, 1.2), 2)), 0.05)
alpha_pw_fix <- lapply(list(
  list(name = "wai_60x10_7pct_missing", x = wai60),
  list(name = "wai_25x6_10pct_missing", x = wai25),
  list(name = "wai_25x6_const_item", x = wai25c),
  list(name = "continuous_40x5_5pct_missing", x = cont40)
), function(s) {
  stopifnot(all(rowSums(!is.na(s$x)) > 0))  # no empty rows: psych's Feldt n is nrow
  a <- suppressWarnings(suppressMessages(psych::alpha(as.data.frame(s$x), check.keys = FALSE, warnings = FALSE)))
  keep <- apply(s$x, 2, function(v) isTRUE(sd(v, na.rm = TRUE) > 0))
  pn <- crossprod(!is.na(s$x[, keep]))
  list(name = s$name, x = mat(s$x), n = nrow(s$x), k = a$nvar, min_pair_n = min(pn),
       dropped = arr(which(!keep) - 1),
       raw_alpha = a$total$raw_alpha, std_alpha = a$total$std.alpha,
       feldt_lower = unlist(a$feldt$lower.ci)[[1]], feldt_upper = unlist(a$feldt$upper.ci)[[1]],
       # The Feldt interval at another level: psych::alpha.ci, p.val = 1 - conf.
       feldt90 = with(psych::alpha.ci(a$total$raw_alpha, nrow(s$x), a$nvar, p.val = 0.10), list(lower = lower.ci, upper = upper.ci)))
})

# Slope with inference: summary(lm) and confint(lm) for the slope row.
slope_ci_fix <- function(name, x, y, conf) {
  fit <- lm(y ~ x); co <- summary(fit)$coefficients; ci <- confint(fit, level = conf)
  list(name = name, conf = conf, x = arr(x), y = arr(y), n = length(x), df = fit$df.residual,
       slope = co[2, 1], intercept = co[1, 1], se = co[2, 2], t = co[2, 3], p = co[2, 4],
       intercept_se = co[1, 2], lower = ci[2, 1], upper = ci[2, 2])
}
sess <- 1:8
slope_ci_sets <- list(
  slope_ci_fix("pefr", wright, mini, 0.95),
  slope_ci_fix("sessions_8_difference", sess, round(0.9 - 0.08 * sess + rnorm(8, 0, 0.15), 3), 0.95),
  slope_ci_fix("sessions_8_conf90", sess, round(4.1 + 0.05 * sess + rnorm(8, 0, 0.3), 3), 0.90),
  slope_ci_fix("n3", c(1, 2, 4), c(1, 0.5, 0), 0.95),
  slope_ci_fix("negative_10", neg_x, neg_y, 0.99)
)

# Proportions: prop.test without continuity correction is the Wilson interval.
wilson_fix <- lapply(list(c(0, 10, 0.95), c(10, 10, 0.95), c(3, 16, 0.95), c(7, 40, 0.90),
                          c(1, 1, 0.95), c(50, 200, 0.99), c(5, 16, 0.80)), function(s) {
  ci <- suppressWarnings(prop.test(s[1], s[2], conf.level = s[3], correct = FALSE))$conf.int
  list(x = s[1], n = s[2], conf = s[3], share = s[1] / s[2], lower = ci[1], upper = ci[2])
})
means16 <- c(wai_c[1:16], 1, 1)
share_below_fix <- list(values = arr(means16), cutoff = 4, conf = 0.95,
  x = sum(means16 < 4), n = length(means16),
  lower = suppressWarnings(prop.test(sum(means16 < 4), length(means16), correct = FALSE))$conf.int[1],
  upper = suppressWarnings(prop.test(sum(means16 < 4), length(means16), correct = FALSE))$conf.int[2],
  scale_min = 1, scale_max = 5, at_min = sum(means16 == 1), at_max = sum(means16 == 5),
  share_at_min = mean(means16 == 1), share_at_max = mean(means16 == 5))

out <- list(
  meta = list(r_version = R.version.string,
              psych = as.character(packageVersion("psych")),
              epiR = as.character(packageVersion("epiR")),
              vcd = as.character(packageVersion("vcd")),
              sandwich = as.character(packageVersion("sandwich")),
              seed = 20240601),
  icc = icc_fix, pairs = pair_fix, alpha = alpha_fix, kappa = kappa_fix, profile = prof_fix,
  krippendorff = kripp_fix, cluster_mean = crm_sets, quantile7 = quantile_fix,
  alpha_pairwise = alpha_pw_fix, slope_ci = slope_ci_sets, wilson = wilson_fix,
  share_below = share_below_fix)
writeLines(to_json(out), "fixtures.json")
cat("wrote fixtures.json\n")

# ---- fixtures_lme4.json: one-way random-intercept model ----
# lme4::lmer(y ~ 1 + (1 | g), REML = TRUE); ANOVA quantities and the F-based
# ICC interval are computed here in base R from their formulas.
suppressPackageStartupMessages(library(lme4))
set.seed(20240602)
ri_data <- function(sizes, sd_u, sd_e, mu = 4) {
  g <- rep(seq_along(sizes), sizes)
  u <- rnorm(length(sizes), 0, sd_u)
  list(g = g, y = round(mu + u[g] + rnorm(length(g), 0, sd_e), 4))
}
ri_fix <- function(name, d, conf = 0.95, exact = FALSE) {
  g <- d$g; y <- d$y
  fit <- suppressMessages(lmer(y ~ 1 + (1 | g), REML = TRUE))
  if (exact) {
    # Tight optimiser tolerances so the fixture is the REML optimum to ~1e-10.
    fit <- suppressMessages(lmer(y ~ 1 + (1 | g), REML = TRUE,
                control = lmerControl(optimizer = "nloptwrap",
                                      optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-16, xtol_rel = 0, ftol_rel = 0, maxeval = 1e5))))
  }
  vc <- as.data.frame(VarCorr(fit))
  s2u <- vc$vcov[vc$grp == "g"]; s2e <- vc$vcov[vc$grp == "Residual"]
  a <- anova(lm(y ~ factor(g)))
  msb <- a[1, "Mean Sq"]; msw <- a[2, "Mean Sq"]; df1 <- a[1, "Df"]; df2 <- a[2, "Df"]
  N <- length(y); nj <- as.vector(table(g)); J <- length(nj)
  m0 <- (N - sum(nj^2) / N) / (J - 1)
  F0 <- msb / msw; al <- 1 - conf
  FL <- F0 / qf(1 - al / 2, df1, df2); FU <- F0 / qf(al / 2, df1, df2)
  icc <- s2u / (s2u + s2e)
  list(name = name, conf = conf, exact_optimiser = exact, g = arr(g), y = arr(y),
       n = N, clusters = J, balanced = length(unique(nj)) == 1,
       sigma2_u = s2u, sigma2_e = s2e, mean = unname(fixef(fit)[1]),
       reml_criterion = unname(REMLcrit(fit)), singular = isSingular(fit), theta = unname(getME(fit, "theta")),
       icc = icc, msb = msb, msw = msw, f = F0, df1 = df1, df2 = df2, m0 = m0,
       lower = (FL - 1) / (FL + m0 - 1), upper = (FU - 1) / (FU + m0 - 1),
       design_effect = 1 + (N / J - 1) * icc, effective_n = N / (1 + (N / J - 1) * icc))
}
# A data set with no cluster effect whose REML estimate of sigma2_u is 0.
boundary_data <- function(sizes) {
  repeat {
    d <- ri_data(sizes, 0, 1)
    a <- anova(lm(d$y ~ factor(d$g)))
    if (a[1, "Mean Sq"] < 0.6 * a[2, "Mean Sq"]) return(d)
  }
}
unbal <- c(1, 2, 3, 3, 4, 5, 5, 6, 7, 8, 2, 9)
lme4_sets <- list(
  list("balanced_8x5", ri_data(rep(5, 8), 1, 1.5)),
  list("balanced_20x2", ri_data(rep(2, 20), 0.6, 0.5)),
  list("unbalanced_12_counsellors", ri_data(unbal, 0.5, 1)),
  list("unbalanced_high_icc", ri_data(c(2, 3, 4, 2, 6, 3), 3, 0.5)),
  list("wai_16_dyads_6_counsellors", {
    d <- ri_data(c(4, 3, 3, 2, 2, 2), 0.3, 0.45); d$y <- pmin(5, pmax(1, round(d$y * 12) / 12)); d }),
  list("boundary_unbalanced", boundary_data(unbal)),
  list("boundary_balanced_6x4", boundary_data(rep(4, 6)))
)
lme4_fix <- list()
for (s in lme4_sets) {
  lme4_fix[[length(lme4_fix) + 1]] <- ri_fix(s[[1]], s[[2]])
  lme4_fix[[length(lme4_fix) + 1]] <- ri_fix(paste0(s[[1]], "_exact"), s[[2]], exact = TRUE)
}
writeLines(to_json(list(
  meta = list(r_version = R.version.string, lme4 = as.character(packageVersion("lme4")),
              Matrix = as.character(packageVersion("Matrix")), seed = 20240602),
  random_intercept = lme4_fix)), "fixtures_lme4.json")
cat("wrote fixtures_lme4.json\n")

# ---- fixtures_mean.json: one-sample t intervals and type-7 quantiles ----
set.seed(20261129)
mean_sets <- list(
  list(name = "wai_means_6", x = round(rnorm(6, 4, 0.5) * 12) / 12, conf = 0.95),
  list(name = "differences_15", x = round(rnorm(15, 0.5, 0.6), 3), conf = 0.90),
  list(name = "pair", x = c(4.25, 3.5), conf = 0.95),
  list(name = "srs_sums_9", x = round(rnorm(9, 33, 4), 1), conf = 0.99)
)
mean_fix <- lapply(mean_sets, function(s) {
  tt <- t.test(s$x, conf.level = s$conf)
  p <- c(0, 0.25, 0.5, 0.75, 1)
  list(name = s$name, conf = s$conf, x = arr(s$x), n = length(s$x), mean = unname(tt$estimate),
       sd = sd(s$x), se = unname(tt$stderr), df = unname(tt$parameter),
       lower = tt$conf.int[1], upper = tt$conf.int[2],
       p = arr(p), q = arr(quantile(s$x, p, type = 7)))
})
writeLines(to_json(list(meta = list(r_version = R.version.string, seed = 20261129), mean_conf = mean_fix)),
           "fixtures_mean.json")
cat("wrote fixtures_mean.json\n")

# ---- ../../alliance/testdata/fixtures.json: the domain's figures on whole studies ----
# Two small studies whose item answers the Go tests submit through the
# service; every expected figure is computed here from the answers, with
# the R functions named in the API's r_equivalent fields (scores as the
# item mean of the answered items, keyed; WAI-SR has no reverse items).
set.seed(20261130)
subs <- list(goal = c(4, 6, 8, 11), task = c(1, 2, 10, 12), bond = c(3, 5, 7, 9))
scales_of <- function(m) {
  out <- list(total = rowMeans(m, na.rm = TRUE))
  for (s in names(subs)) out[[s]] <- rowMeans(m[, subs[[s]], drop = FALSE], na.rm = TRUE)
  out
}
wai_sizes <- c(6, 5, 4, 4, 3, 3, 1)            # complete dyads per counsellor
wai_g <- rep(seq_along(wai_sizes), wai_sizes)
wai_codes <- sprintf("K-%02d", seq_along(wai_sizes))
np <- length(wai_g)
k_eff <- rnorm(length(wai_sizes), 0, 0.3)
lat_d <- rnorm(np)
wai_item <- function(base, sd) pmin(5, pmax(1, round(base + rnorm(12, 0, sd))))
cl <- t(sapply(seq_len(np), function(i) wai_item(3.9 + 0.5 * lat_d[i] + k_eff[wai_g[i]], 0.6)))
co <- t(sapply(seq_len(np), function(i) wai_item(3.4 + 0.3 * lat_d[i] + k_eff[wai_g[i]] + rnorm(1, 0, 0.3), 0.6)))
extra_cl <- t(sapply(1:2, function(i) wai_item(3.8, 0.7)))  # client-only dyads
extra_g <- c(1, 3)
drop_one <- function(m, share) {                 # at most one missing answer per rating
  for (i in seq_len(nrow(m))) if (runif(1) < share) m[i, sample(ncol(m), 1)] <- NA
  m
}
cl <- drop_one(cl, 0.25); co <- drop_one(co, 0.25); extra_cl <- drop_one(extra_cl, 0.5)
cs <- scales_of(cl); ts <- scales_of(co)
conf <- 0.95

t_ci <- function(x, conf, lo, hi) {              # t.test interval, clipped to [lo, hi]
  n <- length(x)
  if (n < 3) return(list(n = n, mean = mean(x), lower = NA, upper = NA, clipped = FALSE))
  ci <- if (sd(x) > 0) t.test(x, conf.level = conf)$conf.int else c(mean(x), mean(x))
  list(n = n, mean = mean(x), sd = sd(x), raw_lower = ci[1], raw_upper = ci[2],
       lower = max(lo, ci[1]), upper = min(hi, ci[2]), clipped = ci[1] < lo || ci[2] > hi)
}
wilson <- function(x, n, conf) {
  ci <- suppressWarnings(prop.test(x, n, conf.level = conf, correct = FALSE))$conf.int
  list(x = x, n = n, share = x / n, lower = ci[1], upper = ci[2])
}
d_tot <- cs$total - ts$total
per_counsellor <- lapply(seq_along(wai_sizes), function(j) {
  i <- wai_g == j
  list(code = wai_codes[j], n = sum(i),
       client = t_ci(cs$total[i], conf, 1, 5), counsellor = t_ci(ts$total[i], conf, 1, 5),
       difference = t_ci(d_tot[i], conf, -4, 4),
       client_higher = wilson(sum(d_tot[i] > 0), sum(i), conf))
})
tt_d <- t.test(d_tot, conf.level = conf)
alpha_of <- function(m) {
  pw <- suppressWarnings(suppressMessages(psych::alpha(as.data.frame(m), check.keys = FALSE, warnings = FALSE)))
  cc <- m[complete.cases(m), ]
  lw <- suppressWarnings(suppressMessages(psych::alpha(as.data.frame(cc), check.keys = FALSE, warnings = FALSE)))
  list(pairwise = list(n = nrow(m), k = pw$nvar, raw_alpha = pw$total$raw_alpha, std_alpha = pw$total$std.alpha,
                       min_pair_n = min(crossprod(!is.na(m))),
                       feldt_lower = unlist(pw$feldt$lower.ci)[[1]], feldt_upper = unlist(pw$feldt$upper.ci)[[1]]),
       listwise = list(n = nrow(cc), k = lw$nvar, raw_alpha = lw$total$raw_alpha, std_alpha = lw$total$std.alpha,
                       feldt_lower = unlist(lw$feldt$lower.ci)[[1]], feldt_upper = unlist(lw$feldt$upper.ci)[[1]]))
}
all_cl <- rbind(cl, extra_cl)
kr_items <- lapply(1:12, function(i) {
  x <- cbind(c(cl[, i], extra_cl[, i]), c(co[, i], NA, NA))
  list(item = i, interval = kripp(x, "interval"), ordinal = kripp(x, "ordinal"))
})
ecs <- scales_of(extra_cl)
kr_scales <- lapply(names(cs), function(s) {
  x <- cbind(c(cs[[s]], ecs[[s]]), c(ts[[s]], NA, NA))
  list(scale = s, interval = kripp(x, "interval"), ordinal = kripp(x, "ordinal"))
})
K <- 5
lin <- 1 - abs(outer(1:K, 1:K, "-")) / (K - 1)
quad <- 1 - (outer(1:K, 1:K, "-") / (K - 1))^2
kappa_items <- lapply(1:12, function(i) {
  ok <- !is.na(cl[, i]) & !is.na(co[, i])
  tab <- table(factor(cl[ok, i], levels = 1:K), factor(co[ok, i], levels = 1:K))
  z <- qnorm((1 + conf) / 2)
  est <- function(W, vcd_est) {
    f <- fce(tab, W)
    stopifnot(abs(vcd_est[["ASE"]] - sqrt(f$var)) < 1e-9)
    zs <- f$kappa / sqrt(f$var0)
    list(value = f$kappa, variance = f$var, lower = f$kappa - z * sqrt(f$var), upper = f$kappa + z * sqrt(f$var),
         null_variance = f$var0, z = zs, p = 2 * pnorm(-abs(zs)))
  }
  vl <- vcd::Kappa(unclass(tab), weights = "Equal-Spacing")
  vq <- vcd::Kappa(unclass(tab), weights = "Fleiss-Cohen")
  list(item = i, n = sum(ok), unweighted = est(diag(K), vl$Unweighted),
       linear = est(lin, vl$Weighted), quadratic = est(quad, vq$Weighted))
})
cc_tot <- epiR::epi.ccc(ts$total, cs$total, ci = "z-transform", conf.level = conf)
wai_fix <- list(
  conf = conf, counsellor_codes = as.list(wai_codes),
  dyads = c(lapply(seq_len(np), function(i) list(counsellor = wai_g[i] - 1, client = arr(cl[i, ]), counsellor_items = arr(co[i, ]))),
            lapply(1:2, function(i) list(counsellor = extra_g[i] - 1, client = arr(extra_cl[i, ]), counsellor_items = NULL))),
  scales = lapply(names(cs), function(s) list(scale = s, client = arr(cs[[s]]), counsellor = arr(ts[[s]]))),
  counsellors = per_counsellor,
  variance = list(client = ri_fix("client", list(g = wai_g, y = cs$total), conf, exact = TRUE),
                  counsellor = ri_fix("counsellor", list(g = wai_g, y = ts$total), conf, exact = TRUE),
                  difference = ri_fix("difference", list(g = wai_g, y = d_tot), conf, exact = TRUE)),
  cluster_mean_difference = crm_fix("difference", wai_g, d_tot, conf),
  naive_mean_difference = list(mean = unname(tt_d$estimate), se = unname(tt_d$stderr),
                               lower = tt_d$conf.int[1], upper = tt_d$conf.int[2]),
  pearson = cor_fix(cs$total, ts$total, conf),
  ccc = list(est = cc_tot$rho.c$est, lower = cc_tot$rho.c$lower, upper = cc_tot$rho.c$upper),
  alpha = list(client = alpha_of(all_cl), counsellor = alpha_of(co)),
  krippendorff = list(items = kr_items, scales = kr_scales),
  kappa = kappa_items)

# SRS: client-only, 0-10 per item in 0.1 steps, sums 0-40, cut-off 36.
set.seed(20261201)
srs_sizes <- c(5, 4, 3, 2)
srs_g <- rep(seq_along(srs_sizes), srs_sizes)
srs_codes <- sprintf("S-%02d", seq_along(srs_sizes))
nsrs <- length(srs_g)
srs_base <- rnorm(nsrs, 8.4, 0.9)
srs_sessions <- lapply(seq_len(nsrs), function(i) {
  last <- sample(2:4, 1)
  s <- seq_len(last)
  if (i == 3) s <- setdiff(s, 2)               # one client skips session 2
  s
})
srs_item <- function(i, s) {
  if (i %in% c(1, 7) && s >= 2) return(rep(10, 4))   # two clients at the ceiling
  round(pmin(10, pmax(0, srs_base[i] + 0.3 * (s - 1) + rnorm(4, 0, 0.6))), 1)
}
srs_ratings <- list(); srs_sum <- list()
for (i in seq_len(nsrs)) for (s in srs_sessions[[i]]) {
  a <- srs_item(i, s)
  srs_ratings[[length(srs_ratings) + 1]] <- list(dyad = i - 1, session = s, answers = arr(a))
  srs_sum[[paste(i, s)]] <- Reduce(`+`, c(0, a))          # the Go order of additions
}
sum_at <- function(i, s) srs_sum[[paste(i, s)]]
srs_per_session <- lapply(1:4, function(s) {
  who <- which(vapply(srs_sessions, function(ss) s %in% ss, TRUE))
  x <- vapply(who, function(i) sum_at(i, s), 0)
  p <- c(0.25, 0.5, 0.75)
  list(session = s, n = length(x), mean = mean(x), sd = if (length(x) > 1) sd(x) else NA,
       min = min(x), q = arr(quantile(x, p, type = 7)), max = max(x),
       below = wilson(sum(x < 36), length(x), conf), at_max = sum(x == 40), at_min = sum(x == 0))
})
x1 <- vapply(seq_len(nsrs), function(i) sum_at(i, 1), 0)
rci_fix <- function(rel, source) {
  sdr <- sd(x1); sem <- sdr * sqrt(1 - rel); sdiff <- sqrt(2) * sem
  steps <- lapply(2:4, function(s) {
    who <- which(vapply(srs_sessions, function(ss) all(c(s - 1, s) %in% ss), TRUE))
    ch <- vapply(who, function(i) sum_at(i, s) - sum_at(i, s - 1), 0)
    rci <- ch / sdiff
    list(from = s - 1, to = s, n = length(ch), mean_change = if (length(ch)) mean(ch) else NA,
         improved = sum(rci > 1.96), deteriorated = sum(rci < -1.96), unchanged = sum(abs(rci) <= 1.96),
         lower = if (length(ch) >= 3) t.test(ch, conf.level = conf)$conf.int[1] else NA,
         upper = if (length(ch) >= 3) t.test(ch, conf.level = conf)$conf.int[2] else NA)
  })
  list(reliability = rel, source = source, sd = sdr, sem = sem, s_diff = sdiff, threshold = 1.96 * sdiff, steps = steps)
}
items1 <- do.call(rbind, lapply(srs_ratings, function(r) if (r$session == 1) as.numeric(unclass(r$answers)) else NULL))
srs_alpha1 <- suppressWarnings(suppressMessages(psych::alpha(as.data.frame(items1), check.keys = FALSE, warnings = FALSE)))$total$raw_alpha
srs_fix <- list(
  conf = conf, cutoff = 36, counsellor_codes = as.list(srs_codes), dyad_counsellor = arr(srs_g - 1),
  ratings = srs_ratings, sessions = srs_per_session,
  change_published = rci_fix(0.88, "published"),
  change_study = rci_fix(srs_alpha1, "study_alpha"),
  counsellors = lapply(seq_along(srs_sizes), function(j) {
    x <- x1[srs_g == j]
    c(list(code = srs_codes[j]), t_ci(x, conf, 0, 40))
  }))
dir.create("../../alliance/testdata", showWarnings = FALSE)
writeLines(to_json(list(meta = list(r_version = R.version.string, psych = as.character(packageVersion("psych")),
                                    epiR = as.character(packageVersion("epiR")), vcd = as.character(packageVersion("vcd")),
                                    lme4 = as.character(packageVersion("lme4")), sandwich = as.character(packageVersion("sandwich")),
                                    seeds = arr(c(20261130, 20261201))),
                        wai = wai_fix, srs = srs_fix)), "../../alliance/testdata/fixtures.json")
cat("wrote ../../alliance/testdata/fixtures.json\n")
