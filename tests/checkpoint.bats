#!/usr/bin/env bats
# --checkpoint end to end: runs killed at random moments (also in the middle of
# a checkpoint write) and resumed on other threads, kernel paths and MPI ranks
# end with the uninterrupted run's hits; wrong, corrupt and finished FILEs; the
# work a SIGKILL costs, measured. PIMC is the binary under test.

bats_require_minimum_version 1.5.0

# One long run shared by the tests: its uninterrupted hits are the reference.
# A sanitizer build throws some 30 times slower on one path and not on others:
# there the run is shorter, and the two tests that need a run to outlast their
# kills skip (the release builds run them).
SEED=11

setup_file() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    export OMP_NUM_THREADS=2
    # The time of one chunk at most (2^26 throws) on the fastest path, 2 threads.
    CHUNK_S=$("$PIMC" -t 2 --no-serial --json 67108864 | python3 -c 'import json,sys; print(json.load(sys.stdin)["parallel_s"])')
    SLOW=$(python3 -c "print(1 if $CHUNK_S > 0.2 else 0)")
    THROWS=$([ "$SLOW" = 1 ] && echo 400000000 || echo 10000000000)
    REFERENCE_HITS=$("$PIMC" -t 2 --no-serial --seed "$SEED" --json "$THROWS" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["hits"])')
    export CHUNK_S SLOW THROWS REFERENCE_HITS
}

setup() {
    TMP=$(mktemp -d)
    export OMP_NUM_THREADS=2
    # The Philox paths this CPU and build run, e.g. "scalar avx2 avx512".
    read -r -a KERNELS <<< "$("$PIMC" --version | sed -n 's/^kernels: \(.*\) (auto.*/\1/p')"
}

teardown() {
    # A run a test started and did not end (a failed assertion) must not outlive it.
    for pid in ${RUNNING:-}; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}

