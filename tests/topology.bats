#!/usr/bin/env bats
# The node's topology end to end, on nodes this machine is not: hwloc reads HWLOC_SYNTHETIC or
# HWLOC_XMLFILE in place of the machine (every CPU of such a node counts as usable, and the threads'
# affinity masks are read by CPU number on it). One SMT core, a 2-package SMT node numbered two
# ways, a 256-CPU node, an XML node. The threads are pinned with OMP_PLACES to this machine's own
# usable CPUs (whatever their numbers), and the emulated node is numbered so that those CPUs are
# SMT siblings, or two cores.
# Run: PIMC=build/pimc-omp bats --tap tests/topology.bats

bats_require_minimum_version 1.5.0

setup() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    TMP=$(mktemp -d)
    unset HWLOC_SYNTHETIC HWLOC_XMLFILE OMP_PLACES OMP_PROC_BIND OMP_SCHEDULE PIMC_HIDE_KERNELS
    export OMP_NUM_THREADS=2
    "$PIMC" --version | grep -q '^host: .*(built without hwloc)' && skip "this pimc-omp was built without hwloc"
    # This process's usable CPUs, by number: the first two (one when there is only one).
    read -r -a CPUS <<< "$(cpus_of "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)")"
}

teardown() {
    rm -rf "$TMP"
}

cpus_of() { # "0-3,8" -> "0 1 2 3 8", the first two only
    local list=$1 out=() part
    IFS=, read -r -a parts <<< "$list"
    for part in "${parts[@]}"; do
        for cpu in $(seq "${part%-*}" "${part#*-}"); do
            out+=("$cpu")
            [ "${#out[@]}" -lt 2 ] || break 2
        done
    done
    echo "${out[@]}"
}

# A synthetic node of PACKAGES x CORES x 2 hardware threads (one NUMA node a package) whose CPUs,
# in hwloc's order (a core's two hardware threads next to each other), start with the numbers
# given, then the others up to the node's size: "siblings A B" or "apart A B".
node() { # packages cores-per-package how A [B]
    local packages=$1 cores=$2 how=$3 a=$4 b=${5:-} size order=() rest=() i
    size=$((packages * cores * 2))
    for ((i = 0; i < size + 2; i++)); do
        [ "$i" = "$a" ] || [ "$i" = "$b" ] || rest+=("$i")
    done
    if [ -z "$b" ]; then
        order=("$a" "${rest[@]}")
    elif [ "$how" = siblings ]; then
        order=("$a" "$b" "${rest[@]}")
    else
        order=("$a" "${rest[0]}" "$b" "${rest[@]:1}")
    fi
    local IFS=,
    echo "pack:$packages numa:1 core:$cores pu:2(indexes=${order[*]:0:$size})"
}

json_field() {
    python3 -c 'import json, sys; v = json.load(sys.stdin)[sys.argv[1]]; print(v)' "$1"
}

@test "--version's host line names the cores, hardware threads, packages and NUMA nodes" {
    run -0 "$PIMC" --version
    [[ $output =~ host:\ .*\;\ [0-9]+\ cores?\ x\ [0-9]+\ hardware\ threads?\ \([0-9]+\ CPUs?\),\ [0-9]+\ packages?,\ [0-9]+\ NUMA\ nodes? ]]
    [[ $output != *emulated* ]]
    HWLOC_SYNTHETIC="core:1 pu:2" run -0 "$PIMC" --version
    [[ $output == *"; 1 core x 2 hardware threads (2 CPUs), 1 package, 1 NUMA node; emulated: HWLOC_SYNTHETIC=core:1 pu:2"* ]]
    HWLOC_SYNTHETIC="pack:2 numa:2 core:32 pu:2" run -0 "$PIMC" --version
    [[ $output == *"; 128 cores x 2 hardware threads (256 CPUs), 2 packages, 4 NUMA nodes; emulated"* ]]
}

@test "one SMT core: the row's topology columns; --sweep pow2 goes to the core, then marks the hardware threads" {
    HWLOC_SYNTHETIC="core:1 pu:2" run --separate-stderr -0 "$PIMC" --sweep pow2 --repeat 1 --csv "$TMP/smt.csv" 1e5
    echo "$output"
    [[ ${lines[2]} == "CPU cores  threads  run time [s]"* ]]
    [[ ${lines[3]} =~ ^1\ +1\  ]]
    [[ ${lines[4]} =~ ^1\ +2\ .*hw\ threads ]]
    python3 - "$TMP/smt.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [r["threads"] for r in rows] == ["1", "2"], [r["threads"] for r in rows]
for r in rows:
    assert (r["cores"], r["hw_threads_per_core"], r["packages"], r["numa_nodes"]) == ("1", "2", "1", "1"), r
    assert (r["cores_used"], r["smt_shared"]) == ("1", "0"), r  # no core is free: SMT, not flagged
PY
    run -0 "$ROOT/bench/table" "$TMP/smt.csv"
    [[ $output == *"CPU cores  threads"* ]]
    [[ $output == *"hw threads"* ]]
}

