#!/usr/bin/env bash
# Installs what the survey page's browser tests (api/surveypage_browser_test.go)
# need beyond Go: Debian's headless-capable Chromium and axe-core, the
# accessibility engine the tests inject into the page. Run as root (CI runs
# as root); safe to run again. Then run the tests with
# ALLIANCE_REQUIRE_BROWSER=1 so a missing browser fails instead of skipping.
#
# axe-core is installed from npm at an exact version into .cache/axe/ of
# the repository (ignored by git), not vendored: it is third-party code
# (MPL-2.0) that the binary never serves, so the repository need not carry
# or relicense it. The tests read .cache/axe/node_modules/axe-core/axe.min.js,
# or the file ALLIANCE_AXE_JS names.
set -euo pipefail
cd "$(dirname "$0")/.."

AXE_VERSION=4.10.3

if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium
fi
chromium --version

want=".cache/axe/node_modules/axe-core/axe.min.js"
have=$(node -p "require('./.cache/axe/node_modules/axe-core/package.json').version" 2>/dev/null || true)
if [ "$have" != "$AXE_VERSION" ]; then
  mkdir -p .cache/axe
  npm install --prefix .cache/axe --no-audit --no-fund --no-save --silent "axe-core@$AXE_VERSION"
fi
test -s "$want"
echo "axe-core $AXE_VERSION at $want"
