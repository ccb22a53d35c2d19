#!/usr/bin/env bash
# Installs what is missing, then builds once and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh --test

swift build --build-tests
swift test --skip-build