@test "a 2-package SMT node: threads on one core's siblings are flagged in the report, the row and a warning" {
    local a=${CPUS[0]} b=${CPUS[1]:-${CPUS[0]}}
    export OMP_PROC_BIND=close OMP_PLACES="{$a},{$b}"
    HWLOC_SYNTHETIC=$(node 2 4 siblings "$a" "${CPUS[1]:-}") run --separate-stderr -0 "$PIMC" -t 2 --no-serial \
        --csv "$TMP/node.csv" 1e6
    [[ $output == *"topology      8 cores x 2 hardware threads (16 CPUs), 2 packages, 2 NUMA nodes; emulated"* ]]
    [[ $output == *"placement     2 threads on 1 core while 7 cores are free: SMT-SHARED"* ]]
    [[ $stderr == *"warning: SMT-SHARED: 2 threads on 1 core while 7 cores are free"*"OMP_PLACES=cores"* ]]
    python3 - "$TMP/node.csv" <<'PY'
import csv, sys
(r,) = csv.DictReader(open(sys.argv[1]))
assert (r["cores"], r["hw_threads_per_core"], r["packages"], r["numa_nodes"]) == ("8", "2", "2", "2"), r
assert (r["cores_used"], r["smt_shared"]) == ("1", "1"), r
PY
}

@test "a 2-package SMT node numbered as Linux does: the same two CPUs are two cores, not flagged" {
    [ "${#CPUS[@]}" -ge 2 ] || skip "one usable CPU: two threads cannot be on two cores"
    export OMP_PROC_BIND=close OMP_PLACES="{${CPUS[0]}},{${CPUS[1]}}"
    HWLOC_SYNTHETIC=$(node 2 4 apart "${CPUS[0]}" "${CPUS[1]}") run --separate-stderr -0 "$PIMC" -t 2 --no-serial \
        --json 1e6
    [ "$(json_field cores_used <<< "$output")" = 2 ]
    [ "$(json_field smt_shared <<< "$output")" = 0 ]
    [[ $stderr != *SMT-SHARED* ]]
}

@test "a 256-CPU node: the row's columns, and a sweep's CPU cores are cores" {
    local a=${CPUS[0]} b=${CPUS[1]:-${CPUS[0]}} used=2 shared=0
    [ "$a" != "$b" ] || used=1 shared=1 # one usable CPU: both threads on it
    export OMP_PROC_BIND=close OMP_PLACES="{$a},{$b}" HWLOC_SYNTHETIC
    HWLOC_SYNTHETIC=$(node 2 64 apart "$a" "${CPUS[1]:-}")
    run --separate-stderr -0 "$PIMC" -t 2 --no-serial --json 1e6
    for pair in cores=128 hw_threads_per_core=2 packages=2 numa_nodes=2 cores_used=$used smt_shared=$shared; do
        [ "$(json_field "${pair%=*}" <<< "$output")" = "${pair#*=}" ] || { echo "$pair: $output"; false; }
    done
    [ "$used" = 2 ] || skip "one usable CPU: no sweep over two cores"
    run --separate-stderr -0 "$PIMC" --sweep 1,2 --repeat 1 1e5
    [[ ${lines[2]} == "CPU cores  run time [s]"* ]] # cores = threads: no threads column
    [[ ${lines[4]} =~ ^2\  ]]
}

@test "an XML topology (HWLOC_XMLFILE): the node it describes" {
    HWLOC_XMLFILE="$ROOT/tests/fixtures/two-package-smt.xml" run --separate-stderr -0 "$PIMC" -t 1 --no-serial 1e5
    [[ $output == *"topology      8 cores x 2 hardware threads (16 CPUs), 2 packages, 2 NUMA nodes; emulated: HWLOC_XMLFILE="* ]]
}

@test "older CSV files, without the topology columns, still make tables: CPU cores are their threads" {
    run -0 "$ROOT/bench/table" "$ROOT/tests/fixtures/strong.csv"
    [[ $output == *"CPU cores  run time [s]"* ]]
    [[ $output != *"threads  run time"* ]]
}
