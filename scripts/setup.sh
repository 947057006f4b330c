#!/usr/bin/env bash
# One-time setup on a fresh machine: Node 24, the project's npm packages, the local test certificates, a cached
# n8n 2.41.1 and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node24-env.sh
echo "[setup] node $(node --version), npm $(npm --version)"
# --ignore-scripts (also set in .npmrc, so a plain `npm ci` works the same): eslint-plugin-n8n-nodes-base has a
# preinstall that insists on pnpm. The only native module we need (isolated-vm, n8n-workflow's expression engine)
# ships prebuilds it loads at run time; the rebuild below only matters on a platform without one.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
npm rebuild isolated-vm --ignore-scripts=false --loglevel=error
bash scripts/make-certs.sh
# The demo and the end-to-end tests run a real n8n 2.41.1 (cached in ~/.cache/n8n-defender-e2e; the first time
# about 5 minutes) and the editor test a headless Chromium (Debian package).
bash scripts/n8n-install.sh >/dev/null
bash scripts/chromium-install.sh
echo "[setup] done. Demo: npm run demo   Tests: npm test"
