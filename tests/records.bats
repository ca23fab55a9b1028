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
