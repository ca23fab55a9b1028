#!/usr/bin/env bats
# tests/slurm/slurm.bats -- the job scripts in slurm/ against a real one-node Slurm.
#
#   PIMC=$PWD/build/pimc-omp bats --tap tests/slurm/slurm.bats
#   meson test -C build --suite slurm            (tests/meson.build passes PIMC)
#
# setup_file brings up a private Slurm (munged, slurmctld, slurmd; tests/slurm/slurm-up.sh) in a
# fresh directory under /tmp, where every job's output and CSV also go; teardown_file stops it by its
# pid files (slurm-down.sh) whatever the tests did, and removes the directory (PIMC_SLURM_KEEP=1
# keeps it, with the daemons' logs, for a look). Should bats be killed outright, a watchdog stops the
# daemons. Needs root, slurm-wlm, munge, python3, shellcheck; no systemd. Without root or those
# programs the tests skip, saying why; PIMC_SLURM_REQUIRED=1 (for CI, which installs them) makes that
# a failure instead. The node declares 16 CPUs on whatever the machine has: the tests check the
# scripts' plumbing (threads = CPUs per task, rows, signals), never timings.
#
# PIMC is the pimc-omp binary (default: build/pimc-omp of this checkout). When it does not exist the
# tests that run it fail, saying so; they never skip. The slurm/hybrid.sh tests (MPI + OpenMP, one
# node here) also need a pimc-omp built with MPI and `srun --mpi=pmix` working on this Slurm (on
# Debian 12: libpmix-dev, which libopenmpi-dev pulls in); without them they fail, saying why. About
# 3 to 4 minutes, most of it the two pimc.sh time-limit tests (a partial row; a checkpointed run
# chained across jobs), which wait for Slurm's time-limit signals (its checks run every ~30 s).

# shellcheck disable=SC2154 # id and out: set by submit (cluster.bash), output and lines by bats' run
bats_require_minimum_version 1.5.0

load cluster

setup_file() { start_test_cluster 1; }
teardown_file() { stop_test_cluster; }

@test "pimc.sh with sbatch --wait -c 2: defaults for binary, CSV and output; context, result, one row" {
    needs_slurm
    require_pimc
    workdir defaults
    mkdir -p build && ln -s "$PIMC" build/pimc-omp # the default binary: build/pimc-omp of the submit dir
    submit 0 env -u PIMC sbatch --wait --parsable -c 2 "$REPO/slurm/pimc.sh" 1e7
    [ "$(job_state "$id")" = "COMPLETED 0:0" ]
    grep -Eq "^job id +$id\$" "$out"
    grep -Eq '^partition +debug$' "$out"
    grep -Eq '^cpus per task +2$' "$out"
    grep -Eq "^binary +$TESTDIR/defaults/build/pimc-omp\$" "$out"
    grep -Eq '^version +pimc-omp [^ ]+' "$out"
    grep -Eq '^OMP_NUM_THREADS +2$' "$out"
    grep -Eq '^OMP_PROC_BIND +close$' "$out"
    grep -Eq '^OMP_PLACES +cores$' "$out"
    grep -Eq "^csv +$TESTDIR/defaults/results/slurm-runs.csv\$" "$out"
    grep -Eq -- '--cpus-per-task=2 .*/pimc-omp --csv .*slurm-runs.csv 1e7$' "$out"
    grep -Eq '3\.14[0-9]+' "$out" # the estimate in pimc-omp's report
    grep -Eq "^== pimc.sh: job $id: pimc-omp exited with status 0 " "$out"

    check_rows results/slurm-runs.csv threads throws throws_requested status mode slurm_job_id \
        threads_source omp_proc_bind omp_places usable_cpus
    [ "${output% *}" = "2 10000000 10000000 complete single $id OMP_NUM_THREADS close cores" ]
    # usable_cpus: what the process may run on, not where OMP_PROC_BIND put its first thread.
    echo "usable_cpus ${output##* }, CPUs the job may use $(machine_cpus)"
    [ "${output##* }" = "$(machine_cpus)" ]
}

