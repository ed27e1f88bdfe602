#!/usr/bin/env bash
# The HTTP measure of the tax quote: fiscald's POST /api/v1/tax/quote against a
# bare fiber handler returning the same JSON, both loaded by wrk on loopback
# in one run (cmd/quotebench). Flags pass through: -duration, -connections, -threads.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo; $SUDO apt-get install -y -qq wrk >/dev/null; }
go build -o bin/quotebench ./cmd/quotebench
exec bin/quotebench "$@"
