#!/usr/bin/env bash
# One command per real benchmark: import the real teacher outputs into runs/real/<name>, measure
# the filter funnel on them, then run the pipeline (filter -> train methods x seeds -> eval -> report).
#
#   bench/real/run.sh svamp|date_understanding|strategy_qa [DATA_ROOT]
#   SUBSET=cpu bench/real/run.sh svamp     # the documented CPU subset: configs/real/<name>-cpu.yaml
#
# DATA_ROOT is the folder SOURCES.md describes (default: ../shared/data next to the checkout).
# Set IMPORT_ONLY=1 to stop after the import and the funnel (seconds to two minutes on CPU).
set -euo pipefail
dataset="${1:?usage: bench/real/run.sh svamp|date_understanding|strategy_qa [DATA_ROOT]}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="${2:-$root/../shared/data}"
name="$dataset${SUBSET:+-$SUBSET}"
run="$root/runs/real/$name"
cd "$root"
qrdistill import --config "configs/real/$dataset.import.yaml" --data-root "$data" --run "$run"
python bench/real/funnel.py "$run" --out "$run/funnel.md"
if [[ "${IMPORT_ONLY:-0}" == "1" ]]; then exit 0; fi
qrdistill run --config "configs/real/$name.yaml" --run "$run"
