/*
 * The throw kernel: darts from one of two counter-based generators, the integer
 * hit test, the SIMD paths and the OpenMP loop that spreads blocks of throws
 * over threads.
 *
 * The stream of a seed and a generator: throw i (0-based) takes block j = i/2
 * of the generator, an even i its output words 0 and 1 as (x, y), an odd i
 * words 2 and 3. The throw hits iff x^2 + y^2 < 2^64, computed exactly in
 * integers. The block is
 *   philox4x32-10 (philox.h, the default): Philox4x32-10 with counter
 *     (j mod 2^32, j / 2^32, 0, 0) and key (seed mod 2^32, seed / 2^32);
 *   ars4x32-5 (ars.h): ARS-5 with counter (j mod 2^32, j / 2^32, 0, 0) and
 *     key (seed mod 2^32, seed / 2^32, 0, 0).
 * Hit counts are sums over throws, so they are the same for any split of the
 * throws: thread count, schedule, block size and kernel path change the time,
 * never the hits. The two generators are two different streams.
 */
#ifndef PIMC_KERNEL_H
#define PIMC_KERNEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* The generator. PHILOX is 0, so a job that names none keeps the default stream. */
enum pimc_rng {
    PIMC_RNG_PHILOX,
    PIMC_RNG_ARS,
};
#define PIMC_RNG_COUNT 2

/* The generator's full name, which is also the stream's version: "philox4x32-10"
 * or "ars4x32-5" (the rng column of CSV and JSON, checkpoints). */
const char *pimc_rng_name(enum pimc_rng rng);

/* Its short name, as --rng takes it: "philox" or "ars". */
const char *pimc_rng_option(enum pimc_rng rng);

/* Either name; false when text is none of them. */
bool pimc_rng_from_name(const char *text, enum pimc_rng *rng);

/* Kernel paths, named for the instructions they need. One name per width serves
 * both generators:
 *   scalar  portable C (Philox's multiplies; ARS's AES rounds by table lookup)
 *   aesni   ARS only: AES-NI, 1 block per xmm
 *   neon    ARS only: Armv8 AES instructions (64-bit Arm), 1 block per NEON register
 *   avx2    Philox: AVX2, 4 blocks per ymm; ARS: VAES + AVX2, 2 blocks per ymm
 *   avx512  Philox: AVX-512F, 8 blocks per zmm; ARS: VAES + AVX-512F, 4 per zmm */
enum pimc_kernel {
    PIMC_KERNEL_AUTO,
    PIMC_KERNEL_SCALAR,
    PIMC_KERNEL_AESNI,
    PIMC_KERNEL_NEON,
    PIMC_KERNEL_AVX2,
    PIMC_KERNEL_AVX512,
};
#define PIMC_KERNEL_COUNT 6

/* "auto", "scalar", "aesni", "neon", "avx2", "avx512". */
const char *pimc_kernel_name(enum pimc_kernel kernel);

/* False when name is none of the names above. */
bool pimc_kernel_from_name(const char *name, enum pimc_kernel *kernel);

/* Whether this build has the generator's path and this CPU and OS can run it.
 * AUTO is always available. */
bool pimc_kernel_available_for(enum pimc_rng rng, enum pimc_kernel kernel);

/* The same for the default generator, Philox. */
bool pimc_kernel_available(enum pimc_kernel kernel);

/* Whether this CPU has the instructions of the generator's path, whether or
 * not this build has the path: what tells one CPU from another. Paths hidden
 * by PIMC_HIDE_KERNELS count as missing, as that makes the CPU look older. */
bool pimc_cpu_can_run(enum pimc_rng rng, enum pimc_kernel kernel);

/* Makes the paths in the mask (bit 1 << kernel) unavailable, as if the CPU lacked
 * them: lets one machine test the choice an older CPU would get. */
void pimc_kernel_hide(unsigned mask);

/* AUTO becomes the generator's fastest available path; any other kernel is
 * returned as is. */
enum pimc_kernel pimc_kernel_resolve_for(enum pimc_rng rng, enum pimc_kernel kernel);

/* The same for the default generator, Philox. */
enum pimc_kernel pimc_kernel_resolve(enum pimc_kernel kernel);

/* Hits among throws [first_throw, first_throw + count) of the seed's stream, on
 * one thread with the given (available, non-AUTO) path. */
uint64_t pimc_count_hits(enum pimc_rng rng, enum pimc_kernel kernel, uint64_t seed, uint64_t first_throw,
                         uint64_t count);

struct pimc_throw_job {
    enum pimc_rng rng;       /* 0: Philox */
    enum pimc_kernel kernel; /* available for rng, and not AUTO */
    uint64_t seed;
    uint64_t first_throw;
    uint64_t throws;
    int threads;
    const atomic_bool *stop;           /* when set, blocks not yet begun are skipped; may be NULL */
    atomic_uint_fast64_t *throws_done; /* advanced after each block, for progress; may be NULL */
};

struct pimc_tally {
    /* All the job's throws; when stopped, the longest run of them from
     * first_throw that was made whole (throws past a gap are not counted):
     * throws [first_throw, first_throw + throws) of the stream, so that a run
     * of just those gives the same hits. */
    uint64_t throws;
    uint64_t hits; /* of those throws */
};

/* Throws the job's darts in blocks of pimc_block_throws(throws), spread over
 * job->threads threads by the OpenMP runtime schedule (dynamic,1 unless
 * OMP_SCHEDULE says otherwise). */
struct pimc_tally pimc_throw_parallel(const struct pimc_throw_job *job);

/* Throws per block for a run of this many throws: large enough that the per-block
 * cost (a dynamic-schedule claim, a stop check) is lost in the noise, small enough
 * that a run of 1e5 throws still gives every thread work and a stop request is
 * honoured within a millisecond. Depends on the throws only, never on threads. */
uint64_t pimc_block_throws(uint64_t throws);

/* Starts a team of this many threads so that the first timed run does not pay
 * for creating it. Returns the size the runtime gave the team: smaller than asked
 * under OMP_DYNAMIC=true or OMP_THREAD_LIMIT. */
int pimc_start_team(int threads);

/* The OpenMP runtime in use, e.g. "libgomp" or "LLVM libomp", and the OpenMP
 * version the compiler implements, e.g. "4.5". */
const char *pimc_openmp_runtime(void);
const char *pimc_openmp_version(void);

#endif
