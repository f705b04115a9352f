#!/usr/bin/env bash
# README's first command: installs what is missing (Debian packages, incl. the Fashion-MNIST data
# package), builds the release binary and trains the main job — a CNN on Fashion-MNIST — with
# 2 ranks through mpirun. Extra arguments go to `ddp train` (e.g. --set training.epochs=1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash launch/setup.sh
exec launch/ddprun -n 2 configs/cnn_fashion_mnist.json "$@"
