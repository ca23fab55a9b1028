#!/usr/bin/env bats
# Every file pimc-omp writes stays whole, and every failure says its real reason (issues 16 and 22):
# closed standard streams, readers that go away (| true, | head), full disks and failing writes (a
# small tmpfs, and the LD_PRELOAD shim tests/faults/write_faults.c), planted links, two runs on one
# checkpoint, the signals that end jobs, CSVs whose last line lost its newline. Signals are sent on
# progress (the checkpoint's throws_done), never after a wall-clock wait.
# PIMC is the binary under test, WRITE_FAULTS the shim, BENCH the bench/ directory.

bats_require_minimum_version 1.5.0

setup() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    TMP=$(mktemp -d)
    cd "$TMP"
    # Two threads where there are two CPUs, else one: nothing here depends on the count.
    export OMP_NUM_THREADS=$(( $(nproc) >= 2 ? 2 : 1 ))
    # A sanitizer runtime wants to be first in LD_PRELOAD; the shim comes first instead.
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
    RUNNING= MOUNTED=
}

teardown() {
    # A run a test started and did not end (a failed assertion) must not outlive it.
    for pid in $RUNNING; do kill -9 "$pid" 2>/dev/null || true; done
    cd /
    [ -z "$MOUNTED" ] || umount "$MOUNTED" || true
    rm -rf "$TMP"
}

# The rows of a CSV, after checking that every line is a whole row (the header's field count, parsed
# as RFC 4180 by Python's csv; only ever after the runs). Prints the number of data rows.
whole_rows() {
    python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
torn = [n + 1 for n, row in enumerate(rows) if len(row) != len(rows[0])]
assert rows[0][0] == "timestamp" and not torn, f"{sys.argv[1]}: lines {torn} are not whole rows"
print(len(rows) - 1)
PY
}
last_row() { # file column
    python3 -c 'import csv,sys; print(list(csv.DictReader(open(sys.argv[1])))[-1][sys.argv[2]])' "$1" "$2"
}
throws_done() { sed -n 's/.*"throws_done": \([0-9]*\).*/\1/p' "$1" 2>/dev/null || true; }

# Waits until checkpoint FILE shows at least THROWS done by the run PID: signal on progress. The bound
# is only a safety net for a run that hangs.
wait_for_progress() { # file throws pid
    local done_now
    for _ in $(seq 12000); do
        kill -0 "$3" 2>/dev/null || { echo "run $3 ended before $2 throws were done"; return 1; }
        done_now=$(throws_done "$1")
        [ -n "$done_now" ] && [ "$done_now" -ge "$2" ] && return 0
        sleep 0.01
    done
    echo "no progress to $2 throws in $1"
    return 1
}

# A line of stderr, whole (warnings such as "too short to time" may come with it).
said() { grep -qxF -- "$1" <<< "$stderr" || { echo "wanted: $1"; echo "stderr: $stderr"; return 1; }; }
# Runs PIMC with stdout going to TARGET (bats' run would capture it): sets status and stderr.
run_to() { # target pimc-omp arguments
    local target=$1
    shift
    status=0
    if [ "$target" = closed ]; then
        "$PIMC" "$@" >&- 2> "$TMP/stderr" || status=$?
    else
        "$PIMC" "$@" > "$target" 2> "$TMP/stderr" || status=$?
    fi
    stderr=$(cat "$TMP/stderr")
}

# A run that never ends by itself, saving often: the subject of the signal tests.
start_endless() { # file csv [launcher...]
    local file=$1 csv=$2
    shift 2
    "$@" "$PIMC" -q --checkpoint "$file" --checkpoint-interval 0.02 --csv "$csv" 1e15 2> "$TMP/err" &
    RUNNING="$RUNNING $!"
    PID=$!
}

