#include "report.h"

#include "error_message.h"
#include "exit_status.h"
#include "file_io.h"
#include "schema.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *const pimc_column_names[PIMC_COLUMN_COUNT] = {
#define PIMC_COLUMN_NAME(id, name) [PIMC_COLUMN_##id] = name,
    PIMC_COLUMNS(PIMC_COLUMN_NAME)
#undef PIMC_COLUMN_NAME
};

/* ---- one record, named fields: the single source of the CSV and JSON rows */

enum field_kind { FIELD_TEXT, FIELD_COUNT, FIELD_REAL, FIELD_NONE };

struct field {
    enum field_kind kind;
    const char *text; /* not copied: a value of any length is written whole */
    uint64_t count;
    double real;
    char own[32]; /* a text made for the record, which text then points to */
};

static void text(struct field *f, enum pimc_column c, const char *value)
{
    f[c] = (struct field){.kind = FIELD_TEXT, .text = value != NULL ? value : ""};
}
static void count(struct field *f, enum pimc_column c, uint64_t value)
{
    f[c] = (struct field){.kind = FIELD_COUNT, .count = value};
}
static void count_if(struct field *f, enum pimc_column c, bool present, uint64_t value)
{
    f[c] = present ? (struct field){.kind = FIELD_COUNT, .count = value} : (struct field){.kind = FIELD_NONE};
}
/* Empty in the CSV and null in JSON when the value does not apply. */
static void real_if(struct field *f, enum pimc_column c, bool present, double value)
{
    f[c] = (struct field){.kind = present && isfinite(value) ? FIELD_REAL : FIELD_NONE, .real = value};
}

/* Where a stop request cut the run, as the stopped_in column says it: "" when
 * nothing was cut, else the leg and "warm-up" or "run K", K the repeat index
 * as the run column counts it (from 0). */
static void stopped_in(struct field *f, enum pimc_column c, const struct pimc_outcome *o)
{
    f[c] = (struct field){.kind = FIELD_TEXT};
    if (o->partial && o->cut_run == PIMC_WARM_UP_RUN)
        snprintf(f[c].own, sizeof f[c].own, "%s warm-up", o->cut_leg == PIMC_LEG_SERIAL ? "serial" : "parallel");
    else if (o->partial)
        snprintf(f[c].own, sizeof f[c].own, "%s run %d", o->cut_leg == PIMC_LEG_SERIAL ? "serial" : "parallel",
                 o->cut_run);
    f[c].text = f[c].own;
}

static void collect_fields(const struct pimc_record *rec, struct field *f)
{
    const struct pimc_outcome *o = rec->outcome;
    const struct pimc_figures *g = &rec->figures;
    const struct pimc_context *c = rec->context;
    const bool serial = o->serial.runs > 0, parallel = o->parallel.runs > 0;
    text(f, PIMC_COLUMN_TIMESTAMP, rec->timestamp);
    text(f, PIMC_COLUMN_HOST, c->host);
    text(f, PIMC_COLUMN_CPU_MODEL, c->cpu_model);
    text(f, PIMC_COLUMN_KERNEL, pimc_kernel_name(rec->kernel));
    text(f, PIMC_COLUMN_COMPILER, c->compiler);
    count(f, PIMC_COLUMN_THREADS, (uint64_t)o->threads * (uint64_t)o->ranks);
    count(f, PIMC_COLUMN_THROWS, o->throws);
    count(f, PIMC_COLUMN_SEED, rec->seed);
    count(f, PIMC_COLUMN_HITS, o->hits);
    real_if(f, PIMC_COLUMN_PI, g->has_estimate, g->pi);
    real_if(f, PIMC_COLUMN_ABS_ERROR, g->has_estimate, g->abs_error);
    real_if(f, PIMC_COLUMN_STD_ERROR, g->has_estimate, g->std_error);
    real_if(f, PIMC_COLUMN_SERIAL_S, serial, o->serial.median_s);
    real_if(f, PIMC_COLUMN_PARALLEL_S, parallel, o->parallel.median_s);
    real_if(f, PIMC_COLUMN_SPEEDUP, g->has_speedup, g->speedup);
    real_if(f, PIMC_COLUMN_EFFICIENCY, g->has_speedup, g->efficiency);
    real_if(f, PIMC_COLUMN_THROWS_PER_S, parallel && g->throws_per_s > 0, g->throws_per_s);
    real_if(f, PIMC_COLUMN_Z_SCORE, g->has_estimate, g->z_score);
    real_if(f, PIMC_COLUMN_THROWS_PER_S_PER_THREAD, parallel && g->throws_per_s > 0, g->throws_per_s_per_thread);
    /* The result's: complete when it is of every throw asked, whatever a stop
     * cut after that (stopped_in says what). */
    text(f, PIMC_COLUMN_STATUS, o->throws < o->throws_requested ? "partial" : "complete");
    count(f, PIMC_COLUMN_THROWS_REQUESTED, o->throws_requested);
    text(f, PIMC_COLUMN_MODE, rec->mode);
    text(f, PIMC_COLUMN_RUN, rec->run);
    count(f, PIMC_COLUMN_REPEATS, (uint64_t)rec->repeats);
    real_if(f, PIMC_COLUMN_SERIAL_MIN_S, serial, o->serial.min_s);
    real_if(f, PIMC_COLUMN_SERIAL_MAX_S, serial, o->serial.max_s);
    real_if(f, PIMC_COLUMN_PARALLEL_MIN_S, parallel, o->parallel.min_s);
    real_if(f, PIMC_COLUMN_PARALLEL_MAX_S, parallel, o->parallel.max_s);
    count(f, PIMC_COLUMN_RANKS, (uint64_t)o->ranks);
    count(f, PIMC_COLUMN_THREADS_PER_RANK, (uint64_t)o->threads);
    count(f, PIMC_COLUMN_USABLE_CPUS, (uint64_t)c->usable_cpus);
    count(f, PIMC_COLUMN_OVERSUBSCRIBED, pimc_oversubscribed(c, o->threads));
    text(f, PIMC_COLUMN_THREADS_SOURCE, rec->threads_source);
    text(f, PIMC_COLUMN_OPENMP, c->openmp);
    text(f, PIMC_COLUMN_OMP_PROC_BIND, c->omp_proc_bind);
    text(f, PIMC_COLUMN_OMP_PLACES, c->omp_places);
    text(f, PIMC_COLUMN_OMP_SCHEDULE, c->omp_schedule);
    text(f, PIMC_COLUMN_VERSION, c->version);
    text(f, PIMC_COLUMN_SLURM_JOB_ID, c->slurm_job_id);
    count(f, PIMC_COLUMN_NODES, rec->nodes > 0 ? (uint64_t)rec->nodes : 1);
    text(f, PIMC_COLUMN_RNG, rec->rng != NULL ? rec->rng : PIMC_RNG_DEFAULT_NAME);
    count(f, PIMC_COLUMN_SEGMENTS, rec->segments > 0 ? rec->segments : 1);
    count(f, PIMC_COLUMN_THROWS_RESUMED, rec->throws_resumed);
    text(f, PIMC_COLUMN_MPI_LIBRARY, o->ranks > 1 ? c->mpi_library : "");
    text(f, PIMC_COLUMN_CPU_SIGNATURE, c->cpu_signature);
    stopped_in(f, PIMC_COLUMN_STOPPED_IN, o);
    /* The topology of a rank's usable CPUs, and where its team was placed:
     * empty where not known (a build without hwloc, a record not probed). */
    const struct pimc_topology *t = &c->topology;
    count_if(f, PIMC_COLUMN_CORES, t->known, (uint64_t)t->cores);
    count_if(f, PIMC_COLUMN_HW_THREADS_PER_CORE, t->known, (uint64_t)t->threads_per_core);
    count_if(f, PIMC_COLUMN_PACKAGES, t->known, (uint64_t)t->packages);
    count_if(f, PIMC_COLUMN_NUMA_NODES, t->known, (uint64_t)t->numa_nodes);
    const struct pimc_placement *p = &rec->placement;
    count_if(f, PIMC_COLUMN_CORES_USED, p->threads > 0, (uint64_t)p->cores_used);
    count_if(f, PIMC_COLUMN_SMT_SHARED, p->threads > 0, p->smt_shared);
    /* The legs timed under PIMC_SHORTEST_TIMED_S: their times are in the row,
     * but they are not a speed result. */
    f[PIMC_COLUMN_TOO_SHORT] = (struct field){.kind = FIELD_TEXT};
    pimc_too_short(o, f[PIMC_COLUMN_TOO_SHORT].own, sizeof f[PIMC_COLUMN_TOO_SHORT].own);
    f[PIMC_COLUMN_TOO_SHORT].text = f[PIMC_COLUMN_TOO_SHORT].own;
}

