#!/usr/bin/env bash
# Set faircrawl up in ./.venv (created if missing) and run one job:
#   ./dev.sh demo     set up, serve the test sites, crawl them, print the report
#   ./dev.sh test     set up, type-check (mypy) and run the whole test suite (what CI runs)
#   ./dev.sh setup    set up only
# Extra arguments go to the job (e.g. ./dev.sh test -k robots).
set -euo pipefail
cd "$(dirname "$0")"

job="${1:-demo}"
shift || true
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: faircrawl needs Python 3.11 or newer; set PYTHON=/path/to/python3.11 and run again" >&2
    exit 2
fi

if [ ! -x .venv/bin/python ]; then
    echo "[setup] creating .venv"
    "$python" -m venv .venv
fi

# Reinstall only when the packaging files changed since the last set-up.
fingerprint="$(cat pyproject.toml shims/*/pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat .venv/.faircrawl-installed 2>/dev/null || true)" != "$fingerprint" ]; then
    echo "[setup] installing faircrawl and its dependencies (dlib from the prebuilt dlib-bin wheel)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
    echo "$fingerprint" > .venv/.faircrawl-installed
fi
.venv/bin/faircrawl testsites fetch-photos >/dev/null

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "[setup] installing chromium with apt-get (for the browser tests of the web page)"
        { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
            || echo "[setup] warning: apt-get could not install chromium: the browser tests will skip (CI fails them)" >&2
    else
        echo "[setup] note: /usr/bin/chromium is missing and this is not root: the browser tests will skip" \
             "(CI fails them); install it with: sudo apt-get install chromium" >&2
    fi
fi

case "$job" in
    demo)  exec .venv/bin/faircrawl demo "$@" ;;
    test)  echo "[test] mypy (strict on policy/, storage/, faces/)"
           .venv/bin/mypy
           exec .venv/bin/python -m pytest "$@" ;;
    setup) echo "[setup] done: .venv/bin/faircrawl --help" ;;
    *)     echo "error: unknown job '$job'; use demo, test or setup" >&2; exit 2 ;;
esac
