#!/usr/bin/env bats
# End-to-end behaviour of the pimc-omp executable: output, CSV and JSON,
# bad input, signals, dispatch, progress. PIMC is the binary under test.

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

# Fields of a CSV row, read with Python's csv module (JSON keys: json_field, tests/machine.bash).
csv_field() { # file row(1-based data row) column
    python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(r[int(sys.argv[2])-1][sys.argv[3]])' "$@"
}

@test "--help and --version exit 0 and say what they must" {
    run -0 "$PIMC" --help
    [[ $output == *"Usage: pimc-omp [OPTIONS] [THROWS]"* ]]
    [[ $output == *"Exit status"* ]]
    [[ $output == *"Philox4x32-10"* ]]
    run -0 "$PIMC" -V
    [[ ${lines[0]} == "pimc-omp "* ]]
    [[ $output == *"kernels: scalar"* ]]
    [[ $output == *"OpenMP: "* ]]
}

@test "the report shows every figure the issue lists" {
    # Legs long enough to time (10 ms or more; shorter ones show no speed): about 0.2 s of one thread here.
    throws=$(timed_throws 0.2)
    run --separate-stderr -0 "$PIMC" -t "$THREADS" "$throws"
    for word in "threads       $THREADS (from option" "throws        $throws (" hits "pi estimate" \
                "standard error" z-score "parallel time" "serial time" speedup "parallel efficiency" \
                "Gthrows/s" kernel compiler OpenMP OMP_PROC_BIND OMP_PLACES "verification  PASSED"; do
        [[ $output == *"$word"* ]] || { echo "missing: $word"; false; }
    done
}

@test "bad input: exit 2, one line naming the value, no run, CSV untouched" {
    printf 'keep me\n' > "$TMP/existing.csv"
    cp "$TMP/existing.csv" "$TMP/before.csv"
    while IFS='|' read -r args want; do
        # shellcheck disable=SC2086
        run --separate-stderr -2 "$PIMC" --csv "$TMP/existing.csv" $args
        [ "$(errors_of "$stderr" | wc -l)" -eq 1 ] || { echo "args '$args': ${stderr}"; false; }
        [[ $stderr == *"$want"* ]] || { echo "args '$args': '$stderr' lacks '$want'"; false; }
        [ -z "$output" ]
        cmp "$TMP/existing.csv" "$TMP/before.csv"
        run --separate-stderr -2 "$PIMC" --csv "$TMP/new.csv" $args
        [ ! -e "$TMP/new.csv" ]
    done <<'CASES'
abc|'abc' is not a count
1e9x|'1e9x' is not a count
1e30|'1e30' is too large
0|'0' must be at least 1
-5|'-5' is negative
1.5|'1.5' is not a count
1e9 2e9|'2e9'
-t 0|--threads '0'
--threads 100000|--threads '100000'
--threads=-3|--threads '-3'
--seed x1|--seed 'x1'
--kernel sse4|--kernel 'sse4'
--repeat 0|--repeat '0'
--frobnicate|'--frobnicate'
-z|'-z'
--threads|'--threads' needs a value
--json=1|option '--json' takes no value
--quiet=yes|option '--quiet' takes no value
CASES
}

@test "a bad OMP_NUM_THREADS or SLURM_CPUS_PER_TASK is refused by name" {
    OMP_NUM_THREADS=many run --separate-stderr -2 "$PIMC" 1e6
    [[ $stderr == *"OMP_NUM_THREADS='many'"* ]]
    unset OMP_NUM_THREADS
    SLURM_CPUS_PER_TASK=0 run --separate-stderr -2 "$PIMC" 1e6
    [[ $stderr == *"SLURM_CPUS_PER_TASK='0'"* ]]
}

