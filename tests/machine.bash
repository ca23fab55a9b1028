# shellcheck shell=bash disable=SC2034 # what it sets is for the files that load it
# tests/machine.bash -- what the bats files share so that they hold on any machine: one CPU or many,
# a CPU 3x faster or slower, a loaded node (docs/testing.md; tests/any-machine emulates each).
# Loaded with `load machine`. It sets:
#   USABLE_CPU_IDS  the CPU ids this process may run on, from its affinity mask (never assume CPU 0)
#   USABLE_CPUS     how many
#   THREADS         threads for a run whose thread count is not the point of the test: min(2, USABLE_CPUS)
# and gives:
#   needs_two_cpus            skips a test, saying why, when there is one usable CPU
#   cpu_list N                the first N usable CPU ids, comma-separated (for taskset -c)
#   checkpoint_value FILE KEY a checkpoint FILE's integer KEY ("throws_done", "segments"; 0 while there is
#                             no FILE), read by bash alone
#   wait_for_checkpoint PID FILE KEY N  until FILE's KEY is N or more (0), or PID has ended (1)
#   wait_for_throws PID FILE N  the same for "throws_done": until N throws are saved as done
#   cpu_ticks PID             the CPU time PID has used, in clock ticks (user + system; CLK_TCK a second)
#   wait_for_cpu PID TICKS    until PID has used TICKS of CPU time (0), or has ended (1)
#   throw_rate KERNEL THREADS PIMC's throws a second on that path, measured here: for sizing work
#   cpu_rate KERNEL           the same a second of CPU time of one thread: for sizing work a CPU-time wait allows
#   timed_throws SECONDS      throws that one thread takes about SECONDS for here: a run long enough to time
#   chunk_throws THROWS       the throws a checkpointed run of THROWS saves at a time
#   descendants PID           the processes under PID
#   errors_of TEXT            a run's stderr less its warnings: the line a test about an error compares
#   json_field KEY < JSON     a value of a flat JSON object, read by bash where it can
# The waits poll with nothing but bash builtins and `sleep`: no interpreter starts inside the window
# they time, so a slow python3 or a loaded machine cannot make them late.

