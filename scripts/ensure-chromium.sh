#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser test when it is missing: a fresh machine (CI)
# has none, and playwright's own browser download cannot work here. Needs root (or sudo) and apt.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "== installing chromium for the dashboard test (apt-get)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
if [ ! -x "$CHROMIUM" ]; then
  echo "chromium was installed but $CHROMIUM is missing" >&2
  exit 1
fi
"$CHROMIUM" --version
