#!/usr/bin/env bash
# Installs what is missing, then builds once and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh --test

# The store tests run against a real PostgreSQL: a throwaway server on loopback with a fresh database.
eval "$(scripts/postgres.sh up)"
trap 'scripts/postgres.sh down >/dev/null 2>&1 || true' EXIT

swift build --build-tests
swift test --skip-build
