#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- one record, named fields: the single source of the CSV and JSON columns */

enum field_kind { FIELD_TEXT, FIELD_COUNT, FIELD_REAL, FIELD_NONE };

struct field {
    const char *name;
    enum field_kind kind;
    const char *text;
    uint64_t count;
    double real;
};

#define FIELD_COUNT_MAX 48

/* Column order is an interface: tools read these names; add new ones at the end. */
static const char *const field_names[] = {
    "timestamp", "host", "cpu_model", "kernel", "compiler", "threads", "throws", "seed", "hits", "pi",
    "abs_error", "std_error", "serial_s", "parallel_s", "speedup", "efficiency", "throws_per_s", "z_score",
    "throws_per_s_per_thread", "status", "throws_requested", "mode", "run", "repeats", "serial_min_s",
    "serial_max_s", "parallel_min_s", "parallel_max_s", "ranks", "threads_per_rank", "usable_cpus",
    "oversubscribed", "threads_source", "openmp", "omp_proc_bind", "omp_places", "omp_schedule", "version",
    "slurm_job_id", "nodes", "rng", "segments", "throws_resumed",
};
#define FIELDS (sizeof field_names / sizeof field_names[0])

struct record_fields {
    struct field f[FIELDS];
    size_t n;
};

static void add(struct record_fields *r, enum field_kind kind, const char *text, uint64_t count, double real)
{
    r->f[r->n] = (struct field){field_names[r->n], kind, text, count, real};
    r->n++;
}
static void add_text(struct record_fields *r, const char *text) { add(r, FIELD_TEXT, text, 0, 0); }
static void add_count(struct record_fields *r, uint64_t count) { add(r, FIELD_COUNT, NULL, count, 0); }
static void add_real(struct record_fields *r, double real) { add(r, FIELD_REAL, NULL, 0, real); }
static void add_real_if(struct record_fields *r, bool present, double real)
{
    add(r, present ? FIELD_REAL : FIELD_NONE, NULL, 0, real);
}

static void collect_fields(const struct pimc_record *rec, struct record_fields *r)
{
    const struct pimc_outcome *o = rec->outcome;
    const struct pimc_figures *f = &rec->figures;
    const struct pimc_context *c = rec->context;
    const bool serial = o->serial.runs > 0, parallel = o->parallel.runs > 0;
    r->n = 0;
    add_text(r, rec->timestamp);
    add_text(r, c->host);
    add_text(r, c->cpu_model);
    add_text(r, pimc_kernel_name(rec->kernel));
    add_text(r, c->compiler);
    add_count(r, (uint64_t)o->threads * (uint64_t)o->ranks);
    add_count(r, o->throws);
    add_count(r, rec->options->seed);
    add_count(r, o->hits);
    add_real(r, f->pi);
    add_real(r, f->abs_error);
    add_real(r, f->std_error);
    add_real_if(r, serial, o->serial.median_s);
    add_real_if(r, parallel, o->parallel.median_s);
    add_real_if(r, f->has_speedup, f->speedup);
    add_real_if(r, f->has_speedup, f->efficiency);
    add_real_if(r, parallel, f->throws_per_s);
    add_real(r, f->z_score);
    add_real_if(r, parallel, f->throws_per_s_per_thread);
    add_text(r, o->partial ? "partial" : "complete");
    add_count(r, o->throws_requested);
    add_text(r, rec->mode);
    add_text(r, rec->run);
    add_count(r, (uint64_t)rec->options->repeats);
    add_real_if(r, serial, o->serial.min_s);
    add_real_if(r, serial, o->serial.max_s);
    add_real_if(r, parallel, o->parallel.min_s);
    add_real_if(r, parallel, o->parallel.max_s);
    add_count(r, (uint64_t)o->ranks);
    add_count(r, (uint64_t)o->threads);
    add_count(r, (uint64_t)c->usable_cpus);
    add_count(r, pimc_oversubscribed(c, o->threads));
    add_text(r, rec->options->threads_source);
    add_text(r, c->openmp);
    add_text(r, c->omp_proc_bind);
    add_text(r, c->omp_places);
    add_text(r, c->omp_schedule);
    add_text(r, c->version);
    add_text(r, c->slurm_job_id);
    add_count(r, (uint64_t)(o->ranks > 1 ? c->nodes : 1));
    add_text(r, rec->rng != NULL ? rec->rng : PIMC_RNG_DEFAULT_NAME);
    add_count(r, rec->segments > 0 ? rec->segments : 1);
    add_count(r, rec->throws_resumed);
}