read_usable_cpus() {
    local list range
    USABLE_CPU_IDS=()
    list=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
    IFS=, read -r -a ranges <<<"$list"
    for range in "${ranges[@]}"; do
        if [[ $range == *-* ]]; then
            mapfile -t -O "${#USABLE_CPU_IDS[@]}" USABLE_CPU_IDS < <(seq "${range%-*}" "${range#*-}")
        else
            USABLE_CPU_IDS+=("$range")
        fi
    done
    USABLE_CPUS=${#USABLE_CPU_IDS[@]}
    THREADS=$((USABLE_CPUS >= 2 ? 2 : 1))
}
read_usable_cpus
CLK_TCK=$(getconf CLK_TCK)

needs_two_cpus() {
    ((USABLE_CPUS >= 2)) ||
        skip "needs 2 usable CPUs; this process may run on CPU ${USABLE_CPU_IDS[*]} alone (its affinity mask)"
}

cpu_list() { # N
    local IFS=,
    echo "${USABLE_CPU_IDS[*]:0:$1}"
}

# alive PID: PID runs (has not ended, and is no zombie waiting for its parent's wait).
alive() {
    local stat
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    [[ ${stat##*) } != Z* ]]
}

# pimc-omp replaces the file by rename(), never rewrites it in place: each read sees one whole save.
checkpoint_value() { # FILE KEY
    local text=
    { read -r -d '' text <"$1"; } 2>/dev/null
    if [[ $text =~ \"$2\":\ *\"?([0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi
}

wait_for_checkpoint() { # PID FILE KEY N
    local text
    while :; do
        text=
        { read -r -d '' text <"$2"; } 2>/dev/null
        [[ $text =~ \"$3\":\ *\"?([0-9]+) ]] && ((BASH_REMATCH[1] >= $4)) && return 0
        alive "$1" || return 1
        sleep 0.005
    done
}

wait_for_throws() { wait_for_checkpoint "$1" "$2" throws_done "$3"; } # PID FILE N

cpu_ticks() { # PID
    local stat fields
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || { echo 0; return 1; }
    read -r -a fields <<<"${stat##*) }" # from field 3 (state) on: utime is field 14, stime 15
    echo $((fields[11] + fields[12]))
}

wait_for_cpu() { # PID TICKS
    while alive "$1"; do
        (($(cpu_ticks "$1") >= $2)) && return 0
        sleep 0.01
    done
    return 1
}

# throw_rate KERNEL THREADS -- throws a second of PIMC on that path and thread count, measured here
# on one chunk's worth (2^25 throws), as an integer: for sizing a test's work to this machine and build.
throw_rate() {
    local json rate
    json=$("$PIMC" --kernel "$1" -t "$2" --no-serial --json 33554432 2>/dev/null) || return 1
    [[ $json =~ \"throws_per_s\":\ *([0-9.eE+-]+) ]] || return 1
    printf -v rate '%.0f' "${BASH_REMATCH[1]}"
    echo "$rate"
}

# cpu_rate KERNEL -- throws a second of CPU time of one thread of KERNEL, measured here as throw_rate
# is. On a loaded machine a thread gets less than the wall time: a wait on CPU time (wait_for_cpu)
# lets a run throw this many a second, more than throw_rate says. --warm-up 0: the process's CPU time
# is what is measured, and a warm-up (up to as many throws again) would halve the rate.
cpu_rate() {
    local TIMEFORMAT='%U %S' times
    times=$({ time "$PIMC" --kernel "$1" -t 1 --no-serial --warm-up 0 -q 33554432 >/dev/null 2>&1; } 2>&1) || return 1
    awk -v t="$times" 'BEGIN { split(t, a, " "); s = a[1] + a[2]; if (s < 0.001) s = 0.001; printf "%.0f\n", 33554432 / s }'
}

# timed_throws SECONDS [KERNEL] -- the throws one thread of KERNEL (auto) throws here in about SECONDS,
# in whole millions (1e6 at least): a run long enough to time, on a CPU of any speed.
timed_throws() {
    local rate
    rate=$(throw_rate "${2:-auto}" 1) || return 1
    awk -v r="$rate" -v s="$1" 'BEGIN { m = int(r * s / 1e6) + 1; printf "%d\n", m * 1000000 }'
}

# chunk_throws THROWS -- the throws of one chunk of a checkpointed run of THROWS (src/resume.c): 2^25,
# or 2^26 from 2^32 throws on. A checkpoint's "throws_done" grows by whole chunks.
chunk_throws() { echo $(($1 < 4294967296 ? 33554432 : 67108864)); }

# descendants PID -- the processes under PID (children, grandchildren, ...), read from /proc by bash
# alone.
descendants() {
    local -A children=()
    local file stat pid ppid found=() todo=("$1")
    for file in /proc/[0-9]*/stat; do
        { read -r stat <"$file"; } 2>/dev/null || continue
        pid=${stat%% *}
        ppid=${stat##*) } # "S PPID ..."
        ppid=${ppid#* }
        children[${ppid%% *}]+=" $pid"
    done
    while ((${#todo[@]} > 0)); do
        pid=${todo[-1]}
        unset 'todo[-1]'
        for pid in ${children[$pid]:-}; do
            found+=("$pid")
            todo+=("$pid")
        done
    done
    echo "${found[*]}"
}

# errors_of TEXT -- TEXT (a run's stderr) without pimc-omp's warnings ("pimc-omp: warning: ..."), which
# may come first (e.g. "2 threads on 1 usable CPUs: oversubscribed"): the lines a test about an
# error message compares.
errors_of() { grep -v '^pimc-omp: warning: ' <<<"$1" || true; }

# json_field KEY < JSON -- KEY's value in a flat JSON object (pimc-omp --json; a checkpoint file): a
# number, true, false or null, or a string, printed as it stands. Read by bash alone where it can be
# (python3 may take a second to start, and the tests read many values); python3's json reads what
# bash cannot (a string with escapes).
json_field() {
    local text=
    read -r -d '' text || true
    if [[ $text =~ \"$1\":\ *(\"([^\"\\]*)\"([,}[:space:]])|(-?[0-9][0-9.eE+-]*|true|false|null)) ]]; then
        echo "${BASH_REMATCH[2]}${BASH_REMATCH[4]}"
    else
        python3 -c 'import json,sys; v=json.loads(sys.argv[2])[sys.argv[1]]; print("null" if v is None else v)' "$1" "$text"
    fi
}
