#!/usr/bin/env bash
# The whole test suite: unit tests (kernels, layers, gradient checks, reference fixtures).
set -euo pipefail
cd "$(dirname "$0")/.."
export SWIFT_BACKTRACE=enable=no
swift build --build-tests
swift test --skip-build
