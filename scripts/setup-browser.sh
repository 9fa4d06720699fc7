#!/usr/bin/env bash
# Installs what the collector's browser test (langsmith-collector/tests/
# viewer_browser.rs) needs: Debian's chromium at /usr/bin/chromium and the
# pinned playwright-core in langsmith-collector/tests/browser/node_modules.
# Idempotent: does nothing when both are there. Needs root for apt-get.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/langsmith-collector/tests/browser"
if [ ! -x /usr/bin/chromium ]; then
  echo "setup-browser: installing chromium (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends chromium fonts-dejavu-core >&2
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup-browser: installing nodejs and npm (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends nodejs npm >&2
fi
if [ ! -f "$dir/node_modules/playwright-core/package.json" ]; then
  echo "setup-browser: installing playwright-core (npm)" >&2
  cd "$dir"
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund >&2
  else
    npm install --no-audit --no-fund >&2
  fi
fi
