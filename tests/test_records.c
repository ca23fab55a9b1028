/*
 * Records that tell the truth and readers that check what they read, as pure
 * functions: a record written by report.c and read back by baseline.c for
 * seeds across the whole range, in JSON and CSV; a JSON key given twice. The
 * expected values are written out by hand.
 */
#include "baseline.h"
#include "bounds.h"
#include "checkpoint.h"
#include "report.h"
#include "run.h"
#include "tap.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct pimc_context context(void)
{
    struct pimc_context c = {.omp_proc_bind = "", .omp_places = "", .omp_schedule = "", .slurm_job_id = "",
                             .version = "test", .usable_cpus = 2, .online_cpus = 2, .ranks_on_host = 1,
                             .hosts = "", .nodes = 1, .mpi_library = ""};
    strcpy(c.host, "host");
    strcpy(c.cpu_model, "CPU");
    strcpy(c.compiler, "cc");
    strcpy(c.openmp, "libgomp 4.5");
    return c;
}

/* A complete 2-thread run of 1000 throws with a serial leg. */
static struct pimc_outcome complete_outcome(void)
{
    struct pimc_outcome o = {.throws_requested = 1000, .throws = 1000, .hits = 785, .hits_agree = true,
                             .threads = 2, .ranks = 1};
    o.parallel.runs = o.serial.runs = 1;
    o.parallel.seconds[0] = o.parallel.median_s = o.parallel.min_s = o.parallel.max_s = 0.5;
    o.serial.seconds[0] = o.serial.median_s = o.serial.min_s = o.serial.max_s = 1.0;
    return o;
}

static struct pimc_record record_of(const struct pimc_context *c, const struct pimc_outcome *o, uint64_t seed)
{
    struct pimc_record r = {.context = c, .outcome = o, .figures = pimc_figures_of(o, PIMC_STRONG),
                            .kernel = PIMC_KERNEL_SCALAR, .seed = seed, .repeats = 1, .threads_source = "option",
                            .mode = "single", .run = "0"};
    strcpy(r.timestamp, "2026-01-01T00:00:00Z");
    return r;
}

/* Not inlined: gcc 12 then takes the stream's buffer for a dangling local. */
__attribute__((noinline)) static char *json_text_of(const struct pimc_record *r, size_t *length)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, length);
    pimc_print_json(out, r);
    fclose(out);
    return text;
}

static char *csv_text_of(const struct pimc_record *r, size_t *length)
{
    char path[] = "/tmp/test_records_XXXXXX", error[512];
    const int fd = mkstemp(path);
    close(fd);
    unlink(path); /* pimc_csv_open creates it, header and all */
    struct pimc_csv csv;
    char *text = NULL;
    if (pimc_csv_open(&csv, path, error, sizeof error) == 0 && pimc_csv_append(&csv, r, error, sizeof error) == 0) {
        FILE *in = fopen(path, "r");
        text = calloc(1, 1 << 16);
        *length = fread(text, 1, (1 << 16) - 1, in);
        fclose(in);
    }
    pimc_csv_close(&csv);
    unlink(path);
    return text;
}

static void seed_round_trips(void)
{
    static const struct {
        uint64_t seed;
        const char *json; /* as the JSON must hold it */
    } seeds[] = {
        {0, "\"seed\": 0,"},
        {UINT64_C(9223372036854775807), "\"seed\": 9223372036854775807,"},
        {UINT64_C(9223372036854775808), "\"seed\": \"9223372036854775808\","},
        {UINT64_C(18446744073709551601), "\"seed\": \"18446744073709551601\","},
        {UINT64_C(18446744073709551615), "\"seed\": \"18446744073709551615\","},
    };
    const struct pimc_context c = context();
    const struct pimc_outcome o = complete_outcome();
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        const struct pimc_record r = record_of(&c, &o, seeds[i].seed);
        size_t length;
        char why[512] = "";
        struct pimc_baseline b;

        char *text = json_text_of(&r, &length);
        tap_ok(strstr(text, seeds[i].json) != NULL, "seed %llu is written in JSON as %s",
               (unsigned long long)seeds[i].seed, seeds[i].json);
        bool read = pimc_baseline_parse(text, length, PIMC_BASELINE_JSON, &b, why, sizeof why);
        tap_ok(read && b.count == 1 && b.rows[0].seed == seeds[i].seed && b.rows[0].hits == 785,
               "seed %llu: JSON read back exactly (%s)", (unsigned long long)seeds[i].seed, why);
        pimc_baseline_free(&b);
        free(text);

        text = csv_text_of(&r, &length);
        read = text != NULL && pimc_baseline_parse(text, length, PIMC_BASELINE_CSV, &b, why, sizeof why);
        tap_ok(read && b.count == 1 && b.rows[0].seed == seeds[i].seed,
               "seed %llu: CSV read back exactly (%s)", (unsigned long long)seeds[i].seed, why);
        pimc_baseline_free(&b);
        free(text);
    }
}

