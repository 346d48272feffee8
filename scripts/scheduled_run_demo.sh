#!/usr/bin/env bash
# A scheduled nightly run, actually happening: a Prefect server on 127.0.0.1, `renkou serve` on
# an every-minute cron, wait (polling the API with the Prefect client) until a scheduled flow run
# of the deployment has completed, then stop serve, then the server. About 2-4 minutes.
#
#   scripts/scheduled_run_demo.sh [WORKDIR]      (default: a new folder under /tmp)
#
# Ephemeral mode (`renkou run`) cannot show this: it registers deployments but never schedules.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/.venv/bin
WORK=${1:-$(mktemp -d /tmp/renkou-schedule-demo.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
HOMEDIR=$WORK/home
PORT=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
API=http://127.0.0.1:$PORT/api
SERVER_PID="" SERVE_PID=""

stop() {  # serve first (it pauses its schedule on the server), then the server
    # SIGTERM: a background job of a script ignores SIGINT; both shut down cleanly on TERM
    if [[ -n $SERVE_PID ]]; then kill -TERM "$SERVE_PID" 2>/dev/null || true
        wait "$SERVE_PID" 2>/dev/null || true; fi
    if [[ -n $SERVER_PID ]]; then kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true; fi
    SERVE_PID="" SERVER_PID=""
}
trap stop EXIT

echo "work folder: $WORK (server log server.log, serve log serve.log)"
"$BIN/renkou" --home "$HOMEDIR" generate --persons 1000 --seed 7 --out "$WORK/county" >/dev/null
# a quick training recipe for the demo (the real one samples 2,000,000 pairs per model)
rm -rf "$WORK/configs" && cp -r configs "$WORK/configs"
sed -i 's/^u_max_pairs = .*/u_max_pairs = 100_000/' "$WORK/configs/renkou.toml"
export RENKOU_CONFIG=$WORK/configs

"$BIN/renkou" --home "$HOMEDIR" server --port "$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
up=""
for _ in $(seq 1 120); do
    if "$BIN/python" -c "import httpx, sys; sys.exit(httpx.get('$API/health').status_code != 200)" \
        2>/dev/null; then up=1; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 1
done
[[ -n $up ]] || { echo "the Prefect server did not start; see $WORK/server.log" >&2; exit 1; }
echo "server up: http://127.0.0.1:$PORT"

"$BIN/renkou" --home "$HOMEDIR" serve --inbox "$WORK/county/inbox" --cron '* * * * *' \
    --timezone Asia/Shanghai --api-url "$API" >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!

PREFECT_API_URL=$API PREFECT_HOME=$WORK/client "$BIN/python" - <<'PY'
import sys
import time

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

start = time.monotonic()
with get_client(sync_client=True) as client:
    while time.monotonic() - start < 360:
        runs = client.read_flow_runs(deployment_filter=DeploymentFilter(
            name=DeploymentFilterName(any_=["nightly"])))
        final = [r for r in runs if r.state is not None and r.state.is_final()]
        if final:
            r = final[0]
            print(f"flow run {r.name}: {r.state.name}, auto-scheduled {r.auto_scheduled}, "
                  f"expected {r.expected_start_time:%H:%M:%S}, started "
                  f"{r.start_time:%H:%M:%S}, ended {r.end_time:%H:%M:%S} "
                  f"(waited {time.monotonic() - start:.0f} s)")
            sys.exit(0 if r.state.is_completed() and r.auto_scheduled else 1)
        time.sleep(5)
sys.exit("no scheduled run finished within 6 minutes; see serve.log and server.log")
PY
stop
"$BIN/renkou" --home "$HOMEDIR" history