@test "the thread count's source is reported: option, OMP_NUM_THREADS, SLURM_CPUS_PER_TASK, affinity" {
    OMP_NUM_THREADS=3 run -0 "$PIMC" --no-serial 1e6
    [[ $output == *"threads       3 (from OMP_NUM_THREADS"* ]]
    unset OMP_NUM_THREADS
    SLURM_CPUS_PER_TASK=2 run -0 "$PIMC" --no-serial 1e6
    [[ $output == *"threads       2 (from SLURM_CPUS_PER_TASK"* ]]
    run -0 taskset -c "$(cpu_list 1)" "$PIMC" --no-serial 1e6
    [[ $output == *"threads       1 (from affinity; 1 usable CPU)"* ]]
}

@test "more threads than usable CPUs: a warning, and the row says oversubscribed" {
    run --separate-stderr -0 taskset -c "$(cpu_list 1)" "$PIMC" -t 3 --csv "$TMP/o.csv" 1e6
    [[ $stderr == *"3 threads on 1 usable CPUs: oversubscribed"* ]]
    [[ $output == *OVERSUBSCRIBED* ]]
    [ "$(csv_field "$TMP/o.csv" 1 oversubscribed)" = 1 ]
    run -0 "$PIMC" -t 1 --csv "$TMP/o.csv" 1e6
    [ "$(csv_field "$TMP/o.csv" 2 oversubscribed)" = 0 ]
}

@test "a file that cannot be written: exit 4, nothing run" {
    run --separate-stderr -4 "$PIMC" --csv /nonexistent-dir/x.csv 1e6
    [[ $stderr == *"cannot write CSV '/nonexistent-dir/x.csv'"* ]]
    [ -z "$output" ]
    run --separate-stderr -4 "$PIMC" --csv "$TMP" 1e6
    printf 'a,b,c\n1,2,3\n' > "$TMP/foreign.csv"
    run --separate-stderr -4 "$PIMC" --csv "$TMP/foreign.csv" 1e6
    [[ $stderr == *"holds other columns"* ]]
    [ "$(cat "$TMP/foreign.csv")" = "$(printf 'a,b,c\n1,2,3')" ]
}

@test "a CSV of an older pimc-omp (its header cut short after a column): exit 4, says so, file untouched" {
    "$PIMC" -q --csv "$TMP/new.csv" 1e4
    local header all
    header=$(head -n 1 "$TMP/new.csv")
    all=$(awk -F, 'NR == 1 { print NF }' "$TMP/new.csv")
    # An older version's file: the first columns of today's header, and a row of as many fields.
    cut -d, -f1-$((all - 2)) "$TMP/new.csv" > "$TMP/old.csv"
    cp "$TMP/old.csv" "$TMP/old-before.csv"
    run --separate-stderr -4 "$PIMC" --csv "$TMP/old.csv" 1e4
    [[ $stderr == *"CSV '$TMP/old.csv' was written by an older pimc-omp: it has the first $((all - 2)) of the $all columns"* ]]
    [[ $stderr == *"append to a new file"* ]]
    cmp "$TMP/old.csv" "$TMP/old-before.csv"
    # A header that only starts like ours, cut inside a column name, is not an older version's.
    printf '%s\n' "${header:0:12}" > "$TMP/cut.csv"
    run --separate-stderr -4 "$PIMC" --csv "$TMP/cut.csv" 1e4
    [[ $stderr == *"holds other columns"* ]]
}

