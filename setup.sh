#!/usr/bin/env bash
# Installs everything Jienan needs on a fresh Debian machine: system packages, the Python virtualenv,
# the front-end bundle (npm ci from the lockfile) and the compiled translations. Safe to run again.
#   ./setup.sh            everything for running the site
#   ./setup.sh --test     plus what the test suite needs (Chromium and CJK fonts for the browser tests, nginx
#                         and PgBouncer for the cluster tests)
set -euo pipefail
cd "$(dirname "$0")"

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

apt_packages=()
command -v python3 >/dev/null || apt_packages+=(python3 python3-venv python3-dev)
command -v npm >/dev/null || apt_packages+=(nodejs npm)
if [[ $want_test -eq 1 ]]; then
  command -v chromium >/dev/null || apt_packages+=(chromium)
  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || apt_packages+=(fonts-noto-cjk)
  command -v nginx >/dev/null || apt_packages+=(nginx)  # the cluster test balances web processes with it
  [[ -x /usr/sbin/pgbouncer ]] || apt_packages+=(pgbouncer)  # the PgBouncer (transaction mode) test
fi
if [[ ${#apt_packages[@]} -gt 0 ]]; then
  echo "==> apt-get install ${apt_packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv"
  python3 -m venv .venv
fi
echo "==> pip install (pinned in pyproject.toml)"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [[ $want_test -eq 1 ]]; then
  .venv/bin/python -m pip install -q -e ".[dev]"
else
  .venv/bin/python -m pip install -q -e .
fi

echo "==> npm ci && npm run build (front-end assets, no CDN)"
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent

echo "==> compiling translations"
.venv/bin/pybabel -q compile -d web/translations
