#!/bin/bash
# Instructions per single-alarm set, counted by callgrind: repeatable on a host
# whose speed drifts from one minute to the next (wall-clock rates there move
# by ±30%, instruction counts by well under 1%).
#
#   crates/bench/callgrind-sets.sh STARLINGD [SETS] [BENCH]
#
# Runs the bench's `sets` phase (16 clients) against STARLINGD under
# `valgrind --tool=callgrind`, then prints the inclusive instruction count
# per set of the set path, the HTTP path and the writer's statements. The
# login's argon2 and start-up are in the program total, not in those lines.
# The commit's share depends on group sizes, which valgrind's slowness
# changes: compare it between builds only roughly.
set -euo pipefail
bin=$(realpath "$1")
sets=${2:-4000}
bench=${3:-target/release/starling-bench}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The bench stops the daemon it started with SIGKILL; callgrind writes its
# profile only on a clean exit, so the daemon runs as a child of this wrapper
# and is stopped with SIGTERM once the phase is over.
cat >"$work/wrap" <<EOF
#!/bin/bash
valgrind --tool=callgrind --callgrind-out-file=$work/cg.out --dump-instr=no \
  --collect-jumps=no "$bin" "\$@" 2>"$work/valgrind.log" &
echo \$! >"$work/pid"
wait
EOF
chmod +x "$work/wrap"
"$bench" --starlingd "$work/wrap" --phases sets --requests "$sets" \
  --alertmanager /none --work-dir "$work/bench" 2>&1 | grep '^| set' || true
kill -TERM "$(cat "$work/pid")"
while kill -0 "$(cat "$work/pid")" 2>/dev/null; do sleep 0.2; done
callgrind_annotate --inclusive=yes "$work/cg.out" 2>/dev/null |
  grep -E 'PROGRAM TOTALS|ops::set_alarm |Dispatcher<D,Bs,I,T>::poll_catch |FaultRepo>::|Backend>::commit ' |
  awk -v n="$sets" '{ gsub(",", "", $1); name = $0; sub(/^[^?]*\?\?\?:/, "", name); sub(/ \[.*$/, "", name);
    if ($0 ~ /PROGRAM TOTALS/) name = "program total (with start-up and login)";
    printf "%10.1f k instructions per set  %s\n", $1 / n / 1000, name }'
