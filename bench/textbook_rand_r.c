/* textbook_rand_r.c -- the OpenMP Monte Carlo pi program HPC courses show,
 * kept here as the baseline pimc-omp's speed is measured against.
 *
 *     textbook-rand-r THROWS          (threads: OMP_NUM_THREADS, as usual)
 *
 * Prints one JSON line: throws, threads, hits, pi, seconds, throws_per_s.
 *
 * What it is: every thread seeds its own rand_r() state from its thread number
 * and throws its share of darts (x, y) uniform in [0,1], counting
 * x*x + y*y <= 1.0; a reduction adds the counts. This is the usual fix for the
 * shared rand() that serializes threads, and the form students are taught.
 *
 * To make it a fair baseline, not a strawman, it avoids the usual bugs:
 *   - the hit counter is 64-bit (an int overflows past ~2.1e9 throws);
 *   - the per-thread counts live in registers and meet in a reduction, so no
 *     false sharing;
 *   - it is compiled with the project's flags (release, -O2 or -O3).
 * It keeps the textbook's statistical weakness on purpose -- rand_r's state is
 * one 32-bit word and the result depends on the thread count -- since that is
 * not what is timed here.
 *
 * Timing: omp_get_wtime() around the parallel region only (not the argument
 * parsing nor the printing), like pimc-omp's parallel_s.
 */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: textbook-rand-r THROWS   (threads from OMP_NUM_THREADS)\n");
        return 2;
    }
    /* strtod accepts 2e8 as well as 200000000; the count must be a whole number. */
    char *end;
    errno = 0;
    const double requested = strtod(argv[1], &end);
    if (errno != 0 || end == argv[1] || *end != '\0' || !(requested >= 1) || requested > 0x1p63 ||
        requested != floor(requested)) {
        fprintf(stderr, "textbook-rand-r: bad THROWS '%s': a whole number from 1 to 2^63, e.g. 2e8\n", argv[1]);
        return 2;
    }
    const int64_t throws = (int64_t)requested;

    int64_t hits = 0;
    int threads = 1;
    const double start = omp_get_wtime();
#pragma omp parallel reduction(+ : hits)
    {
        unsigned int seed = 1234u + (unsigned int)omp_get_thread_num();
#pragma omp single
        threads = omp_get_num_threads();
#pragma omp for schedule(static)
        for (int64_t i = 0; i < throws; i++) {
            const double x = (double)rand_r(&seed) / RAND_MAX;
            const double y = (double)rand_r(&seed) / RAND_MAX;
            if (x * x + y * y <= 1.0)
                hits++;
        }
    }
    const double seconds = omp_get_wtime() - start;

    const double pi = 4.0 * (double)hits / (double)throws;
    printf("{\"throws\": %" PRId64 ", \"threads\": %d, \"hits\": %" PRId64 ", \"pi\": %.10f, "
           "\"seconds\": %.9f, \"throws_per_s\": %.6e}\n",
           throws, threads, hits, pi, seconds, seconds > 0 ? (double)throws / seconds : 0.0);
    return 0;
}
