#!/usr/bin/env bats
# --against OTHER (src/ab.c), bench/compare and --junit end to end: the verdict lines and their
# structure, exit statuses 0, 1, 2, 3 and 125, nothing written on a bad OTHER or differing hits, the
# JUnit reports against tests/junit.xsd (xmllint --schema), and a build of a commit from before
# --against as OTHER. PIMC is the binary under test.
#
# No test asserts a speed: tiny THROWS make every leg too short to time, which is INCONCLUSIVE on any
# machine; the one REGRESSION comes from an OTHER that reports its legs at half the time they took
# (ratio ~0.5, whatever the machine's speed or load), with legs long enough on a 3x faster machine.
# Threads: min(2, usable CPUs), so that nothing is oversubscribed on 1 CPU.

# shellcheck disable=SC2154 # status, output, lines, stderr: set by bats' run
bats_require_minimum_version 1.5.0

setup() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    TMP=$(mktemp -d)
    T=$(nproc)
    [ "$T" -le 2 ] || T=2
    export REAL="$PIMC"
    unset PIMC_HIDE_KERNELS OMP_NUM_THREADS
    cp "$PIMC" "$TMP/other"
}

teardown() {
    rm -rf "$TMP"
}

# An OTHER script: $1 the file, the rest its body (after a --version that answers as pimc-omp).
fake_other() {
    local file=$1
    shift
    { printf '#!/usr/bin/env bash\n[ "$1" = --version ] && exec "$REAL" --version\n'; printf '%s\n' "$@"; } >"$file"
    chmod +x "$file"
}

# A bad OTHER: exit 2, the message, and no file written: a new CSV is not created, an old one is untouched.
expect_refused() { # pattern -- pimc-omp args
    local pattern=$1
    shift
    printf 'timestamp\n' >"$TMP/old.csv" # not our header: any write would have failed, none is tried
    cp "$TMP/old.csv" "$TMP/old.before"
    run -2 "$PIMC" -t "$T" --budget 5 --csv "$TMP/new.csv" --junit "$TMP/report.xml" "$@" 1e5
    [[ $output == *"$pattern"* ]] || { echo "expected '$pattern' in: $output"; return 1; }
    [ ! -e "$TMP/new.csv" ] && [ ! -e "$TMP/report.xml" ]
    run -2 "$PIMC" -t "$T" --budget 5 --csv "$TMP/new.csv" "$@" 1e5
    [ ! -e "$TMP/new.csv" ]
}

@test "--help names --against, --budget, --bisect and --junit" {
    run -0 "$PIMC" --help
    for option in --against --budget --bisect --junit; do [[ $output == *"$option"* ]]; done
}

@test "usage: --budget, --bisect without --against, --junit without a check, --against with a study or --no-serial: exit 2" {
    run -2 "$PIMC" --budget 5 1e5
    [[ $output == *"--budget goes with --against"* ]]
    run -2 "$PIMC" --bisect 1e5
    [[ $output == *"--bisect goes with --against"* ]]
    run -2 "$PIMC" --junit "$TMP/x.xml" 1e5
    [[ $output == *"--junit writes the verdicts of --check"* ]]
    run -2 "$PIMC" --against "$TMP/other" --sweep 1,2 1e5
    [[ $output == *"leave out --sweep"* ]]
    run -2 "$PIMC" --against "$TMP/other" --no-serial 1e5
    [[ $output == *"leave out --no-serial"* ]]
    run -2 "$PIMC" --against "$TMP/other" --tolerance speed=5% 1e5
    [[ $output == *"'speed' is not a metric"* ]]
    run -2 "$PIMC" --against "$TMP/other" --tolerance efficiency=x 1e5
    [[ $output == *"'x' is not a tolerance"* ]]
    run -2 "$PIMC" --against "$TMP/other" --budget 0 1e5
    [[ $output == *"--budget '0'"* ]]
    [ ! -e "$TMP/x.xml" ]
}

