#!/bin/bash
# hybrid.sh -- run pimc-omp as one multi-node Slurm job: MPI ranks across nodes, OpenMP threads in each.
#
#   sbatch [-A ACCOUNT] [-p PARTITION] [-t TIME] [-N NODES] [--ntasks-per-node=R] [-c T] \
#       slurm/hybrid.sh [THROWS] [PIMC-OMP OPTION...]
#   e.g.  sbatch -A myacct -p standard -N 4 --ntasks-per-node=2 -c 16 slurm/hybrid.sh 1e12
#         PIMC_CSV=results/hybrid-study.csv sbatch -N 4 slurm/hybrid.sh --sweep pow2 1e11
#
# Needs a pimc-omp built with MPI (`pimc-omp --version` shows an "MPI:" library, not "none"; see
# README, "Beyond one node"). Every task of the job is one MPI rank, started by
# `srun --mpi=TYPE --kill-on-bad-exit=1 --cpus-per-task=T` (TYPE: pmix or pmi2, see PIMC_SRUN_MPI),
# or by the library's own mpirun or mpiexec (PIMC_LAUNCHER); each rank runs T OpenMP threads. The
# throws are split between the ranks and the hits summed, so the result is the same as on one core,
# for any ranks x threads.
#
# Sizing the job (the sbatch line overrides the #SBATCH defaults below: 2 nodes, 2 tasks per node,
# 8 CPUs per task):
#   -N NODES               how many nodes.
#   --ntasks-per-node=R    ranks on each node: 1 (one rank per node), or one per socket or NUMA
#                          domain (2 on a two-socket node), which keeps each rank's memory local.
#   -c T                   OpenMP threads in each rank, one per core: T = cores per node / R, so that
#                          R x T fills the node. Add --exclusive to have whole nodes. Where nodes
#                          have hyperthreads a Slurm "CPU" is a hardware thread: add
#                          --hint=nomultithread to get T whole cores, one thread each.
#   Total cores = NODES x R x T. Site settings (account, partition, QOS, time) come from the sbatch
#   line too; nothing site-specific is baked in.
#
# Arguments after the script name go to pimc-omp: THROWS and options (pimc-omp --help). --sweep
# works across ranks: it keeps the ranks and varies the threads in each, with one baseline run on a
# single core (rank 0, 1 thread). So one submission is a whole multi-node scaling study:
#   sbatch -N 4 slurm/hybrid.sh --sweep pow2 1e11          strong scaling, 1 core .. 4 x 2 x 8 cores
#   sbatch -N 4 slurm/hybrid.sh --sweep pow2 --weak 1e9    weak scaling, 1e9 throws per thread
# Give a study a CSV of its own (PIMC_CSV=...) so that bench/table and bench/plot show it alone.
#
# Output: slurm-JOBID.out in the submit directory: first the job's context (job id, nodes, ranks,
# tasks per node, CPUs per task, MPI launcher, binary and version, task binding, OpenMP settings,
# the command), then pimc-omp's report, printed by rank 0 alone: "threads  16 = 2 ranks x 8 threads"
# gives the layout, "MPI" the library, "hosts" each node with its ranks; the times are the slowest
# rank's. A sweep prints a table whose "CPU cores" column reads e.g. "32 (4x8)": 4 ranks x 8
# threads. Rank 0 appends the rows to the CSV: `ranks` and `threads_per_rank` are the layout,
# `threads` the total (ranks x threads per rank), `hits` the sum over all ranks.
#
# Environment (sbatch hands your environment to the job, so set these before submitting):
#   PIMC            the pimc-omp binary. Default: the one installed with this script (meson install:
#                   PREFIX/bin/pimc-omp), else build/pimc-omp under the submit directory, else
#                   $PIMC_OMP_ROOT/bin/pimc-omp (module load pimc-omp), else pimc-omp on PATH. A
#                   relative path is taken from the submit directory.
#                   Every node must see it at that path (a shared file system).
#   PIMC_CSV        the CSV file rows are appended to. Default: results/slurm-runs.csv under the
#                   submit directory, as slurm/pimc.sh. pimc-omp locks it, so jobs may share it.
#   PIMC_MODULES    environment modules to load first, e.g. PIMC_MODULES="gcc openmpi" runs
#                   `module load gcc openmpi` (when the cluster has the `module` command). Load the
#                   MPI that pimc-omp was built with.
#   PIMC_SRUN_MPI   srun's --mpi type (`srun --mpi=list` shows the cluster's). Default: the one the
#                   binary's MPI library (pimc-omp --version, "MPI:") needs: pmix for Open MPI 4 and
#                   5, pmi2 for MPICH (and Intel MPI, MVAPICH). Debian's Open MPI does not work
#                   with pmi2, nor Debian's MPICH with pmix.
#   PIMC_LAUNCHER   what starts the ranks: srun (the default), or the MPI library's own launcher,
#                   for sites that want it: mpirun (Open MPI) or mpiexec (MPICH's hydra), a name on
#                   PATH or a path (e.g. mpirun.openmpi, mpiexec.mpich on Debian). It finds the
#                   nodes and tasks in the allocation; hybrid.sh adds -n NTASKS and binds each rank
#                   to its T cores (Open MPI: --map-by slot:PE=T --bind-to core; MPICH: -bind-to
#                   core:T). The launcher must be that of the library pimc-omp was built with.
#   PIMC_NODE_CHECK seconds between checks that every node of the job still answers (default 5, or
#                   the time limit / 10,000 when that is longer, so that a long job stays well under
#                   Slurm's MaxStepCount of 40,000 steps; 30 without a limit; 0: none). With more
#                   than one node, a no-op task is started on each; a node that
#                   cannot start one (its slurmd gone: crashed, cut off) is named in the output and
#                   the run is ended, instead of the other ranks waiting for its hits until the time
#                   limit. When the run fails on its own first, one more check names a lost node:
#                   MPICH's mpiexec, which ends at once when a node goes, does not name it. A rank
#                   that dies ends the run through srun's --kill-on-bad-exit (mpirun and mpiexec do
#                   the same by themselves).
#   PIMC_CHECKPOINT a long run that outlives its time limit, as in slurm/pimc.sh: the checkpoint file
#                   (pimc-omp --checkpoint; on a file system every node sees), or 1 for
#                   pimc-JOBID.checkpoint.json next to the CSV. Rank 0 saves every
#                   PIMC_CHECKPOINT_INTERVAL seconds (default 60) what all ranks have done. When the
#                   time-limit warning stops the run, the job submits its successor (same script and
#                   arguments, nodes, tasks, -c, -t, -J, -p, -A; --dependency=afterany), which throws
#                   only what the file lacks, on whatever ranks it gets. A lost rank or node ends the
#                   job as above, with the file at most one interval old: resubmit with
#                   PIMC_CHECKPOINT naming it to go on.
#
# Threads: OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK, OMP_PROC_BIND=close, OMP_PLACES=cores -- one thread
# per allocated core, kept there. srun gets --cpus-per-task explicitly: from Slurm 22.05 on it no
# longer inherits it from sbatch, and a binding cluster would squeeze a rank's threads onto one CPU.
# Before the run a short step (srun --mpi=none) asks every task which CPUs it may use: the "task
# binding" line. Where tasks on one node share the same CPUs (the cluster does not bind tasks:
# TaskPlugin=task/none, or --cpu-bind=none), OMP_PROC_BIND=close would stack every rank's threads on
# the node's first cores; the script then sets OMP_PROC_BIND=false and unsets OMP_PLACES, and warns.
# Where the cluster can bind, export SLURM_CPU_BIND=cores before sbatch instead.
#
# Time limit: as slurm/pimc.sh. --signal=B:USR1@60 has Slurm send this script SIGUSR1 about a minute
# before the limit (Slurm checks limits only every ~30 s: it comes early or late by up to that). The
# script then sends every rank one SIGTERM through the job step (`scancel --signal=TERM`, as srun
# answers SIGTERM by killing its tasks outright; hence Slurm's "STEP ... CANCELLED" line); under
# PIMC_LAUNCHER the launcher gets SIGUSR1, which it hands to every rank (mpirun would kill them on a
# SIGTERM), and pimc-omp takes as the same request. The ranks
# finish the blocks under way, sum the throws done, and rank 0 prints and appends that result as a
# row with status=partial; the job ends FAILED 143:0 before the limit. To change the lead time, keep
# USR1: sbatch --signal=B:USR1@300 ... A job that reaches its limit without that warning is killed by
# Slurm (TIMEOUT), most likely without a partial row. Ask -t with room for the run.
#
# Shared code: slurm/job-common.sh, found as slurm/pimc.sh says (next to the submitted script, else
# in slurm/ of the submit directory).
#
# Exit status: pimc-omp's (0 ok, 2 bad usage on any rank, 3 verification failed, 4 CSV not writable,
# 143 stopped by SIGTERM with a partial row written), or the launcher's when the launch fails or a
# rank is lost (e.g. 137: killed; the output names the task and node, or the lost node); 2 when not
# run inside a Slurm job, no binary is found, a binary without MPI is given more than one task, or
# slurm/job-common.sh is not found.
#
#SBATCH --job-name=pimc-hybrid
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=2
#SBATCH --cpus-per-task=8
#SBATCH --time=00:30:00
#SBATCH --output=slurm-%j.out
#SBATCH --signal=B:USR1@60

