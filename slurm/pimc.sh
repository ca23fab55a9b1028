#!/bin/bash
# pimc.sh -- run pimc-omp as one Slurm job: one node, one task, --cpus-per-task OpenMP threads.
#
#   sbatch [-A ACCOUNT] [-p PARTITION] [-t TIME] [-c CPUS] slurm/pimc.sh [THROWS] [PIMC-OMP OPTION...]
#   e.g.  sbatch -A myacct -p standard -c 8 -t 00:20:00 slurm/pimc.sh 1e10
#
# Site settings are not baked in: account, partition, QOS and time come from the sbatch command line,
# which overrides the #SBATCH defaults below. The arguments after the script name go to pimc-omp
# (THROWS and options, see pimc-omp --help). The job appends its result to a CSV file and writes the
# report to slurm-JOBID.out in the submit directory, headed by the job's context (job id, node, CPUs,
# binary and version, OpenMP settings).
#
# Environment (sbatch hands your environment to the job, so set these before submitting):
#   PIMC          the pimc-omp binary. Default: the one installed with this script (meson install:
#                 PREFIX/bin/pimc-omp), else build/pimc-omp under the submit directory, else
#                 $PIMC_OMP_ROOT/bin/pimc-omp (module load pimc-omp), else pimc-omp on PATH. A
#                 relative path is taken from the submit directory.
#   PIMC_CSV      the CSV file rows are appended to. Default: results/slurm-runs.csv under the submit
#                 directory. pimc-omp locks it, so many jobs may share one file.
#   PIMC_MODULES  environment modules to load first, e.g. PIMC_MODULES="gcc openmpi" runs
#                 `module load gcc openmpi` (when the cluster has the `module` command).
#   PIMC_CHECKPOINT  a long run that outlives its time limit: the checkpoint file (pimc-omp
#                 --checkpoint), or 1 for pimc-JOBID.checkpoint.json next to the CSV. When the
#                 time-limit warning stops the run, the job submits its successor, the same script
#                 with the same arguments, -c, -t, -J, -p and -A, after it ends
#                 (--dependency=afterany), with PIMC_CHECKPOINT naming the same file; the successor
#                 throws only what the file lacks. The chain ends with the run, with one
#                 status=complete row of the whole run's hits (each stopped segment adds a partial
#                 row). PIMC_CHECKPOINT_INTERVAL: seconds between saves (default 60). A chained
#                 successor rather than --requeue: each segment keeps its own job id and output file.
#
# Threads: OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK, OMP_PROC_BIND=close, OMP_PLACES=cores -- one thread
# per allocated core, kept there. srun gets --cpus-per-task explicitly: from Slurm 22.05 on, srun no
# longer inherits it from sbatch, and a binding cluster would squeeze every thread onto one CPU.
# Where nodes have hyperthreads, a Slurm "CPU" is a hardware thread: add --hint=nomultithread to the
# sbatch line to get -c whole cores, one thread each.
#
# Time limit: --signal=B:USR1@60 has Slurm send this script SIGUSR1 about a minute before the limit
# (Slurm checks limits only every ~30 s: it comes early or late by up to that). The script then sends
# pimc-omp one SIGTERM, which makes it print and append the result of the throws done so far as a row
# with status=partial and exit 143; the job ends FAILED 143:0 before the limit. The SIGTERM goes
# through `scancel --signal=TERM` to the job step, as srun answers SIGTERM by killing its tasks
# outright -- hence Slurm's "STEP ... CANCELLED" line in the output. To change the lead time, keep
# USR1: sbatch --signal=B:USR1@300 ... A job that reaches its limit without that warning is killed
# by Slurm (TIMEOUT), most likely without a partial row. The partial row is a safety net: ask -t
# with room for the run.
#
# Shared code: the script sources slurm/job-common.sh (what pimc.sh, sweep.sh and hybrid.sh have in
# common). Slurm runs a copy of the script, so the job finds that file next to the script you
# submitted (through `scontrol show job`), else in slurm/ of the submit directory: submit the script
# of a checkout, or keep job-common.sh next to a copy.
#
# Exit status: pimc-omp's (0 ok, 2 bad usage, 3 verification failed, 4 CSV not writable, 143 stopped
# by SIGTERM with a partial row written); 2 when not run inside a Slurm job, no binary is found, or
# slurm/job-common.sh is not found.
#
#SBATCH --job-name=pimc
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=4
#SBATCH --time=00:30:00
#SBATCH --output=slurm-%j.out
#SBATCH --signal=B:USR1@60

set -uo pipefail
job_script=pimc.sh

# The shared part: job-common.sh in the checkout's slurm/ directory. sbatch runs a copy of this script
# in slurmd's spool directory, so it is looked for next to the script the job was submitted as --
# scontrol's Command=: the path given to sbatch (absolute, or from the submit directory), then the
# arguments -- or, run outside a job, next to this file; then in $SLURM_SUBMIT_DIR/slurm. Signals
# that come before it sets the traps are kept for it.
early_signals= && trap 'early_signals+=" USR1"' USR1 && trap 'early_signals+=" TERM"' TERM
submitted=${BASH_SOURCE[0]}
[[ -z ${SLURM_JOB_ID:-} ]] || submitted=$(scontrol show job "$SLURM_JOB_ID" 2>/dev/null | sed -n 's/^ *Command=//p')
slurm_dir=${submitted%" $*"}
[[ $slurm_dir == /* ]] || slurm_dir=${SLURM_SUBMIT_DIR:-$PWD}/$slurm_dir
slurm_dir=$(dirname -- "$(readlink -f -- "$slurm_dir")") # a symlinked script: the checkout it is in
[[ -f $slurm_dir/job-common.sh ]] || slurm_dir=${SLURM_SUBMIT_DIR:-$PWD}/slurm
if [[ ! -f $slurm_dir/job-common.sh ]]; then
    printf '%s: cannot find job-common.sh: not next to the submitted script (Command=%s), nor in %s; %s\n' \
        "$job_script" "$submitted" "$slurm_dir" "submit the job script of a pimc-omp checkout, or copy job-common.sh next to it" >&2
    exit 2
fi
# shellcheck source=SCRIPTDIR/job-common.sh
source "$slurm_dir/job-common.sh"

start_job "sbatch [-A ACCOUNT] [-p PARTITION] [-c CPUS] slurm/pimc.sh [THROWS]"
use_csv results/slurm-runs.csv
cpus=${SLURM_CPUS_PER_TASK:-}
if [[ -z $cpus ]]; then
    cpus=1
    printf 'pimc.sh: warning: SLURM_CPUS_PER_TASK not set (no -c in this allocation); using 1 thread\n' >&2
fi
set_threads "$cpus"
use_checkpoint
cmd=(srun --ntasks=1 --cpus-per-task="$cpus" "$pimc" --csv "$csv")
cmd+=("${checkpoint_options[@]}" "$@")

print_context_start
row 'time limit' "$(time_limit)"
row 'cpus per task' "$cpus"
[[ -z $checkpoint ]] || row checkpoint "$checkpoint"
print_context_binary
print_context_run "${cmd[@]}"

run_step "${cmd[@]}"
# Only after a segment that ran: a limit too short to start in would otherwise chain jobs forever.
continue_if_stopped "$@"
exit "$status"
