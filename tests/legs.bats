#!/usr/bin/env bats
# Warm, long enough legs (issue 23, item 2): every timed leg follows a warm-up
# on its threads and path (--warm-up, at most the leg's throws); a leg timed
# under 10 ms is flagged "too short to time" in the report, the row
# (too_short) and the study table; a left-out THROWS is sized from the
# warm-up. PIMC is the binary under test.
#
# Nothing here asserts a speed or a duration: a tiny run's legs are short on
# any machine (1e5 throws are under 10 ms even 100x slower than a laptop), and
# a stop during a warm-up is caught by a warm-up no machine ends (records.bats).

bats_require_minimum_version 1.5.0

load machine

setup() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    TMP=$(mktemp -d)
    export OMP_NUM_THREADS=$THREADS
}

teardown() {
    rm -rf "$TMP"
}

# The rule, on any machine: too_short names exactly the legs timed under 10 ms. A run of 1000 throws
# on one thread has legs of microseconds, so they are short here, unless the machine took its CPU
# away for 10 ms inside those microseconds (a 2-thread leg on a busy machine can wait that long for
# its second thread to be woken; one thread does not wait for another).
check_too_short() { # json-file-or-csv-file
    python3 - "$1" <<'PY'
import csv, json, sys
path = sys.argv[1]
rows = list(csv.DictReader(open(path))) if path.endswith(".csv") else json.load(open(path))
rows = rows if isinstance(rows, list) else [rows]
for r in rows:
    short = [leg for leg in ("parallel", "serial")
             if r[leg + "_s"] not in ("", None) and float(r[leg + "_s"]) < 0.010]
    assert r["too_short"] == " ".join(short), r
    assert r["too_short"] != "", ("a leg of microseconds was not flagged (or took 10 ms)", r)
PY
}

@test "a tiny run's legs are too short to time: the report, the CSV's last column, JSON and a warning say so" {
    run --separate-stderr -0 "$PIMC" -t 1 --csv "$TMP/r.csv" 1000
    [[ $output == *"parallel time "*"TOO SHORT TO TIME (under 10 ms): not a speed"* ]] || { echo "$output"; false; }
    [[ $output == *"serial time "*"TOO SHORT TO TIME (under 10 ms): not a speed"* ]]
    [[ $output == *"speedup "*"not a speed result, a leg is too short to time"* ]]
    [[ $output != *"Gthrows/s"* && $output != *"parallel efficiency"* ]]
    [[ $output == *"verification  PASSED"* ]]
    [[ $stderr == *"the parallel and serial legs took under 10 ms: too short to time, not a speed result"* ]]
    head -1 "$TMP/r.csv" | grep -q ',smt_shared,too_short$'
    [ "$(tail -1 "$TMP/r.csv" | awk -F, '{ print $NF }')" = "parallel serial" ]
    check_too_short "$TMP/r.csv"
    "$PIMC" -t 1 --no-serial --json 1000 > "$TMP/r.json"
    [ "$(json_field too_short < "$TMP/r.json")" = parallel ]
    check_too_short "$TMP/r.json"
}

@test "a --sizes study marks its points too short to time in the table and the rows" {
    run --separate-stderr -0 "$PIMC" -t 1 --repeat 1 --sizes 1e3,2e3 --csv "$TMP/s.csv"
    [ "$(grep -c 'too short' <<< "$output")" -eq 2 ] || { echo "$output"; false; }
    check_too_short "$TMP/s.csv"
}

@test "warm-ups and taking turns change no hits: --repeat 3, --warm-up 0 and the default agree" {
    want=$("$PIMC" -t "$THREADS" --json 3e6 2> /dev/null | json_field hits)
    for args in "--repeat 3 3e6" "--warm-up 0 3e6" "--warm-up 0 --repeat 2 3e6" "--warm-up 1e6 3e6" \
                "--sweep 1,$THREADS 3e6" "--sizes 3e6"; do
        # shellcheck disable=SC2086 # the options are words
        "$PIMC" $args --json > "$TMP/out" 2> /dev/null || { echo "$args: exit $?"; false; }
        python3 - "$TMP/out" "$want" "$args" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rows = r if isinstance(r, list) else [r]
assert all(row["hits"] == int(sys.argv[2]) and row["throws"] == 3 * 10**6 for row in rows), (sys.argv[3], rows)
PY
    done
}

@test "--warm-up: 0 or seconds; anything else is refused naming the option, exit 2" {
    run --separate-stderr -0 "$PIMC" -t "$THREADS" --warm-up 0 1e5
    run --separate-stderr -0 "$PIMC" -t "$THREADS" --warm-up 0.05 1e5
    for bad in -1 abc 1e7 0.0001 ""; do
        run --separate-stderr -2 "$PIMC" --warm-up "$bad" 1e5
        [[ $stderr == *"--warm-up '$bad' is not 0 or a number of seconds"* ]] || { echo "$bad: $stderr"; false; }
        [ -z "$output" ]
    done
}

@test "THROWS left out is sized from the warm-up (at least 1e9, 1, 2 or 5 x 10^k) and the report says so; a given THROWS is thrown" {
    run --separate-stderr -0 "$PIMC" -t 1 --no-serial
    [[ $output == *"per thread; default, sized for a 0.2 s parallel leg here)"* ]] || { echo "$output"; false; }
    throws=$(sed -n 's/^  throws  *\([0-9]*\) .*/\1/p' <<< "$output")
    [[ $throws =~ ^[125]0{9,}$ ]] || { echo "throws $throws"; false; }
    run --separate-stderr -0 "$PIMC" -t 1 --no-serial --json 1e9
    [ "$(json_field throws <<< "$output")" = 1000000000 ]
    run --separate-stderr -0 "$PIMC" -t 1 --no-serial 2e5
    [[ $output == *"throws        200000 (2e+05 per thread)"$'\n'* ]] || { echo "$output"; false; }
}

@test "a file written before too_short existed is still a --check baseline" {
    "$PIMC" -q -t "$THREADS" --csv "$TMP/new.csv" 3e8
    # The same row without its last column: as an older pimc-omp wrote it.
    sed 's/,[^,]*$//' "$TMP/new.csv" > "$TMP/old.csv"
    ! head -1 "$TMP/old.csv" | grep -q too_short
    run --separate-stderr "$PIMC" --check "$TMP/old.csv" --repeat 1
    [ "$status" -le 1 ] || { echo "exit $status: $stderr"; false; }
    [[ $stderr != *too_short* ]]
}
