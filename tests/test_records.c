/*
 * Records that tell the truth and readers that check what they read, as pure
 * functions: a record written by report.c and read back by baseline.c for
 * seeds across the whole range, in JSON and CSV; a JSON key given twice. The
 * expected values are written out by hand.
 */
#include "baseline.h"
#include "report.h"
#include "run.h"
#include "tap.h"

#include <math.h>
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

int main(void)
{
    seed_round_trips();
    duplicate_keys();
    return tap_done();
}
