#!/usr/bin/env bash
# Builds and runs the C relay baseline (see relay.c) against librdkafka-dev: the reference figures for
# `herald bench kafka-relay`. Usage: scripts/c-relay/run.sh [RECORDS]   (default 1,000,000)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"${CC:-cc}" -O2 -Wall -Wextra -o "$out/relay" "$here/relay.c" $(pkg-config --cflags --libs rdkafka)
"$out/relay" "${1:-1000000}"
