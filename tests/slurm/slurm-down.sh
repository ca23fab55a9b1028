#!/bin/bash
# slurm-down.sh DIR -- stop the private Slurm that slurm-up.sh DIR started (one node or several),
# and its jobs.
#
# Cancels every job of that cluster and waits (bounded) for their processes to end while slurmd still
# runs, then stops slurmd, slurmctld and munged by the PIDs in their pid files under DIR -- checking
# that each PID still is that daemon -- with SIGTERM, then SIGKILL after PIMC_SLURM_WAIT (default 30)
# seconds. Never signals anything by name. Safe to run more than once and on a half-started cluster.
# Leaves DIR (logs, job output) in place; the caller removes it.
set -uo pipefail

note() { printf 'slurm-down: %s\n' "$*" >&2; }

[[ $# -eq 1 ]] || { printf 'usage: %s DIR\n' "${0##*/}" >&2; exit 2; }
[[ -d $1 ]] || { note "no such directory: $1"; exit 0; }
dir=$(cd "$1" && pwd)
wait_s=${PIMC_SLURM_WAIT:-30}
export SLURM_CONF=$dir/slurm.conf

# The watchdog of slurm-up.sh (PIMC_SLURM_OWNER) goes first -- unless this is the watchdog, which
# execs this script when its owner is gone.
if [[ -r $dir/run/watchdog.pid ]]; then
    read -r pid <"$dir/run/watchdog.pid"
    if [[ $pid =~ ^[1-9][0-9]*$ && $pid != "$$" ]] &&
        tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qx 'pimc-slurm-watchdog' &&
        tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF "$dir"; then
        kill -TERM "$pid" 2>/dev/null
    fi
fi

# pid_of NAME PIDFILE: the PID in PIDFILE if that process is alive and is NAME.
pid_of() {
    local name=$1 file=$2 pid comm
    [[ -r $file ]] || return 1
    read -r pid <"$file" || return 1
    [[ $pid =~ ^[1-9][0-9]*$ ]] || return 1
    read -r comm <"/proc/$pid/comm" 2>/dev/null || return 1
    [[ $comm == "$name" ]] || return 1
    printf '%s\n' "$pid"
}

stop() {
    local name=$1 file=$2 pid i
    pid=$(pid_of "$name" "$file") || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < wait_s * 5; i++)); do
        [[ -d /proc/$pid ]] || return 0
        sleep 0.2
    done
    note "$name (pid $pid) ignored SIGTERM for ${wait_s}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
}

if [[ -f $SLURM_CONF ]] && pid_of slurmctld "$dir/run/slurmctld.pid" >/dev/null; then
    jobs=$(squeue -h -o %i 2>/dev/null | tr '\n' ' ')
    if [[ -n ${jobs// /} ]]; then
        note "cancelling jobs: $jobs"
        # shellcheck disable=SC2086 # one job id per word
        scancel $jobs 2>/dev/null
    fi
    # Wait for the jobs and their processes (slurmstepd outlives slurmd) to be gone.
    for ((i = 0; i < wait_s * 5; i++)); do
        busy=$(squeue -h -t all -o %T 2>/dev/null | grep -cvE '^(COMPLETED|CANCELLED|FAILED|TIMEOUT|PREEMPTED|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE)$')
        if [[ $busy -eq 0 ]] && [[ -z $(scontrol listpids 2>/dev/null | sed 1d) ]]; then break; fi
        sleep 0.2
    done
fi

# One node: slurmd.pid. Several (PIMC_SLURM_NODES): slurmd-NODE.pid each, stopped together, then
# whatever is left in each node's namespace (a step's processes when slurmd could not end them):
# everything there was started by this cluster.
for pidfile in "$dir"/run/slurmd.pid "$dir"/run/slurmd-*.pid; do
    stop slurmd "$pidfile" &
done
wait
for uts in "$dir"/run/*.uts; do
    [[ -r $uts ]] || continue
    node=${uts##*/}
    "$(dirname "${BASH_SOURCE[0]}")/slurm-node.sh" "$dir" kill "${node%.uts}" | grep -v 'nothing was running' >&2
done
stop slurmctld "$dir/run/slurmctld.pid"
stop munged "$dir/munge/munged.pid"
exit 0
