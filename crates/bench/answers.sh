#!/usr/bin/env bash
# Two builds of starlingd answer the same GETs over copies of one database:
# prints, for every path, whether the answers are byte-identical, equal as
# JSON (only key order differs), or different (and the difference). Exits 1
# when any answer differs as JSON.
#
#   crates/bench/answers.sh OLD/starlingd NEW/starlingd
#
# A duplex all-in-one is made with NEW (this machine as controller-0, with
# its hardware, plus three hosts and labels), then both builds serve a copy
# each, without the local agent (nothing changes meanwhile). Loopback only.
set -euo pipefail
[ $# -eq 2 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
old=$1 new=$2
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export STARLING_ADMIN_PASSWORD='Answers!pw1'

serve() { # BIN DIR BASEPORT [extra]
  local bin=$1 dir=$2 p=$3
  shift 3
  "$bin" --data-dir "$dir" --identity-port "$p" --fm-port $((p + 1)) \
    --inventory-port $((p + 2)) "$@" >"$dir.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$((p + 2))/health/ready" >/dev/null && return 0
    sleep 0.1
  done
  echo "$bin did not start: $(tail -3 "$dir.log")" >&2
  exit 1
}

token() { # IDENTITY_PORT
  curl -si -H 'content-type: application/json' "http://127.0.0.1:$1/v3/auth/tokens" -d '{"auth":
    {"identity": {"methods": ["password"], "password": {"user": {"name": "admin",
     "domain": {"id": "default"}, "password": "'"$STARLING_ADMIN_PASSWORD"'"}}},
     "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}' |
    awk 'tolower($1) == "x-subject-token:" { sub(/\r$/, "", $2); print $2 }'
}

# The database: NEW bootstraps, its agent reports this machine, hosts are added.
serve "$new" "$work/seed" 38000 --system-mode duplex
t=$(token 38000)
inv=http://127.0.0.1:38002
for i in 0 1 2; do
  curl -sf -H "x-auth-token: $t" -H 'content-type: application/json' "$inv/v1/ihosts" \
    -d '{"hostname": "compute-'$i'", "personality": "worker", "mgmt_mac": "08:00:27:00:00:0'$i'", "location": {"locn": "rack '$i'"}}' >/dev/null
done
curl -sf -H "x-auth-token: $t" -H 'content-type: application/json' "$inv/v1/labels/compute-0" \
  -d '{"zone": "a", "sriovdp": "enabled"}' >/dev/null
for _ in $(seq 100); do
  [ "$(curl -sf -H "x-auth-token: $t" "$inv/v1/ihosts/controller-0" | python3 -c 'import json,sys; print(json.load(sys.stdin)["inv_state"])')" = inventoried ] && break
  sleep 0.2
done
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
cp -a "$work/seed" "$work/a"; cp -a "$work/seed" "$work/b"
serve "$old" "$work/a" 38100 --no-local-agent
serve "$new" "$work/b" 38200 --no-local-agent
ta=$(token 38100); tb=$(token 38200)

get() { curl -s -H "x-auth-token: $2" -H 'host: inventory.test:6385' "http://127.0.0.1:$1$3"; }
paths=(/ /v1 /v1/ /v1/isystems /v1/ihosts /v1/ihosts/detail "/v1/ihosts?limit=2"
  /v1/ihosts/controller-0 /v1/ihosts/compute-1 /v1/ihosts/bulk_export /v1/ihosts/no-such
  "/v1/ihosts?sort_key=bad" "/v1/ihosts?bogus=1")
for c in inodes icpus imemorys idisks partitions ports ethernet_ports pci_devices lldp_agents lldp_neighbours labels; do
  paths+=("/v1/ihosts/controller-0/$c" "/v1/ihosts/compute-0/$c" "/v1/ihosts/controller-0/$c?limit=1")
done
sys=$(get 38102 "$ta" /v1/isystems | python3 -c 'import json,sys; print(json.load(sys.stdin)["isystems"][0]["uuid"])')
paths+=("/v1/isystems/$sys")
for c in icpus idisks ports labels; do
  for h in controller-0 compute-0; do
    u=$(get 38102 "$ta" "/v1/ihosts/$h/$c" | python3 -c "import json,sys; l=json.load(sys.stdin)['$c']; print(l[0]['uuid'] if l else '')")
    [ -n "$u" ] && paths+=("/v1/$c/$u")
  done
done
paths+=("/v1/agent/controller-0/command")

bytes=0 json=0 diff=0
for p in "${paths[@]}"; do
  a=$(get 38102 "$ta" "$p"); b=$(get 38202 "$tb" "$p")
  if [ "$a" = "$b" ]; then
    bytes=$((bytes + 1)); echo "same bytes  $p"
  elif python3 -c 'import json,sys; sys.exit(json.loads(sys.argv[1]) != json.loads(sys.argv[2]))' "$a" "$b"; then
    json=$((json + 1)); echo "same JSON   $p (key order)"
  else
    diff=$((diff + 1)); echo "DIFFERENT   $p"
    diff <(python3 -m json.tool --sort-keys <<<"$a") <(python3 -m json.tool --sort-keys <<<"$b") | head -20 || true
  fi
done
echo "${#paths[@]} answers: $bytes byte-identical, $json equal as JSON, $diff different"
[ "$diff" -eq 0 ]
