#!/usr/bin/env bash
# One-time setup on a fresh machine: Node 24, the project's npm packages, and the local test certificates.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node24-env.sh
echo "[setup] node $(node --version), npm $(npm --version)"
# --ignore-scripts: eslint-plugin-n8n-nodes-base has a preinstall that insists on pnpm. The only native module we
# need (isolated-vm, used by n8n-workflow's expression engine) ships a Node 24 prebuild; rebuild just that one.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
npm rebuild isolated-vm --loglevel=error
bash scripts/make-certs.sh
echo "[setup] done. Demo: npm run demo   Tests: npm test"
