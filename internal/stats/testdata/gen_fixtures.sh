#!/bin/sh
# Regenerates the R fixtures (fixtures.json, fixtures_lme4.json, fixtures_mean.json
# and ../../alliance/testdata/fixtures.json) from R.
# Needs root/apt on Debian/Ubuntu when R or a package is missing.
set -eu
cd "$(dirname "$0")"
pkgs="psych epiR vcd lme4 sandwich"
if ! Rscript -e "quit(status = !all(sapply(strsplit('$pkgs', ' ')[[1]], requireNamespace, quietly = TRUE)))" >/dev/null 2>&1; then
	apt-get install -y --no-install-recommends r-base-core r-cran-psych r-cran-epir r-cran-vcd r-cran-lme4 r-cran-sandwich
fi
# TZ: R asks timedatectl for the zone when TZ is unset, which warns in containers.
TZ=UTC Rscript gen_fixtures.R
