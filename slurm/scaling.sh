#!/bin/bash
# scaling.sh -- submit the strong-scaling exercise: one slurm/pimc.sh job per core count, all writing
# rows into one CSV, then a report job that prints the scaling table and draws the figure when the
# last of them has ended.
#
#   slurm/scaling.sh [--cores "1 2 4 8 16"] [SBATCH-OPTION...] [--] [THROWS [PIMC-OMP OPTION...]]
#   e.g.  slurm/scaling.sh -A myacct -p standard -t 00:20:00 1e10
#         slurm/scaling.sh --cores "1 2 4 8 16 32 40" -A myacct -p standard 2e10 --repeat 3
#
# Run it on the login node, from the directory you would submit from (not with sbatch): it calls
# sbatch itself. Options before THROWS go to every sbatch (-A ACCOUNT, -p PARTITION, -t TIME, -q QOS,
# any --name=value); the first other word is THROWS, and it and everything after it go to pimc-omp.
# Put `--` before pimc-omp options when giving no THROWS. -c/--cpus-per-task and --dependency are
# set by this script.
#
# Core counts: --cores LIST (or PIMC_CORES), default "1 2 4 8 16"; counts above the largest CPU
# count of the partition's nodes (sinfo; the default partition without -p) are left out, with a note.
# The same throws and seed in every job: pimc-omp's result does not depend on the thread count, so
# the table compares one computation run on different numbers of cores.
#
# Environment (passed on to the jobs; see slurm/pimc.sh for PIMC and PIMC_MODULES):
#   PIMC_CSV    the CSV all jobs append to. Default: results/scaling-YYYYmmdd-HHMMSS.csv, new for
#               each call, so the table holds this experiment's rows only.
#   PIMC_CORES  core counts, as --cores.
#
# The report job (slurm/scaling-report.sh) runs with --dependency=afterany on all the jobs, so it
# also reports when some failed; it calls bench/table and bench/plot of this checkout (SVG and PNG
# next to the CSV).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench_dir=$(cd "$here/.." && pwd)/bench
# Installed by meson (PREFIX/share/pimc-omp/slurm): the tools are PREFIX/bin/pimc-omp-table and -plot.
[[ -d $bench_dir || ! -x $here/../../../bin/pimc-omp-table ]] || bench_dir=$(cd "$here/../../../bin" && pwd)

usage() { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; }
die() { printf 'scaling.sh: %s\n' "$*" >&2; exit 2; }

