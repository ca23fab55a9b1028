#!/bin/bash
# slurm-up.sh DIR -- bring up a private Slurm (munged + slurmctld + one slurmd per node) under DIR:
# one node by default, or PIMC_SLURM_NODES=N nodes n1..nN, each with a host name of its own.
#
# For tests of the job scripts in slurm/ against a real Slurm on one machine, without systemd: every
# file (config, keys, sockets, state, spool, logs, pid files) lives under DIR, the daemons listen on
# free ports chosen at random and talk through their own munged socket, so nothing of the host's own
# Slurm or MUNGE is used or disturbed. Needs root (slurmd runs jobs as their user).
#
# On success prints `export SLURM_CONF=DIR/slurm.conf` on stdout (for eval), with everything else on
# stderr; sbatch/srun/squeue/sinfo then talk to this cluster. Stop it with slurm-down.sh DIR. On
# failure it prints the daemons' log tails, stops whatever it started and exits 1.
#
# Environment:
#   PIMC_SLURM_NODES how many nodes (default 1). With 1, the node is this machine under its own host
#                    name. With N >= 2, nodes n1..nN: N slurmd on this machine (`slurmd -N nK`, each
#                    with its own port, spool, pid and log file, all on 127.0.0.1), each started in a
#                    UTS namespace of its own whose host name is nK (slurm-node.sh), so that jobs on
#                    it see `hostname` = nK and MPI takes the ranks for ones on different hosts. Only
#                    the host name is private: the network is shared, so all traffic stays on
#                    loopback. `slurm-node.sh DIR kill nK` takes a node down as a crash would.
#   PIMC_SLURM_CPUS  CPUs each node declares (default 16). It may exceed the real core count so that
#                    1..16-CPU submissions can be exercised on a small machine -- plumbing, not timings
#                    (SlurmdParameters=config_overrides keeps slurmctld from draining the node for it).
#   PIMC_SLURM_SELECT SelectTypeParameters (default CR_Core_Memory, with DefMemPerCPU=100: memory is
#                    allocated as on most real clusters, so that a second job step that asks for the
#                    memory the first one holds is refused here too). CR_Core: CPUs only.
#   PIMC_SLURM_WAIT  seconds to wait for each daemon and for the node to become idle (default 30).
#   PIMC_SLURM_OWNER a PID (e.g. the test runner's): a watchdog, in a session of its own, runs
#                    slurm-down.sh DIR as soon as that process is gone -- for when the runner is killed
#                    outright (a test timeout) and cannot tear down itself. slurm-down.sh stops it.
#
# The configuration follows /work/shared/notes/slurm-and-mpi-on-one-machine.md: proctrack/linuxproc and
# task/none (no cgroups here), cons_tres + CR_Core_Memory (PIMC_SLURM_SELECT), EnforcePartLimits=ALL
# (an impossible request is refused at submit time instead of pending forever), batch_sched_delay=0
# (back-to-back jobs start about 1 s apart), jobcomp/filetxt (one line per finished job, readable with `sacct -c`).
#
# MPI: MpiDefault=none, so a job step is MPI only when it asks (`srun --mpi=pmix`, as slurm/hybrid.sh
# does). PMIx needs no setting here, but Debian 12's Slurm (22.05) mpi_pmix plugin dlopen()s the
# unversioned .../pmix2/lib/libpmix.so, which libpmix-dev ships (libopenmpi-dev pulls it in), not
# libpmix2 alone; slurmd loads it when a step starts, so a library installed after slurmd started
# needs a fresh cluster. Without it `srun --mpi=pmix` fails: "can not load PMIx library".
set -euo pipefail

die() { printf 'slurm-up: %s\n' "$*" >&2; exit 1; }
note() { printf 'slurm-up: %s\n' "$*" >&2; }

