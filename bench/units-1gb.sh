#!/usr/bin/env bash
# Work units at scale (issue 17, first "Done when"): one big JSON Lines file generated from the shared dataset samples,
# scored with W = 3 local ranks sharing it through --unit-size, and with W = 1. Checks
#   1. the W = 3 outputs are byte-identical to W = 1 (every unit's rows, rejects and stats; merge-stats' stats.json),
#   2. a SIGTERM mid-run loses at most one unit per rank (units committed before the stop are skipped by the rerun, and
#      each rank has at most one unit started and not committed), and the rerun completes identical outputs,
#   3. the ranks' input bytes (from the job record) are within 20 % of each other.
#
#   bench/units-1gb.sh [--size-mb 1024] [--unit-size 64MB] [--format jsonl|parquet] [--keep]
#
# With the demo models a 1 GB file takes 10–60 min on a 2-core machine; --size-mb sets a smaller file (the script prints
# the size it actually ran). Needs ./setup.sh (build + models/demo). Exits non-zero when a check fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size_mb=1024
unit_size=64MB
format=jsonl
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) size_mb="$2"; shift 2 ;;
    --unit-size) unit_size="$2"; shift 2 ;;
    --format) format="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "units-1gb.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
riverbed="${RIVERBED:-$root/riverbed}"  # RIVERBED=path runs another build (e.g. a copy while this tree rebuilds)
models="$root/models/demo"
datasets="$root/../shared/fixtures/datasets"
[ -d "$datasets" ] || datasets="$(cd "$root" && git rev-parse --show-toplevel)/../shared/fixtures/datasets"
[ -d "$models/mlm" ] || { echo "units-1gb.sh: $models is missing; run ./setup.sh" >&2; exit 1; }
[ -d "$datasets" ] || { echo "units-1gb.sh: $datasets is missing" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/riverbed-units.XXXXXX")"
if [ "$keep" = 0 ]; then trap 'rm -rf "$work"' EXIT; else echo "units-1gb.sh: working in $work" >&2; fi
fail() { echo "units-1gb.sh: FAILED: $*" >&2; [ "$keep" = 1 ] || echo "units-1gb.sh: rerun with --keep to look at $work" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# 1. The input: the JSON Lines samples (OIG jokes, OASST messages) cycled until the file reaches the size, ending at a
# line end. Records repeat (ids are {file}#{row}, so they stay distinct); the models see repeated text, which the request
# cache answers: that makes a big run on demo models tractable without changing any output.
mkdir -p "$work/in"
big="$work/in/big.jsonl"
start="$(now)"
python3 - "$big" "$((size_mb * 1024 * 1024))" "$datasets/oig/unified_joke_explanations.jsonl" "$datasets/oasst/en_100_message.jsonl" <<'EOF'
import sys
path, target, sources = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
lines = [line.rstrip(b"\n") + b"\n" for source in sources for line in open(source, "rb") if line.strip()]
written = 0
with open(path, "wb") as out:
    while written < target:
        for line in lines:
            if written >= target:
                break
            out.write(line)
            written += len(line)
EOF
bytes="$(stat -c %s "$big")"
lines="$(wc -l < "$big")"
echo "input: $big, $bytes bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB), $lines lines, made in $(elapsed "$start") s" >&2

score() { # output world rank [extra...]
  local out="$1" world="$2" rank="$3"; shift 3
  # exec: a rank started with `score … &` is then the riverbed process itself, so SIGTERM reaches it.
  exec "$riverbed" score "$work/in" --models "$models" --output "$out" --format "$format" --unit-size "$unit_size" \
    --threads 1 --rank "$rank" --world-size "$world" "$@"
}

# 2. W = 1.
start="$(now)"
( score "$work/w1" 1 0 ) > "$work/w1.log" 2>&1 || fail "W=1 run failed; see $work/w1.log"
wall1="$(elapsed "$start")"
units="$(ls "$work/w1" | grep -c -E "^big\.u[0-9]+-of-[0-9]+\.manifest\.json$" || true)"
echo "W=1: ${wall1} s, $units unit(s)" >&2

# 3. W = 3, stopped mid-run: each rank gets SIGTERM once it has committed its first unit (its next one is then in
# flight), with a short grace so that unit is abandoned; then the same three commands finish the job.
out3="$work/w3"
pids=()
for r in 0 1 2; do
  score "$out3" 3 "$r" --grace 0 > "$work/w3-stop-r$r.log" 2>&1 &
  pids+=($!)
done
start="$(now)"
stopped=(0 0 0)
while :; do
  alive=0
  for r in 0 1 2; do
    if kill -0 "${pids[$r]}" 2>/dev/null; then
      alive=1
      if [ "${stopped[$r]}" = 0 ] && grep -q "big.jsonl (unit .*: .* in, " "$work/w3-stop-r$r.log"; then
        kill -TERM "${pids[$r]}"; stopped[$r]=1
      fi
    fi
  done
  [ "$alive" = 1 ] || break
  sleep 0.2
done
for r in 0 1 2; do
  code=0; wait "${pids[$r]}" || code=$?
  [ "${stopped[$r]}" = 1 ] || [ "$code" = 0 ] || fail "rank $r exited $code before it was stopped; see $work/w3-stop-r$r.log"
done
stop_wall="$(elapsed "$start")"
[ -z "$(find "$out3" -name '*.tmp')" ] || fail "temporaries left after the stop"
committed_before=0
for r in 0 1 2; do
  mine="$(grep -c "big.jsonl (unit .*: .* in, " "$work/w3-stop-r$r.log" || true)"
  committed_before=$((committed_before + mine))
done
complete_before="$(ls "$out3" | grep -c -E "^big\.u[0-9]+-of-[0-9]+\.manifest\.json$" || true)"
[ "$complete_before" = "$committed_before" ] || fail "after the stop $complete_before unit(s) are complete but the ranks reported $committed_before committed"
echo "stop: after ${stop_wall} s, $committed_before unit(s) committed by the 3 ranks, no temporaries left" >&2

start="$(now)"
pids=()
for r in 0 1 2; do
  score "$out3" 3 "$r" > "$work/w3-rerun-r$r.log" 2>&1 &
  pids+=($!)
done
for r in 0 1 2; do wait "${pids[$r]}" || fail "rank $r of the rerun failed; see $work/w3-rerun-r$r.log"; done
rerun_wall="$(elapsed "$start")"
skipped="$(cat "$work"/w3-rerun-r*.log | grep -c "big.jsonl (unit .*: skipped, already complete" || true)"
[ "$skipped" = "$committed_before" ] || fail "the rerun skipped $skipped unit(s), but $committed_before were committed before the stop (work was lost)"
# At most one unit per rank lost: a rank commits its units one after another, so a stop can lose only the unit it had
# begun (the worker says so: "the shard in progress was abandoned"); everything it committed before was skipped above.
for r in 0 1 2; do
  before="$(grep -c "big.jsonl (unit .*: .* in, " "$work/w3-stop-r$r.log" || true)"
  lost="$(grep -c "the shard in progress was abandoned" "$work/w3-stop-r$r.log" || true)"
  redone="$(grep -c "big.jsonl (unit .*: .* in, " "$work/w3-rerun-r$r.log" || true)"
  [ "$lost" -le 1 ] || fail "rank $r lost $lost units in flight"
  echo "  rank $r: committed $before unit(s) before the stop, lost $lost in flight, redid $redone after it (the lost one and those it had not reached)" >&2
done
"$riverbed" merge-stats "$out3" > "$work/merge.log" 2>&1 || fail "merge-stats failed; see $work/merge.log"

# 4. Byte-identical to W = 1: every unit's data, rejects and stats file, and stats.json.
checked=0
for f in "$work/w1"/big.u*; do
  name="$(basename "$f")"
  case "$name" in *.manifest.json) continue ;; esac
  cmp -s "$f" "$out3/$name" || fail "$name differs between W=1 and W=3"
  checked=$((checked + 1))
done
python3 - "$work/w1/stats.json" "$out3/stats.json" <<'EOF' || fail "stats.json differs between W=1 and W=3 (beyond timing)"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
drop = lambda d: {k: v for k, v in d.items() if "second" not in k and "time" not in k}
sys.exit(0 if drop(a) == drop(b) else 1)
EOF
echo "identical: $checked file(s) of $units unit(s), and stats.json" >&2

# 5. Balance: input bytes per rank from the job record.
"$riverbed" status "$out3" --json > "$work/status.json" || fail "status does not report the job complete"
python3 - "$work/status.json" <<'EOF' || fail "ranks' input bytes are not within 20 % of each other"
import json, sys
status = json.load(open(sys.argv[1]))
per_rank = {}
for unit in status["shards"]:
    per_rank[unit["rank"]] = per_rank.get(unit["rank"], 0) + unit["bytes"]
values = [per_rank[r] for r in sorted(per_rank)]
spread = (max(values) - min(values)) / max(values)
print("input bytes per rank: " + ", ".join(f"rank {r}: {per_rank[r]:,}" for r in sorted(per_rank)) + f" (spread {spread:.1%} of the largest)", file=sys.stderr)
sys.exit(0 if len(values) == 3 and max(values) <= 1.2 * min(values) else 1)
EOF

echo
echo "| input | unit size | units | W=1 wall (s) | W=3 stopped after (s) | W=3 rerun (s) | committed before stop | skipped by rerun | identical |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---|"
echo "| $(awk -v b="$bytes" 'BEGIN { printf "%.1f MiB", b / 1048576 }') | $unit_size | $units | $wall1 | $stop_wall | $rerun_wall | $committed_before | $skipped | yes ($checked files) |"
