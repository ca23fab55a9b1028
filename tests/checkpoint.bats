#!/usr/bin/env bats
# --checkpoint end to end: runs killed at random points of their work (also in
# the middle of a checkpoint write) and resumed on other threads, kernel paths
# and MPI ranks end with the uninterrupted run's hits; wrong, corrupt and
# finished FILEs; the work a SIGKILL costs, measured. PIMC is the binary under test.

bats_require_minimum_version 1.5.0

load machine

# One long run for the 20 kills: its uninterrupted hits are the reference. Its length is sized
# here from the rates this machine and build throw at (a sanitizer build throws 10-30 times slower
# than a release build, a new CPU may throw 3 times faster): no test below kills on a timer, each
# waits for the run's progress (its checkpoint, or its CPU time) before it signals.
SEED=11

setup_file() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    export OMP_NUM_THREADS=$THREADS
    local auto kernels=() kernel rate
    read -r -a kernels <<<"$("$PIMC" --version | sed -n 's/^kernels: \(.*\) (auto.*/\1/p')"
    auto=$("$PIMC" --version | sed -n 's/^kernels: .*(auto: \([a-z0-9]*\).*/\1/p')
    # The killed segments take the paths other than auto's (which the last one takes), or auto's
    # when it is the only one.
    KILLED_KERNELS=()
    for kernel in "${kernels[@]}"; do [ "$kernel" = "$auto" ] || KILLED_KERNELS+=("$kernel"); done
    ((${#KILLED_KERNELS[@]} > 0)) || KILLED_KERNELS=("$auto")
    # Throws a second: the fastest killed segment, one scalar thread, one thread of auto's path.
    RATE_KILLED=0
    for kernel in "${KILLED_KERNELS[@]}"; do
        rate=$(throw_rate "$kernel" "$THREADS")
        ((rate > RATE_KILLED)) && RATE_KILLED=$rate
    done
    RATE_SCALAR1=$(throw_rate scalar 1)
    RATE_AUTO1=$(throw_rate auto 1)
    # What a wait on CPU time lets one scalar thread throw: a second of CPU time goes further than one
    # of wall time on a loaded machine (twice what was measured, for the noise).
    CPU_RATE_SCALAR1=$(cpu_rate scalar)
    CPU_RATE_SCALAR1=$((2 * (CPU_RATE_SCALAR1 > RATE_SCALAR1 ? CPU_RATE_SCALAR1 : RATE_SCALAR1)))
    # 20 killed segments, each until its checkpoint shows 1 or 2 chunks more than it started from
    # (3 chunks allowed), plus what it throws while the test sees that save (0.3 s allowed: a save
    # interval of 0.05 s and the poll's delay), then 4 chunks for the last segment.
    THROWS=$(sized_throws 20 3 "$RATE_KILLED" 0.3 4)
    REFERENCE_HITS=$("$PIMC" -t "$THREADS" --no-serial --seed "$SEED" --json "$THROWS" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["hits"])')
    echo "# THROWS $THROWS; throws/s: killed paths (${KILLED_KERNELS[*]}, $THREADS threads) $RATE_KILLED," \
        "scalar 1 thread $RATE_SCALAR1 (a CPU second: up to $CPU_RATE_SCALAR1), auto 1 thread $RATE_AUTO1" >&3
    export KILLED_KERNELS_LIST="${KILLED_KERNELS[*]}" RATE_KILLED RATE_SCALAR1 CPU_RATE_SCALAR1 RATE_AUTO1 THROWS \
        REFERENCE_HITS
}

# sized_throws SEGMENTS CHUNKS RATE SECONDS EXTRA_CHUNKS -- the throws of a run that SEGMENTS
# segments each take CHUNKS chunks and SECONDS at RATE throws/s of, and that then has EXTRA_CHUNKS
# left: on the chunk grid of that many throws (2^25, or 2^26 from 2^32 throws on).
sized_throws() {
    local chunk=33554432 throws seconds_throws
    seconds_throws=$(awk -v r="$3" -v s="$4" 'BEGIN { printf "%.0f", r * s }')
    for chunk in 33554432 67108864; do
        throws=$(($1 * ($2 * chunk + seconds_throws) + $5 * chunk))
        (($(chunk_throws "$throws") == chunk)) && break
    done
    echo "$throws"
}

setup() {
    TMP=$(mktemp -d)
    export OMP_NUM_THREADS=$THREADS
    read -r -a KILLED_KERNELS <<<"$KILLED_KERNELS_LIST"
}

teardown() {
    # A run a test started and did not end (a failed assertion) must not outlive it.
    for pid in ${RUNNING:-}; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}

file_field() { json_field "$2" < "$1"; } # checkpoint-file key
csv_field() { # file row(1-based data row) column
    python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(r[int(sys.argv[2])-1][sys.argv[3]])' "$@"
}

@test "20 SIGKILLs at random points of the work, some inside a checkpoint write, each resumed on other threads or paths: the uninterrupted hits" {
    RANDOM=2026
    local file=$TMP/run.json kills=0 mid_write=0 seen=() chunk k
    chunk=$(chunk_throws "$THROWS")
    # Drawn before any run starts: each segment's path, threads, save interval (every other one
    # saves back to back, so that kills land inside writes) and the chunks it throws before its kill.
    local kernels=() threads=() intervals=() chunks=()
    for k in $(seq 20); do
        kernels+=("${KILLED_KERNELS[RANDOM % ${#KILLED_KERNELS[@]}]}")
        threads+=($((1 + RANDOM % THREADS)))
        intervals+=("$( ((k % 2 == 0)) && echo 0.001 || echo 0.05)")
        chunks+=($((1 + RANDOM % 2)))
    done
    for ((k = 1; k <= 20; k++)); do
        local i=$((k - 1)) start target
        start=$(checkpoint_value "$file" throws_done)
        target=$((start + chunks[i] * chunk))
        ((target < THROWS)) || { echo "segment $k: THROWS $THROWS too small for its target $target"; false; }
        "$PIMC" -q --seed "$SEED" --checkpoint "$file" --checkpoint-interval "${intervals[i]}" \
            --kernel "${kernels[i]}" -t "${threads[i]}" "$THROWS" 2> "$TMP/err" &
        RUNNING=$!
        wait_for_throws "$RUNNING" "$file" "$target" || true
        kill -9 "$RUNNING" || { echo "segment $k ended before its kill: $(cat "$TMP/err")"; false; }
        status=0
        wait "$RUNNING" || status=$?
        RUNNING=
        [ "$status" -eq 137 ] || { echo "segment $k (${kernels[i]}, ${threads[i]} threads) ended $status: $(cat "$TMP/err")"; false; }
        kills=$((kills + 1))
        compgen -G "$file.tmp.*" > /dev/null && mid_write=$((mid_write + 1)) # the save's temp file (mkstemp)
        [ -s "$file" ] # the first save comes before any throw
        seen+=("${kernels[i]}/${threads[i]}:$(( ($(checkpoint_value "$file" throws_done) - start) / chunk ))")
    done
    echo "# segments (path/threads:chunks saved): ${seen[*]}; $mid_write kills left a half-written $file.tmp.XXXXXX" >&3
    run --separate-stderr -0 "$PIMC" --seed "$SEED" --checkpoint "$file" --json "$THROWS"
    [ "$kills" -eq 20 ]
    [ "$(json_field status <<< "$output")" = complete ]
    [ "$(json_field hits <<< "$output")" = "$REFERENCE_HITS" ]
    [ "$(json_field segments <<< "$output")" = 21 ]
    resumed=$(json_field throws_resumed <<< "$output")
    [ "$resumed" -lt "$THROWS" ]
    [ "$resumed" -ge $((20 * chunk)) ] # each killed segment saved a chunk at least
    [ "$(file_field "$file" segments)" = 21 ]
    [ "$(file_field "$file" throws_done)" = "$THROWS" ]
}

@test "SIGTERM: a partial row, exit 143; the same command finishes with the uninterrupted hits and a complete row" {
    local file=$TMP/run.json csv=$TMP/runs.csv throws want wait_s
    # Only whole chunks are kept: the first segment is stopped once it has had the CPU time of two of
    # them on its path (a chunk of 2^25 throws at RATE_SCALAR1 each, with a factor 2 to spare), and
    # 0.3 s for its start. CPU time, not a wall time, which a loaded machine can spend before the first
    # throw; the default interval (60 s) leaves the save at the stop the only one after the first.
    wait_s=$(awk -v r="$RATE_SCALAR1" 'BEGIN { printf "%.3f", 4 * 33554432 / r + 0.3 }')
    # Its own run, of twice what that wait lets one scalar thread throw, and 2 chunks: the first
    # segment never finishes, the second is short.
    throws=$(sized_throws 1 2 "$CPU_RATE_SCALAR1" "$(awk -v w="$wait_s" 'BEGIN { print 2 * w }')" 0)
    want=$("$PIMC" -t "$THREADS" --no-serial --seed "$SEED" --json "$throws" | json_field hits)
    "$PIMC" -q --seed "$SEED" --checkpoint "$file" --csv "$csv" --kernel scalar -t 1 "$throws" &
    RUNNING=$!
    wait_for_cpu "$RUNNING" "$(awk -v w="$wait_s" -v t="$CLK_TCK" 'BEGIN { printf "%.0f", w * t }')" ||
        { echo "it ended before it had thrown two chunks"; false; }
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
    run --separate-stderr -0 "$PIMC" --seed "$SEED" --checkpoint "$file" --csv "$csv" -t "$THREADS" "$throws"
    [[ $output == *"serial time   skipped: a checkpointed run (times are compute time summed over its segments)"* ]]
    [[ $output == *"checkpoint    $file: segment 2, "*" throws resumed from it"* ]]
    [[ $output == *"verification  PASSED"* ]]
    [ "$(wc -l < "$csv")" -eq 3 ]
    [ "$(csv_field "$csv" 2 status)" = complete ]
    [ "$(csv_field "$csv" 2 hits)" = "$want" ]
    [ "$(csv_field "$csv" 2 segments)" = 2 ]
    [ "$(csv_field "$csv" 2 throws_resumed)" = "$(csv_field "$csv" 1 throws)" ]
    [ -z "$(csv_field "$csv" 2 serial_s)" ]
    # Compute time summed over both segments: at least the first one's.
    python3 - "$csv" <<'PY'
import csv, sys
first, second = list(csv.DictReader(open(sys.argv[1])))
assert float(second["parallel_s"]) > float(first["parallel_s"]) > 0, (first["parallel_s"], second["parallel_s"])
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
    [ "$(errors_of "$stderr")" = "pimc-omp: checkpoint '$file' is of another run (seed 5 there, 6 here); give the same options or another FILE" ]
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
        [[ $(errors_of "$stderr") == "pimc-omp: checkpoint '$TMP/$bad.json' "* ]] || { echo "$bad: $stderr"; false; }
        [[ $stderr == *"; move it away to start the run afresh" ]]
        [ "${#lines[@]}" -eq 0 ] && [ "$(errors_of "$stderr" | wc -l)" -eq 1 ]
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
    local file=$TMP/run.json interval=1 chunk throws k
    # One scalar core, 3 segments killed at random points: each after 1 or 2 chunks more than it
    # started from, then a random share of an interval more of its CPU time, so that the kills fall
    # anywhere between two saves. The run is sized to outlast them (2 chunks, an interval of CPU time
    # and one of saving, and 1 s for the poll, each): it is never finished.
    throws=$(sized_throws 3 3 "$CPU_RATE_SCALAR1" 3 1)
    chunk=$(chunk_throws "$throws")
    chunk_s=$(awk -v c="$chunk" -v r="$RATE_SCALAR1" 'BEGIN { printf "%.3f", c / r }')
    RANDOM=7
    local chunks=() extra_ticks=()
    for k in 1 2 3; do
        chunks+=($((1 + RANDOM % 2)))
        extra_ticks+=($((RANDOM % 100 * interval * CLK_TCK / 100)))
    done
    for k in 1 2 3; do
        local i=$((k - 1)) done_before before start end ticks
        done_before=$(checkpoint_value "$file" throws_done)
        before=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["compute_s"])' "$file" 2>/dev/null ||
            echo 0)
        "$PIMC" -q -t 1 --kernel scalar --seed "$SEED" --checkpoint "$file" --checkpoint-interval "$interval" \
            "$throws" &
        RUNNING=$!
        # Its life counts from its first save (before any throw), as its compute_s does: its start-up,
        # long on a loaded machine, is not work a kill loses.
        wait_for_checkpoint "$RUNNING" "$file" segments "$k" || { echo "segment $k ended before its first save"; false; }
        start=$(date +%s.%N)
        wait_for_throws "$RUNNING" "$file" $((done_before + chunks[i] * chunk)) || true
        ticks=$(cpu_ticks "$RUNNING") || true
        wait_for_cpu "$RUNNING" $((ticks + extra_ticks[i])) || true
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
            "(a chunk: ${chunk_s} s)" >&3
        # One interval and one chunk, plus room for a busy machine (a save's fsync, the saver's turn).
        python3 -c "import sys; sys.exit(0 if ${lost% *} <= $interval + $chunk_s + 0.75 else 1)"
        [ "$(file_field "$file" throws_done)" -lt "$throws" ]
    done
}