@test "pimc.sh with PIMC, PIMC_CSV, -c 4 and pimc-omp options: rows append under one header" {
    needs_slurm
    require_pimc
    workdir vars
    csv=$TESTDIR/vars/out/runs.csv
    submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" sbatch --wait --parsable -c 2 "$REPO/slurm/pimc.sh" 1e6
    first=$id
    # A stand-in for the cluster's `module` (Lmod and Environment Modules are shell functions that
    # sbatch hands to the job through the environment).
    module() { echo "module $*" >>"$TESTDIR/vars/module.log"; }
    export -f module
    submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" PIMC_MODULES="gcc openmpi" sbatch --wait --parsable -c 4 \
        -J pimc-c4 "$REPO/slurm/pimc.sh" 2e6 --seed 7 --no-serial
    second=$id
    grep -Eq '^job name +pimc-c4$' "$out"
    grep -Eq '^cpus per task +4$' "$out"
    grep -Eq '^OMP_NUM_THREADS +4$' "$out"
    grep -Eq "^binary +$PIMC\$" "$out"
    grep -Eq '^time limit +30:00$' "$out" # the script's default
    grep -Eq '^modules +gcc openmpi$' "$out"
    [ "$(cat module.log)" = "module load gcc openmpi" ]

    check_rows "$csv" threads throws seed serial_s status slurm_job_id
    [[ ${lines[0]} =~ ^2\ 1000000\ 1\ [0-9.e+-]+\ complete\ $first$ ]] # serial_s: a time
    [ "${lines[1]}" = "4 2000000 7  complete $second" ] # --no-serial: serial_s empty
    [ "${#lines[@]}" -eq 2 ]
}

@test "pimc.sh outside Slurm, or with a missing binary: exit 2 and say why" {
    needs_slurm
    run -2 env -u SLURM_JOB_ID bash "$REPO/slurm/pimc.sh" 1e6
    [[ $output == *"not inside a Slurm job; submit it"* ]]

    workdir nobinary
    submit 2 env PIMC=/nonexistent/pimc-omp sbatch --wait --parsable -c 1 "$REPO/slurm/pimc.sh" 1e6
    grep -q 'PIMC=/nonexistent/pimc-omp: not an executable file' "$out"
    [ "$(job_state "$id")" = "FAILED 2:0" ]
}

@test "pimc.sh finds job-common.sh next to the script submitted (./path with spaces, -D, symlink), else exit 2" {
    needs_slurm
    require_pimc
    workdir lookup
    # A checkout elsewhere, with a space in its path; the submit directory has no slurm/ of its own,
    # and the job runs a copy of the script in slurmd's spool directory.
    mkdir -p "a checkout/slurm" elsewhere lonely
    cp "$REPO/slurm/pimc.sh" "$REPO/slurm/job-common.sh" "a checkout/slurm/"
    ln -s "a checkout/slurm/pimc.sh" linked.sh
    # Command= keeps a ./ path as given (from the submit directory, not -D's), then the arguments.
    submit 0 env PIMC="$PIMC" sbatch --wait --parsable -c 1 -D elsewhere -o "$PWD/slurm-%j.out" \
        "./a checkout/slurm/pimc.sh" --seed 3 1e6
    grep -Eq "^== pimc.sh: job $id: pimc-omp exited with status 0 " "$out"
    submit 0 env PIMC="$PIMC" sbatch --wait --parsable -c 1 ./linked.sh 1e6
    grep -Eq "^== pimc.sh: job $id: pimc-omp exited with status 0 " "$out"

    cp "$REPO/slurm/pimc.sh" lonely/
    submit 2 env PIMC="$PIMC" sbatch --wait --parsable -c 1 lonely/pimc.sh 1e6
    grep -qF "pimc.sh: cannot find job-common.sh: not next to the submitted script (Command=$PWD/lonely/pimc.sh 1e6), nor in $PWD/slurm; submit the job script of a pimc-omp checkout" "$out"
    [ "$(job_state "$id")" = "FAILED 2:0" ]
    # The same copy submitted from a checkout: its slurm/ (of $SLURM_SUBMIT_DIR) has job-common.sh.
    cd "a checkout"
    submit 0 env PIMC="$PIMC" sbatch --wait --parsable -c 1 ../lonely/pimc.sh 1e6
    grep -Eq "^== pimc.sh: job $id: pimc-omp exited with status 0 " "$out"
}

