#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the dashboard's browser test
# (test/integration/dashboard-browser.test.ts drives it with playwright-core, which downloads no browser).
# Installs it with apt when running as root on Debian/Ubuntu; otherwise stops with one message saying what
# to do. Set CHROMIUM_PATH to use another Chromium or Chrome binary instead.
set -euo pipefail

if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "${CHROMIUM_PATH}" ]; then exit 0; fi
if command -v chromium >/dev/null 2>&1; then exit 0; fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "switchboard: chromium missing; installing Debian's package with apt-get..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium >&2
  if command -v chromium >/dev/null 2>&1; then exit 0; fi
fi

cat >&2 <<MSG
switchboard: chromium is not installed (the dashboard's browser test needs it).
  Install it (Debian/Ubuntu: sudo apt-get install -y chromium), or set CHROMIUM_PATH to a Chromium or Chrome binary.
MSG
exit 1
