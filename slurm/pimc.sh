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
#   PIMC          the pimc-omp binary. Default: build/pimc-omp under the submit directory if it is
#                 there, else pimc-omp on PATH. A relative path is taken from the submit directory.
#   PIMC_CSV      the CSV file rows are appended to. Default: results/slurm-runs.csv under the submit
#                 directory. pimc-omp locks it, so many jobs may share one file.
#   PIMC_MODULES  environment modules to load first, e.g. PIMC_MODULES="gcc openmpi" runs
#                 `module load gcc openmpi` (when the cluster has the `module` command).
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
# Exit status: pimc-omp's (0 ok, 2 bad usage, 3 verification failed, 4 CSV not writable, 143 stopped
# by SIGTERM with a partial row written); 2 when not run inside a Slurm job or no binary is found.
#
#SBATCH --job-name=pimc
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=4
#SBATCH --time=00:30:00
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
        printf 'pimc.sh: SIGTERM at %s: Slurm is ending the job (time limit or scancel)\n' "$now"
        stop_signal=${stop_signal:-TERM}
        return 0
    fi
    [[ -z $stop_signal ]] || return 0
    stop_signal=$1
    printf 'pimc.sh: SIG%s at %s (time limit near): asking pimc-omp to stop and record a partial result\n' \
        "$1" "$now"
    [[ -n $srun_pid ]] || return 0
    scancel --signal=TERM "$SLURM_JOB_ID" 2>/dev/null || kill -TERM "$srun_pid" 2>/dev/null
}
trap 'on_signal USR1' USR1
trap 'on_signal TERM' TERM

fail() { printf 'pimc.sh: %s\n' "$*" >&2; exit 2; }

[[ -n ${SLURM_JOB_ID:-} ]] ||
    fail "not inside a Slurm job; submit it: sbatch [-A ACCOUNT] [-p PARTITION] [-c CPUS] slurm/pimc.sh [THROWS]"
submit_dir=${SLURM_SUBMIT_DIR:-$PWD}

if [[ -n ${PIMC_MODULES:-} ]]; then
    if type module >/dev/null 2>&1; then
        read -ra modules <<<"$PIMC_MODULES"
        set +u # module implementations read unset variables
        module load "${modules[@]}" || fail "module load ${modules[*]} failed"
        set -u
    else
        printf 'pimc.sh: warning: PIMC_MODULES="%s" set but no module command here; not loaded\n' \
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

csv=${PIMC_CSV:-results/slurm-runs.csv}
[[ $csv == /* ]] || csv=$submit_dir/$csv
mkdir -p -- "$(dirname -- "$csv")" || fail "cannot create the directory of PIMC_CSV=$csv"

cpus=${SLURM_CPUS_PER_TASK:-}
if [[ -z $cpus ]]; then
    cpus=1
    printf 'pimc.sh: warning: SLURM_CPUS_PER_TASK not set (no -c in this allocation); using 1 thread\n' >&2
fi
export OMP_NUM_THREADS=$cpus OMP_PROC_BIND=close OMP_PLACES=cores

row() { printf '%-17s %s\n' "$1" "$2"; }
printf '== pimc.sh: job %s started %s\n' "$SLURM_JOB_ID" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
row 'job id' "$SLURM_JOB_ID"
row 'job name' "${SLURM_JOB_NAME:-}"
row 'account' "${SLURM_JOB_ACCOUNT:-(none)}"
row 'partition' "${SLURM_JOB_PARTITION:-}"
row 'nodes' "${SLURM_JOB_NODELIST:-$(hostname)}"
row 'time limit' "$(squeue -h -j "$SLURM_JOB_ID" -o %l 2>/dev/null || echo '?')"
row 'cpus per task' "$cpus"
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
cmd=(srun --ntasks=1 --cpus-per-task="$cpus" "$pimc" --csv "$csv" "$@")
row 'command' "${cmd[*]}"
printf '== pimc-omp\n'

if [[ -n $stop_signal ]]; then
    printf 'pimc.sh: SIG%s arrived before pimc-omp started; nothing run\n' "$stop_signal"
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

printf '== pimc.sh: job %s: pimc-omp exited with status %d at %s\n' \
    "$SLURM_JOB_ID" "$status" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
if [[ -n $stop_signal ]]; then
    # Say what is in the CSV, not what should be: the last column of a row is its slurm_job_id.
    if grep -q ",partial,.*,$SLURM_JOB_ID\$" "$csv" 2>/dev/null; then
        printf 'pimc.sh: stopped early (SIG%s); %s has this job'"'"'s status=partial row\n' "$stop_signal" "$csv"
    else
        printf 'pimc.sh: stopped early (SIG%s); no partial row of this job in %s\n' "$stop_signal" "$csv"
    fi
fi
exit "$status"
