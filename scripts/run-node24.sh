#!/usr/bin/env bash
# Run a command with Node >= 24 on PATH.
set -euo pipefail
source "$(dirname "$0")/node24-env.sh"
exec "$@"