/* A count or real as text; a text field is used as it is. %.17g round-trips a
 * double; speeds and times do not need it, but the pi estimate and its error
 * do, and one rule for all columns is simpler. */
static const char *number_text(const struct field *f, char *buf, size_t size)
{
    if (f->kind == FIELD_COUNT)
        snprintf(buf, size, "%llu", (unsigned long long)f->count);
    else if (f->kind == FIELD_REAL)
        snprintf(buf, size, "%.17g", f->real);
    else
        return f->kind == FIELD_TEXT ? f->text : "";
    return buf;
}

static void *allocated(void *p)
{
    if (p == NULL) {
        fputs("pimc-omp: out of memory\n", stderr);
        exit(PIMC_EXIT_FAILURE);
    }
    return p;
}

/* ---- text report --------------------------------------------------------- */

static void print_seconds_line(FILE *out, const char *label, const struct pimc_leg *leg, double throws,
                               int threads, bool whole)
{
    fprintf(out, "  %-13s %.6f s", label, leg->median_s);
    if (leg->runs > 1)
        fprintf(out, " (median of %d, min %.6f, max %.6f)", leg->runs, leg->min_s, leg->max_s);
    if (!whole) {
        fputs(" (cut short: not a speed)\n", out);
        return;
    }
    if (leg->median_s < PIMC_SHORTEST_TIMED_S) {
        fprintf(out, " TOO SHORT TO TIME (under %.0f ms): not a speed; throw more darts\n",
                PIMC_SHORTEST_TIMED_S * 1e3);
        return;
    }
    double rate = throws / leg->median_s;
    fprintf(out, "   %.3f Gthrows/s", rate * 1e-9);
    if (threads > 1)
        fprintf(out, " (%.3f per thread)", rate * 1e-9 / threads);
    fputc('\n', out);
}

/* Where a stop cut the run, and what of it is complete. */
static void print_stop_line(FILE *out, const struct pimc_record *rec)
{
    const struct pimc_outcome *o = rec->outcome;
    const char *leg = o->cut_leg == PIMC_LEG_SERIAL ? "serial" : "parallel";
    fprintf(out, "  %-13s by a signal, ", "stopped");
    if (rec->checkpoint != NULL) {
        /* Its throws are the chunks done, in any order: the file says which. */
        fprintf(out, "in this segment: %s holds the throws done, and the same command continues the run\n",
                rec->checkpoint);
        return;
    }
    if (o->cut_run == PIMC_WARM_UP_RUN)
        fprintf(out, "in the %s leg's warm-up", leg);
    else
        fprintf(out, "in the %s leg's timed run %d of %d", leg, o->cut_run + 1, rec->repeats);
    if (o->throws == 0)
        fputs(": no throws were made\n", out);
    else if (o->throws < o->throws_requested)
        fprintf(out, ": the throws above are the stream's first %llu, all made (a run of that many gives these "
                     "hits)\n",
                (unsigned long long)o->throws);
    else if (o->cut_leg == PIMC_LEG_SERIAL)
        fprintf(out, ": the parallel leg and the result are complete%s\n",
                o->serial.runs > 0 ? ", and so are the serial runs before the cut" : "; no serial time");
    else
        fputs(": the result and the timed runs before the cut are complete\n", out);
}