@test "CSV: header once, the issue's columns first, one row per run; JSON has the same keys and values" {
    run -0 "$PIMC" -t "$THREADS" --csv "$TMP/r.csv" 1e6
    run -0 "$PIMC" -t 1 --seed 9 --no-serial --csv "$TMP/r.csv" 2e6
    [ "$(grep -c '^timestamp,' "$TMP/r.csv")" -eq 1 ]
    [ "$(wc -l < "$TMP/r.csv")" -eq 3 ]
    head -n 1 "$TMP/r.csv" | grep -q '^timestamp,host,cpu_model,kernel,compiler,threads,throws,seed,hits,pi,abs_error,std_error,serial_s,parallel_s,speedup,efficiency,throws_per_s,'
    [ "$(csv_field "$TMP/r.csv" 1 threads)" = "$THREADS" ]
    [ "$(csv_field "$TMP/r.csv" 1 status)" = complete ]
    [ "$(csv_field "$TMP/r.csv" 2 seed)" = 9 ]
    [ -z "$(csv_field "$TMP/r.csv" 2 serial_s)" ]
    [ -z "$(csv_field "$TMP/r.csv" 2 speedup)" ]
    run --separate-stderr -0 "$PIMC" -t "$THREADS" --json 1e6
    python3 - "$TMP/r.csv" "$output" <<'PY'
import csv, json, sys
header = next(csv.reader(open(sys.argv[1])))
row = next(csv.DictReader(open(sys.argv[1])))
obj = json.loads(sys.argv[2])
assert list(obj) == header, (list(obj), header)
for key in ("hits", "throws", "threads", "seed"):
    assert str(obj[key]) == row[key], (key, obj[key], row[key])
assert obj["kernel"] in ("avx512", "avx2", "scalar")
assert abs(obj["pi"] - 4 * obj["hits"] / obj["throws"]) < 1e-12
PY
}

@test "times agree with an outside clock; on one CPU, 2 threads give no speedup and half the efficiency" {
    # Expected values from outside the program: a wall clock around it, and the
    # fact that two threads on one CPU share it: alone there, speedup about 1
    # and efficiency about 1/2; other processes on that CPU move both up (the
    # scheduler gives 2 threads a larger share than 1), to at most 2 and 1. That holds for a steady
    # load; one that changes between the legs can move them past it, so a miss is measured again,
    # twice. Runs of about 30 ms on one thread, on any CPU: long enough to time.
    local throws
    throws=$(timed_throws 0.03)
    python3 - "$PIMC" "$(cpu_list 1)" "$throws" <<'PY'
import json, subprocess, sys, time
for attempt in range(3):
    start = time.monotonic()
    out = subprocess.run(["taskset", "-c", sys.argv[2], sys.argv[1], "-t", "2", "--repeat", "3", "--json", sys.argv[3]],
                         capture_output=True, text=True, check=True).stdout
    wall = time.monotonic() - start
    r = json.loads(out)
    assert r["usable_cpus"] == 1 and r["threads"] == 2, r
    # 3 timed runs of each leg plus a warm-up each, all inside the process's wall time.
    assert 3 * (r["serial_min_s"] + r["parallel_min_s"]) < wall, (r["serial_min_s"], r["parallel_min_s"], wall)
    if 0.25 < r["speedup"] < 2.2 and 0.12 < r["efficiency"] < 1.1:
        break
    print(f"# try {attempt + 1}: speedup {r['speedup']}, efficiency {r['efficiency']}")
assert 0.25 < r["speedup"] < 2.2, r["speedup"]
assert 0.12 < r["efficiency"] < 1.1, r["efficiency"]
PY
}

@test "--quiet prints nothing on stdout; --json prints only the object" {
    run --separate-stderr -0 "$PIMC" -q --csv "$TMP/q.csv" 1e6
    [ -z "$output" ]
    [ "$(wc -l < "$TMP/q.csv")" -eq 2 ]
    run --separate-stderr -0 "$PIMC" --json 1e6
    [ "${#lines[@]}" -eq 1 ]
    [[ ${lines[0]} == "{"*"}" ]]
}

@test "same hits for 1, 2, 3, 5 and 8 threads, every kernel path and schedule" {
    want=$("$PIMC" -t 1 --no-serial --kernel scalar --json 3000017 | json_field hits)
    for t in 1 2 3 5 8; do
        for kernel in auto scalar avx2 avx512; do
            "$PIMC" -V | grep -q "kernels:.* $kernel" || [ "$kernel" = auto ] || continue
            got=$("$PIMC" -t "$t" --kernel "$kernel" --json 3000017 2>/dev/null | json_field hits)
            [ "$got" = "$want" ] || { echo "threads $t kernel $kernel: $got != $want"; false; }
        done
    done
    for schedule in static static,1 guided dynamic,3; do
        got=$(OMP_SCHEDULE=$schedule "$PIMC" -t 3 --json 3000017 2>/dev/null | json_field hits)
        [ "$got" = "$want" ]
    done
}

