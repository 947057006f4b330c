#!/usr/bin/env bash
# Jest with Node 24 and the emulator's local CA trusted (TLS verification stays on).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node24-env.sh
bash scripts/make-certs.sh
export NODE_EXTRA_CA_CERTS="$PWD/test/.certs/ca.pem"
exec npx jest "$@"
