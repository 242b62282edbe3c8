#!/usr/bin/env bash
# Installs everything this project needs on a fresh machine, from nothing; a second run takes seconds.
#   .venv with the pinned Python packages (torch comes from this machine's local wheel files),
#   the project itself in editable mode, and Debian's Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
    echo "setup: installing Python packages (first time: a few minutes)"
    free_gb=$(df -Pk . | awk 'NR == 2 {print int($4 / 1048576)}')
    if [ "$free_gb" -lt 8 ]; then  # pip's own "No space left on device" names no size
        echo "setup: warning: ${free_gb} GB free here; the packages take ~6.5 GB (torch and its CUDA libraries)" >&2
    fi
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r requirements-dev.txt
    .venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
    rm -f .venv/.installed-*
    touch "$stamp"
fi

if [ "${SKIP_BROWSER:-0}" != "1" ] && [ ! -x /usr/bin/chromium ]; then
    echo "setup: installing Debian's chromium for the browser tests"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
.venv/bin/python -c "from inspectors import alignment, hash_copies, vector_join; alignment.compile_kernels(); hash_copies.compile_kernels(); vector_join.compile_kernels()"  # cached after the first time
echo "setup: ready"