@test "the serial and parallel runs agree, and --repeat reports median, min and max" {
    run --separate-stderr -0 "$PIMC" -t "$THREADS" --repeat 3 --csv "$TMP/rep.csv" 2e6
    [[ $output == *"median of 3"* ]]
    python3 - "$TMP/rep.csv" <<'PY'
import csv, sys
row = next(csv.DictReader(open(sys.argv[1])))
assert row["run"] == "median" and row["repeats"] == "3", row
for leg in ("parallel", "serial"):
    lo, mid, hi = (float(row[leg + k]) for k in ("_min_s", "_s", "_max_s"))
    assert lo <= mid <= hi, (leg, lo, mid, hi)
PY
}

@test "forcing a kernel the CPU lacks is an error; auto falls back (a CPU without AVX-512)" {
    PIMC_HIDE_KERNELS=avx512 run --separate-stderr -2 "$PIMC" --kernel avx512 1e6
    [[ $stderr == *"--kernel avx512 is not available"* ]]
    PIMC_HIDE_KERNELS=avx512 run -0 "$PIMC" 1e6
    [[ $output == *"kernel        avx2"* ]] || [[ $output == *"kernel        scalar"* ]]
    PIMC_HIDE_KERNELS=avx512,avx2 run -0 "$PIMC" 1e6
    [[ $output == *"kernel        scalar"* ]]
    PIMC_HIDE_KERNELS=sse run --separate-stderr -2 "$PIMC" 1e6
}

@test "under valgrind (no AVX-512 there) the same binary runs and agrees" {
    command -v valgrind >/dev/null || skip "valgrind not installed"
    ! ldd "$PIMC" | grep -q libasan || skip "a sanitizer build does not run under valgrind"
    want=$("$PIMC" -t 1 --no-serial --json 100003 | json_field hits)
    run --separate-stderr -0 valgrind -q --error-exitcode=9 "$PIMC" -t "$THREADS" --json 100003
    got=$(printf '%s\n' "$output" | json_field hits)
    [ "$got" = "$want" ]
    [ "$(printf '%s\n' "$output" | json_field kernel)" != avx512 ]
}

@test "verification: an estimate more than 5 standard errors off exits 3" {
    # Seed 699430's first 10 throws hit once: pi ~ 0.4, 5.28 standard errors
    # (of p = pi/4, 10 throws) below pi. One throw is never that far.
    run --separate-stderr -3 "$PIMC" -t 1 --seed 699430 10
    [[ $stderr == *"verification FAILED"* ]]
    [[ $output == *"verification  FAILED: estimate 5.28 standard errors from pi (limit 5)"* ]]
}

@test "16 concurrent appenders: 16 whole rows and one header" {
    for i in $(seq 16); do
        "$PIMC" -q -t 1 --no-serial --seed "$i" --csv "$TMP/many.csv" 200000 &
    done
    wait
    python3 - "$TMP/many.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
header, data = rows[0], rows[1:]
assert header[0] == "timestamp" and len(data) == 16, len(data)
assert all(len(r) == len(header) for r in data)
assert sorted(int(r[header.index("seed")]) for r in data) == list(range(1, 17))
assert sum(r[0] == "timestamp" for r in rows) == 1
PY
}

# started PID: until PID has thrown for a quarter of a second of CPU time (its signal handlers are up
# long before): a wall time may pass, on a loaded machine, before it throws at all.
started() {
    wait_for_cpu "$1" $((CLK_TCK / 4)) || { echo "it ended before it had thrown: $(cat "$TMP/err")"; false; }
}