set -uo pipefail
job_script=hybrid.sh

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

start_job "sbatch [-A ACCOUNT] [-p PARTITION] [-N NODES] [--ntasks-per-node=R] [-c T] slurm/hybrid.sh [THROWS]"

use_csv results/slurm-runs.csv

cpus=${SLURM_CPUS_PER_TASK:-}
if [[ -z $cpus ]]; then
    cpus=1
    printf 'hybrid.sh: warning: SLURM_CPUS_PER_TASK not set (no -c in this allocation); using 1 thread a rank\n' >&2
fi
ntasks=${SLURM_NTASKS:-1}
set_threads "$cpus"

mpi_library=$(sed -n 's/^MPI: //p' <<<"$pimc_version")
if ((ntasks > 1)) && [[ -z $mpi_library || $mpi_library == none* ]]; then
    fail "$pimc is built without MPI (--version: MPI: ${mpi_library:-no such line}): its $ntasks tasks would be $ntasks independent runs. Rebuild it with MPI (meson setup build -Dmpi=enabled), or use slurm/pimc.sh for one node"
fi

# The PMI the binary's MPI library speaks under srun: Open MPI (4 and 5) PMIx, MPICH (and its kin,
# e.g. Intel MPI, MVAPICH) PMI-2. PIMC_SRUN_MPI overrides it.
case $mpi_library in
    MPICH* | "Intel(R) MPI"* | MVAPICH*) mpi_type=pmi2 ;;
    *) mpi_type=pmix ;;
