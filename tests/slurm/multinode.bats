#!/usr/bin/env bats
# tests/slurm/multinode.bats -- the job scripts and the MPI launchers across a real three-node Slurm.
#
#   PIMC=$PWD/build/pimc-omp bats --tap tests/slurm/multinode.bats
#   meson test -C build --suite multinode            (tests/meson.build passes PIMC)
#
# setup_file brings up a private Slurm of three nodes n1, n2, n3 on this machine (slurm-up.sh with
# PIMC_SLURM_NODES=3: one slurmctld, three slurmd, each node with its own host name, all on
# loopback); teardown_file stops it by PID and leaves nothing running (see cluster.bash). The jobs
# run pimc-omp built with either MPI library: Open MPI under srun --mpi=pmix and mpirun, MPICH under
# srun --mpi=pmi2 and mpiexec (hydra) -- hybrid.sh picks the srun type from the binary, and runs the
# library's launcher instead with PIMC_LAUNCHER. The tests
# check the hits against the one-core hits, the hosts in the report and the ranks, threads_per_rank
# and nodes columns; then they kill a rank, and a whole node (its slurmd, job steps and tasks), in
# the middle of a run, and the job must end within 30 s, non-zero, saying what was lost, with no
# torn row in the CSV. Needs root, slurm-wlm, munge, libpmix-dev (pmix) and a pimc-omp built with
# MPI; skips without root or the programs (PIMC_SLURM_REQUIRED=1 makes that a failure). About 3
# minutes on a 2-core machine.

# shellcheck disable=SC2154 # id and out: set by submit (cluster.bash), output and lines by bats' run
bats_require_minimum_version 1.5.0

load cluster

setup_file() {
    # MPI traffic between the "nodes" (one machine under three host names) stays on loopback: Open
    # MPI would also try this machine's other addresses, UCX (MPICH's transport) and hydra too.
    export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
    export UCX_NET_DEVICES=lo HYDRA_IFACE=lo
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    start_test_cluster 3
}
teardown_file() { stop_test_cluster; }

# A test that failed after killing a node leaves it down: the next ones need all three.
teardown() {
    [[ -z ${SLURM_SKIP:-} && -d ${TESTDIR:-}/cluster/run ]] || return 0
    local node pid
    for node in n1 n2 n3; do
        pid=$(cat "$TESTDIR/cluster/run/slurmd-$node.pid" 2>/dev/null)
        [[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == slurmd ]] || back_up "$node"
    done
}

# The binary's MPI library, the srun --mpi type it needs, and its own launcher.
require_mpi() {
    require_pimc || return 1
    LIBRARY=$("$PIMC" --version 2>/dev/null | sed -n 's/^MPI: //p')
    case $LIBRARY in
    "Open MPI "*) SRUN_MPI=pmix LAUNCHER=(mpirun.openmpi --bind-to none) ;;
    "MPICH "*) SRUN_MPI=pmi2 LAUNCHER=(mpiexec.mpich -bind-to none) ;;
    *)
        echo "PIMC=$PIMC has no MPI library this test knows (--version: MPI: ${LIBRARY:-no such line}): build it with meson setup -Dmpi=enabled" >&2
        return 1
        ;;
    esac
    command -v "${LAUNCHER[0]}" >/dev/null || { echo "no ${LAUNCHER[0]} for $LIBRARY" >&2; return 1; }
}

# wait_for_output FILE -- until the job script has started pimc-omp (its "== pimc-omp" line).
wait_for_output() {
    local i
    for ((i = 0; i < 150; i++)); do
        grep -q '^== pimc-omp$' "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    echo "$1: pimc-omp never started" >&2
    return 1
}

# ranks_of NODE -- the PIDs of pimc-omp processes on NODE (in its namespace), one a line.
ranks_of() {
    local ns p comm
    read -r ns <"$TESTDIR/cluster/run/$1.uts"
    # The name first, by bash alone: a readlink for each of the machine's processes took seconds on a
    # loaded machine, long enough for a short run to end unseen.
    for p in /proc/[0-9]*; do
        { read -r comm <"$p/comm"; } 2>/dev/null || continue
        [[ $comm == pimc-omp && $(readlink "$p/ns/uts" 2>/dev/null) == "$ns" ]] && echo "${p#/proc/}"
    done
    return 0 # (bats runs with set -e: the loop's last test must not fail the caller)
}

# wait_for_ranks NODE -- until a rank runs on NODE; prints its PID.
wait_for_ranks() {
    local i pids
    for ((i = 0; i < 150; i++)); do
        pids=$(ranks_of "$1")
        [[ -n $pids ]] && { head -n 1 <<<"$pids"; return 0; }
        sleep 0.2
    done
    echo "no rank ever ran on $1" >&2
    return 1
}