/* %.17g round-trips a double; speeds and times do not need it, but the pi
 * estimate and its error do, and one rule for all columns is simpler. */
static int format_value(char *buf, size_t size, const struct field *f)
{
    switch (f->kind) {
    case FIELD_COUNT:
        return snprintf(buf, size, "%llu", (unsigned long long)f->count);
    case FIELD_REAL:
        return snprintf(buf, size, "%.17g", f->real);
    default:
        return snprintf(buf, size, "%s", f->kind == FIELD_TEXT ? f->text : "");
    }
}

/* ---- text report --------------------------------------------------------- */

static void print_seconds_line(FILE *out, const char *label, const struct pimc_leg *leg, double throws,
                               int threads)
{
    fprintf(out, "  %-13s %.6f s", label, leg->median_s);
    if (leg->runs > 1)
        fprintf(out, " (median of %d, min %.6f, max %.6f)", leg->runs, leg->min_s, leg->max_s);
    double rate = throws / leg->median_s;
    fprintf(out, "   %.3f Gthrows/s", rate * 1e-9);
    if (threads > 1)
        fprintf(out, " (%.3f per thread)", rate * 1e-9 / threads);
    fputc('\n', out);
}

void pimc_print_report(FILE *out, const struct pimc_record *rec)
{
    const struct pimc_outcome *o = rec->outcome;
    const struct pimc_figures *f = &rec->figures;
    const struct pimc_context *c = rec->context;
    const struct pimc_options *opt = rec->options;
    fprintf(out, "pimc-omp %s  Monte Carlo pi, Philox4x32-10 stream, seed %llu\n", c->version,
            (unsigned long long)opt->seed);
    const int workers = o->threads * o->ranks;
    const char *oversubscribed = pimc_oversubscribed(c, o->threads) ? " OVERSUBSCRIBED" : "";
    if (o->ranks > 1)
        fprintf(out, "  %-13s %d = %d ranks x %d threads (threads from %s; %d usable CPU%s a rank)%s\n", "threads",
                workers, o->ranks, o->threads, opt->threads_source, c->usable_cpus, c->usable_cpus == 1 ? "" : "s",
                oversubscribed);
    else
        fprintf(out, "  %-13s %d (from %s; %d usable CPU%s)%s\n", "threads", o->threads, opt->threads_source,
                c->usable_cpus, c->usable_cpus == 1 ? "" : "s", oversubscribed);
    fprintf(out, "  %-13s %llu (%.4g per thread)", "throws", (unsigned long long)o->throws,
            (double)o->throws / workers);
    if (o->partial)
        fprintf(out, " of %llu asked: PARTIAL, stopped by a signal", (unsigned long long)o->throws_requested);
    fputc('\n', out);
    fprintf(out, "  %-13s %llu\n", "hits", (unsigned long long)o->hits);
    fprintf(out, "  %-13s %.10f\n", "pi estimate", f->pi);
    fprintf(out, "  %-13s %.3e (standard error %.3e, z-score %+.2f)\n", "error", f->abs_error, f->std_error,
            f->z_score);
    if (o->parallel.runs > 0)
        print_seconds_line(out, "parallel time", &o->parallel, (double)o->throws, workers);
    if (o->serial.runs > 0)
        print_seconds_line(out, "serial time", &o->serial, (double)o->throws, 1);
    if (f->has_speedup)
        fprintf(out, "  %-13s %.3f on %d threads, parallel efficiency %.1f%%\n", "speedup", f->speedup, workers,
                100.0 * f->efficiency);
    fprintf(out, "  %-13s %s%s\n", "kernel", pimc_kernel_name(rec->kernel),
            opt->kernel == PIMC_KERNEL_AUTO ? " (auto: fastest this CPU runs)" : " (forced by --kernel)");
    fprintf(out, "  %-13s %s\n", "compiler", c->compiler);
    fprintf(out, "  %-13s %s; OMP_PROC_BIND=%s OMP_PLACES=%s\n", "OpenMP", c->openmp,
            *c->omp_proc_bind ? c->omp_proc_bind : "(unset)", *c->omp_places ? c->omp_places : "(unset)");
    if (o->ranks > 1) {
        fprintf(out, "  %-13s %s\n", "MPI", c->mpi_library);
        fprintf(out, "  %-13s %s; CPU %s\n", "hosts", c->hosts, c->cpu_model);
    } else {
        fprintf(out, "  %-13s %s, %s\n", "host", c->host, c->cpu_model);
    }
    if (!o->hits_agree)
        fprintf(out, "  %-13s FAILED: runs of the same throws gave different hits\n", "verification");
    else
        fprintf(out, "  %-13s %s: estimate within %.2f standard errors of pi (limit %.0f)\n", "verification",
                f->verified ? "PASSED" : "FAILED", fabs(f->z_score), PIMC_VERIFY_SIGMAS);
}

