#!/usr/bin/env bash
# The S3-compatible server the tests and benchmarks store documents in: moto's server
# (PyPI `moto[server]`), installed into a virtualenv under target/tools/moto and run as
# a background daemon on 127.0.0.1:${MOTCUA_TEST_S3_PORT:-9000}. It keeps everything in
# memory and does not check request signatures, so a test can create its own bucket
# with a plain HTTP PUT.
#
#   bash tests/tools/s3-server.sh install   # the virtualenv (once; safe to repeat)
#   bash tests/tools/s3-server.sh start     # install if needed, start unless running
#   bash tests/tools/s3-server.sh stop      # stop the server this script started
#
# Needs only python3 (with venv and pip) and the package registry. Concurrent callers
# (parallel test binaries) take a lock, so one installs and one starts.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PORT="${MOTCUA_TEST_S3_PORT:-9000}"
MOTO_VERSION="5.2.6"
TOOLS="$ROOT/target/tools"
VENV="$TOOLS/moto"
LOG="$TOOLS/moto-$PORT.log"
PIDFILE="$TOOLS/moto-$PORT.pid"
PYTHON="${PYTHON:-python3}"

mkdir -p "$TOOLS"

# Runs "$@" holding the lock file $1 (flock when the machine has it).
locked() {
    local lock="$1"
    shift
    if command -v flock >/dev/null 2>&1; then
        (
            flock 9
            "$@"
        ) 9>"$lock"
    else
        "$@"
    fi
}

installed() {
    [ -f "$VENV/.motcua-moto-$MOTO_VERSION" ] &&
        "$VENV/bin/python" -c 'import moto.server, flask' >/dev/null 2>&1
}

install_unlocked() {
    if installed; then
        return 0
    fi
    echo "s3-server: installing moto[server]==$MOTO_VERSION into $VENV" >&2
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "moto[server]==$MOTO_VERSION"
    touch "$VENV/.motcua-moto-$MOTO_VERSION"
}

install() {
    locked "$TOOLS/moto-install.lock" install_unlocked
}

# True when an S3 server answers on the port (the bucket listing of the root).
answering() {
    "$PYTHON" - "$PORT" <<'PY' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=2) as response:
    sys.exit(0 if b"ListAllMyBucketsResult" in response.read() else 1)
PY
}

# The pid in the pid file, if that process is still this script's moto server.
our_server() {
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid="$(cat "$PIDFILE")"
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "moto.server" || return 1
    echo "$pid"
}

start_unlocked() {
    if answering; then
        return 0
    fi
    install_unlocked
    if ! our_server >/dev/null; then
        echo "s3-server: starting moto on 127.0.0.1:$PORT (log: $LOG)" >&2
        # Its own session and no descriptor of ours (not the lock, not the pipes of
        # whoever runs this script and reads its output), so it outlives the caller
        # and holds nothing of it open.
        "$VENV/bin/python" - "$PORT" "$LOG" "$PIDFILE" <<'PY'
import subprocess, sys
port, log, pidfile = sys.argv[1:4]
with open(log, "ab") as out:
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", port],
        stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True, close_fds=True,
    )
with open(pidfile, "w") as file:
    file.write(f"{server.pid}\n")
PY
    fi
    for _ in $(seq 1 120); do
        if answering; then
            return 0
        fi
        if ! our_server >/dev/null; then
            echo "s3-server: moto exited; its log:" >&2
            tail -n 30 "$LOG" >&2 || true
            return 1
        fi
        sleep 0.5
    done
    echo "s3-server: moto did not answer on 127.0.0.1:$PORT within 60 s; its log:" >&2
    tail -n 30 "$LOG" >&2 || true
    return 1
}

start() {
    if answering; then
        return 0
    fi
    locked "$TOOLS/moto-start-$PORT.lock" start_unlocked
}

stop() {
    local pid
    if pid="$(our_server)"; then
        kill "$pid"
        for _ in $(seq 1 50); do
            [ -d "/proc/$pid" ] || break
            sleep 0.1
        done
        echo "s3-server: stopped moto (pid $pid)" >&2
    else
        echo "s3-server: no moto started by this script is running on port $PORT" >&2
    fi
    rm -f "$PIDFILE"
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
*)
    echo "usage: $0 install|start|stop" >&2
    exit 2
    ;;
esac
