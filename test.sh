#!/usr/bin/env bash
# Installs what the tests need, then runs the whole suite (unit, integration, web, browser).
# Against PostgreSQL: TEST_DATABASE_URL=postgresql://user:pass@127.0.0.1/postgres ./test.sh
# Extra arguments go to pytest (e.g. ./test.sh tests/unit -x).
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh --test
mkdir -p test-artifacts
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
