#!/usr/bin/env bats
# The README's order on a machine where build/ was configured before MPI was there (bench/run on a fresh
# machine, then tests/run): tests/run must configure the directory again and run the MPI and Slurm suites,
# not SKIP them. MPI is hidden from a first configure as a fresh machine hides it: a PKG_CONFIG_LIBDIR
# without the MPI .pc files and a PATH without mpicc (../shared/notes/fresh-machines-and-faults.md).
# TOP: the source tree. Root and Open MPI's development files are needed (tests/run installs them as root).

setup_file() {
    [[ $EUID -eq 0 ]] || skip "tests/run installs and tests MPI as root only"
    pkg-config --exists ompi-c || skip "no Open MPI development files (scripts/ensure-deps test installs them as root)"
}

setup() {
    scratch=$(mktemp -d)
    mkdir "$scratch/pkgconfig" "$scratch/bin"
    local dir pc name
    for dir in $(pkg-config --variable pc_path pkg-config | tr : ' '); do
        for pc in "$dir"/*.pc; do
            name=${pc##*/}
            # (*mpi* covers ompi-c and mpich too)
            case $name in *mpi* | *orte* | *pmix*) ;; *) [[ -e $pc ]] && ln -sf "$pc" "$scratch/pkgconfig/" ;; esac
        done
    done
    for name in /usr/bin/*; do
        case ${name##*/} in *mpi* | *orte* | *hydra*) ;; *) ln -sf "$name" "$scratch/bin/" ;; esac
    done
}

teardown() {
    rm -rf "$scratch"
}

@test "tests/run on a build/ configured while MPI was hidden configures it again and runs the MPI suite"  {
    run env PKG_CONFIG_LIBDIR="$scratch/pkgconfig" PATH="$scratch/bin" meson setup "$scratch/build" "$TOP"
    echo "$output" | tail -5
    [[ $status -eq 0 ]]
    [[ $output == *"Run-time dependency MPI for c found: NO"* ]]

    # The README's command, on that directory; the MPICH pass is tests/run's own concern, not this one.
    run env BUILDDIR="$scratch/build" PIMC_TEST_MPICH=0 "$TOP/tests/run" mpi
    echo "$output" | tail -15
    [[ $status -eq 0 ]]
    [[ $output == *"configuring it again"* ]]
    "$scratch/build/pimc-omp" --version | grep -E '^MPI: Open MPI '
    # The MPI suite ran (OK), rather than being skipped.
    grep -E '^\{"name": "pimc-omp:cli / mpi",.*"result": "OK"' "$scratch/build/meson-logs/testlog.json"

    # The Slurm suites' gate now lets them run: it refuses a binary without MPI.
    printf '@test "gate" { true; }\n' >"$scratch/gate.bats"
    run env PIMC="$scratch/build/pimc-omp" PIMC_SLURM_REQUIRED=1 "$TOP/tests/slurm/suite" "$scratch/gate.bats" mpi
    echo "$output"
    [[ $status -eq 0 ]]
    [[ $output == *"ok 1 gate"* ]]

    # Nothing changed since: no second configure.
    run env BUILDDIR="$scratch/build" PIMC_TEST_MPICH=0 "$TOP/tests/run" --list
    [[ $status -eq 0 ]]
    [[ $output != *"configuring it again"* ]]
}
