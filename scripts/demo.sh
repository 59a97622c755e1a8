#!/usr/bin/env bash
# Serve the demo: a Celery worker with beat on the embedded broker, and the web server.
# Both stop together on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
# DEBUG off, plain HTTP, a generated secret key (portal/settings.py, STEWARD_DEMO).
export STEWARD_DEMO=${STEWARD_DEMO:-1}
mkdir -p var/log

"$BIN/celery" -A portal worker --beat --loglevel=INFO --concurrency=1 \
  --without-mingle --without-gossip >var/log/worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM

cat <<MSG

  Steward is running at http://$HOST:$PORT/
  API:  http://$HOST:$PORT/api/v1/   OpenAPI: http://$HOST:$PORT/api/schema/   Docs: http://$HOST:$PORT/api/docs/
  Worker and beat log: var/log/worker.log   (stop everything with Ctrl-C)
  Demo logins are printed above by seed_demo.

MSG
"$BIN/python" manage.py runserver "$HOST:$PORT" --noreload
