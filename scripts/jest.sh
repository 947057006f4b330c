#!/usr/bin/env bash
# Jest with Node 24 and the emulator's local CA trusted (TLS verification stays on).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node24-env.sh
source scripts/trust-env.sh
exec npx jest "$@"
