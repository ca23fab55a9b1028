# shellcheck shell=bash
# job-common.sh -- the part the job scripts slurm/pimc.sh, slurm/sweep.sh and slurm/hybrid.sh share,
# sourced by each: the time-limit signal handling, the checks and set-up before the run (inside a
# Slurm job, modules, the pimc-omp binary, the CSV, the OpenMP settings), the job-context header, and
# the run itself with the report of how it ended. One copy, so that the three cannot drift apart;
# each script keeps its #SBATCH defaults, its documentation and what is its own (the srun line,
# hybrid.sh's MPI and task-binding checks).
#
# Not a job script: sourcing it defines functions and two flags, and runs nothing. A job script
# cannot simply source it from its own directory -- sbatch runs a copy of the script in slurmd's
# spool directory -- so each finds it first (the lookup at its top), and sets before sourcing:
#   job_script     its name, for messages: "pimc.sh"
#   early_signals  the signals (" USR1", " TERM") that came before the traps here were set, in order
#
# A job script then calls, in this order:
#   start_job USAGE         traps; inside a job; modules; binary: sets submit_dir, pimc, pimc_version
#   use_csv DEFAULT         PIMC_CSV or DEFAULT, from the submit directory, its directory made: csv
#   use_checkpoint          PIMC_CHECKPOINT: sets checkpoint, and checkpoint_options for the srun line
#   set_threads CPUS        exports OMP_NUM_THREADS=CPUS, OMP_PROC_BIND=close, OMP_PLACES=cores
#   print_context_start     the header: its first line, job id, job name, account, partition, nodes
#   row NAME VALUE          a header line of the script's own (e.g. 'time limit' "$(time_limit)")
#   print_context_binary    submit dir, binary, pimc-omp --version's lines, modules
#   print_context_run CMD   the OpenMP settings, csv, the command, then "== pimc-omp"
#   run_step CMD            runs the command line CMD (srun, or with step_launcher=NAME set before, a
#                           library's launcher) and reports its end: sets status (with
#                           node_check_every=SECONDS set before, it also watches the nodes)
#   continue_if_stopped ARGS  a checkpointed run stopped by the time-limit warning: submits the rest
#                           as a successor job of the same script (needs slurm_dir, cpus)
# and exits with "$status". fail MESSAGE prints "SCRIPT: MESSAGE" and exits 2.

: "${job_script:?must be set by the job script that sources job-common.sh}"
stop_signal=
step_pid=
step_launcher=srun
node_check_every=

# USR1 is Slurm's warning (--signal=B:USR1@60): pimc-omp -- every rank of it under hybrid.sh -- gets
# one SIGTERM, through the job step, since srun answers SIGTERM by killing its tasks outright; a
# library's launcher (hybrid.sh's PIMC_LAUNCHER: step_launcher) gets SIGUSR1 itself, and hands it to
# every rank. Until the step runs it only sets a flag. SIGTERM to this shell means Slurm is ending the job (time limit
# reached, scancel) and signals pimc-omp itself; a second SIGTERM from here could cut short its
# (rank 0's) writing of the partial row, so none is sent.
# shellcheck disable=SC2317 # reached through the traps of start_job
on_signal() {
    local now
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    if [[ $1 == TERM ]]; then
        printf '%s: SIGTERM at %s: Slurm is ending the job (time limit or scancel)\n' "$job_script" "$now"
        stop_signal=${stop_signal:-TERM}
        return 0
    fi
    [[ -z $stop_signal ]] || return 0
    stop_signal=$1
    printf '%s: SIG%s at %s (time limit near): asking pimc-omp to stop and record a partial result\n' \
        "$job_script" "$1" "$now"
    [[ -n $step_pid ]] || return 0
    if [[ $step_launcher == srun ]]; then
        scancel --signal=TERM "$SLURM_JOB_ID" 2>/dev/null || kill -TERM "$step_pid" 2>/dev/null
    else
        # SIGUSR1, pimc-omp's other stop request: mpirun and mpiexec hand it to every rank, where
        # mpirun would answer SIGTERM by killing them before rank 0 has written the partial row.
        kill -USR1 "$step_pid" 2>/dev/null
    fi
}

fail() {
    printf '%s: %s\n' "$job_script" "$*" >&2
    exit 2
}