# A stdout whose reader is gone, made certain: a FIFO opened by a reader and a writer, then the
# reader closed. Writing to fd $NO_READER raises SIGPIPE (or EPIPE) at once.
pipe_without_reader() {
    mkfifo "$TMP/fifo"
    exec {reader}<>"$TMP/fifo"
    exec {NO_READER}>"$TMP/fifo"
    exec {reader}<&-
}

@test "closed stdout: the report never lands in the CSV; exit 4 naming standard output" {
    run_to closed --no-serial --csv "$TMP/r.csv" 1e5
    [ "$status" -eq 4 ] || { echo "exit $status: $stderr"; false; }
    said "pimc-omp: cannot write standard output (closed when pimc-omp started): Bad file descriptor"
    [ "$(whole_rows "$TMP/r.csv")" -eq 1 ]
    # Nothing to write to stdout: nothing fails.
    run_to closed -q --no-serial --csv "$TMP/r.csv" 1e5
    [ "$status" -eq 0 ]
    [ "$(whole_rows "$TMP/r.csv")" -eq 2 ]
}

@test "closed stderr: the warnings never land in the CSV" {
    # Too short to time, and more threads than CPUs: two warnings on any machine.
    "$PIMC" -q --no-serial -t $(( $(nproc) + 1 )) --csv "$TMP/r.csv" 1e3 2>&-
    [ "$(wc -l < "$TMP/r.csv")" -eq 2 ]
    [ "$(whole_rows "$TMP/r.csv")" -eq 1 ]
}

@test "closed stdin: a data file never lands on fd 0" {
    "$PIMC" -q --checkpoint "$TMP/c.json" --checkpoint-interval 0.02 --csv "$TMP/r.csv" 1e15 <&- 2> "$TMP/err" &
    PID=$!
    RUNNING=$PID
    wait_for_progress "$TMP/c.json" 0 "$PID"
    fd0=$(readlink "/proc/$PID/fd/0")
    kill -TERM "$PID"
    wait "$PID" || true
    [ "$fd0" = /dev/null ] || { echo "fd 0 is $fd0"; false; }
}

@test "--help, --version, a report and JSON on a full or closed stdout: exit 4 with the reason" {
    for args in --help --version "--no-serial 1e5" "--no-serial --json 1e5"; do
        # shellcheck disable=SC2086
        run_to /dev/full $args
        [ "$status" -eq 4 ] || { echo "$args: exit $status"; false; }
        said "pimc-omp: cannot write standard output ('/dev/full'): No space left on device"
    done
    run_to closed --help
    [ "$status" -eq 4 ]
    said "pimc-omp: cannot write standard output (closed when pimc-omp started): Bad file descriptor"
    # The row is written first, and whole.
    run_to /dev/full --no-serial --json --csv "$TMP/r.csv" 1e5
    [ "$status" -eq 4 ]
    [ "$(whole_rows "$TMP/r.csv")" -eq 1 ]
}

@test "a reader that is gone costs no row: SIGPIPE stops quietly with 141, the row is kept" {
    pipe_without_reader
    status=0
    "$PIMC" --no-serial --csv "$TMP/p.csv" 1e6 >&"$NO_READER" 2> "$TMP/err" || status=$?
    [ "$status" -eq 141 ] || { echo "exit $status"; cat "$TMP/err"; false; }
    [ "$(whole_rows "$TMP/p.csv")" -eq 1 ]
    [ "$(last_row "$TMP/p.csv" status)" = complete ]
    [ -z "$(grep -v "warning: " "$TMP/err")" ] # quietly
    # A parent that ignores SIGPIPE asks for EPIPE: an error writing stdout, exit 4; the row still first.
    status=0
    (trap '' PIPE; exec "$PIMC" --no-serial --csv "$TMP/p.csv" 1e6 >&"$NO_READER" 2> "$TMP/err") || status=$?
    [ "$status" -eq 4 ] || { echo "exit $status"; cat "$TMP/err"; false; }
    grep -qx "pimc-omp: cannot write standard output ('$TMP/fifo'): Broken pipe" "$TMP/err"
    [ "$(whole_rows "$TMP/p.csv")" -eq 2 ]
    # As typed: | true (its reader may or may not be gone when the report comes).
    "$PIMC" --no-serial --csv "$TMP/t.csv" 1e7 2> "$TMP/err" | true
    [ "$(whole_rows "$TMP/t.csv")" -eq 1 ]
    [ -z "$(grep -v "warning: " "$TMP/err")" ]
}

