#!/usr/bin/env bash
# Installs what Herald needs on Debian bookworm that is not there yet. Safe to re-run.
# Usage: scripts/bootstrap.sh [--test]   (--test adds what the test suite needs)
set -euo pipefail

packages=(pkg-config librdkafka-dev libsqlite3-dev kcat)
if [[ "${1:-}" == "--test" ]]; then
    packages+=(postgresql python3-jsonschema python3-venv)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} > 0)); then
    echo "herald: installing ${missing[*]}" >&2
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "herald: swift is not on PATH; install Swift 6.3 (https://www.swift.org/install/linux/)" >&2
    exit 1
fi
