#!/usr/bin/env bash
# Measures the raw throughput of the Teams emulator (limits off): wrk posts message activities,
# round-robin over 64 conversations, through keep-alive connections, with a valid bearer token.
# Usage: scripts/bench-emulator.sh   (env: DURATION=10 CONNECTIONS=32 THREADS=1 HERALD_BIN=path/to/herald;
#        needs wrk: apt-get install wrk). Without HERALD_BIN it uses the release build in .build-release if there
#        is one (as `herald bench` is run), else the debug build.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${DURATION:-10}
connections=${CONNECTIONS:-32}
threads=${THREADS:-1}
command -v wrk >/dev/null || { echo "bench-emulator: needs wrk (apt-get install wrk)" >&2; exit 1; }

if [[ -n "${HERALD_BIN:-}" ]]; then
    herald=$HERALD_BIN
elif [[ -x .build-release/release/herald ]]; then
    herald=.build-release/release/herald
else
    bin=$(swift build --show-bin-path)
    [[ -x "$bin/herald" ]] || swift build --product herald >/dev/null 2>&1
    herald=$bin/herald
fi
echo "bench-emulator: $herald" >&2
work=$(mktemp -d)
"$herald" emulator --port 0 --app-id bench --app-password bench-secret --limits off --log-level warning \
    >"$work/out" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q listening "$work/out" && break; sleep 0.1; done
origin=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out" | head -1)

json() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
token=$(curl -sf -d 'grant_type=client_credentials&client_id=bench&client_secret=bench-secret&scope=https%3A%2F%2Fapi.botframework.com%2F.default' \
    "$origin/botframework.com/oauth2/v2.0/token" | json access_token)
ids=""
for i in $(seq 1 64); do
    id=$(curl -sf -H "Authorization: Bearer $token" -H 'content-type: application/json' \
        -d "{\"members\":[{\"id\":\"29:1bench$i\"}],\"tenantId\":\"bench-tenant\"}" "$origin/teams/v3/conversations" | json id)
    ids="$ids\"${id/:/%3A}\","
done

cat >"$work/send.lua" <<LUA
local ids = { ${ids} }
local i = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer ${token}"
wrk.headers["Content-Type"] = "application/json; charset=utf-8"
wrk.body = '{"type":"message","text":"Ticket **42** was assigned to you","textFormat":"markdown","summary":"Ticket 42","channelData":{"notification":{"alert":true}}}'
request = function()
  i = i % #ids + 1
  return wrk.format(nil, "/teams/v3/conversations/" .. ids[i] .. "/activities")
end
LUA

wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$work/send.lua" "$origin"
echo "emulator stats: $(curl -sf "$origin/emulator/stats")"
echo "emulator CPU time (user+sys): $(ps -o time= -p $pid)"
