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
load machine

setup() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    TMP=$(mktemp -d)
    # Two threads where there are two CPUs, else one: the same on any machine.
    THREADS=$(python3 -c 'import os; print(min(2, len(os.sched_getaffinity(0))))')
    export OMP_NUM_THREADS=$THREADS
    unset PIMC_HIDE_KERNELS
}

teardown() {
    # A run a failed test left behind must not outlive it (a run on a terminal: its script too).
    [ -s "$TMP/pid" ] && kill -9 "$(cat "$TMP/pid")" 2>/dev/null
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

# ---- stops at several moments: every record reproduces --------------------

# The hits a fresh, uninterrupted run of THROWS gives (the default seed).
fresh_hits() { # throws
    "$PIMC" --no-serial --json -t "$THREADS" "$1" | json_field hits
}

# Throws that take about SECONDS here on THREADS threads (at least 1e6): runs
# long enough to show their progress line (from 2 s on), whatever this
# machine's speed. Measured now, under the load there is now.
throws_for() { # seconds threads
    "$PIMC" --no-serial --json -t "$2" 2e8 |
        python3 -c 'import json,sys; r=json.load(sys.stdin); print(max(10**6, int(float(sys.argv[1]) * r["throws_per_s"])))' "$1"
}

# Runs pimc-omp ARGS on a terminal (progress shows only there) and sends it
# SIGTERM once its progress lines satisfy CONDITION, a Python expression over
# `lines`: the (label, percent) of every progress update so far, in order.
# Leaves its stdout in $TMP/out, its stderr (progress, warnings) in $TMP/tty and its status in $TMP/status.
stop_on_progress() { # condition args...
    local condition=$1
    shift
    script -qefc "$PIMC $* > $TMP/out & echo \$! > $TMP/pid; wait \$!; echo \$? > $TMP/status" \
        "$TMP/tty" > /dev/null &
    local script_pid=$!
    RUNNING="$script_pid"
    # One poller (python starts slowly), which gives up after 10 minutes: a guard only.
    python3 - "$TMP/tty" "$condition" "$TMP/status" <<'PY'
import os, re, sys, time
for _ in range(12000):
    ended = os.path.exists(sys.argv[3])
    text = open(sys.argv[1], errors="replace").read() if os.path.exists(sys.argv[1]) else ""
    lines = [(m.group(1), float(m.group(2))) for m in re.finditer(r"(parallel|serial):\s+([\d.]+)%", text)]
    if ended:
        sys.exit("the run ended before the condition held: %s; progress: %s" % (sys.argv[2], lines))
    if eval(sys.argv[2]):
        sys.exit(0)
    time.sleep(0.05)
sys.exit("the condition never held: " + sys.argv[2])
PY
    for _ in $(seq 100); do [ -s "$TMP/pid" ] && break; sleep 0.1; done
    kill -TERM "$(cat "$TMP/pid")"
    wait "$script_pid" || true
    RUNNING=
}

# The number of progress sequences (timed runs shown) so far: a new one starts
# where the percentage falls.
RUNS_SHOWN='sum(1 for i, (l, p) in enumerate(lines) if i == 0 or p < lines[i - 1][1] or l != lines[i - 1][0])'

@test "stopped in the warm-up, of a --repeat 1 and a --repeat 2 run: 0 throws, no estimate, not verified, 'parallel warm-up'; exit 143" {
    # A warm-up lasts --warm-up seconds or the leg's throws, whichever ends first: 1e6 s and 1e15
    # throws make one that only the stop ends, on any machine. The stop comes once the run has used
    # 0.3 s of CPU time: past its start-up (hwloc's topology and the rest take 0.01 s, 0.1 s under
    # ASan), into the warm-up, which is the first thing thrown. A signal before the run starts ends
    # it with no record (exit 143 too), which is not this test's case: a wait for the handlers alone
    # (SigCgt) met that 6 times in 10.
    for format in --json report; do
        args=(-t 1 --warm-up 1e6 --csv "$TMP/w.csv" 1e15)
        [ "$format" = --json ] && args+=(--json --repeat 2)
        "$PIMC" "${args[@]}" > "$TMP/out" 2> "$TMP/err" &
        pid=$!
        RUNNING=$pid
        wait_for_cpu "$pid" $((CLK_TCK * 3 / 10))
        kill -TERM "$pid"
        status=0
        wait "$pid" || status=$?
        RUNNING=
        [ "$status" -eq 143 ] || { echo "exit $status"; cat "$TMP/err"; false; }
        if [ "$format" = --json ]; then
            python3 - "$TMP/out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert (r["throws"], r["hits"], r["pi"], r["z_score"], r["std_error"]) == (0, 0, None, None, None), r
assert (r["status"], r["stopped_in"], r["throws_requested"]) == ("partial", "parallel warm-up", 10**15), r
assert r["parallel_s"] is None and r["throws_per_s"] is None, r
PY
        else
            grep -q 'pi estimate   none: no throws were made' "$TMP/out"
            grep -q "stopped       by a signal, in the parallel leg's warm-up: no throws were made" "$TMP/out"
            grep -q 'verification  none' "$TMP/out"
            ! grep -q 'PASSED\|nan\|inf' "$TMP/out"
        fi
    done
    python3 - "$TMP/w.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 2 and all(r["throws"] == "0" and r["pi"] == "" and r["stopped_in"] == "parallel warm-up"
                              for r in rows), rows
PY
}

