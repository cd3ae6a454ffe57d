#!/usr/bin/env bash
# Run every benchmark one after the other (never two at once on this 2-core machine) and write
# BENCHMARKS.md from their output.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
PY=.venv/bin/python
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1
out=BENCHMARKS.md
{
  echo "# Benchmarks"
  echo
  echo "Written by \`scripts/benchmarks.sh\` on $(date -u +%Y-%m-%d): $(nproc --all) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs),"
  echo "$(free -g | awk '/Mem/ {print $2}') GB. Each section gives the command that produced it; rerun it to check."
  for run in "retrieval" "retrieval --qa bench/qa_heldout.jsonl" "retrieval --qa bench/qa_blind.jsonl" \
             "retrieval --qa bench/qa_final.jsonl" timing embed ocr load faults alqac "decision --alqac" \
             "scale --sizes 10000,100000"; do
    echo
    echo "## python -m bench $run"
    echo
    case $run in retrieval*|timing|faults|alqac|decision*) fence="" ;; *) fence='```' ;; esac   # those print Markdown
    [ -z "$fence" ] || echo "$fence"
    # shellcheck disable=SC2086  # $run holds a benchmark name and its arguments
    $PY -m bench $run 2> >(grep -v -e '^embedding' -e '%|' >&2) | sed -e 's/\r//g'
    [ -z "$fence" ] || echo "$fence"
  done
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
