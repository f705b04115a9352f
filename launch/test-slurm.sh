#!/usr/bin/env bash
# Tests the Slurm job scripts in launch/slurm/ for real on a one-node Slurm cluster started here.
#
#   launch/test-slurm.sh            (as root; installs slurm-wlm and munge with apt-get if missing)
#
# 1. starts munged (unless one already answers) and slurmctld + slurmd from a private slurm.conf
#    (SLURM_CONF, state, spool, logs and pid files in a temporary directory): this host's short
#    name, CPUs=2, one default partition; no systemd;
# 2. submits the three job scripts with tiny step limits from a scratch submit directory (links to
#    launch/, configs/ and the binary), exactly as `sbatch launch/slurm/<job>.sbatch` from the repo;
# 3. checks each job: state COMPLETED, exit code 0:0, metrics.jsonl ending in the "final" line,
#    a checkpoint;
# 4. resume: submits gan_mnist again into the first run's output directory with a larger step
#    budget (must log "resumed from ... at step 3" and end at step 6), and `scontrol requeue`s a
#    running cnn_cifar10 job after its first checkpoint (same job id, must resume);
# 5. prints a summary; on exit (also on failure) `scontrol shutdown`, stops the munged it started
#    and removes the temporary directory (KEEP=1 keeps it).
#
# Environment: DDP_BIN (default .build/release/ddp), DDP_DATA_DIR (default ../shared/data).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
start=$(date +%s)

bin=$(realpath "${DDP_BIN:-$root/.build/release/ddp}" 2>/dev/null) || true
[ -x "$bin" ] || { echo "test-slurm: no ddp binary at ${DDP_BIN:-$root/.build/release/ddp} (swift build -c release, or set DDP_BIN)" >&2; exit 2; }
export DDP_DATA_DIR=${DDP_DATA_DIR:-$root/../shared/data}
[ -d "$DDP_DATA_DIR" ] || { echo "test-slurm: data directory $DDP_DATA_DIR not found (set DDP_DATA_DIR)" >&2; exit 2; }
export DDP_DATA_DIR=$(realpath "$DDP_DATA_DIR")
[ "$(id -u)" = 0 ] || { echo "test-slurm: must run as root (starts slurmd/munged)" >&2; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "test-slurm: installing slurm-wlm and munge"
  (DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm munge || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm munge; }) >/dev/null \
    || { echo "test-slurm: apt-get install slurm-wlm munge failed" >&2; exit 2; }
fi

tmp=$(mktemp -d /tmp/ddp-slurm-test.XXXXXX)
host=$(hostname -s)
started_munge=0
failures=0
summary=()

cleanup() {
  status=$?
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ]; then
    scontrol shutdown >/dev/null 2>&1
    for f in "$tmp"/slurmctld.pid "$tmp"/slurmd.pid; do   # wait for both daemons to go
      p=$(cat "$f" 2>/dev/null) || continue
      for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
      kill -0 "$p" 2>/dev/null && kill "$p" 2>/dev/null
    done
  fi
  if [ "$started_munge" = 1 ]; then
    p=$(cat /run/munge/munged.pid 2>/dev/null) && kill "$p" 2>/dev/null
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "test-slurm: kept $tmp"; else rm -rf "$tmp"; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*"; failures=$((failures + 1)); summary+=("FAIL $*"); }
pass() { echo "ok: $*"; summary+=("ok   $*"); }

# --- munge -----------------------------------------------------------------------------------
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  echo "test-slurm: using the running munged"
else
  [ -s /etc/munge/munge.key ] || { mungekey --create >/dev/null 2>&1 || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null; }
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge && chown munge:munge /run/munge /var/log/munge /var/lib/munge
  runuser -u munge -- /usr/sbin/munged || { echo "test-slurm: munged failed to start" >&2; exit 1; }
  started_munge=1
  munge -n | unmunge >/dev/null || { echo "test-slurm: munge does not work" >&2; exit 1; }
fi

# --- slurm -----------------------------------------------------------------------------------
if scontrol ping 2>/dev/null | grep -q UP; then
  echo "test-slurm: a slurmctld is already running; stop it first (scontrol shutdown)" >&2; exit 2
