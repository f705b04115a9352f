#!/usr/bin/env bash
# The GAN at 1 thread against Keras/TensorFlow in alternating pairs, so that each ratio compares
# two runs a few seconds apart on this machine, whose speed drifts by 5-8% over an hour:
#   bash launch/bench/gan-pairs.sh VENV [PAIRS]
# VENV is a Python venv with tensorflow-cpu (../shared/bench/peers/run.sh makes one). Prints
# each pair's samples/s and ratio, then the median ratio.
set -euo pipefail
venv=${1:?usage: gan-pairs.sh VENV [PAIRS]}
pairs=${2:-6}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
peers="$root/../shared/bench/peers"
cd "$root"
swift build -c release --product ddp >/dev/null
field() { "$venv/bin/python" -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }
ratios=()
for i in $(seq 1 "$pairs"); do
    keras=$("$venv/bin/python" "$peers/keras_bench.py" --model gan --batch 64 --threads 1 --steps 100 --warmup 10 2>/dev/null | field samples_per_s)
    ours=$(.build/release/ddp bench --model gan --steps 100 | field samples_per_s)
    ratio=$("$venv/bin/python" -c "print(f'{$ours / $keras:.3f}')")
    ratios+=("$ratio")
    echo "pair $i: Keras $keras samples/s, ddp $ours samples/s, ratio $ratio"
done
"$venv/bin/python" -c "import statistics, sys; print('median ratio', statistics.median(float(r) for r in sys.argv[1:]))" "${ratios[@]}"
