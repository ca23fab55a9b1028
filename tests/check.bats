#!/usr/bin/env bats
# The regression check (--check BASELINE) end to end: verdicts against baselines
# from real runs and against fixtures (tests/fixtures/check-*), exit codes 0, 1,
# 2 and 128+N, and the messages. PIMC is the binary under test.
#
# Timing on a slow, shared 2-core machine is noise, and a sanitizer build's
# speed also varies by a third from one process to the next: no test here
# asserts on a speed except with a margin of 100x, or on a ratio that must be ~1
# against a baseline of 3 or more. Checks that must pass get --tolerance 90%,
# since the relative figures (efficiency, speed_vs_scalar) are compared too.
# Real baselines are of runs some 100 ms long on this CPU, whatever its speed
# (a parallel leg under 10 ms gives no timing verdict), and a check that finds
# the machine too busy to tell is tried again, then skipped (run_check). The
# rules that keep a check from passing (raw times, short legs, another model's
# rows) are tested in check-rules.bats.

# shellcheck disable=SC2154 # status, output, lines, stderr, stderr_lines: set by bats' run
bats_require_minimum_version 1.5.0

load machine

# The throws of a real baseline (and its hits): one thread's run takes some 100 ms here (1e7 at least), so that
# the parallel leg of 2 threads (50 ms) stays over the 10 ms under which --check gives no timing verdict, even
# on a machine that runs 3x faster during the check than when this was measured (30 ms gave 10 ms legs on a Zen 5).
setup_file() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    BASE_THROWS=$(timed_throws 0.1)
    ((BASE_THROWS >= 10000000)) || BASE_THROWS=10000000
    BASE_HITS=$("$PIMC" -t 1 --no-serial --json "$BASE_THROWS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["hits"])')
    export BASE_THROWS BASE_HITS
}

setup() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    TMP=$(mktemp -d)
    FIXTURES="$BATS_TEST_DIRNAME/fixtures"
    export OMP_NUM_THREADS=$THREADS
    unset PIMC_HIDE_KERNELS
}

# run_check STATUS ARGS... -- `run --separate-stderr "$PIMC" --check ARGS...`, wanting exit STATUS. On a
# machine so busy that other work took more than 3/4 of it, a verdict below the baseline is
# INCONCLUSIVE (exit 0) by design: then the check is tried again, and after 3 such tries the test
# skips, saying so, rather than pass or fail on what other work did.
# A round that passes only with other work's time discounted is INCONCLUSIVE too ("rerun on a quieter machine").
run_check() {
    local want=$1 try
    shift
    for try in 1 2 3; do
        run --separate-stderr "$PIMC" --check "$@"
        left_to_load || break
    done
    ! left_to_load || skip "the machine was too busy for --check to tell, $try times: ${output##*check: }"
    [ "$status" -eq "$want" ] || { echo "exit $status, wanted $want"; printf '%s\n' "$output" "$stderr"; false; }
}

left_to_load() { # whether the check's output leaves a metric to the load
    [[ $output == *"other work took too much of the machine to tell"* ||
        $output == *"discounted: rerun on a quieter machine"* ]]
}

# "1 thread", "2 threads": as the check's lines say a thread count.
threads_said() { if (($1 == 1)); then echo "1 thread"; else echo "$1 threads"; fi; }

teardown() {
    rm -rf "$TMP"
}

# A baseline from real runs here: the main row (THREADS threads, BASE_THROWS, with
# the serial leg) and the scalar reference row for speed_vs_scalar.
real_baseline() { # file
    "$PIMC" -q -t "$THREADS" --repeat 3 --csv "$1" "$BASE_THROWS"
    "$PIMC" -q -t 1 --kernel scalar --no-serial --repeat 3 --csv "$1" "$BASE_THROWS"
}

# Copies a baseline CSV with some columns changed, through Python's csv module.
# Each EDIT is column=expression, with x the old value as a float for *_s
# columns and as an int for counts.
edit_baseline() { # in out edit...
    python3 - "$@" <<'PY'
import csv, sys
src, dst, edits = sys.argv[1], sys.argv[2], [e.split("=", 1) for e in sys.argv[3:]]
rows = list(csv.DictReader(open(src)))
for row in rows:
    for column, expression in edits:
        if row[column] != "":
            x = float(row[column]) if column.endswith("_s") else int(row[column])
            row[column] = repr(eval(expression))
with open(dst, "w", newline="") as out:
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
PY
}