/* The cores of the usable CPUs, and where the team's threads are: on one
 * core each, on the hardware threads of fewer cores than threads (SMT,
 * necessarily or not), or SMT-SHARED: on siblings while cores are free. */
static void print_topology_lines(FILE *out, const struct pimc_record *rec)
{
    char text[256];
    pimc_describe_topology(&rec->context->topology, text, sizeof text);
    fprintf(out, "  %-13s %s%s\n", "topology", text, rec->outcome->ranks > 1 ? " (each rank's)" : "");
    const struct pimc_placement *p = &rec->placement;
    if (p->threads == 0)
        return;
    fprintf(out, "  %-13s %d thread%s on %d core%s%s", "placement", p->threads, p->threads == 1 ? "" : "s",
            p->cores_used, p->cores_used == 1 ? "" : "s", rec->outcome->ranks > 1 ? " a rank" : "");
    if (p->smt_shared)
        fprintf(out, " while %d core%s free: SMT-SHARED, threads on SMT siblings (or one hardware thread); "
                     "OMP_PLACES=cores gives each its own core\n",
                p->cores_free, p->cores_free == 1 ? " is" : "s are");
    else if (p->threads > p->cores_used)
        fprintf(out, ": more threads than cores, hardware threads share them\n");
    else
        fputc('\n', out);
}

void pimc_print_report(FILE *out, const struct pimc_record *rec)
{
    const struct pimc_outcome *o = rec->outcome;
    const struct pimc_figures *f = &rec->figures;
    const struct pimc_context *c = rec->context;
    fprintf(out, "pimc-omp %s  Monte Carlo pi, %s stream, seed %llu\n", c->version,
            rec->rng != NULL ? rec->rng : PIMC_RNG_DEFAULT_NAME, (unsigned long long)rec->seed);
    const int workers = o->threads * o->ranks;
    const char *oversubscribed = pimc_oversubscribed(c, o->threads) ? " OVERSUBSCRIBED" : "";
    if (o->ranks > 1)
        fprintf(out, "  %-13s %d = %d ranks x %d threads (threads from %s; %d usable CPU%s a rank)%s\n", "threads",
                workers, o->ranks, o->threads, rec->threads_source, c->usable_cpus, c->usable_cpus == 1 ? "" : "s",
                oversubscribed);
    else
        fprintf(out, "  %-13s %d (from %s; %d usable CPU%s)%s\n", "threads", o->threads, rec->threads_source,
                c->usable_cpus, c->usable_cpus == 1 ? "" : "s", oversubscribed);
    fprintf(out, "  %-13s %llu (%.4g per thread", "throws", (unsigned long long)o->throws,
            (double)o->throws / workers);
    if (o->throws_sized) /* THROWS left out: the least of 1e9 and a size timed well here */
        fprintf(out, "; default, sized for a %.1f s parallel leg here", PIMC_SIZED_LEG_S);
    fputc(')', out);
    if (o->throws < o->throws_requested)
        fprintf(out, " of %llu asked: PARTIAL, stopped by a signal", (unsigned long long)o->throws_requested);
    fputc('\n', out);
    fprintf(out, "  %-13s %llu\n", "hits", (unsigned long long)o->hits);
    if (f->has_estimate) {
        fprintf(out, "  %-13s %.10f\n", "pi estimate", f->pi);
        fprintf(out, "  %-13s %.3e (standard error %.3e, z-score %+.2f)\n", "error", f->abs_error, f->std_error,
                f->z_score);
    } else {
        fprintf(out, "  %-13s none: no throws were made\n", "pi estimate");
    }
    /* A cut first run's time is that of more throws than its prefix: no rate. */
    const bool whole = o->throws == o->throws_requested;
    if (o->parallel.runs > 0)
        print_seconds_line(out, "parallel time", &o->parallel, (double)o->throws, workers, whole);
    if (o->serial.runs > 0)
        print_seconds_line(out, "serial time", &o->serial, (double)o->throws, 1, whole);
    if (o->partial)
        print_stop_line(out, rec);
    if (rec->checkpoint != NULL) {
        fprintf(out, "  %-13s skipped: a checkpointed run (times are compute time summed over its segments)\n",
                "serial time");
        if (rec->throws_resumed == o->throws_requested)
            fprintf(out, "  %-13s %s: the run was complete after %llu segment%s; nothing thrown now\n", "checkpoint",
                    rec->checkpoint, (unsigned long long)rec->segments, rec->segments == 1 ? "" : "s");
        else if (rec->throws_resumed == 0)
            fprintf(out, "  %-13s %s: segment %llu, nothing done before it\n", "checkpoint", rec->checkpoint,
                    (unsigned long long)rec->segments);
        else
            fprintf(out, "  %-13s %s: segment %llu, %llu throws resumed from it\n", "checkpoint", rec->checkpoint,
                    (unsigned long long)rec->segments, (unsigned long long)rec->throws_resumed);
    }
    char short_legs[32];
    if (f->has_speedup && pimc_too_short(o, short_legs, sizeof short_legs))
        fprintf(out, "  %-13s %.3f on %d threads: not a speed result, a leg is too short to time\n", "speedup",
                f->speedup, workers);
    else if (f->has_speedup)
        fprintf(out, "  %-13s %.3f on %d threads, parallel efficiency %.1f%%\n", "speedup", f->speedup, workers,
                100.0 * f->efficiency);
    fprintf(out, "  %-13s %s%s\n", "kernel", pimc_kernel_name(rec->kernel),
            rec->kernel_asked == PIMC_KERNEL_AUTO ? " (auto: fastest this CPU runs)" : " (forced by --kernel)");
    fprintf(out, "  %-13s %s\n", "compiler", c->compiler);
    fprintf(out, "  %-13s %s; OMP_PROC_BIND=%s OMP_PLACES=%s\n", "OpenMP", c->openmp,
            *c->omp_proc_bind ? c->omp_proc_bind : "(unset)", *c->omp_places ? c->omp_places : "(unset)");
    if (o->ranks > 1) {
        fprintf(out, "  %-13s %s\n", "MPI", c->mpi_library);
        fprintf(out, "  %-13s %s; CPU %s\n", "hosts", c->hosts, c->cpu_model);
    } else {
        fprintf(out, "  %-13s %s, %s\n", "host", c->host, c->cpu_model);
    }
    print_topology_lines(out, rec);
    if (!o->hits_agree)
        fprintf(out, "  %-13s FAILED: runs of the same throws gave different hits\n", "verification");
    else if (!f->has_estimate)
        fprintf(out, "  %-13s none: no estimate to verify\n", "verification");
    else
        fprintf(out, "  %-13s %s %.2f standard errors %s pi (limit %.0f)\n", "verification",
                f->verified ? "PASSED: estimate within" : "FAILED: estimate", fabs(f->z_score),
                f->verified ? "of" : "from", PIMC_VERIFY_SIGMAS);
}

