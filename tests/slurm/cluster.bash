# shellcheck shell=bash disable=SC2154 # output and status: set by bats' run
# tests/slurm/cluster.bash -- what the Slurm test files (slurm.bats: one node; multinode.bats: three)
# share: bringing a private cluster up and down around a file's tests, skipping without root or the
# programs (PIMC_SLURM_REQUIRED=1 makes that a failure), submitting jobs, waiting for them and
# reading their CSV. Loaded with `load cluster`.

# Usable CPUs, progress waits and rates measured here (tests/machine.bash).
# shellcheck source=SCRIPTDIR/../machine.bash
source "$(dirname "${BASH_SOURCE[0]}")/../machine.bash"

# The CSV columns of pimc-omp's contract, in order.
CSV_HEADER=timestamp,host,cpu_model,kernel,compiler,threads,throws,seed,hits,pi,abs_error,std_error,serial_s,parallel_s,speedup,efficiency,throws_per_s,z_score,throws_per_s_per_thread,status,throws_requested,mode,run,repeats,serial_min_s,serial_max_s,parallel_min_s,parallel_max_s,ranks,threads_per_rank,usable_cpus,oversubscribed,threads_source,openmp,omp_proc_bind,omp_places,omp_schedule,version,slurm_job_id,nodes,rng,segments,throws_resumed,mpi_library,cpu_signature,stopped_in,cores,hw_threads_per_core,packages,numa_nodes,cores_used,smt_shared,too_short

# start_test_cluster NODES -- the setup_file of a Slurm test file: a private cluster of NODES nodes
# (tests/slurm/slurm-up.sh; 1: this machine, more: n1..nN, each with its own host name) in a fresh
# directory under /tmp, where every job's output and CSV also go. Exports REPO, PIMC, TESTDIR,
# SLURM_CONF and SLURM_SKIP (why the tests skip, or empty).
start_test_cluster() {
    local nodes=$1
    REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    PIMC=${PIMC:-$REPO/build/pimc-omp}
    [[ $PIMC == /* ]] || PIMC=$PWD/$PIMC
    export REPO PIMC
    # Nothing of the caller's settings may leak into the jobs through sbatch's --export=ALL.
    unset PIMC_CSV PIMC_MODULES PIMC_CORES PIMC_SRUN_MPI SLURM_CPU_BIND OMP_NUM_THREADS OMP_PROC_BIND \
        OMP_PLACES

    # Without root or the Slurm and MUNGE programs the Slurm tests skip, saying why (bats 1.8 cannot
    # skip from setup_file: each test asks needs_slurm) -- or fail, with PIMC_SLURM_REQUIRED=1 (CI).
    local missing=() tool
    for tool in slurmctld slurmd sbatch srun squeue sinfo scancel scontrol munged mungekey munge \
        unmunge runuser setsid ss unshare python3; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    SLURM_SKIP=
    if [[ $EUID -ne 0 ]]; then
        SLURM_SKIP="a private Slurm needs root (slurmd runs jobs as their user)"
    elif ((${#missing[@]} > 0)); then
        SLURM_SKIP="no ${missing[*]}: install slurm-wlm, munge, iproute2, python3"
    fi
    export SLURM_SKIP
    if [[ -n $SLURM_SKIP ]]; then
        if [[ -n ${PIMC_SLURM_REQUIRED:-} ]]; then
            echo "PIMC_SLURM_REQUIRED is set, but $SLURM_SKIP" >&2
            return 1
        fi
        return 0
    fi

    TESTDIR=$(mktemp -d /tmp/pimc-slurm.XXXXXX)
    chmod 0755 "$TESTDIR" # the munge user must reach its socket inside
    export TESTDIR
    # PIMC_SLURM_OWNER: should bats itself be killed outright (a test timeout), a watchdog stops Slurm.
    local env_line
    env_line=$(PIMC_SLURM_NODES=$nodes PIMC_SLURM_OWNER=$BATS_ROOT_PID "$REPO/tests/slurm/slurm-up.sh" \
        "$TESTDIR/cluster") ||
        return 1
    eval "$env_line"
    export SLURM_CONF
}

# stop_test_cluster -- the teardown_file: stops the cluster by its pid files (slurm-down.sh) whatever
# the tests did, and removes its directory (PIMC_SLURM_KEEP=1 keeps it, with the daemons' logs).
stop_test_cluster() {
    [[ -n ${TESTDIR:-} ]] || return 0
    "$REPO/tests/slurm/slurm-down.sh" "$TESTDIR/cluster"
    if [[ -n ${PIMC_SLURM_KEEP:-} ]]; then
        echo "# kept $TESTDIR (logs in cluster/log)" >&3
    else
        rm -rf "$TESTDIR"
    fi
}

needs_slurm() {
    if [[ -n $SLURM_SKIP ]]; then skip "$SLURM_SKIP"; fi
}

# The binary under test must exist: fail (not skip) when it does not.
require_pimc() {
    if [[ ! -f $PIMC || ! -x $PIMC ]]; then
        echo "PIMC=$PIMC is not an executable file: build pimc-omp (meson compile -C build) or set PIMC" >&2
        return 1
    fi
}

# A fresh submit directory for one test; job output and default CSVs land there.
workdir() {
    mkdir -p "$TESTDIR/$1"
    cd "$TESTDIR/$1" || return 1
}

# csv_rows FILE COLUMN... -- check FILE is one header (the contract's, exactly) and whole rows (as
# many fields as header columns, RFC 4180 quoting), then print the given columns of each row.
csv_rows() {
    python3 - "$CSV_HEADER" "$@" <<'EOF'
import csv, sys
header, path, cols = sys.argv[1].split(","), sys.argv[2], sys.argv[3:]
with open(path, newline="") as f:
    rows = list(csv.reader(f))
if not rows or rows[0] != header:
    sys.exit(f"{path}: first line is not the contract's header: {rows[0] if rows else 'empty file'}")
for n, row in enumerate(rows[1:], start=2):
    if row == header:
        sys.exit(f"{path}:{n}: a second header")
    if len(row) != len(header):
        sys.exit(f"{path}:{n}: {len(row)} fields, not {len(header)}: {row}")
    print(" ".join(row[header.index(c)] for c in cols))
EOF
}

# check_rows FILE COLUMN... -- csv_rows, shown, and required to pass: output and lines hold the rows.
check_rows() {
    run csv_rows "$@"
    echo "$output"
    [ "$status" -eq 0 ]
}

# The CPUs a job's processes may run on: this machine's, as task/none binds nothing (nproc would
# answer OMP_NUM_THREADS instead, if set).
machine_cpus() { env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc; }

# job_state ID -- the job's state and exit code from the jobcomp/filetxt log, e.g. "COMPLETED 0:0".
job_state() {
    local i line
    for ((i = 0; i < 50; i++)); do
        line=$(grep "^JobId=$1 " "$TESTDIR/cluster/jobcomp.txt" 2>/dev/null) && break
        sleep 0.2
    done
    [[ -n $line ]] || { echo "job $1 has no jobcomp line" >&2; return 1; }
    sed -E 's/.* JobState=([A-Z_]+) .* ExitCode=([0-9:]+).*/\1 \2/' <<<"$line"
}

# wait_job ID SECONDS -- poll until the job has ended (faster than sbatch --wait's backoff).
wait_job() {
    local i state
    for ((i = 0; i < $2 * 2; i++)); do
        state=$(squeue -h -t all -j "$1" -o %T 2>/dev/null)
        case $state in PENDING | RUNNING | CONFIGURING | COMPLETING | SUSPENDED | "") ;; *) return 0 ;; esac
        sleep 0.5
    done
    echo "job $1 did not end within $2 s (state: ${state:-unknown})" >&2
    return 1
}

