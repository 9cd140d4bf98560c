#!/usr/bin/env bash
# Sets everything up, then runs Jienan at http://127.0.0.1:5000 on SQLite with demo data and a timer worker.
# Environment: DATABASE_URL (default sqlite under instance/), PORT (default 5000), WEB_WORKERS (default 2).
# With DATABASE_URL=postgresql://… also JIENAN_SECRET_KEY (the web refuses to start without it): docs/deploy.md.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh

.venv/bin/jienan init
.venv/bin/jienan seed

.venv/bin/jienan worker --interval 10 &
worker_pid=$!
trap 'kill $worker_pid 2>/dev/null || true' EXIT INT TERM

port="${PORT:-5000}"
echo "==> Jienan is running at http://127.0.0.1:${port}  (demo users: registrar, dispatcher, handler_power, ...; password jienan2026)"
.venv/bin/gunicorn --workers "${WEB_WORKERS:-2}" --threads 4 --bind "127.0.0.1:${port}" \
  --access-logfile - "web:create_app()"
