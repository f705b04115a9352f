#!/usr/bin/env bash
# README's first command: installs what is missing (Debian packages), builds the release binary
# and runs the main example. Until the `ddp train` job lands this trains a small MLP end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash launch/setup.sh
swift build -c release --product ddp
.build/release/ddp example