# back_up NODE -- a node killed by a test comes back (ReturnToService=2) for the next tests.
back_up() {
    "$REPO/tests/slurm/slurm-node.sh" "$TESTDIR/cluster" start "$1"
    local i
    for ((i = 0; i < 300; i++)); do
        [[ $(sinfo -h -n "$1" -o %T) == idle ]] && return 0
        sleep 0.2
    done
    echo "node $1 did not come back: $(sinfo -h -n "$1" -o '%T %E')" >&2
    return 1
}

# no_torn_rows CSV -- the CSV, if any, is a header and whole rows (csv_rows checks every row's fields);
# empty when pimc-omp was killed after it created the file, before it wrote anything.
no_torn_rows() {
    [[ -s $1 ]] || return 0
    run csv_rows "$1" status
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "three nodes, each with its own host name" {
    needs_slurm
    [ "$(sinfo -h -N -o '%N %T' | sort | tr '\n' ' ')" = "n1 idle n2 idle n3 idle " ]
    run -0 srun -N 3 --ntasks-per-node=1 hostname
    [ "$(sort <<<"$output" | tr '\n' ' ')" = "n1 n2 n3 " ]
    [ "$(hostname)" != n1 ] # the test's own host name is untouched
}

@test "hybrid.sh -N 3 with 1 and 2 tasks per node, block and cyclic: srun --mpi for the library, the one-core hits, 3 nodes" {
    needs_slurm
    require_mpi
    workdir hybrid
    csv=$TESTDIR/hybrid/runs.csv
    want=$(plain_hits 3e7 --seed 5)
    submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" sbatch --wait --parsable -N 3 --ntasks-per-node=1 -c 1 \
        "$REPO/slurm/hybrid.sh" --seed 5 --no-serial 3e7
    grep -Eq "^MPI launcher +srun --mpi=$SRUN_MPI\$" "$out"
    grep -Eq '^node count +3$' "$out"
    grep -Eq '^  threads +3 = 3 ranks x 1 threads ' "$out"
    grep -Eq '^  hosts +n1 \(rank 0\), n2 \(rank 1\), n3 \(rank 2\);' "$out"
    grep -qxF "  MPI           $LIBRARY" "$out"
    grep -Eq "^  hits +$want\$" "$out"
    first=$id
    submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" sbatch --wait --parsable -N 3 --ntasks-per-node=2 -c 1 \
        "$REPO/slurm/hybrid.sh" --seed 5 --no-serial 3e7
    grep -Eq '^  threads +6 = 6 ranks x 1 threads ' "$out"
    grep -Eq '^  hosts +n1 \(ranks 0-1\), n2 \(ranks 2-3\), n3 \(ranks 4-5\);' "$out"

    second=$id
    # Cyclic placement (srun takes sbatch's -m): n1 n2 n3 n1 n2 n3 -- still 3 distinct nodes. A 3-day
    # limit: the node check's default interval grows to keep the job under 10,000 check steps.
    submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" sbatch --wait --parsable -m cyclic -N 3 --ntasks-per-node=2 -c 1 \
        -t 3-00:00:00 "$REPO/slurm/hybrid.sh" --seed 5 --no-serial 3e7
    grep -Eq '^time limit +3-00:00:00$' "$out"
    grep -Eq '^node check +every 26 s$' "$out" # 259,200 s / 10,000, rounded up
    grep -Eq '^  hosts +n1 \(rank 0\), n2 \(rank 1\), n3 \(rank 2\), n1 \(rank 3\), n2 \(rank 4\), n3 \(rank 5\);' "$out"

    check_rows "$csv" ranks threads_per_rank threads nodes hits status slurm_job_id
    [ "${lines[0]}" = "3 1 3 3 $want complete $first" ]
    [ "${lines[1]}" = "6 1 6 3 $want complete $second" ]
    [ "${lines[2]}" = "6 1 6 3 $want complete $id" ]
    # The host column is rank 0's: n1.
    check_rows "$csv" host
    [ "${lines[*]}" = "n1 n1 n1" ]
}

@test "hybrid.sh -N 3 with PIMC_CHECKPOINT: stopped by the time-limit warning, a successor on 3 nodes finishes the one-core hits" {
    needs_slurm
    require_mpi
    workdir hybrid-chain
    csv=$TESTDIR/hybrid-chain/chain.csv
    # Scalar Philox on 3 ranks sharing this machine's CPUs: some 20 s of their CPU time (at the rate
    # measured here), so that the warning, sent once the checkpoint shows 1 or 2 chunks (drawn before
    # the submission) and a save every second, lands mid-run on a CPU of any speed.
    local rate throws chunk rank0 file target
    rate=$(cpu_rate scalar)
    throws=$((20 * rate * (USABLE_CPUS < 3 ? USABLE_CPUS : 3)))
    chunk=$(chunk_throws "$throws")
    RANDOM=9
    target=$(((1 + RANDOM % 2) * chunk))
    want=$(plain_hits "$throws" --seed 9)
    submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" PIMC_CHECKPOINT=1 PIMC_CHECKPOINT_INTERVAL=1 \
        sbatch --parsable -N 3 --ntasks-per-node=1 -c 1 "$REPO/slurm/hybrid.sh" --seed 9 --kernel scalar "$throws"
    first=$id
    wait_for_output "$out"
    rank0=$(wait_for_ranks n1)
    file=$TESTDIR/hybrid-chain/pimc-$first.checkpoint.json
    grep -Eq "^checkpoint +$file\$" "$out"
    wait_for_throws "$rank0" "$file" "$target" || { echo "rank 0 ended before $target throws were saved"; false; }
    echo "USR1 at $(checkpoint_value "$file" throws_done) throws saved, of $throws"
    # What --signal=B:USR1@... makes Slurm send the batch script before the time limit.
    scancel --batch --signal=USR1 "$first"
    wait_job "$first" 60
    cat "$out"
    next=$(sed -n 's/^hybrid.sh: the run goes on in job \([0-9]*\) .*/\1/p' "$out")
    [[ $next =~ ^[0-9]+$ ]]
    wait_job "$next" 120
    cat "slurm-$next.out"
    grep -Eq "^== hybrid.sh: job $next: pimc-omp exited with status 0 " "slurm-$next.out"
    grep -Eq '^node count +3$' "slurm-$next.out"
    check_rows "$csv" status ranks nodes hits segments throws_resumed slurm_job_id
    [ "${#lines[@]}" -eq 2 ]
    read -r row_status ranks nodes hits segments resumed job <<<"${lines[0]}"
    [ "$row_status $ranks $nodes $job" = "partial 3 3 $first" ]
    read -r row_status ranks nodes hits segments resumed job <<<"${lines[1]}"
    [ "$row_status $ranks $nodes $hits $segments $job" = "complete 3 3 $want 2 $next" ]
    ((resumed >= target && resumed < throws))
    no_torn_rows "$csv"
}

@test "hybrid.sh --sweep across 3 nodes: the 1-core baseline on one node, then 3 x 1 and 3 x 2" {
    needs_slurm
    require_mpi
    workdir sweep
    csv=$TESTDIR/sweep/sweep.csv
    want=$(plain_hits 1e7)
    submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" sbatch --wait --parsable -N 3 --ntasks-per-node=1 -c 2 \
        "$REPO/slurm/hybrid.sh" --sweep 1,2 --repeat 1 1e7
    grep -Eq '^([0-9]+ +)?3 \(3x1\) +[0-9.]+ ' "$out"
    grep -Eq '^([0-9]+ +)?6 \(3x2\) +[0-9.]+ ' "$out"
    check_rows "$csv" ranks threads_per_rank threads nodes hits status
    [ "${#lines[@]}" -eq 3 ]
    [ "${lines[0]}" = "1 1 1 1 $want complete" ]
    [ "${lines[1]}" = "3 1 3 3 $want complete" ]
    [ "${lines[2]}" = "3 2 6 3 $want complete" ]
}

@test "the library's own launcher across the 3 nodes: mpirun (Open MPI) or mpiexec (MPICH, hydra)" {
    needs_slurm
    require_mpi
    workdir launcher
    want=$(plain_hits 3e7)
    printf '#!/bin/bash\n"$@"\n' >job.sh
    submit 0 sbatch --wait --parsable -N 3 --ntasks-per-node=1 -c 1 job.sh \
        "${LAUNCHER[@]}" -n 3 "$PIMC" -t 1 --no-serial --csv "$PWD/l.csv" 3e7
    grep -Eq '^  hosts +n1 \(rank 0\), n2 \(rank 1\), n3 \(rank 2\);' "$out"
    check_rows l.csv ranks nodes hits
    [ "$output" = "3 3 $want" ]

    # hybrid.sh with PIMC_LAUNCHER: the same launcher, told -n and the binding, 2 ranks a node.
    submit 0 env PIMC="$PIMC" PIMC_CSV="$PWD/h.csv" PIMC_LAUNCHER="${LAUNCHER[0]}" \
        sbatch --wait --parsable -N 3 --ntasks-per-node=2 -c 1 "$REPO/slurm/hybrid.sh" --no-serial 3e7
    grep -Eq "^MPI launcher +${LAUNCHER[0]}\$" "$out"
    grep -Eq "^task binding +by ${LAUNCHER[0]}: " "$out"
    grep -Eq '^  hosts +n1 \(ranks 0-1\), n2 \(ranks 2-3\), n3 \(ranks 4-5\);' "$out"
    check_rows h.csv ranks threads_per_rank nodes hits status
    [ "$output" = "6 1 3 $want complete" ]
}

@test "hybrid.sh with PIMC_LAUNCHER stopped by its time-limit warning: the launcher hands SIGUSR1 to every rank, a status=partial row" {
    needs_slurm
    require_mpi
    workdir launcher-signal
    csv=$TESTDIR/launcher-signal/partial.csv
    submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" PIMC_LAUNCHER="${LAUNCHER[0]}" \
        sbatch --parsable -N 3 --ntasks-per-node=1 -c 1 "$REPO/slurm/hybrid.sh" 1e13
    wait_for_output "$out"
    thrown "$(wait_for_ranks n1)" "$(wait_for_ranks n2)" "$(wait_for_ranks n3)"
    scancel --batch --signal=USR1 "$id" # what --signal=B:USR1@60 sends the batch shell
    wait_job "$id" 60
    cat "$out"
    grep -Eq '^hybrid.sh: SIGUSR1 at .*: asking pimc-omp to stop' "$out"
    grep -q "stopped early (SIGUSR1); $csv has this job's row of a stopped run (status=partial, or stopped_in set)" "$out"
    [ "$(job_state "$id")" = "FAILED 143:0" ]
    check_rows "$csv" ranks nodes status throws_requested throws slurm_job_id
    [ "${#lines[@]}" -eq 1 ]
    read -r ranks nodes row_status requested done_throws job <<<"${lines[0]}"
    [ "$ranks $nodes $row_status $requested $job" = "3 3 partial 10000000000000 $id" ]
    ((done_throws > 0 && done_throws < requested))
}

@test "scaling.sh and sweep.sh on the 3-node partition: one-node jobs, rows from the nodes' host names" {
    needs_slurm
    require_pimc
    workdir scaling
    run env PIMC="$PIMC" "$REPO/slurm/scaling.sh" --cores "1 2 4" -p debug -t 5 1e7
    echo "$output"
    [ "$status" -eq 0 ]
    report=$(sed -n 's/^submitted job \([0-9]*\): report.*/\1/p' <<<"$output")
    csv=$(sed -n 's/^csv  *//p' <<<"$output")
    wait_job "$report" 120
    [ "$(job_state "$report")" = "COMPLETED 0:0" ]
    check_rows "$csv" threads status nodes host
    [ "$(cut -d' ' -f1-3 <<<"$output" | sort -n | tr '\n' '/')" = "1 complete 1/2 complete 1/4 complete 1/" ]
    hosts=$(cut -d' ' -f4 <<<"$output")
    run ! grep -Ev '^n[1-3]$' <<<"$hosts" # every host is a node's own name

    submit 0 env PIMC="$PIMC" sbatch --wait --parsable "$REPO/slurm/sweep.sh" 1e7
    check_rows "results/sweep-$id.csv" status mode nodes host
    [ "$(sort -u <<<"$output" | wc -l)" -eq 1 ]
    [[ ${lines[0]} =~ ^complete\ strong\ 1\ n[1-3]$ ]]
}

@test "a rank killed mid-run under srun: the job ends within 30 s, non-zero, naming the task and node" {
    needs_slurm
    require_mpi
    workdir lost-rank
    csv=$TESTDIR/lost-rank/lost.csv
    submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" sbatch --parsable -N 3 --ntasks-per-node=1 -c 1 \
        "$REPO/slurm/hybrid.sh" 1e13
    wait_for_output "$out"
    victim=$(wait_for_ranks n2)
    thrown "$victim" # well into the throws
    kill -KILL "$victim"
    start=$SECONDS
    wait_job "$id" 30
    echo "ended $((SECONDS - start)) s after the kill"
    cat "$out"
    ((SECONDS - start <= 30))
    state=$(job_state "$id")
    [[ $state == FAILED\ * && $state != "FAILED 0:0" ]]
    grep -Eq '^srun: error: n2: task 1: Killed' "$out"
    grep -q '^hybrid.sh: pimc-omp was killed (status 137 = signal 9), not stopped: a rank died or was lost' "$out"
    [ -z "$(ranks_of n1)$(ranks_of n2)$(ranks_of n3)" ]
    no_torn_rows "$csv"
}

@test "a node lost mid-run under srun (its slurmd, steps and ranks killed): the job ends within 30 s, naming it" {
    needs_slurm
    require_mpi
    workdir lost-node
    csv=$TESTDIR/lost-node/lost.csv
    submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" sbatch --parsable -N 3 --ntasks-per-node=1 -c 1 \
        "$REPO/slurm/hybrid.sh" 1e13
    wait_for_output "$out"
    thrown "$(wait_for_ranks n3)"
    grep -Eq '^node check +every 5 s$' "$out"
    run -0 "$REPO/tests/slurm/slurm-node.sh" "$TESTDIR/cluster" kill n3
    echo "$output"
    [[ $output == "killed node n3: "* && $output == *"(slurmd)"* && $output == *"(pimc-omp)"* ]]
    start=$SECONDS
    # The batch script ends; the job itself stays COMPLETING until n3 is back or declared down.
    for ((i = 0; i < 60; i++)); do
        grep -q "^== hybrid.sh: job $id: pimc-omp exited with status" "$out" && break
        sleep 0.5
    done
    echo "ended $((SECONDS - start)) s after the kill"
    cat "$out"
    ((SECONDS - start <= 30))
    grep -Eq '^hybrid.sh: node n3 lost at .*failed on node n3' "$out"
    grep -q '^hybrid.sh: the run was lost with node n3' "$out"
    run ! grep -q "^== hybrid.sh: job $id: pimc-omp exited with status 0 " "$out"
    [ -z "$(ranks_of n1)$(ranks_of n2)" ]
    no_torn_rows "$csv"
    back_up n3
    wait_job "$id" 60
    state=$(job_state "$id")
    [[ $state != "COMPLETED 0:0" ]]
}

@test "a rank killed, then a node lost, under hybrid.sh with the library's own launcher: the job ends within 30 s, naming it" {
    needs_slurm
    require_mpi
    workdir lost-launcher
    for what in rank node; do
        submit 0 env PIMC="$PIMC" PIMC_CSV="$PWD/$what.csv" PIMC_LAUNCHER="${LAUNCHER[0]}" \
            sbatch --parsable -N 3 --ntasks-per-node=1 -c 1 "$REPO/slurm/hybrid.sh" 1e13
        wait_for_output "$out"
        victim=$(wait_for_ranks n3)
        grep -Eq "^MPI launcher +${LAUNCHER[0]}\$" "$out"
        thrown "$victim"
        if [[ $what == rank ]]; then
            kill -KILL "$victim"
        else
            "$REPO/tests/slurm/slurm-node.sh" "$TESTDIR/cluster" kill n3
        fi
        start=$SECONDS
        for ((i = 0; i < 60; i++)); do
            grep -q "^== hybrid.sh: job $id: pimc-omp exited with status" "$out" && break
            sleep 0.5
        done
        echo "$what: ended $((SECONDS - start)) s after the kill"
        cat "$out"
        ((SECONDS - start <= 30))
        grep -Eq "^== hybrid.sh: job $id: pimc-omp exited with status [1-9]" "$out"
        case $LIBRARY:$what in
        # The launchers name a killed rank themselves; a lost node hybrid.sh's node check names
        # (Open MPI names it too, hydra does not).
        "Open MPI "*:rank) grep -Eq 'process rank 2 with PID .* on node n3 exited on signal 9' "$out" ;;
        MPICH*:rank) grep -Eq "PID $victim RUNNING AT n3" "$out" ;;
        *:node)
            grep -Eq '^hybrid.sh: node n3 lost at .*failed on node n3' "$out"
            grep -q '^hybrid.sh: the run was lost with node n3' "$out"
            ;;
        esac
        # mpirun's exit status is 128 + the signal, hydra's 255 or 9 (the signal's number).
        [[ $what == node ]] || grep -Eq '^hybrid.sh: pimc-omp was killed \(status (137 = signal 9|(255|9): [^ ]*mpiexec[^ ]* for a rank that ended badly)\), not stopped' "$out"
        [ -z "$(ranks_of n1)$(ranks_of n2)" ]
        no_torn_rows "$PWD/$what.csv"
        [[ $what == rank ]] || back_up n3
        wait_job "$id" 60
        state=$(job_state "$id")
        [[ $state != "COMPLETED 0:0" ]]
    done
}