all_times() { # expression applied to every time column
    printf '%s\n' "serial_s=$1" "serial_min_s=$1" "serial_max_s=$1" "parallel_s=$1" "parallel_min_s=$1" \
        "parallel_max_s=$1"
}

@test "a baseline from real runs passes: one verdict line per metric, then check: PASS, exit 0" {
    real_baseline "$TMP/base.csv"
    run_check 0 "$TMP/base.csv" --tolerance 90%
    [[ ${lines[0]} == "check: baseline $TMP/base.csv: 1 row of kernel "*", $(threads_said "$THREADS"), $BASE_THROWS throws on "* ]]
    want=$("$PIMC" -t 1 --no-serial --json "$BASE_THROWS" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["hits"])')
    [ "${lines[1]}" = "check hits: PASS $want = baseline (seed 1, $BASE_THROWS throws, 2 rows)" ]
    [[ ${lines[2]} == "check kernel: PASS "* ]]
    [[ ${lines[3]} == "check throughput_per_thread: PASS "*" Gthrows/s (best of 5,"*"vs baseline"*"tolerance 90%"* ]]
    [[ ${lines[4]} == "check efficiency: PASS "* ]]
    if [ "$("$PIMC" -V | grep '^kernels:' | grep -o 'auto: [a-z0-9]*')" = "auto: scalar" ]; then
        [[ ${lines[5]} == "check speed_vs_scalar: SKIPPED (the configuration is the scalar path itself)" ]]
    else
        [[ ${lines[5]} == "check speed_vs_scalar: PASS "*"x (best of 5,"* ]]
    fi
    [ "${lines[6]}" = "check: PASS" ]
    [ "${#lines[@]}" -eq 7 ]
}

@test "rows of this CPU's name without the cpu_signature this CPU has: shown, but they pass no timing metric" {
    # Runs of some 100 ms (a 1e6-throw run takes 0.3 ms on a fast CPU: noise on a loaded one, where
    # this test failed 1 run in 12), 3 of them, in the baseline and in the check.
    "$PIMC" -q -t "$THREADS" --repeat 3 --csv "$TMP/base.csv" "$BASE_THROWS"
    signature=$(python3 -c 'import csv, sys; print(next(csv.DictReader(open(sys.argv[1])))["cpu_signature"])' "$TMP/base.csv")
    [ -n "$signature" ] || skip "this CPU has no cpu_signature"
    run_check 0 "$TMP/base.csv" --tolerance 90% --repeat 3
    [[ ${lines[0]} == *'" (this CPU); seed 1;'* ]]
    # The same row as a file from before the column would have it.
    python3 - "$TMP/base.csv" "$TMP/unsigned.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for row in rows:
    row["cpu_signature"] = ""
with open(sys.argv[2], "w", newline="") as out:
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
PY
    run_check 0 "$TMP/unsigned.csv" --tolerance 90% --repeat 3
    [[ ${lines[0]} == *"\" (this CPU's name; the rows have no cpu_signature, so they may be of another model that shares it: add rows of this one); seed 1;"* ]]
    model=$(python3 -c 'import csv, sys; print(next(csv.DictReader(open(sys.argv[1])))["cpu_model"])' "$TMP/base.csv")
    [ "${lines[1]}" = "check: no baseline rows of this CPU model (\"$model\", cpu_signature $signature); rows of \"$model\" without a cpu_signature may be another model's: add rows of this one with \`pimc-omp --csv FILE\`" ]
    # A pass on them would say nothing of this model (two "AMD EPYC" models differ by 40% a thread), and
    # neither would a failure of the absolute figure.
    [[ $output == *"check throughput_per_thread: INCONCLUSIVE "*"the rows have no cpu_signature, so they may be of another model named \"$model\": add rows of this one (cpu_signature $signature)"* ]]
    [[ $output == *"check efficiency: INCONCLUSIVE "*"the rows have no cpu_signature"* ]]
    ! grep -E '^check (throughput_per_thread|efficiency|speed_vs_scalar): PASS' <<<"$output"
    [[ ${lines[-1]} == "check: INCONCLUSIVE (throughput_per_thread, efficiency"*"): not a regression shown, nor a pass (their lines say why); exit 0" ]]
}