@test "against a copy of itself, legs too short to time: INCONCLUSIVE on every timed metric, exit 0; 125 with --bisect" {
    run -0 "$PIMC" -t "$T" --against "$TMP/other" --budget 30 1e5
    [[ ${lines[0]} == "against: this build (pimc-omp "*") against OTHER $TMP/other (pimc-omp "* ]]
    [[ $output == *"against kernel: this build "*", OTHER "* ]]
    [[ $output == *"against hits: PASS 78696 in all "*" runs of both builds (seed 1, 100000 throws, philox4x32-10)"* ]]
    for metric in throughput_per_thread serial_throughput efficiency; do
        [[ $output == *"against $metric: INCONCLUSIVE this/OTHER "*"too short to time (under 10 ms); give more THROWS"* ]]
    done
    [[ $output == *"against: other work took "*"% of our CPUs' time during this build's runs"* ]]
    [[ ${lines[-1]} == "against: INCONCLUSIVE (throughput_per_thread, serial_throughput, efficiency): not a regression shown; exit 0 ("* ]]
    run -125 "$PIMC" -t "$T" --against "$TMP/other" --budget 30 --bisect -q 1e5
    [ -z "$output" ]
}

@test "--warm-up, when given, goes to both builds' runs alike; left out, neither is given one" {
    fake_other "$TMP/logged" "printf '%s\\n' \"\$*\" >>'$TMP/args.log'" 'exec "$REAL" "$@"'
    run -0 "$PIMC" -t "$T" --against "$TMP/logged" --budget 5 -q --warm-up 0.05 1e5
    cat "$TMP/args.log"
    [ "$(grep -c -- '--json ' "$TMP/args.log")" -ge 6 ]
    ! grep -v -- '--json .*--warm-up 0.05 ' "$TMP/args.log" | grep -q -- --json
    rm "$TMP/args.log"
    run -0 "$PIMC" -t "$T" --against "$TMP/logged" --budget 5 -q 1e5
    grep -q -- '--json ' "$TMP/args.log"
    ! grep -q -- --warm-up "$TMP/args.log"
}

@test "--json: the verdicts, both builds and every run, for bench/compare and bench/plot" {
    run -0 --separate-stderr "$PIMC" -t "$T" --against "$TMP/other" --budget 30 --seed 18446744073709551601 --json 1e5
    python3 - "$output" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["against"] == "INCONCLUSIVE" and r["exit_status"] == 0, r["against"]
assert r["seed"] == "18446744073709551601", r["seed"]  # past 2^63-1: as digits (PLAN decision 2)
assert [m["metric"] for m in r["metrics"]] == ["hits", "throughput_per_thread", "serial_throughput", "efficiency"]
assert all(m["verdict"] == "INCONCLUSIVE" for m in r["metrics"][1:])
assert len(r["runs"]) == 4 * r["rounds"] and r["rounds"] >= 1
assert {x["build"] for x in r["runs"]} == {"this", "other"}
assert all(x["parallel_s"] > 0 and x["serial_s"] > 0 and 0 <= x["other_work_share"] < 1 for x in r["runs"])
assert r["builds"]["other"]["path"].endswith("/other") and r["builds"]["this"]["version"]
assert r["tolerance"] == 0.03 and r["budget_s"] == 30
PY
}

@test "bench/plot draws an A/B run's JSON: each round of both builds, and the ratios with their interval" {
    command -v gnuplot >/dev/null || skip "gnuplot is not installed"
    "$PIMC" -t "$T" --against "$TMP/other" --budget 30 --json 1e5 >"$TMP/ab.json"
    run -0 "$ROOT/bench/plot" "$TMP/ab.json"
    [ "${lines[0]}" = "$TMP/ab.svg" ] && [ "${lines[1]}" = "$TMP/ab.png" ]
    grep -q "this/OTHER per round" "$TMP/ab.svg"
    [ -s "$TMP/ab.png" ]
}