static void duplicate_keys(void)
{
    const struct pimc_context c = context();
    const struct pimc_outcome o = complete_outcome();
    const struct pimc_record r = record_of(&c, &o, 7);
    size_t length;
    char *text = json_text_of(&r, &length), why[512] = "";
    struct pimc_baseline b;
    /* The same object with "hits" again at its end: which one counts is a guess. */
    const int before_brace = (int)(strrchr(text, '}') - text);
    char *twice = malloc(length + 32);
    snprintf(twice, length + 32, "%.*s, \"hits\": 1}\n", before_brace, text);
    tap_ok(!pimc_baseline_parse(twice, strlen(twice), PIMC_BASELINE_JSON, &b, why, sizeof why) &&
               strstr(why, "duplicate") != NULL && strstr(why, "hits") != NULL,
           "a JSON object with a key twice is refused, naming it: '%s'", why);
    pimc_baseline_free(&b);
    free(twice);
    free(text);
}

/* ---- the verification's standard error: of the true p = pi/4 ------------ */

static struct pimc_outcome tiny_outcome(uint64_t throws, uint64_t hits)
{
    struct pimc_outcome o = complete_outcome();
    o.throws_requested = o.throws = throws;
    o.hits = hits;
    return o;
}

static void verification(void)
{
    /* 4 sqrt(p (1 - p) / N), p = pi/4: 1.642183367736324 for N = 1, 0.5193039777692652 for N = 10. */
    tap_ok(fabs(pimc_std_error(1) - 1.642183367736324) < 1e-12, "standard error of 1 throw: 1.6422 (%.16g)",
           pimc_std_error(1));
    tap_ok(fabs(pimc_std_error(10) - 0.5193039777692652) < 1e-12, "standard error of 10 throws: 0.5193 (%.16g)",
           pimc_std_error(10));
    tap_ok(fabs(pimc_std_error(1000000) * 1000 - 1.642183367736324) < 1e-9, "it falls as 1/sqrt(N)");
    tap_ok(isnan(pimc_std_error(0)), "no standard error of no throws");
    for (uint64_t hits = 0; hits <= 1; hits++) {
        const struct pimc_outcome o = tiny_outcome(1, hits);
        const struct pimc_figures f = pimc_figures_of(&o, PIMC_STRONG);
        tap_ok(f.verified && isfinite(f.z_score) && f.std_error > 1.64,
               "1 throw, %llu hit: verified (z %.2f), though the estimate's own error would be 0",
               (unsigned long long)hits, f.z_score);
    }
    /* 10 throws: z = (0.4 h - pi) / 0.5193: h = 1 gives -5.28, h = 2 gives -4.51, h = 10 gives +1.65. */
    for (uint64_t hits = 0; hits <= 10; hits++) {
        const struct pimc_outcome o = tiny_outcome(10, hits);
        const struct pimc_figures f = pimc_figures_of(&o, PIMC_STRONG);
        tap_ok(f.verified == (hits >= 2) && isfinite(f.z_score), "10 throws, %llu hits: z %+.2f, %s",
               (unsigned long long)hits, f.z_score, hits >= 2 ? "verified" : "FAILED");
    }
    const struct pimc_outcome none = tiny_outcome(0, 0);
    const struct pimc_figures f = pimc_figures_of(&none, PIMC_STRONG);
    tap_ok(!f.has_estimate && !f.verified && isnan(f.pi) && isnan(f.z_score),
           "no throws: no estimate, not verified");
}

/* ---- records of a stopped run -------------------------------------------- */