@test "| head -c 10 on a study's JSON: the study stops at a point's end or with a partial row, rows whole" {
    # 82 JSON objects, over 90 KB: more than a pipe holds, so head's exit always cuts the study. Each
    # point is 41 rows (40 runs and their median); a point stopped before its first timed run has none.
    "$PIMC" --sweep 1,2 --repeat 40 --json --csv "$TMP/s.csv" 1e5 2> "$TMP/err" | head -c 10 > "$TMP/head"
    status=${PIPESTATUS[0]}
    [ "$status" -eq 141 ] || { echo "exit $status"; cat "$TMP/err"; false; }
    [ "$(wc -c < "$TMP/head")" -eq 10 ]
    rows=$(whole_rows "$TMP/s.csv")
    last=$(last_row "$TMP/s.csv" status)
    [ $(( rows % 41 )) -eq 0 ] || [ "$last" = partial ] || { echo "$rows rows, the last $last"; false; }
    ! grep -q "Broken pipe\|cannot write" "$TMP/err"
}

@test "SIGHUP, SIGALRM, SIGUSR2 and SIGXCPU mid-run are stop requests: a partial row, exit 128+N" {
    for signal in HUP ALRM USR2 XCPU; do
        rm -f "$TMP/c.json" "$TMP/r.csv"
        start_endless "$TMP/c.json" "$TMP/r.csv"
        wait_for_progress "$TMP/c.json" 1 "$PID"
        kill -"$signal" "$PID"
        status=0
        wait "$PID" || status=$?
        [ "$status" -eq $(( 128 + $(kill -l "$signal") )) ] || { echo "SIG$signal: exit $status"; cat "$TMP/err"; false; }
        [ "$(whole_rows "$TMP/r.csv")" -eq 1 ]
        [ "$(last_row "$TMP/r.csv" status)" = partial ]
        [ "$(last_row "$TMP/r.csv" throws)" = "$(throws_done "$TMP/c.json")" ]
        [ ! -e "$TMP/c.json.lock" ]
    done
}

@test "a SIGHUP that was ignored at the start (nohup) stays ignored" {
    start_endless "$TMP/c.json" "$TMP/r.csv" nohup
    wait_for_progress "$TMP/c.json" 1 "$PID"
    kill -HUP "$PID"
    # Still running: the progress moves on past the hangup.
    wait_for_progress "$TMP/c.json" $(( $(throws_done "$TMP/c.json") + 1 )) "$PID"
    kill -TERM "$PID"
    status=0
    wait "$PID" || status=$?
    [ "$status" -eq 143 ]
    [ "$(last_row "$TMP/r.csv" status)" = partial ]
}

