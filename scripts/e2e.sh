#!/usr/bin/env bash
# End-to-end tests against a REAL n8n (2.41.1) process, headless Chromium and the HTTPS emulator.
#   npm run test:e2e                      # everything
#   npm run test:e2e -- test/e2e/load     # extra arguments go to jest (e.g. a path filter or -t "name")
# Prepares what it needs, each step idempotent and cached: Node 24, test certificates, n8n (first time ~5 min + ~2 min
# native build, then seconds), Debian Chromium, the package build. Env: E2E_KEEP=1 keeps .n8n-e2e/<instance>
# folders (logs, database) after the run; N8N_E2E_CACHE moves the n8n cache (default ~/.cache/n8n-defender-e2e);
# E2E_COMPAT_VERSIONS picks the extra n8n versions of compat.e2e.ts (default "1.123.81@22", empty: none);
# E2E_SOURCE_FROM_GIT_HEAD=1 tests the last commit's package sources instead of the work tree's (lib/checkout.ts).
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
# test/e2e/compat.e2e.ts runs a smoke set against more n8n versions: E2E_COMPAT_VERSIONS="<version>@<node major> …"
# (default the last 1.x line on Node 22; empty skips). Installed here, once (about 7 minutes the first time), unless
# the arguments select other test files only.
export E2E_COMPAT_VERSIONS="${E2E_COMPAT_VERSIONS-1.123.81@22}"
ONLY_OTHERS=0
for a in "$@"; do case "$a" in *compat*) ONLY_OTHERS=0; break ;; *e2e/*|*.e2e*) ONLY_OTHERS=1 ;; esac; done
if [ "$ONLY_OTHERS" = "0" ]; then
  for spec in $E2E_COMPAT_VERSIONS; do
    step "n8n for compat.e2e.ts: $(N8N_VERSION="${spec%@*}" N8N_NODE_MAJOR="${spec#*@}" bash scripts/n8n-install.sh) (Node ${spec#*@})"
  done
fi
bash scripts/chromium-install.sh
step "building the package"
npm run build --silent

# Trust the emulator's test CA in addition to this machine's extra CAs (the tests run `npm install` for the
# package's runtime dependencies). The n8n processes themselves get the test CA only (test/e2e/lib/n8n.ts).
source scripts/trust-env.sh
export E2E_SKIP_BUILD=1

step "preparation took $(( $(date +%s) - T0 )) s; running jest"
T1=$(date +%s)
rm -f artifacts/secret-scan.log
set +e
npx jest -c test/e2e/jest.e2e.config.js --runInBand "$@"
RC=$?
set -e
step "jest took $(( $(date +%s) - T1 )) s (exit $RC); total $(( $(date +%s) - T0 )) s"
# Issue 11: every n8n instance's database, logs and CLI output were searched for the sentinel secrets when it was
# disposed (test/e2e/lib/secretScan.ts); a hit already failed its test file. One line for the whole run:
if [ -f artifacts/secret-scan.log ]; then
  node -e 'const l=require("fs").readFileSync("artifacts/secret-scan.log","utf8").trim().split("\n").filter(Boolean).map(JSON.parse);const f=l.reduce((n,x)=>n+x.findings.length,0);console.error(`[e2e] secret scan: ${l.length} n8n instances, ${l.reduce((n,x)=>n+x.files,0)} files, ${(l.reduce((n,x)=>n+x.bytes,0)/1048576).toFixed(1)} MiB searched for ${Math.max(0,...l.map((x)=>x.sentinels))} sentinel values: ${f} found`);if(f)process.exitCode=1' || RC=1
fi
exit $RC
