#!/usr/bin/env bats
# pimc-omp --self-test end to end: one line per generator's known answers and per kernel path
# (each path --version lists runs, the others are skipped), PIMC_HIDE_KERNELS narrows it, and
# options that would give it another meaning are refused. That a wrong expected value fails is
# tests/test_selftest.c's (a test build; the binary has no way to corrupt one). PIMC is the binary.

# shellcheck disable=SC2154 # stderr: set by bats' run --separate-stderr
bats_require_minimum_version 1.5.0

setup() {
    : "${PIMC:?set PIMC to the pimc-omp binary}"
    unset PIMC_HIDE_KERNELS OMP_SCHEDULE
    # Threads = min(2, usable CPUs): the same test on a 1-CPU machine.
    threads=$(($(nproc) < 2 ? 1 : 2))
    export OMP_NUM_THREADS=$threads
}

kernels_of() { # rng -> the paths --version lists for it
    "$PIMC" --version | sed -n "s/^kernels${1:+ (--rng $1)}: \([^(]*\)(.*/\1/p"
}

@test "--self-test: every path --version lists passes, the rest are skipped; PASS, exit 0" {
    run -0 "$PIMC" --self-test
    [ "${#lines[@]}" -eq 11 ] # 2 known-answer lines, 3 Philox paths, 5 ARS paths, the verdict
    [[ ${lines[0]} == "philox4x32-10  KAT     ok: 3 of Random123's published known answers" ]]
    for kernel in scalar avx2 avx512; do
        if [[ " $(kernels_of) " == *" $kernel "* ]]; then
            grep -qE "^philox4x32-10 +$kernel +ok: [0-9]+ reference hit counts, " <<<"$output"
        else
            grep -qE "^philox4x32-10 +$kernel +skipped: " <<<"$output"
        fi
    done
    for kernel in scalar aesni neon avx2 avx512; do
        if [[ " $(kernels_of ars) " == *" $kernel "* ]]; then
            grep -qE "^ars4x32-5 +$kernel +ok: " <<<"$output"
        else
            grep -qE "^ars4x32-5 +$kernel +skipped: " <<<"$output"
        fi
    done
    [[ ${lines[10]} =~ ^"self-test: PASS: "[0-9]+" passed, 0 failed, "[0-9]+" skipped, on 1"( and 2 threads| thread)", in "[0-9.]+" s"$ ]]
}

@test "--self-test: PIMC_HIDE_KERNELS skips the hidden paths; -t 1 tests 1 thread only" {
    PIMC_HIDE_KERNELS=avx512,avx2,aesni,neon run -0 "$PIMC" -t 1 --self-test
    [ "$(grep -c ' skipped: ' <<<"$output")" -eq 6 ]
    grep -qE '^philox4x32-10 +scalar +ok: 2 reference hit counts, 10\^6 throws, on 1 thread$' <<<"$output"
    grep -qE '^ars4x32-5 +scalar +ok: ' <<<"$output"
    [[ ${lines[-1]} == "self-test: PASS: 4 passed, 0 failed, 6 skipped, on 1 thread, in "* ]]
}

@test "--self-test with THROWS, --seed, --kernel, --rng, --csv, --json or a study: exit 2, nothing run" {
    cd "$BATS_TEST_TMPDIR"
    for args in "1e6" "--seed 3" "--kernel scalar" "--rng ars" "--csv x.csv" "--json" "--sweep 1,2" "--check x.csv"; do
        # shellcheck disable=SC2086 # the words of args are the options
        run -2 --separate-stderr "$PIMC" --self-test $args
        [ -z "$output" ]
        [[ $stderr == "pimc-omp: --self-test runs its own cases on every path; give it alone, or with --threads N (its largest thread count)" ]]
    done
    [ ! -e x.csv ]
}

@test "--help lists --self-test" {
    run -0 "$PIMC" --help
    [[ $output == *"      --self-test     check this binary on this CPU"* ]]
}
