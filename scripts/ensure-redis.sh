#!/usr/bin/env bash
# Makes sure the redis-server binary is available for the embedded Redis (npm start) and the test suite
# (npm test), and redis-sentinel for the failover test (test/integration/redis-failover.test.ts). Installs
# Debian's redis-server and redis-sentinel with apt when running as root on Debian/Ubuntu; otherwise stops
# with one message saying what to do. With REDIS_URL or REDIS_SENTINELS set, `npm start` needs neither.
set -euo pipefail

if [ "${npm_lifecycle_event:-}" = "prestart" ]; then
  if [ -n "${REDIS_URL:-}" ] || [ -n "${REDIS_SENTINELS:-}" ]; then exit 0; fi
  wanted=(redis-server)
else
  wanted=(redis-server redis-sentinel)
fi
missing=()
for binary in "${wanted[@]}"; do
  command -v "$binary" >/dev/null 2>&1 || missing+=("$binary")
done
if [ "${#missing[@]}" = "0" ]; then exit 0; fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "switchboard: ${missing[*]} missing; installing Debian's package(s) with apt-get..." >&2
  export DEBIAN_FRONTEND=noninteractive
  # RUNLEVEL=1 keeps the packages from starting a system-wide Redis (6379) or Sentinel (26379): we run our own.
  apt-get update -qq >&2
  RUNLEVEL=1 apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  still=()
  for binary in "${missing[@]}"; do
    command -v "$binary" >/dev/null 2>&1 || still+=("$binary")
  done
  if [ "${#still[@]}" = "0" ]; then exit 0; fi
  missing=("${still[@]}")
fi

cat >&2 <<MSG
switchboard: ${missing[*]} not installed.
  Install (Debian/Ubuntu: sudo apt-get install -y redis-server redis-sentinel; macOS: brew install redis),
  or set REDIS_URL=redis://host:6379 (or REDIS_SENTINELS) to use an existing Redis (maxmemory-policy noeviction).
MSG
exit 1
