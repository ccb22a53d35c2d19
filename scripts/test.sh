#!/usr/bin/env bash
# Installs what is missing, then builds once and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh --test

# The store tests run against a real PostgreSQL: a throwaway server on loopback with a fresh database. `eval` of a
# failed command substitution would succeed with nothing set, so the script's answer is checked first: without
# PostgreSQL every store suite would fail for a reason this says in one line.
trap 'scripts/postgres.sh down >/dev/null 2>&1 || true' EXIT
if ! postgres_env=$(scripts/postgres.sh up); then
    echo "herald: cannot start the test PostgreSQL server (scripts/postgres.sh up failed; its log is above)" >&2
    exit 1
fi
eval "$postgres_env"
if [[ -z "${HERALD_TEST_POSTGRES_URL:-}" ]]; then
    echo "herald: scripts/postgres.sh up printed no HERALD_TEST_POSTGRES_URL" >&2
    exit 1
fi

swift build --build-tests

# The deployment artefacts are checked (hadolint, yamllint, kubernetes-validate, PromQL, `herald validate`)
# while the Swift suites run: the checks take seconds and need no CPU the tests would miss.
validation_log=.build/validate-deploy.log
scripts/validate-deploy.sh >"$validation_log" 2>&1 &
validation=$!

status=0
swift test --skip-build || status=$?
if wait "$validation"; then
    tail -n 1 "$validation_log"
else
    cat "$validation_log"
    echo "herald: deploy/ validation failed" >&2
    status=1
fi

# Then a short pass of every fuzz target (Fuzz/, scripts/fuzz.sh), two at a time, from a fixed seed: after the
# suites rather than beside them, so their timing checks do not measure a machine the fuzzers keep busy.
if ! FUZZ_JOBS=2 FUZZ_SEED=1 scripts/fuzz.sh all "${HERALD_FUZZ_SECONDS:-30}"; then
    echo "herald: a fuzz target found a problem (above)" >&2
    status=1
fi
exit "$status"