@test "two runs on one checkpoint: the second is refused at once, naming the first's PID; racing, one wins" {
    start_endless "$TMP/c.json" "$TMP/r.csv"
    first=$PID
    wait_for_progress "$TMP/c.json" 0 "$first"
    # (timeout: a second run that is let in would never end by itself)
    run --separate-stderr -2 timeout 60 "$PIMC" -q --checkpoint "$TMP/c.json" --csv "$TMP/second.csv" 1e15
    [ "$stderr" = "pimc-omp: checkpoint '$TMP/c.json' is in use by another run (PID $first); wait for it to end, or give another FILE" ]
    [ ! -e "$TMP/second.csv" ]
    kill -TERM "$first"
    status=0
    wait "$first" || status=$?
    [ "$status" -eq 143 ]
    [ ! -e "$TMP/c.json.lock" ]
    # Started together on a new FILE: one runs, the other is refused; no warning, never an empty file.
    for round in 1 2 3 4 5; do
        file=$TMP/race$round.json
        "$PIMC" -q --checkpoint "$file" --checkpoint-interval 0.02 1e15 2> "$TMP/err.a" &
        a=$!
        "$PIMC" -q --checkpoint "$file" --checkpoint-interval 0.02 1e15 2> "$TMP/err.b" &
        b=$!
        RUNNING="$RUNNING $a $b"
        for _ in $(seq 3000); do
            kill -0 "$a" 2>/dev/null && kill -0 "$b" 2>/dev/null || break
            sleep 0.01
        done
        if kill -0 "$a" 2>/dev/null; then winner=$a loser=$b; else winner=$b loser=$a; fi
        status=0
        wait "$loser" || status=$?
        [ "$status" -eq 2 ] || { echo "round $round: the refused run ended $status"; cat "$TMP"/err.*; false; }
        wait_for_progress "$file" 1 "$winner"
        kill -TERM "$winner"
        status=0
        wait "$winner" || status=$?
        [ "$status" -eq 143 ] || { echo "round $round: the run ended $status"; cat "$TMP"/err.*; false; }
        grep -h . "$TMP"/err.* | grep -v "is in use by another run" && { echo "round $round: a warning"; false; }
        [ "$(throws_done "$file")" -gt 0 ]
    done
}

@test "planted links: FILE.tmp and FILE.lock are never followed; a FILE that is a link is refused, exit 2" {
    echo precious > "$TMP/victim"
    ln -s "$TMP/victim" "$TMP/c.json.tmp"
    run --separate-stderr -0 "$PIMC" -q --checkpoint "$TMP/c.json" 1e6
    [ "$(cat "$TMP/victim")" = precious ]
    [ -L "$TMP/c.json.tmp" ]
    grep -q '"throws_done": 1000000' "$TMP/c.json"
    # A link as the lock file, to a file or to nothing (O_CREAT would make its target).
    ln -s "$TMP/victim" "$TMP/d.json.lock"
    ln -s "$TMP/made-by-a-link" "$TMP/e.json.lock"
    for name in d e; do
        run --separate-stderr -2 "$PIMC" -q --checkpoint "$TMP/$name.json" --csv "$TMP/no.csv" 1e6
        [ "$stderr" = "pimc-omp: checkpoint '$TMP/$name.json': lock file '$TMP/$name.json.lock' is a symbolic link; remove it" ]
    done
    [ "$(cat "$TMP/victim")" = precious ]
    [ ! -e "$TMP/made-by-a-link" ] && [ ! -e "$TMP/no.csv" ] && [ ! -e "$TMP/d.json" ]
    mkfifo "$TMP/f.json.lock"
    mkdir "$TMP/g.json.lock"
    for name in f g; do
        run --separate-stderr -2 "$PIMC" -q --checkpoint "$TMP/$name.json" 1e6
        [ "$stderr" = "pimc-omp: checkpoint '$TMP/$name.json': lock file '$TMP/$name.json.lock' is not a regular file; remove it" ]
    done
    # FILE itself a link: refused (the save's rename would replace the link, not its target).
    cp "$TMP/c.json" "$TMP/before.json"
    ln -s "$TMP/c.json" "$TMP/link.json"
    run --separate-stderr -2 "$PIMC" -q --checkpoint "$TMP/link.json" 1e6
    [[ $stderr == "pimc-omp: checkpoint '$TMP/link.json' is a symbolic link; give the path of the file itself"* ]]
    [ -L "$TMP/link.json" ]
    cmp "$TMP/c.json" "$TMP/before.json"
}