/* ---- JSON, written by jansson -------------------------------------------- */

#define JSON_FLAGS (JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY)

/* A text that is not UTF-8 (a path or an environment value can be any bytes)
 * as null: JSON cannot hold it as it is. */
static json_t *json_text(const char *text)
{
    json_t *value = json_string(text);
    return value != NULL ? value : json_null();
}

static json_t *json_of(const struct field *f)
{
    switch (f->kind) {
    case FIELD_TEXT:
        return json_text(f->text);
    case FIELD_COUNT:
        return json_integer((json_int_t)f->count);
    case FIELD_REAL:
        return json_real(f->real);
    default:
        return json_null();
    }
}

/* jansson holds integers as json_int_t, a signed 64-bit type: a seed above
 * 2^63-1 (seeds go to 2^64-1) would come out negative, and a reader refuses
 * it as a number ("too big integer"). So a seed up to 2^63-1 is a JSON
 * integer, and one past it its decimal digits as a string, which every reader
 * of ours takes back exactly (docs/usage.md). The seed member is written
 * between the members before and after it, which jansson writes (JSON_EMBED:
 * without the braces). Takes both objects. */
static void dump_with_seed(FILE *out, json_t *before, uint64_t seed, json_t *after)
{
    const bool as_string = seed > (uint64_t)INT64_MAX;
    fputc('{', out);
    json_dumpf(before, out, JSON_FLAGS | JSON_EMBED);
    fprintf(out, "%s\"seed\": %s%llu%s", json_object_size(before) ? ", " : "", as_string ? "\"" : "",
            (unsigned long long)seed, as_string ? "\"" : "");
    if (json_object_size(after) > 0) {
        fputs(", ", out);
        json_dumpf(after, out, JSON_FLAGS | JSON_EMBED);
    }
    fputc('}', out);
    json_decref(before);
    json_decref(after);
}

void pimc_print_json(FILE *out, const struct pimc_record *rec)
{
    pimc_print_json_object(out, rec);
    fputc('\n', out);
}

void pimc_print_json_object(FILE *out, const struct pimc_record *rec)
{
    struct field f[PIMC_COLUMN_COUNT];
    collect_fields(rec, f);
    json_t *before = allocated(json_object()), *after = allocated(json_object());
    for (int c = 0; c < PIMC_COLUMN_COUNT; c++)
        if (c != PIMC_COLUMN_SEED)
            json_object_set_new(c < PIMC_COLUMN_SEED ? before : after, pimc_column_names[c], json_of(&f[c]));
    dump_with_seed(out, before, f[PIMC_COLUMN_SEED].count, after);
}

/* ---- a regression check's verdicts -------------------------------------- */

void pimc_print_check_plan(FILE *out, const struct pimc_check_plan *p)
{
    fprintf(out, "check: baseline %s: %d row%s of kernel %s, %d thread%s, %llu throws on \"%s\"%s; seed %llu; "
                 "measuring %d round%s%s%s",
            p->baseline_path, p->rows, p->rows == 1 ? "" : "s", pimc_kernel_name(p->kernel), p->threads,
            p->threads == 1 ? "" : "s", (unsigned long long)p->throws, p->cpu_model,
            !p->same_cpu ? " (not this CPU)"
            : p->unsigned_rows
                ? " (this CPU's name; the rows have no cpu_signature, so they may be of another model that shares it: "
                  "add rows of this one)"
                : " (this CPU)",
            (unsigned long long)p->seed, p->rounds,
            p->rounds == 1 ? "" : "s", p->serial ? " of a parallel and a 1-thread run" : " of a parallel run",
            p->scalar ? " and a 1-thread scalar run" : "");
    if (p->checkpointed_rows > 0)
        fprintf(out, "; %d checkpointed or resumed row%s left out (compute time summed over segments is not a "
                     "timing reference)",
                p->checkpointed_rows, p->checkpointed_rows == 1 ? "" : "s");
    fputc('\n', out);
}

