#!/bin/sh
# Regenerates fixtures.json from R (psych, epiR). Needs root/apt on Debian/Ubuntu when R is missing.
set -eu
cd "$(dirname "$0")"
if ! Rscript -e 'quit(status = !(requireNamespace("psych", quietly = TRUE) && requireNamespace("epiR", quietly = TRUE)))' >/dev/null 2>&1; then
	apt-get install -y --no-install-recommends r-base-core r-cran-psych r-cran-epir
fi
Rscript gen_fixtures.R
