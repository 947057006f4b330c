#!/usr/bin/env bash
# End-to-end tests against a REAL n8n (2.41.1) process, headless Chromium and the HTTPS emulator.
#   npm run test:e2e                      # everything
#   npm run test:e2e -- test/e2e/load     # extra arguments go to jest (e.g. a path filter or -t "name")
# Prepares what it needs, each step idempotent and cached: Node 24, test certificates, n8n (first time ~5 min + ~2 min
# native build, then seconds), Debian Chromium, the package build. Env: E2E_KEEP=1 keeps .n8n-e2e/<instance>
# folders (logs, database) after the run; N8N_E2E_CACHE moves the n8n cache (default ~/.cache/n8n-defender-e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
source scripts/node24-env.sh
T0=$(date +%s)
step() { echo "[e2e] $*" >&2; }

if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/jest ]; then
  step "project dependencies missing: running scripts/setup.sh"
  bash scripts/setup.sh
fi
bash scripts/make-certs.sh
N8N_BIN="$(bash scripts/n8n-install.sh)"
step "n8n: $N8N_BIN"
bash scripts/chromium-install.sh
step "building the package"
npm run build --silent

# Trust the emulator's test CA in addition to this machine's extra CAs (the tests run `npm install` for the
# package's runtime dependencies). The n8n processes themselves get the test CA only (test/e2e/lib/n8n.ts).
source scripts/trust-env.sh
export E2E_SKIP_BUILD=1

step "preparation took $(( $(date +%s) - T0 )) s; running jest"
T1=$(date +%s)
set +e
npx jest -c test/e2e/jest.e2e.config.js --runInBand "$@"
RC=$?
set -e
step "jest took $(( $(date +%s) - T1 )) s (exit $RC); total $(( $(date +%s) - T0 )) s"
exit $RC