[[ $# -eq 1 ]] || { printf 'usage: %s DIR\n' "${0##*/}" >&2; exit 2; }
[[ $EUID -eq 0 ]] || die "must run as root (slurmd starts jobs as their user); current uid is $EUID"
for tool in munged mungekey munge unmunge slurmctld slurmd sinfo scontrol ss unshare; do
    command -v "$tool" >/dev/null || die "'$tool' not found; install slurm-wlm, munge and iproute2"
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
dir=$(cd "$1" && pwd)
[[ ! -e $dir/slurm.conf ]] || die "$dir already holds a cluster (slurm.conf exists); use a fresh directory"
cpus=${PIMC_SLURM_CPUS:-16}
select=${PIMC_SLURM_SELECT:-CR_Core_Memory}
case $select in
CR_Core) memory_line='' ;;
CR_Core_Memory) memory_line='DefMemPerCPU=100' ;;
*) die "PIMC_SLURM_SELECT='$select' is not CR_Core or CR_Core_Memory" ;;
esac
wait_s=${PIMC_SLURM_WAIT:-30}
nodes=${PIMC_SLURM_NODES:-1}
[[ $cpus =~ ^[1-9][0-9]*$ ]] || die "PIMC_SLURM_CPUS='$cpus' is not a positive integer"
[[ $nodes =~ ^[1-9][0-9]?$ ]] || die "PIMC_SLURM_NODES='$nodes' is not a node count from 1 to 99"
[[ $wait_s =~ ^[1-9][0-9]*$ ]] || die "PIMC_SLURM_WAIT='$wait_s' is not a positive integer"
owner=${PIMC_SLURM_OWNER:-}
[[ -z $owner || -d /proc/$owner ]] || die "PIMC_SLURM_OWNER=$owner is not a running process"

ok=0
on_exit() {
    if [[ $ok -ne 1 ]]; then
        note "failed; daemon logs follow, then teardown"
        local f
        for f in "$dir"/log/*.log; do
            [[ -f $f ]] || continue
            printf '==> %s <==\n' "$f" >&2
            tail -n 25 "$f" >&2
        done
        "$here/slurm-down.sh" "$dir" >&2 || true
    fi
}
trap on_exit EXIT

# wait_for SECONDS WHAT COMMAND...: poll COMMAND every 0.2 s until it succeeds, at most SECONDS.
wait_for() {
    local secs=$1 what=$2 i
    shift 2
    for ((i = 0; i < secs * 5; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    die "timed out after ${secs}s waiting for $what"
}

port_free() { [[ -z $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

# The munge user must reach its files through DIR, whatever umask or mktemp gave it; DIR's parents
# are the caller's to open (mktemp -d makes 0700 directories).
chmod 0755 "$dir"
p=$(dirname "$dir")
while [[ $p != / ]]; do
    [[ $(stat -c %A "$p") == ?????????[xt] ]] ||
        die "the munge user cannot reach $dir: $p is not searchable by others (chmod o+x $p)"
    p=$(dirname "$p")
done
install -d -m 0755 "$dir/log" "$dir/run" "$dir/state" "$dir/spool"
install -d -m 0755 -o munge -g munge "$dir/munge"

if [[ -n $owner ]]; then
    # Started first, so that even a half-started cluster is torn down. It closes every descriptor it
    # inherits beyond stderr: a test runner waits for the ends of its pipes (bats: fd 3 and more).
    # shellcheck disable=SC2016 # expanded by the watchdog's shell
    setsid bash -c '
        for fd in /proc/$$/fd/*; do fd=${fd##*/}; ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null; done
        while [[ -d /proc/$1 ]]; do sleep 1; done
        exec "$2" "$3"' pimc-slurm-watchdog "$owner" "$here/slurm-down.sh" "$dir" \
        </dev/null >>"$dir/log/watchdog.log" 2>&1 &
    printf '%s\n' "$!" >"$dir/run/watchdog.pid"
fi

# MUNGE: a fresh key and a private socket (clients need search permission on its directory), the
# daemon run as the munge user (munged refuses to run as root).
mungekey --create --keyfile="$dir/munge/munge.key" 2>/dev/null
chown munge:munge "$dir/munge/munge.key"
chmod 0400 "$dir/munge/munge.key"
socket=$dir/munge/munge.socket.2
runuser -u munge -- munged --socket="$socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/munged.seed" ||
    die "munged did not start; see $dir/munge/munged.log"
