#!/usr/bin/env bash
# The fuzzer against the four generated OpenAPI documents: a starlingd
# (duplex, on loopback, its own data directory; service management beside
# it, its services an LSB script over flag files) is driven by schemathesis
# with every operation of identity's, FM's, inventory's and
# configuration's document, bounded to 20 examples per operation, and must
# answer no 5xx and nothing its document does not describe.
#
#   .ci/schemathesis.sh PATH/TO/starlingd
#
# schemathesis (pinned) lives in a virtualenv outside the clone, reused
# between runs (STARLING_ST_ENV, default ~/.cache/starling-st). One worker:
# with two, the interpreter's AST compiler (CPython 3.11, used by the
# coverage phase from several threads) once failed with "SystemError: AST
# constructor recursion depth mismatch" — a race of the tool, not a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
starlingd=$1

env=${STARLING_ST_ENV:-$HOME/.cache/starling-st}
if ! "$env/bin/st" --version 2>/dev/null | grep -qx 'st, version 4.32.5'; then
  python3 -m venv "$env"
  "$env/bin/pip" install -q --disable-pip-version-check schemathesis==4.32.5
fi

work=$(mktemp -d)
pid=
smpid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ -n "$smpid" ] && kill "$smpid" 2>/dev/null && wait "$smpid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

export STARLING_ADMIN_PASSWORD='Fuzz!pw-1'
# Ports below the ephemeral range, away from the tests' own.
base=${STARLING_ST_PORT:-27100}
# Service management, alone, so sysinv's service routes have it to relay.
cat >"$work/flag.sh" <<'EOF_SCRIPT'
#!/bin/sh
case "$1" in
start) touch "$SM_FLAG" ;;
stop) rm -f "$SM_FLAG" ;;
status) [ -e "$SM_FLAG" ] && exit 0; exit 3 ;;
esac
EOF_SCRIPT
chmod 755 "$work/flag.sh"
for s in management-ip oam-ip starling-api; do
  "$starlingd" --data-dir "$work/sm" --log warn sm configure plugin "$s" exec "$work/flag.sh"
  "$starlingd" --data-dir "$work/sm" --log warn sm configure service-instance "$s" "flag=$work/$s.up"
done
"$starlingd" --data-dir "$work/sm" --log warn sm --sm-listen "127.0.0.1:$((base + 4))" \
  >"$work/sm.log" 2>&1 &
smpid=$!
"$starlingd" --data-dir "$work/data" --system-mode duplex --no-local-agent \
  --identity-port "$base" --fm-port $((base + 1)) --inventory-port $((base + 2)) \
  --mtce-port $((base + 3)) --sm-url "http://127.0.0.1:$((base + 4))" \
  --log warn >"$work/starlingd.log" 2>&1 &
pid=$!
for _ in $(seq 200); do
  curl -sf "http://127.0.0.1:$((base + 2))/health/ready" >/dev/null &&
    curl -sf "http://127.0.0.1:$((base + 4))/v1/nodes" >/dev/null && break
  kill -0 "$smpid" 2>/dev/null || { cat "$work/sm.log" >&2; exit 1; }
  kill -0 "$pid" 2>/dev/null || { cat "$work/starlingd.log" >&2; exit 1; }
  sleep 0.1
done

token=$(curl -si -H 'content-type: application/json' "http://127.0.0.1:$base/v3/auth/tokens" -d '{"auth":
  {"identity": {"methods": ["password"], "password": {"user": {"name": "admin",
   "domain": {"id": "default"}, "password": "'"$STARLING_ADMIN_PASSWORD"'"}}},
   "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}' |
  awk 'tolower($1) == "x-subject-token:" { sub(/\r$/, "", $2); print $2 }')
[ -n "$token" ] || { echo "no token from starlingd" >&2; exit 1; }

status=0
# Configuration's routes are served on inventory's listener.
for svc in identity:0 fm:1 inventory:2 config:2; do
  name=${svc%:*} port=$((base + ${svc#*:}))
  echo "== schemathesis: $name (crates/$name-api/openapi.json)"
  if ! timeout 600 "$env/bin/st" run "crates/$name-api/openapi.json" \
      --url "http://127.0.0.1:$port" -H "X-Auth-Token: $token" \
      --max-examples 20 --phases examples,coverage,fuzzing --workers 1 \
      --checks not_a_server_error,response_schema_conformance \
      --warnings off --no-color >"$work/$name.log" 2>&1; then
    status=1
    cat "$work/$name.log"
  else
    grep -E '^ *[0-9]+ generated' "$work/$name.log" || tail -3 "$work/$name.log"
  fi
done
if [ "$status" -ne 0 ]; then
  echo "== starlingd's log" >&2
  tail -50 "$work/starlingd.log" >&2
fi
exit "$status"
