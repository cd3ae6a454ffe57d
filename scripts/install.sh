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

# EmbeddingGemma-300M, the default model (Gemma Terms of Use, https://ai.google.dev/gemma/terms): fetched
# once into the model cache outside the checkout (~/.cache/tra-cuu/models, $TRA_CUU_MODEL_CACHE) and
# verified file by file, then exported once to ONNX Runtime int8 beside it (the engine's fast path, ~1-2 min,
# needs torch once); later runs find both there and do nothing. Never fails the install: offline or on any
# refusal it prints one line and the bundled multilingual-e5-small is used instead. SKIP_MODEL_FETCH=1 skips this step.
if [ "${SKIP_MODEL_FETCH:-0}" != "1" ]; then
  timeout 1800 .venv/bin/python -m index.embed.models fetch || true
fi
