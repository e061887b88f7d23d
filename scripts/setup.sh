#!/usr/bin/env bash
# Installs everything the local API needs on a fresh Debian machine with Node.js 20.19+ and npm,
# then builds the code, the docs site and the demo database. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Browser tests drive Debian's Chromium; test tools never download a browser of their own.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: /usr/bin/chromium is missing; run 'sudo apt-get install chromium' or run this script as root." >&2
    exit 1
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi

# Electron's binary is not needed for the headless host or the tests; its types are.
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
npm ci --no-audit --no-fund
npm ci --prefix docs-site --no-audit --no-fund

npm run build
npm run docs:build
npm run fixtures -- --out var/demo.sqlite
