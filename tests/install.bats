#!/usr/bin/env bats
# meson install as a site does it (docs/install.md, "Installing at a site"), in the suite "install":
#   - the build under test, installed with --destdir: exactly the files a site gets, with their modes;
#   - a build of this checkout configured with --prefix (a temporary one) and installed there, then
#     used through Debian's Lmod: module use, module load pimc-omp, pimc-omp --version and
#     --self-test, man -w pimc-omp, the job scripts found under $PIMC_OMP_ROOT and run as a job would
#     run them (Slurm's commands stubbed: no Slurm needed), the table tool; then module unload, and
#     PATH, MANPATH and PIMC_OMP_ROOT are as before.
#   - the job scripts of the checkout still take the checkout's build/pimc-omp.
# PIMC is the binary under test, BUILD_ROOT its build directory (both set by tests/meson.build).
# Needs scdoc for the man page and lmod for the module (scripts/ensure-deps test installs both);
# without them those checks are skipped, saying so.

# shellcheck disable=SC2154 # stderr: set by bats' run --separate-stderr
bats_require_minimum_version 1.5.0

setup_file() {
    : "${PIMC:?set PIMC to the pimc-omp binary}" "${BUILD_ROOT:?set BUILD_ROOT to its build directory}"
    export SRC WORK PREFIX MAN_PAGE=disabled
    SRC=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
    WORK=$BATS_FILE_TMPDIR
    PREFIX=$WORK/prefix
    ! command -v scdoc >/dev/null || MAN_PAGE=enabled
    # Only what is installed is built (not the tests): the binary and the man page.
    local targets=(pimc-omp)
    [[ $MAN_PAGE == disabled ]] || targets+=(man-page)
    if ! { meson setup "$WORK/build" "$SRC" --prefix "$PREFIX" -Dmpi=disabled -Dman_page="$MAN_PAGE" &&
        meson compile -C "$WORK/build" "${targets[@]}" && meson install -C "$WORK/build" --no-rebuild; } \
        >"$WORK/install.log" 2>&1; then
        sed 's/^/# /' "$WORK/install.log" >&3
        return 1
    fi
}

setup() {
    # PIMC would be the job scripts' choice of binary: kept as pimc_under_test instead.
    pimc_under_test=$PIMC
    unset PIMC PIMC_HIDE_KERNELS PIMC_OMP_ROOT PIMC_CSV PIMC_CHECKPOINT PIMC_MODULES OMP_NUM_THREADS
    cd "$BATS_TEST_TMPDIR" || return 1
}

# The Lmod init script of Debian's lmod (or of a site's own install): defines `module`.
lmod_init() {
    local init
    for init in /usr/share/lmod/lmod/init/bash /etc/profile.d/lmod.sh "${LMOD_PKG:-/nonexistent}/init/bash"; do
        [[ -f $init ]] && { echo "$init"; return 0; }
    done
    return 1
}

# A colon-separated list without repeated entries (the first of each kept).
unique_entries() {
    tr ':' '\n' <<<"$1" | awk '!seen[$0]++' | paste -sd:
}