@test "JSON baselines: one object (--json), an array (--sweep --json), objects one after another" {
    "$PIMC" -t "$THREADS" --repeat 3 --json "$BASE_THROWS" > "$TMP/one.json" 2>/dev/null
    run_check 0 "$TMP/one.json" --tolerance 90%
    [[ $output == *"check hits: PASS $BASE_HITS = baseline (seed 1, $BASE_THROWS throws, 1 row)"* ]]
    [[ ${lines[-1]} == "check: PASS" ]]
    "$PIMC" --sweep 1,2 --repeat 2 --json "$BASE_THROWS" > "$TMP/sweep.json" 2>/dev/null
    run_check 0 "$TMP/sweep.json" --tolerance 90%
    [[ ${lines[0]} == *": 3 rows of kernel "*", 2 threads, $BASE_THROWS throws"* ]] # 2 runs and their median (--sweep 1,2)
    [[ $output == *"check hits: PASS $BASE_HITS = baseline (seed 1, $BASE_THROWS throws, 6 rows)"* ]]
    cat "$TMP/one.json" "$TMP/one.json" > "$TMP/lines.json"
    run_check 0 "$TMP/lines.json" --tolerance 90%
    [[ $output == *"(seed 1, $BASE_THROWS throws, 2 rows)"* ]]
}

@test "--json prints the verdicts as one object" {
    "$PIMC" -t "$THREADS" --repeat 3 --json "$BASE_THROWS" > "$TMP/one.json" 2>/dev/null
    run_check 0 "$TMP/one.json" --tolerance 90% --json
    python3 -c '
import json, sys
v = json.loads(sys.argv[1])
assert v["check"] == "PASS" and v["exit_status"] == 0, v
assert [m["metric"] for m in v["metrics"]] == ["hits", "kernel", "throughput_per_thread", "efficiency", "speed_vs_scalar"]
assert v["metrics"][0] == {**v["metrics"][0], "verdict": "PASS", "measured": int(sys.argv[2]), "baseline": int(sys.argv[2])}
' "$output" "$BASE_HITS"
}

@test "a baseline 100x slower passes; one 5x faster than this machine is a regression, exit 1" {
    real_baseline "$TMP/base.csv"
    mapfile -t slower < <(all_times 'x * 100')
    edit_baseline "$TMP/base.csv" "$TMP/slow.csv" "${slower[@]}"
    run_check 0 "$TMP/slow.csv" --tolerance 90%
    [[ $output == *"check throughput_per_thread: PASS"* ]]
    [ "${lines[-1]}" = "check: PASS" ]

    # A row 5x faster than this machine ran it a moment ago, at the default tolerance (10%): passing it would
    # take a check 4.5x faster than that run, which noise (it only slows runs down) cannot give. Its legs must
    # stay timed (10 ms or more): so a run of half a second a thread, its parallel leg divided by 5.
    local throws
    throws=$(timed_throws 0.5)
    "$PIMC" -q -t "$THREADS" --csv "$TMP/long.csv" "$throws"
    edit_baseline "$TMP/long.csv" "$TMP/fast.csv" parallel_s='x / 5' parallel_min_s='x / 5' parallel_max_s='x / 5'
    run_check 1 "$TMP/fast.csv" --repeat 2
    [[ $output == *"check hits: PASS"* ]]
    [[ $output == *"check throughput_per_thread: FAIL "*"% below the baseline"* ]]
    [[ $output == *"check efficiency: FAIL "* ]]
    [ "${lines[-1]}" = "check: REGRESSION (throughput_per_thread, efficiency)" ]
}

@test "wrong hits fail whatever the speed, exit 1" {
    real_baseline "$TMP/base.csv"
    mapfile -t slower < <(all_times 'x * 100')
    edit_baseline "$TMP/base.csv" "$TMP/hits.csv" hits='x + 1' "${slower[@]}"
    run_check 1 "$TMP/hits.csv" --tolerance 90%
    [[ ${lines[1]} =~ ^"check hits: FAIL "([0-9]+)" != baseline "([0-9]+)" (seed 1, $BASE_THROWS throws): this build miscounts"$ ]]
    [ "${BASH_REMATCH[2]}" -eq $((BASH_REMATCH[1] + 1)) ]
    [[ $output == *"check throughput_per_thread: PASS"* ]]
    [ "${lines[-1]}" = "check: REGRESSION (hits)" ]
}