static void stopped_records(void)
{
    const struct pimc_context c = context();
    /* Three repeats asked, stopped in the serial leg's run 1: parallel runs 0-2 and serial run 0 done. */
    struct pimc_outcome o = complete_outcome();
    o.parallel.runs = 3;
    o.partial = true;
    o.cut_leg = PIMC_LEG_SERIAL;
    o.cut_run = 1;
    struct pimc_outcome run0 = pimc_outcome_of_run(&o, 0), run1 = pimc_outcome_of_run(&o, 1);
    tap_ok(!run0.partial && run0.cut_leg == PIMC_LEG_NONE && run0.serial.runs == 1,
           "the runs before the cut are complete in every leg");
    tap_ok(run1.partial && run1.cut_leg == PIMC_LEG_SERIAL && run1.serial.runs == 0,
           "the run the stop cut is cut, and has no serial time");
    struct pimc_record r = record_of(&c, &o, 1);
    r.repeats = 3;
    size_t length;
    char *text = json_text_of(&r, &length);
    tap_ok(strstr(text, "\"status\": \"complete\"") != NULL && strstr(text, "\"stopped_in\": \"serial run 1\"") != NULL,
           "stopped in the serial leg: status complete (the result is whole), stopped_in \"serial run 1\"");
    free(text);

    /* Stopped in the warm-up: no throws, no estimate. */
    struct pimc_outcome w = {.throws_requested = 1000, .partial = true, .cut_leg = PIMC_LEG_PARALLEL,
                             .cut_run = PIMC_WARM_UP_RUN, .hits_agree = true, .threads = 2, .ranks = 1};
    r = record_of(&c, &w, 1);
    text = json_text_of(&r, &length);
    tap_ok(strstr(text, "\"throws\": 0,") != NULL && strstr(text, "\"pi\": null") != NULL &&
               strstr(text, "\"z_score\": null") != NULL && strstr(text, "\"status\": \"partial\"") != NULL &&
               strstr(text, "\"stopped_in\": \"parallel warm-up\"") != NULL,
           "stopped in the warm-up: 0 throws, pi null, status partial, stopped_in \"parallel warm-up\"");
    free(text);
    char *report = NULL;
    FILE *out = open_memstream(&report, &length);
    pimc_print_report(out, &r);
    fclose(out);
    tap_ok(strstr(report, "none: no throws were made") != NULL && strstr(report, "PASSED") == NULL &&
               strstr(report, "nan") == NULL,
           "its report has no estimate and no verdict");
    free(report);
}

/* ---- a stopped job's tally: a prefix of the stream ----------------------- */

struct stopper {
    atomic_bool stop;
    atomic_uint_fast64_t done;
    uint64_t after; /* throws done before the stop request */
};

static void *stop_when_done(void *arg)
{
    struct stopper *s = arg;
    while (atomic_load(&s->done) < s->after)
        ;
    atomic_store(&s->stop, true);
    return NULL;
}

/* A job stopped at `trials` moments; the trials whose tally is not a prefix. */
static int unreproduced_tallies(int trials, uint64_t *shortest, uint64_t *longest)
{
    const enum pimc_kernel kernel = pimc_kernel_resolve(PIMC_KERNEL_AUTO);
    int unreproduced = 0;
    for (int t = 0; t < trials; t++) {
        struct stopper s = {.after = (uint64_t)(t + 1) << 22};
        atomic_init(&s.stop, false);
        atomic_init(&s.done, 0);
        const struct pimc_throw_job job = {.kernel = kernel, .seed = (uint64_t)t, .first_throw = 0,
                                           .throws = UINT64_C(1) << 40, .threads = 8, .stop = &s.stop,
                                           .throws_done = &s.done};
        pthread_t watcher;
        pthread_create(&watcher, NULL, stop_when_done, &s);
        const struct pimc_tally tally = pimc_throw_parallel(&job);
        pthread_join(watcher, NULL);
        unreproduced += !(tally.throws < job.throws &&
                          tally.hits == pimc_count_hits(PIMC_RNG_PHILOX, kernel, job.seed, 0, tally.throws));
        *shortest = tally.throws < *shortest ? tally.throws : *shortest;
        *longest = tally.throws > *longest ? tally.throws : *longest;
    }
    return unreproduced;
}

static void stopped_tallies(void)
{
    /* The default schedule (dynamic,1) hands blocks out in order, and the
     * blocks done at a stop are the first ones unless a thread was
     * descheduled between claiming a block and beginning it. Under
     * OMP_SCHEDULE=static each thread has its own stretch of every wave, and a
     * stop leaves a gap in each: only the prefix may count. */
    uint64_t shortest = UINT64_MAX, longest = 0;
    int unreproduced = unreproduced_tallies(12, &shortest, &longest);
    tap_ok(unreproduced == 0,
           "schedule dynamic,1: 12 jobs stopped at 12 moments, each tally's hits are those of the stream's first "
           "tally.throws throws (%llu to %llu)", (unsigned long long)shortest, (unsigned long long)longest);
    setenv("OMP_SCHEDULE", "static", 1); /* the kernel keeps the schedule set then */
    omp_set_schedule(omp_sched_static, 0);
    shortest = UINT64_MAX, longest = 0;
    unreproduced = unreproduced_tallies(12, &shortest, &longest);
    tap_ok(unreproduced == 0,
           "OMP_SCHEDULE=static: 12 jobs stopped at 12 moments, each tally a prefix of the stream (%llu to %llu)",
           (unsigned long long)shortest, (unsigned long long)longest);
    unsetenv("OMP_SCHEDULE");
}

/* ---- bounds on what a file may hold --------------------------------------- */

