#!/usr/bin/env bash
# Two-"host" data-parallel training over Open MPI's TCP transport, on one machine.
#
#   launch/test-multihost.sh        (as root: creates network namespaces and edits /etc/hosts)
#
# Two network namespaces ddp-h1 and ddp-h2 are the hosts, joined by a veth pair
# (ddp-v1 10.77.0.1/24 in ddp-h1, ddp-v2 10.77.0.2/24 in ddp-h2). /etc/hosts gets
# "10.77.0.1 ddp-h1" and "10.77.0.2 ddp-h2" (marked lines, removed again on exit).
# mpirun runs inside ddp-h1, so its daemon address (10.77.0.1) is reachable from ddp-h2; the
# launch agent (instead of ssh) is a small script that maps the host name to `ip netns exec`.
# The shared-memory transport is left out (--mca btl tcp,self), so the two ranks can only talk
# over TCP on the veth pair.
#
# Trains configs/cnn_cifar10.json for a few steps with one rank per host, then the same settings
# in-process (`ddp train --ranks 2`, bit-identical to mpirun by design), and compares the final
# checkpoints byte for byte, plus the loss lines of metrics.jsonl. Cleans up on exit (trap).
#
# Environment: DDP_BIN (default .build/release/ddp), DDP_DATA_DIR (default ../shared/data),
# STEPS (default 5), KEEP=1 keeps the temporary directory.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
start=$(date +%s)

bin=$(realpath "${DDP_BIN:-$root/.build/release/ddp}" 2>/dev/null) || true
[ -x "$bin" ] || { echo "test-multihost: no ddp binary at ${DDP_BIN:-$root/.build/release/ddp} (swift build -c release, or set DDP_BIN)" >&2; exit 2; }
export DDP_DATA_DIR=${DDP_DATA_DIR:-$root/../shared/data}
[ -d "$DDP_DATA_DIR" ] || { echo "test-multihost: data directory $DDP_DATA_DIR not found (set DDP_DATA_DIR)" >&2; exit 2; }
export DDP_DATA_DIR=$(realpath "$DDP_DATA_DIR")
[ "$(id -u)" = 0 ] || { echo "test-multihost: must run as root (ip netns, /etc/hosts)" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "test-multihost: mpirun not found (apt-get install openmpi-bin)" >&2; exit 2; }
steps=${STEPS:-5}

ns1=ddp-h1; ns2=ddp-h2; if1=ddp-v1; if2=ddp-v2; ip1=10.77.0.1; ip2=10.77.0.2; net=10.77.0.0/24
marker="# ddp-test-multihost"
tmp=$(mktemp -d /tmp/ddp-multihost-test.XXXXXX)

cleanup() {
  status=$?
  ip netns pids "$ns1" 2>/dev/null | xargs -r kill 2>/dev/null   # leftovers of a failed run
  ip netns pids "$ns2" 2>/dev/null | xargs -r kill 2>/dev/null
  ip netns del "$ns1" 2>/dev/null       # deleting a namespace deletes its end of the veth pair,
  ip netns del "$ns2" 2>/dev/null       # and with it the peer
  ip link del "$if1" 2>/dev/null
  if grep -q "$marker" /etc/hosts; then
    # /etc/hosts may be a bind mount: rewrite it in place rather than replacing the file.
    grep -v "$marker" /etc/hosts > "$tmp/hosts" && cat "$tmp/hosts" > /etc/hosts
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "test-multihost: kept $tmp"; else rm -rf "$tmp"; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A previous run killed hard may have left these behind.
ip netns del "$ns1" 2>/dev/null; ip netns del "$ns2" 2>/dev/null; ip link del "$if1" 2>/dev/null
if grep -q "$marker" /etc/hosts; then grep -v "$marker" /etc/hosts > "$tmp/hosts" && cat "$tmp/hosts" > /etc/hosts; fi

step() { echo "+ $*"; "$@" || { echo "test-multihost: failed: $*" >&2; exit 1; }; }
step ip netns add "$ns1"
step ip netns add "$ns2"
step ip link add "$if1" type veth peer name "$if2"
step ip link set "$if1" netns "$ns1"
step ip link set "$if2" netns "$ns2"
step ip -n "$ns1" addr add "$ip1/24" dev "$if1"
step ip -n "$ns2" addr add "$ip2/24" dev "$if2"
for n in "$ns1" "$ns2"; do step ip -n "$n" link set lo up; done
step ip -n "$ns1" link set "$if1" up
step ip -n "$ns2" link set "$if2" up
printf '%s %s %s\n%s %s %s\n' "$ip1" "$ns1" "$marker" "$ip2" "$ns2" "$marker" >> /etc/hosts

# The launch agent Open MPI calls instead of ssh: `agent HOST COMMAND...`.
cat > "$tmp/agent" <<AGENT
#!/bin/sh
host=\$1; shift
case "\$host" in
  $ns1|$ip1) ns=$ns1 ;;
  $ns2|$ip2) ns=$ns2 ;;
  *) echo "agent: unknown host \$host" >&2; exit 255 ;;
