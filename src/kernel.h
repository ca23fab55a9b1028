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

/* How the loop hands out blocks, in OpenMP's terms (OMP_SCHEDULE's kinds). The
 * zero value is the kernel's own choice, dynamic,1: blocks cost the same, but a
 * shared machine does not give every thread the same CPU time, and dynamic,1
 * lets the faster threads take the slack. chunk is in blocks; 0 is the kind's
 * default. The caller decides (e.g. from OMP_SCHEDULE): the kernel reads no
 * environment and sets no OpenMP state. */
enum pimc_schedule_kind {
    PIMC_SCHEDULE_DEFAULT,
    PIMC_SCHEDULE_STATIC,
    PIMC_SCHEDULE_DYNAMIC,
    PIMC_SCHEDULE_GUIDED,
    PIMC_SCHEDULE_AUTO,
};

struct pimc_schedule {
    enum pimc_schedule_kind kind;
    int chunk;
};

/* OMP_SCHEDULE's form: [monotonic: | nonmonotonic:]kind[,chunk], kind one of
 * static, dynamic, guided, auto, any case, spaces allowed; "" is the default.
 * False when text is not such a schedule. */
bool pimc_schedule_parse(const char *text, struct pimc_schedule *schedule);

struct pimc_throw_job {
    enum pimc_rng rng;       /* 0: Philox */
    enum pimc_kernel kernel; /* available for rng, and not AUTO */
    uint64_t seed;
    uint64_t first_throw;
    uint64_t throws;
    int threads;
    struct pimc_schedule schedule;     /* {0}: dynamic,1 */
    const atomic_bool *stop;           /* when set, blocks not yet begun are skipped; may be NULL */
    atomic_uint_fast64_t *throws_done; /* advanced after each block, for progress; may be NULL */
    /* Tallies per cell of a grid, for a caller that records finished parts of
     * the job (a checkpoint's chunks). 0: none. Else cell c is the throws
     * [k*grid, (k+1)*grid) of the stream, k = first_throw / grid + c, within
     * the job; each block adds the hits and throws it made in each cell it
     * touches, so a cell is done when its throws are all there. The arrays,
     * zeroed by the caller, hold one entry per cell the job touches. */
    uint64_t grid;
    atomic_uint_fast64_t *cell_hits, *cell_throws;
};

struct pimc_tally {
    /* All the job's throws; when stopped, the longest run of them from
     * first_throw that was made whole (throws past a gap are not counted):
     * throws [first_throw, first_throw + throws) of the stream, so that a run
     * of just those gives the same hits. */
    uint64_t throws;
    uint64_t hits; /* of those throws */
};

/* Throws the job's darts in the blocks of pimc_plan_work(throws, threads), a
 * wave of blocks per parallel loop, spread over job->threads threads by the
 * job's schedule. */
struct pimc_tally pimc_throw_parallel(const struct pimc_throw_job *job);

/* How a job's throws are cut, from the throws and the threads:
 *   - blocks of at most 2^20 throws, so that a stop request is honoured within
 *     a block even on the slowest path (ARS's portable one: ~50 ms), and at
 *     least 2^12 unless the job is smaller, so that a block's claim and stop
 *     check are lost in its work;
 *   - as many blocks as a whole number k of blocks a thread, k >= 8 where the
 *     blocks stay >= 2^12, so that every round of claims keeps every thread
 *     busy and a slowed thread's share can be taken by the others;
 *   - block sizes that differ by at most 64 throws (whole vector iterations
 *     of every path), the job's last block taking the rest (< 64);
 *   - waves of at most 256 blocks a thread, one parallel loop each, whole
 *     rounds of threads, so that a stop request skips at most one wave of
 *     claims and every wave ends with every thread busy to its last round.
 * A job of fewer than threads x 2^12 throws gets fewer blocks than threads. */
struct pimc_work_plan {
    uint64_t blocks;      /* of the job */
    uint64_t wave_blocks; /* blocks per parallel loop: a multiple of the threads unless blocks < threads */
    uint64_t unit_quotient, unit_remainder; /* 64-throw units per block, and how many blocks have one more */
    uint64_t largest_block; /* throws of the largest block */
};

#define PIMC_BLOCK_MIN_THROWS (UINT64_C(1) << 12)
#define PIMC_BLOCK_MAX_THROWS (UINT64_C(1) << 20)

struct pimc_work_plan pimc_plan_work(uint64_t throws, int threads);

/* Block b's throws [*first, *end), counted from the job's first throw. */
void pimc_plan_block(const struct pimc_work_plan *plan, uint64_t throws, uint64_t b, uint64_t *first, uint64_t *end);

/* A model of how busy the threads are, to size the work by (not a
 * measurement): threads of equal speed, every block of a round as long as the
 * largest, a cost per block (the claim, the stop check) and per parallel loop
 * (starting the team's work and the closing barrier, growing with the team). */
struct pimc_busy_model {
    double throws_per_s;      /* one thread's speed */
    double block_cost_s;      /* per block a thread takes */
    double loop_cost_s;       /* per parallel loop ... */
    double loop_cost_per_thread_s; /* ... plus this per thread of the team */
};

/* The model's assumptions, on the side where they make the threads least busy:
 * the fastest path measured per thread (ARS on VAES + AVX-512, ~3.8 Gthrows/s
 * on one Zen 5 thread; 5 with margin), 1 us a block (a claim on a contended
 * counter across sockets plus the stop check), a parallel loop of 10 us plus
 * 0.2 us a thread (~110 us for 512 threads: EPCC syncbench's PARALLEL FOR on
 * large nodes is tens of us). */
#define PIMC_BUSY_MODEL_DEFAULT {5e9, 1e-6, 10e-6, 0.2e-6} /* an initializer */

/* The shortest timed leg that is a speed result: below it a leg is too short to time. */
#define PIMC_SHORTEST_TIMED_S 0.010

/* The modelled time of a job of these throws on these threads, and the busy
 * fraction: the threads' work over threads x that time. */
double pimc_modelled_seconds(uint64_t throws, int threads, const struct pimc_busy_model *model);
double pimc_modelled_busy(uint64_t throws, int threads, const struct pimc_busy_model *model);

/* Starts a team of this many threads so that the first timed run does not pay
 * for creating it. Returns the size the runtime gave the team: smaller than asked
 * under OMP_DYNAMIC=true or OMP_THREAD_LIMIT. */
int pimc_start_team(int threads);

/* The OpenMP runtime in use, e.g. "libgomp" or "LLVM libomp", and the OpenMP
 * version the compiler implements, e.g. "4.5". */
const char *pimc_openmp_runtime(void);
const char *pimc_openmp_version(void);

#endif
