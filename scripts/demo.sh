#!/usr/bin/env bash
# README's demo command: set up .venv, then run the whole pipeline on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec .venv/bin/qrdistill demo "$@"
