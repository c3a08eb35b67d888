#!/usr/bin/env bash
# The demo: the web app on http://127.0.0.1:8000 with a django-q2 worker and one platform simulator per seeded demo
# connection (Shopify on :8101, WooCommerce on :8102, BigCommerce on :8103; an order created there with
# `POST /_sim/orders` arrives here as a signed webhook) and one carrier simulator per carrier (DHL Parcel DE on :8111,
# UPS on :8112: labels are bought there from the Shipping page), on the embedded SQLite database. `make demo` migrates and
# seeds first; Ctrl-C stops every child.
#   DEMO_PORT=8000   web port           DEMO_DB=/path/db.sqlite3   another SQLite file (default var/db.sqlite3)
#   DEMO_SHOPIFY_PORT=8101  DEMO_WOOCOMMERCE_PORT=8102  DEMO_BIGCOMMERCE_PORT=8103   simulator ports (settings; the
#   seed wires the connections)
#   DEMO_DHL_PORT=8111  DEMO_UPS_PORT=8112   carrier simulator ports
#   DEMO_RECONCILE_MINUTES=2   the demo connections' reconciler cadence
set -euo pipefail
# Job control: each child runs in its own process group, so stopping it also stops what it forked (the django-q2
# cluster's sentinel and workers), and Ctrl-C reaches this script, whose trap stops them in order.
set -m

cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${DEMO_PORT:-8000}"
HOST=127.0.0.1
BASE="http://$HOST:$PORT"

# The demo never touches a server database: DATABASE_URL from the caller's shell is ignored.
if [[ -n "${DEMO_DB:-}" ]]; then
    export DATABASE_URL="sqlite:///$DEMO_DB"
else
    unset DATABASE_URL
fi
# The demo is what a new user sees: friendly error pages, never a traceback or the debug 404's list of every URL.
# (For development, `DEBUG=1 .venv/bin/python manage.py runserver` turns Django's debug pages on.)
export DJANGO_PROFILE=development PYTHONUNBUFFERED=1 DEBUG=false

mkdir -p var/log
PIDS=()

stop() {
    trap - INT TERM EXIT
    if ((${#PIDS[@]})); then
        echo
        echo "Stopping the demo (${#PIDS[@]} process groups)…"
        for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
        for _ in $(seq 75); do
            alive=0
            for pid in "${PIDS[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
            ((alive)) || break
            sleep 0.2
        done
        for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

if port_busy "$PORT"; then
    echo "Port $PORT is already in use: stop what runs there or set DEMO_PORT." >&2
    exit 1
fi

# Credentials come from the seed itself (idempotent: this re-run changes nothing).
SEED_JSON="$($PY manage.py seed_demo --json)"

$PY manage.py runserver "$HOST:$PORT" --noreload >var/log/web.log 2>&1 &
PIDS+=($!)
$PY manage.py qcluster >var/log/worker.log 2>&1 &
PIDS+=($!)

# One simulator per seeded connection, on the port the seed names (its `simulator_url`, which is also the connection's
# API base): it mirrors that connection's credentials, signing secret and shop, and delivers signed webhooks to the
# connection's inbox on this hub. Lines "platform id port"; no secret passes through the command line.
SIM_SPECS="$(printf '%s' "$SEED_JSON" | $PY -c '
import json, sys
from urllib.parse import urlsplit
for c in json.load(sys.stdin).get("connections", []):
    print(c["platform"], c["id"], urlsplit(c["simulator_url"]).port)
')"
SIMULATORS="" SIM_PORTS=()
if [[ -n "$SIM_SPECS" ]]; then
    while read -r platform connection sim_port; do
        if port_busy "$sim_port"; then
            echo "Port $sim_port is in use: the $platform simulator is not started." >&2
            continue
        fi
        $PY manage.py run_simulator "$platform" --port "$sim_port" --connection "$connection" --hub-base "$BASE" \
            >"var/log/simulator-$platform.log" 2>&1 &
        PIDS+=($!)
        SIM_PORTS+=("$sim_port")
        SIMULATORS+="$(printf '  %-19s %s (connection %s)' "$platform simulator" "http://$HOST:$sim_port/" \
            "$connection")"$'\n'
    done <<<"$SIM_SPECS"
fi

# One carrier simulator per carrier (DHL Parcel DE on :8111, UPS on :8112): the seed points every demo carrier account
# there and gives the accounts of one carrier the same demo credentials, which the simulator accepts (`--account`).
CARRIER_SPECS="$(printf '%s' "$SEED_JSON" | $PY -c '
import json, sys
from urllib.parse import urlsplit
for c in json.load(sys.stdin).get("carriers", []):
    print(c["carrier"], c["account"], urlsplit(c["simulator_url"]).port)
')"
if [[ -n "$CARRIER_SPECS" ]]; then
    while read -r carrier account sim_port; do
        if port_busy "$sim_port"; then
            echo "Port $sim_port is in use: the $carrier simulator is not started." >&2
            continue
        fi
        $PY manage.py run_carrier_simulator "$carrier" --port "$sim_port" --account "$account" \
            >"var/log/carrier-$carrier.log" 2>&1 &
        PIDS+=($!)
        SIM_PORTS+=("$sim_port")
        SIMULATORS+="$(printf '  %-19s %s (carrier accounts)' "$carrier simulator" "http://$HOST:$sim_port/")"$'\n'
    done <<<"$CARRIER_SPECS"
fi

for _ in $(seq 100); do
    curl -fsS -o /dev/null "$BASE/admin/login/" 2>/dev/null && break
    if ! kill -0 "${PIDS[0]}" 2>/dev/null; then
        echo "The web server did not start; see var/log/web.log:" >&2
        tail -20 var/log/web.log >&2
        exit 1
    fi
    sleep 0.3
done
for sim_port in "${SIM_PORTS[@]}"; do
    for _ in $(seq 100); do port_busy "$sim_port" && break; sleep 0.3; done
done

cat <<EOF

  3PL integrations hub: demo running
  ----------------------------------
  pages (console)     $BASE/
  admin               $BASE/admin/
  API docs            $BASE/api/docs/
  API token login     POST $BASE/api/v1/auth/login/
${SIMULATORS}  task worker         django-q2 qcluster (log: var/log/worker.log)

  Log in as (demo passwords, never for production):
EOF
printf '%s' "$SEED_JSON" | $PY -c '
import json, sys
for u in json.load(sys.stdin)["users"]:
    role = u["role"] + (" of " + u["brand"] if u["brand"] else "")
    print("    %-10s %-22s %s" % (u["username"], u["password"], role))
'
echo
echo "  Logs in var/log/. Press Ctrl-C to stop everything."

# Stay up while the web server lives; Ctrl-C (or its exit) stops every child through the trap.
wait "${PIDS[0]}"