void pimc_print_check(FILE *out, const struct pimc_check_summary *s)
{
    for (int i = 0; i < s->metric_count; i++)
        fprintf(out, "check %s: %s %s\n", s->metrics[i].name, pimc_verdict_name(s->metrics[i].verdict),
                s->metrics[i].text);
    if (*s->outcome.failing)
        fprintf(out, "check: REGRESSION (%s)\n", s->outcome.failing);
    else if (*s->outcome.unsure)
        fprintf(out, "check: INCONCLUSIVE (%s): not a regression shown, nor a pass (their lines say why); exit 0\n",
                s->outcome.unsure);
    else
        fprintf(out, "check: PASS\n");
}

static json_t *json_number_or_null(bool present, double value)
{
    return present && isfinite(value) ? json_real(value) : json_null();
}

void pimc_print_check_json(FILE *out, const struct pimc_check_summary *s)
{
    json_t *metrics = allocated(json_array());
    for (int i = 0; i < s->metric_count; i++) {
        const struct pimc_metric *m = &s->metrics[i];
        json_array_append_new(metrics, json_pack("{s:s, s:s, s:o, s:o, s:o}", "metric", m->name, "verdict",
                                                 pimc_verdict_name(m->verdict), "measured",
                                                 json_number_or_null(m->has_values, m->measured), "baseline",
                                                 json_number_or_null(m->has_values, m->baseline), "detail",
                                                 json_text(m->text)));
    }
    json_t *before = json_pack("{s:s, s:i, s:o, s:s, s:i, s:I}", "check", s->outcome.final, "exit_status",
                               s->outcome.exit_status, "baseline", json_text(s->baseline_path), "kernel",
                               pimc_kernel_name(s->kernel), "threads", s->threads, "throws", (json_int_t)s->throws);
    json_t *after = json_pack("{s:f, s:b, s:o}", "tolerance", s->tolerance, "same_cpu_model", s->same_cpu,
                              "metrics", metrics);
    dump_with_seed(out, allocated(before), s->seed, allocated(after));
    fputc('\n', out);
}

/* ---- CSV, quoted by libcsv ----------------------------------------------- */

struct text_buffer {
    char *data;
    size_t used, size;
};

static char *reserve(struct text_buffer *b, size_t more)
{
    if (b->size - b->used < more + 1) {
        b->size = 2 * (b->used + more + 1);
        b->data = allocated(realloc(b->data, b->size));
    }
    return b->data + b->used;
}

static void put(struct text_buffer *b, const char *s, size_t n)
{
    memcpy(reserve(b, n), s, n);
    b->used += n;
    b->data[b->used] = '\0';
}

/* RFC 4180: a field is quoted (by libcsv, which doubles the quotes in it) only
 * when it holds a comma, a quote or a line break. */
static void put_csv_field(struct text_buffer *b, const char *value)
{
    const size_t n = strlen(value);
    if (strpbrk(value, ",\"\r\n") == NULL) {
        put(b, value, n);
        return;
    }
    const size_t quoted = csv_write(NULL, 0, value, n);
    csv_write(reserve(b, quoted), quoted, value, n);
    b->used += quoted;
    b->data[b->used] = '\0';
}

const char *pimc_csv_header(void)
{
    static struct text_buffer header;
    if (header.used == 0)
        for (int c = 0; c < PIMC_COLUMN_COUNT; c++) {
            if (c)
                put(&header, ",", 1);
            put_csv_field(&header, pimc_column_names[c]);
        }
    return header.data;
}

/* The reason in error[size], and the exit status of a file not written:
 * `return write_error(error, size, ...)`. */
#define write_error(error, size, ...) (pimc_error_message(error, size, __VA_ARGS__), PIMC_EXIT_CANNOT_WRITE)

/* flock, through signals. A file system without locks (Lustre mounted
 * noflock, NFS without lockd) fails it: the row is still written, since one
 * job's row is worth more than the guarantee, and the user is told once, with
 * the file's name, that concurrent writers to it may interleave. */
static bool lock(struct pimc_csv *csv, int how)
{
    int status;
    while ((status = flock(csv->fd, how)) != 0 && errno == EINTR)
        ;
    if (status == 0)
        return true;
    if (!csv->lock_warned)
        fprintf(stderr, "pimc-omp: warning: cannot lock CSV '%s': %s; rows that other jobs append at the same "
                        "time may interleave (give each job its own file there)\n",
                csv->path, strerror(errno));
    csv->lock_warned = true;
    return false;
}

static void unlock(struct pimc_csv *csv, bool locked)
{
    if (locked)
        flock(csv->fd, LOCK_UN);
}

/* The first line of a non-empty file must be our header, or rows would land
 * under columns that mean something else. Columns are only ever added at the
 * end, so a first line that is our header cut short after a column is an
 * older pimc-omp's: the message says so, since a user upgrading mid-study
 * meets exactly that. */
static int check_header(int fd, const char *path, char *error, size_t size)
{
    const char *header = pimc_csv_header();
    size_t length = strlen(header);
    char *first = allocated(malloc(length + 2));
    ssize_t got = pread(fd, first, length + 1, 0);
    /* A file of the header alone may have lost its line end: ends_whole() then
     * starts the first row on a new line. */
    bool same = got >= (ssize_t)length && memcmp(first, header, length) == 0 &&
                (got == (ssize_t)length || first[length] == '\n' || first[length] == '\r');
    size_t line = 0;
    while (got > 0 && line < (size_t)got && first[line] != '\n' && first[line] != '\r')
        line++;
    const bool older = !same && got > 0 && line < (size_t)got && line < length && header[line] == ',' &&
                       memcmp(first, header, line) == 0;
    int old_columns = 1;
    for (size_t i = 0; older && i < line; i++)
        old_columns += first[i] == ',';
    free(first);
    if (got < 0)
        return write_error(error, size, "cannot read CSV '%s': %s", path, strerror(errno));
    if (older)
        return write_error(error, size,
                           "CSV '%s' was written by an older pimc-omp: it has the first %d of the %d columns "
                           "this version writes; append to a new file (--check, bench/table and bench/plot still "
                           "read the old one)",
                           path, old_columns, PIMC_COLUMN_COUNT);
    if (!same)
        return write_error(error, size,
                         "CSV '%s' holds other columns than this version of pimc-omp writes; "
                         "append to a new file instead",
                         path);
    return 0;
}

