#!/usr/bin/env bash
# Installs what is missing, builds Herald (release) and runs `herald demo`. Extra arguments go to the demo,
# e.g. scripts/demo.sh --events 20000
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh

echo "herald: building (release; the first build takes a few minutes)" >&2
swift build -c release --product herald >&2
exec .build/release/herald demo "$@"