@test "--csv: one row of this build's runs (mode against); --junit validates against tests/junit.xsd, skipped when inconclusive" {
    command -v xmllint >/dev/null || skip "xmllint (libxml2-utils) is not installed"
    run -0 "$PIMC" -t "$T" --against "$TMP/other" --budget 30 -q --csv "$TMP/ab.csv" --junit "$TMP/ab.xml" 1e5
    [ "$(wc -l <"$TMP/ab.csv")" -eq 2 ]
    python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); assert r[0]["mode"]=="against" and r[0]["hits"]=="78696", r' "$TMP/ab.csv"
    run -0 xmllint --noout --schema "$ROOT/tests/junit.xsd" "$TMP/ab.xml"
    [ "$(grep -c '<testcase ' "$TMP/ab.xml")" -eq 4 ]
    [ "$(grep -c '<skipped type="INCONCLUSIVE"' "$TMP/ab.xml")" -eq 3 ]
    grep -q '<testsuite name="pimc-omp --against" tests="4" failures="0" errors="0" skipped="3"' "$TMP/ab.xml"
}

@test "an OTHER twice as fast: REGRESSION on both throughputs, exit 1; the JUnit report holds failure elements with the figures" {
    command -v perl >/dev/null || skip "perl is not installed"
    # The legs as reported at half the time they took: this/OTHER ~0.5 whatever the machine.
    fake_other "$TMP/faster" '"$REAL" "$@" | perl -pe '"'"'s/("(?:parallel|serial)(?:_min|_max)?_s": )([0-9.eE+-]+)/$1.($2*0.5)/ge'"'"'' \
        'exit "${PIPESTATUS[0]}"'
    run -1 "$PIMC" -t "$T" --against "$TMP/faster" --budget 600 --repeat 1 --junit "$TMP/ab.xml" 4e8
    [[ $output == *"against throughput_per_thread: REGRESSION this/OTHER 0."*"% slower"* ]]
    [[ $output == *"against serial_throughput: REGRESSION this/OTHER 0."*"% slower"* ]]
    [[ ${lines[-1]} == "against: REGRESSION ("*"throughput"*"): this build is slower than OTHER beyond the tolerance ("* ]]
    if command -v xmllint >/dev/null; then
        xmllint --noout --schema "$ROOT/tests/junit.xsd" "$TMP/ab.xml"
    fi
    grep -q '<failure type="FAIL" message="this/OTHER 0\.' "$TMP/ab.xml"
    [ "$(grep -c '<failure ' "$TMP/ab.xml")" -ge 1 ]
}

@test "OTHER missing, a directory or not executable: exit 2 with the reason, nothing written" {
    expect_refused "No such file or directory" --against "$TMP/nothing-here"
    expect_refused "is a directory, not an executable file" --against "$TMP"
    chmod -x "$TMP/other"
    expect_refused "is not executable (mode 644)" --against "$TMP/other"
}

@test "OTHER not a pimc-omp (another program, or output pimc-omp cannot read): exit 2, nothing written" {
    printf '#!/bin/sh\necho hello\n' >"$TMP/hello"
    chmod +x "$TMP/hello"
    expect_refused "is not a pimc-omp: asked for its --version, it printed 'hello'" --against "$TMP/hello"
    expect_refused "is not a pimc-omp: asked for its --version, it printed 'true (GNU coreutils)" --against "$(type -P true)"
    fake_other "$TMP/garbage" 'echo "not json"'
    expect_refused "OTHER ($TMP/garbage) is not a pimc-omp this version can drive: its --json output is not a JSON object" \
        --against "$TMP/garbage"
}

@test "OTHER crashes or fails: exit 2 naming the signal or status and what it said, nothing written" {
    fake_other "$TMP/crash" 'kill -SEGV $$'
    expect_refused "OTHER ($TMP/crash) crashed: killed by signal 11 (Segmentation fault)" --against "$TMP/crash"
    fake_other "$TMP/fails" 'echo "pimc-omp: out of luck" >&2' 'exit 5'
    expect_refused "OTHER ($TMP/fails) exited with status 5; it said: pimc-omp: out of luck" --against "$TMP/fails"
}

@test "the builds' hits differ (OTHER runs another seed, or another generator): verification FAILED, exit 3, nothing written" {
    for change in "--seed 2" "--rng ars"; do
        fake_other "$TMP/different" "exec \"\$REAL\" \"\$@\" $change"
        run -3 "$PIMC" -t "$T" --against "$TMP/different" --budget 5 --csv "$TMP/ab.csv" --junit "$TMP/ab.xml" 1e5
        [[ $output == *"verification FAILED: the builds' hits differ: this build 78696 (philox4x32-10), OTHER "* ]]
        [[ $output == *"they throw different streams"* ]]
        [ ! -e "$TMP/ab.csv" ] && [ ! -e "$TMP/ab.xml" ]
    done
}

