/*
 * Warm, long enough legs (src/run.c): the readable sizes a left-out THROWS
 * takes, the rule that names the legs too short to time, and the run engine's
 * warm-ups and turns, which must change no hits and be stoppable. No timing is
 * asserted: a warm-up's length depends on the machine.
 */
#include "run.h"
#include "tap.h"

#include <stdatomic.h>
#include <string.h>

#define E9 UINT64_C(1000000000)

static void sized_throws(void)
{
    static const struct {
        double rate;
        uint64_t floor, want;
    } cases[] = {
        {0.0, E9, E9},                       /* nothing measured: the floor */
        {3e9, E9, E9},                       /* 0.6e9 in 0.2 s: the floor holds */
        {5e9, E9, E9},                       /* exactly the floor */
        {6e9, E9, 2 * E9},                   /* 1.2e9: the next readable size up */
        {2.4e10, E9, 5 * E9},                /* 4.8e9 */
        {5.1e10, E9, 20 * E9},               /* 1.02e10: past 1e10, so 2e10 */
        {1e9, 3 * E9, 3 * E9},               /* an unreadable floor stays as it is */
        {1e30, E9, 5000000000 * E9},         /* the largest: 5e18, under 2^63 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const uint64_t got = pimc_sized_throws(cases[i].rate, 0.2, cases[i].floor);
        tap_ok(got == cases[i].want, "sized for %.3g throws/s, floor %llu: %llu (want %llu)", cases[i].rate,
               (unsigned long long)cases[i].floor, (unsigned long long)got, (unsigned long long)cases[i].want);
    }
}

static void too_short(void)
{
    static const struct {
        int parallel_runs, serial_runs;
        double parallel_s, serial_s;
        const char *want;
    } cases[] = {
        {1, 1, 0.005, 0.020, "parallel"},
        {1, 1, 0.020, 0.005, "serial"},
        {1, 1, 0.009, 0.009, "parallel serial"},
        {1, 1, 0.010, 0.010, ""}, /* 10 ms is long enough */
        {0, 0, 0.0, 0.0, ""},     /* a leg that did not run is not short */
        {1, 0, 0.001, 0.0, "parallel"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct pimc_outcome o = {0};
        o.parallel.runs = cases[i].parallel_runs;
        o.parallel.median_s = cases[i].parallel_s;
        o.serial.runs = cases[i].serial_runs;
        o.serial.median_s = cases[i].serial_s;
        char text[32];
        const bool flagged = pimc_too_short(&o, text, sizeof text);
        tap_ok(strcmp(text, cases[i].want) == 0 && flagged == (cases[i].want[0] != '\0'),
               "legs of %g s (%d runs) and %g s (%d runs): too_short '%s' (want '%s')", cases[i].parallel_s,
               cases[i].parallel_runs, cases[i].serial_s, cases[i].serial_runs, text, cases[i].want);
    }
}

static struct pimc_run_plan plan_of(uint64_t throws, int repeats, double warm_up_s, const atomic_bool *stop)
{
    return (struct pimc_run_plan){.rng = PIMC_RNG_PHILOX,
                                  .kernel = pimc_kernel_resolve_for(PIMC_RNG_PHILOX, PIMC_KERNEL_AUTO),
                                  .seed = 42,
                                  .throws = throws,
                                  .threads = 2,
                                  .repeats = repeats,
                                  .serial = true,
                                  .warm_up_s = warm_up_s,
                                  .stop = stop};
}

static void warm_ups_and_turns(void)
{
    atomic_bool stop = false;
    struct pimc_outcome cold, warm;
    struct pimc_run_plan plan = plan_of(300007, 1, 0.0, &stop);
    pimc_run(&plan, &cold);
    plan = plan_of(300007, 3, 0.01, &stop);
    pimc_run(&plan, &warm);
    tap_ok(!warm.partial && warm.hits == cold.hits && warm.hits_agree && warm.throws == 300007,
           "warm-ups and 3 turns of both legs: the hits of a cold single run (%llu, %llu)",
           (unsigned long long)warm.hits, (unsigned long long)cold.hits);
    tap_ok(warm.parallel.runs == 3 && warm.serial.runs == 3 && !warm.throws_sized,
           "3 timed runs of each leg (%d, %d), throws as given", warm.parallel.runs, warm.serial.runs);

    /* Asked for no timed run: the warm-up alone (--check's warm-up call). */
    plan = plan_of(300007, 0, 0.01, &stop);
    pimc_run(&plan, &warm);
    tap_ok(!warm.partial && warm.parallel.runs == 0 && warm.throws == 0 && warm.warm_throws_per_s > 0,
           "repeats 0: the warm-up alone, measured (%.3g throws/s), nothing timed", warm.warm_throws_per_s);

    /* A stop already there: the warm-up is where it is seen, with nothing made. */
    atomic_store(&stop, true);
    plan = plan_of(UINT64_C(1000000000000), 1, 1e6, &stop);
    pimc_run(&plan, &warm);
    tap_ok(warm.partial && warm.cut_leg == PIMC_LEG_PARALLEL && warm.cut_run == PIMC_WARM_UP_RUN &&
               warm.throws == 0 && warm.parallel.runs == 0 && warm.serial.runs == 0,
           "a stop in the parallel warm-up: cut there, 0 throws, no timed run");
}

int main(void)
{
    sized_throws();
    too_short();
    warm_ups_and_turns();
    return tap_done();
}
