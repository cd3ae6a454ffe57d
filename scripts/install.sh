#!/usr/bin/env bash
# Install what the project needs into .venv (and Debian packages listed in .ci/apt-packages.txt
# when running as root). Idempotent: does nothing when requirements did not change.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
if [ -f .ci/apt-packages.txt ]; then
  while read -r pkg; do
    [ -z "$pkg" ] || [ "${pkg:0:1}" = "#" ] && continue
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done < .ci/apt-packages.txt
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: missing Debian packages (install as root): ${missing[*]}" >&2
  fi
fi

stamp=.venv/.installed-$(cat requirements.txt | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  # torch first, pinned: this exact version is a local CPU wheel; any other spec pulls CUDA packages.
  .venv/bin/pip install -q torch==2.13.0
  .venv/bin/pip install -q -r requirements.txt
  rm -f .venv/.installed-* && touch "$stamp"
fi
