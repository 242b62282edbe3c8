#!/usr/bin/env bash
# Create benchmarks/env: a venv of its own for the peer tools benchmarks/scan.py compares against
# (cleanvision, imagededup). Idempotent: a second run with everything present takes seconds.
# torch/torchvision are pinned to the releases this machine serves from local disk; any other
# version would download gigabytes. Never remove /etc/xdg/pip.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
env="$here/env"
if [ ! -x "$env/bin/python" ]; then
    python3 -m venv "$env"
fi
if "$env/bin/python" -c "import cleanvision, imagededup" 2>/dev/null; then
    echo "peers env ready: $env"
    exit 0
fi
"$env/bin/python" -m pip install --quiet --upgrade pip
"$env/bin/python" -m pip install --quiet cleanvision imagededup torch==2.14.1 torchvision==0.29.1
"$env/bin/python" -c "import cleanvision, imagededup; print('peers env ready:', '$env')"
