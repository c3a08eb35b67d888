#!/usr/bin/env bash
# `make serve`: the hub in the production profile on DATABASE_URL (PostgreSQL): migrate, apply roles and schedules,
# collect static files, then gunicorn and the django-q2 worker side by side. Ctrl-C or SIGTERM stops both; if
# either dies, the other is stopped and this script exits non-zero (a supervisor restarts it).
# Settings come from the environment (or .env): see README "Running in production".
set -euo pipefail
set -m  # each child in its own process group: stopping it stops what it forked (gunicorn's and the cluster's workers)

cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_PROFILE="${DJANGO_PROFILE:-production}" PYTHONUNBUFFERED=1

if [[ -z "${DATABASE_URL:-}" ]] && ! grep -qs '^DATABASE_URL=' .env; then
    echo "DATABASE_URL is not set: make serve runs on PostgreSQL (postgres://user@host:5432/db)." >&2
    exit 2
fi

# Fail before serving anything if the deployment is unsafe (missing keys, weak settings).
$PY manage.py check --deploy --fail-level ERROR
$PY manage.py migrate --noinput
$PY manage.py sync_roles
$PY manage.py sync_schedules
$PY manage.py collectstatic --noinput -v 0

PIDS=()
stop() {
    trap - INT TERM EXIT
    for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for _ in $(seq 150); do
        alive=0
        for pid in "${PIDS[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.2
    done
    for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

.venv/bin/gunicorn config.wsgi:application -c deploy/gunicorn.conf.py &
PIDS+=($!)
$PY manage.py qcluster &
PIDS+=($!)
echo "serving on ${BIND:-127.0.0.1:8000} (gunicorn) with the django-q2 worker; Ctrl-C stops both"

# Whichever child exits first ends the run (the trap stops the other).
wait -n
exit 1