ln -sf ../munge/munged.log "$dir/log/munged.log"
munge_ok() { munge -S "$socket" -n | unmunge -S "$socket"; }
wait_for "$wait_s" "munged to answer on $socket" munge_ok

# Free TCP ports for slurmctld and each slurmd (the next ones), so a host Slurm or a parallel run
# does not collide.
ports_free() {
    local k
    for ((k = 0; k <= nodes; k++)); do port_free "$(($1 + k))" || return 1; done
}
ctld_port=
for _ in $(seq 50); do
    p=$((20000 + RANDOM % 30000))
    if ports_free "$p"; then ctld_port=$p; break; fi
done
[[ -n $ctld_port ]] || die "no $((nodes + 1)) consecutive free TCP ports found"

# Node line from the hardware (slurmd -C), with the CPU count replaced by the declared one.
hw=$(slurmd -C | head -n 1)
node=$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' <<<"$hw")
mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
[[ -n $node && -n $mem ]] || die "cannot parse 'slurmd -C' output: $hw"

# One node: this machine, by its host name. Several: n1..nN, each slurmd on its own port, with its
# own spool, pid and log file (%n: the node name), and its own TmpFS -- srun --mpi=pmix puts the
# step's spmix_appdir there, and nodes sharing /tmp would collide ("File exists").
if ((nodes == 1)); then
    node_names=("$node")
    node_lines="NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus Boards=1 SocketsPerBoard=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$mem State=UNKNOWN"
    per_node="SlurmdPort=$((ctld_port + 1))
SlurmdSpoolDir=$dir/spool
SlurmdPidFile=$dir/run/slurmd.pid
SlurmdLogFile=$dir/log/slurmd.log"
else
    node_names=() node_lines=
    for ((k = 1; k <= nodes; k++)); do
        node_names+=("n$k")
        install -d -m 1777 "$dir/tmp-n$k"
        node_lines+="NodeName=n$k NodeHostName=localhost NodeAddr=127.0.0.1 Port=$((ctld_port + k)) CPUs=$cpus Boards=1 SocketsPerBoard=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$mem State=UNKNOWN"$'\n'
    done
    node_lines=${node_lines%$'\n'}
    per_node="SlurmdSpoolDir=$dir/spool/%n
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmdLogFile=$dir/log/slurmd-%n.log
TmpFS=$dir/tmp-%n"
fi

conf=$dir/slurm.conf
cat >"$conf" <<EOF
# Generated by tests/slurm/slurm-up.sh: a private $nodes-node test cluster. Not for production.
ClusterName=pimctest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
$per_node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$dir/state
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=$select
$memory_line
SchedulerParameters=batch_sched_delay=0
EnforcePartLimits=ALL
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
KillWait=5
MailProg=/bin/true
SlurmdParameters=config_overrides
$node_lines
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$conf

# Both daemons fork into the background and write their pid files; -c: start with no saved state.
slurmctld -c -f "$conf" || die "slurmctld did not start"
wait_for "$wait_s" "slurmctld to answer" scontrol ping
if ((nodes == 1)); then
    slurmd -f "$conf" -N "$node" || die "slurmd did not start"
else
    for name in "${node_names[@]}"; do
        "$here/slurm-node.sh" "$dir" start "$name" || die "slurmd of node $name did not start"
    done
fi
nodes_idle() {
    [[ $(sinfo -h -N -o %T | sort -u) == idle && $(sinfo -h -N -o %N | wc -l) -eq $nodes ]]
}
wait_for "$wait_s" "nodes ${node_names[*]} to become idle (sinfo)" nodes_idle

ok=1
note "$nodes-node Slurm up in $dir: nodes ${node_names[*]}, $cpus CPUs declared each ($(nproc) real), partition debug, port $ctld_port"
printf 'export SLURM_CONF=%q\n' "$conf"
