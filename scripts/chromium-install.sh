#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium) for the headless editor tests when it is missing.
# playwright-core drives it with executablePath /usr/bin/chromium; `npx playwright install` cannot download a
# browser on this network, so the distribution package is the only source.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  echo "[chromium-install] present: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "[chromium-install] $CHROMIUM missing: installing Debian package 'chromium' with apt-get (about 1-2 min)" >&2
export DEBIAN_FRONTEND=noninteractive
APT_LOG="$(mktemp)"
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation; } >"$APT_LOG" 2>&1; then
  tail -40 "$APT_LOG" >&2
  echo "[chromium-install] apt-get failed (log: $APT_LOG)" >&2
  exit 1
fi
rm -f "$APT_LOG"
echo "[chromium-install] installed: $("$CHROMIUM" --version)" >&2
