#!/usr/bin/env bash
# Runs Bala's end-to-end browser tests (headless Debian Chromium through
# playwright-core). Works from any directory:
#
#   e2e/run.sh                      # all tests
#   e2e/run.sh tests/foundation.test.mjs
#   BALA_BIN=/path/to/bala e2e/run.sh
#
# Needs: node >= 20 with npm, /usr/bin/chromium (apt-get install -y chromium),
# and the bala binary (built here with 'cargo build -p bala-cli' when missing).
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$E2E_DIR/.." && pwd)"
CHROMIUM="${CHROMIUM_BIN:-/usr/bin/chromium}"

die() {
  echo "e2e: $*" >&2
  exit 1
}

command -v node >/dev/null || die "node is not installed (Node.js 20 or newer is needed)"
command -v npm >/dev/null || die "npm is not installed"

# Never let a package download a browser: Chromium comes from Debian.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

if [ ! -d "$E2E_DIR/node_modules/playwright-core" ]; then
  echo "e2e: installing node packages (npm ci)"
  (cd "$E2E_DIR" && npm ci --no-audit --no-fund) || die "npm ci failed"
fi

if [ ! -x "$CHROMIUM" ]; then
  die "Chromium not found at $CHROMIUM.
The browser tests drive Debian's Chromium (playwright-core never downloads a browser).
Install it with:  apt-get update && apt-get install -y chromium
(or point CHROMIUM_BIN at another Chromium). The tests are not skipped without it."
fi

# BALA_BIN is relative to e2e/ when not absolute (the helper resolves it the same way).
BALA_BIN="${BALA_BIN:-../target/debug/bala}"
case "$BALA_BIN" in
  /*) BIN_PATH="$BALA_BIN" ;;
  *) BIN_PATH="$E2E_DIR/$BALA_BIN" ;;
esac
if [ ! -x "$BIN_PATH" ]; then
  echo "e2e: $BIN_PATH not found; building it with 'cargo build -p bala-cli'"
  (cd "$REPO_DIR" && cargo build -p bala-cli) || die "cargo build -p bala-cli failed"
  [ -x "$BIN_PATH" ] || die "$BIN_PATH still missing after the build (is BALA_BIN right?)"
fi
export BALA_BIN="$BIN_PATH"

cd "$E2E_DIR"
if [ "$#" -gt 0 ]; then
  exec node --test "$@"
fi
exec node --test tests/