static void bounds(void)
{
    tap_ok(pimc_time_possible(1000000000, 0.33, 2), "1e9 throws in 0.33 s on 2 threads (1.5e9 a thread): possible");
    tap_ok(pimc_time_possible(UINT64_C(9223372036854775807), 1e7, 1000),
           "2^63-1 throws in 1e7 s on 1000 threads (9.2e8 a thread): possible");
    tap_ok(!pimc_time_possible(UINT64_C(9223372036854775807), 0.5, 2),
           "2^63-1 throws in half a second on 2 threads: impossible");
    tap_ok(!pimc_time_possible(10000000, 1e-6, 1), "1e7 throws in a microsecond on 1 thread (1e13 a second): impossible");
    tap_ok(pimc_time_possible(10000000, 1e-5, 1), "1e7 throws in 10 us on 1 thread (1e12, the bound): possible");
    tap_ok(!pimc_time_possible(1, 2e11, 1), "a run of 2e11 s (6000 years): impossible");
    tap_ok(!pimc_time_possible(1, 0.0, 1) && !pimc_time_possible(1, -1.0, 1) && !pimc_time_possible(1, NAN, 1) &&
               !pimc_time_possible(1, INFINITY, 1) && !pimc_time_possible(1, 1.0, 0),
           "no time, a negative or non-finite one, or no threads: impossible");

    /* A baseline row past them is refused naming the field. */
    const struct pimc_context c = context();
    struct pimc_outcome o = complete_outcome();
    o.throws = o.throws_requested = UINT64_C(9223372036854775807);
    o.hits = UINT64_C(7244019458077122000);
    const struct pimc_record r = record_of(&c, &o, 1);
    size_t length;
    char *text = csv_text_of(&r, &length), why[512] = "";
    struct pimc_baseline b;
    tap_ok(text != NULL && !pimc_baseline_parse(text, length, PIMC_BASELINE_CSV, &b, why, sizeof why) &&
               strstr(why, "line 2: throws 9223372036854775807 in parallel_s 0.5 on 2 threads is past what") != NULL,
           "a row of 2^63-1 throws in half a second is refused, naming it: '%s'", why);
    pimc_baseline_free(&b);
    free(text);

    /* A checkpoint's counters: segments near 2^63 would wrap when the next segment adds one. */
    static const char *const checkpoints[][2] = {
        {"\"segments\": 9223372036854775807", "\"segments\" must be an integer from 1 to 4294967295"},
        {"\"segments\": 4294967296", "\"segments\" must be an integer from 1 to 4294967295"},
        {"\"compute_s\": 1e300", "\"compute_s\" must be a number of seconds from 0 to"},
    };
    for (size_t i = 0; i < sizeof checkpoints / sizeof *checkpoints; i++) {
        char json[512], error[512] = "";
        const bool segments = strstr(checkpoints[i][0], "segments") != NULL;
        snprintf(json, sizeof json,
                 "{\"format\": \"pimc-omp checkpoint\", \"version\": 1, \"seed\": \"1\", \"throws\": 100, "
                 "\"stream\": {\"generator\": \"philox4x32-10\", \"version\": 1}, \"done\": [[0, 10]], "
                 "\"throws_done\": 10, \"hits\": 8, %s, %s}",
                 segments ? "\"compute_s\": 1.5" : checkpoints[i][0], segments ? checkpoints[i][0] : "\"segments\": 2");
        struct pimc_checkpoint cp;
        const enum pimc_checkpoint_status status = pimc_checkpoint_parse("c.json", json, strlen(json), &cp, error,
                                                                         sizeof error);
        tap_ok(status == PIMC_CHECKPOINT_INVALID && strstr(error, checkpoints[i][1]) != NULL,
               "a checkpoint with %s is refused: '%s'", checkpoints[i][0], error);
    }
    char ok_json[] = "{\"format\": \"pimc-omp checkpoint\", \"version\": 1, \"seed\": \"1\", \"throws\": 100, "
                     "\"stream\": {\"generator\": \"philox4x32-10\", \"version\": 1}, \"done\": [[0, 10]], "
                     "\"throws_done\": 10, \"hits\": 8, \"compute_s\": 1.5, \"segments\": 4294967295}";
    struct pimc_checkpoint cp;
    char error[512] = "";
    tap_ok(pimc_checkpoint_parse("c.json", ok_json, strlen(ok_json), &cp, error, sizeof error) == PIMC_CHECKPOINT_OK &&
               cp.segments == UINT64_C(4294967295),
           "segments 2^32-1, the bound, is read (%s)", error);
    pimc_checkpoint_free(&cp);
}

int main(void)
{
    stopped_tallies();
    bounds();
    verification();
    stopped_records();
    seed_round_trips();
    duplicate_keys();
    return tap_done();
}
