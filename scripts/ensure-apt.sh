#!/usr/bin/env bash
# Install the Debian packages named as arguments, skipping those already installed.
# Idempotent: a second run with everything present does nothing and touches no network.
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "camgrid: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
fi
echo "camgrid: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
