#!/usr/bin/env bash
# Interop tests: persona-shim driven by the official MCP Python SDK, with real MCP servers from PyPI as children.
#
#   bash Tests/Interop/run.sh [pytest arguments...]
#
# Creates (or reuses) a virtualenv at ${INTEROP_VENV:-/tmp/persona-shim-interop-venv}, installs the pinned
# requirements into it, and runs pytest over this folder. The binaries come from PERSONA_SHIM_BIN_DIR, else from
# `swift build --show-bin-path` in the repository (build them first: `swift build` or `swift test`).
# The exit status is pytest's; "no tests collected" (5) counts as a failure too.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${INTEROP_VENV:-/tmp/persona-shim-interop-venv}"
python="${INTEROP_PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"

# From this folder, pytest collects it all unless arguments name files or tests (test_tools.py, test_x.py::name).
cd "$here"
status=0
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -q "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "interop: pytest collected no tests; that is a failure" >&2
fi
exit "$status"
