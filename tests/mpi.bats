#!/usr/bin/env bats
# Hybrid MPI + OpenMP under the launcher of the MPI library the binary is built
# with (Open MPI's mpirun, MPICH's mpiexec, i.e. hydra): the same hits for any
# ranks x threads, rank 0 alone writing and printing, sweeps across ranks, idle
# ranks that leave the CPUs alone, and bad launches and lost ranks that end the
# job instead of hanging it. PIMC is the binary under test; skipped without MPI.

bats_require_minimum_version 1.5.0

load machine

setup() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    LIBRARY=$("$PIMC" --version | sed -n 's/^MPI: //p')
    [[ $LIBRARY != none* ]] || skip "this pimc-omp was built without MPI"
    TMP=$(mktemp -d)
    unset OMP_NUM_THREADS SLURM_CPUS_PER_TASK
    # Oversubscribed on purpose (3 ranks x 2 threads on 2 cores): correctness, not speed.
    case $LIBRARY in
    "Open MPI "*)
        launcher=$(command -v mpirun.openmpi || command -v mpirun) || skip "mpirun (openmpi-bin) not installed"
        export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # CI runs as root
        MPIRUN=(timeout 120 "$launcher" --oversubscribe --bind-to none)
        ;;
    "MPICH "*)
        launcher=$(command -v mpiexec.mpich || command -v mpiexec.hydra) || skip "mpiexec.mpich (mpich) not installed"
        MPIRUN=(timeout 120 "$launcher" -bind-to none)
        ;;
    *) skip "no launcher known for MPI library '$LIBRARY'" ;;
    esac
}

teardown() {
    rm -rf "$TMP"
}