/* ---- JSON --------------------------------------------------------------- */

void pimc_print_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

void pimc_print_json(FILE *out, const struct pimc_record *rec)
{
    pimc_print_json_object(out, rec);
    fputc('\n', out);
}

void pimc_print_json_object(FILE *out, const struct pimc_record *rec)
{
    struct record_fields r;
    char value[64];
    collect_fields(rec, &r);
    fputc('{', out);
    for (size_t i = 0; i < r.n; i++) {
        const struct field *f = &r.f[i];
        fprintf(out, "%s\"%s\": ", i ? ", " : "", f->name);
        if (f->kind == FIELD_TEXT) {
            pimc_print_json_string(out, f->text);
        } else if (f->kind == FIELD_NONE || (f->kind == FIELD_REAL && !isfinite(f->real))) {
            fputs("null", out);
        } else {
            format_value(value, sizeof value, f);
            fputs(value, out);
        }
    }
    fputc('}', out);
}

/* ---- CSV ---------------------------------------------------------------- */

const char *pimc_csv_header(void)
{
    static char header[1024];
    if (header[0] == '\0') {
        size_t used = 0;
        for (size_t i = 0; i < FIELDS; i++)
            used += (size_t)snprintf(header + used, sizeof header - used, "%s%s", i ? "," : "", field_names[i]);
    }
    return header;
}

/* RFC 4180: quote a field only when it holds a comma, quote or line break. */
static size_t append_csv_field(char *row, size_t used, size_t size, const char *value)
{
    if (strpbrk(value, ",\"\r\n") == NULL)
        return used + (size_t)snprintf(row + used, size - used, "%s", value);
    used += (size_t)snprintf(row + used, size - used, "\"");
    for (const char *p = value; *p && used + 3 < size; p++) {
        if (*p == '"')
            row[used++] = '"';
        row[used++] = *p;
    }
    return used + (size_t)snprintf(row + used, size - used, "\"");
}