fi
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/submit/runs" "$tmp/submit/.build/release"
export SLURM_CONF=$tmp/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=ddptest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=cred_expire=10
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=pmix
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ReturnToService=2
MinJobAge=600
NodeName=$host CPUs=2 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=20000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -i || { echo "test-slurm: slurmctld failed:"; tail -5 "$tmp/slurmctld.log"; exit 1; }
slurmd || { echo "test-slurm: slurmd failed:"; tail -5 "$tmp/slurmd.log"; exit 1; }
for _ in $(seq 60); do
  state=$(sinfo -h -n "$host" -o %T 2>/dev/null)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || { echo "test-slurm: node $host not idle (state '$state')"; tail -5 "$tmp/slurmctld.log"; exit 1; }
echo "test-slurm: node $host idle after $(( $(date +%s) - start )) s"

# --- scratch submit directory, laid out like the repository ----------------------------------
cd "$tmp/submit"
ln -s "$root/launch" launch && ln -s "$root/configs" configs && ln -s "$bin" .build/release/ddp

cnn_tiny=(--set training.max_steps=5 --set data.train_limit=256 --set data.test_limit=64 --set training.batch_size=16)
gan_tiny=(--set training.batch_size=16)
lm_tiny=(--set data.sequence_length=32 --set data.validation_fraction=0.005 --set model.embed_dim=32
  --set model.num_heads=2 --set model.key_dim=16 --set model.ff_dim=64 --set model.num_blocks=1
  --set training.batch_size=4 --set training.max_steps=3 --set schedule.warmup_steps=1 --set schedule.decay_steps=10)

submit() { sbatch --parsable "$@" | cut -d';' -f1; }
field() { scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
wait_job() {  # wait_job ID TIMEOUT_S -> final state
  local t=0 s
  while :; do
    s=$(field "$1" JobState)
    case "$s" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED) echo "$s"; return ;; esac
    [ "$t" -ge "$2" ] && { echo "TIMEOUT_WAITING($s)"; return; }
    sleep 1; t=$((t + 1))
  done
}
check_job() {  # check_job ID NAME FINAL_STEP
  local id=$1 name=$2 step=$3 state code out=runs/$2-$1 log=runs/$2-$1.out
  state=$(wait_job "$id" 600); code=$(field "$id" ExitCode)
  local secs; secs=$(field "$id" RunTime)
  if [ "$state" != COMPLETED ] || [ "$code" != 0:0 ]; then
    fail "$name job $id: state $state exit $code"; echo "--- $log"; tail -20 "$log"; return 1
  fi
  local last; last=$(tail -n 1 "$out/metrics.jsonl" 2>/dev/null)
  if ! echo "$last" | grep -q '"event":"final"'; then fail "$name job $id: metrics.jsonl has no final line"; tail -20 "$log"; return 1; fi
  if [ -n "$step" ] && ! echo "$last" | grep -q "\"step\":$step[,}]"; then fail "$name job $id: final line is not at step $step: $last"; return 1; fi
  local ck; ck=$(ls "$out"/checkpoints/ckpt-*.safetensors 2>/dev/null | tail -n 1)
  [ -n "$ck" ] || { fail "$name job $id: no checkpoint in $out/checkpoints"; return 1; }
  pass "$name job $id: COMPLETED 0:0 in $secs, final line at step ${step:-?}, $(basename "$ck")"
}

# --- the three jobs (queued together; each takes both CPUs, so they run one after another) ---
t0=$(date +%s)
id_cnn=$(submit launch/slurm/cnn_cifar10.sbatch "${cnn_tiny[@]}")
id_lm=$(submit launch/slurm/transformer_shakespeare.sbatch "${lm_tiny[@]}")
id_gan=$(submit launch/slurm/gan_mnist.sbatch "${gan_tiny[@]}" --set training.max_steps=3)
echo "test-slurm: submitted cnn_cifar10 $id_cnn, transformer_shakespeare $id_lm, gan_mnist $id_gan"
check_job "$id_cnn" cnn_cifar10 5
check_job "$id_lm" transformer_shakespeare 3
check_job "$id_gan" gan_mnist 3
echo "test-slurm: three jobs done in $(( $(date +%s) - t0 )) s"

