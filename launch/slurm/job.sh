#!/usr/bin/env bash
# Shared body of the Slurm job scripts in launch/slurm/: sourced as
#   source launch/slurm/job.sh CONFIG [ddp train options...]
# from a batch script whose working directory is the repository (sbatch's default: the directory
# sbatch was run in, $SLURM_SUBMIT_DIR).
#
# - output directory: $DDP_OUT if set, else runs/<job name>-<job id>. With --requeue the job id
#   stays the same, so a requeued job finds its own output directory again;
# - resumes from the newest checkpoints/ckpt-*.safetensors in that directory when there is one
#   (the highest step), unless the options already contain --resume;
# - one OpenBLAS thread pool of $SLURM_CPUS_PER_TASK threads per rank, no Swift backtracer
#   (a crashing rank exits at once), plain progress lines (the log is a file);
# - binary: $DDP_BIN, else .build/release/ddp.
set -euo pipefail

config=${1:?"job.sh: missing CONFIG"}; shift

cd "${DDP_ROOT:-${SLURM_SUBMIT_DIR:-.}}"
bin=${DDP_BIN:-.build/release/ddp}
[ -x "$bin" ] || { echo "job.sh: $bin not found or not executable: build it with 'swift build -c release' (or set DDP_BIN)" >&2; exit 2; }
[ -f "$config" ] || { echo "job.sh: config $config not found (working directory $(pwd))" >&2; exit 2; }

export OPENBLAS_NUM_THREADS=${SLURM_CPUS_PER_TASK:-${OPENBLAS_NUM_THREADS:-1}}
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
export DDP_PROGRESS=${DDP_PROGRESS:-lines}

out=${DDP_OUT:-runs/${SLURM_JOB_NAME:-ddp}-${SLURM_JOB_ID:-local}}
mkdir -p "$out"

resume=()
explicit=0
for a in "$@"; do [ "$a" = --resume ] && explicit=1; done
if [ "$explicit" = 0 ]; then
  # ckpt-NNNNNNNNN: the step is zero-padded, but sort numerically on it anyway.
  latest=$(find "$out/checkpoints" -maxdepth 1 -name 'ckpt-*.safetensors' 2>/dev/null \
    | sed -n 's/.*ckpt-\([0-9]*\)\.safetensors$/\1 &/p' | sort -n -k1,1 | tail -n 1 | cut -d' ' -f2- || true)
  if [ -n "$latest" ]; then
    echo "job.sh: resuming from $latest (restart ${SLURM_RESTART_COUNT:-0})"
    resume=(--resume "$latest")
  fi
fi

# --kill-on-bad-exit: a rank that dies ends the whole step at once (mpirun does this by itself);
# otherwise the others would wait in a collective until the stall watchdog (parallel.stall_timeout_s).
step=(srun --mpi=pmix --kill-on-bad-exit=1)
[ -n "${SLURM_CPUS_PER_TASK:-}" ] && step+=(--cpus-per-task="$SLURM_CPUS_PER_TASK")
cmd=("${step[@]}" "$bin" train "$config" --out "$out" "${resume[@]}" "$@")
echo "job.sh: job ${SLURM_JOB_ID:-?} on ${SLURM_JOB_NODELIST:-?}: ${SLURM_NTASKS:-?} ranks x $OPENBLAS_NUM_THREADS threads, output $out"
echo "+ ${cmd[*]}"
"${cmd[@]}"
