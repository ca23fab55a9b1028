#!/bin/bash
# scaling-report.sh -- the last job of slurm/scaling.sh: the scaling table and figure of its CSV.
#
#   sbatch --dependency=afterany:JOB:JOB... slurm/scaling-report.sh CSV BENCH_DIR "CORES"
#
# slurm/scaling.sh submits it; it is not meant to be submitted by hand. CSV is the file the jobs
# appended to, BENCH_DIR the checkout's bench/ directory (bench/table and bench/plot), CORES the core
# counts that were submitted. Prints which core counts have a complete row, then `bench/table CSV`,
# then draws the figure with `bench/plot CSV` (SVG and PNG next to the CSV). Needs python3 and, for
# the figure, gnuplot on the compute node: PIMC_MODULES (see slurm/pimc.sh) is loaded first.
#
# Exit status: 0 table printed and every core count has a complete row; 1 otherwise; 2 bad usage.
#
#SBATCH --job-name=pimc-scaling
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --time=00:10:00
#SBATCH --output=slurm-%j.out

set -uo pipefail

if [[ $# -ne 3 ]]; then
    printf 'usage: sbatch --dependency=afterany:JOB... %s CSV BENCH_DIR "CORES" (slurm/scaling.sh does it)\n' \
        "${0##*/}" >&2
    exit 2
fi
csv=$1 bench_dir=$2
read -ra cores <<<"$3"
# A checkout's bench/table and bench/plot, or, installed by meson, BENCH_DIR is PREFIX/bin with them
# as pimc-omp-table and pimc-omp-plot.
table=$bench_dir/table plot=$bench_dir/plot
[[ -x $table || ! -x $bench_dir/pimc-omp-table ]] || table=$bench_dir/pimc-omp-table plot=$bench_dir/pimc-omp-plot

if [[ -n ${PIMC_MODULES:-} ]] && type module >/dev/null 2>&1; then
    read -ra modules <<<"$PIMC_MODULES"
    set +u # module implementations read unset variables
    module load "${modules[@]}" || printf 'scaling-report.sh: warning: module load %s failed\n' "${modules[*]}"
    set -u
fi

printf '== scaling report: job %s, %s\n' "${SLURM_JOB_ID:-(no job)}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf 'csv         %s\n' "$csv"
printf 'core counts %s\n' "${cores[*]}"
if [[ ! -s $csv ]]; then
    printf 'scaling-report.sh: %s is missing or empty: no job wrote a row (see their slurm-JOBID.out)\n' "$csv"
    exit 1
fi

# Rows per core count; Python's csv module, since quoted fields (a CPU model with a comma) defeat awk.
count_rows() { # CSV CORES... -> "CORES COMPLETE PARTIAL" lines
    python3 - "$@" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
for c in sys.argv[2:]:
    mine = [r for r in rows if r.get("threads") == c]
    print(c, sum(r.get("status") == "complete" for r in mine), sum(r.get("status") == "partial" for r in mine))
EOF
}
status=0
missing=()
if counts=$(count_rows "$csv" "${cores[@]}"); then
    while read -r c complete partial; do
        printf '  %3d CPUs: %d complete, %d partial row(s)\n' "$c" "$complete" "$partial"
        ((complete > 0)) || missing+=("$c")
    done <<<"$counts"
else
    printf 'scaling-report.sh: cannot read %s with python3\n' "$csv"
    status=1
fi
if ((${#missing[@]} > 0)); then
    printf 'scaling-report.sh: no complete row for %s CPUs (job failed or hit its time limit?)\n' "${missing[*]}"
    status=1
fi

printf '\n== table (bench/table %s)\n' "$csv"
if [[ -x $table ]]; then
    "$table" "$csv" || { printf 'scaling-report.sh: bench/table failed\n'; status=1; }
else
    printf 'scaling-report.sh: note: no %s/table (the table tool is not in this checkout); no table printed\n' \
        "$bench_dir"
    status=1
fi

printf '\n== figure (bench/plot %s)\n' "$csv"
if [[ -x $plot ]]; then
    "$plot" "$csv" ||
        printf 'scaling-report.sh: bench/plot failed (gnuplot missing on this node? load it with PIMC_MODULES)\n'

else
    printf 'scaling-report.sh: note: no %s/plot (the figure tool is not in this checkout); no figure drawn\n' "$bench_dir"
fi
exit "$status"