# start_job USAGE -- the first call: handles USR1 and TERM (those that came before, then those to
# come), fails with USAGE (how to submit the script) outside a Slurm job, loads PIMC_MODULES, finds
# the binary. Sets submit_dir, pimc and pimc_version (pimc-omp --version's output).
start_job() {
    trap 'on_signal USR1' USR1
    trap 'on_signal TERM' TERM
    local sig
    for sig in ${early_signals:-}; do on_signal "$sig"; done

    [[ -n ${SLURM_JOB_ID:-} ]] || fail "not inside a Slurm job; submit it: $1"
    submit_dir=${SLURM_SUBMIT_DIR:-$PWD}
    load_modules
    find_pimc
    # "pimc-omp VERSION" then "key: value" lines (compiler, OpenMP, MPI, kernels).
    pimc_version=$("$pimc" --version 2>&1 || printf 'pimc-omp --version failed\n')
}

# load_modules -- `module load $PIMC_MODULES` where the cluster has the `module` command.
load_modules() {
    [[ -n ${PIMC_MODULES:-} ]] || return 0
    if type module >/dev/null 2>&1; then
        local modules
        read -ra modules <<<"$PIMC_MODULES"
        set +u # module implementations read unset variables
        module load "${modules[@]}" || fail "module load ${modules[*]} failed"
        set -u
    else
        printf '%s: warning: PIMC_MODULES="%s" set but no module command here; not loaded\n' \
            "$job_script" "$PIMC_MODULES" >&2
    fi
}

