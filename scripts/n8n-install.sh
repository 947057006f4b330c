#!/usr/bin/env bash
# Installs a real n8n (default 2.41.1) on Node 24 into a cache folder, once, for the end-to-end tests and the demo.
#   ${N8N_E2E_CACHE:-$HOME/.cache/n8n-defender-e2e}/n8n-<version>/node_modules/.bin/n8n
# Idempotent: a marker file records the n8n version and the Node ABI the native modules were built for, so later runs
# take seconds. Prints the n8n binary path as its last line of stdout (everything else goes to stderr).
#
# Why not a plain `npm install n8n`: @confluentinc/kafka-javascript's install script downloads zlib and fails on a
# closed network, so everything is installed with --ignore-scripts and only the two native modules n8n needs on this
# path are built: sqlite3 (the database; compiled from source, no prebuilt download attempted) and isolated-vm
# (the expression engine; ships a Node 24 prebuild). n8n@2.41.3 is not installable (@n8n/agents@0.26.2 is missing).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=node24-env.sh
source "$ROOT/scripts/node24-env.sh"

N8N_VERSION="${N8N_VERSION:-2.41.1}"
CACHE="${N8N_E2E_CACHE:-$HOME/.cache/n8n-defender-e2e}"
DIR="$CACHE/n8n-$N8N_VERSION"
BIN="$DIR/node_modules/.bin/n8n"
MARKER="$DIR/.n8n-e2e-installed"
ABI="$(node -p process.versions.modules)"
WANT="n8n@$N8N_VERSION node-abi=$ABI platform=$(node -p 'process.platform+"-"+process.arch')"
log() { echo "[n8n-install] $*" >&2; }

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$WANT" ] && [ -x "$BIN" ]; then
  log "cached: $WANT in $DIR"
  echo "$BIN"
  exit 0
fi

mkdir -p "$DIR"
installed_version() { node -p "require('$DIR/node_modules/n8n/package.json').version" 2>/dev/null || echo none; }
T0=$(date +%s)
if [ "$(installed_version)" != "$N8N_VERSION" ]; then
  log "installing n8n@$N8N_VERSION from the npm registry into $DIR"
  log "the first install downloads ~2,400 packages (about 2.9 GB on disk) and takes about 5 minutes; later runs take seconds"
  printf '{"name":"n8n-e2e-runtime","private":true,"dependencies":{"n8n":"%s"}}\n' "$N8N_VERSION" > "$DIR/package.json"
  (cd "$DIR" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  log "npm install took $(( $(date +%s) - T0 )) s"
else
  log "n8n@$N8N_VERSION already present in $DIR; (re)building native modules for Node ABI $ABI"
fi

T1=$(date +%s)
log "building native modules sqlite3 (from source, ~1-2 min on 2 cores) and isolated-vm (prebuild) against $(node --version) headers"
rm -rf "$DIR/node_modules/sqlite3/build" "$DIR/node_modules/isolated-vm/build"
# npm_config_build_from_source=sqlite3: prebuild-install skips its GitHub download for sqlite3 only (the network is
# closed); node-gyp-build (isolated-vm) only builds from source when this is exactly "true", so it takes the prebuild.
(cd "$DIR" && npm_config_build_from_source=sqlite3 npm rebuild sqlite3 isolated-vm --no-audit --no-fund --loglevel=error >&2)
log "native rebuild took $(( $(date +%s) - T1 )) s"

(cd "$DIR" && node -e 'require("sqlite3"); require("isolated-vm"); console.error("[n8n-install] sqlite3 and isolated-vm load on Node " + process.version)')
VERSION_OUT="$(N8N_USER_FOLDER="$(mktemp -d)" N8N_DIAGNOSTICS_ENABLED=false "$BIN" --version 2>/dev/null | tail -1)"
if [ "$VERSION_OUT" != "$N8N_VERSION" ]; then
  log "ERROR: '$BIN --version' printed '$VERSION_OUT', expected $N8N_VERSION"
  exit 1
fi
echo "$WANT" > "$MARKER"
log "ready: n8n $VERSION_OUT on $(node --version) in $(( $(date +%s) - T0 )) s"
echo "$BIN"
