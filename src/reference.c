#include "reference.h"

#include "error_message.h"
#include "exit_status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reason in why[size], and false: `return failed(why, size, ...)`. */
#define failed(why, size, ...) (pimc_error_message(why, size, __VA_ARGS__), false)

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Of the finite values; NAN when there are none. Sorts in place. */
static double median_of(double *values, int count)
{
    int n = 0;
    for (int i = 0; i < count; i++)
        if (isfinite(values[i]))
            values[n++] = values[i];
    if (n == 0)
        return NAN;
    qsort(values, (size_t)n, sizeof *values, compare_doubles);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

static double min_or(double best, double fallback)
{
    return isfinite(best) ? best : fallback;
}

static double *values(int count)
{
    double *v = malloc((size_t)(count > 0 ? count : 1) * sizeof *v);
    if (v == NULL) {
        fputs("pimc-omp: out of memory\n", stderr);
        exit(PIMC_EXIT_FAILURE);
    }
    return v;
}

static bool of_generator(const struct pimc_baseline_row *row, const char *rng)
{
    return strcmp(row->rng, rng) == 0;
}

bool pimc_measured_on(const struct pimc_baseline_row *row, const struct pimc_cpu *cpu)
{
    if (strcmp(row->cpu_model, cpu->model) != 0)
        return false;
    const bool signed_here = cpu->signature != NULL && cpu->signature[0] != '\0';
    if (row->cpu_signature[0] != '\0' && signed_here)
        return strcmp(row->cpu_signature, cpu->signature) == 0;
    if (row->cpu_signature[0] == '\0' && cpu->signed_rows_only)
        return false;
    return (cpu->unrunnable_kernels & (1u << row->kernel)) == 0;
}

/* The CPU as the baseline can tell it: signed_rows_only when some rows carry
 * its signature. */
static struct pimc_cpu as_the_rows_tell(const struct pimc_baseline *b, struct pimc_cpu cpu)
{
    cpu.signed_rows_only = false;
    if (cpu.signature == NULL || cpu.signature[0] == '\0')
        return cpu;
    for (int r = 0; r < b->count && !cpu.signed_rows_only; r++)
        cpu.signed_rows_only =
            strcmp(b->rows[r].cpu_model, cpu.model) == 0 && strcmp(b->rows[r].cpu_signature, cpu.signature) == 0;
    return cpu;
}

/* Whether a is a better reference row than b: this CPU, then a row with a
 * serial leg, then the latest (ISO 8601 timestamps sort as text), then the
 * later in the file. */
static bool preferred(const struct pimc_baseline_row *a, const struct pimc_baseline_row *b,
                      const struct pimc_cpu *here)
{
    const int here_a = pimc_measured_on(a, here), here_b = pimc_measured_on(b, here);
    if (here_a != here_b)
        return here_a > here_b;
    const int serial_a = isfinite(a->serial_s), serial_b = isfinite(b->serial_s);
    if (serial_a != serial_b)
        return serial_a > serial_b;
    const int order = strcmp(a->timestamp, b->timestamp);
    return order != 0 ? order > 0 : a->where > b->where;
}

static bool of_config(const struct pimc_baseline_row *row, const struct pimc_check_config *c, const char *rng)
{
    return of_generator(row, rng) && row->kernel == c->kernel && row->threads == c->threads &&
           row->throws == c->throws;
}

static bool applies(const struct pimc_baseline_row *row, const struct pimc_check_config *c, const char *rng)
{
    return row->reference && of_config(row, c, rng);
}

/* The best and median 1-thread speed of a kernel on a CPU model: parallel legs
 * of 1-thread rows and serial legs of any row. */
static int one_thread_speed(const struct pimc_baseline *b, const struct pimc_cpu *cpu, const char *rng,
                            enum pimc_kernel kernel, double *best, double *median, double *best_s)
{
    double *medians = values(2 * b->count);
    int n = 0, rows = 0;
    *best = *best_s = NAN;
    for (int r = 0; r < b->count; r++) {
        const struct pimc_baseline_row *row = &b->rows[r];
        if (!row->reference || !of_generator(row, rng) || row->kernel != kernel ||
            row->throws < PIMC_SPEED_ROW_MIN_THROWS || !pimc_measured_on(row, cpu))
            continue;
        const double n_throws = (double)row->throws;
        rows += row->threads == 1 || isfinite(row->serial_s);
        if (row->threads == 1) {
            const double leg = min_or(row->parallel_min_s, row->parallel_s), fast = n_throws / leg;
            if (!(isfinite(*best) && *best > fast)) {
                *best = fast;
                *best_s = leg;
            }
            medians[n++] = n_throws / row->parallel_s;
        }
        if (isfinite(row->serial_s)) {
            const double leg = min_or(row->serial_min_s, row->serial_s), fast = n_throws / leg;
            if (!(isfinite(*best) && *best > fast)) {
                *best = fast;
                *best_s = leg;
            }
            medians[n++] = n_throws / row->serial_s;
        }
    }
    *median = median_of(medians, n);
    free(medians);
    return rows;
}

static void time_the_rows(const struct pimc_baseline *b, const char *rng, const struct pimc_cpu *cpu,
                          struct pimc_reference *ref)
{
    const struct pimc_check_config *c = &ref->config;
    double *parallel = values(b->count), *serial = values(b->count);
    ref->parallel_best = ref->serial_best = NAN;
    for (int r = 0; r < b->count; r++) {
        const struct pimc_baseline_row *row = &b->rows[r];
        /* A checkpointed row's time is compute time summed over segments: said
         * in the plan, never compared. */
        ref->checkpointed_rows += row->checkpointed && row->complete && of_config(row, c, rng) &&
                                  pimc_measured_on(row, cpu);
        if (!applies(row, c, rng) || !pimc_measured_on(row, cpu))
            continue;
        const double p = min_or(row->parallel_min_s, row->parallel_s);
        ref->parallel_best = isfinite(ref->parallel_best) && ref->parallel_best < p ? ref->parallel_best : p;
        parallel[ref->rows++] = row->parallel_s;
        if (isfinite(row->serial_s)) {
            const double s = min_or(row->serial_min_s, row->serial_s);
            ref->serial_best = isfinite(ref->serial_best) && ref->serial_best < s ? ref->serial_best : s;
            serial[ref->serial_rows++] = row->serial_s;
        }
    }
    ref->parallel_median = median_of(parallel, ref->rows);
    ref->serial_median = median_of(serial, ref->serial_rows);
    free(parallel);
    free(serial);
    ref->speed_rows =
        one_thread_speed(b, cpu, rng, c->kernel, &ref->kernel_speed_best, &ref->kernel_speed_median,
                         &ref->kernel_speed_best_s) +
        one_thread_speed(b, cpu, rng, PIMC_KERNEL_SCALAR, &ref->scalar_speed_best, &ref->scalar_speed_median,
                         &ref->scalar_speed_best_s);
}

/* Rows of this CPU's name, by what their signature says of its model. */
static void count_model_rows(const struct pimc_baseline *b, const char *rng, const struct pimc_cpu *cpu,
                             struct pimc_reference *ref)
{
    const bool signed_here = cpu->signature != NULL && cpu->signature[0] != '\0';
    for (int r = 0; r < b->count; r++) {
        const struct pimc_baseline_row *row = &b->rows[r];
        if (!row->reference || !of_generator(row, rng) || strcmp(row->cpu_model, cpu->model) != 0)
            continue;
        if (!signed_here || strcmp(row->cpu_signature, cpu->signature) == 0)
            ref->own_model_rows++;
        else if (row->cpu_signature[0] == '\0')
            ref->unsigned_name_rows++;
        else
            ref->other_signature_rows++;
    }
}

bool pimc_choose_reference(const struct pimc_baseline *b, const struct pimc_reference_request *request,
                           struct pimc_reference *ref, char *why, size_t size)
{
    const struct pimc_cpu here_as_told = as_the_rows_tell(b, request->cpu), *here = &here_as_told;
    const char *rng = request->rng;
    memset(ref, 0, sizeof *ref);
    const struct pimc_baseline_row *latest = NULL;
    for (int r = 0; r < b->count; r++)
        if (b->rows[r].reference && of_generator(&b->rows[r], rng) &&
            (latest == NULL || preferred(&b->rows[r], latest, here)))
            latest = &b->rows[r];
    if (latest == NULL)
        return failed(why, size, "no complete row of generator %s, this run's (its rows are of another; --rng "
                                 "chooses the generator)", rng);
    struct pimc_check_config *c = &ref->config;
    *c = (struct pimc_check_config){latest->kernel, latest->threads, latest->throws, latest->seed};
    if (request->kernel_given)
        c->kernel = request->given.kernel;
    if (request->threads_given)
        c->threads = request->given.threads;
    if (request->throws_given)
        c->throws = request->given.throws;
    if (request->seed_given)
        c->seed = request->given.seed;

    /* Applicable rows: the configuration's, of this CPU if any, else of the
     * CPU of the latest applicable row. */
    const struct pimc_baseline_row *model_row = NULL;
    for (int r = 0; r < b->count; r++)
        if (applies(&b->rows[r], c, rng) && (model_row == NULL || preferred(&b->rows[r], model_row, here)))
            model_row = &b->rows[r];
    if (model_row == NULL)
        return failed(why, size, "no complete row for kernel %s, %d thread%s, %llu throws (the latest row has %s, "
                                 "%d thread%s, %llu throws; THROWS, --threads and --kernel choose the configuration)",
                      pimc_kernel_name(c->kernel), c->threads, c->threads == 1 ? "" : "s",
                      (unsigned long long)c->throws, pimc_kernel_name(latest->kernel), latest->threads,
                      latest->threads == 1 ? "" : "s", (unsigned long long)latest->throws);
    ref->cpu_model = model_row->cpu_model;
    ref->cpu_signature = model_row->cpu_signature;
    ref->same_cpu = pimc_measured_on(model_row, here);
    const struct pimc_cpu there =
        as_the_rows_tell(b, (struct pimc_cpu){.model = model_row->cpu_model, .signature = model_row->cpu_signature});
    time_the_rows(b, rng, ref->same_cpu ? here : &there, ref);
    count_model_rows(b, rng, &request->cpu, ref);

    /* Hits depend on the generator, seed and throws only: every complete row
     * of that stream is a witness, whatever its CPU, kernel, threads or mode
     * (except --check and --against rows, which record the builds under test). */
    const struct pimc_baseline_row *witness = NULL;
    for (int r = 0; r < b->count; r++) {
        const struct pimc_baseline_row *row = &b->rows[r];
        if (!row->complete || !of_generator(row, rng) || strcmp(row->mode, "check") == 0 ||
            strcmp(row->mode, "against") == 0 || row->seed != c->seed || row->throws != c->throws)
            continue;
        if (witness != NULL && row->hits != witness->hits)
            return failed(why, size, "%ss %ld and %ld disagree on the hits of seed %llu, %llu throws (%llu and "
                                     "%llu): a broken build wrote it",
                          b->unit, witness->where, row->where, (unsigned long long)c->seed,
                          (unsigned long long)c->throws, (unsigned long long)witness->hits,
                          (unsigned long long)row->hits);
        witness = row;
        ref->hits = row->hits;
        ref->hits_rows++;
    }
    return true;
}