@test "a CSV whose last line lost its newline: a whole row gets ours on a new line, a cut one is refused" {
    "$PIMC" -q --no-serial -t 1 --csv "$TMP/a.csv" 1e3
    truncate -s -1 "$TMP/a.csv" # the newline
    run --separate-stderr -0 "$PIMC" -q --no-serial -t 1 --csv "$TMP/a.csv" 1e3
    [ "$(whole_rows "$TMP/a.csv")" -eq 2 ]
    "$PIMC" -q --no-serial -t 1 --csv "$TMP/b.csv" 1e3
    "$PIMC" -q --no-serial -t 1 --csv "$TMP/b.csv" 1e3
    truncate -s -100 "$TMP/b.csv" # a row cut short, as a writer killed mid-row leaves it
    cp "$TMP/b.csv" "$TMP/before.csv"
    run --separate-stderr -4 "$PIMC" -q --no-serial -t 1 --csv "$TMP/b.csv" 1e3
    [ "$stderr" = "pimc-omp: CSV '$TMP/b.csv' ends in a row cut short: its last line (3) has no line end and too few fields; complete or remove that line, or append to a new file" ]
    cmp "$TMP/b.csv" "$TMP/before.csv"
    # The header alone, its newline lost.
    head -n 1 "$TMP/a.csv" | tr -d '\n' > "$TMP/h.csv"
    run --separate-stderr -0 "$PIMC" -q --no-serial -t 1 --csv "$TMP/h.csv" 1e3
    [ "$(whole_rows "$TMP/h.csv")" -eq 1 ]
}

@test "a file size limit (ulimit -f): 'File too large', exit 4, the CSV as it was (no SIGXFSZ core dump)" {
    "$PIMC" -q --no-serial -t 1 --csv "$TMP/big.csv" 1e3
    [ "$(stat -c %s "$TMP/big.csv")" -lt 1024 ]
    cp "$TMP/big.csv" "$TMP/before.csv"
    # bash counts -f in KiB: the next row passes the limit part way.
    status=0
    (ulimit -f 1; exec "$PIMC" -q --no-serial -t 1 --csv "$TMP/big.csv" 1e3 2> "$TMP/stderr") || status=$?
    stderr=$(cat "$TMP/stderr")
    [ "$status" -eq 4 ] || { echo "exit $status: $stderr"; false; }
    said "pimc-omp: cannot write CSV '$TMP/big.csv': File too large; the row was not added, the file is as it was"
    cmp "$TMP/big.csv" "$TMP/before.csv"
}

# One class of failing write, on one file, through the shim: prints what the run said.
with_fault() { # kind path-text after -- pimc-omp arguments
    local kind=$1 path=$2 after=$3
    shift 4
    PIMC_FAULT=$kind PIMC_FAULT_PATH=$path PIMC_FAULT_AFTER=$after LD_PRELOAD=$WRITE_FAULTS "$PIMC" "$@"
}