@test "another CPU model: absolute throughput SKIPPED; efficiency and speed_vs_scalar shown, never PASS" {
    # Its rows are of 2 threads: on one CPU every timing metric is SKIPPED as oversubscribed first.
    needs_two_cpus
    # The fixture is of an imaginary CPU, its relative figures easy to meet (its times are possible ones:
    # a row faster than any CPU can be is refused): on this CPU's own rows they would pass.
    run_check 0 "$FIXTURES/check-other-cpu.csv"
    [[ ${lines[0]} == *'on "Imaginary CPU 9000, "fixture" edition" (not this CPU)'* ]]
    [[ ${lines[1]} == "check: no baseline rows of this CPU model (\""*"; the rows are of other models: add rows of this one with \`pimc-omp --csv FILE\`" ]]
    [[ $output == *'check throughput_per_thread: SKIPPED (baseline from another CPU model: "Imaginary CPU 9000, "fixture" edition"; this is "'* ]]
    # INCONCLUSIVE: the rows are another model's (and this run's 1e7-throw legs may be too short to time).
    [[ $output == *"check efficiency: INCONCLUSIVE "*"vs baseline 0.050 "*"the rows are another CPU model's (\"Imaginary CPU 9000"* ]]
    [[ $output == *"check speed_vs_scalar: INCONCLUSIVE "* ]] || [[ $output == *"check speed_vs_scalar: SKIPPED "* ]]
    [[ $output == *"check hits: PASS 7853412 = baseline (seed 1, 10000000 throws, 2 rows)"* ]]
    [[ ${lines[-1]} == "check: INCONCLUSIVE (efficiency"* ]]
}

