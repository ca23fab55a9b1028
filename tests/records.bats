#!/usr/bin/env bats
# Every record tells the truth, every input is checked, every status has one
# meaning: special files as inputs, stops at several moments whose records a
# fresh run reproduces, verification at tiny N, absurd values in files, option
# combinations, seeds past 2^63 in JSON. PIMC is the binary under test.
#
# Nothing here waits on a wall-clock timer for a stop: runs are stopped once
# their progress (a checkpoint file, a progress line) shows they got there, and
# `timeout` is only a guard against a hang (it fails the test, never drives it).

# shellcheck disable=SC2154 # status, output, lines, stderr, stderr_lines: set by bats' run
bats_require_minimum_version 1.5.0

setup() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    TMP=$(mktemp -d)
    # Two threads where there are two CPUs, else one: the same on any machine.
    THREADS=$(python3 -c 'import os; print(min(2, len(os.sched_getaffinity(0))))')
    export OMP_NUM_THREADS=$THREADS
    unset PIMC_HIDE_KERNELS
}

teardown() {
    for pid in ${RUNNING:-}; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}

json_field() { # key < json
    python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print("null" if v is None else v)' "$1"
}
csv_field() { # file row(1-based data row) column
    python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(r[int(sys.argv[2])-1][sys.argv[3]])' "$@"
}

# ---- inputs that are not regular files ------------------------------------

@test "a FIFO, a device, a directory or a socket as --check or --checkpoint: refused at once by kind, exit 2" {
    mkfifo "$TMP/fifo"
    mkdir "$TMP/dir"
    python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$TMP/sock"
    while IFS='|' read -r path kind; do
        # timeout only guards against the hang this test is about: it never fires on a good build.
        run --separate-stderr -2 timeout 20 "$PIMC" --check "$path"
        [[ $stderr == *"is $kind, not a regular file"* ]] || { echo "--check $path: $stderr"; false; }
        [ -z "$output" ]
        run --separate-stderr -2 timeout 20 "$PIMC" --no-serial --checkpoint "$path" 1e6
        [[ $stderr == *"is $kind, not a regular file"* ]] || { echo "--checkpoint $path: $stderr"; false; }
        [ -z "$output" ]
    done <<CASES
$TMP/fifo|a FIFO (named pipe)
/dev/null|a character device
$TMP/dir|a directory
$TMP/sock|a socket
CASES
    # A link to a FIFO is the FIFO.
    ln -s "$TMP/fifo" "$TMP/link"
    run --separate-stderr -2 timeout 20 "$PIMC" --check "$TMP/link"
    [[ $stderr == *"is a FIFO (named pipe)"* ]]
}

# ---- seeds past 2^63 in JSON ----------------------------------------------

@test "a seed past 2^63-1 is a JSON string; --check reads its own JSON and CSV for seeds 0, 2^63-1, 2^63, 2^64-1" {
    "$PIMC" --seed 0xfffffffffffffff1 --json --no-serial -t "$THREADS" 1e6 > "$TMP/big.json"
    grep -q '"seed": "18446744073709551601"' "$TMP/big.json"
    # The hits metric says the file was read and the seed taken back exactly; the
    # speed verdicts are not this test's business (any machine, any load).
    run --separate-stderr "$PIMC" --check "$TMP/big.json" --repeat 1 --tolerance 90% --json
    [ "$status" -eq 0 ] || [ "$status" -eq 1 ] || { echo "exit $status: $stderr"; false; }
    python3 - "$output" <<'PY'
import json, sys
check = json.loads(sys.argv[1])
assert check["seed"] == "18446744073709551601", check["seed"]
hits = [m for m in check["metrics"] if m["metric"] == "hits"][0]
assert hits["verdict"] == "PASS", hits
PY
    for seed in 0 9223372036854775807 9223372036854775808 18446744073709551615; do
        "$PIMC" --seed "$seed" --json --no-serial -t "$THREADS" 1e5 > "$TMP/$seed.json"
        "$PIMC" -q --seed "$seed" --csv "$TMP/$seed.csv" --no-serial -t "$THREADS" 1e5
        for file in "$TMP/$seed.json" "$TMP/$seed.csv"; do
            run --separate-stderr "$PIMC" --check "$file" --repeat 1 --tolerance 90% --json
            [ "$status" -eq 0 ] || [ "$status" -eq 1 ] || { echo "$file: exit $status: $stderr"; false; }
            python3 - "$output" "$seed" <<'PY'
import json, sys
check, seed = json.loads(sys.argv[1]), int(sys.argv[2])
assert int(check["seed"]) == seed and isinstance(check["seed"], str) == (seed >= 2**63), check["seed"]
assert [m for m in check["metrics"] if m["metric"] == "hits"][0]["verdict"] == "PASS"
PY
        done
    done
}

@test "a JSON baseline with a key twice is refused, exit 2, naming the key" {
    "$PIMC" --json --no-serial -t "$THREADS" 1e5 | sed 's/}$/, "hits": 1}/' > "$TMP/twice.json"
    run --separate-stderr -2 "$PIMC" --check "$TMP/twice.json"
    [[ $stderr == *"duplicate object key"*'"hits"'* ]] || { echo "$stderr"; false; }
}
