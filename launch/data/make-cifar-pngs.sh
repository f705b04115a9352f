#!/usr/bin/env bash
# Writes two CIFAR-10 classes as an image folder for configs/cnn_cats_dogs.json:
#   OUT/cifar10-cat-dog/{train,test}/{cat,dog}/NNNNN.png (every 4th image as NNNNN.jpg),
# 5,000 + 5,000 training and 1,000 + 1,000 test images of 32x32, through libpng / libjpeg.
# Usage: launch/data/make-cifar-pngs.sh [OUT [CIFAR_DATA_DIR]]
#   OUT             default /var/tmp/swiftddp-data (never inside the repository)
#   CIFAR_DATA_DIR  the folder holding cifar10/ (default: DDP_DATA_DIR, then ../shared/data)
# Then: launch/ddprun -n 2 configs/cnn_cats_dogs.json --data-dir OUT
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/var/tmp/swiftddp-data}
target="$out/cifar10-cat-dog"
if [ -d "$target" ]; then
  echo "make-cifar-pngs: $target exists already; remove it to write it again" >&2
  exit 0
fi
swift build -c release --product ddp >&2
args=(--dataset cifar10 --classes cat,dog --out "$target" --jpeg-every 4)
[ $# -ge 2 ] && args+=(--data-dir "$2")
"$(swift build -c release --show-bin-path)/ddp" image-folder "${args[@]}"
