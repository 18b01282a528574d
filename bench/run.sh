#!/usr/bin/env bash
# `make bench`: the HTTP benchmark (see bench/README.md).  Needs wrk and the project's .venv
# (`make install`); installs the harness's own extras (bench/requirements.txt) into that venv.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk is not installed. On Debian/Ubuntu: sudo apt-get install wrk" >&2
    echo "(macOS: brew install wrk)" >&2
    exit 2
fi

VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    echo "no $VENV: run 'make install' first (make bench does)" >&2
    exit 2
fi

# The chart (matplotlib) and the profiler (py-spy) are harness extras, kept out of the locks.
if ! "$VENV/bin/python" -c "import matplotlib" 2>/dev/null || [ ! -x "$VENV/bin/py-spy" ]; then
    if [ -x "$VENV/bin/uv" ]; then
        "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" -r bench/requirements.txt
    else
        "$VENV/bin/python" -m pip install --quiet -r bench/requirements.txt
    fi
fi

echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
exec "$VENV/bin/python" bench/run.py "$@"