static int csv_error(char *error, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
static int csv_error(char *error, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(error, size, format, args);
    va_end(args);
    return 4;
}

/* The first line of a non-empty file must be our header, or rows would land
 * under columns that mean something else. */
static int check_header(int fd, const char *path, char *error, size_t size)
{
    const char *header = pimc_csv_header();
    size_t length = strlen(header);
    char *first = malloc(length + 2);
    if (first == NULL)
        return csv_error(error, size, "out of memory");
    ssize_t got = pread(fd, first, length + 1, 0);
    bool same = got == (ssize_t)length + 1 && memcmp(first, header, length) == 0 &&
                (first[length] == '\n' || first[length] == '\r');
    free(first);
    if (got < 0)
        return csv_error(error, size, "cannot read CSV '%s': %s", path, strerror(errno));
    if (!same)
        return csv_error(error, size,
                         "CSV '%s' holds other columns than this version of pimc-omp writes; "
                         "append to a new file instead",
                         path);
    return 0;
}

int pimc_csv_open(struct pimc_csv *csv, const char *path, char *error, size_t size)
{
    struct stat st;
    csv->path = path;
    csv->created = stat(path, &st) != 0;
    csv->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (csv->fd < 0)
        return csv_error(error, size, "cannot write CSV '%s': %s; give a path you may write to", path,
                         strerror(errno));
    if (fstat(csv->fd, &st) == 0 && !S_ISREG(st.st_mode)) {
        close(csv->fd);
        csv->fd = -1;
        return csv_error(error, size, "cannot write CSV '%s': not a regular file", path);
    }
    if (st.st_size > 0) {
        flock(csv->fd, LOCK_SH);
        int status = check_header(csv->fd, path, error, size);
        flock(csv->fd, LOCK_UN);
        if (status != 0) {
            close(csv->fd);
            csv->fd = -1;
            return status;
        }
    }
    return 0;
}

int pimc_csv_append(struct pimc_csv *csv, const struct pimc_record *record, char *error, size_t size)
{
    struct record_fields r;
    char row[8192], value[300];
    size_t used = 0;
    collect_fields(record, &r);
    for (size_t i = 0; i < r.n; i++) {
        format_value(value, sizeof value, &r.f[i]);
        if (i)
            row[used++] = ',';
        used = append_csv_field(row, used, sizeof row, value);
    }
    used += (size_t)snprintf(row + used, sizeof row - used, "\n");

    struct stat st;
    int status = 0;
    flock(csv->fd, LOCK_EX);
    /* Another writer may have created the file since we opened it: decide on the
     * header only under the lock. */
    if (fstat(csv->fd, &st) == 0 && st.st_size == 0) {
        const char *header = pimc_csv_header();
        if (write(csv->fd, header, strlen(header)) < 0 || write(csv->fd, "\n", 1) < 0)
            status = csv_error(error, size, "cannot write CSV '%s': %s", csv->path, strerror(errno));
    } else {
        status = check_header(csv->fd, csv->path, error, size);
    }
    if (status == 0 && write(csv->fd, row, used) != (ssize_t)used)
        status = csv_error(error, size, "cannot write CSV '%s': %s", csv->path, strerror(errno));
    flock(csv->fd, LOCK_UN);
    if (status == 0)
        csv->created = false;
    return status;
}

void pimc_csv_close(struct pimc_csv *csv)
{
    if (csv->fd < 0)
        return;
    close(csv->fd);
    if (csv->created) {
        struct stat st;
        if (stat(csv->path, &st) == 0 && st.st_size == 0)
            unlink(csv->path);
    }
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
    char cell[PIMC_MAX_LIST + 1][TABLE_COLUMNS][48];
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

static void note_of(const struct pimc_record *p, char *note, size_t size)
{
    const struct pimc_outcome *o = p->outcome;
    const char *words[] = {
        pimc_oversubscribed(p->context, o->threads) ? "oversubscribed" : NULL,
        o->parallel.runs > 1 && o->parallel.max_s > PIMC_NOISY_SPREAD * o->parallel.min_s ? "noisy" : NULL,
        o->partial ? "partial" : !p->figures.verified ? "FAILED verification" : NULL,
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
    struct table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return;
    const struct pimc_record *first = &points[0];
    const bool sizes = strcmp(first->mode, "sizes") == 0, weak = strcmp(first->mode, "weak") == 0;
    fprintf(out, "%s%s%s: %s, %s, %s, kernel %s, %s, %s; %d timed run%s per point (medians)%s\n",
            markdown ? "**" : "", sizes ? "Serial against parallel time" : weak ? "Weak scaling" : "Strong scaling",
            markdown ? "**" : "",
            first->context->host, first->context->cpu_model, first->context->compiler,
            pimc_kernel_name(first->kernel), first->context->openmp, first->context->version,
            first->options->repeats, first->options->repeats == 1 ? "" : "s", markdown ? "\n" : "");
    if (!sizes)
        fprintf(out, "%llu throws%s\n%s", (unsigned long long)first->options->throws, weak ? " per thread" : "",
                markdown ? "\n" : "");
    if (sizes) {
        static const char *const head[] = {"throws", "serial [s]", "parallel [s]", "speedup", "faster", "note"};
        t->columns = 6;
        memcpy(t->head, head, sizeof head);
    } else {
        static const char *const head[] = {"CPU cores", "run time [s]", "min [s]", "max [s]",
                                           "speedup",   "efficiency",   "note"};
        t->columns = 7;
        memcpy(t->head, head, sizeof head);
        if (weak)
            t->head[4] = "scaled speedup";
    }
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
            if (o->ranks > 1)
                snprintf(cell[0], 48, "%d (%dx%d)", o->threads * o->ranks, o->ranks, o->threads);
            else
                snprintf(cell[0], 48, "%d", o->threads);
            snprintf(cell[1], 48, "%.4f", o->parallel.median_s);
            snprintf(cell[2], 48, "%.4f", o->parallel.min_s);
            snprintf(cell[3], 48, "%.4f", o->parallel.max_s);
            snprintf(cell[4], 48, f->has_speedup ? "%.2f" : "-", f->speedup);
            snprintf(cell[5], 48, f->has_speedup ? "%.1f%%" : "-", 100.0 * f->efficiency);
            note_of(p, cell[6], 48);
        }
    }
    print_table(out, t, markdown);
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
