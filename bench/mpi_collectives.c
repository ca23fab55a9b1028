/* The cost of the collectives a pimc-omp run makes, on whatever network the
 * ranks have (on the test machine: TCP over loopback, as in the emulated
 * cluster). Each timed run of pimc-omp is one MPI_Barrier before the clock
 * starts and three 8-byte MPI_Allreduce after the throws (the slowest rank's
 * time, the throws, the hits), so these two are timed here, each as the median
 * over REPEATS rounds of one call, every rank lined up by a barrier first.
 *
 *   mpirun -np P bench-mpi-collectives [REPEATS]
 * prints on rank 0: "ranks P barrier_us B allreduce_us A" (medians, microseconds). */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The slowest rank's time of each round, then their median. */
static double median_us(double *t, int n)
{
    MPI_Allreduce(MPI_IN_PLACE, t, n, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    qsort(t, (size_t)n, sizeof *t, compare);
    return 1e6 * (n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, ranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    const int repeats = argc > 1 ? atoi(argv[1]) : 2000;
    if (repeats < 1) {
        if (rank == 0)
            fprintf(stderr, "bench-mpi-collectives: REPEATS '%s' is not a positive count\n", argv[1]);
        MPI_Finalize();
        return 2;
    }
    double *barrier = calloc((size_t)repeats, sizeof *barrier);
    double *allreduce = calloc((size_t)repeats, sizeof *allreduce);
    uint64_t value = (uint64_t)rank, sum = 0;
    for (int warm = 0; warm < 100; warm++) /* connections are made on first use */
        MPI_Allreduce(&value, &sum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    for (int r = 0; r < repeats; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double start = MPI_Wtime();
        MPI_Barrier(MPI_COMM_WORLD);
        barrier[r] = MPI_Wtime() - start;
        MPI_Barrier(MPI_COMM_WORLD);
        start = MPI_Wtime();
        MPI_Allreduce(&value, &sum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
        allreduce[r] = MPI_Wtime() - start;
    }
    const double b = median_us(barrier, repeats), a = median_us(allreduce, repeats);
    if (rank == 0)
        printf("ranks %d barrier_us %.2f allreduce_us %.2f\n", ranks, b, a);
    free(barrier);
    free(allreduce);
    MPI_Finalize();
    return sum == (uint64_t)ranks * (uint64_t)(ranks - 1) / 2 ? 0 : 1;
}
