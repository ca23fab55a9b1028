/*
 * Both generators against Random123 itself (Debian's header-only
 * librandom123-dev): the library whose generators pimc-omp's streams are
 * defined by. philox.h and ars.h must give Random123's philox4x32_R(10, ...)
 * and ars4x32_R(R, ...) block for block, and every kernel path must count the
 * hits of a stream built from Random123's blocks.
 *
 * Random123's ARS needs AES-NI, so this file is compiled with -maes (x86 only)
 * and skips on a CPU without AES instructions; test_kernel.c covers the rest.
 */
#include "ars.h"
#include "kernel.h"
#include "philox.h"
#include "tap.h"

#include <Random123/ars.h>
#include <Random123/philox.h>

#include <inttypes.h>

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* The stream of kernel.h, with Random123 computing every block. */
static void random123_block(enum pimc_rng rng, uint64_t seed, uint64_t j, uint32_t w[4])
{
    if (rng == PIMC_RNG_ARS) {
        ars4x32_ctr_t ctr = {{(uint32_t)j, (uint32_t)(j >> 32), 0, 0}};
        ars4x32_key_t key = {{(uint32_t)seed, (uint32_t)(seed >> 32), 0, 0}};
        ars4x32_ctr_t out = ars4x32_R(5, ctr, key);
        for (int i = 0; i < 4; i++)
            w[i] = out.v[i];
    } else {
        philox4x32_ctr_t ctr = {{(uint32_t)j, (uint32_t)(j >> 32), 0, 0}};
        philox4x32_key_t key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
        philox4x32_ctr_t out = philox4x32_R(10, ctr, key);
        for (int i = 0; i < 4; i++)
            w[i] = out.v[i];
    }
}

__extension__ typedef unsigned __int128 uint128;

static uint64_t random123_hits(enum pimc_rng rng, uint64_t seed, uint64_t first, uint64_t count)
{
    uint64_t hits = 0;
    for (uint64_t i = first; i < first + count; i++) {
        uint32_t w[4];
        random123_block(rng, seed, i / 2, w);
        uint32_t x = w[i % 2 ? 2 : 0], y = w[i % 2 ? 3 : 1];
        hits += (uint128)x * x + (uint128)y * y < (uint128)1 << 64;
    }
    return hits;
}

static void generators_match(void)
{
    uint64_t state = 123;
    int philox_differ = 0, ars_differ = 0;
    for (int n = 0; n < 5000; n++) {
        uint64_t a = splitmix64(&state), b = splitmix64(&state), c = splitmix64(&state), d = splitmix64(&state);
        philox4x32_ctr_t rc = {{(uint32_t)a, (uint32_t)(a >> 32), (uint32_t)b, (uint32_t)(b >> 32)}};
        philox4x32_key_t rk = {{(uint32_t)c, (uint32_t)(c >> 32)}};
        philox4x32_ctr_t want = philox4x32_R(10, rc, rk);
        philox4x32_ctr got = philox4x32_10((philox4x32_ctr){{rc.v[0], rc.v[1], rc.v[2], rc.v[3]}},
                                           (philox2x32_key){{rk.v[0], rk.v[1]}});

        int rounds = 1 + n % 10;
        ars4x32_ctr_t ac = {{(uint32_t)a, (uint32_t)(a >> 32), (uint32_t)b, (uint32_t)(b >> 32)}};
        ars4x32_key_t ak = {{(uint32_t)c, (uint32_t)(c >> 32), (uint32_t)d, (uint32_t)(d >> 32)}};
        ars4x32_ctr_t ars_want = ars4x32_R((unsigned)rounds, ac, ak);
        ars4x32_ctr ars_got = ars4x32_n(rounds, (ars4x32_ctr){{ac.v[0], ac.v[1], ac.v[2], ac.v[3]}},
                                        (ars4x32_key){{ak.v[0], ak.v[1], ak.v[2], ak.v[3]}});
        for (int w = 0; w < 4; w++) {
            philox_differ += got.v[w] != want.v[w];
            ars_differ += ars_got.v[w] != ars_want.v[w];
        }
    }
    tap_ok(philox_differ == 0, "philox.h equals Random123's philox4x32_R(10) on 5000 random counters and keys");
    tap_ok(ars_differ == 0, "ars.h equals Random123's ars4x32_R(1..10) on 5000 random counters and keys");
}

static void paths_match_random123(enum pimc_rng rng)
{
    static const uint64_t firsts[] = {0, 1, 63, (UINT64_C(1) << 33) - 99, UINT64_C(0xfedcba987654321)};
    static const uint64_t counts[] = {1, 2, 17, 64, 129, 4097, 100003};
    for (int k = PIMC_KERNEL_SCALAR; k < PIMC_KERNEL_COUNT; k++) {
        enum pimc_kernel kernel = (enum pimc_kernel)k;
        if (rng == PIMC_RNG_PHILOX && (kernel == PIMC_KERNEL_AESNI || kernel == PIMC_KERNEL_NEON))
            continue;
        if (!pimc_kernel_available_for(rng, kernel)) {
            printf("ok %d - # SKIP %s %s: this CPU lacks it\n", ++tap_count, pimc_rng_name(rng),
                   pimc_kernel_name(kernel));
            continue;
        }
        int cases = 0, wrong = 0;
        for (size_t f = 0; f < sizeof firsts / sizeof *firsts; f++)
            for (size_t c = 0; c < sizeof counts / sizeof *counts; c++)
                for (uint64_t seed = 0; seed < 3; seed++) {
                    uint64_t s = seed == 2 ? UINT64_MAX : seed * 0xdeadbeefcafeu;
                    cases++;
                    wrong += pimc_count_hits(rng, kernel, s, firsts[f], counts[c]) !=
                             random123_hits(rng, s, firsts[f], counts[c]);
                }
        tap_ok(wrong == 0, "%s %s path counts the hits of Random123's blocks in %d cases (%d wrong)",
               pimc_rng_name(rng), pimc_kernel_name(kernel), cases, wrong);
    }
    struct pimc_throw_job job = {.rng = rng, .kernel = pimc_kernel_resolve_for(rng, PIMC_KERNEL_AUTO), .seed = 99,
                                 .throws = 4000037, .threads = 3};
    uint64_t want = random123_hits(rng, 99, 0, 4000037);
    tap_ok(pimc_throw_parallel(&job).hits == want, "%s, 3 threads, auto path (%s): %" PRIu64 " hits, as Random123",
           pimc_rng_name(rng), pimc_kernel_name(job.kernel), want);
}

int main(void)
{
    if (!__builtin_cpu_supports("aes")) {
        printf("1..0 # SKIP this CPU has no AES-NI, which Random123's ARS needs\n");
        return 0;
    }
    generators_match();
    for (int r = 0; r < PIMC_RNG_COUNT; r++)
        paths_match_random123((enum pimc_rng)r);
    return tap_done();
}