@test "stopped in the first parallel run: the throws are a prefix of the stream that a fresh run reproduces" {
    # Under a static schedule each thread has its own stretch of blocks, so the
    # blocks done at a stop are never the first ones alone: only their prefix counts.
    export OMP_SCHEDULE=static
    stop_on_progress 'len(lines) >= 1' --no-serial -t "$THREADS" --csv "$TMP/p.csv" 1e15
    unset OMP_SCHEDULE
    [ "$(cat "$TMP/status")" -eq 143 ]
    grep -q "stopped       by a signal, in the parallel leg's timed run 1 of 1: the throws above are the stream's first" "$TMP/out"
    python3 - "$TMP/p.csv" <<'PY'
import csv, sys
r = list(csv.DictReader(open(sys.argv[1])))[-1]
assert 0 < int(r["throws"]) < int(r["throws_requested"]) == 10**15, r
assert (r["status"], r["stopped_in"], r["run"]) == ("partial", "parallel run 0", "0"), r
assert r["throws_per_s"] == "" and r["speedup"] == "" and r["pi"] != "", r
PY
    throws=$(csv_field "$TMP/p.csv" 1 throws)
    [ "$(csv_field "$TMP/p.csv" 1 hits)" = "$(fresh_hits "$throws")" ]
}

@test "stopped in the second parallel run: the result is complete, the record says run 1 was cut" {
    throws=$(throws_for 8 "$THREADS")
    stop_on_progress "$RUNS_SHOWN >= 2" --no-serial -t "$THREADS" --repeat 3 --csv "$TMP/p.csv" "$throws"
    [ "$(cat "$TMP/status")" -eq 143 ]
    ! grep -q PARTIAL "$TMP/out"
    python3 - "$TMP/p.csv" "$throws" <<'PY'
import csv, sys
r, throws = list(csv.DictReader(open(sys.argv[1])))[-1], int(sys.argv[2])
assert int(r["throws"]) == int(r["throws_requested"]) == throws, r
assert (r["status"], r["stopped_in"], r["run"]) == ("complete", "parallel run 1", "median"), r
assert r["parallel_s"] and r["throws_per_s"] and not r["serial_s"], r
PY
    [ "$(csv_field "$TMP/p.csv" 1 hits)" = "$(fresh_hits "$throws")" ]
}