/* Fields of the last record, for ends_whole(). */
struct last_record {
    int fields, last_fields;
};

static void on_field(void *field, size_t length, void *data)
{
    (void)field, (void)length;
    ((struct last_record *)data)->fields++;
}

static void on_record(int terminator, void *data)
{
    (void)terminator;
    struct last_record *r = data;
    r->last_fields = r->fields;
    r->fields = 0;
}

/* A file of `size` bytes whose last byte is not a line end: a writer killed
 * mid-row (an older pimc-omp, or another program), or an editor that drops
 * the last newline. When that last line is a whole row (every column, no
 * quote left open), *newline_first: our row starts on a new line. Otherwise
 * the file is refused, naming the line, and is left as it is: a row glued to
 * a torn one would make both unreadable. */
static int ends_whole(int fd, const char *path, off_t size, bool *newline_first, char *error, size_t error_size)
{
    char last;
    *newline_first = false;
    if (size == 0)
        return 0;
    ssize_t got = pread(fd, &last, 1, size - 1);
    if (got == 1 && last == '\n')
        return 0;
    if (got != 1)
        return write_error(error, error_size, "cannot read CSV '%s': %s", path,
                           got < 0 ? strerror(errno) : "it shrank while being read");
    /* Rare: parse the whole file, as a reader would, to find its last record. */
    struct csv_parser parser;
    struct last_record record = {0};
    size_t lines = 1;
    char *buffer = allocated(malloc(1 << 16));
    bool parsed = csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) == 0;
    for (off_t at = 0; parsed && at < size; at += got) {
        got = pread(fd, buffer, 1 << 16, at);
        if (got <= 0)
            break;
        for (ssize_t i = 0; i < got; i++)
            lines += buffer[i] == '\n';
        parsed = csv_parse(&parser, buffer, (size_t)got, on_field, on_record, &record) == (size_t)got;
    }
    const int read_errno = errno;
    parsed = parsed && got >= 0 && csv_fini(&parser, on_field, on_record, &record) == 0;
    csv_free(&parser);
    free(buffer);
    if (got < 0)
        return write_error(error, error_size, "cannot read CSV '%s': %s", path, strerror(read_errno));
    if (parsed && record.last_fields == PIMC_COLUMN_COUNT) {
        *newline_first = last != '\r'; /* a row ended by a lone CR gets its LF */
        return 0;
    }
    return write_error(error, error_size,
                       "CSV '%s' ends in a row cut short: its last line (%zu) has no line end and %s; "
                       "complete or remove that line, or append to a new file",
                       path, lines,
                       !parsed ? "a quoted field left open"
                               : record.last_fields < PIMC_COLUMN_COUNT ? "too few fields" : "too many fields");
}

