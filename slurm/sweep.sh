#!/bin/bash
# sweep.sh -- one whole-node Slurm job: pimc-omp --sweep pow2, the same throws on 1, 2, 4, ... threads
# up to the node's cores, then on all its hardware threads, every run a row of one CSV. The one-job alternative to slurm/scaling.sh: no
# queueing between the runs, all on the same node, but the whole node is held for all of them.
#
#   sbatch [-A ACCOUNT] [-p PARTITION] [-t TIME] slurm/sweep.sh [THROWS] [PIMC-OMP OPTION...]
#   e.g.  sbatch -A myacct -p standard -t 01:00:00 slurm/sweep.sh 1e10 --repeat 3
#         bench/table results/sweep-JOBID.csv; bench/plot results/sweep-JOBID.csv
#
# Site settings (account, partition, QOS, time) come from the sbatch command line. --exclusive gives
# the job every CPU of its node; the sweep's largest thread count is that CPU count (-c N on the sbatch
# line takes N CPUs instead). Arguments after the script name go to pimc-omp after --sweep pow2.
#
# Environment (sbatch hands your environment to the job):
#   PIMC          the pimc-omp binary. Default: the one installed with this script (meson install:
#                 PREFIX/bin/pimc-omp), else build/pimc-omp under the submit directory, else
#                 $PIMC_OMP_ROOT/bin/pimc-omp (module load pimc-omp), else pimc-omp on PATH. A
#                 relative path is taken from the submit directory.
#   PIMC_CSV      the CSV file. Default: results/sweep-JOBID.csv under the submit directory, one file
#                 per sweep so that bench/table and bench/plot show this sweep alone.
#   PIMC_MODULES  environment modules to load first, e.g. "gcc openmpi" (when `module` exists).
#
# Threads, time limit and exit status as in slurm/pimc.sh, whose code it shares (slurm/job-common.sh,
# found as pimc.sh says): OMP_NUM_THREADS = the job's CPUs, OMP_PROC_BIND=close, OMP_PLACES=cores; on
# --signal=B:USR1@60 pimc-omp gets one SIGTERM through the job step and records the run in progress
# as status=partial.
#
#SBATCH --job-name=pimc-sweep
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --exclusive
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%j.out
#SBATCH --signal=B:USR1@60

set -uo pipefail
job_script=sweep.sh

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

start_job "sbatch [-A ACCOUNT] [-p PARTITION] slurm/sweep.sh [THROWS]"
use_csv "results/sweep-$SLURM_JOB_ID.csv"
# The whole node (--exclusive): all its CPUs, unless -c asked for a number.
cpus=${SLURM_CPUS_PER_TASK:-${SLURM_CPUS_ON_NODE:-1}}
set_threads "$cpus"
cmd=(srun --ntasks=1 --cpus-per-task="$cpus" "$pimc" --sweep pow2 --csv "$csv" "$@")

print_context_start
row 'time limit' "$(time_limit)"
row 'cpus' "$cpus"
print_context_binary
print_context_run "${cmd[@]}"

run_step "${cmd[@]}"
printf 'table/figure: bench/table %s; bench/plot %s\n' "$csv" "$csv"
exit "$status"