@test "pimc.sh at its time limit: --signal reaches pimc-omp, which records a status=partial row" {
    needs_slurm
    require_pimc
    workdir timelimit
    csv=$TESTDIR/timelimit/partial.csv
    # The script's own --signal=B:USR1@60 with -t 2. Slurm checks limits every ~30 s, and the signal
    # came up to ~20 s early or late here: with -t 1 it could come before pimc-omp even started.
    # With -t 2 it comes 30-90 s into the run, well before the kill at about 2.5 min.
    submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" sbatch --parsable -c 1 -t 2 "$REPO/slurm/pimc.sh" 1e13
    wait_job "$id" 240
    cat "$out"
    grep -Eq '^pimc.sh: SIGUSR1 at .*: asking pimc-omp to stop' "$out"
    grep -Eq "^== pimc.sh: job $id: pimc-omp exited with status 143 " "$out"
    grep -q "stopped early (SIGUSR1); $csv has this job's row of a stopped run (status=partial, or stopped_in set)" "$out"
    [ "$(job_state "$id")" = "FAILED 143:0" ] # ended by pimc.sh before the limit (TIMEOUT otherwise)

    check_rows "$csv" threads status throws_requested throws slurm_job_id
    [ "${#lines[@]}" -eq 1 ]
    read -r threads row_status requested done_throws job <<<"${lines[0]}"
    [ "$threads $row_status $requested $job" = "1 partial 10000000000000 $id" ]
    ((done_throws > 0 && done_throws < requested))
}