@test "same hits for 1x1, 2x1, 1x2, 3x1 and 3x2 ranks x threads as one process" {
    want=$("$PIMC" -t 1 --no-serial --seed 77 --json 20000017 | json_field hits)
    for layout in 1x1 2x1 1x2 3x1 3x2; do
        ranks=${layout%x*} threads=${layout#*x}
        out=$("${MPIRUN[@]}" -np "$ranks" "$PIMC" -t "$threads" --seed 77 --json 20000017 2>/dev/null)
        [ "$(json_field hits <<< "$out")" = "$want" ] || { echo "$layout: $out"; false; }
        [ "$(json_field ranks <<< "$out")" = "$ranks" ]
        [ "$(json_field threads_per_rank <<< "$out")" = "$threads" ]
        [ "$(json_field threads <<< "$out")" = $((ranks * threads)) ]
    done
}

@test "rank 0 alone reports and writes: one report, one CSV row with ranks and threads_per_rank" {
    run --separate-stderr -0 "${MPIRUN[@]}" -np 3 "$PIMC" -t 1 --csv "$TMP/m.csv" 3e6
    [ "$(grep -c '^  hits' <<< "$output")" -eq 1 ]
    [[ $output == *"3 = 3 ranks x 1 threads"* ]]
    # The library on one line, as --version says it ("Open MPI 4.1.4", "MPICH 4.0.2"): no tab, no
    # second line of MPICH's MPI_Get_library_version.
    [[ $LIBRARY =~ ^(Open\ MPI|MPICH)\ [0-9]+\.[0-9]+(\.[0-9]+)?$ ]]
    grep -qxF "  MPI           $LIBRARY" <<< "$output"
    [[ $output == *"hosts"*"(ranks 0-2)"* ]]
    [ "$(wc -l < "$TMP/m.csv")" -eq 2 ]
    python3 - "$TMP/m.csv" "$LIBRARY" <<'PY'
import csv, sys
row = next(csv.DictReader(open(sys.argv[1])))
assert (row["ranks"], row["threads_per_rank"], row["threads"]) == ("3", "1", "3"), row
assert row["serial_s"] and row["speedup"], "rank 0 ran the serial reference"
assert row["nodes"] == "1", f"3 ranks on one host are on 1 node, not {row['nodes']}"
assert row["mpi_library"] == sys.argv[2], (row["mpi_library"], sys.argv[2])
PY
    # ... and that is the version the launcher itself reports (mpirun (Open MPI) 4.1.4; MPICH's
    # "Version: 4.0.2").
    "$launcher" --version 2>&1 | grep -qF "${LIBRARY##* }"
}

@test "a sweep across ranks: 1-core baseline on rank 0, then ranks x threads, same hits" {
    run --separate-stderr -0 "${MPIRUN[@]}" -np 2 "$PIMC" --sweep 1,2 --repeat 1 --json 4e6
    python3 -c '
import json, sys
rows = json.loads(sys.argv[1])
layout = [(r["ranks"], r["threads_per_rank"], r["threads"]) for r in rows]
assert layout == [(1, 1, 1), (2, 1, 2), (2, 2, 4)], layout
assert len({r["hits"] for r in rows}) == 1
' "$output"
}

@test "bad arguments on one rank end the job with exit 2 and name the rank" {
    run --separate-stderr "${MPIRUN[@]}" -np 1 "$PIMC" 1e6 : -np 1 "$PIMC" 1e6x
    [ "$status" -eq 2 ]
    [[ $stderr == *"rank 1: throws '1e6x' is not a count"* ]]
}

@test "--help and --version print once, from rank 0" {
    run --separate-stderr -0 "${MPIRUN[@]}" -np 3 "$PIMC" --version
    [ "$(grep -c '^pimc-omp ' <<< "$output")" -eq 1 ]
    [ "$(grep -c '^MPI: ' <<< "$output")" -eq 1 ]
    run --separate-stderr -0 "${MPIRUN[@]}" -np 3 "$PIMC" --help
    [ "$(grep -c -- '--version' <<< "$output")" -eq 1 ]
}

# cpu_times RANKS PIMC-OPTION... -- each rank's CPU time (user + system, seconds) as "RANK SECONDS"
# lines, measured by bash's `time` around the rank's process.
cpu_times() {
    local ranks=$1
    shift
    # shellcheck disable=SC2016 # expanded by each rank's shell
    "${MPIRUN[@]}" -np "$ranks" bash -c \
        'TIMEFORMAT="cpu ${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-?}} %U %S"; time "$0" "$@" >/dev/null 2>&1' \
        "$PIMC" "$@" 2>&1 | awk '$1 == "cpu" { print $2, $3 + $4 }'
}

@test "idle ranks sleep while rank 0 runs the serial reference alone: their CPU time is their share" {
    # 2 ranks x 1 thread on this machine's CPUs: rank 1 throws half of the parallel leg, then waits
    # while rank 0 throws all of them again alone. Asleep, it uses about a third of rank 0's CPU time
    # (1/2 against 1/2 + 1); spinning in MPI it would use about as much as rank 0. The run is sized
    # to take rank 0 some 2 s of throwing, on a CPU of any speed: against that, what starting MPI
    # costs each rank is small.
    local throws
    throws=$(timed_throws 2)
    run -0 cpu_times 2 -t 1 "$throws"
    echo "$output"
    rank0=$(awk '$1 == 0 { print $2 }' <<< "$output")
    rank1=$(awk '$1 == 1 { print $2 }' <<< "$output")
    [[ -n $rank0 && -n $rank1 ]]
    python3 -c 'import sys; r0, r1 = map(float, sys.argv[1:]); sys.exit(not r1 < 0.6 * r0)' "$rank0" "$rank1"

    # The same for a sweep's 1-core baseline (rank 0 alone), then 2 x 1 (both ranks).
    run -0 cpu_times 2 --sweep 1 --repeat 1 "$throws"
    echo "$output"
    rank0=$(awk '$1 == 0 { print $2 }' <<< "$output")
    rank1=$(awk '$1 == 1 { print $2 }' <<< "$output")
    python3 -c 'import sys; r0, r1 = map(float, sys.argv[1:]); sys.exit(not r1 < 0.6 * r0)' "$rank0" "$rank1"
}

@test "a rank that dies ends the job, with a non-zero exit and a message naming it" {
    "${MPIRUN[@]}" -np 2 "$PIMC" -t 1 --csv "$TMP/lost.csv" 1e13 > "$TMP/out" 2> "$TMP/err" &
    launcher=$!
    # Both ranks, however long the launcher takes to start them.
    while alive "$launcher"; do
        pids=$(pgrep -f "^$PIMC -t 1 --csv $TMP/lost.csv 1e13" || true)
        [ "$(wc -w <<< "$pids")" -eq 2 ] && break
        sleep 0.2
    done
    victim=$(tail -n 1 <<< "$pids")
    [ -n "$victim" ] || { cat "$TMP/out" "$TMP/err"; false; }
    # Well into the throws: a quarter of a second of CPU time, not a wall time a loaded machine may
    # spend before the first throw.
    wait_for_cpu "$victim" $((CLK_TCK / 4))
    kill -KILL "$victim"
    start=$(date +%s)
    status=0
    wait "$launcher" || status=$?
    cat "$TMP/out" "$TMP/err"
    [ "$status" -ne 0 ]
    [ $(( $(date +%s) - start )) -lt 30 ]
    run ! pgrep -f "^$PIMC -t 1 --csv $TMP/lost.csv 1e13"
    # Open MPI: "... process rank 1 with PID N on node H exited on signal 9 (Killed)" (its PID is
    # sometimes printed as 0); MPICH: "BAD TERMINATION ... PID N RUNNING AT H ... signal 9", where N
    # is the first rank hydra saw end badly: the victim, or the other rank it then killed itself.
    if grep -q 'BAD TERMINATION' "$TMP/out" "$TMP/err"; then
        named=$(sed -n 's/.*PID \([0-9]*\) RUNNING AT.*/\1/p' "$TMP/out" "$TMP/err" | head -n 1)
        [[ -n $named && " $(tr '\n' ' ' <<< "$pids") " == *" $named "* ]]
        grep -q 'Killed (signal 9)' "$TMP/out" "$TMP/err"
    else
        grep -Eq "process rank 1 with PID .* exited on signal 9" "$TMP/out" "$TMP/err"
    fi
    # Rank 0 was killed before it wrote: a header at most, never a part of a row.
    [ ! -s "$TMP/lost.csv" ] || [ "$(wc -l < "$TMP/lost.csv")" -le 1 ]
}