@test "short writes, EIO, ENOSPC, EDQUOT (the shim): the reason named, exit 4, CSV and checkpoint as they were" {
    [ -n "${WRITE_FAULTS:-}" ] || skip "WRITE_FAULTS (tests/faults/write_faults.c, built by meson) not given"
    "$PIMC" -q --no-serial -t 1 --csv "$TMP/r.csv" 1e3
    # A checkpoint of a run not yet done: its previous good version.
    printf '{"format": "pimc-omp checkpoint", "version": 1, "seed": "1", "throws": 1000000000, "stream": {"generator": "philox4x32-10", "version": 1}, "done": [], "throws_done": 0, "hits": 0, "compute_s": 0, "segments": 1}\n' > "$TMP/c.json"
    cp "$TMP/r.csv" "$TMP/r.before"
    cp "$TMP/c.json" "$TMP/c.before"
    for kind in eio enospc edquot; do
        case $kind in eio) reason="Input/output error" ;; enospc) reason="No space left on device" ;;
                      edquot) reason="Disk quota exceeded" ;; esac
        # 100 bytes of the row go in, then the error: the row is cut back out.
        run --separate-stderr -4 with_fault "$kind" r.csv 100 -- -q --no-serial -t 1 --csv "$TMP/r.csv" 1e3
        said "pimc-omp: cannot write CSV '$TMP/r.csv': $reason; the row was not added, the file is as it was"
        cmp "$TMP/r.csv" "$TMP/r.before"
        # The flush to the disk fails (NFS says EDQUOT there): the same.
        PIMC_FAULT_SYNC=1 run --separate-stderr -4 with_fault "$kind" r.csv 0 -- -q --no-serial -t 1 --csv "$TMP/r.csv" 1e3
        [[ $stderr == *"cannot write CSV '$TMP/r.csv': $reason; the row was not added"* ]]
        cmp "$TMP/r.csv" "$TMP/r.before"
        # A new CSV that cannot take its first row is not left behind.
        run --separate-stderr -4 with_fault "$kind" new.csv 10 -- -q --no-serial -t 1 --csv "$TMP/new.csv" 1e3
        [ ! -e "$TMP/new.csv" ]
        # The checkpoint's save: the previous version kept, no temp file, nothing thrown.
        run --separate-stderr -4 with_fault "$kind" c.json.tmp 100 -- -q --checkpoint "$TMP/c.json" --csv "$TMP/r.csv" 1e9
        [[ $stderr == *"pimc-omp: cannot save checkpoint '$TMP/c.json' (write $TMP/c.json.tmp."??????"): $reason" ]] ||
            { echo "$kind: $stderr"; false; }
        cmp "$TMP/c.json" "$TMP/c.before"
        cmp "$TMP/r.csv" "$TMP/r.before"
        [ -z "$(find "$TMP" -name 'c.json.*')" ]
        # stdout: the report, JSON.
        PIMC_FAULT_FD=1 run --separate-stderr -4 with_fault "$kind" "" 50 -- --no-serial --json 1e3
        said "pimc-omp: cannot write standard output: $reason"
    done
    # Short writes without an error: everything still goes in whole.
    PIMC_FAULT_CHUNK=3 run --separate-stderr -0 with_fault short r.csv 0 -- -q --no-serial -t 1 --csv "$TMP/r.csv" 1e3
    [ "$(whole_rows "$TMP/r.csv")" -eq 2 ]
    PIMC_FAULT_CHUNK=3 PIMC_FAULT_FD=1 run --separate-stderr -0 with_fault short "" 0 -- --no-serial --json 1e3
    python3 -c 'import json,sys; assert json.loads(sys.argv[1])["throws"] == 1000' "$output"
    run --separate-stderr -0 with_fault short s.json 0 -- -q --checkpoint "$TMP/s.json" 1e6
    grep -q '"throws_done": 1000000' "$TMP/s.json"
}

