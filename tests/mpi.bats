#!/usr/bin/env bats
# Hybrid MPI + OpenMP under Open MPI's mpirun: the same hits for any ranks x
# threads, rank 0 alone writing, sweeps across ranks, and bad launches that end
# instead of hanging. PIMC is the binary under test; skipped without MPI.

bats_require_minimum_version 1.5.0

setup() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    "$PIMC" --version | grep -q '^MPI: none' && skip "this pimc-omp was built without MPI"
    command -v mpirun >/dev/null || skip "mpirun not installed"
    TMP=$(mktemp -d)
    unset OMP_NUM_THREADS SLURM_CPUS_PER_TASK
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # CI runs as root
    # Oversubscribed on purpose (3 ranks x 2 threads on 2 cores): correctness, not speed.
    MPIRUN=(timeout 120 mpirun --oversubscribe --bind-to none)
}

teardown() {
    rm -rf "$TMP"
}

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

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
    [[ $output == *"MPI           Open MPI"* ]]
    [[ $output == *"hosts"*"(ranks 0-2)"* ]]
    [ "$(wc -l < "$TMP/m.csv")" -eq 2 ]
    python3 - "$TMP/m.csv" <<'PY'
import csv, sys
row = next(csv.DictReader(open(sys.argv[1])))
assert (row["ranks"], row["threads_per_rank"], row["threads"]) == ("3", "1", "3"), row
assert row["serial_s"] and row["speedup"], "rank 0 ran the serial reference"
PY
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

@test "a rank that dies ends the job instead of hanging it" {
    "${MPIRUN[@]}" -np 2 "$PIMC" -t 1 1e13 > "$TMP/out" 2> "$TMP/err" &
    launcher=$!
    for _ in $(seq 50); do
        pids=$(pgrep -f "^$PIMC -t 1 1e13" || true)
        [ "$(wc -w <<< "$pids")" -eq 2 ] && break
        sleep 0.2
    done
    victim=$(tail -n 1 <<< "$pids")
    [ -n "$victim" ]
    kill -KILL "$victim"
    start=$(date +%s)
    status=0
    wait "$launcher" || status=$?
    [ "$status" -ne 0 ]
    [ $(( $(date +%s) - start )) -lt 30 ]
    ! pgrep -f "^$PIMC -t 1 1e13"
}
