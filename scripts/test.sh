#!/usr/bin/env bash
# The README's test command (`npm test`): lint, type-check, the unit + engine suites (n8n-core's real engine
# against the HTTPS emulator) and the end-to-end suite against a real n8n 2.41.1. SKIP_E2E=1 skips the last.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/node24-env.sh
bash scripts/make-certs.sh
mkdir -p artifacts
rm -f artifacts/jest-*.json
status=0

echo "== lint"; npx eslint . || status=1
echo "== type-check"; npx tsc -p tsconfig.json --noEmit || status=1
echo "== unit + engine tests"
bash scripts/jest.sh --json --outputFile="$PWD/artifacts/jest-unit.json" || status=1
if [ "${SKIP_E2E:-0}" != "1" ]; then
  echo "== end-to-end tests (real n8n)"
  bash scripts/e2e.sh --json --outputFile="$PWD/artifacts/jest-e2e.json" || status=1
fi
node scripts/summarize-tests.js artifacts/jest-*.json || status=1
exit $status
