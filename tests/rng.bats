#!/usr/bin/env bats
# The generator choice end to end: --rng ars gives the documented ARS-5 stream
# on every path, thread count and schedule, records its name in CSV and JSON,
# and bad combinations are refused before any work. PIMC is the binary under test.

bats_require_minimum_version 1.5.0

load machine

setup() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    TMP=$(mktemp -d)
    export OMP_NUM_THREADS=$THREADS
    unset PIMC_HIDE_KERNELS OMP_SCHEDULE
}

teardown() {
    rm -rf "$TMP"
}


ars_kernels() { # the ARS paths this CPU has, from --version
    "$PIMC" --version | sed -n 's/^kernels (--rng ars): \([^(]*\)(.*/\1/p'
}

@test "--rng ars: hits equal an independent Python implementation of the ARS-5 stream" {
    for case in "20001 12345" "4097 18446744073709551615" "1 1"; do
        read -r throws seed <<< "$case"
        want=$(python3 "$BATS_TEST_DIRNAME/reference.py" --rng ars "$throws" "$seed")
        got=$("$PIMC" --rng ars -t 3 --seed "$seed" --json "$throws" 2>/dev/null | json_field hits)
        [ "$got" = "$want" ] || { echo "throws $throws seed $seed: pimc-omp $got, Python $want"; false; }
    done
}

@test "--rng ars: every path, 1 to 3 threads and three schedules give the same hits" {
    kernels=$(ars_kernels)
    [[ $kernels == *scalar* ]]
    want=$("$PIMC" --rng ars --kernel scalar -t 1 --no-serial --json 3000017 | json_field hits)
    for kernel in $kernels; do
        for threads in 1 2 3; do
            got=$("$PIMC" --rng ars --kernel "$kernel" -t "$threads" --no-serial --json 3000017 2>/dev/null |
                json_field hits)
            [ "$got" = "$want" ] || { echo "$kernel, $threads threads: $got, scalar 1 thread: $want"; false; }
        done
    done
    for schedule in static static,5 guided; do
        got=$(OMP_SCHEDULE=$schedule "$PIMC" --rng ars -t 3 --no-serial --json 3000017 2>/dev/null | json_field hits)
        [ "$got" = "$want" ] || { echo "OMP_SCHEDULE=$schedule: $got, want $want"; false; }
    done
    # A different stream from Philox's (the same seed and throws).
    philox=$("$PIMC" -t "$THREADS" --no-serial --json 3000017 | json_field hits)
    [ "$philox" != "$want" ]
}

@test "the rng column: philox4x32-10 by default, ars4x32-5 with --rng ars, in single runs and studies" {
    "$PIMC" -q --no-serial --csv "$TMP/runs.csv" 1e5
    "$PIMC" -q --rng ars --no-serial --csv "$TMP/runs.csv" 1e5
    "$PIMC" -q --rng ars --sweep 1,2 --repeat 1 --csv "$TMP/runs.csv" 1e5
    python3 - "$TMP/runs.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [r["rng"] for r in rows][:2] == ["philox4x32-10", "ars4x32-5"], rows
assert rows[2:] and all(r["rng"] == "ars4x32-5" for r in rows[2:]), rows
PY
    [ "$("$PIMC" --rng ars --json 1e5 | json_field rng)" = ars4x32-5 ]
    [ "$("$PIMC" --json 1e5 | json_field rng)" = philox4x32-10 ]
    run --separate-stderr -0 "$PIMC" --rng ars 1e5
    [[ ${lines[0]} == *"ars4x32-5 stream"* ]]
}

@test "ARS dispatch falls back: without the vector paths to aesni (or scalar), then to scalar" {
    [ "$(PIMC_HIDE_KERNELS=avx512,avx2,aesni "$PIMC" --rng ars --json 1e5 | json_field kernel)" = scalar ]
    if [[ $(ars_kernels) == *aesni* ]]; then
        [ "$(PIMC_HIDE_KERNELS=avx512,avx2 "$PIMC" --rng ars --json 1e5 | json_field kernel)" = aesni ]
    fi
    run --separate-stderr -2 env PIMC_HIDE_KERNELS=aesni "$PIMC" --rng ars --kernel aesni 1e5
    [[ $stderr == *"--kernel aesni is not available"* ]]
}