@test "a build whose dispatch lost its SIMD paths: kernel and speed_vs_scalar fail, exit 1" {
    "$PIMC" -V | grep '^kernels:' | grep -q 'auto: scalar' && skip "this CPU runs the scalar path anyway"
    real_baseline "$TMP/base.csv"
    # The baseline's own speedup of the SIMD path over scalar (not there in a sanitizer build).
    simd_speedup=$(python3 -c '
import csv, sys
main, scalar = list(csv.DictReader(open(sys.argv[1])))
print(int(float(scalar["parallel_min_s"]) / float(main["serial_min_s"])))' "$TMP/base.csv")
    PIMC_HIDE_KERNELS=avx512,avx2 run_check 1 "$TMP/base.csv" --tolerance 50%
    [[ $output == *"check kernel: FAIL scalar (baseline "*" on this CPU model): the dispatch picks another path"* ]]
    [[ ${lines[-1]} == "check: REGRESSION (kernel"* ]]
    if [ "$simd_speedup" -ge 3 ]; then
        [[ $output == *"check speed_vs_scalar: FAIL "* ]]
        [[ ${lines[-1]} == *"speed_vs_scalar)" ]]
    fi
}

@test "THROWS, --threads, --seed and --kernel override the baseline; no rows for them is unusable, exit 2" {
    real_baseline "$TMP/base.csv"
    run_check 0 "$TMP/base.csv" --seed 7 --tolerance 90%
    [[ $output == *"check hits: SKIPPED "*": no baseline row of seed 7 and $BASE_THROWS throws (the runs agree and the estimate verifies)"* ]]
    kernel=$(python3 -c 'import csv,sys; print(next(csv.DictReader(open(sys.argv[1])))["kernel"])' "$TMP/base.csv")
    local other=$((THREADS == 1 ? 2 : 1))
    run --separate-stderr -2 "$PIMC" --check "$TMP/base.csv" -t "$other"
    [ -z "$output" ]
    [ "$(errors_of "$stderr")" = "pimc-omp: --check: baseline '$TMP/base.csv' is unusable: no complete row for kernel $kernel, $(threads_said "$other"), $BASE_THROWS throws (the latest row has $kernel, $(threads_said "$THREADS"), $BASE_THROWS throws; THROWS, --threads and --kernel choose the configuration)" ]
    run --separate-stderr -2 "$PIMC" --check "$TMP/base.csv" $((2 * BASE_THROWS))
    [[ $stderr == *"no complete row for kernel "*", $(threads_said "$THREADS"), $((2 * BASE_THROWS)) throws"* ]]
    run_check 0 "$TMP/base.csv" --kernel scalar -t 1 --tolerance 90%
    [[ ${lines[0]} == *": 1 row of kernel scalar, 1 thread, $BASE_THROWS throws"* ]]
    [[ $output == *"check kernel: PASS scalar (baseline scalar), forced by --kernel"* ]]
}

@test "unusable baselines: exit 2, one line naming the file and the reason, nothing on stdout" {
    printf '' > "$TMP/empty.csv"
    head -n 1 "$FIXTURES/check-other-cpu.csv" > "$TMP/header-only.csv"
    while IFS='|' read -r file want; do
        file=${file/FIXTURES/$FIXTURES}
        file=${file/TMP/$TMP}
        run --separate-stderr -2 "$PIMC" --check "$file"
        [ -z "$output" ] || { echo "$file: stdout '$output'"; false; }
        [ "$(errors_of "$stderr" | wc -l)" -eq 1 ] || { echo "$file: $stderr"; false; }
        [[ $(errors_of "$stderr") == "pimc-omp: --check: baseline '$file' is unusable: $want"* ]] || { echo "$file: '$stderr' lacks '$want'"; false; }
    done <<'CASES'
TMP/missing.csv|cannot open it: No such file or directory
TMP|it is a directory, not a regular file
TMP/empty.csv|it is empty
TMP/header-only.csv|no complete row to compare with
FIXTURES/check-foreign.csv|no column 'cpu_model': not a file pimc-omp wrote with --csv or --json
FIXTURES/check-corrupt-fields.csv|line 3 has 12 fields where the header has
FIXTURES/check-corrupt-quote.csv|line 2: a quoted field is never closed
FIXTURES/check-bad-value.csv|line 3: hits '78534x2' is not a count
FIXTURES/check-partial-only.csv|no complete row to compare with (status=complete
FIXTURES/check-disagree.csv|lines 2 and 3 disagree on the hits of seed 1, 10000000 throws (7853412 and 7853413)
FIXTURES/check-nested.json|JSON: object 1: 'threads' holds an object or array
FIXTURES/check-truncated.json|JSON: string or '}' expected near end of file (line 2, column 0), but the file ends (truncated?)
CASES
}

@test "--csv appends the measured row as mode=check; --check rows are never a baseline" {
    "$PIMC" -q -t "$THREADS" --repeat 3 --csv "$TMP/base.csv" "$BASE_THROWS"
    run_check 0 "$TMP/base.csv" --tolerance 90% --csv "$TMP/checks.csv"
    python3 - "$TMP/checks.csv" "$THREADS" "$BASE_THROWS" "$BASE_HITS" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 1, rows
r = rows[0]
assert (r["mode"], r["run"], r["repeats"], r["threads"], r["throws"]) == ("check", "median", "5", sys.argv[2], sys.argv[3]), r
assert r["hits"] == sys.argv[4] and r["status"] == "complete" and r["threads_source"] == "baseline", r
assert float(r["parallel_min_s"]) <= float(r["parallel_s"]) <= float(r["parallel_max_s"])
assert float(r["serial_s"]) > 0 and r["efficiency"] != ""
PY
    run --separate-stderr -2 "$PIMC" --check "$TMP/checks.csv"
    [[ $stderr == *"no complete row to compare with (status=complete; rows of --check"* ]]
}

@test "more threads than usable CPUs: timing metrics SKIPPED, hits still checked" {
    "$PIMC" -q -t 2 --repeat 3 --csv "$TMP/base.csv" 2e6
    run --separate-stderr -0 taskset -c "$(cpu_list 1)" "$PIMC" --check "$TMP/base.csv"
    [[ $output == *"check hits: PASS 1570765"* ]]
    [[ $output == *"check throughput_per_thread: SKIPPED (2 threads on 1 usable CPUs: oversubscribed, not a speed result)"* ]]
    [[ $output == *"check efficiency: SKIPPED (2 threads on 1 usable CPUs"* ]]
    [ "${lines[-1]}" = "check: PASS" ]
}

@test "--quiet prints nothing; the exit status still tells" {
    "$PIMC" -q -t "$THREADS" --repeat 3 --csv "$TMP/base.csv" "$BASE_THROWS"
    run --separate-stderr -0 "$PIMC" --check "$TMP/base.csv" --tolerance 90% -q
    [ -z "$output" ]
    edit_baseline "$TMP/base.csv" "$TMP/hits.csv" hits='x - 1'
    run --separate-stderr -1 "$PIMC" --check "$TMP/hits.csv" -q
    [ -z "$output" ]
}

stop_check() { # signal expected_status
    "$PIMC" --check "$FIXTURES/check-stop.csv" > "$TMP/out" 2> "$TMP/err" &
    pid=$!
    # Once it has thrown for a quarter of a second of CPU time (its handlers are up long before); a
    # wall time may pass, on a loaded machine, before it throws at all.
    wait_for_cpu "$pid" $((CLK_TCK / 4)) || { echo "it ended: $(cat "$TMP/err")"; false; }
    kill -"$1" "$pid"
    status=0
    wait "$pid" || status=$?
    [ "$status" -eq "$2" ] || { echo "exit $status, wanted $2"; cat "$TMP/err"; false; }
    grep -q "^pimc-omp: --check stopped by signal $(( $2 - 128 )): no verdict$" "$TMP/err"
    ! grep -q "^check: PASS\|^check: REGRESSION" "$TMP/out"
}

@test "SIGTERM and SIGINT stop a check: exit 143 and 130, no verdict" {
    stop_check TERM 143
    stop_check INT 130
}

@test "a header that repeats a column, and the files the old reader double-freed: exit 2, one line, no crash" {
    head -n 1 "$FIXTURES/check-other-cpu.csv" | sed 's/^timestamp,host,/timestamp,timestamp,/' > "$TMP/twice.csv"
    sed -n 2p "$FIXTURES/check-other-cpu.csv" >> "$TMP/twice.csv"
    run --separate-stderr -2 "$PIMC" --check "$TMP/twice.csv"
    [ "$(errors_of "$stderr")" = "pimc-omp: --check: baseline '$TMP/twice.csv' is unusable: line 1: column 'timestamp' appears twice" ]
    # Found by fuzzing the reader this one replaced (tests/fuzz); each aborted with a double free.
    for file in "$BATS_TEST_DIRNAME"/fuzz/corpus/fuzz_baseline_csv/old-check-double-free-*.csv; do
        run --separate-stderr -2 "$PIMC" --check "$file"
        [ -z "$output" ] && [ "$(errors_of "$stderr" | wc -l)" -eq 1 ] || { echo "$file: $stderr"; false; }
        [[ $(errors_of "$stderr") == "pimc-omp: --check: baseline '$file' is unusable: line 1: column '"*"' appears twice" ]]
    done
}

@test "150 randomly mutated baselines: each exits 0, 1 or 2 with a message, never a crash" {
    "$PIMC" -q -t "$THREADS" --repeat 2 --csv "$TMP/base.csv" 1e5
    "$PIMC" -t "$THREADS" --json 1e5 > "$TMP/base.json" 2>/dev/null
    # Mutations as a fuzzer makes them (flip, insert, delete, duplicate a span), from a fixed seed.
    python3 - "$TMP" <<'PY'
import random, sys
tmp = sys.argv[1]
rng = random.Random(20261201)
for name in ("base.csv", "base.json"):
    data = open(f"{tmp}/{name}", "rb").read()
    for i in range(75):
        d = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            op, at = rng.randrange(4), rng.randrange(len(d))
            if op == 0:
                d[at] = rng.choice(b',"\n\r{}[]:0123456789e.-\\ \x00\xff' + bytes([rng.randrange(256)]))
            elif op == 1:
                d.insert(at, rng.randrange(256))
            elif op == 2:
                del d[at:at + rng.randint(1, 20)]
            else:
                d[at:at] = d[at:at + rng.randint(1, 40)]
        open(f"{tmp}/mutated-{i:03d}-{name}", "wb").write(bytes(d))
PY
    for file in "$TMP"/mutated-*; do
        status=0
        "$PIMC" --check "$file" --repeat 1 --tolerance 90% > "$TMP/out" 2> "$TMP/err" || status=$?
        case $status in
        0 | 1) grep -q '^check: ' "$TMP/out" || { echo "$file: exit $status without a verdict"; false; } ;;
        2) grep -q "^pimc-omp: --check: baseline '$file' is unusable: " "$TMP/err" || { echo "$file: exit 2: $(cat "$TMP/err")"; false; } ;;
        *) echo "$file: exit $status: $(cat "$TMP/err")"; false ;;
        esac
        ! grep -q 'Sanitizer\|runtime error' "$TMP/err" || { echo "$file: $(cat "$TMP/err")"; false; }
    done
}

