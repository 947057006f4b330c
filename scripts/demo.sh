#!/usr/bin/env bash
# The README's demo command (`npm run demo`): a real n8n 2.41.1 runs the MSSP example workflow against the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/ts-node ] || [ ! -d node_modules/n8n-workflow ]; then
  echo "demo: the project is not set up yet; run \`npm run setup\` first (once, about 5 minutes), then \`npm run demo\`." >&2
  exit 1
fi
source scripts/node24-env.sh
source scripts/trust-env.sh
bash scripts/n8n-install.sh >/dev/null
export TS_NODE_PREFER_TS_EXTS=true
exec node --require ts-node/register/transpile-only demo/run.ts