cores=${PIMC_CORES:-1 2 4 8 16}
partition=
has_output=
sbatch_opts=()
while (($#)); do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --cores) (($# >= 2)) || die "--cores needs a list, e.g. --cores \"1 2 4\""; cores=$2; shift 2 ;;
        --cores=*) cores=${1#*=}; shift ;;
        --) shift; break ;;
        -c | -c* | --cpus-per-task | --cpus-per-task=* | -d | -d* | --dependency | --dependency=*)
            die "$1: scaling.sh sets the CPUs per task and the dependency of each job itself" ;;
        -p | --partition)
            (($# >= 2)) || die "$1 needs a value"
            partition=$2; sbatch_opts+=("$1" "$2"); shift 2 ;;
        -p?*) partition=${1#-p}; sbatch_opts+=("$1"); shift ;;
        --partition=*) partition=${1#*=}; sbatch_opts+=("$1"); shift ;;
        -o | --output) has_output=1; (($# >= 2)) || die "$1 needs a value"; sbatch_opts+=("$1" "$2"); shift 2 ;;
        -o?* | --output=*) has_output=1; sbatch_opts+=("$1"); shift ;;
        # sbatch options whose value is the next word
        -A | -t | -q | -C | -J | -w | -x | -e | -D | -M | -L | \
            --account | --time | --qos | --constraint | --job-name | --nodelist | --exclude | --error | \
            --chdir | --clusters | --licenses | --reservation | --mem | --mem-per-cpu | --mail-type | \
            --mail-user | --comment | --nice | --begin | --gres | --export)
            (($# >= 2)) || die "$1 needs a value"
            sbatch_opts+=("$1" "$2"); shift 2 ;;
        -*) sbatch_opts+=("$1"); shift ;; # -Xvalue, --name=value or a flag such as --exclusive
        *) break ;;
    esac
done
pimc_args=("$@")

read -ra core_list <<<"${cores//,/ }"
((${#core_list[@]} > 0)) || die "no core counts given"
for n in "${core_list[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "core count '$n' is not a positive integer (--cores \"1 2 4 8 16\")"
done

for tool in sbatch sinfo scancel; do
    command -v "$tool" >/dev/null || die "$tool not found: run this on a Slurm login node"
done

# The largest CPU count among the partition's nodes caps the core counts.
if [[ -z $partition ]]; then
    partition=$(sinfo -h -o %P | sed -n 's/\*$//p' | head -n 1)
    [[ -n $partition ]] || die "no default partition (sinfo -o %P shows none marked '*'); give -p PARTITION"
fi
max_cpus=$(sinfo -h -N -p "$partition" -o %c | tr -cd '0-9\n' | sort -n | tail -n 1)
[[ $max_cpus =~ ^[0-9]+$ ]] || die "cannot read the CPUs per node of partition '$partition' (sinfo -N -p $partition -o %c)"
kept=() dropped=()
for n in "${core_list[@]}"; do
    if ((n <= max_cpus)); then kept+=("$n"); else dropped+=("$n"); fi
done
if ((${#dropped[@]} > 0)); then
    printf 'scaling.sh: note: leaving out %s: nodes of partition %s have at most %d CPUs\n' \
        "${dropped[*]}" "$partition" "$max_cpus"
fi
((${#kept[@]} > 0)) || die "no core count fits partition $partition (at most $max_cpus CPUs per node)"

csv=${PIMC_CSV:-results/scaling-$(date +%Y%m%d-%H%M%S).csv}
[[ $csv == /* ]] || csv=$PWD/$csv
mkdir -p -- "$(dirname -- "$csv")"
if [[ -s $csv ]]; then
    printf 'scaling.sh: note: %s already has rows; the table takes the latest row per core count\n' "$csv"
fi
export PIMC_CSV=$csv

ids=()
cancel_submitted() {
    if ((${#ids[@]} > 0)); then
        scancel "${ids[@]}" || true
        printf 'scaling.sh: cancelled the jobs already submitted: %s\n' "${ids[*]}" >&2
    fi
}
submit() { # submit DESCRIPTION SBATCH-ARG... -> job id on stdout
    local what=$1 out
    shift
    if ! out=$(sbatch --parsable "$@"); then
        printf 'scaling.sh: sbatch failed for %s\n' "$what" >&2
        cancel_submitted
        exit 1
    fi
    printf '%s\n' "${out%%;*}"
}

for n in "${kept[@]}"; do
    id=$(submit "$n CPUs" --job-name="pimc-c$n" "${sbatch_opts[@]}" --cpus-per-task="$n" \
        "$here/pimc.sh" "${pimc_args[@]}")
    ids+=("$id")
    printf 'submitted job %s: pimc.sh on %d CPU%s\n' "$id" "$n" "$([[ $n == 1 ]] || echo s)"
done

deps=$(IFS=:; echo "${ids[*]}")
report=$(submit "the report job" --job-name=pimc-scaling "${sbatch_opts[@]}" \
    --ntasks=1 --cpus-per-task=1 --time=00:10:00 --dependency="afterany:$deps" \
    "$here/scaling-report.sh" "$csv" "$bench_dir" "${kept[*]}")
printf 'submitted job %s: report (table and figure) after %s\n' "$report" "$deps"

if [[ -n $has_output ]]; then
    out_note="(its -o file)"
else
    out_note=$PWD/slurm-$report.out
fi
cat <<EOF

csv       $csv
report    $out_note, when job $report ends
figure    ${csv%.csv}.svg and .png (bench/plot)
watch     squeue -u ${USER:-$(id -un)}      (or: squeue -j $(IFS=,; echo "${ids[*]},$report"))
cancel    scancel ${ids[*]} $report
EOF