# --- resume by resubmitting into the same output directory -----------------------------------
t0=$(date +%s)
id_gan2=$(DDP_OUT=runs/gan_mnist-$id_gan submit launch/slurm/gan_mnist.sbatch "${gan_tiny[@]}" --set training.max_steps=6)
state=$(wait_job "$id_gan2" 600)
if [ "$state" = COMPLETED ] && grep -q "resumed from runs/gan_mnist-$id_gan/checkpoints/ckpt-000000003.safetensors at step 3" "runs/gan_mnist-$id_gan2.out" \
   && tail -n 1 "runs/gan_mnist-$id_gan/metrics.jsonl" | grep -q '"step":6[,}]'; then
  pass "gan_mnist resubmitted as $id_gan2 into runs/gan_mnist-$id_gan: resumed at step 3, final line at step 6 ($(( $(date +%s) - t0 )) s)"
else
  fail "gan_mnist resubmission $id_gan2: state $state"; tail -20 "runs/gan_mnist-$id_gan2.out"
fi

# --- resume after scontrol requeue (same job id, same output directory) -----------------------
t0=$(date +%s)
id_rq=$(submit launch/slurm/cnn_cifar10.sbatch --set training.max_steps=400 --set checkpoint.every_steps=20 \
  --set data.train_limit=2048 --set data.test_limit=64 --set training.batch_size=16)
out=runs/cnn_cifar10-$id_rq
for _ in $(seq 300); do ls "$out"/checkpoints/ckpt-*.safetensors >/dev/null 2>&1 && break; sleep 0.5; done
if ls "$out"/checkpoints/ckpt-*.safetensors >/dev/null 2>&1; then
  scontrol requeue "$id_rq"
  echo "test-slurm: requeued $id_rq after $(basename "$(ls "$out"/checkpoints/ckpt-*.safetensors | head -n 1)")"
  # Slurm holds a requeued job back for cred_expire + 1 s (11 s with this slurm.conf): its old
  # credential is revoked, and a relaunch within the same second would be refused.
  for _ in $(seq 20); do [ "$(field "$id_rq" JobState)" = PENDING ] && break; sleep 0.5; done
  begin=$(field "$id_rq" StartTime)
  echo "test-slurm: requeued job $id_rq: $(field "$id_rq" JobState), Restarts=$(field "$id_rq" Restarts), SubmitTime=$(field "$id_rq" SubmitTime), StartTime=$begin"
  # Once that time has passed, the scheduler may still take up to a minute to look at the job;
  # updating its start time makes it look now.
  b=$(date -d "$begin" +%s 2>/dev/null) && while [ "$(date +%s)" -le "$b" ]; do sleep 0.5; done
  scontrol update JobId="$id_rq" StartTime=now >/dev/null 2>&1
  state=$(wait_job "$id_rq" 900); restarts=$(field "$id_rq" Restarts)
  if [ "$state" = COMPLETED ] && [ "${restarts:-0}" -ge 1 ] && grep -q "resumed from $out/checkpoints/ckpt-" "$out.out" \
     && tail -n 1 "$out/metrics.jsonl" | grep -q '"step":400[,}]'; then
    pass "cnn_cifar10 $id_rq: scontrol requeue (restarts $restarts), $(grep -o 'resumed from .* at step [0-9]*' "$out.out" | head -n 1), final at step 400 ($(( $(date +%s) - t0 )) s)"
  else
    fail "cnn_cifar10 requeue $id_rq: state $state restarts $restarts reason $(field "$id_rq" Reason)"; tail -20 "$out.out"
    grep -h "JobId=$id_rq\|job $id_rq\|\[$id_rq\." "$tmp"/slurmctld.log "$tmp"/slurmd.log | tail -20
  fi
else
  fail "cnn_cifar10 $id_rq: no checkpoint appeared to requeue after"; tail -20 "$out.out"
fi

echo
echo "== test-slurm summary ($(( $(date +%s) - start )) s) =="
printf '%s\n' "${summary[@]}"
[ "$failures" = 0 ] && echo "all passed" || echo "$failures failed"
[ "$failures" = 0 ]