# find_pimc -- the binary: PIMC (a name on PATH, or a path from the submit directory); else, for the
# scripts meson installed (PREFIX/share/pimc-omp/slurm: slurm_dir, set by the job script), the binary
# installed with them, PREFIX/bin/pimc-omp; else build/pimc-omp of the submit directory (a checkout's
# scripts); else $PIMC_OMP_ROOT/bin/pimc-omp (set by the pimc-omp module, for copies of the scripts);
# else pimc-omp on PATH. Sets pimc.
find_pimc() {
    pimc=${PIMC:-}
    local installed=
    [[ ${slurm_dir:-} != */share/pimc-omp/slurm ]] || installed=${slurm_dir%/share/pimc-omp/slurm}/bin/pimc-omp
    if [[ -z $pimc ]]; then
        if [[ -n $installed && -x $installed ]]; then
            pimc=$installed
        elif [[ -x $submit_dir/build/pimc-omp ]]; then
            pimc=$submit_dir/build/pimc-omp
        elif [[ -n ${PIMC_OMP_ROOT:-} && -x $PIMC_OMP_ROOT/bin/pimc-omp ]]; then
            pimc=$PIMC_OMP_ROOT/bin/pimc-omp
        else
            pimc=$(command -v pimc-omp) ||
                fail "no pimc-omp: not in $submit_dir/build/, \$PIMC_OMP_ROOT/bin/ (module load pimc-omp) nor on PATH; set PIMC=/path/to/pimc-omp"
        fi
    elif [[ $pimc != */* ]]; then
        pimc=$(command -v -- "$pimc") || fail "PIMC=$PIMC: not found on PATH"
    elif [[ $pimc != /* ]]; then
        pimc=$submit_dir/$pimc
    fi
    [[ -f $pimc && -x $pimc ]] || fail "PIMC=$pimc: not an executable file"
}

# use_csv DEFAULT -- the CSV the rows go to: PIMC_CSV, else DEFAULT; a relative one is taken from the
# submit directory. Makes its directory. Sets csv.
use_csv() {
    csv=${PIMC_CSV:-$1}
    [[ $csv == /* ]] || csv=$submit_dir/$csv
    mkdir -p -- "$(dirname -- "$csv")" || fail "cannot create the directory of PIMC_CSV=$csv"
}

# set_threads CPUS -- one OpenMP thread per allocated CPU, kept there.
set_threads() {
    export OMP_NUM_THREADS=$1 OMP_PROC_BIND=close OMP_PLACES=cores
}

row() { printf '%-17s %s\n' "$1" "$2"; }

# time_limit -- the job's time limit as squeue shows it, or '?'.
time_limit() { squeue -h -j "$SLURM_JOB_ID" -o %l 2>/dev/null || echo '?'; }

# seconds_of_limit LIMIT -- a limit as squeue shows it ([D-]H:MM:SS, M:SS) in seconds; fails for
# UNLIMITED, '?' and anything else.
seconds_of_limit() {
    local days=0 rest=$1 h=0 m s
    [[ $rest =~ ^([0-9]+)-(.*)$ ]] && days=${BASH_REMATCH[1]} rest=${BASH_REMATCH[2]}
    if [[ $rest =~ ^([0-9]+):([0-9]+):([0-9]+)$ ]]; then
        h=${BASH_REMATCH[1]} m=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
    elif [[ $rest =~ ^([0-9]+):([0-9]+)$ ]]; then
        m=${BASH_REMATCH[1]} s=${BASH_REMATCH[2]}
    else
        return 1
    fi
    echo $(((10#$days * 24 + 10#$h) * 3600 + 10#$m * 60 + 10#$s))
}

# node_check_default -- seconds between node checks when PIMC_NODE_CHECK is not given: 5, or more
# for a long job, so that it never makes more than 10,000 check steps. Each check is a job step, and
# Slurm refuses a job's steps beyond MaxStepCount (40,000 unless the site set it): at 5 s a job would
# reach that in 56 hours, after which its checks, and its successor steps, would fail. A job without
# a limit gets 30 s.
node_check_default() {
    local seconds
    seconds=$(seconds_of_limit "$(time_limit)") || { echo 30; return; }
    echo $((seconds > 50000 ? (seconds + 9999) / 10000 : 5))
}

print_context_start() {
    printf '== %s: job %s started %s\n' "$job_script" "$SLURM_JOB_ID" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    row 'job id' "$SLURM_JOB_ID"
    row 'job name' "${SLURM_JOB_NAME:-}"
    row 'account' "${SLURM_JOB_ACCOUNT:-(none)}"
    row 'partition' "${SLURM_JOB_PARTITION:-}"
    row 'nodes' "${SLURM_JOB_NODELIST:-$(hostname)}"
}

print_context_binary() {
    local line
    row 'submit dir' "$submit_dir"
    row 'binary' "$pimc"
    [[ -z $pimc_version ]] || while IFS= read -r line; do
        if [[ $line == *': '* ]]; then row "${line%%: *}" "${line#*: }"; else row 'version' "$line"; fi
    done <<<"$pimc_version"
    row 'modules' "${PIMC_MODULES:-(none)}"
}

# print_context_run COMMAND... -- the header's last lines: the OpenMP settings, csv and COMMAND.
print_context_run() {
    row 'OMP_NUM_THREADS' "$OMP_NUM_THREADS"
    row 'OMP_PROC_BIND' "$OMP_PROC_BIND"
    row 'OMP_PLACES' "${OMP_PLACES:-(unset)}"
    row 'csv' "$csv"
    row 'command' "$*"
    printf '== pimc-omp\n'
}

# lost_node -- one no-op task on each node of the job. A node whose slurmd is gone (crashed, powered
# off, cut off) cannot start it, and srun names it ("Task launch ... failed on node n3: ..."), within
# its MessageTimeout. Prints that node and srun's line, tab-separated, and succeeds; fails when every
# node answered, or (with a warning) when the check failed without naming a node.
# --mem=0: where Slurm allocates memory (CR_Core_Memory, CR_CPU_Memory: most clusters), the running
# step holds all of the job's, and a step asking for the default is refused ("Memory required by
# task is not available") every time; 0 asks for what is left, which --overlap may share.
lost_node() {
    local out node
    out=$(timeout $((${node_check_every:-5} + 120)) srun --overlap --mem=0 --mpi=none --job-name=node-check \
        --nodes="$SLURM_JOB_NUM_NODES" --ntasks-per-node=1 --cpus-per-task=1 true 2>&1) && return 1
    node=$(sed -n 's/.* failed on node \([^: ]*\):.*/\1/p' <<<"$out" | head -n 1)
    if [[ -z $node ]]; then
        printf '%s: warning: the node check failed without naming a node: %s\n' "$job_script" "${out//$'\n'/ }"
        return 1
    fi
    printf '%s\t%s\n' "$node" "$(grep -m 1 ' failed on node ' <<<"$out")"
}

# say_node_lost NODE LINE REPORT WHAT -- the line that names a lost node, and WHAT is done about it;
# REPORT gets the node's name.
say_node_lost() {
    printf '%s: node %s lost at %s: %s; %s\n' "$job_script" "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$2" "$4"
    printf '%s\n' "$1" >"$3"
}

# watch_nodes SECONDS REPORT -- while the step (step_pid) runs: every SECONDS, lost_node. A node lost
# is named, REPORT gets its name, and the step is ended: srun's step cancelled, or a library's
# launcher sent SIGTERM (then SIGKILL 10 s later). Without this the ranks elsewhere throw on, then
# wait for the lost ones' hits until the time limit, or until slurmctld declares the node down
# (SlurmdTimeout, often 300 s): neither srun nor mpirun nor mpiexec notices on its own a node that
# went silent without closing its connections.
# shellcheck disable=SC2317 # run in the background by run_step
watch_nodes() {
    local every=$1 report=$2 lost node line step i
    while sleep "$every" && kill -0 "$step_pid" 2>/dev/null; do
        lost=$(lost_node) || continue
        kill -0 "$step_pid" 2>/dev/null || break # the step ended meanwhile: run_step looks again
        IFS=$'\t' read -r node line <<<"$lost"
        say_node_lost "$node" "$line" "$report" 'ending the job step'
        if [[ $step_launcher == srun ]]; then
            # The step running the ranks: named after the binary (srun's default), not the checks.
            step=$(squeue -h -s -j "$SLURM_JOB_ID" -o '%i %j' | awk -v name="${pimc##*/}" '$2 == name { print $1; exit }')
            scancel "${step:-$SLURM_JOB_ID}" 2>/dev/null
        else
            kill -TERM "$step_pid" 2>/dev/null
            for ((i = 0; i < 20; i++)); do
                kill -0 "$step_pid" 2>/dev/null || break
                sleep 0.5
            done
            ((i < 20)) || kill -KILL "$step_pid" 2>/dev/null
        fi
        break
    done
}

# run_step COMMAND... -- run the launcher's command line COMMAND (not when a stop signal came already:
# exit 143), wait for it through the signals, and say how it ended and, when stopped early, whether
# the CSV has this job's partial row. Sets status, COMMAND's exit status.
run_step() {
    if [[ -n $stop_signal ]]; then
        printf '%s: SIG%s arrived before pimc-omp started; nothing run\n' "$job_script" "$stop_signal"
        exit 143
    fi
    "$@" &
    step_pid=$!
    local watcher='' lost_report=''
    if [[ -n $node_check_every ]] && ((${SLURM_JOB_NUM_NODES:-1} > 1)); then
        lost_report=$(mktemp) || lost_report=/dev/null
        watch_nodes "$node_check_every" "$lost_report" &
        watcher=$!
    fi
    while :; do
        wait "$step_pid"
        status=$?
        # A trapped signal makes wait return early (status > 128) while the step still runs: wait again.
        if ((status > 128)) && kill -0 "$step_pid" 2>/dev/null; then continue; fi
        break
    done
    local ended lost='' found node line
    ended=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    if [[ -n $watcher ]]; then
        kill "$watcher" 2>/dev/null
        wait "$watcher" 2>/dev/null
        [[ ! -s $lost_report ]] || lost=$(<"$lost_report")
        # A step that failed on its own may have lost a node the watch had not seen yet: MPICH's
        # mpiexec ends at once when a node's proxy goes, and says only "assert (!closed) failed".
        if [[ -z $lost && -z $stop_signal ]] && ((status != 0)) && found=$(lost_node); then
            IFS=$'\t' read -r node line <<<"$found"
            say_node_lost "$node" "$line" "$lost_report" 'found by a check after the step ended'
            lost=$node
        fi
        [[ $lost_report == /dev/null ]] || rm -f "$lost_report"
    fi

    printf '== %s: job %s: pimc-omp exited with status %d at %s\n' "$job_script" "$SLURM_JOB_ID" "$status" "$ended"
    if [[ -n $lost ]]; then
        ((status != 0)) || status=1
        printf '%s: the run was lost with node %s: its ranks there are gone, the others were ended; no result\n' \
            "$job_script" "$lost"
        return 0
    fi
    # pimc-omp exits 0 to 4, or 128 + a signal; a library's launcher may pass on something else for
    # a rank that ended badly (hydra: 255, or the signal's number itself).
    if [[ -z $stop_signal ]] && { ((status > 128)) || { ((status > 4 && status != 128)) && [[ $step_launcher != srun ]]; }; }; then
        # srun --kill-on-bad-exit, mpirun and mpiexec: one rank killed, every rank ended. The
        # launcher's own lines above name the first (srun: "error: NODE: task N: Killed"; mpirun:
        # "process rank N with PID P on node NODE exited on signal"; mpiexec: "PID P RUNNING AT NODE").
        local how="status $status = signal $((status - 128))"
        ((status > 128 && status < 255)) || how="status $status: $step_launcher's for a rank that ended badly"
        printf '%s: pimc-omp was killed (%s), not stopped: a rank died or was lost, and the job step was ended; %s'"'"'s lines above say which. No result\n' \
            "$job_script" "$how" "$step_launcher"
        return 0
    fi
    [[ -n $stop_signal ]] || return 0
    # Say what is in the CSV, not what should be: this job's row of a stopped run, status=partial, or a
    # complete result whose stopped_in names the leg a stop cut (a serial leg, a later repeat). Columns
    # are counted from the row's end: none from slurm_job_id on is ever quoted.
    if awk -F, -v job="$SLURM_JOB_ID" '
        NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "slurm_job_id") j = NF - i; if ($i == "stopped_in") s = NF - i }
                  if (!j || !s) exit 1; next }
        $(NF - j) == job && ($(NF - s) != "" || /,partial,/) { found = 1 }
        END { exit !found }' "$csv" 2>/dev/null; then
        printf '%s: stopped early (SIG%s); %s has this job'"'"'s row of a stopped run (status=partial, or stopped_in set)\n' \
            "$job_script" "$stop_signal" "$csv"
        # A library's launcher passes on another status for the same stop (mpirun the ranks' 138
        # for SIGUSR1, mpiexec 0): the job's is a stopped run's, 143, as under srun.
        status=143
    else
        printf '%s: stopped early (SIG%s); no partial row of this job in %s\n' "$job_script" "$stop_signal" "$csv"
    fi
}