@test "stopped in the serial leg: the parallel result stays complete, the record says the serial leg was cut" {
    throws=$(throws_for 8 1)
    stop_on_progress "any(l == 'serial' for l, p in lines)" -t "$THREADS" --csv "$TMP/s.csv" "$throws"
    [ "$(cat "$TMP/status")" -eq 143 ]
    grep -q "stopped       by a signal, in the serial leg's timed run 1 of 1: the parallel leg and the result are complete" "$TMP/out"
    ! grep -q PARTIAL "$TMP/out"
    python3 - "$TMP/s.csv" "$throws" <<'PY'
import csv, sys
r, throws = list(csv.DictReader(open(sys.argv[1])))[-1], int(sys.argv[2])
assert int(r["throws"]) == int(r["throws_requested"]) == throws, r
assert (r["status"], r["stopped_in"]) == ("complete", "serial run 0"), r
assert r["parallel_s"] and not r["serial_s"] and not r["speedup"], r
PY
    [ "$(csv_field "$TMP/s.csv" 1 hits)" = "$(fresh_hits "$throws")" ]
}

@test "a sweep stopped in its second run keeps the first complete; every row's hits reproduce" {
    throws=$(throws_for 8 1)
    stop_on_progress "$RUNS_SHOWN >= 2" --sweep 1,2 --repeat 3 --csv "$TMP/sweep.csv" "$throws"
    [ "$(cat "$TMP/status")" -eq 143 ]
    python3 - "$TMP/sweep.csv" "$throws" <<'PY'
import csv, sys
rows, throws = list(csv.DictReader(open(sys.argv[1]))), int(sys.argv[2])
got = [(r["threads"], r["run"], r["status"], r["stopped_in"]) for r in rows]
assert got == [("1", "0", "complete", ""), ("1", "median", "complete", "parallel run 1")], got
assert all(int(r["throws"]) == throws and r["parallel_s"] for r in rows), rows
assert len({r["hits"] for r in rows}) == 1, rows
PY
    [ "$(csv_field "$TMP/sweep.csv" 1 hits)" = "$(fresh_hits "$throws")" ]
}

@test "a checkpointed run shows the plain run's progress line, of the whole run" {
    stop_on_progress 'len(lines) >= 2' --checkpoint "$TMP/c.json" -t "$THREADS" 1e15
    [ "$(cat "$TMP/status")" -eq 143 ]
    grep -aq 'parallel:.*of 1e+15 throws.*Gthrows/s.*ETA' "$TMP/tty" || { cat -A "$TMP/tty"; false; }
    grep -q "stopped       by a signal, in this segment: $TMP/c.json holds the throws done" "$TMP/out"
    # Not a terminal: no line.
    "$PIMC" -t "$THREADS" --checkpoint "$TMP/d.json" 1e6 2> "$TMP/err" > /dev/null
    ! grep -q ETA "$TMP/err"
}

# ---- verification at tiny N -----------------------------------------------

@test "verification: 1 throw always passes; 10 throws over 200 seeds never says 'inf'" {
    run --separate-stderr -0 "$PIMC" 1
    [[ $output == *"verification  PASSED: estimate within"* ]]
    run --separate-stderr -0 "$PIMC" --no-serial --seed 59 10
    [[ $output == *"standard error 5.193e-01"* && $output == *"verification  PASSED"* ]]
    for n in 1 10; do
        for seed in $(seq 0 199); do
            "$PIMC" --no-serial -t 1 --seed "$seed" "$n" > "$TMP/out" 2> /dev/null ||
                { echo "N=$n seed $seed: exit $?"; cat "$TMP/out"; false; }
            ! grep -q 'inf\|nan' "$TMP/out"
        done
    done
}

# ---- absurd values in files ------------------------------------------------

