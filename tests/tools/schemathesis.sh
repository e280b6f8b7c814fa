#!/usr/bin/env bash
# The API fuzzed against its own description: schemathesis (PyPI `schemathesis`,
# installed into a virtualenv under target/tools/schemathesis) generates requests from
# `GET /api/v1/openapi.json` of a live `motcua demo` and fails on any 5xx answer and on
# any answer whose status, content type, headers or body the document does not give
# (docs/decisions/0023-openapi.md).
#
#   bash tests/tools/schemathesis.sh            # start the demo, fuzz, stop it
#   MOTCUA_SCHEMATHESIS_BUILD=1 bash tests/tools/schemathesis.sh   # (re)build it first
#   bash tests/tools/schemathesis.sh install    # the virtualenv only (once; safe to repeat)
#
# The binary is $CARGO_TARGET_DIR/debug/motcua (default target/), as `cargo test
# --workspace` or `cargo build --workspace` leave it; it is built when missing.
# The demo runs on a fresh SQLite database in target/tools/schemathesis-run/, on
# 127.0.0.1:${MOTCUA_SCHEMATHESIS_PORT:-18089}, with the per-address quotas off (a
# fuzzer is one address asking fast); requests carry the demo officer's token.
# MOTCUA_SCHEMATHESIS_EXAMPLES bounds the requests generated per operation and phase,
# MOTCUA_SCHEMATHESIS_SEED makes a run repeatable. The server's log and the JUnit
# report are kept there.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VERSION="4.32.5"
TOOLS="$ROOT/target/tools"
VENV="$TOOLS/schemathesis"
RUN="$TOOLS/schemathesis-run"
PORT="${MOTCUA_SCHEMATHESIS_PORT:-18089}"
EXAMPLES="${MOTCUA_SCHEMATHESIS_EXAMPLES:-100}"
SEED="${MOTCUA_SCHEMATHESIS_SEED:-20260302}"
TOKEN="demo-xuan-hoa-officer"
PYTHON="${PYTHON:-python3}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET/debug/motcua"

install() {
    if [ -f "$VENV/.motcua-schemathesis-$VERSION" ] && "$VENV/bin/schemathesis" --version >/dev/null 2>&1; then
        return 0
    fi
    echo "schemathesis: installing schemathesis==$VERSION into $VENV" >&2
    rm -rf "$VENV"
    mkdir -p "$TOOLS"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$VERSION"
    touch "$VENV/.motcua-schemathesis-$VERSION"
}

answering() {
    "$PYTHON" - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
    sys.exit(0 if response.status == 200 else 1)
PY
}

run() {
    install
    # `cargo test --workspace` (CI runs it first) leaves the binary built with the
    # workspace's features; build it the same way only when it is missing, since a
    # build of the host alone would rebuild half the tree with other features.
    if [ ! -x "$BIN" ] || [ "${MOTCUA_SCHEMATHESIS_BUILD:-}" = 1 ]; then
        (cd "$ROOT" && cargo build --workspace --locked)
    fi
    rm -rf "$RUN"
    mkdir -p "$RUN"
    local base="http://127.0.0.1:$PORT"
    if answering "$base/healthz"; then
        echo "schemathesis: something already answers on $base; set MOTCUA_SCHEMATHESIS_PORT" >&2
        return 1
    fi
    echo "schemathesis: starting motcua demo on $base (log: $RUN/server.log)" >&2
    "$BIN" demo --listen "127.0.0.1:$PORT" \
        --database-url "sqlite://$RUN/motcua.db" \
        --filings-per-minute 0 --tracking-per-minute 0 --citizen-actions-per-minute 0 \
        </dev/null >"$RUN/server.log" 2>&1 &
    SERVER=$!
    # The server is stopped however this ends.
    trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
    local ready=""
    for _ in $(seq 1 240); do
        if answering "$base/readyz"; then
            ready=yes
            break
        fi
        if ! kill -0 "$SERVER" 2>/dev/null; then
            break
        fi
        sleep 0.5
    done
    if [ -z "$ready" ]; then
        echo "schemathesis: the demo did not become ready; its log:" >&2
        tail -n 40 "$RUN/server.log" >&2 || true
        return 1
    fi
    local status=0
    # Run from $RUN: hypothesis and schemathesis keep their caches in the working
    # directory.
    (cd "$RUN" && "$VENV/bin/schemathesis" run "$base/api/v1/openapi.json" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
        --header "Authorization: Bearer $TOKEN" \
        --phases examples,coverage,fuzzing \
        --max-examples "$EXAMPLES" \
        --seed "$SEED" \
        --workers 1 \
        --request-timeout 30 \
        --suppress-health-check all \
        --generation-with-security-parameters false \
        --generation-database none \
        --report junit --report-dir "$RUN" \
        --no-color) || status=$?
    if [ "$status" -ne 0 ]; then
        echo "schemathesis: failures (exit $status); the server's log is $RUN/server.log" >&2
    fi
    return "$status"
}

case "${1:-run}" in
install) install ;;
run) run ;;
*)
    echo "usage: $0 [run|install]" >&2
    exit 2
    ;;
esac