esac
echo "agent: \$host -> ip netns exec \$ns: \$*" >> "$tmp/agent.log"
exec ip netns exec "\$ns" /bin/sh -c "\$*"
AGENT
chmod +x "$tmp/agent"

tiny=(--set training.max_steps="$steps" --set data.train_limit=256 --set data.test_limit=64 --set training.batch_size=16)
export OPENBLAS_NUM_THREADS=1 SWIFT_BACKTRACE=enable=no DDP_PROGRESS=lines
export OMPI_MCA_orte_tmpdir_base=$tmp   # own session directory

bytes() { ip -n "$1" -s -j link show "$2" | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]; print(s["tx"]["bytes"], s["rx"]["bytes"])'; }
read -r tx0 rx0 < <(bytes "$ns1" "$if1")

cd "$root"
mpi=(ip netns exec "$ns1" mpirun --allow-run-as-root -np 2 --host "$ns1:1,$ns2:1"
  --mca plm_rsh_agent "$tmp/agent"
  --mca btl tcp,self --mca btl_tcp_if_include "$net" --mca oob_tcp_if_include "$net"
  -x OPENBLAS_NUM_THREADS -x SWIFT_BACKTRACE -x DDP_PROGRESS -x DDP_DATA_DIR
  "$bin" train configs/cnn_cifar10.json --out "$tmp/multihost" "${tiny[@]}")
echo "+ ${mpi[*]}"
t0=$(date +%s.%N)
timeout 300 "${mpi[@]}" > "$tmp/multihost.log" 2>&1; rc=$?
t_mpi=$(echo "$(date +%s.%N) - $t0" | bc)
sed 's/^/  | /' "$tmp/multihost.log"
[ "$rc" = 0 ] || { echo "FAIL: mpirun across the namespaces exited $rc"; exit 1; }
read -r tx1 rx1 < <(bytes "$ns1" "$if1")
echo "test-multihost: launch agent calls:"; sed 's/^/  | /' "$tmp/agent.log" | cut -c1-160

inproc=("$bin" train configs/cnn_cifar10.json --out "$tmp/inprocess" --ranks 2 "${tiny[@]}")
echo "+ ${inproc[*]}"
t0=$(date +%s.%N)
"${inproc[@]}" > "$tmp/inprocess.log" 2>&1 || { cat "$tmp/inprocess.log"; echo "FAIL: in-process run failed"; exit 1; }
t_in=$(echo "$(date +%s.%N) - $t0" | bc)

ckpt=$(printf 'ckpt-%09d.safetensors' "$steps")
failures=0
if cmp "$tmp/multihost/checkpoints/$ckpt" "$tmp/inprocess/checkpoints/$ckpt"; then
  echo "ok: $ckpt identical ($(stat -c %s "$tmp/multihost/checkpoints/$ckpt") bytes): 2 hosts over TCP == --ranks 2 in-process"
else
  echo "FAIL: $ckpt differs between the two-host run and the in-process run"; failures=$((failures + 1))
fi
# Same losses and metrics at every step (timings removed).
strip() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l); print({k: v for k, v in d.items() if not k.endswith(("_ms", "_seconds", "_per_sec"))})' "$1"; }
if diff <(strip "$tmp/multihost/metrics.jsonl") <(strip "$tmp/inprocess/metrics.jsonl") > "$tmp/metrics.diff"; then
  echo "ok: metrics.jsonl losses and metrics identical ($(wc -l < "$tmp/multihost/metrics.jsonl") lines)"
else
  echo "FAIL: metrics differ:"; head -20 "$tmp/metrics.diff"; failures=$((failures + 1))
fi
echo "ok: veth $if1 carried $(( (tx1 - tx0) / 1024 )) KiB out, $(( (rx1 - rx0) / 1024 )) KiB in during the two-host run"
printf 'test-multihost: two-host run %.1f s, in-process run %.1f s, whole test %d s\n' "$t_mpi" "$t_in" "$(( $(date +%s) - start ))"
[ "$failures" = 0 ] && echo "all passed" || echo "$failures failed"
[ "$failures" = 0 ]
