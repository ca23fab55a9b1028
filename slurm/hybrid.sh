#!/bin/bash
# hybrid.sh -- PLACEHOLDER, not implemented: multi-node MPI + OpenMP runs of pimc-omp (srun -N NODES
# --ntasks-per-node R --cpus-per-task T, one MPI rank per task, T OpenMP threads per rank) come with
# the MPI issue, together with the MPI build of pimc-omp. Until then this script runs nothing: it says
# so and exits 2, as a job (sbatch slurm/hybrid.sh) or on its own, so no one mistakes it for a result.
# For one node now: slurm/pimc.sh (one run), slurm/scaling.sh or slurm/sweep.sh (scaling).
printf '%s\n' 'hybrid MPI + OpenMP lands with the MPI issue; see README' >&2
exit 2