@test "--check BASE --kernel auto is the check without --kernel: the dispatch's path against the baseline's" {
    real_baseline "$TMP/base.csv"
    run_check 0 "$TMP/base.csv" --kernel auto --tolerance 90%
    auto=$("$PIMC" -V | grep '^kernels:' | grep -o 'auto: [a-z0-9]*' | cut -d' ' -f2)
    [[ ${lines[0]} == *": 1 row of kernel $auto, $(threads_said "$THREADS"), $BASE_THROWS throws"* ]]
    [ "${lines[2]}" = "check kernel: PASS $auto (baseline $auto)" ]
    [ "${lines[-1]}" = "check: PASS" ]
}

@test "rows of another generator never compare: selected by the rng column, none meaning philox4x32-10" {
    real_baseline "$TMP/base.csv"
    # The same rows as if another generator wrote them, 100x faster and with other hits.
    mapfile -t faster < <(all_times 'x / 100')
    edit_baseline "$TMP/base.csv" "$TMP/ars.csv" hits='x + 7' "${faster[@]}"
    # The generator's name is in no other column: found by value, wherever columns added later put it.
    sed -i '2,$s/,philox4x32-10,/,ars4x32-5,/' "$TMP/ars.csv"
    grep -q ',ars4x32-5,1,0,' "$TMP/ars.csv"
    run --separate-stderr -2 "$PIMC" --check "$TMP/ars.csv"
    [ "$(errors_of "$stderr")" = "pimc-omp: --check: baseline '$TMP/ars.csv' is unusable: no complete row of generator philox4x32-10, this run's (its rows are of another; --rng chooses the generator)" ]
    # Mixed: the Philox rows are the reference, the faster ARS rows are left out.
    tail -n +2 "$TMP/ars.csv" >> "$TMP/base.csv"
    run_check 0 "$TMP/base.csv" --tolerance 90%
    [[ ${lines[0]} == *": 1 row of kernel "* ]]
    [[ ${lines[1]} == "check hits: PASS "*" = baseline (seed 1, $BASE_THROWS throws, 2 rows)" ]]
    [ "${lines[-1]}" = "check: PASS" ]
    # A baseline from before the rng column: its rows are Philox's.
    cut -d, -f1-40 "$TMP/ars.csv" > "$TMP/old.csv"
    run_check 1 "$TMP/old.csv" --tolerance 90%
    [[ $output == *"check hits: FAIL "* ]]
}

