#!/usr/bin/env bash
# Scale-out benchmark: the same job run as W = 1, 2 and 4 local `riverbed score` processes (ranks of one job, demo
# models, CPU), threads divided fairly (each rank gets max(1, cores / W) intra-op threads per session). Measures the
# wall time from launching the ranks to the last one's exit, and the throughput; checks that the union of the ranks'
# outputs is byte-identical to the W = 1 run and that merge-stats gives the same stats.json.
#
#   bench/scale-out.sh [--shards N] [--rows-per-shard N] [--repeat N] [--worlds "1 2 4"] [--cores N]
#
# Prints a Markdown table (ratios against W = 1 measured in the same run). Needs ./setup.sh (build + models/demo).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shards=8
rows=40
repeat=2
worlds="1 2 4"
cores="$(nproc)"
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards="$2"; shift 2 ;;
    --rows-per-shard) rows="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --worlds) worlds="$2"; shift 2 ;;
    --cores) cores="$2"; shift 2 ;;
    *) echo "scale-out.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
riverbed="$root/riverbed"
models="$root/models/demo"
fixture="$root/../shared/fixtures/datasets/oig/unified_joke_explanations.jsonl"
[ -f "$fixture" ] || fixture="$(cd "$root" && git rev-parse --show-toplevel)/../shared/fixtures/datasets/oig/unified_joke_explanations.jsonl"
[ -d "$models/mlm" ] || { echo "scale-out.sh: $models is missing; run ./setup.sh" >&2; exit 1; }
[ -f "$fixture" ] || { echo "scale-out.sh: fixture $fixture is missing" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/riverbed-scale-out.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in"
# Shards cycle through the fixture's records, so any size can be asked for.
total_lines="$(wc -l < "$fixture")"
for ((s = 0; s < shards; s++)); do
  : > "$work/in/part-$(printf %02d "$s").jsonl"
  for ((r = 0; r < rows; r++)); do
    line=$(( (s * rows + r) % total_lines + 1 ))
    sed -n "${line}p" "$fixture" >> "$work/in/part-$(printf %02d "$s").jsonl"
  done
done
examples=$((shards * rows))

now() { date +%s.%N; }
declare -A best
for ((pass = 0; pass < repeat; pass++)); do
  for w in $worlds; do
    threads=$(( cores / w )); [ "$threads" -ge 1 ] || threads=1
    out="$work/out-w$w-p$pass"
    start="$(now)"
    pids=()
    for ((r = 0; r < w; r++)); do
      "$riverbed" score "$work/in" --models "$models" --output "$out" --format jsonl --threads "$threads" \
        --rank "$r" --world-size "$w" > "$work/log-w$w-p$pass-r$r.txt" 2>&1 &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do
      wait "$pid" || { echo "scale-out.sh: a rank of W=$w failed; see $work/log-w$w-p$pass-*.txt" >&2; trap - EXIT; exit 1; }
    done
    wall="$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')"
    if [ "$w" != 1 ]; then "$riverbed" merge-stats "$out" > /dev/null; fi
    # The union of the ranks' outputs must be the single-process run, byte for byte.
    reference="$work/out-w1-p0"
    for f in "$reference"/part-*.jsonl "$reference"/part-*.stats.json "$reference/stats.json"; do
      cmp -s "$f" "$out/$(basename "$f")" || { echo "scale-out.sh: W=$w: $(basename "$f") differs from W=1" >&2; trap - EXIT; exit 1; }
    done
    echo "pass $pass: W=$w threads/rank=$threads wall ${wall}s (outputs identical to W=1)" >&2
    if [ -z "${best[$w]:-}" ] || awk -v a="$wall" -v b="${best[$w]}" 'BEGIN { exit !(a < b) }'; then best[$w]="$wall"; fi
  done
done

echo
echo "$examples examples ($shards shards × $rows rows), $cores cores, best of $repeat pass(es); every W's union identical to W = 1"
echo
echo "| W | threads/rank | wall (s) | examples/s | vs W=1 |"
echo "|---:|---:|---:|---:|---:|"
for w in $worlds; do
  threads=$(( cores / w )); [ "$threads" -ge 1 ] || threads=1
  awk -v w="$w" -v t="$threads" -v s="${best[$w]}" -v n="$examples" -v base="${best[1]}" \
    'BEGIN { printf "| %d | %d | %.1f | %.1f | %.2fx |\n", w, t, s, n / s, base / s }'
done
