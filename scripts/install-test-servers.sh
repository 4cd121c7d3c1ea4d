#!/usr/bin/env bash
# Install the real servers the integration tests run against (Debian/Ubuntu packages).
#
# Idempotent and fast: when everything is present it only checks and exits (no apt-get update).
# It installs packages only; it never starts a server (tests start throwaway instances themselves,
# see tests/servers/).
#
# As root it installs what is missing with apt-get. As another user it prints what to install and
# exits non-zero only when CI=true (locally the tests that need a missing server are skipped).
set -euo pipefail

# --------------------------------------------------------------------------------------------------
# What the tests need (servers, and the browser of the local-page tests with fonts for their screenshots).
# Each entry: "<debian package>|<shell test that succeeds when it is present>".
# Add more servers here (one line each) when an issue needs them.
# --------------------------------------------------------------------------------------------------
REQUIRED=(
  "postgresql|compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null"
  "prometheus-alertmanager|command -v prometheus-alertmanager || command -v alertmanager || test -x /usr/bin/prometheus-alertmanager || test -x /usr/bin/alertmanager"
  "prometheus|command -v prometheus && command -v promtool"
  "chromium|test -x /usr/bin/chromium && test -x /usr/lib/chromium/chromium"
  "fonts-dejavu-core|test -d /usr/share/fonts/truetype/dejavu"
  "fonts-noto-color-emoji|test -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
)

# The packages whose check fails, one per line.
absent() {
  local entry
  for entry in "${REQUIRED[@]}"; do
    if ! bash -c "${entry#*|}" >/dev/null 2>&1; then
      echo "${entry%%|*}"
    fi
  done
}

mapfile -t missing < <(absent)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "test servers: all present"
  exit 0
fi

echo "test servers: missing: ${missing[*]}"

if [ "$(id -u)" -ne 0 ]; then
  echo "not running as root, so not installing. Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  if [ "${CI:-}" = "true" ]; then
    exit 1
  fi
  echo "(tests that need them will be skipped)" >&2
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get not found: install these packages with your system's package manager: ${missing[*]}" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# Package scripts must not start the distribution's default services (e.g. the "main" PostgreSQL
# cluster on port 5432): tests start their own. Deny service starts while installing, unless the
# image already has a policy of its own.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"

# Verify.
mapfile -t still < <(absent)
if [ "${#still[@]}" -ne 0 ]; then
  echo "installed, but still not found: ${still[*]}" >&2
  exit 1
fi
echo "test servers: installed ${missing[*]}"