@test "bad generator choices are refused before any work, with a one-line message" {
    run --separate-stderr -2 "$PIMC" --rng mt19937 1e5
    [ "$(errors_of "$stderr")" = "pimc-omp: --rng 'mt19937' is not a generator; use philox or ars" ]
    run --separate-stderr -2 "$PIMC" --kernel aesni 1e5
    [[ $(errors_of "$stderr") == "pimc-omp: --kernel aesni is a path of the ARS generator only; add --rng ars"* ]]
    run --separate-stderr -2 "$PIMC" --kernel neon 1e5
    [[ $(errors_of "$stderr") == "pimc-omp: --kernel neon is a path of the ARS generator only; add --rng ars"* ]]
    run --separate-stderr -2 "$PIMC" --rng 1e5
    [[ $stderr == *"option '--rng' needs a value"* ]] || [[ $stderr == *"is not a generator"* ]]
}

@test "--help documents the ARS stream, --version names each generator's paths" {
    run -0 "$PIMC" --help
    [[ $output == *"--rng G"* ]]
    [[ $output == *"ars4x32_R(5, counter, key)"* ]]
    run -0 "$PIMC" --version
    [[ $output == *"kernels: scalar"*"philox4x32-10)"* ]]
    [[ $output == *"kernels (--rng ars): scalar"*"ars4x32-5)"* ]]
}

@test "--rng ars across MPI ranks: 1x1, 2x1 and 3x2 ranks x threads give one process's hits" {
    # The launcher of the binary's MPI library, as tests/mpi.bats picks it.
    library=$("$PIMC" --version | sed -n 's/^MPI: //p')
    case $library in
    none*) skip "this pimc-omp was built without MPI" ;;
    "Open MPI "*)
        launcher=$(command -v mpirun.openmpi || command -v mpirun) || skip "mpirun (openmpi-bin) not installed"
        export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # CI runs as root
        mpirun=("$launcher" --oversubscribe --bind-to none)
        ;;
    "MPICH "*)
        launcher=$(command -v mpiexec.mpich || command -v mpiexec.hydra) || skip "mpiexec.mpich (mpich) not installed"
        mpirun=("$launcher" -bind-to none)
        ;;
    *) skip "no launcher known for MPI library '$library'" ;;
    esac
    unset OMP_NUM_THREADS
    want=$("$PIMC" --rng ars -t 1 --no-serial --seed 77 --json 20000017 | json_field hits)
    for layout in 1x1 2x1 3x2; do
        ranks=${layout%x*} threads=${layout#*x}
        out=$(timeout 120 "${mpirun[@]}" -np "$ranks" "$PIMC" --rng ars -t "$threads" --seed 77 --json 20000017 \
            2>/dev/null)
        [ "$(json_field hits <<< "$out")" = "$want" ] || { echo "$layout: $out"; false; }
        [ "$(json_field rng <<< "$out")" = ars4x32-5 ]
    done
}

@test "--rng ars under valgrind (no VAES there: the aesni or scalar path) agrees with the native run" {
    command -v valgrind >/dev/null || skip "valgrind not installed"
    ! ldd "$PIMC" | grep -q libasan || skip "a sanitizer build does not run under valgrind"
    want=$("$PIMC" --rng ars -t "$THREADS" --json 100001 | json_field hits)
    out=$(valgrind -q --error-exitcode=99 "$PIMC" --rng ars -t "$THREADS" --json 100001 2>"$TMP/vg")
    [ "$(json_field hits <<< "$out")" = "$want" ] || { cat "$TMP/vg"; false; }
    [[ $(json_field kernel <<< "$out") == @(aesni|scalar) ]]
}