@test "OTHER fails its own verification (exit 3): exit 3, named" {
    fake_other "$TMP/unverified" 'echo "pimc-omp: verification FAILED: made up" >&2' 'exit 3'
    run -3 "$PIMC" -t "$T" --against "$TMP/unverified" --budget 5 1e5
    [[ $output == *"verification FAILED: OTHER ($TMP/unverified) failed its own verification (exit 3)"* ]]
}

@test "--check --junit: one testcase per metric, valid against tests/junit.xsd; --tolerance NAME=T per metric" {
    command -v xmllint >/dev/null || skip "xmllint (libxml2-utils) is not installed"
    "$PIMC" -q -t "$T" --repeat 3 --csv "$TMP/base.csv" 1e7
    run "$PIMC" -t "$T" --check "$TMP/base.csv" --tolerance 90% --tolerance efficiency=85% --junit "$TMP/check.xml"
    [ "$status" -eq 0 ] || [ "$status" -eq 1 ]
    [[ $output == *"check efficiency: "*"tolerance 85%"* ]]
    [[ $output == *"check throughput_per_thread: "*"tolerance 90%"* ]]
    run -0 xmllint --noout --schema "$ROOT/tests/junit.xsd" "$TMP/check.xml"
    [ "$(grep -c '<testcase ' "$TMP/check.xml")" -eq 5 ]
    grep -q '<testsuite name="pimc-omp --check" tests="5"' "$TMP/check.xml"
    run -4 "$PIMC" -t "$T" --check "$TMP/base.csv" --tolerance 90% --junit "$TMP/no-such-dir/check.xml"
    [[ $output == *"cannot save JUnit report '$TMP/no-such-dir/check.xml'"* ]]
}

@test "against a build of a commit from before --against (4430b3e, through bench/compare's cache)" {
    git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1 || skip "the source tree is not a git checkout"
    git -C "$ROOT" rev-parse -q --verify 4430b3e^{commit} >/dev/null ||
        skip "commit 4430b3e is not in this clone (shallow?)"
    command -v meson >/dev/null || skip "meson is not installed"
    old=$("$ROOT/bench/compare" --build-only 4430b3e)
    run -0 "$old" --version
    [[ ${lines[0]} == "pimc-omp 4430b3e"* ]]
    run "$old" --against "$TMP/other" 1e5
    [ "$status" -eq 2 ] # it has no --against: the reason the A/B drives OTHER through --json
    run -0 --separate-stderr "$PIMC" -t "$T" --against "$old" --budget 30 --json 1e5
    python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["builds"]["other"]["version"].startswith("4430b3e"), r["builds"]; assert r["metrics"][0]["verdict"]=="PASS"' "$output"
}

@test "bench/compare --accepted: an Accepted-Slowdown: trailer in REV..HEAD lets an intended slowdown through" {
    command -v git >/dev/null || skip "git is not installed"
    repo="$TMP/repo"
    git init -q "$repo"
    git -C "$repo" -c user.name=t -c user.email=t@t commit -q --allow-empty -m "first"
    git -C "$repo" -c user.name=t -c user.email=t@t commit -q --allow-empty -m "second, no trailer"
    run -1 "$ROOT/bench/compare" --repo "$repo" --accepted HEAD~1
    [[ $output == *"no commit in "*"..HEAD has an Accepted-Slowdown: trailer"* ]]
    git -C "$repo" -c user.name=t -c user.email=t@t commit -q --allow-empty \
        -m "third: a safer kernel" -m "Accepted-Slowdown: bounds checks in the kernel cost 4%"
    run -0 "$ROOT/bench/compare" --repo "$repo" --accepted HEAD~2
    [[ $output == *": bounds checks in the kernel cost 4%" ]]
    run -2 "$ROOT/bench/compare" --repo "$repo" --accepted no-such-rev
    [[ $output == *"'no-such-rev' is not a commit"* ]]
}