json_field() { python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(v)' "$1"; }
file_field() { json_field "$2" < "$1"; } # checkpoint-file key
csv_field() { # file row(1-based data row) column
    python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(r[int(sys.argv[2])-1][sys.argv[3]])' "$@"
}
# The processes under PID (children, grandchildren, ...).
descendants() {
    ps -e -o pid=,ppid= | python3 -c '
import sys
children = {}
for line in sys.stdin:
    pid, ppid = line.split()
    children.setdefault(ppid, []).append(pid)
todo, found = [sys.argv[1]], []
while todo:
    for child in children.get(todo.pop(), []):
        found.append(child)
        todo.append(child)
print(" ".join(found))' "$1"
}
# A decimal number of seconds from $RANDOM: from $1 to $2 in steps of 0.01.
random_seconds() { python3 -c "import sys; print(f'{$1 + ($RANDOM % 1000) / 1000 * ($2 - $1):.2f}')"; }

@test "20 SIGKILLs at random moments, some inside a checkpoint write, each resumed on other threads or paths: the uninterrupted hits" {
    [ "$SLOW" = 0 ] || skip "a slow (sanitizer) build: the run's length cannot be matched to 20 kills"
    RANDOM=2026
    local file=$TMP/run.json kills=0 mid_write=0 moments=() slow=()
    # Killed segments take the paths slower than auto's (which the last one
    # takes), so that 20 kills come before the run is done.
    for kernel in "${KERNELS[@]}"; do [ "$kernel" = avx512 ] || slow+=("$kernel"); done
    for k in $(seq 20); do
        kernel=${slow[RANDOM % ${#slow[@]}]}
        threads=$((1 + RANDOM % 2))
        # Every other segment saves back to back, so that kills land inside writes.
        interval=$([ $((k % 2)) -eq 0 ] && echo 0.001 || echo 0.1)
        # Chosen before the start: python3 (a slow shim on some machines) is never inside the window.
        moment=$(random_seconds 0.1 0.6)
        "$PIMC" -q --seed "$SEED" --checkpoint "$file" --checkpoint-interval "$interval" --kernel "$kernel" \
            -t "$threads" "$THROWS" 2> "$TMP/err" &
        RUNNING=$!
        moments+=("$kernel/$threads/${moment}s")
        sleep "$moment"
        kill -9 "$RUNNING" || { echo "segment $k ended before its kill: $(cat "$TMP/err")"; false; }
        status=0
        wait "$RUNNING" || status=$?
        RUNNING=
        [ "$status" -eq 137 ] || { echo "segment $k ($kernel, $threads threads) ended $status: $(cat "$TMP/err")"; false; }
        kills=$((kills + 1))
        compgen -G "$file.tmp.*" > /dev/null && mid_write=$((mid_write + 1)) # the save's temp file (mkstemp)
        [ -s "$file" ] # the first save comes before any throw
    done
    echo "# kill moments: ${moments[*]}; $mid_write kills left a half-written $file.tmp.XXXXXX" >&3
    run --separate-stderr -0 "$PIMC" --seed "$SEED" --checkpoint "$file" --json "$THROWS"
    [ "$kills" -eq 20 ]
    [ "$(json_field status <<< "$output")" = complete ]
    [ "$(json_field hits <<< "$output")" = "$REFERENCE_HITS" ]
    [ "$(json_field segments <<< "$output")" = 21 ]
    resumed=$(json_field throws_resumed <<< "$output")
    [ "$resumed" -lt "$THROWS" ]
    [ "$resumed" -gt 0 ]
    [ "$(file_field "$file" segments)" = 21 ]
    [ "$(file_field "$file" throws_done)" = "$THROWS" ]
}

@test "SIGTERM: a partial row, exit 143; the same command finishes with the uninterrupted hits and a complete row" {
    local file=$TMP/run.json csv=$TMP/runs.csv
    "$PIMC" -q --seed "$SEED" --checkpoint "$file" --csv "$csv" --kernel scalar -t 1 "$THROWS" &
    RUNNING=$!
    # Only whole chunks are kept (2^26 throws at most): wait until it has had the CPU time of two
    # of them on this path, not a wall time, which a loaded machine can spend before the first throw.
    local i ticks need
    need=$("$PIMC" -t 1 --kernel scalar --no-serial --json 67108864 |
        python3 -c "import json,sys,os; print(int((2 * json.load(sys.stdin)['parallel_s'] + 0.3) * os.sysconf('SC_CLK_TCK')))")
    for ((i = 0; i < 600; i++)); do
        ticks=$(awk '{ print $14 + $15 }' "/proc/$RUNNING/stat" 2>/dev/null) || break
        ((ticks >= need)) && break
        sleep 0.1
    done
    kill -TERM "$RUNNING"
    status=0
    wait "$RUNNING" || status=$?
    RUNNING=
    [ "$status" -eq 143 ]
    [ "$(csv_field "$csv" 1 status)" = partial ]
    [ "$(csv_field "$csv" 1 segments)" = 1 ]
    (($(csv_field "$csv" 1 throws) > 0))
    [ "$(csv_field "$csv" 1 throws)" = "$(file_field "$file" throws_done)" ] # nothing lost on SIGTERM
    [ "$(csv_field "$csv" 1 hits)" = "$(file_field "$file" hits)" ]
    run --separate-stderr -0 "$PIMC" --seed "$SEED" --checkpoint "$file" --csv "$csv" -t 2 "$THROWS"
    [[ $output == *"serial time   skipped: a checkpointed run (times are compute time summed over its segments)"* ]]
    [[ $output == *"checkpoint    $file: segment 2, "*" throws resumed from it"* ]]
    [[ $output == *"verification  PASSED"* ]]
    [ "$(wc -l < "$csv")" -eq 3 ]
    [ "$(csv_field "$csv" 2 status)" = complete ]
    [ "$(csv_field "$csv" 2 hits)" = "$REFERENCE_HITS" ]
    [ "$(csv_field "$csv" 2 segments)" = 2 ]
    [ "$(csv_field "$csv" 2 throws_resumed)" = "$(csv_field "$csv" 1 throws)" ]
    [ -z "$(csv_field "$csv" 2 serial_s)" ]
    # Compute time summed over both segments: at least the first one's.
    python3 - "$csv" <<'PY'
import csv, sys
first, second = list(csv.DictReader(open(sys.argv[1])))
assert float(second["parallel_s"]) > float(first["parallel_s"]) > 0.5, (first["parallel_s"], second["parallel_s"])
PY
}

@test "a FILE of a finished run: its result, nothing thrown, FILE and CSV untouched" {
    local file=$TMP/done.json csv=$TMP/runs.csv
    run --separate-stderr -0 "$PIMC" --seed 5 --checkpoint "$file" --csv "$csv" --json 3e8
    want=$(json_field hits <<< "$output")
    cp "$file" "$TMP/before.json"
    run --separate-stderr -0 "$PIMC" --seed 5 --checkpoint "$file" --csv "$csv" --json -t 1 --kernel scalar 3e8
    [ "$(json_field hits <<< "$output")" = "$want" ]
    [ "$(json_field throws_resumed <<< "$output")" = 300000000 ]
    [ "$(json_field segments <<< "$output")" = 1 ]
    [[ $stderr == *"is of a finished run: no row added"* ]]
    cmp "$file" "$TMP/before.json"
    [ "$(wc -l < "$csv")" -eq 2 ]
    run --separate-stderr -0 "$PIMC" --seed 5 --checkpoint "$file" 3e8
    [[ $output == *"checkpoint    $file: the run was complete after 1 segment; nothing thrown now"* ]]
}

@test "a FILE of another run (seed, throws, generator): exit 2 naming each difference, FILE untouched, nothing written" {
    local file=$TMP/other.json
    "$PIMC" -q --seed 5 --checkpoint "$file" 3e8
    cp "$file" "$TMP/before.json"
    run --separate-stderr -2 "$PIMC" --seed 6 --checkpoint "$file" --csv "$TMP/no.csv" 3e8
    [ "$stderr" = "pimc-omp: checkpoint '$file' is of another run (seed 5 there, 6 here); give the same options or another FILE" ]
    [ -z "$output" ]
    [ ! -e "$TMP/no.csv" ]
    run --separate-stderr -2 "$PIMC" --seed 5 --checkpoint "$file" 4e8
    [[ $stderr == *"(throws 300000000 there, 400000000 here)"* ]]
    run --separate-stderr -2 "$PIMC" --seed 7 --rng ars --checkpoint "$file" 4e8
    [[ $stderr == *"(seed 5 there, 7 here, throws 300000000 there, 400000000 here, generator philox4x32-10 there, ars4x32-5 here)"* ]]
    cmp "$file" "$TMP/before.json"
    [ -z "$(compgen -G "$file.tmp*")" ]
}

@test "a corrupt FILE: exit 2 with one line saying what is wrong, nothing overwritten" {
    local file=$TMP/bad.json
    "$PIMC" -q --seed 5 --checkpoint "$file" 3e8
    head -c 100 "$file" > "$TMP/cut.json"
    sed 's/"hits": [0-9]*/"hits": 400000000/' "$file" > "$TMP/hits.json"
    sed 's/"throws_done": [0-9]*/"throws_done": 7/' "$file" > "$TMP/sum.json"
    printf '' > "$TMP/empty.json"
    printf 'not json' > "$TMP/text.json"
    for bad in cut hits sum empty text; do
        cp "$TMP/$bad.json" "$TMP/before.json"
        run --separate-stderr -2 "$PIMC" --seed 5 --checkpoint "$TMP/$bad.json" 3e8
        [[ $stderr == "pimc-omp: checkpoint '$TMP/$bad.json' "* ]] || { echo "$bad: $stderr"; false; }
        [[ $stderr == *"; move it away to start the run afresh" ]]
        [ "${#lines[@]}" -eq 0 ] && [ "$(wc -l <<< "$stderr")" -eq 1 ]
        cmp "$TMP/$bad.json" "$TMP/before.json"
    done
    run --separate-stderr -2 "$PIMC" --seed 5 --checkpoint "$TMP/hits.json" 3e8
    [[ $stderr == *'"hits" must be an integer from 0 to "throws_done" (300000000)'* ]]
    run --separate-stderr -2 "$PIMC" --seed 5 --checkpoint "$TMP" 3e8
    [[ $stderr == *"is a directory, not a regular file"* ]]
}

@test "bad checkpoint options: exit 2 before any work" {
    run --separate-stderr -2 "$PIMC" --checkpoint-interval 5 1e6
    [[ $stderr == *"--checkpoint-interval goes with --checkpoint FILE"* ]]
    for interval in 0 abc 1e7 0.0001 5s .; do
        run --separate-stderr -2 "$PIMC" --checkpoint "$TMP/c.json" --checkpoint-interval "$interval" 1e6
        [[ $stderr == *"--checkpoint-interval '$interval' is not a number of seconds"* ]] || { echo "$interval: $stderr"; false; }
    done
    run --separate-stderr -2 "$PIMC" --checkpoint "$TMP/c.json" --repeat 3 1e6
    [[ $stderr == *"leave out --repeat"* ]]
    run --separate-stderr -2 "$PIMC" --checkpoint "$TMP/c.json" --sweep 1,2 1e6
    [[ $stderr == *"leave out --sweep, --sizes and --check"* ]]
    run --separate-stderr -4 "$PIMC" --checkpoint "$TMP/no/such/dir/c.json" 1e6
    [[ $stderr == *"cannot save checkpoint '$TMP/no/such/dir/c.json'"*"No such file or directory"* ]]
    [ ! -e "$TMP/c.json" ]
}

@test "the work a SIGKILL costs, measured: at most one interval plus the chunk under way" {
    [ "$SLOW" = 0 ] || skip "a slow (sanitizer) build: the run's length cannot be matched to 3 kills"
    local file=$TMP/run.json interval=1
    # One core of the scalar path: slow enough that 3 segments of up to 3.5 s
    # leave the run unfinished on any machine. A chunk (2^26 throws at most)
    # there takes 4 times as long as 2^24 throws.
    chunk_s=$("$PIMC" -t 1 --kernel scalar --no-serial --json 16777216 |
        python3 -c 'import json,sys; print(4 * json.load(sys.stdin)["parallel_s"])')
    RANDOM=7
    for k in 1 2 3; do
        before=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["compute_s"])' "$file" 2>/dev/null ||
            echo 0)
        start=$(date +%s.%N)
        "$PIMC" -q -t 1 --kernel scalar --seed "$SEED" --checkpoint "$file" --checkpoint-interval "$interval" \
            "$THROWS" &
        RUNNING=$!
        sleep "$(random_seconds 1.5 3.5)"
        kill -9 "$RUNNING" || { echo "segment $k ended before its kill"; false; }
        end=$(date +%s.%N)
        wait "$RUNNING" || true
        RUNNING=
        # Time this segment threw (its life) against the time its last save holds.
        lost=$(python3 - "$file" "$before" "$start" "$end" <<'PY'
import json, sys
cp = json.load(open(sys.argv[1]))
saved = cp["compute_s"] - float(sys.argv[2])
life = float(sys.argv[4]) - float(sys.argv[3])
rate = cp["throws_done"] / cp["compute_s"]
print(f"{life - saved:.3f} {(life - saved) * rate:.3g}")
PY
)
        echo "# segment $k: lost ${lost% *} s of throwing, ~${lost#* } throws, with --checkpoint-interval $interval" \
            "(a chunk: at most ${chunk_s} s)" >&3
        # One interval and one chunk, plus start-up and room for a busy machine.
        python3 -c "import sys; sys.exit(0 if ${lost% *} <= $interval + $chunk_s + 0.75 else 1)"
        [ "$(file_field "$file" throws_done)" -lt "$THROWS" ]
    done
}

@test "MPI: a rank killed, then its job: FILE at most one interval old; resumed on 2 ranks (scalar), then 1: the uninterrupted hits" {
    "$PIMC" --version | grep -q '^MPI: none' && skip "this pimc-omp was built without MPI"
    command -v mpirun >/dev/null || skip "mpirun not installed"
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
    local file=$TMP/mpi.json csv=$TMP/mpi.csv interval=0.5
    PIMC_TEST_RUN=$TMP timeout 120 mpirun --oversubscribe --bind-to none -np 3 "$PIMC" -q -t 1 --seed "$SEED" \
        --checkpoint "$file" --checkpoint-interval "$interval" --csv "$csv" "$THROWS" 2> "$TMP/err" &
    RUNNING=$!
    # Rank 2 of this run (this test's mark and Open MPI's rank in its environment),
    # once the run has saved some progress.
    victim=
    for _ in $(seq 200); do
        sleep 0.1
        [ -s "$file" ] && [ "$(file_field "$file" throws_done)" -gt 0 ] || continue
        job=$(descendants "$RUNNING")
        for pid in $job; do
            vars=$(tr '\0' '\n' 2>/dev/null < "/proc/$pid/environ") || continue # gone already
            grep -qx "PIMC_TEST_RUN=$TMP" <<< "$vars" && grep -qx 'OMPI_COMM_WORLD_RANK=2' <<< "$vars" && victim=$pid
        done
        [ -z "$victim" ] || break
    done
    [ -n "$victim" ] || { echo "no rank 2 found; mpirun said: $(cat "$TMP/err")"; false; }
    kill -9 "$victim"
    # Open MPI lets the other ranks finish their shares, which rank 0 goes on
    # saving; then they wait for rank 2. A batch system ends such a job (time
    # limit, lost node): here, a second later, every process of it at once.
    sleep 1
    ended_at=$(date +%s.%N)
    kill -9 $job "$RUNNING" 2>/dev/null || true
    wait "$RUNNING" || true
    RUNNING=
    [ ! -e "$csv" ] || [ "$(wc -l < "$csv")" -le 1 ] # no row from a run that lost a rank
    age=$(python3 -c 'import os,sys; print(f"{float(sys.argv[2]) - os.stat(sys.argv[1]).st_mtime:.2f}")' "$file" "$ended_at")
    echo "# FILE's last save: ${age} s before the job ended (interval $interval s)" >&3
    python3 -c "import sys; sys.exit(0 if $age <= $interval + 0.5 else 1)"
    done_after_kill=$(file_field "$file" throws_done)
    [ "$done_after_kill" -gt 0 ]

    PIMC_TEST_RUN=$TMP timeout 120 mpirun --oversubscribe --bind-to none -np 2 "$PIMC" -q -t 1 --kernel scalar \
        --seed "$SEED" --checkpoint "$file" --checkpoint-interval "$interval" --csv "$csv" "$THROWS" 2> "$TMP/err" &
    RUNNING=$!
    # SIGTERM to every rank, as Slurm sends it at a time limit (mpirun would
    # first wait, then SIGKILL), once this segment has made its first save
    # (its signal handlers are up by then) and thrown a little.
    for _ in $(seq 300); do
        sleep 0.1
        [ "$(file_field "$file" segments)" = 2 ] && break
    done
    sleep 0.5
    ranks=()
    for pid in $(descendants "$RUNNING"); do
        vars=$(tr '\0' '\n' 2>/dev/null < "/proc/$pid/environ") || continue
        grep -qx "PIMC_TEST_RUN=$TMP" <<< "$vars" && grep -q '^OMPI_COMM_WORLD_RANK=' <<< "$vars" && ranks+=("$pid")
    done
    [ "${#ranks[@]}" -eq 2 ]
    kill -TERM "${ranks[@]}"
    wait "$RUNNING" || true
    RUNNING=
    [ "$(csv_field "$csv" 1 status)" = partial ] || { cat "$TMP/err" "$csv" "$file"; false; }
    [ "$(csv_field "$csv" 1 ranks)" = 2 ]
    [ "$(csv_field "$csv" 1 throws_resumed)" = "$done_after_kill" ]

    run --separate-stderr -0 "$PIMC" -t 2 --seed "$SEED" --checkpoint "$file" --csv "$csv" --json "$THROWS"
    [ "$(json_field hits <<< "$output")" = "$REFERENCE_HITS" ]
    [ "$(json_field segments <<< "$output")" = 3 ]
    [ "$(csv_field "$csv" 2 status)" = complete ]
    [ "$(csv_field "$csv" 2 hits)" = "$REFERENCE_HITS" ]
}
