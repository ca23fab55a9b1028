#!/bin/bash
# sweep.sh -- one whole-node Slurm job: pimc-omp --sweep pow2, the same throws on 1, 2, 4, ... threads
# up to the node's CPUs, every run a row of one CSV. The one-job alternative to slurm/scaling.sh: no
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
#   PIMC          the pimc-omp binary. Default: build/pimc-omp under the submit directory if it is
#                 there, else pimc-omp on PATH. A relative path is taken from the submit directory.
#   PIMC_CSV      the CSV file. Default: results/sweep-JOBID.csv under the submit directory, one file
#                 per sweep so that bench/table and bench/plot show this sweep alone.
#   PIMC_MODULES  environment modules to load first, e.g. "gcc openmpi" (when `module` exists).
#
# Threads, time limit and exit status as in slurm/pimc.sh (kept self-contained: Slurm runs a copy of
# the script, which cannot source files next to it): OMP_NUM_THREADS = the job's CPUs,
# OMP_PROC_BIND=close, OMP_PLACES=cores; on --signal=B:USR1@60 pimc-omp gets one SIGTERM through the
# job step and records the run in progress as status=partial.
#
#SBATCH --job-name=pimc-sweep
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --exclusive
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%j.out
#SBATCH --signal=B:USR1@60

set -uo pipefail

# Installed first, so that an early signal is never lost: until srun runs it only sets a flag.
# USR1 is Slurm's warning (--signal): pimc-omp gets one SIGTERM, through the job step, since srun
# answers SIGTERM by killing its tasks outright. SIGTERM to this shell means Slurm is ending the job
# (time limit reached, scancel) and signals pimc-omp itself; a second SIGTERM from here could cut
# short its writing of the partial row, so none is sent.
stop_signal=
srun_pid=
# shellcheck disable=SC2317 # reached through the traps below
on_signal() {
    local now
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    if [[ $1 == TERM ]]; then
        printf 'sweep.sh: SIGTERM at %s: Slurm is ending the job (time limit or scancel)\n' "$now"
        stop_signal=${stop_signal:-TERM}
        return 0
    fi
    [[ -z $stop_signal ]] || return 0
    stop_signal=$1
    printf 'sweep.sh: SIG%s at %s (time limit near): asking pimc-omp to stop and record a partial result\n' \
        "$1" "$now"
    [[ -n $srun_pid ]] || return 0
    scancel --signal=TERM "$SLURM_JOB_ID" 2>/dev/null || kill -TERM "$srun_pid" 2>/dev/null
}
trap 'on_signal USR1' USR1
trap 'on_signal TERM' TERM

fail() { printf 'sweep.sh: %s\n' "$*" >&2; exit 2; }

[[ -n ${SLURM_JOB_ID:-} ]] ||
    fail "not inside a Slurm job; submit it: sbatch [-A ACCOUNT] [-p PARTITION] slurm/sweep.sh [THROWS]"
submit_dir=${SLURM_SUBMIT_DIR:-$PWD}

if [[ -n ${PIMC_MODULES:-} ]]; then
    if type module >/dev/null 2>&1; then
        read -ra modules <<<"$PIMC_MODULES"
        set +u # module implementations read unset variables
        module load "${modules[@]}" || fail "module load ${modules[*]} failed"
        set -u
    else
        printf 'sweep.sh: warning: PIMC_MODULES="%s" set but no module command here; not loaded\n' \
            "$PIMC_MODULES" >&2
    fi
fi

pimc=${PIMC:-}
if [[ -z $pimc ]]; then
    if [[ -x $submit_dir/build/pimc-omp ]]; then
        pimc=$submit_dir/build/pimc-omp
    else
        pimc=$(command -v pimc-omp) ||
            fail "no pimc-omp: not in $submit_dir/build/ nor on PATH; set PIMC=/path/to/pimc-omp"
    fi
elif [[ $pimc != */* ]]; then
    pimc=$(command -v -- "$pimc") || fail "PIMC=$PIMC: not found on PATH"
elif [[ $pimc != /* ]]; then
    pimc=$submit_dir/$pimc
fi
[[ -f $pimc && -x $pimc ]] || fail "PIMC=$pimc: not an executable file"

csv=${PIMC_CSV:-results/sweep-$SLURM_JOB_ID.csv}
[[ $csv == /* ]] || csv=$submit_dir/$csv
mkdir -p -- "$(dirname -- "$csv")" || fail "cannot create the directory of PIMC_CSV=$csv"

# The whole node (--exclusive): all its CPUs, unless -c asked for a number.
cpus=${SLURM_CPUS_PER_TASK:-${SLURM_CPUS_ON_NODE:-1}}
export OMP_NUM_THREADS=$cpus OMP_PROC_BIND=close OMP_PLACES=cores

row() { printf '%-17s %s\n' "$1" "$2"; }
printf '== sweep.sh: job %s started %s\n' "$SLURM_JOB_ID" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
row 'job id' "$SLURM_JOB_ID"
row 'job name' "${SLURM_JOB_NAME:-}"
row 'account' "${SLURM_JOB_ACCOUNT:-(none)}"
row 'partition' "${SLURM_JOB_PARTITION:-}"
row 'nodes' "${SLURM_JOB_NODELIST:-$(hostname)}"
row 'time limit' "$(squeue -h -j "$SLURM_JOB_ID" -o %l 2>/dev/null || echo '?')"
row 'cpus' "$cpus"
row 'submit dir' "$submit_dir"
row 'binary' "$pimc"
# pimc-omp --version: "pimc-omp VERSION" then "key: value" lines (compiler, OpenMP, kernels).
while IFS= read -r line; do
    if [[ $line == *': '* ]]; then row "${line%%: *}" "${line#*: }"; else row 'version' "$line"; fi
done < <("$pimc" --version 2>&1 || printf 'pimc-omp --version failed\n')
row 'modules' "${PIMC_MODULES:-(none)}"
row 'OMP_NUM_THREADS' "$OMP_NUM_THREADS"
row 'OMP_PROC_BIND' "$OMP_PROC_BIND"
row 'OMP_PLACES' "$OMP_PLACES"
row 'csv' "$csv"
cmd=(srun --ntasks=1 --cpus-per-task="$cpus" "$pimc" --sweep pow2 --csv "$csv" "$@")
row 'command' "${cmd[*]}"
printf '== pimc-omp\n'

if [[ -n $stop_signal ]]; then
    printf 'sweep.sh: SIG%s arrived before pimc-omp started; nothing run\n' "$stop_signal"
    exit 143
fi
"${cmd[@]}" &
srun_pid=$!
while :; do
    wait "$srun_pid"
    status=$?
    # A trapped signal makes wait return early (status > 128) while srun still runs: wait again.
    if ((status > 128)) && kill -0 "$srun_pid" 2>/dev/null; then continue; fi
    break
done

printf '== sweep.sh: job %s: pimc-omp exited with status %d at %s\n' \
    "$SLURM_JOB_ID" "$status" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
if [[ -n $stop_signal ]]; then
    # Say what is in the CSV, not what should be: the last column of a row is its slurm_job_id.
    if grep -q ",partial,.*,$SLURM_JOB_ID\$" "$csv" 2>/dev/null; then
        printf 'sweep.sh: stopped early (SIG%s); %s has this job'"'"'s status=partial row\n' "$stop_signal" "$csv"
    else
        printf 'sweep.sh: stopped early (SIG%s); no partial row of this job in %s\n' "$stop_signal" "$csv"
    fi
fi
printf 'table/figure: bench/table %s; bench/plot %s\n' "$csv" "$csv"
exit "$status"
