#!/bin/bash
# slurm-node.sh DIR start|kill NODE -- start, or crash, one node of the several-node Slurm that
# slurm-up.sh DIR brought up (PIMC_SLURM_NODES >= 2).
#
#   start  runs `slurmd -N NODE` in a UTS namespace of its own whose host name is NODE, and records
#          that namespace in DIR/run/NODE.uts. The daemon, and every job step and task it starts,
#          lives in that namespace: `hostname` says NODE there, and nowhere else.
#   kill   takes the node down as a crash would: SIGKILL to every process in its namespace -- its
#          slurmd, the slurmstepd of its job steps, their tasks (an MPI rank, an orted) -- found by
#          PID through /proc/PID/ns/uts, never by name. Prints "killed node NODE: PID (NAME) ...".
#          Processes elsewhere are not touched; slurmctld learns of the loss as of a real node's.
#   (slurm-down.sh DIR uses `kill` on whatever is left of each node after stopping its slurmd.)
set -uo pipefail

die() { printf 'slurm-node: %s\n' "$*" >&2; exit 1; }
[[ $# -eq 3 && ($2 == start || $2 == kill) ]] || { printf 'usage: %s DIR start|kill NODE\n' "${0##*/}" >&2; exit 2; }
dir=$(cd "$1" 2>/dev/null && pwd) || die "no such directory: $1"
action=$2 node=$3
[[ $node =~ ^[A-Za-z0-9_-]+$ ]] || die "'$node' is not a node name"
conf=$dir/slurm.conf
[[ -f $conf ]] || die "$dir holds no cluster (no slurm.conf)"

# in_namespace NS -- the PIDs of the processes whose UTS namespace is NS (e.g. "uts:[4026532571]").
in_namespace() {
    local p
    for p in /proc/[0-9]*; do
        [[ $(readlink "$p/ns/uts" 2>/dev/null) == "$1" ]] && printf '%s\n' "${p#/proc/}"
    done
}

if [[ $action == start ]]; then
    pidfile=$dir/run/slurmd-$node.pid
    install -d -m 0755 "$dir/spool/$node"
    rm -f "$pidfile"
    # slurmd forks into the background; the namespace lives on in it (and in what it starts).
    # shellcheck disable=SC2016 # expanded by the namespace's shell
    unshare --uts bash -c 'hostname "$1" && exec slurmd -f "$2" -N "$1"' slurm-node "$node" "$conf" ||
        die "slurmd -N $node did not start; see $dir/log/slurmd-$node.log"
    for ((i = 0; i < 100; i++)); do
        [[ -s $pidfile ]] && read -r pid <"$pidfile" && [[ -d /proc/$pid ]] && break
        sleep 0.1
    done
    [[ -n ${pid:-} && -d /proc/$pid ]] || die "slurmd -N $node wrote no pid file $pidfile"
    ns=$(readlink "/proc/$pid/ns/uts") || die "cannot read the namespace of slurmd $pid"
    [[ $ns != "$(readlink /proc/self/ns/uts)" ]] || die "slurmd -N $node runs in this shell's namespace"
    printf '%s\n' "$ns" >"$dir/run/$node.uts"
    exit 0
fi

[[ -r $dir/run/$node.uts ]] || die "node $node was not started by slurm-node.sh (no $dir/run/$node.uts)"
read -r ns <"$dir/run/$node.uts"
# The namespace of this machine itself is never one to empty.
[[ $ns == uts:* && $ns != "$(readlink /proc/1/ns/uts)" && $ns != "$(readlink /proc/self/ns/uts)" ]] ||
    die "$dir/run/$node.uts names '$ns', not a node's own namespace"
killed=()
for ((round = 0; round < 20; round++)); do # processes may fork while they are being killed
    mapfile -t pids < <(in_namespace "$ns")
    ((${#pids[@]} > 0)) || break
    for pid in "${pids[@]}"; do
        comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
        kill -KILL "$pid" 2>/dev/null && killed+=("$pid ($comm)")
    done
    sleep 0.1
done
printf 'killed node %s: %s\n' "$node" "${killed[*]:-nothing was running}"
