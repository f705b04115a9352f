#!/usr/bin/env bash
# The whole test suite:
# 1. the Swift tests: kernels, layers, gradient checks, Keras reference fixtures, data readers,
#    configs, artifacts, data parallelism in-process and under real mpirun, the ddp command on
#    every config with checkpoint and resume;
# 2. the cluster checks on the release binary: a real single-node Slurm running each job script
#    (including requeue + resume), and two network-namespace "hosts" training over TCP.
# DDP_SKIP_CLUSTER_TESTS=1 runs only part 1 (quick local iterations).
set -euo pipefail
cd "$(dirname "$0")/.."
export SWIFT_BACKTRACE=enable=no
swift build --build-tests
swift test --skip-build
if [ "${DDP_SKIP_CLUSTER_TESTS:-0}" != 1 ]; then
  swift build -c release --product ddp
  bash launch/test-slurm.sh
  bash launch/test-multihost.sh
fi
