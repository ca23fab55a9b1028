#!/usr/bin/env bats
# The rules that keep --check from being talked into PASS (docs/regression-checks.md, "What can never
# pass"): legs too short to time give no timing verdict, either way; rows of another CPU model (the
# same name, another cpu_signature) pass no timing metric. The third rule, that PASS needs the raw
# times to pass, needs other work on the machine in a known amount: tests/test_verdict.c holds it.
#
# Each baseline is crafted from a row this build wrote here, so that the verdict it would get without
# the rule is certain on any machine (1 CPU, 3x faster, loaded): a row faster than any CPU is a sure
# FAIL, one 100x slower than this machine a sure PASS. No test asserts a speed.

# shellcheck disable=SC2154 # status, output, lines, stderr: set by bats' run
bats_require_minimum_version 1.5.0

load machine

setup() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    TMP=$(mktemp -d)
    export OMP_NUM_THREADS=$THREADS
    unset PIMC_HIDE_KERNELS
}

teardown() {
    rm -rf "$TMP"
}

# edit_rows IN OUT COLUMN=VALUE... -- a copy of a CSV baseline with columns set in every row (VALUE is a
# Python expression of x, the old value: a float for *_s columns, else the text), through Python's csv
# module, outside any timed run.
edit_rows() {
    python3 - "$@" <<'PY'
import csv, sys
src, dst, edits = sys.argv[1], sys.argv[2], [e.split("=", 1) for e in sys.argv[3:]]
rows = list(csv.DictReader(open(src)))
for row in rows:
    for column, expression in edits:
        x = float(row[column]) if column.endswith("_s") and row[column] != "" else row[column]
        row[column] = str(eval(expression))
with open(dst, "w", newline="") as out:
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
PY
}

@test "a baseline whose legs are under 10 ms: INCONCLUSIVE however much faster it is, never REGRESSION (CSV and JSON)" {
    # 1e6 throws, recorded here; then its legs set to 0.01 ms: 5e10 throws a second a thread, faster than
    # any CPU (a sure FAIL of throughput and efficiency were the legs long enough to time).
    "$PIMC" -q -t "$THREADS" --repeat 3 --csv "$TMP/base.csv" 1e6
    edit_rows "$TMP/base.csv" "$TMP/short.csv" parallel_s=1e-05 parallel_min_s=1e-05 parallel_max_s=1e-05 \
        serial_s=1e-05 serial_min_s=1e-05 serial_max_s=1e-05
    run --separate-stderr -0 "$PIMC" --check "$TMP/short.csv" --repeat 2
    [[ $output == *"check hits: PASS "* ]]
    [[ $output == *"check throughput_per_thread: INCONCLUSIVE "*": the baseline's parallel leg took 0.01 ms, too short to time (under 10 ms): record a baseline with more throws"* ]] || { echo "$output"; false; }
    [[ $output == *"check efficiency: INCONCLUSIVE "*"too short to time (under 10 ms): record a baseline with more throws"* ]] || { echo "$output"; false; }
    [[ $output != *": FAIL "* ]]
    [[ ${lines[-1]} == "check: INCONCLUSIVE (throughput_per_thread, efficiency): not a regression shown, nor a pass (their lines say why); exit 0" ]]

    # The same row as --json writes it.
    "$PIMC" -t "$THREADS" --repeat 3 --json 1e6 >"$TMP/base.json" 2>/dev/null
    python3 - "$TMP/base.json" "$TMP/short.json" <<'PY'
import json, sys
row = json.load(open(sys.argv[1]))
for column in ("parallel_s", "parallel_min_s", "parallel_max_s", "serial_s", "serial_min_s", "serial_max_s"):
    if row.get(column) is not None:
        row[column] = 1e-05
json.dump(row, open(sys.argv[2], "w"))
PY
    run --separate-stderr -0 "$PIMC" --check "$TMP/short.json" --repeat 2
    [[ $output == *"check throughput_per_thread: INCONCLUSIVE "*"the baseline's parallel leg took 0.01 ms, too short to time"* ]] || { echo "$output"; false; }
    [[ ${lines[-1]} == "check: INCONCLUSIVE ("* ]]
}

