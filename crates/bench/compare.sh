#!/usr/bin/env bash
# Two builds of starlingd side by side: the same load generator measures
# build A, then B, then B, then A, ... (alternating which goes first, so a
# host whose speed drifts slows both alike) and prints, for every table row,
# each build's median over the runs and B's median relative to A's.
#
#   crates/bench/compare.sh OLD/starlingd NEW/starlingd RUNS [starling-bench options]
#   e.g. crates/bench/compare.sh /tmp/old/starlingd target/release/starlingd 6 \
#        --phases sets,lists,inventory --agent-cycles 10
#
# Each build runs with its own `system` and `starling-agent` (found beside
# its starlingd). Alertmanager is left out (--alertmanager /none). The
# load generator is STARLING_BENCH (default target/release/starling-bench);
# COMPARE_RAW=FILE keeps every run's rows (build, row, value).
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
a=$1 b=$2 runs=$3
shift 3
bench=${STARLING_BENCH:-target/release/starling-bench}
out=${COMPARE_RAW:-$(mktemp)}
[ -n "${COMPARE_RAW:-}" ] || trap 'rm -f "$out"' EXIT
: >"$out"

for i in $(seq "$runs"); do
  if (( i % 2 )); then order=(A B); else order=(B A); fi
  for tag in "${order[@]}"; do
    bin=$a
    [ "$tag" = B ] && bin=$b
    echo "run $i, build $tag" >&2
    "$bench" --starlingd "$bin" --alertmanager /none "$@" 2>/dev/null |
      grep '^| ' | grep -v '^| measurement' |
      awk -v tag="$tag" -v run="$i" -F'|' '{ gsub(/^ +| +$/, "", $2); gsub(/^ +| +$/, "", $3); print tag "\t" $2 "\t" $3 "\t" run }' >>"$out"
  done
done

# Median of each row's first number per build (a latency row's p50); B / A.
python3 - "$out" <<'EOF'
import re, statistics, sys
rows = {}
order = []
for line in open(sys.argv[1]):
    tag, what, value, run = line.rstrip("\n").split("\t")
    m = re.search(r"(?<![A-Za-z0-9.])[0-9]+(\.[0-9]+)?", value.replace(",", ""))
    if not m:
        continue
    if what not in rows:
        rows[what] = {"A": {}, "B": {}}
        order.append(what)
    rows[what][tag][run] = float(m.group())
print("| measurement | A (median) | B (median) | B / A, median of the runs' pairs | runs |")
print("|---|---|---|---|---|")
for what in order:
    a, b = rows[what]["A"], rows[what]["B"]
    pairs = [b[r] / a[r] for r in a if r in b and a[r]]
    if not pairs:
        continue
    ma, mb = statistics.median(a.values()), statistics.median(b.values())
    print(f"| {what} | {ma:,.1f} | {mb:,.1f} | {statistics.median(pairs):.3f} | {len(pairs)} |")
EOF