# Slurm's commands as a job sees them, in $BATS_TEST_TMPDIR/stubs: scontrol names the submitted
# script (STUB_COMMAND), srun runs its command without its options, squeue gives a time limit,
# sbatch records its arguments and prints a job id, sinfo has one partition of 4 CPUs per node,
# scancel does nothing.
make_slurm_stubs() {
    local stubs=$BATS_TEST_TMPDIR/stubs
    mkdir -p "$stubs"
    cat >"$stubs/scontrol" <<'EOF'
#!/bin/bash
printf '   Command=%s\n' "$STUB_COMMAND"
EOF
    cat >"$stubs/srun" <<'EOF'
#!/bin/bash
while [[ $1 == -* ]]; do shift; done
exec "$@"
EOF
    cat >"$stubs/sbatch" <<EOF
#!/bin/bash
printf '%s\n' "\$*" >>"$BATS_TEST_TMPDIR/sbatch.log"
echo \$((1000 + \$(wc -l <"$BATS_TEST_TMPDIR/sbatch.log")))
EOF
    cat >"$stubs/sinfo" <<'EOF'
#!/bin/bash
case "$*" in *%P*) echo 'debug*' ;; *) echo 4 ;; esac
EOF
    printf '#!/bin/bash\necho 30:00\n' >"$stubs/squeue"
    printf '#!/bin/bash\nexit 0\n' >"$stubs/scancel"
    chmod +x "$stubs"/*
    echo "$stubs"
}

# run_as_job SCRIPT [ARG...] -- SCRIPT as Slurm's copy of it runs: from a spool directory, inside a
# job of 1 CPU, submitted from $BATS_TEST_TMPDIR/submit (no build/ there unless a test puts one).
run_as_job() {
    local stubs script=$1
    stubs=$(make_slurm_stubs)
    mkdir -p submit spool
    cp "$script" spool/job-script
    STUB_COMMAND="$script ${*:2}" SLURM_JOB_ID=4242 SLURM_CPUS_PER_TASK=1 SLURM_SUBMIT_DIR=$BATS_TEST_TMPDIR/submit \
        PATH=$stubs:$PATH run --separate-stderr bash spool/job-script "${@:2}"
}

@test "meson install --destdir: the binary, man page, job scripts, tools and module, and nothing else" {
    meson install -C "$BUILD_ROOT" --no-rebuild --destdir "$BATS_TEST_TMPDIR/dest" >install.log 2>&1 ||
        { cat install.log; false; }
    prefix=$(meson introspect "$BUILD_ROOT" --buildoptions |
        python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
    version=$(meson introspect "$BUILD_ROOT" --projectinfo | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
    root=$BATS_TEST_TMPDIR/dest$prefix
    want="755 bin/pimc-omp
755 bin/pimc-omp-plot
755 bin/pimc-omp-table
644 share/modulefiles/pimc-omp/$version.lua
755 share/pimc-omp/slurm/hybrid.sh
644 share/pimc-omp/slurm/job-common.sh
755 share/pimc-omp/slurm/pimc.sh
755 share/pimc-omp/slurm/scaling-report.sh
755 share/pimc-omp/slurm/scaling.sh
755 share/pimc-omp/slurm/sweep.sh"
    [ ! -f "$BUILD_ROOT/pimc-omp.1" ] || want+=$'\n'"644 share/man/man1/pimc-omp.1"
    got=$(cd "$root" && find . -type f -printf '%m %P\n' | sort)
    [ "$got" = "$(sort <<<"$want")" ] || { diff <(sort <<<"$want") - <<<"$got"; false; }
    # The module names the configured prefix, not the staging directory.
    grep -qxF "local root = \"$prefix\"" "$root/share/modulefiles/pimc-omp/$version.lua"
    run ! grep -rqF "$BATS_TEST_TMPDIR" "$root/share/modulefiles"
}

@test "installed under a prefix: module load pimc-omp; --version, --self-test, man -w, the tools; unload restores PATH" {
    init=$(lmod_init) || skip "no Lmod (apt-get install lmod, or scripts/ensure-deps test)"
    # shellcheck source=/dev/null
    source "$init"
    path_before=$PATH manpath_before=${MANPATH-unset}
    man_before=$(man -w man 2>/dev/null || echo none)
    run ! command -v pimc-omp

    module use "$PREFIX/share/modulefiles"
    run -0 module avail pimc-omp
    [[ $output == *"pimc-omp/"* ]]
    module load pimc-omp
    [ "$(command -v pimc-omp)" = "$PREFIX/bin/pimc-omp" ]
    [ "$PIMC_OMP_ROOT" = "$PREFIX" ]
    run -0 pimc-omp --version
    [[ ${lines[0]} == "pimc-omp "* ]]
    run -0 pimc-omp --self-test
    [[ ${lines[-1]} == "self-test: PASS: "* ]]
    run -0 module whatis pimc-omp
    [[ $output == *"Name: pimc-omp"* && $output == *"Version: "* ]]
    run -0 module help pimc-omp
    [[ $output == *"pimc-omp --self-test"* ]]
    if [[ $MAN_PAGE == enabled ]]; then
        [ "$(man -w pimc-omp)" = "$PREFIX/share/man/man1/pimc-omp.1" ]
        # The system's pages are still found: the module keeps man's own search path in MANPATH.
        [ "$(man -w man 2>/dev/null || echo none)" = "$man_before" ]
        MANWIDTH=100 man pimc-omp 2>/dev/null | grep -q -- '--self-test'
    fi
    run -0 pimc-omp-table "$SRC/tests/fixtures/strong.csv"
    [[ ${lines[0]} == "strong scaling"* ]]
    for script in pimc.sh sweep.sh hybrid.sh scaling.sh scaling-report.sh job-common.sh; do
        [ -f "$PIMC_OMP_ROOT/share/pimc-omp/slurm/$script" ]
        bash -n "$PIMC_OMP_ROOT/share/pimc-omp/slurm/$script"
    done

    module unload pimc-omp
    # Lmod also drops repeated entries of a path it changes: compare without them.
    [ "$(unique_entries "$PATH")" = "$(unique_entries "$path_before")" ] ||
        { echo "PATH before: $path_before"; echo "PATH after:  $PATH"; false; }
    [[ :$PATH: != *":$PREFIX/"* ]]
    [ "${MANPATH-unset}" = "$manpath_before" ]
    [ -z "${PIMC_OMP_ROOT:-}" ]
    run ! command -v pimc-omp
}

@test "an installed job script runs the binary installed with it, from any submit directory, pimc-omp off PATH" {
    run ! command -v pimc-omp
    run_as_job "$PREFIX/share/pimc-omp/slurm/pimc.sh" 1e6
    [ "$status" -eq 0 ] || { echo "$output"; echo "$stderr"; false; }
    [[ $output == *"binary            $PREFIX/bin/pimc-omp"* ]] || { echo "$output"; false; }
    [[ $output == *"== pimc.sh: job 4242: pimc-omp exited with status 0"* ]]
    [ "$(wc -l <submit/results/slurm-runs.csv)" -eq 2 ] # header and the row
}

@test "a copy of the job scripts finds the binary through PIMC_OMP_ROOT (the module's)" {
    mkdir -p copy
    cp "$PREFIX"/share/pimc-omp/slurm/*.sh copy/
    PIMC_OMP_ROOT=$PREFIX run_as_job "$BATS_TEST_TMPDIR/copy/pimc.sh" 1e6
    [ "$status" -eq 0 ] || { echo "$output"; echo "$stderr"; false; }
    [[ $output == *"binary            $PREFIX/bin/pimc-omp"* ]] || { echo "$output"; false; }
    # Nothing to be found at all: the message says where it looked.
    run_as_job "$BATS_TEST_TMPDIR/copy/pimc.sh" 1e6
    [ "$status" -eq 2 ]
    [[ $stderr == *"pimc.sh: no pimc-omp: not in $BATS_TEST_TMPDIR/submit/build/, \$PIMC_OMP_ROOT/bin/ (module load pimc-omp) nor on PATH; set PIMC=/path/to/pimc-omp"* ]]
}

@test "the checkout's job scripts still take the submit directory's build/pimc-omp, module loaded or not" {
    mkdir -p submit/build
    ln -s "$pimc_under_test" submit/build/pimc-omp
    PIMC_OMP_ROOT=$PREFIX run_as_job "$SRC/slurm/pimc.sh" 1e6
    [ "$status" -eq 0 ] || { echo "$output"; echo "$stderr"; false; }
    [[ $output == *"binary            $BATS_TEST_TMPDIR/submit/build/pimc-omp"* ]]
}

@test "the installed scaling.sh hands its report job the installed pimc-omp-table and pimc-omp-plot" {
    stubs=$(make_slurm_stubs)
    PATH=$stubs:$PATH run -0 "$PREFIX/share/pimc-omp/slurm/scaling.sh" --cores "1 2" 1e6
    report=$(grep -F scaling-report.sh sbatch.log)
    [[ $report == *"$PREFIX/share/pimc-omp/slurm/scaling-report.sh "*" $PREFIX/bin 1 2" ]]
    # The report job itself, with those tools, on a CSV of two core counts.
    python3 - "$SRC/tests/fixtures/strong.csv" >two.csv <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
out = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
out.writeheader()
out.writerows(r for r in rows if r["threads"] in ("1", "2"))
EOF
    run -0 --separate-stderr "$PREFIX/share/pimc-omp/slurm/scaling-report.sh" "$PWD/two.csv" "$PREFIX/bin" "1 2"
    [[ $output == *"== table (bench/table $PWD/two.csv)"*"CPU cores  run time [s]  speedup"* ]]
    [[ $output != *"no $PREFIX/bin/table"* ]]
}