@test "pimc.sh with PIMC_CHECKPOINT and a 2-minute limit: chained jobs finish the run with one uninterrupted run's hits" {
    needs_slurm
    require_pimc
    workdir chain
    csv=$TESTDIR/chain/chain.csv
    # Slurm checks limits about every 30 s, and its warning has come up to ~20 s early or late here.
    # With -t 1 and USR1@30 it once came so late that the limit's kill took the job before it could
    # submit its successor (CI, 2026-12-02), and it can come before pimc-omp starts, which ends a
    # chain by design. With -t 2 and USR1@60 it comes 30-90 s in, with 30 s left to stop. The run is
    # 150 s of one scalar core's CPU time, at the rate measured here (the best of 3), more than any
    # one job gets on a CPU of any speed (3e10 throws were 110-170 s on one CPU, 88 s on another).
    local rate=0 r throws
    for r in 1 2 3; do
        r=$(cpu_rate scalar)
        ((r > rate)) && rate=$r
    done
    throws=$((150 * rate))
    echo "throws: $throws (scalar: $rate throws per CPU second)"
    # shellcheck disable=SC2153 # THREADS: set by tests/machine.bash (through cluster.bash)
    want=$("$PIMC" -t "$THREADS" --no-serial --seed 3 --json "$throws" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["hits"])')
    submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" PIMC_CHECKPOINT=1 PIMC_CHECKPOINT_INTERVAL=5 \
        sbatch --parsable -c 1 -t 2 --signal=B:USR1@60 "$REPO/slurm/pimc.sh" "$throws" --seed 3 --kernel scalar
    first=$id
    # Follow the chain: each stopped job names its successor in its output.
    local jobs=("$first") i last=$first
    for ((i = 0; i < 10; i++)); do
        wait_job "$last" 240
        cat "slurm-$last.out"
        next=$(sed -n 's/^pimc.sh: the run goes on in job \([0-9]*\) .*/\1/p' "slurm-$last.out")
        [[ -n $next ]] || break
        last=$next
        jobs+=("$last")
    done
    echo "jobs: ${jobs[*]}"
    ((${#jobs[@]} >= 2)) || { echo "the first job finished the run: $throws throws took under one job's time"; false; }
    grep -Eq "^== pimc.sh: job $last: pimc-omp exited with status 0 " "slurm-$last.out"
    check_rows "$csv" status hits segments throws_resumed slurm_job_id
    [ "${#lines[@]}" -eq "${#jobs[@]}" ] # a partial row per stopped job, then the complete one
    [ "$(grep -c '^complete ' <<< "$output")" -eq 1 ]
    read -r row_status hits segments resumed job <<< "${lines[-1]}"
    [ "$row_status $hits $job" = "complete $want $last" ]
    ((segments >= 2 && resumed > 0))
    [ -s "$TESTDIR/chain/pimc-$first.checkpoint.json" ]
}

@test "scaling.sh: one job per core count (capped by sinfo), one CSV, then the table and figure" {
    needs_slurm
    require_pimc
    workdir scaling
    run env PIMC="$PIMC" "$REPO/slurm/scaling.sh" --cores "1 2 4 32" -p debug -t 5 1e7
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"leaving out 32: nodes of partition debug have at most 16 CPUs"* ]]
    [ "$(grep -c '^submitted job [0-9]*: pimc.sh on ' <<<"$output")" -eq 3 ]
    [[ $output == *"squeue -u "* ]]
    report=$(sed -n 's/^submitted job \([0-9]*\): report.*/\1/p' <<<"$output")
    csv=$(sed -n 's/^csv  *//p' <<<"$output")
    [[ $report =~ ^[0-9]+$ && $csv == "$TESTDIR"/scaling/results/scaling-*.csv ]]

    wait_job "$report" 120
    [ "$(job_state "$report")" = "COMPLETED 0:0" ]
    cat "slurm-$report.out"
    for n in 1 2 4; do
        grep -Eq "^ *$n CPUs: 1 complete, 0 partial" "slurm-$report.out"
        # the table line of n threads: its cores first when they differ (4 threads on 2 cores)
        grep -Eq "^ *($n|[0-9]+ +$n) +[0-9]+\.[0-9]+ " "slurm-$report.out"
    done
    [ -s "${csv%.csv}.svg" ]
    [ -s "${csv%.csv}.png" ]

    check_rows "$csv" threads status throws
    [ "$(sort -n <<<"$output" | tr '\n' '/')" = "1 complete 10000000/2 complete 10000000/4 complete 10000000/" ]
}

@test "sweep.sh: one whole-node job, pimc-omp --sweep pow2 over the powers of two up to its CPUs" {
    needs_slurm
    require_pimc
    if ! "$PIMC" --help | grep -q -- '--sweep'; then
        skip "this pimc-omp has no --sweep yet (a later issue); slurm/sweep.sh not run"
    fi
    workdir sweep
    submit 0 env PIMC="$PIMC" sbatch --wait --parsable "$REPO/slurm/sweep.sh" 1e7
    grep -Eq '^cpus +16$' "$out" # --exclusive: every CPU the node declares
    grep -Eq '^OMP_NUM_THREADS +16$' "$out"
    grep -Eq -- '--cpus-per-task=16 .*/pimc-omp --sweep pow2 --csv .*/sweep-[0-9]+\.csv 1e7$' "$out"
    check_rows "results/sweep-$id.csv" threads usable_cpus status mode slurm_job_id
    # pow2 is, per pimc-omp --help, the powers of two up to the usable CPUs, and that count. Here the
    # usable CPUs are the machine's (task/none binds nothing), not the 16 the job holds.
    MACHINE_CPUS=$(machine_cpus) python3 -c '
import os, sys
job, rows = sys.argv[1], [line.split() for line in sys.argv[2].splitlines()]
usable = {int(r[1]) for r in rows}
assert len(usable) == 1, f"rows disagree on usable_cpus: {usable}"
u = usable.pop()
m = int(os.environ["MACHINE_CPUS"])
assert u == m, f"usable_cpus {u}, but the job may run on {m} CPUs (counted after OMP_PROC_BIND bound the first thread?)"
want = {1 << k for k in range(u.bit_length())} | {u}
got = {int(r[0]) for r in rows}
assert got == want, f"thread counts {sorted(got)}, expected {sorted(want)} (usable CPUs {u})"
bad = [r for r in rows if r[2:] != ["complete", "strong", job]]
assert not bad, f"rows not \"complete strong {job}\": {bad}"
' "$id" "$output"
}

# The hybrid.sh tests need srun --mpi=pmix on this cluster and a pimc-omp built with MPI: they fail
# (never skip) when either is missing, saying why. The cluster keeps MpiDefault=none, so they also
# show that hybrid.sh asks for pmix itself.
require_pmix() {
    require_pimc || return 1
    local lib
    lib=$("$PIMC" --version 2>/dev/null | sed -n 's/^MPI: //p')
    if [[ -z $lib || $lib == none* ]]; then
        echo "PIMC=$PIMC has no MPI (--version: MPI: ${lib:-no such line}): build it with meson setup -Dmpi=enabled" >&2
        return 1
    fi
    [[ ! -f $TESTDIR/pmix-works ]] || return 0
    local out
    if ! out=$(srun --mpi=pmix --ntasks=2 --cpus-per-task=1 true 2>&1); then
        printf 'srun --mpi=pmix does not work on this Slurm:\n%s\n' "$out" >&2
        echo "On Debian 12, Slurm's mpi_pmix plugin dlopen()s .../pmix2/lib/libpmix.so, the unversioned link that libpmix-dev ships (libopenmpi-dev pulls it in); libpmix2 alone is not enough: apt-get install libpmix-dev" >&2
        grep -i pmix "$TESTDIR/cluster/log/slurmd.log" | tail -n 5 >&2
        return 1
    fi
    touch "$TESTDIR/pmix-works"
}

@test "hybrid.sh -N 1 --ntasks-per-node=2 -c 1: srun --mpi=pmix, 2 ranks x 1 thread, the one-core hits" {
    needs_slurm
    require_pmix
    workdir hybrid
    mkdir -p build && ln -s "$PIMC" build/pimc-omp # the default binary: build/pimc-omp of the submit dir
    want=$(plain_hits 2e7)
    submit 0 env -u PIMC sbatch --wait --parsable -N 1 --ntasks-per-node=2 -c 1 "$REPO/slurm/hybrid.sh" 2e7
    [ "$(job_state "$id")" = "COMPLETED 0:0" ]
    node=$(sinfo -h -o %N)
    lib=$("$PIMC" --version | sed -n 's/^MPI: //p')
    grep -Eq "^job id +$id\$" "$out"
    grep -Eq '^job name +pimc-hybrid$' "$out"
    grep -Eq "^nodes +$node\$" "$out"
    grep -Eq '^node count +1$' "$out"
    grep -Eq '^ntasks +2$' "$out"
    grep -Eq '^tasks per node +2$' "$out"
    grep -Eq '^cpus per task +1$' "$out"
    grep -Eq '^MPI launcher +srun --mpi=pmix$' "$out"
    grep -Eq "^binary +$TESTDIR/hybrid/build/pimc-omp\$" "$out"
    grep -Eq "^MPI +$lib\$" "$out" # from pimc-omp --version
    grep -Eq '^OMP_NUM_THREADS +1$' "$out"
    # task/none here: both tasks may run on all of the machine's CPUs, so hybrid.sh unbinds threads.
    grep -Eq "^task binding +NOT bound: 2 tasks on $node share CPUs " "$out"
    grep -Eq '^OMP_PROC_BIND +false$' "$out"
    grep -Eq '^OMP_PLACES +\(unset\)$' "$out"
    grep -Eq "^csv +$TESTDIR/hybrid/results/slurm-runs.csv\$" "$out"
    grep -Eq -- '^command +srun --mpi=pmix --kill-on-bad-exit=1 --cpus-per-task=1 .*/pimc-omp --csv .*/slurm-runs.csv 2e7$' "$out"
    # pimc-omp's report, printed once (by rank 0)
    [ "$(grep -c '^  threads ' "$out")" -eq 1 ]
    grep -Eq '^  threads +2 = 2 ranks x 1 threads ' "$out"
    grep -Eq "^  MPI +$lib\$" "$out"
    grep -Eq "^  hosts +$node \\(ranks 0-1\\)" "$out"
    grep -Eq "^  hits +$want\$" "$out"
    grep -Eq '^  verification +PASSED' "$out"
    grep -Eq "^== hybrid.sh: job $id: pimc-omp exited with status 0 " "$out"

    check_rows results/slurm-runs.csv ranks threads_per_rank threads throws hits status mode slurm_job_id
    [ "$output" = "2 1 2 20000000 $want complete single $id" ]
}

@test "hybrid.sh 2 x 2, 1 x 2 and its defaults (2 x 8): threads per rank = -c, hits as on one core" {
    needs_slurm
    require_pmix
    workdir hybrid2
    csv=$TESTDIR/hybrid2/out/runs.csv
    want=$(plain_hits 2e7 --seed 7)
    ids=()
    for shape in "--ntasks-per-node=2 -c 2" "--ntasks-per-node=1 -c 2" ""; do
        # shellcheck disable=SC2086 # the shape is sbatch options, one per word
        submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" sbatch --wait --parsable -N 1 $shape "$REPO/slurm/hybrid.sh" \
            --seed 7 --no-serial 2e7
        ids+=("$id")
    done
    grep -Eq '^cpus per task +2$' "slurm-${ids[0]}.out"
    grep -Eq '^OMP_NUM_THREADS +2$' "slurm-${ids[0]}.out"
    grep -Eq '^  threads +4 = 2 ranks x 2 threads ' "slurm-${ids[0]}.out"
    # One task on the node: nothing to share, OMP_PROC_BIND=close and OMP_PLACES=cores stay.
    grep -Eq '^ntasks +1$' "slurm-${ids[1]}.out"
    grep -Eq '^task binding +bound: ' "slurm-${ids[1]}.out"
    grep -Eq '^OMP_PROC_BIND +close$' "slurm-${ids[1]}.out"
    grep -Eq '^OMP_PLACES +cores$' "slurm-${ids[1]}.out"
    # The #SBATCH defaults, with -N 1: 2 tasks per node, 8 CPUs each -- the 16 CPUs the node declares.
    grep -Eq '^ntasks +2$' "slurm-${ids[2]}.out"
    grep -Eq '^cpus per task +8$' "slurm-${ids[2]}.out"
    grep -Eq '^time limit +30:00$' "slurm-${ids[2]}.out"
    grep -Eq '^  threads +16 = 2 ranks x 8 threads ' "slurm-${ids[2]}.out"

    check_rows "$csv" ranks threads_per_rank threads seed hits status slurm_job_id
    [ "${#lines[@]}" -eq 3 ]
    [ "${lines[0]}" = "2 2 4 7 $want complete ${ids[0]}" ]
    [ "${lines[1]}" = "1 2 2 7 $want complete ${ids[1]}" ]
    [ "${lines[2]}" = "2 8 16 7 $want complete ${ids[2]}" ]
}

@test "hybrid.sh --sweep 1,2 across 2 ranks: the 1-core baseline, then 2 x 1 and 2 x 2, one submission" {
    needs_slurm
    require_pmix
    workdir hybrid-sweep
    csv=$TESTDIR/hybrid-sweep/sweep.csv
    want=$(plain_hits 1e7)
    submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" sbatch --wait --parsable -N 1 --ntasks-per-node=2 -c 1 \
        "$REPO/slurm/hybrid.sh" --sweep 1,2 --repeat 1 1e7
    [ "$(job_state "$id")" = "COMPLETED 0:0" ]
    grep -Eq -- '^command +srun --mpi=pmix --kill-on-bad-exit=1 --cpus-per-task=1 .*/pimc-omp --csv .*/sweep.csv --sweep 1,2 --repeat 1 1e7$' "$out"
    grep -Eq '^1 +[0-9.]+ ' "$out"        # the table: the baseline (rank 0, 1 thread)
    grep -Eq '^([0-9]+ +)?2 \(2x1\) +[0-9.]+ ' "$out" # 2 ranks x 1 thread
    grep -Eq '^([0-9]+ +)?4 \(2x2\) +[0-9.]+ ' "$out" # 2 ranks x 2 threads

    check_rows "$csv" ranks threads_per_rank threads hits status mode run slurm_job_id
    [ "${#lines[@]}" -eq 3 ]
    [ "${lines[0]}" = "1 1 1 $want complete strong 0 $id" ]
    [ "${lines[1]}" = "2 1 2 $want complete strong 0 $id" ]
    [ "${lines[2]}" = "2 2 4 $want complete strong 0 $id" ]

    # Rank 0 alone reports: no other rank may claim a failed verification the exit status denies.
    if grep -q 'verification FAILED' "$out"; then
        echo "$out says 'verification FAILED' although pimc-omp exited 0 and every row has the" \
            "one-core hits: a rank other than 0 printed it (src/main.c, the study branch)" >&2
        return 1
    fi
}

@test "hybrid.sh stopped by its time-limit warning (USR1): every rank stops, a status=partial row" {
    needs_slurm
    require_pmix
    workdir hybrid-signal
    csv=$TESTDIR/hybrid-signal/partial.csv
    submit 0 env PIMC="$PIMC" PIMC_CSV="$csv" sbatch --parsable -N 1 --ntasks-per-node=2 -c 1 \
        "$REPO/slurm/hybrid.sh" 1e13
    # Wait for the run to start, and both ranks to have thrown (their handlers are up by then), then send
    # what --signal=B:USR1 sends: SIGUSR1 to the batch shell alone (the pimc.sh test waits for Slurm's
    # own; this one need not).
    for ((i = 0; i < 100; i++)); do
        grep -q '^== pimc-omp$' "$out" 2>/dev/null && break
        sleep 0.2
    done
    grep -q '^== pimc-omp$' "$out"
    local ranks=()
    while ((${#ranks[@]} < 2)); do
        mapfile -t ranks < <(job_ranks "$id")
        [[ $(squeue -h -j "$id" -o %T 2>/dev/null) == RUNNING ]] || { cat "$out"; false; }
        sleep 0.2
    done
    thrown "${ranks[@]}"
    scancel --batch --signal=USR1 "$id"
    wait_job "$id" 60
    cat "$out"
    grep -Eq '^hybrid.sh: SIGUSR1 at .*: asking pimc-omp to stop' "$out"
    grep -Eq '^  threads +2 = 2 ranks x 1 threads ' "$out"
    grep -Eq "^== hybrid.sh: job $id: pimc-omp exited with status 143 " "$out"
    grep -q "stopped early (SIGUSR1); $csv has this job's row of a stopped run (status=partial, or stopped_in set)" "$out"
    [ "$(job_state "$id")" = "FAILED 143:0" ]

    check_rows "$csv" ranks threads_per_rank status throws_requested throws slurm_job_id
    [ "${#lines[@]}" -eq 1 ]
    read -r ranks per_rank row_status requested done_throws job <<<"${lines[0]}"
    [ "$ranks $per_rank $row_status $requested $job" = "2 1 partial 10000000000000 $id" ]
    ((done_throws > 0 && done_throws < requested))
}

@test "hybrid.sh misuse: outside Slurm, a binary without MPI (exit 2); PIMC_SRUN_MPI=none: copies" {
    needs_slurm
    require_pmix
    run -2 env -u SLURM_JOB_ID bash "$REPO/slurm/hybrid.sh" 1e6
    [[ $output == *"not inside a Slurm job; submit it"* ]]

    workdir hybrid-misuse
    printf '#!/bin/sh\nprintf "pimc-omp stub\\nMPI: none (built without; -Dmpi=enabled adds it)\\n"\n' >stub
    chmod +x stub
    submit 2 env PIMC="$TESTDIR/hybrid-misuse/stub" sbatch --wait --parsable -N 1 --ntasks-per-node=2 -c 1 \
        "$REPO/slurm/hybrid.sh" 1e6
    grep -q 'stub is built without MPI (--version: MPI: none (built without; -Dmpi=enabled adds it)): its 2 tasks would be 2 independent runs' "$out"
    [ "$(job_state "$id")" = "FAILED 2:0" ]

    # PIMC_SRUN_MPI goes to srun: with none, no PMIx, so the 2 tasks are 2 one-rank runs, which
    # pimc-omp says, each writing its own row.
    submit 0 env PIMC="$PIMC" PIMC_CSV=copies.csv PIMC_SRUN_MPI=none sbatch --wait --parsable -N 1 \
        --ntasks-per-node=2 -c 1 "$REPO/slurm/hybrid.sh" --no-serial 1e6
    grep -Eq '^MPI launcher +srun --mpi=none$' "$out"
    grep -Eq -- '^command +srun --mpi=none ' "$out"
    grep -q 'started as 2 tasks, but not by an MPI launcher .*: running 2 independent copies' "$out"
    check_rows copies.csv ranks threads_per_rank slurm_job_id
    [ "$output" = "1 1 $id"$'\n'"1 1 $id" ]

    submit 2 env PIMC="$PIMC" PIMC_SRUN_MPI='pmix; rm' sbatch --wait --parsable -N 1 --ntasks-per-node=2 -c 1 \
        "$REPO/slurm/hybrid.sh" 1e6
    grep -q "PIMC_SRUN_MPI='pmix; rm' is not an srun --mpi type" "$out"
}

@test "shellcheck: every script in slurm/ and tests/slurm/" {
    if ! command -v shellcheck >/dev/null && [[ -z ${PIMC_SLURM_REQUIRED:-} ]]; then
        skip "no shellcheck (apt-get install shellcheck)"
    fi
    run shellcheck -x "$REPO"/slurm/*.sh "$REPO"/tests/slurm/*.sh "$REPO"/tests/slurm/*.bats "$REPO"/tests/slurm/*.bash
    echo "$output"
    [ "$status" -eq 0 ]
}