@test "a check whose own legs are under 10 ms: INCONCLUSIVE, never PASS, even against a baseline 100x slower" {
    # 1e4 throws on 1 thread: a leg of microseconds on any CPU that runs this suite, the fastest of 5 (on
    # a loaded machine every 2-thread leg waited 10 ms or more at its barrier for a thread without a CPU);
    # the baseline's legs set to 1 s, long enough to time and slower than any CPU (a sure PASS were this
    # run's legs long enough).
    "$PIMC" -q -t 1 --repeat 3 --csv "$TMP/base.csv" 1e4
    edit_rows "$TMP/base.csv" "$TMP/slow.csv" parallel_s=1.0 parallel_min_s=1.0 parallel_max_s=1.0 \
        serial_s=1.0 serial_min_s=1.0 serial_max_s=1.0
    run --separate-stderr -0 "$PIMC" --check "$TMP/slow.csv" --repeat 5
    [[ $output == *"check hits: PASS "* ]]
    [[ $output == *"check throughput_per_thread: INCONCLUSIVE "* ]] ||
        skip "this machine's fastest parallel leg of 1e4 throws took 10 ms or more: $(grep throughput_per_thread <<<"$output")"
    [[ $output == *"check throughput_per_thread: INCONCLUSIVE "*": this run's parallel leg took "*" ms, too short to time (under 10 ms): record a baseline with more throws"* ]] || { echo "$output"; false; }
    [[ $output != *"throughput_per_thread: PASS"* ]]
    [[ ${lines[-1]} == "check: INCONCLUSIVE (throughput_per_thread"* ]]
}

@test "rows of this CPU's name with another cpu_signature are another model's: said, and no timing metric passes" {
    "$PIMC" -q -t "$THREADS" --repeat 3 --csv "$TMP/base.csv" 1e6
    signature=$(python3 -c 'import csv, sys; print(next(csv.DictReader(open(sys.argv[1])))["cpu_signature"])' "$TMP/base.csv")
    [ -n "$signature" ] || skip "this CPU has no cpu_signature: rows match by name alone"
    model=$(python3 -c 'import csv, sys; print(next(csv.DictReader(open(sys.argv[1])))["cpu_model"])' "$TMP/base.csv")
    # Of another model of the same name (family 1 is no CPU this suite runs on), its legs 1 s: slower than
    # any CPU, a sure PASS were the rows this model's, and long enough to time.
    edit_rows "$TMP/base.csv" "$TMP/other.csv" "cpu_signature='family 1 model 1 stepping 1'" \
        parallel_s=1.0 parallel_min_s=1.0 parallel_max_s=1.0 serial_s=1.0 serial_min_s=1.0 serial_max_s=1.0
    run --separate-stderr -0 "$PIMC" --check "$TMP/other.csv" --repeat 2
    [[ ${lines[0]} == *" on \"$model\" (not this CPU); seed 1;"* ]]
    [ "${lines[1]}" = "check: no baseline rows of this CPU model (\"$model\", cpu_signature $signature); rows of \"$model\" with other signatures are another model's: add rows of this one with \`pimc-omp --csv FILE\`" ]
    [[ $output == *"check hits: PASS "* ]] # hits do not depend on the CPU
    [[ $output == *"check kernel: PASS "* ]] # the same path: a kernel of another model is not a failure either
    [[ $output == *"check throughput_per_thread: SKIPPED (baseline from another CPU of the same name \"$model\": family 1 model 1 stepping 1; this is $signature)"* ]] || { echo "$output"; false; }
    # This run's 1e6-throw legs may be too short to time as well: the line says both.
    [[ $output == *"check efficiency: INCONCLUSIVE "*"the rows are another CPU model's (\"$model\", cpu_signature family 1 model 1 stepping 1), which cannot pass this one: add rows of this model with \`pimc-omp --csv BASELINE\`"* ]] || { echo "$output"; false; }
    ! grep -E '^check (throughput_per_thread|efficiency|speed_vs_scalar): PASS' <<<"$output"
    [ "${lines[-1]}" = "check: INCONCLUSIVE (efficiency): not a regression shown, nor a pass (their lines say why); exit 0" ]
}
