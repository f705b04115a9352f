#!/usr/bin/env bash
# The CNN's full CIFAR-10 training (configs/cnn_cifar10.json: 10 epochs, global batch 64, a
# test-set evaluation after each epoch) on 2 cores, side by side with its peers on the same data:
#   ddp, 2 ranks x 1 thread (mpirun) | Keras/TensorFlow, 1 process x 2 threads |
#   PyTorch DDP (gloo), 2 processes x 1 thread.
#   bash launch/bench/cifar10-wall-time.sh VENV DATA_DIR [REPS]
# VENV is a Python venv with tensorflow-cpu and torch (../shared/bench/peers/run.sh makes one).
# Prints, per run, the whole command's wall time and the training's own (epochs + evaluations,
# data loading excluded) with the final test accuracy.
set -euo pipefail
venv=${1:?usage: cifar10-wall-time.sh VENV DATA_DIR [REPS]}
data=${2:?usage: cifar10-wall-time.sh VENV DATA_DIR [REPS]}
reps=${3:-1}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$root"
swift build -c release --product ddp >/dev/null

timed() {  # name, command...: runs it, prints "name total_wall_s" and its last JSON line
  local name=$1; shift
  local t0 ms
  t0=$(date +%s%N)
  "$@" >"$out/$name.log" 2>&1
  ms=$((($(date +%s%N) - t0) / 1000000))
  printf '%s total_wall_s=%d.%d ' "$name" $((ms / 1000)) $((ms % 1000 / 100))
}

for r in $(seq "$reps"); do
  timed ddp launch/ddprun -n 2 configs/cnn_cifar10.json --data-dir "$data" --out "$out/ddp-run"
  grep -E "steps in" "$out/ddp.log" | tail -1
  timed keras "$venv/bin/python" "$here/cifar10_keras.py" "$data" --threads 2
  tail -1 "$out/keras.log"
  timed torch_ddp "$venv/bin/python" "$here/cifar10_torch_ddp.py" "$data" --world 2 --threads 1
  tail -1 "$out/torch_ddp.log"
done