stop_midrun() { # signal expected_status
    # No warm-up: the stop is to come in a timed run (a stop in the warm-up is records.bats's case).
    "$PIMC" -t "$THREADS" --warm-up 0 --csv "$TMP/partial.csv" 1e13 > "$TMP/out" 2> "$TMP/err" &
    pid=$!
    started "$pid"
    kill -"$1" "$pid"
    start=$(date +%s%N)
    status=0
    wait "$pid" || status=$?
    elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$status" -eq "$2" ] || { echo "exit $status, wanted $2"; cat "$TMP/err"; false; }
    [ "$elapsed_ms" -lt 1500 ] || { echo "took ${elapsed_ms} ms to stop"; false; }
    grep -q "PARTIAL, stopped by a signal" "$TMP/out"
    python3 - "$TMP/partial.csv" <<'PY'
import csv, sys
row = list(csv.DictReader(open(sys.argv[1])))[-1]
assert row["status"] == "partial", row["status"]
throws, hits = int(row["throws"]), int(row["hits"])
assert 0 < throws < int(row["throws_requested"]) == 10**13, throws
assert abs(4 * hits / throws - 3.14159265) < 0.01
assert row["speedup"] == "" and row["serial_s"] == ""
PY
}

@test "SIGTERM mid-run: stops at once, prints and records the partial result, exit 143" {
    stop_midrun TERM 143
}

@test "SIGINT mid-run: the same, exit 130" {
    stop_midrun INT 130
}

@test "SIGUSR1 mid-run (what mpirun hands its ranks, and sbatch --signal=USR1@T sends): the same, exit 138" {
    stop_midrun USR1 138
}

@test "progress on a terminal for long runs, never when stderr is not a terminal" {
    # A run that never ends by itself on any machine, stopped once seen: the
    # progress line must come (on a terminal), however fast the CPU.
    script -qefc "OMP_NUM_THREADS=$THREADS $PIMC --no-serial 1e15 & echo \$! > $TMP/pid; wait" "$TMP/tty" > /dev/null &
    script_pid=$!
    start=$(date +%s)
    for _ in $(seq 600); do
        grep -q ETA "$TMP/tty" 2>/dev/null && break
        sleep 0.1
    done
    seen=$(( $(date +%s) - start ))
    kill -TERM "$(cat "$TMP/pid")"
    wait "$script_pid" || true
    grep -q 'parallel:.*Gthrows/s.*ETA' "$TMP/tty" || { echo "no progress line in ${seen}s"; cat "$TMP/tty"; false; }
    # Not a terminal: no progress, over longer than it took to appear above.
    "$PIMC" --no-serial 1e15 2> "$TMP/err" > /dev/null &
    pid=$!
    sleep $(( seen + 3 ))
    kill -TERM "$pid"
    wait "$pid" || true
    ! grep -q ETA "$TMP/err"
}

@test "hits equal an independent Python implementation of the documented stream" {
    for case in "100001 12345" "4097 18446744073709551615" "3001 0x123456789abcdef0" "1 1"; do
        read -r throws seed <<< "$case"
        want=$(python3 "$BATS_TEST_DIRNAME/reference.py" "$throws" "$seed")
        got=$("$PIMC" -t 3 --seed "$seed" --json "$throws" 2>/dev/null | json_field hits)
        [ "$got" = "$want" ] || { echo "throws $throws seed $seed: pimc-omp $got, Python $want"; false; }
    done
}

@test "OMP_PROC_BIND pins the main thread early: the usable CPUs are still the whole mask" {
    needs_two_cpus
    out=$(OMP_PROC_BIND=close OMP_PLACES=cores taskset -c "$(cpu_list 2)" "$PIMC" -t 2 --no-serial --json 1e6 2>"$TMP/err")
    python3 -c '
import json, sys
row = json.loads(sys.argv[1])
assert (row["usable_cpus"], row["oversubscribed"], row["omp_proc_bind"]) == (2, 0, "close"), row
' "$out"
    ! grep -q oversubscribed "$TMP/err"
}

@test "started as several tasks without an MPI launcher: says it runs independent copies" {
    SLURM_STEP_NUM_TASKS=4 run --separate-stderr -0 "$PIMC" -t 1 --no-serial 1e6
    [[ $stderr == *"started as 4 tasks"*"running 4 independent copies"* ]]
}

