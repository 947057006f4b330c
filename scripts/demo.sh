#!/usr/bin/env bash
# The README's demo command (`npm run demo`): a real n8n 2.41.1 runs the MSSP example workflow against the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node24-env.sh
source scripts/trust-env.sh
bash scripts/n8n-install.sh >/dev/null
export TS_NODE_PREFER_TS_EXTS=true
exec node --require ts-node/register/transpile-only demo/run.ts