# mpirun_ranks N PIMC-OPTION... -- PIMC on N ranks of one node under mpirun, each rank first writing
# its PID to TMP/rank-RANK.pid; rank_pid LAUNCHER RANK waits for that file and prints the PID.
mpirun_ranks() {
    local ranks=$1
    shift
    # shellcheck disable=SC2016 # expanded by each rank's shell
    timeout 300 mpirun --oversubscribe --bind-to none -np "$ranks" \
        bash -c 'echo "$$" > "$0/rank-$OMPI_COMM_WORLD_RANK.pid" && exec "$@"' "$TMP" "$PIMC" "$@"
}
rank_pid() {
    local pid=
    until { read -r pid < "$TMP/rank-$2.pid"; } 2>/dev/null && [[ -n $pid ]]; do
        alive "$1" || return 1
        sleep 0.01
    done
    echo "$pid"
}

@test "MPI: a rank killed, then its job: rank 0 went on saving the others' work; resumed on 2 ranks (scalar), then 1: the uninterrupted hits" {
    "$PIMC" --version | grep -q '^MPI: none' && skip "this pimc-omp was built without MPI"
    command -v mpirun >/dev/null || skip "mpirun not installed"
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
    local file=$TMP/mpi.json csv=$TMP/mpi.csv interval=0.1 throws chunk want victim ranks rank
    # 3 ranks of one thread on the usable CPUs (at most 3 at once): each rank's share (a third) must
    # outlast two waits of up to 2 chunks (for the kill of rank 2, then for rank 0's saves after it)
    # and what the ranks throw while the test sees each save (an interval and 0.4 s of polling).
    throws=$(sized_throws 3 7 "$((RATE_AUTO1 * (USABLE_CPUS < 3 ? USABLE_CPUS : 3)))" 1 0)
    chunk=$(chunk_throws "$throws")
    want=$("$PIMC" -t "$THREADS" --no-serial --seed "$SEED" --json "$throws" | json_field hits)
    RANDOM=21
    local kill_at=$((1 + RANDOM % 2)) saved_after=$((1 + RANDOM % 2)) stop_at=$((1 + RANDOM % 2))

    # Each rank writes its PID to TMP/rank-N.pid, then becomes pimc-omp.
    mpirun_ranks 3 -q -t 1 --seed "$SEED" --checkpoint "$file" --checkpoint-interval "$interval" --csv "$csv" \
        "$throws" 2> "$TMP/err" &
    RUNNING=$!
    victim=$(rank_pid "$RUNNING" 2) || { echo "no rank 2; mpirun said: $(cat "$TMP/err")"; false; }
    wait_for_throws "$RUNNING" "$file" $((kill_at * chunk)) || { echo "the job ended: $(cat "$TMP/err")"; false; }
    kill -9 "$victim"
    # Open MPI lets the other ranks finish their shares, which rank 0 goes on saving; then they wait
    # for rank 2. A batch system ends such a job (time limit, lost node): here, once rank 0 has saved
    # more of the others' work, every process of it at once.
    local done_at_kill job
    done_at_kill=$(checkpoint_value "$file" throws_done)
    wait_for_throws "$RUNNING" "$file" $((done_at_kill + saved_after * chunk)) ||
        { echo "rank 0 saved nothing more after rank 2 died: $(cat "$TMP/err")"; false; }
    job=$(descendants "$RUNNING")
    # shellcheck disable=SC2086 # PIDs, one a word
    kill -9 $job "$RUNNING" 2>/dev/null || true
    ended_at=$(date +%s.%N)
    wait "$RUNNING" || true
    RUNNING=
    [ ! -e "$csv" ] || [ "$(wc -l < "$csv")" -le 1 ] # no row from a run that lost a rank
    age=$(python3 -c 'import os,sys; print(f"{float(sys.argv[2]) - os.stat(sys.argv[1]).st_mtime:.2f}")' "$file" "$ended_at")
    done_after_kill=$(file_field "$file" throws_done)
    echo "# rank 2 killed at $done_at_kill throws saved, the job at $done_after_kill; FILE's last save:" \
        "${age} s before the job ended (interval $interval s)" >&3
    ((done_after_kill >= done_at_kill + saved_after * chunk))

    rm -f "$TMP"/rank-*.pid
    mpirun_ranks 2 -q -t 1 --kernel scalar --seed "$SEED" --checkpoint "$file" --checkpoint-interval "$interval" \
        --csv "$csv" "$throws" 2> "$TMP/err" &
    RUNNING=$!
    # SIGTERM to every rank, as Slurm sends it at a time limit (mpirun would first wait, then
    # SIGKILL), once this segment has saved (its signal handlers are up by then) and thrown a little.
    ranks=()
    for rank in 0 1; do
        ranks+=("$(rank_pid "$RUNNING" "$rank")") || { echo "no rank $rank; mpirun said: $(cat "$TMP/err")"; false; }
    done
    wait_for_checkpoint "$RUNNING" "$file" segments 2 || { echo "no save; mpirun said: $(cat "$TMP/err")"; false; }
    wait_for_throws "$RUNNING" "$file" $((done_after_kill + stop_at * chunk)) ||
        { echo "the job ended: $(cat "$TMP/err")"; false; }
    kill -TERM "${ranks[@]}"
    wait "$RUNNING" || true
    RUNNING=
    [ "$(csv_field "$csv" 1 status)" = partial ] || { cat "$TMP/err" "$csv" "$file"; false; }
    [ "$(csv_field "$csv" 1 ranks)" = 2 ]
    [ "$(csv_field "$csv" 1 throws_resumed)" = "$done_after_kill" ]

    run --separate-stderr -0 "$PIMC" -t "$THREADS" --seed "$SEED" --checkpoint "$file" --csv "$csv" --json "$throws"
    [ "$(json_field hits <<< "$output")" = "$want" ]
    [ "$(json_field segments <<< "$output")" = 3 ]
    [ "$(csv_field "$csv" 2 status)" = complete ]
    [ "$(csv_field "$csv" 2 hits)" = "$want" ]
}