@test "a full file system (a 16-page tmpfs): 'No space left on device', exit 4, CSV and checkpoint as they were" {
    [ "$(id -u)" -eq 0 ] || skip "needs root, to mount a small tmpfs"
    mkdir "$TMP/full"
    mount -t tmpfs -o size=$(( 16 * $(getconf PAGESIZE) )) tmpfs "$TMP/full" 2> "$TMP/mount.err" ||
        skip "cannot mount a tmpfs here: $(cat "$TMP/mount.err")"
    MOUNTED=$TMP/full
    local csv=$TMP/full/runs.csv file=$TMP/full/c.json
    # tmpfs allocates whole pages: an append fails only when the file's last page has less room than
    # the row. Rows until it has (rows differ in length by a few digits: a margin of 150 bytes).
    "$PIMC" -q --no-serial -t 1 --csv "$csv" 1e3
    row=$(tail -n 1 "$csv" | wc -c)
    page=$(getconf PAGESIZE)
    while [ $(( (page - $(stat -c %s "$csv") % page) % page )) -ge $(( row - 150 )) ]; do
        "$PIMC" -q --no-serial -t 1 --csv "$csv" 1e3
    done
    printf '{"format": "pimc-omp checkpoint", "version": 1, "seed": "1", "throws": 1000000000, "stream": {"generator": "philox4x32-10", "version": 1}, "done": [], "throws_done": 0, "hits": 0, "compute_s": 0, "segments": 1}\n' > "$file"
    dd if=/dev/zero of="$TMP/full/fill" bs=1k 2> /dev/null || true
    dd if=/dev/zero of="$TMP/full/fill2" bs=1 2> /dev/null || true
    cp "$csv" "$TMP/csv.before"
    cp "$file" "$TMP/c.before"
    run --separate-stderr -4 "$PIMC" -q --no-serial -t 1 --csv "$csv" 1e3
    said "pimc-omp: cannot write CSV '$csv': No space left on device; the row was not added, the file is as it was"
    cmp "$csv" "$TMP/csv.before"
    run --separate-stderr -4 "$PIMC" -q --checkpoint "$file" 1e9
    [[ $stderr == "pimc-omp: cannot save checkpoint '$file' (write $file.tmp."??????"): No space left on device" ]] ||
        { echo "$stderr"; false; }
    cmp "$file" "$TMP/c.before"
    [ -z "$(find "$TMP/full" -name 'c.json.*')" ]
    run_to "$TMP/full/out.json" --no-serial --json 1e3
    [ "$status" -eq 4 ]
    said "pimc-omp: cannot write standard output ('$TMP/full/out.json'): No space left on device"
}

@test "bench/table and bench/plot: stdout or a file that cannot be written is exit 4 with the reason" {
    [ -n "${BENCH:-}" ] || skip "BENCH (the bench/ directory) not given"
    "$PIMC" -q --sweep 1,2 --csv "$TMP/s.csv" 1e5 2> /dev/null
    status=0
    "$BENCH/table" "$TMP/s.csv" > /dev/full 2> "$TMP/stderr" || status=$?
    stderr=$(cat "$TMP/stderr")
    [ "$status" -eq 4 ]
    said "bench/table: cannot write standard output: No space left on device"
    # bench/speed checks its --out before minutes of measuring.
    run --separate-stderr -4 "$BENCH/speed" "$(dirname "$PIMC")" --out "$TMP/no/such/dir/speed.md"
    said "bench/speed: cannot write --out $TMP/no/such/dir/speed.md: No such file or directory"
    command -v gnuplot > /dev/null || skip "gnuplot not installed (the rest is bench/plot's)"
    [ "$(id -u)" -eq 0 ] || skip "needs root, to mount a small tmpfs"
    mkdir "$TMP/full"
    mount -t tmpfs -o size=$(( 16 * $(getconf PAGESIZE) )) tmpfs "$TMP/full" 2> /dev/null ||
        skip "cannot mount a tmpfs here"
    MOUNTED=$TMP/full
    echo "an old figure" > "$TMP/full/fig.svg"
    dd if=/dev/zero of="$TMP/full/fill" bs=1k 2> /dev/null || true
    status=0
    "$BENCH/plot" "$TMP/s.csv" --out-prefix "$TMP/full/fig" 2> "$TMP/stderr" || status=$?
    stderr=$(cat "$TMP/stderr")
    [ "$status" -eq 4 ]
    said "bench/plot: cannot write $TMP/full/fig.svg: No space left on device"
    [ "$(cat "$TMP/full/fig.svg")" = "an old figure" ] && [ ! -e "$TMP/full/fig.png" ]
}

@test "SIGTERM, SIGINT, SIGUSR1, SIGKILL at random moments (bench/signals, one round): whole rows, exact resumes" {
    [ -n "${BENCH:-}" ] || skip "BENCH (the bench/ directory) not given"
    run -0 "$BENCH/signals" --rounds 1 --random "$RANDOM" "$PIMC"
    echo "# ${lines[-1]}" >&3
}
