#!/usr/bin/env bash
# Makes sure a redis-server binary is available for the embedded Redis (npm start) and the test suite
# (npm test). Installs Debian's redis-server with apt when running as root on Debian/Ubuntu; otherwise
# stops with one message saying what to do. With REDIS_URL set, `npm start` needs no local binary.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then exit 0; fi
if [ -n "${REDIS_URL:-}" ] && [ "${npm_lifecycle_event:-}" = "prestart" ]; then exit 0; fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "switchboard: redis-server is missing; installing Debian's redis-server with apt-get..." >&2
  export DEBIAN_FRONTEND=noninteractive
  # RUNLEVEL=1 keeps the package from starting a system-wide Redis on port 6379: we run our own.
  apt-get update -qq >&2
  RUNLEVEL=1 apt-get install -y -qq --no-install-recommends redis-server >&2
  command -v redis-server >/dev/null 2>&1 && exit 0
fi

cat >&2 <<'MSG'
switchboard: redis-server is not installed.
  Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis),
  or set REDIS_URL=redis://host:6379 to use an existing Redis (maxmemory-policy noeviction).
MSG
exit 1
