#!/usr/bin/env bash
# Install what is missing, then start the app on the bundled corpus (builds the index on first start).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export HF_HUB_OFFLINE=1
exec .venv/bin/python app.py "$@"