static int open_for_append(struct pimc_csv *csv, char *error, size_t size)
{
    struct stat st;
    csv->fd = open(csv->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (csv->fd < 0)
        return write_error(error, size, "cannot write CSV '%s': %s; give a path you may write to", csv->path,
                         strerror(errno));
    if (fstat(csv->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(csv->fd);
        csv->fd = -1;
        return write_error(error, size, "cannot write CSV '%s': not a regular file", csv->path);
    }
    return 0;
}

int pimc_csv_open(struct pimc_csv *csv, const char *path, char *error, size_t size)
{
    struct stat st;
    *csv = (struct pimc_csv){.path = path, .fd = -1};
    csv->created = stat(path, &st) != 0;
    int status = open_for_append(csv, error, size);
    if (status == 0 && fstat(csv->fd, &st) == 0 && st.st_size > 0) {
        const bool locked = lock(csv, LOCK_SH);
        bool newline_first;
        status = check_header(csv->fd, path, error, size);
        if (status == 0 && fstat(csv->fd, &st) == 0)
            status = ends_whole(csv->fd, path, st.st_size, &newline_first, error, size);
        unlock(csv, locked);
        if (status != 0) {
            close(csv->fd);
            csv->fd = -1;
        }
    }
    return status;
}

/* The row in whole or not at all: a write that fails part way (a full disk
 * takes what fits, then says ENOSPC on the next call), or a flush to the disk
 * that fails (NFS reports a full quota there), is cut back to the file's size
 * before it. Only under the lock, or while no one else has appended since: a
 * row of another writer is never cut. */
static int write_whole(struct pimc_csv *csv, bool locked, off_t before, const struct text_buffer *out,
                       char *error, size_t size)
{
    int failure = pimc_write_all(csv->fd, out->data, out->used);
    if (failure == 0)
        failure = pimc_sync_data(csv->fd);
    if (failure == 0)
        return 0;
    struct stat now;
    const char *why_not_cut = NULL;
    if (fstat(csv->fd, &now) != 0) {
        why_not_cut = strerror(errno);
    } else if (now.st_size == before) {
        /* nothing went in */
    } else if (!locked && now.st_size > before + (off_t)out->used) {
        why_not_cut = "another writer appended meanwhile, and there is no lock";
    } else {
        int cut;
        while ((cut = ftruncate(csv->fd, before)) != 0 && errno == EINTR)
            ;
        if (cut != 0)
            why_not_cut = strerror(errno);
    }
    if (why_not_cut == NULL)
        return write_error(error, size, "cannot write CSV '%s': %s; the row was not added, the file is as it was",
                           csv->path, strerror(failure));
    return write_error(error, size, "cannot write CSV '%s': %s; and it could not be cut back to its %lld bytes "
                       "(%s): its last line may be cut short",
                       csv->path, strerror(failure), (long long)before, why_not_cut);
}

int pimc_csv_append(struct pimc_csv *csv, const struct pimc_record *record, char *error, size_t size)
{
    struct field f[PIMC_COLUMN_COUNT];
    struct text_buffer row = {0};
    char number[64];
    collect_fields(record, f);
    for (int c = 0; c < PIMC_COLUMN_COUNT; c++) {
        if (c)
            put(&row, ",", 1);
        put_csv_field(&row, number_text(&f[c], number, sizeof number));
    }
    put(&row, "\n", 1);

    struct stat st;
    int status = 0;
    bool locked = lock(csv, LOCK_EX);
    /* Another process that created this file and wrote nothing removes it at
     * its end, under the lock: then ours is unlinked, and a new one is due. */
    for (int tries = 0; locked && fstat(csv->fd, &st) == 0 && st.st_nlink == 0 && tries < 100; tries++) {
        unlock(csv, locked);
        close(csv->fd);
        if ((status = open_for_append(csv, error, size)) != 0) {
            free(row.data);
            return status;
        }
        locked = lock(csv, LOCK_EX);
    }
    /* Another writer may have created the file since we opened it: decide on the
     * header only under the lock, and write header and row at once. */
    struct text_buffer out = {0};
    bool newline_first = false;
    if (fstat(csv->fd, &st) != 0) {
        status = write_error(error, size, "cannot write CSV '%s': %s", csv->path, strerror(errno));
    } else if (st.st_size == 0) {
        put(&out, pimc_csv_header(), strlen(pimc_csv_header()));
        put(&out, "\n", 1);
    } else if ((status = check_header(csv->fd, csv->path, error, size)) == 0) {
        status = ends_whole(csv->fd, csv->path, st.st_size, &newline_first, error, size);
    }
    if (newline_first)
        put(&out, "\n", 1);
    put(&out, row.data, row.used);
    if (status == 0)
        status = write_whole(csv, locked, st.st_size, &out, error, size);
    unlock(csv, locked);
    free(out.data);
    free(row.data);
    if (status == 0)
        csv->created = false;
    return status;
}

/* A file this run created and left empty is removed, but only under the lock,
 * and only while it is still the empty file we created: by path alone, it
 * could be another job's file with a row in it by now. Without a lock nothing
 * is removed. */
void pimc_csv_close(struct pimc_csv *csv)
{
    if (csv->fd < 0)
        return;
    if (csv->created) {
        struct stat ours, named;
        const bool locked = lock(csv, LOCK_EX);
        if (locked && fstat(csv->fd, &ours) == 0 && ours.st_size == 0 && ours.st_nlink > 0 &&
            stat(csv->path, &named) == 0 && named.st_dev == ours.st_dev && named.st_ino == ours.st_ino)
            unlink(csv->path);
        unlock(csv, locked);
    }
    close(csv->fd);
    csv->fd = -1;
}

void pimc_utc_timestamp(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- study tables ------------------------------------------------------- */

#define TABLE_COLUMNS 8

struct table {
    int columns, rows;
    const char *head[TABLE_COLUMNS];
    char (*cell)[TABLE_COLUMNS][48]; /* rows */
};

static void print_table(FILE *out, const struct table *t, bool markdown)
{
    int width[TABLE_COLUMNS];
    for (int c = 0; c < t->columns; c++) {
        width[c] = (int)strlen(t->head[c]);
        for (int r = 0; r < t->rows; r++)
            if ((int)strlen(t->cell[r][c]) > width[c])
                width[c] = (int)strlen(t->cell[r][c]);
    }
    const char *sep = markdown ? " | " : "  ";
    fputs(markdown ? "| " : "", out);
    for (int c = 0; c < t->columns; c++)
        fprintf(out, "%s%-*s", c ? sep : "", width[c], t->head[c]);
    fputs(markdown ? " |\n" : "\n", out);
    if (markdown) {
        fputs("|", out);
        for (int c = 0; c < t->columns; c++) { /* first column left, numbers right */
            fputs(c ? " " : " ", out);
            for (int i = 0; i < width[c] - 1; i++)
                fputc('-', out);
            fputs(c ? ":" : "-", out);
            fputs(" |", out);
        }
        fputc('\n', out);
    }
    for (int r = 0; r < t->rows; r++) {
        fputs(markdown ? "| " : "", out);
        for (int c = 0; c < t->columns; c++)
            fprintf(out, c ? "%s%*s" : "%s%-*s", c ? sep : "", width[c], t->cell[r][c]);
        fputs(markdown ? " |\n" : "\n", out);
    }
}

/* Cores the point ran on, all ranks: a rank's cores_used times the ranks;
 * without a placement (no hwloc), the threads, as before there were cores. */
static int cores_of(const struct pimc_record *p)
{
    const struct pimc_outcome *o = p->outcome;
    const int per_rank = p->placement.threads > 0 ? p->placement.cores_used : o->threads;
    return per_rank * (o->ranks > 1 ? o->ranks : 1);
}

static void note_of(const struct pimc_record *p, char *note, size_t size)
{
    const struct pimc_outcome *o = p->outcome;
    const bool placed = p->placement.threads > 0;
    char short_legs[32];
    const char *words[] = {
        pimc_oversubscribed(p->context, o->threads) ? "oversubscribed" : NULL,
        placed && p->placement.smt_shared                                  ? "SMT-shared"
        : placed && p->placement.cores_used < o->threads                   ? "hw threads"
                                                                           : NULL,
        o->parallel.runs > 1 && o->parallel.max_s > PIMC_NOISY_SPREAD * o->parallel.min_s ? "noisy" : NULL,
        o->throws == o->throws_requested && pimc_too_short(o, short_legs, sizeof short_legs) ? "too short" : NULL,
        o->throws < o->throws_requested ? "partial"
        : o->partial                    ? "stopped"
        : !p->figures.verified          ? "FAILED verification"
                                        : NULL,
    };
    size_t used = 0;
    note[0] = '\0';
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (words[i] != NULL && used < size)
            used += (size_t)snprintf(note + used, size - used, "%s%s", used ? " " : "", words[i]);
}

void pimc_print_study_table(FILE *out, const struct pimc_record *points, int count, bool markdown)
{
    if (count == 0)
        return;
    struct table *t = allocated(calloc(1, sizeof *t));
    t->cell = allocated(calloc((size_t)count, sizeof *t->cell));
    const struct pimc_record *first = &points[0];
    const bool sizes = strcmp(first->mode, "sizes") == 0, weak = strcmp(first->mode, "weak") == 0;
    fprintf(out, "%s%s%s: %s, %s, %s, kernel %s, %s, %s; %d timed run%s per point (medians)%s\n",
            markdown ? "**" : "", sizes ? "Serial against parallel time" : weak ? "Weak scaling" : "Strong scaling",
            markdown ? "**" : "",
            first->context->host, first->context->cpu_model, first->context->compiler,
            pimc_kernel_name(first->kernel), first->context->openmp, first->context->version,
            first->repeats, first->repeats == 1 ? "" : "s", markdown ? "\n" : "");
    if (!sizes)
        fprintf(out, "%llu throws%s%s\n%s",
                (unsigned long long)first->outcome->throws_requested,
                weak ? " per thread" : "",
                first->outcome->throws_sized ? " (default, sized for a 0.2 s leg on the most threads here)" : "",
                markdown ? "\n" : "");
    if (sizes) {
        static const char *const head[] = {"throws", "serial [s]", "parallel [s]", "speedup", "faster", "note"};
        t->columns = 6;
        memcpy(t->head, head, sizeof head);
    } else {
        static const char *const head[] = {"CPU cores", "threads", "run time [s]", "min [s]",
                                           "max [s]",   "speedup", "efficiency",   "note"};
        t->columns = 8;
        memcpy(t->head, head, sizeof head);
        if (weak)
            t->head[5] = "scaled speedup";
    }
    /* The threads column only where some point's threads are not its cores. */
    bool threads_column = false;
    for (int i = 0; i < count && !sizes; i++)
        threads_column =
            threads_column || cores_of(&points[i]) != points[i].outcome->threads * points[i].outcome->ranks;
    uint64_t break_even = 0;
    for (int i = 0; i < count; i++) {
        const struct pimc_record *p = &points[i];
        const struct pimc_outcome *o = p->outcome;
        const struct pimc_figures *f = &p->figures;
        char (*cell)[48] = t->cell[t->rows++];
        if (sizes) {
            const bool parallel_wins = f->has_speedup && f->speedup > 1.0;
            snprintf(cell[0], 48, "%llu", (unsigned long long)o->throws);
            snprintf(cell[1], 48, "%.6f", o->serial.median_s);
            snprintf(cell[2], 48, "%.6f", o->parallel.median_s);
            snprintf(cell[3], 48, f->has_speedup ? "%.2f" : "-", f->speedup);
            snprintf(cell[4], 48, "%s", !f->has_speedup ? "-" : parallel_wins ? "parallel" : "serial");
            note_of(p, cell[5], 48);
            if (!parallel_wins)
                break_even = 0;
            else if (break_even == 0)
                break_even = o->throws;
        } else {
            /* A hybrid point's ranks x threads stay in sight: in the threads
             * column, or beside the cores when that column is dropped. */
            if (o->ranks > 1 && !threads_column)
                snprintf(cell[0], 48, "%d (%dx%d)", cores_of(p), o->ranks, o->threads);
            else
                snprintf(cell[0], 48, "%d", cores_of(p));
            if (o->ranks > 1)
                snprintf(cell[1], 48, "%d (%dx%d)", o->threads * o->ranks, o->ranks, o->threads);
            else
                snprintf(cell[1], 48, "%d", o->threads);
            snprintf(cell[2], 48, "%.4f", o->parallel.median_s);
            snprintf(cell[3], 48, "%.4f", o->parallel.min_s);
            snprintf(cell[4], 48, "%.4f", o->parallel.max_s);
            snprintf(cell[5], 48, f->has_speedup ? "%.2f" : "-", f->speedup);
            snprintf(cell[6], 48, f->has_speedup ? "%.1f%%" : "-", 100.0 * f->efficiency);
            note_of(p, cell[7], 48);
        }
    }
    if (!sizes && !threads_column) { /* drop it: the tutorial's own columns */
        for (int r = 0; r < t->rows; r++)
            memmove(&t->cell[r][1], &t->cell[r][2], (size_t)(t->columns - 2) * sizeof t->cell[r][0]);
        memmove(&t->head[1], &t->head[2], (size_t)(t->columns - 2) * sizeof t->head[0]);
        t->columns--;
    }
    print_table(out, t, markdown);
    free(t->cell);
    if (sizes) {
        if (break_even != 0)
            fprintf(out, "%sbreak-even: with %d threads the parallel run is faster from %llu throws up\n",
                    markdown ? "\n" : "", points[0].outcome->threads, (unsigned long long)break_even);
        else
            fprintf(out, "%sbreak-even: not reached: the parallel run is not faster at the largest size\n",
                    markdown ? "\n" : "");
    }
    free(t);
}