scale_scalar_rows() { # in out factor cpu_model: the scalar row's times x factor, every row's CPU model set
    python3 - "$@" <<'PY'
import csv, sys
src, dst, factor, model = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
rows = list(csv.DictReader(open(src)))
for row in rows:
    row["cpu_model"] = model or row["cpu_model"]
    if row["kernel"] == "scalar":
        for column in ("parallel_s", "parallel_min_s", "parallel_max_s"):
            row[column] = repr(float(row[column]) * factor)
with open(dst, "w", newline="") as out:
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
PY
}

@test "speed_vs_scalar against another CPU model: never PASS, FAIL under half; on the same model the tolerance holds" {
    "$PIMC" -V | grep '^kernels:' | grep -q 'auto: scalar' && skip "this CPU runs the scalar path anyway"
    real_baseline "$TMP/base.csv"
    run --separate-stderr "$PIMC" --check "$TMP/base.csv" --tolerance 20%
    [[ $output == *"check speed_vs_scalar: "*", tolerance 20%"* ]] || { echo "$output"; false; }
    scale_scalar_rows "$TMP/base.csv" "$TMP/other.csv" 1 "Another CPU"
    run --separate-stderr "$PIMC" --check "$TMP/other.csv" --tolerance 20%
    [[ $output == *"check speed_vs_scalar: INCONCLUSIVE "*", tolerance 50%"*"the rows are another CPU model's (\"Another CPU\""* ]] || { echo "$output"; false; }
    # 100x: what an unvectorized SIMD path looks like next to a real one.
    scale_scalar_rows "$TMP/base.csv" "$TMP/unvectorized.csv" 100 "Another CPU"
    run_check 1 "$TMP/unvectorized.csv"
    [[ $output == *"check speed_vs_scalar: FAIL "*", tolerance 50%: "* ]] || { echo "$output"; false; }
}