@test "a second SIGTERM while stopping does not cut the partial row short" {
    "$PIMC" -t "$THREADS" --csv "$TMP/twice.csv" 1e13 > "$TMP/out" 2> "$TMP/err" &
    pid=$!
    started "$pid"
    kill -TERM "$pid"
    kill -TERM "$pid" 2>/dev/null || true
    status=0
    wait "$pid" || status=$?
    [ "$status" -eq 143 ]
    [ "$(python3 -c 'import csv,sys; print(list(csv.DictReader(open(sys.argv[1])))[-1]["status"])' "$TMP/twice.csv")" = partial ]
}

@test "a long value (an OMP_PLACES of 400 characters) is written whole to the CSV and JSON" {
    places=$(python3 -c 'print(",".join("{%d}" % i for i in range(100)))')
    [ "${#places}" -gt 400 ]
    OMP_PLACES=$places run --separate-stderr -0 "$PIMC" -t 1 --no-serial --csv "$TMP/long.csv" --json 1e5
    [ "$(printf '%s\n' "$output" | json_field omp_places)" = "$places" ]
    [ "$(csv_field "$TMP/long.csv" 1 omp_places)" = "$places" ]
}

@test "flock fails (a file system without locks): the row is written, with a warning naming the file" {
    [ -n "${FLOCK_FAILS:-}" ] || skip "FLOCK_FAILS (tests/flock_fails.c, built by meson) not given"
    # A sanitizer runtime wants to be first; this test's library comes first instead.
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
    LD_PRELOAD=$FLOCK_FAILS run --separate-stderr -0 "$PIMC" -q -t 1 --csv "$TMP/nolock.csv" 1e5
    want="pimc-omp: warning: cannot lock CSV '$TMP/nolock.csv': No locks available; rows that other jobs append at the same time may interleave (give each job its own file there)"
    [ "$(grep -cF "$want" <<< "$stderr")" -eq 1 ] || { echo "$stderr"; false; } # once, though it locks twice
    [ "$(wc -l < "$TMP/nolock.csv")" -eq 2 ]
    LD_PRELOAD=$FLOCK_FAILS run --separate-stderr -0 "$PIMC" -q -t 1 --csv "$TMP/nolock.csv" 1e5
    [ "$(wc -l < "$TMP/nolock.csv")" -eq 3 ]
}

stop_before_a_row() { # csv [preload]: a check stopped before it writes its row, once it has created it
    LD_PRELOAD=${2:-} "$PIMC" --check "$BATS_TEST_DIRNAME/fixtures/check-stop.csv" --csv "$1" > /dev/null 2> "$TMP/err" &
    pid=$!
    until [ -e "$1" ]; do alive "$pid" || { echo "it ended: $(cat "$TMP/err")"; false; }; sleep 0.01; done
    started "$pid"
    kill -TERM "$pid"
    wait "$pid" || true
}

@test "a CSV the run created and left empty is removed under the lock, and kept when there is no lock" {
    stop_before_a_row "$TMP/empty.csv"
    [ ! -e "$TMP/empty.csv" ]
    [ -n "${FLOCK_FAILS:-}" ] || skip "FLOCK_FAILS not given"
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
    stop_before_a_row "$TMP/kept.csv" "$FLOCK_FAILS"
    [ -e "$TMP/kept.csv" ] && [ ! -s "$TMP/kept.csv" ]
    # A row another job wrote meanwhile is never removed with the empty file.
    "$PIMC" --check "$BATS_TEST_DIRNAME/fixtures/check-stop.csv" --csv "$TMP/shared.csv" > /dev/null 2> "$TMP/err" &
    pid=$!
    until [ -e "$TMP/shared.csv" ]; do alive "$pid" || { echo "it ended: $(cat "$TMP/err")"; false; }; sleep 0.01; done
    started "$pid"
    "$PIMC" -q -t 1 --csv "$TMP/shared.csv" 1e5
    kill -TERM "$pid"
    wait "$pid" || true
    [ "$(wc -l < "$TMP/shared.csv")" -eq 2 ]
}