esac
mpi_type=${PIMC_SRUN_MPI:-$mpi_type}
[[ $mpi_type =~ ^[A-Za-z0-9_.-]+$ ]] ||
    fail "PIMC_SRUN_MPI='$mpi_type' is not an srun --mpi type (srun --mpi=list shows them)"

# PIMC_LAUNCHER: srun, or the library's own launcher. Each library's launcher learns the nodes and
# the tasks per node from the allocation (Open MPI's ras/slurm, hydra's rmk/slurm) and starts its
# daemons on them through srun; it is told only -n and how to bind: each rank to its T cores.
launcher=${PIMC_LAUNCHER:-srun}
launch=() bind_options=()
if [[ $launcher != srun ]]; then
    command -v -- "$launcher" >/dev/null ||
        fail "PIMC_LAUNCHER=$launcher: no such command; load the MPI that pimc-omp was built with ($mpi_library; PIMC_MODULES), or give the launcher's path, or leave PIMC_LAUNCHER unset for srun"
    case $mpi_library in
        "Open MPI "*) bind_options=(--map-by "slot:PE=$cpus" --bind-to core) ;;
        MPICH*) bind_options=(-bind-to "core:$cpus") ;;
        *) fail "PIMC_LAUNCHER=$launcher: hybrid.sh knows the launchers of Open MPI and MPICH, not those of '$mpi_library'; leave PIMC_LAUNCHER unset for srun" ;;
    esac
    launch=("$launcher" -n "$ntasks" "${bind_options[@]}")
    step_launcher=${launcher##*/}
fi

# Are the tasks bound to their CPUs? A short step asks each task where it may run. Where tasks on a
# node share the same CPUs (TaskPlugin=task/none, or --cpu-bind=none), OMP_PROC_BIND=close would put
# every rank's threads on the same first cores of the node; the threads are then left unbound
# (OMP_PROC_BIND=false, OMP_PLACES unset), for the kernel to spread. A library's launcher binds its
# ranks itself.
binding=
# shellcheck disable=SC2016 # expanded by the tasks' shell
if [[ -n ${launch[*]} ]]; then
    binding="by $step_launcher: ${bind_options[*]}"
elif probe=$(srun --mpi=none --cpus-per-task="$cpus" bash -c \
    'printf "%s %s\n" "$(hostname)" "$(sed -n "s/^Cpus_allowed_list:[[:space:]]*//p" /proc/self/status)"' 2>&1); then
    # "TASKS-ON-BUSIEST-NODE SHARED-TASKS HOST MASK": SHARED-TASKS, the most tasks of one node with one mask.
    read -r most_tasks shared host mask < <(awk '
        NF == 2 && $2 ~ /^[0-9]/ { n[$1]++; k = $1 " " $2; same[k]++; if (!(($1) in m)) m[$1] = $2 }
        END {
            t = 0; sh = 0; h = "-"; mk = "-"
            for (x in n) if (n[x] > t) { t = n[x]; h = x; mk = m[x] }
            for (k in same) if (same[k] > sh) { sh = same[k]; split(k, f, " "); h = f[1]; mk = f[2] }
            print t, sh, h, mk
        }' <<<"$probe")
    if ((most_tasks == 0)); then
        binding="unknown: the probe step printed no CPU lists"
    elif ((shared <= 1)); then
        binding="bound: each task has CPUs of its own (on $host: $mask, ...)"
    else
        binding="NOT bound: $shared tasks on $host share CPUs $mask; OMP_PROC_BIND=false, OMP_PLACES unset"
        OMP_PROC_BIND=false
        unset OMP_PLACES
        printf 'hybrid.sh: warning: tasks on a node share their CPUs here (no task binding); OpenMP threads left unbound\n' >&2
    fi
else
    binding="unknown: the probe step failed: ${probe//$'\n'/ }"
fi

# srun takes the tasks and nodes from the allocation; --cpus-per-task must be given (Slurm 22.05).
# --kill-on-bad-exit: a rank that dies (killed, or its node lost) ends the whole step at once;
# without it the other ranks finish their shares and wait for the lost one's until the time limit.
use_checkpoint
if [[ -n ${launch[*]} ]]; then
    cmd=("${launch[@]}" "$pimc" --csv "$csv" "${checkpoint_options[@]}" "$@")
else
    cmd=(srun --mpi="$mpi_type" --kill-on-bad-exit=1 --cpus-per-task="$cpus" "$pimc" --csv "$csv"
        "${checkpoint_options[@]}" "$@")
fi

# A lost node: see watch_nodes in job-common.sh. PIMC_NODE_CHECK=0 turns the check off.
node_check_every=${PIMC_NODE_CHECK:-$(node_check_default)}
[[ $node_check_every =~ ^[0-9]+$ ]] ||
    fail "PIMC_NODE_CHECK='$node_check_every' is not a number of seconds (0: no node check)"
((node_check_every > 0)) || node_check_every=

print_context_start
row 'node count' "${SLURM_JOB_NUM_NODES:-${SLURM_NNODES:-1}}"
row 'time limit' "$(time_limit)"
row 'ntasks' "$ntasks"
row 'tasks per node' "${SLURM_TASKS_PER_NODE:-?}"
row 'cpus per task' "$cpus"
if [[ -n ${launch[*]} ]]; then row 'MPI launcher' "$launcher"; else row 'MPI launcher' "srun --mpi=$mpi_type"; fi
if [[ -n $node_check_every ]]; then row 'node check' "every $node_check_every s"; else row 'node check' off; fi
[[ -z $checkpoint ]] || row checkpoint "$checkpoint"
print_context_binary
row 'task binding' "$binding"
print_context_run "${cmd[@]}"

run_step "${cmd[@]}"
continue_if_stopped "$@"
exit "$status"