# PIMC_CHECKPOINT: a run that outlives its time limit goes on in a chain of jobs. Sets checkpoint (the
# file, absolute; empty: no checkpoint) and checkpoint_options (pimc-omp's options for it). Call after
# use_csv: PIMC_CHECKPOINT=1 means pimc-JOBID.checkpoint.json next to the CSV.
use_checkpoint() {
    checkpoint=${PIMC_CHECKPOINT:-}
    # shellcheck disable=SC2034 # used in the job script's srun line
    checkpoint_options=()
    [[ -n $checkpoint ]] || return 0
    [[ $checkpoint != 1 ]] || checkpoint=$(dirname -- "$csv")/pimc-$SLURM_JOB_ID.checkpoint.json
    [[ $checkpoint == /* ]] || checkpoint=$submit_dir/$checkpoint
    # shellcheck disable=SC2034 # used in the job script's srun line
    checkpoint_options=(--checkpoint "$checkpoint" --checkpoint-interval "${PIMC_CHECKPOINT_INTERVAL:-60}")
}

# continue_if_stopped [ARGUMENT...] -- after run_step: when the time-limit warning stopped a
# checkpointed run, submit the rest as this job's successor (--dependency=afterany: it starts when
# this job ends), the same script with the same ARGUMENTs, nodes, tasks, CPUs, time limit, name,
# partition and account, and PIMC_CHECKPOINT naming the same file. Only after a segment that ran: a
# limit too short to start in would otherwise chain jobs forever (run_step exits before that).
continue_if_stopped() {
    [[ -n $checkpoint && -n $stop_signal && $status -eq 143 ]] || return 0
    : "${slurm_dir:?set by the job script: the slurm/ directory of its checkout}" "${cpus:?}"
    local limit next options=(--parsable --dependency=afterany:"$SLURM_JOB_ID" --cpus-per-task="$cpus")
    limit=$(time_limit)
    [[ $limit == '?' || $limit == UNLIMITED ]] || options+=(--time="$limit")
    [[ -z ${SLURM_JOB_NUM_NODES:-} ]] || options+=(--nodes="$SLURM_JOB_NUM_NODES")
    [[ -z ${SLURM_NTASKS:-} ]] || options+=(--ntasks="$SLURM_NTASKS")
    [[ -z ${SLURM_NTASKS_PER_NODE:-} ]] || options+=(--ntasks-per-node="$SLURM_NTASKS_PER_NODE")
    [[ -z ${SLURM_JOB_NAME:-} ]] || options+=(--job-name="$SLURM_JOB_NAME")
    [[ -z ${SLURM_JOB_PARTITION:-} ]] || options+=(--partition="$SLURM_JOB_PARTITION")
    [[ -z ${SLURM_JOB_ACCOUNT:-} ]] || options+=(--account="$SLURM_JOB_ACCOUNT")
    if next=$(cd "$submit_dir" && PIMC_CHECKPOINT=$checkpoint sbatch "${options[@]}" "$slurm_dir/$job_script" "$@"); then
        printf '%s: the run goes on in job %s (after this one, --dependency=afterany), from %s\n' \
            "$job_script" "$next" "$checkpoint"
    else
        printf '%s: cannot submit the successor job; resubmit with PIMC_CHECKPOINT=%s to go on\n' \
            "$job_script" "$checkpoint" >&2
    fi
}