# submit EXIT COMMAND... -- run COMMAND, an `sbatch --parsable ...` (under env, for the job's
# environment), show what it printed and check that it exits EXIT (with --wait: the job script's exit
# status). Sets id, the job id, and out, its output file slurm-ID.out, which it shows once the job has
# ended (with --wait).
submit() {
    local want=$1
    shift
    run "$@"
    echo "$output"
    if [[ $status -ne $want ]]; then
        echo "exit status $status, not $want: $*" >&2
        return 1
    fi
    id=${output%%;*}
    [[ $id =~ ^[0-9]+$ ]] || { echo "no job id in sbatch's output" >&2; return 1; }
    out=slurm-$id.out
    [[ " $* " != *" --wait "* ]] || cat "$out"
}

# plain_hits THROWS [OPTION...] -- the hits of one single-process, one-thread run, outside Slurm.
plain_hits() {
    "$PIMC" -t 1 --no-serial --json "$@" | python3 -c 'import json, sys; print(json.load(sys.stdin)["hits"])'
}

# job_ranks ID -- the PIDs of job ID's pimc-omp processes on this machine (SLURM_JOB_ID=ID in their
# environment), one a line; read from /proc by bash alone.
job_ranks() {
    local file pid comm vars var
    for file in /proc/[0-9]*/comm; do
        { read -r comm <"$file"; } 2>/dev/null || continue
        [[ $comm == pimc-omp ]] || continue
        pid=${file#/proc/}
        pid=${pid%/comm}
        vars=()
        { mapfile -d '' -t vars <"/proc/$pid/environ"; } 2>/dev/null || continue
        for var in "${vars[@]}"; do
            [[ $var == "SLURM_JOB_ID=$1" ]] && { echo "$pid"; break; }
        done
    done
    return 0
}

# thrown PID... -- until each PID has used half a second of CPU time: past its start-up and its
# warm-up (at most 0.2 s of wall time, so of one thread's CPU time: pimc-omp's --warm-up default),
# then a quarter of a second or more of timed throws, so that a stop leaves whole blocks counted. The
# point to signal or kill a run at, where a wall time may pass on a loaded machine before it throws at
# all. Fails, saying so, when one has ended first.
thrown() {
    local pid
    for pid in "$@"; do
        wait_for_cpu "$pid" $((CLK_TCK / 2)) || { echo "process $pid ended before it had thrown" >&2; return 1; }
    done
}