# Copies a CSV with one column of its last row replaced.
set_csv_field() { # in out column value
    python3 - "$@" <<'PY'
import csv, sys
src, dst, column, value = sys.argv[1:5]
rows = list(csv.DictReader(open(src)))
rows[-1][column] = value
with open(dst, "w", newline="") as out:
    w = csv.DictWriter(out, fieldnames=list(rows[0].keys()), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
PY
}

@test "absurd values in a baseline or a checkpoint are refused naming the field, exit 2, files untouched" {
    "$PIMC" -q -t "$THREADS" --csv "$TMP/base.csv" 1e6
    set_csv_field "$TMP/base.csv" "$TMP/huge.csv" throws 9223372036854775807
    cp "$TMP/huge.csv" "$TMP/before.csv"
    run --separate-stderr -2 timeout 60 "$PIMC" --check "$TMP/huge.csv"
    [[ $stderr == *"line 2: throws 9223372036854775807 in parallel_s"*"past what pimc-omp can do"* ]] || { echo "$stderr"; false; }
    [ -z "$output" ]
    cmp "$TMP/huge.csv" "$TMP/before.csv"
    set_csv_field "$TMP/base.csv" "$TMP/segments.csv" segments 9223372036854775807
    run --separate-stderr -2 "$PIMC" --check "$TMP/segments.csv"
    [[ $stderr == *"segments '9223372036854775807' is not a count from 1 to 4294967295"* ]] || { echo "$stderr"; false; }

    "$PIMC" -q -t "$THREADS" --checkpoint "$TMP/c.json" 1e6
    for edit in 'segments=9223372036854775807|"segments" must be an integer from 1 to 4294967295' \
                'compute_s=1e300|"compute_s" must be a number of seconds from 0 to'; do
        IFS='|' read -r assignment want <<< "$edit"
        python3 - "$TMP/c.json" "$TMP/bad.json" "$assignment" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
key, value = sys.argv[3].split("=")
c[key] = int(value) if value.isdigit() else float(value)
json.dump(c, open(sys.argv[2], "w"))
PY
        cp "$TMP/bad.json" "$TMP/before.json"
        run --separate-stderr -2 "$PIMC" -q -t "$THREADS" --checkpoint "$TMP/bad.json" 1e6
        [[ $stderr == *"$want"* ]] || { echo "$assignment: $stderr"; false; }
        cmp "$TMP/bad.json" "$TMP/before.json"
    done
}

@test "rows of checkpointed or resumed runs are no timing reference, and the check's plan says so" {
    "$PIMC" -q -t "$THREADS" --no-serial --csv "$TMP/base.csv" 1e6
    "$PIMC" -q -t "$THREADS" --checkpoint "$TMP/c.json" --csv "$TMP/base.csv" 1e6
    [ "$(csv_field "$TMP/base.csv" 2 mode)" = checkpoint ]
    run --separate-stderr "$PIMC" --check "$TMP/base.csv" --repeat 1 --tolerance 90%
    [ "$status" -eq 0 ] || [ "$status" -eq 1 ] || { echo "exit $status: $stderr"; false; }
    [[ ${lines[0]} == *": 1 row of kernel "*"; 1 checkpointed or resumed row left out (compute time summed over segments is not a timing reference)" ]] || { echo "${lines[0]}"; false; }
    # A resumed row of an older version (mode single, segments 2) is left out too.
    set_csv_field "$TMP/base.csv" "$TMP/old.csv" mode single
    set_csv_field "$TMP/old.csv" "$TMP/old2.csv" segments 2
    python3 - "$TMP/old2.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
rows = rows[1:]  # the checkpointed row alone
with open(sys.argv[1], "w", newline="") as out:
    w = csv.DictWriter(out, fieldnames=list(rows[0].keys()), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
PY
    run --separate-stderr -2 "$PIMC" --check "$TMP/old2.csv"
    [[ $stderr == *"no complete row to compare with"*"checkpointed runs do not count"* ]] || { echo "$stderr"; false; }
}

# ---- options ----------------------------------------------------------------

@test "options: a bad value names its option; a value may start with -; one file in two roles and combinations that cannot apply are refused, exit 2, nothing written" {
    while IFS='|' read -r args want; do
        # shellcheck disable=SC2086
        run --separate-stderr -2 "$PIMC" --csv "$TMP/rows.csv" $args
        [[ $stderr == *"$want"* ]] || { echo "args '$args': '$stderr' lacks '$want'"; false; }
        [[ $stderr != *throws\ \'-* ]] || { echo "args '$args' blamed THROWS: $stderr"; false; }
        [ "${#stderr_lines[@]}" -eq 1 ] && [ -z "$output" ] && [ ! -e "$TMP/rows.csv" ]
    done <<CASES
--seed -1|--seed '-1' is not a seed
-t -1|--threads '-1' is not a thread count
--repeat -3|--repeat '-3'
--sweep 1,2 -t 1|--threads does not apply to --sweep
--sweep 1,2 --no-serial|--no-serial does not apply to --sweep
--sizes 1e4,1e5 --no-serial|--no-serial does not apply to --sizes
--sweep 1,2 --json --markdown|choose one
--sizes 1e4 -q --markdown|choose one
--checkpoint $TMP/rows.csv 1e6|--csv '$TMP/rows.csv' and --checkpoint '$TMP/rows.csv' are the same file
--check $TMP/./rows.csv|--csv '$TMP/rows.csv' and --check '$TMP/./rows.csv' are the same file
CASES
    run --separate-stderr -2 "$PIMC" -5
    [[ $stderr == *"throws '-5' is negative"* ]]
    pimc=$(realpath "$PIMC")
    cd "$TMP"
    run --separate-stderr -0 "$pimc" -q -t "$THREADS" --no-serial --csv -5.csv 1e5
    [ "$(csv_field ./-5.csv 1 throws)" = 100000 ]
}

@test "OMP_NUM_THREADS as libgomp takes it: ' 2', '2 ', ' 2 , 4 '; what libgomp refuses is refused by name" {
    # A + is libgomp's alone: LLVM's libomp warns on it, then aborts at its first parallel region
    # (5 times in 6 here), so a libomp build refuses it before any OpenMP starts.
    local plus=+1 libomp=
    "$PIMC" --version | grep -q '^OpenMP: LLVM libomp' && { libomp=1; plus=; }
    for value in " 1" "1 " " 1 , 4 " $plus; do
        run --separate-stderr -0 env OMP_NUM_THREADS="$value" "$PIMC" --no-serial --json 1e4
        [ "$(json_field threads <<< "$output")" = 1 ] && [ "$(json_field threads_source <<< "$output")" = OMP_NUM_THREADS ]
    done
    if [ -n "$libomp" ]; then
        run --separate-stderr -2 env OMP_NUM_THREADS=+1 "$PIMC" --no-serial 1e4
        [[ $stderr == *"OMP_NUM_THREADS='+1' is not a thread count this build's OpenMP runtime (LLVM libomp) reads"* ]]
    fi
    for value in "1," "0" "1,0" "1x"; do
        run --separate-stderr -2 env OMP_NUM_THREADS="$value" "$PIMC" 1e4
        [[ $stderr == *"OMP_NUM_THREADS='$value' is not a thread count"* ]]
    done
}

@test "--help is complete: every option, every exit status, the sentence that was cut short" {
    run -0 "$PIMC" --help
    for option in --threads --seed --rng --kernel --no-serial --repeat --csv --json --quiet --sweep --weak --sizes \
                  --markdown --check --tolerance --checkpoint --checkpoint-interval --help --version; do
        [[ $output == *"$option"* ]] || { echo "missing: $option"; false; }
    done
    [[ $output == *"A FILE of a finished run: its result is"*"reported again, nothing thrown and no CSV row added"* ]]
    [[ $(tr '\n' ' ' <<< "$output" | tr -s ' ') == *"symbolic link is refused (exit 2)"*"while the first holds FILE.lock"* ]]
    for status in "0 done" "1 --check, --against: a regression" "2 bad usage" "3 verification failed" \
                  "4 a file cannot be written" "5 run-time" "125 --bisect: inconclusive" "128+N stopped by signal"; do
        [[ $(tr '\n' ' ' <<< "$output" | tr -s ' ') == *"$status"* ]] || { echo "missing status: $status"; false; }
    done
    [[ ${lines[-1]} == *. ]] # the text ends with its sentence
}
