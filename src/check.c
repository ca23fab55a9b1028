/*
 * Regression check (--check BASELINE): measure this build on this machine and
 * compare it with rows an earlier pimc-omp wrote with --csv or --json. Meant
 * for CI and node health checks on machines other jobs share.
 *
 * How it decides, in the order it runs:
 *
 * 1. The baseline is read by column name: a CSV (RFC 4180: quoted fields may
 *    hold commas, quotes and line breaks) or JSON (one object, an array of
 *    objects as --sweep --json prints, or several of these one after another).
 *    A file that cannot be read, lacks a column the check needs, holds a
 *    corrupt row or no complete row is unusable: exit 2 with the reason.
 * 2. The configuration (kernel, threads, throws, seed) is the reference row's:
 *    the latest complete row, preferring this CPU model, then rows with a
 *    serial leg (so that a `--kernel scalar -t 1 --no-serial` reference row is
 *    not taken for the main one). THROWS, --threads, --seed and --kernel replace
 *    its values. The applicable rows are the complete rows with that kernel,
 *    threads and throws: of this CPU model when there are any, else of the
 *    latest such row's model. Rows that --check itself wrote (mode=check),
 *    weak-scaling rows and multi-rank rows are never a timing reference.
 * 3. Measurement: a warm-up of each leg, then --repeat rounds (default 5) of a
 *    parallel run, a 1-thread run of the same kernel and throws (for parallel
 *    efficiency) and a 1-thread scalar run of min(throws, 3e7) (for the
 *    kernel's speed against the scalar path, a ratio measured in one process
 *    that means the same on another CPU). The legs interleave, so a burst of
 *    load from other processes falls on all of them alike.
 * 4. Noise on a shared machine only ever slows a run down. So each timing
 *    metric takes the fastest run and compares it with the baseline's fastest
 *    (its *_min_s columns, over all applicable rows). And the time other work
 *    took from each run is discounted, from what the kernel counts per thread
 *    (/proc/self/task/TID/schedstat): its time on a CPU, which with
 *    paravirtual time accounting leaves out what the hypervisor stole, and its
 *    time ready to run but waiting for a CPU. A 1-thread run would have taken,
 *    alone, its thread's time on a CPU. A parallel run would have taken its
 *    time less the waits of the threads that did the work, spread over the
 *    team. A thread with no work sleeps, and sleep is never discounted: a
 *    parallel leg that leaves its team idle is not excused.
 * 5. Verdicts. hits: equal to every baseline row of the same seed and throws
 *    (any CPU, kernel or threads), all runs agree, and the estimate lies within
 *    5 standard errors of pi; else FAIL, however fast. kernel: the baseline's
 *    path on the same CPU model. A timing metric PASSes at baseline x
 *    (1 - tolerance) or better; below, it FAILs, or is INCONCLUSIVE when other
 *    processes took more than 3/4 of even its best run, or the hypervisor more
 *    than 10% of our CPUs during its best parallel run (steal, counted per CPU
 *    in /proc/stat, cannot be laid on our threads, so it is not discounted,
 *    but it cannot convict either). throughput_per_thread is absolute, so it
 *    is SKIPPED against another CPU model; efficiency and speed_vs_scalar are
 *    compared on any machine.
 * 6. Exit status: 1 when a metric FAILs (the last line, "check: REGRESSION",
 *    names them); otherwise 0, with "check: PASS", or "check: INCONCLUSIVE"
 *    naming the metrics the machine was too busy to judge (not a regression
 *    shown, so not a failure: rerun on a quieter machine); 2 for an unusable
 *    baseline; 4 when the --csv row cannot be written; 128+N on signal N.
 */
#include "check.h"

#include "exit_status.h"
#include "kernel.h"
#include "run.h"
#include "timer.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCALAR_LEG_THROWS UINT64_C(30000000)
#define WARM_UP_THROWS (UINT64_C(1) << 27) /* as the run engine's warm-up */
/* Baseline 1-thread rows shorter than this are startup, not speed. */
#define SPEED_ROW_MIN_THROWS UINT64_C(10000000)
/* A run that other work took more than this share of was mostly someone
 * else's: its slowness proves nothing. */
#define MAX_LOST_SHARE 0.75
/* Steal is not discounted (it cannot be told apart per thread): a slow
 * parallel run during which the hypervisor took more than this share of our
 * CPUs cannot convict. */
#define MAX_STOLEN_SHARE 0.10
#define BASELINE_MAX_BYTES ((size_t)256 << 20)

/* ---- small helpers ------------------------------------------------------ */

static void *grow(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (q == NULL) {
        perror("pimc-omp");
        exit(PIMC_EXIT_FAILURE);
    }
    return q;
}

static char *copy_text(const char *s, size_t n)
{
    char *c = grow(NULL, n + 1);
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

static bool failed(char *why, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
static bool failed(char *why, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(why, size, format, args);
    va_end(args);
    return false;
}

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

/* ---- the baseline as a table of named text cells ------------------------ */

struct table_row {
    char **cells; /* NULL: the column is absent from this row (JSON) */
    int count;
    long where; /* CSV line or JSON object number, for messages */
};

struct table {
    const char *unit; /* "line" or "object" */
    char **names;
    int columns, names_capacity;
    struct table_row *rows;
    int row_count, rows_capacity;
};

static int table_column(const struct table *t, const char *name)
{
    for (int i = 0; i < t->columns; i++)
        if (strcmp(t->names[i], name) == 0)
            return i;
    return -1;
}

static int table_add_column(struct table *t, const char *name)
{
    int column = table_column(t, name);
    if (column >= 0)
        return column;
    if (t->columns == t->names_capacity) {
        t->names_capacity = t->names_capacity ? 2 * t->names_capacity : 64;
        t->names = grow(t->names, (size_t)t->names_capacity * sizeof *t->names);
    }
    t->names[t->columns] = copy_text(name, strlen(name));
    return t->columns++;
}

static struct table_row *table_add_row(struct table *t, long where)
{
    if (t->row_count == t->rows_capacity) {
        t->rows_capacity = t->rows_capacity ? 2 * t->rows_capacity : 64;
        t->rows = grow(t->rows, (size_t)t->rows_capacity * sizeof *t->rows);
    }
    struct table_row *row = &t->rows[t->row_count++];
    *row = (struct table_row){.where = where};
    return row;
}

/* Sets a cell, taking ownership of value; a repeated JSON key keeps the last. */
static void row_set(struct table_row *row, int column, char *value)
{
    if (column >= row->count) {
        row->cells = grow(row->cells, (size_t)(column + 1) * sizeof *row->cells);
        for (int i = row->count; i <= column; i++)
            row->cells[i] = NULL;
        row->count = column + 1;
    }
    free(row->cells[column]);
    row->cells[column] = value;
}

static const char *row_cell(const struct table_row *row, int column)
{
    return column >= 0 && column < row->count ? row->cells[column] : NULL;
}

static void table_free(struct table *t)
{
    for (int i = 0; i < t->columns; i++)
        free(t->names[i]);
    free(t->names);
    for (int r = 0; r < t->row_count; r++) {
        for (int i = 0; i < t->rows[r].count; i++)
            free(t->rows[r].cells[i]);
        free(t->rows[r].cells);
    }
    free(t->rows);
    memset(t, 0, sizeof *t);
}

/* ---- CSV, RFC 4180 ------------------------------------------------------- */

/* Records end with LF, CRLF or CR; a field in double quotes may hold commas,
 * line breaks and doubled quotes; a quote anywhere else is an error, since a
 * lenient reader would silently shift every later column of the row. Blank
 * lines are skipped. The first record is the header. */
static bool parse_csv(const char *p, const char *end, struct table *t, char *why, size_t size)
{
    long line = 1;
    bool have_header = false;
    t->unit = "line";
    while (p < end) {
        if (*p == '\n' || *p == '\r') { /* a blank line */
            p += *p == '\r' && p + 1 < end && p[1] == '\n' ? 2 : 1;
            line++;
            continue;
        }
        const long record_line = line;
        struct table_row *row = table_add_row(t, record_line);
        for (;;) {
            char *value;
            if (p < end && *p == '"') {
                const char *q = p + 1;
                size_t length = 0;
                for (;; q++, length++) {
                    if (q >= end) {
                        return failed(why, size, "line %ld: a quoted field is never closed", record_line);
                    }
                    if (*q == '"') {
                        if (q + 1 < end && q[1] == '"') {
                            q++;
                            continue;
                        }
                        break;
                    }
                    if (*q == '\n')
                        line++;
                }
                value = grow(NULL, length + 1);
                size_t n = 0;
                for (const char *s = p + 1; s < q; s++) {
                    value[n++] = *s;
                    if (*s == '"')
                        s++;
                }
                value[n] = '\0';
                p = q + 1;
                if (p < end && *p != ',' && *p != '\n' && *p != '\r') {
                    free(value);
                    return failed(why, size, "line %ld: text after a closing quote (a quote inside a quoted field "
                                             "must be doubled)", line);
                }
            } else {
                const char *q = p;
                while (q < end && *q != ',' && *q != '\n' && *q != '\r') {
                    if (*q == '"')
                        return failed(why, size, "line %ld: a quote inside an unquoted field", line);
                    q++;
                }
                value = copy_text(p, (size_t)(q - p));
                p = q;
            }
            row_set(row, row->count, value);
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            if (p < end)
                p += *p == '\r' && p + 1 < end && p[1] == '\n' ? 2 : 1;
            line++;
            break;
        }
        if (!have_header) { /* the header row becomes the column names */
            t->row_count--;
            for (int i = 0; i < row->count; i++) {
                if (table_column(t, row->cells[i]) >= 0) {
                    char name[64];
                    snprintf(name, sizeof name, "%s", row->cells[i]);
                    for (int k = 0; k < row->count; k++)
                        free(row->cells[k]);
                    free(row->cells);
                    return failed(why, size, "line 1: column '%s' appears twice", name);
                }
                table_add_column(t, row->cells[i]);
                free(row->cells[i]);
            }
            free(row->cells);
            have_header = true;
        } else if (row->count != t->columns) {
            return failed(why, size, "line %ld has %d fields where the header has %d", record_line, row->count,
                          t->columns);
        }
    }
    if (!have_header)
        return failed(why, size, "no header line");
    return true;
}

/* ---- JSON: the flat objects pimc-omp writes ----------------------------- */

struct json {
    const char *start, *p, *end;
    char *why;
    size_t size;
};

static bool json_failed(struct json *j, const char *what)
{
    if (j->p >= j->end)
        return failed(j->why, j->size, "JSON: %s, but the file ends (truncated?)", what);
    return failed(j->why, j->size, "JSON: %s at byte %td", what, j->p - j->start);
}

static void json_space(struct json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool json_hex4(struct json *j, unsigned *code)
{
    *code = 0;
    for (int i = 0; i < 4; i++) {
        int d = j->p < j->end ? hex_digit(*j->p) : -1;
        if (d < 0)
            return json_failed(j, "a \\u escape needs 4 hex digits");
        *code = *code * 16 + (unsigned)d;
        j->p++;
    }
    return true;
}

static size_t put_utf8(char *out, unsigned code)
{
    if (code < 0x80) {
        out[0] = (char)code;
        return 1;
    }
    if (code < 0x800) {
        out[0] = (char)(0xc0 | code >> 6);
        out[1] = (char)(0x80 | (code & 0x3f));
        return 2;
    }
    if (code < 0x10000) {
        out[0] = (char)(0xe0 | code >> 12);
        out[1] = (char)(0x80 | (code >> 6 & 0x3f));
        out[2] = (char)(0x80 | (code & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | code >> 18);
    out[1] = (char)(0x80 | (code >> 12 & 0x3f));
    out[2] = (char)(0x80 | (code >> 6 & 0x3f));
    out[3] = (char)(0x80 | (code & 0x3f));
    return 4;
}

/* At an opening quote. Escapes never make a string longer than its source. */
static bool json_string(struct json *j, char **out)
{
    const char *q = j->p + 1;
    while (q < j->end && *q != '"')
        q += *q == '\\' && q + 1 < j->end ? 2 : 1;
    if (q >= j->end)
        return json_failed(j, "a string is never closed");
    char *text = grow(NULL, (size_t)(q - j->p));
    size_t n = 0;
    j->p++;
    while (*j->p != '"') {
        unsigned char c = (unsigned char)*j->p++;
        if (c < 0x20) {
            free(text);
            return json_failed(j, "a control character in a string");
        }
        if (c != '\\') {
            text[n++] = (char)c;
            continue;
        }
        char e = *j->p++;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (simple != NULL && e != '\0') {
            text[n++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            continue;
        }
        unsigned code, low;
        if (e != 'u' || !json_hex4(j, &code)) {
            free(text);
            return e == 'u' ? false : json_failed(j, "an unknown escape in a string");
        }
        if (code >= 0xd800 && code < 0xdc00) { /* a UTF-16 surrogate pair */
            if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u') {
                free(text);
                return json_failed(j, "a lone UTF-16 surrogate");
            }
            j->p += 2;
            if (!json_hex4(j, &low) || low < 0xdc00 || low > 0xdfff) {
                free(text);
                return low < 0xdc00 || low > 0xdfff ? json_failed(j, "a lone UTF-16 surrogate") : false;
            }
            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        } else if (code == 0 || (code >= 0xdc00 && code < 0xe000)) {
            free(text);
            return json_failed(j, code ? "a lone UTF-16 surrogate" : "\\u0000 in a string");
        }
        n += put_utf8(text + n, code);
    }
    j->p++;
    text[n] = '\0';
    *out = text;
    return true;
}

static bool json_number(struct json *j, char **out)
{
    const char *s = j->p, *p = j->p;
    if (p < j->end && *p == '-')
        p++;
    if (p < j->end && *p == '0')
        p++;
    else if (p < j->end && *p >= '1' && *p <= '9')
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    else
        return json_failed(j, "a value that is not a string, number or null");
    if (p < j->end && *p == '.') {
        if (++p >= j->end || *p < '0' || *p > '9')
            return json_failed(j, "a number with no digits after '.'");
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= j->end || *p < '0' || *p > '9')
            return json_failed(j, "a number with no exponent digits");
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    j->p = p;
    *out = copy_text(s, (size_t)(p - s));
    return true;
}

static bool json_literal(struct json *j, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return false;
    j->p += n;
    return true;
}

/* A member's value as text: null is empty, the CSV's "does not apply". */
static bool json_scalar(struct json *j, long object, const char *key, char **out)
{
    static const char *const words[] = {"null", "true", "false"};
    if (j->p < j->end && *j->p == '"')
        return json_string(j, out);
    if (j->p < j->end && (*j->p == '{' || *j->p == '['))
        return failed(j->why, j->size, "JSON: object %ld: '%s' holds an object or array (byte %td); a pimc-omp "
                                       "record is flat", object, key, j->p - j->start);
    for (int i = 0; i < 3; i++)
        if (json_literal(j, words[i])) {
            *out = copy_text(i ? words[i] : "", i ? strlen(words[i]) : 0);
            return true;
        }
    return json_number(j, out);
}

static bool json_object(struct json *j, struct table *t)
{
    struct table_row *row = table_add_row(t, t->row_count + 1);
    const long object = row->where;
    j->p++; /* '{' */
    json_space(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return true;
    }
    for (;;) {
        char *key, *value;
        json_space(j);
        if (j->p >= j->end || *j->p != '"')
            return json_failed(j, "expected a key in double quotes");
        if (!json_string(j, &key))
            return false;
        json_space(j);
        if (j->p >= j->end || *j->p != ':') {
            free(key);
            return json_failed(j, "expected ':' after a key");
        }
        j->p++;
        json_space(j);
        if (!json_scalar(j, object, key, &value)) {
            free(key);
            return false;
        }
        row_set(row, table_add_column(t, key), value);
        free(key);
        json_space(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return true;
        }
        return json_failed(j, "expected ',' or '}' in an object");
    }
}

static bool parse_json(const char *p, const char *end, struct table *t, char *why, size_t size)
{
    struct json j = {.start = p, .p = p, .end = end, .why = why, .size = size};
    t->unit = "object";
    for (;;) {
        json_space(&j);
        if (j.p >= j.end)
            return true;
        if (*j.p == '{') {
            if (!json_object(&j, t))
                return false;
            continue;
        }
        if (*j.p != '[')
            return json_failed(&j, "expected an object or an array of objects");
        j.p++;
        json_space(&j);
        if (j.p < j.end && *j.p == ']') {
            j.p++;
            continue;
        }
        for (;;) {
            json_space(&j);
            if (j.p >= j.end || *j.p != '{')
                return json_failed(&j, "expected an object in the array");
            if (!json_object(&j, t))
                return false;
            json_space(&j);
            if (j.p < j.end && *j.p == ',') {
                j.p++;
                continue;
            }
            if (j.p < j.end && *j.p == ']') {
                j.p++;
                break;
            }
            return json_failed(&j, "expected ',' or ']' in an array");
        }
    }
}

static bool read_table(const char *path, struct table *t, char *why, size_t size)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return failed(why, size, "cannot open it: %s", strerror(errno));
    char *text = NULL;
    size_t length = 0, capacity = 0;
    for (;;) {
        if (capacity - length < 65536) {
            capacity = capacity ? 2 * capacity : 1 << 20;
            text = grow(text, capacity + 1);
        }
        size_t got = fread(text + length, 1, capacity - length, file);
        length += got;
        if (got == 0 || length > BASELINE_MAX_BYTES)
            break;
    }
    const int error = ferror(file) ? errno : 0;
    fclose(file);
    bool ok;
    const char *p = text, *end = text + length;
    if (error != 0)
        ok = failed(why, size, "cannot read it: %s", strerror(error));
    else if (length > BASELINE_MAX_BYTES)
        ok = failed(why, size, "it is larger than %zu MiB", BASELINE_MAX_BYTES >> 20);
    else {
        if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 byte order mark */
            p += 3;
        const char *first = p;
        while (first < end && strchr(" \t\r\n", *first) != NULL)
            first++;
        if (first == end)
            ok = failed(why, size, "it is empty");
        else if (*first == '{' || *first == '[')
            ok = parse_json(p, end, t, why, size);
        else
            ok = parse_csv(p, end, t, why, size);
    }
    free(text);
    return ok;
}

/* ---- baseline rows: the columns the check reads, validated --------------- */

enum column {
    COL_CPU_MODEL, COL_KERNEL, COL_THREADS, COL_THROWS, COL_SEED, COL_HITS, COL_STATUS, COL_PARALLEL_S,
    REQUIRED_COLUMNS,
    COL_PARALLEL_MIN_S = REQUIRED_COLUMNS, COL_SERIAL_S, COL_SERIAL_MIN_S, COL_TIMESTAMP, COL_MODE, COL_RANKS,
    COLUMNS
};
static const char *const column_names[COLUMNS] = {
    "cpu_model", "kernel", "threads", "throws", "seed", "hits", "status", "parallel_s",
    "parallel_min_s", "serial_s", "serial_min_s", "timestamp", "mode", "ranks",
};

struct base_row {
    long where;
    const char *timestamp, *cpu_model, *mode;
    enum pimc_kernel kernel;
    int threads;
    uint64_t throws, seed, hits, ranks;
    double parallel_s, parallel_min_s, serial_s, serial_min_s; /* NAN: empty, the leg did not run */
    bool complete;  /* status=complete */
    bool reference; /* a timing reference: complete, one rank, not a --check or --weak row */
};

struct baseline {
    struct table table;
    struct base_row *rows;
    int count;
};

/* Digits only, as pimc-omp writes counts. */
static bool decimal_count(const char *text, uint64_t *value)
{
    if (text == NULL || *text == '\0')
        return false;
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *value = v;
    return true;
}

static bool seconds_value(const char *text, double *value)
{
    if (text == NULL || *text == '\0') {
        *value = NAN;
        return true;
    }
    char *rest;
    errno = 0;
    *value = strtod(text, &rest);
    return *rest == '\0' && errno == 0 && isfinite(*value) && *value > 0;
}

static bool decode_row(const struct table *t, const struct table_row *tr, const int *columns, struct base_row *row,
                       char *why, size_t size)
{
    const char *v[COLUMNS];
    for (int c = 0; c < COLUMNS; c++) {
        v[c] = row_cell(tr, columns[c]);
        if (c < REQUIRED_COLUMNS && c != COL_CPU_MODEL && c != COL_PARALLEL_S && (v[c] == NULL || *v[c] == '\0'))
            return failed(why, size, "%s %ld has no %s", t->unit, tr->where, column_names[c]);
    }
    uint64_t threads;
    *row = (struct base_row){
        .where = tr->where,
        .timestamp = v[COL_TIMESTAMP] ? v[COL_TIMESTAMP] : "",
        .cpu_model = v[COL_CPU_MODEL] ? v[COL_CPU_MODEL] : "",
        .mode = v[COL_MODE] ? v[COL_MODE] : "",
        .ranks = 1,
    };
    if (!pimc_kernel_from_name(v[COL_KERNEL], &row->kernel) || row->kernel == PIMC_KERNEL_AUTO)
        return failed(why, size, "%s %ld: kernel '%s' is not avx512, avx2 or scalar", t->unit, tr->where,
                      v[COL_KERNEL]);
    if (!decimal_count(v[COL_THREADS], &threads) || threads < 1 || threads > INT_MAX)
        return failed(why, size, "%s %ld: threads '%s' is not a thread count", t->unit, tr->where, v[COL_THREADS]);
    row->threads = (int)threads;
    const int counts[] = {COL_THROWS, COL_SEED, COL_HITS};
    uint64_t *targets[] = {&row->throws, &row->seed, &row->hits};
    for (int i = 0; i < 3; i++)
        if (!decimal_count(v[counts[i]], targets[i]))
            return failed(why, size, "%s %ld: %s '%s' is not a count", t->unit, tr->where, column_names[counts[i]],
                          v[counts[i]]);
    if (row->throws == 0 || row->hits > row->throws)
        return failed(why, size, "%s %ld: %llu hits of %llu throws", t->unit, tr->where,
                      (unsigned long long)row->hits, (unsigned long long)row->throws);
    if (v[COL_RANKS] != NULL && *v[COL_RANKS] != '\0' && (!decimal_count(v[COL_RANKS], &row->ranks) || row->ranks < 1))
        return failed(why, size, "%s %ld: ranks '%s' is not a count", t->unit, tr->where, v[COL_RANKS]);
    const int times[] = {COL_PARALLEL_S, COL_PARALLEL_MIN_S, COL_SERIAL_S, COL_SERIAL_MIN_S};
    double *seconds[] = {&row->parallel_s, &row->parallel_min_s, &row->serial_s, &row->serial_min_s};
    for (int i = 0; i < 4; i++)
        if (!seconds_value(v[times[i]], seconds[i]))
            return failed(why, size, "%s %ld: %s '%s' is not a time in seconds", t->unit, tr->where,
                          column_names[times[i]], v[times[i]]);
    row->complete = strcmp(v[COL_STATUS], "complete") == 0;
    /* Multi-rank rows count all ranks' threads: more than one process can run. */
    row->reference = row->complete && row->ranks == 1 && isfinite(row->parallel_s) &&
                     row->threads <= PIMC_MAX_THREADS && row->throws <= PIMC_MAX_THROWS &&
                     strcmp(row->mode, "check") != 0 && strcmp(row->mode, "weak") != 0;
    return true;
}

static bool load_baseline(const char *path, struct baseline *b, char *why, size_t size)
{
    memset(b, 0, sizeof *b);
    if (!read_table(path, &b->table, why, size))
        return false;
    const struct table *t = &b->table;
    int columns[COLUMNS];
    for (int c = 0; c < COLUMNS; c++) {
        columns[c] = table_column(t, column_names[c]);
        if (c < REQUIRED_COLUMNS && columns[c] < 0 && t->columns > 0) /* not a bare [] */
            return failed(why, size, "no column '%s': not a file pimc-omp wrote with --csv or --json",
                          column_names[c]);
    }
    b->rows = grow(NULL, (size_t)(t->row_count ? t->row_count : 1) * sizeof *b->rows);
    for (int r = 0; r < t->row_count; r++)
        if (!decode_row(t, &t->rows[r], columns, &b->rows[b->count++], why, size))
            return false;
    for (int r = 0; r < b->count; r++)
        if (b->rows[r].reference)
            return true;
    return failed(why, size, "no complete row to compare with (status=complete; rows of --check, --weak or "
                             "several MPI ranks do not count)");
}

static void free_baseline(struct baseline *b)
{
    table_free(&b->table);
    free(b->rows);
}

/* ---- what the baseline says about one configuration --------------------- */

struct config {
    enum pimc_kernel kernel;
    int threads;
    uint64_t throws, seed;
};

struct reference {
    struct config config;
    const char *cpu_model; /* of the applicable rows */
    bool same_cpu;         /* this machine's model */
    int rows, serial_rows;
    double parallel_best, parallel_median; /* seconds; NAN when no row has them */
    double serial_best, serial_median;
    double kernel_speed_best, kernel_speed_median; /* 1-thread throws/s of the kernel; NAN: none */
    double scalar_speed_best, scalar_speed_median; /* the same for the scalar path */
    int speed_rows;                                /* rows behind those two */
    int hits_rows;
    uint64_t hits;
};

/* Whether a is a better reference row than b: this CPU model, then a row with
 * a serial leg, then the latest (ISO 8601 timestamps sort as text), then the
 * later in the file. */
static bool preferred(const struct base_row *a, const struct base_row *b, const char *here)
{
    const int here_a = strcmp(a->cpu_model, here) == 0, here_b = strcmp(b->cpu_model, here) == 0;
    if (here_a != here_b)
        return here_a > here_b;
    const int serial_a = isfinite(a->serial_s), serial_b = isfinite(b->serial_s);
    if (serial_a != serial_b)
        return serial_a > serial_b;
    const int order = strcmp(a->timestamp, b->timestamp);
    return order != 0 ? order > 0 : a->where > b->where;
}

static double min_or(double best, double fallback)
{
    return isfinite(best) ? best : fallback;
}

/* The best and median 1-thread speed of a kernel on a CPU model: parallel legs
 * of 1-thread rows and serial legs of any row. */
static int one_thread_speed(const struct baseline *b, const char *cpu_model, enum pimc_kernel kernel,
                            double *best, double *median)
{
    double *medians = grow(NULL, 2 * (size_t)b->count * sizeof *medians);
    int n = 0, rows = 0;
    *best = NAN;
    for (int r = 0; r < b->count; r++) {
        const struct base_row *row = &b->rows[r];
        if (!row->reference || row->kernel != kernel || row->throws < SPEED_ROW_MIN_THROWS ||
            strcmp(row->cpu_model, cpu_model) != 0)
            continue;
        const double n_throws = (double)row->throws;
        rows += row->threads == 1 || isfinite(row->serial_s);
        if (row->threads == 1) {
            const double fast = n_throws / min_or(row->parallel_min_s, row->parallel_s);
            *best = isfinite(*best) && *best > fast ? *best : fast;
            medians[n++] = n_throws / row->parallel_s;
        }
        if (isfinite(row->serial_s)) {
            const double fast = n_throws / min_or(row->serial_min_s, row->serial_s);
            *best = isfinite(*best) && *best > fast ? *best : fast;
            medians[n++] = n_throws / row->serial_s;
        }
    }
    *median = median_of(medians, n);
    free(medians);
    return rows;
}

/* false (exit 2) when no row applies, or when rows of the same stream disagree. */
static bool find_reference(const struct baseline *b, const struct pimc_options *options, const char *here,
                           struct reference *ref, char *why, size_t size)
{
    const struct base_row *latest = NULL;
    for (int r = 0; r < b->count; r++)
        if (b->rows[r].reference && (latest == NULL || preferred(&b->rows[r], latest, here)))
            latest = &b->rows[r];
    memset(ref, 0, sizeof *ref);
    struct config *c = &ref->config;
    *c = (struct config){latest->kernel, latest->threads, latest->throws, latest->seed};
    if (options->kernel_given)
        c->kernel = options->kernel;
    if (options->threads_given)
        c->threads = options->threads;
    if (options->throws_given)
        c->throws = options->throws;
    if (options->seed_given)
        c->seed = options->seed;

    /* Applicable rows: the configuration's, of this CPU model if any, else of
     * the model of the latest applicable row. */
    const struct base_row *model_row = NULL;
    for (int r = 0; r < b->count; r++) {
        const struct base_row *row = &b->rows[r];
        if (row->reference && row->kernel == c->kernel && row->threads == c->threads && row->throws == c->throws &&
            (model_row == NULL || preferred(row, model_row, here)))
            model_row = row;
    }
    if (model_row == NULL)
        return failed(why, size, "no complete row for kernel %s, %d thread%s, %llu throws (the latest row has %s, "
                                 "%d thread%s, %llu throws; THROWS, --threads and --kernel choose the configuration)",
                      pimc_kernel_name(c->kernel), c->threads, c->threads == 1 ? "" : "s",
                      (unsigned long long)c->throws, pimc_kernel_name(latest->kernel), latest->threads,
                      latest->threads == 1 ? "" : "s", (unsigned long long)latest->throws);
    ref->cpu_model = model_row->cpu_model;
    ref->same_cpu = strcmp(ref->cpu_model, here) == 0;

    double *parallel = grow(NULL, (size_t)b->count * sizeof *parallel);
    double *serial = grow(NULL, (size_t)b->count * sizeof *serial);
    ref->parallel_best = ref->serial_best = NAN;
    for (int r = 0; r < b->count; r++) {
        const struct base_row *row = &b->rows[r];
        if (!row->reference || row->kernel != c->kernel || row->threads != c->threads || row->throws != c->throws ||
            strcmp(row->cpu_model, ref->cpu_model) != 0)
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
        one_thread_speed(b, ref->cpu_model, c->kernel, &ref->kernel_speed_best, &ref->kernel_speed_median) +
        one_thread_speed(b, ref->cpu_model, PIMC_KERNEL_SCALAR, &ref->scalar_speed_best, &ref->scalar_speed_median);

    /* Hits depend on the seed and throws only: every complete row of that
     * stream is a witness, whatever its CPU, kernel, threads or mode (except
     * --check rows, which record the builds under test). */
    const struct base_row *witness = NULL;
    for (int r = 0; r < b->count; r++) {
        const struct base_row *row = &b->rows[r];
        if (!row->complete || strcmp(row->mode, "check") == 0 || row->seed != c->seed || row->throws != c->throws)
            continue;
        if (witness != NULL && row->hits != witness->hits)
            return failed(why, size, "%ss %ld and %ld disagree on the hits of seed %llu, %llu throws (%llu and "
                                     "%llu): a broken build wrote it", b->table.unit, witness->where, row->where,
                          (unsigned long long)c->seed, (unsigned long long)c->throws,
                          (unsigned long long)witness->hits, (unsigned long long)row->hits);
        witness = row;
        ref->hits = row->hits;
        ref->hits_rows++;
    }
    return true;
}

/* ---- measurement -------------------------------------------------------- */

/* What the kernel counts for us, in seconds: for each thread, its time on a
 * CPU and its time ready to run but waiting for one (/proc/self/task/TID/
 * schedstat; with paravirtual time accounting the time on a CPU leaves out
 * what the hypervisor stole), and for the CPUs in our affinity mask, their
 * steal (/proc/stat: the time the hypervisor ran something else while the vCPU
 * wanted to run). */
#define MAX_TASKS 256

struct task_account {
    long tid; /* 0: the calling thread */
    double run, wait;
};

struct accounts {
    int tasks; /* 0: no scheduler statistics */
    struct task_account task[MAX_TASKS];
    double steal; /* NAN: unknown */
};

static bool read_schedstat(const char *path, struct task_account *task)
{
    unsigned long long run_ns = 0, wait_ns = 0;
    FILE *f = fopen(path, "r");
    bool ok = f != NULL && fscanf(f, "%llu %llu", &run_ns, &wait_ns) == 2;
    if (f != NULL)
        fclose(f);
    task->run = (double)run_ns * 1e-9;
    task->wait = (double)wait_ns * 1e-9;
    return ok;
}

static double steal_seconds(void)
{
    cpu_set_t mask;
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL || sched_getaffinity(0, sizeof mask, &mask) != 0) {
        if (f != NULL)
            fclose(f);
        return NAN;
    }
    char line[512];
    double ticks = 0;
    bool any = false;
    while (fgets(line, sizeof line, f) != NULL) {
        int cpu;
        unsigned long long v[8];
        if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7]) == 9 && cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &mask)) {
            ticks += (double)v[7];
            any = true;
        }
    }
    fclose(f);
    return any ? ticks / (double)sysconf(_SC_CLK_TCK) : NAN;
}

/* Of every thread of the process, or of the calling one only. */
static void read_accounts(bool all_threads, struct accounts *a)
{
    a->tasks = 0;
    a->steal = steal_seconds();
    if (!all_threads) {
        a->task[0].tid = 0;
        a->tasks = read_schedstat("/proc/thread-self/schedstat", &a->task[0]);
        return;
    }
    DIR *tasks = opendir("/proc/self/task");
    for (struct dirent *e; tasks != NULL && a->tasks < MAX_TASKS && (e = readdir(tasks)) != NULL;) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%.20s/schedstat", e->d_name);
        struct task_account *t = &a->task[a->tasks];
        t->tid = atol(e->d_name);
        if (t->tid > 0 && read_schedstat(path, t)) /* or the thread just ended */
            a->tasks++;
    }
    if (tasks != NULL)
        closedir(tasks);
}

/* A thread's run and wait between two readings (a new thread's from zero). */
static struct task_account task_delta(const struct accounts *before, const struct task_account *after)
{
    struct task_account d = *after;
    for (int i = 0; i < before->tasks; i++)
        if (before->task[i].tid == after->tid) {
            d.run = after->run > before->task[i].run ? after->run - before->task[i].run : 0.0;
            d.wait = after->wait > before->task[i].wait ? after->wait - before->task[i].wait : 0.0;
        }
    return d;
}

/* The wait of the threads that did the work, each at most the window: the
 * kernel credits a wait when the thread gets its CPU, so a worker that spun
 * idle, runnable, from before the window can bring a second of wait into it;
 * it delayed no throw. A thread took part when it ran at least a quarter as
 * long as the busiest one (the dynamic schedule evens out the ones that do). */
static double working_wait(const struct accounts *before, const struct accounts *after, double window)
{
    struct task_account d[MAX_TASKS];
    double busiest = 0, wait = 0;
    for (int i = 0; i < after->tasks; i++) {
        d[i] = task_delta(before, &after->task[i]);
        busiest = d[i].run > busiest ? d[i].run : busiest;
    }
    for (int i = 0; i < after->tasks; i++)
        if (d[i].run >= 0.25 * busiest)
            wait += d[i].wait < window ? d[i].wait : window;
    return wait;
}

/* One leg's timed runs. */
struct leg {
    enum pimc_kernel kernel;
    int threads;
    uint64_t throws;
    int runs, team;
    double raw[PIMC_MAX_RUNS];   /* as timed by the engine */
    double alone[PIMC_MAX_RUNS]; /* less the time other work took from its threads */
    double stolen[PIMC_MAX_RUNS]; /* share of our CPUs' time the hypervisor took */
    uint64_t hits;
    bool hits_agree;
    bool accounted; /* the kernel's accounts were there */
};

struct leg_summary {
    bool measured;
    double best, raw_best, median; /* best: the fastest run with waits discounted */
    double lost_share;             /* of the best run's time, to other work */
    double stolen_share;           /* of the best run's CPU time, to the hypervisor */
};

static struct leg_summary summarize_leg(const struct leg *leg)
{
    struct leg_summary s = {.measured = leg->runs > 0, .best = NAN, .raw_best = NAN, .median = NAN};
    double sorted[PIMC_MAX_RUNS];
    for (int r = 0; r < leg->runs; r++) {
        if (!(s.best <= leg->alone[r])) {
            s.best = leg->alone[r];
            s.lost_share = 1.0 - leg->alone[r] / leg->raw[r];
            s.stolen_share = leg->stolen[r];
        }
        s.raw_best = r == 0 || leg->raw[r] < s.raw_best ? leg->raw[r] : s.raw_best;
        sorted[r] = leg->raw[r];
    }
    s.median = median_of(sorted, leg->runs);
    return s;
}

/* Times one run of the leg, and estimates how long it would have taken with
 * the machine to itself; false when a signal stopped it. */
static bool time_run(struct leg *leg, const struct pimc_run_plan *base, int usable_cpus, bool warm_up)
{
    struct pimc_run_plan plan = *base;
    plan.kernel = leg->kernel;
    plan.threads = leg->threads;
    plan.throws = warm_up && leg->throws > WARM_UP_THROWS ? WARM_UP_THROWS : leg->throws;
    plan.repeats = 1;
    plan.serial = false;
    plan.warm_up = false;
    struct pimc_outcome outcome;
    const bool parallel = leg->threads > 1;
    struct accounts *before = grow(NULL, 2 * sizeof *before), *after = before + 1;
    read_accounts(parallel, before);
    const double start = pimc_now();
    pimc_run(&plan, &outcome);
    const double bracket = pimc_now() - start;
    read_accounts(parallel, after);
    const double t = outcome.parallel.seconds[0];
    const double steal = isfinite(before->steal) && isfinite(after->steal) ? after->steal - before->steal : 0.0;
    double alone = t;
    leg->accounted = before->tasks > 0 && after->tasks > 0;
    if (leg->accounted && !parallel) {
        /* One thread: alone, it would have taken its time on a CPU, which
         * leaves out its wait and its steal. But not less than the time less
         * its wait and all our CPUs' steal: that would excuse sleeping too. */
        const struct task_account d = task_delta(before, &after->task[0]);
        const double awake = t - d.wait - steal;
        alone = d.run > awake ? d.run : awake;
    } else if (leg->accounted) {
        /* Less the working threads' wait, spread over the team. Never the time
         * a thread slept: a team left idle is the build's own doing. The
         * accounts span the whole call, the time only the timed run inside it,
         * so a wait that may have fallen outside it (a worker woken late
         * before the clock started) is not discounted. Steal is not
         * discounted: /proc/stat counts it per CPU, in ticks, not per thread. */
        const double lost = working_wait(before, after, bracket) / outcome.threads;
        const double untimed = bracket > t ? bracket - t : 0.0;
        alone = t - (lost > untimed ? lost - untimed : 0.0);
    }
    if (!(alone > 0.01 * t && alone <= t)) /* the accounts disagree with the clock past reason */
        alone = alone > t ? t : 0.01 * t;
    free(before);
    if (outcome.partial)
        return false;
    if (warm_up)
        return true;
    if (leg->runs == 0) {
        leg->hits = outcome.hits;
        leg->hits_agree = true;
        leg->team = outcome.threads;
    } else if (outcome.hits != leg->hits) {
        leg->hits_agree = false;
    }
    leg->raw[leg->runs] = t;
    leg->alone[leg->runs] = alone;
    leg->stolen[leg->runs] = steal > 0 ? steal / (usable_cpus * bracket) : 0.0;
    leg->runs++;
    return true;
}

/* ---- verdicts ----------------------------------------------------------- */

enum verdict { PASS, FAIL, SKIPPED, INCONCLUSIVE };
static const char *const verdict_names[] = {"PASS", "FAIL", "SKIPPED", "INCONCLUSIVE"};

#define METRICS 5

struct metric {
    const char *name;
    enum verdict verdict;
    bool has_values;
    double measured, baseline; /* for JSON */
    char text[640];            /* after "check NAME: VERDICT " */
};

static void say(struct metric *m, enum verdict verdict, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void say(struct metric *m, enum verdict verdict, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    m->verdict = verdict;
    vsnprintf(m->text, sizeof m->text, format, args);
    va_end(args);
}

/* A timing metric where higher is better. best/raw/median: this machine's
 * figure from the fastest run with waits discounted, from the fastest run as
 * timed, and from the median run; the baseline's from its fastest runs and
 * the median of its rows. */
struct timing {
    double best, raw, median, lost_share, stolen_share;
    double baseline_best, baseline_median;
    int runs, baseline_rows;
};

static void judge_timing(struct metric *m, const struct timing *x, double tolerance, const char *unit,
                         const char *format)
{
    char best[32], raw[32], median[32], base[32], base_median[32];
    snprintf(best, sizeof best, format, x->best);
    snprintf(raw, sizeof raw, format, x->raw);
    snprintf(median, sizeof median, format, x->median);
    snprintf(base, sizeof base, format, x->baseline_best);
    snprintf(base_median, sizeof base_median, format, x->baseline_median);
    const double floor = x->baseline_best * (1.0 - tolerance);
    const bool unsure = x->lost_share > MAX_LOST_SHARE || x->stolen_share > MAX_STOLEN_SHARE;
    const enum verdict v = x->best >= floor ? PASS : unsure ? INCONCLUSIVE : FAIL;
    char stolen[48] = "";
    if (x->stolen_share >= 0.01)
        snprintf(stolen, sizeof stolen, ", %.0f%% of our CPUs stolen by the host", 100.0 * x->stolen_share);
    m->has_values = true;
    m->measured = x->best;
    m->baseline = x->baseline_best;
    say(m, v, "%s%s (best of %d, less %.0f%% taken by other work%s; as timed %s, median %s) vs baseline %s%s "
              "(best of %d row%s; median %s), tolerance %.0f%%",
        best, unit, x->runs, 100.0 * x->lost_share, stolen, raw, median, base, unit, x->baseline_rows,
        x->baseline_rows == 1 ? "" : "s", base_median, 100.0 * tolerance);
    const size_t used = strlen(m->text);
    if (v == INCONCLUSIVE)
        snprintf(m->text + used, sizeof m->text - used, ": other work took too much of the machine to tell");
    else if (v == FAIL)
        snprintf(m->text + used, sizeof m->text - used, ": %.0f%% below the baseline",
                 100.0 * (1.0 - x->best / x->baseline_best));
    else if (x->best > x->baseline_best * (1.0 + 2.0 * tolerance))
        snprintf(m->text + used, sizeof m->text - used, "; the baseline is %.0f%% below this run: recorded on a busy "
                                                        "machine? then it hides slowdowns; refresh it",
                 100.0 * (1.0 - x->baseline_best / x->best));
}

static void print_json_number(FILE *out, bool present, double value)
{
    if (present && isfinite(value))
        fprintf(out, "%.17g", value);
    else
        fputs("null", out);
}

/* ---- the check ---------------------------------------------------------- */

static void fill_engine_leg(struct pimc_leg *out, const struct leg *leg)
{
    memset(out, 0, sizeof *out);
    out->runs = leg->runs;
    if (leg->runs == 0)
        return;
    memcpy(out->seconds, leg->raw, (size_t)leg->runs * sizeof *leg->raw);
    double sorted[PIMC_MAX_RUNS];
    memcpy(sorted, leg->raw, (size_t)leg->runs * sizeof *sorted);
    out->median_s = median_of(sorted, leg->runs);
    out->min_s = sorted[0];
    out->max_s = sorted[leg->runs - 1];
}

int pimc_run_check(const struct pimc_options *options, const struct pimc_context *context, struct pimc_csv *csv,
                   const atomic_bool *stop, const volatile sig_atomic_t *stop_signal)
{
    struct baseline baseline;
    struct reference ref;
    char why[1024];
    if (!load_baseline(options->check_path, &baseline, why, sizeof why) ||
        !find_reference(&baseline, options, context->cpu_model, &ref, why, sizeof why)) {
        fprintf(stderr, "pimc-omp: --check: baseline '%s' is unusable: %s\n", options->check_path, why);
        free_baseline(&baseline);
        return PIMC_EXIT_UNUSABLE_BASELINE;
    }
    const struct config *c = &ref.config;
    const bool talk = !options->quiet && !options->json;
    const enum pimc_kernel kernel = options->kernel_given ? options->kernel
                                                         : pimc_kernel_resolve_for(options->rng, PIMC_KERNEL_AUTO);
    const bool oversubscribed = pimc_oversubscribed(context, c->threads);
    /* The 1-thread legs: efficiency needs the serial one, speed_vs_scalar both. */
    const bool serial = options->serial && !oversubscribed;
    const bool scalar = serial && isfinite(ref.kernel_speed_best) && isfinite(ref.scalar_speed_best) &&
                        c->kernel != PIMC_KERNEL_SCALAR;
    if (talk) {
        printf("check: baseline %s: %d row%s of kernel %s, %d thread%s, %llu throws on \"%s\"%s; seed %llu; "
               "measuring %d round%s%s%s\n",
               options->check_path, ref.rows, ref.rows == 1 ? "" : "s", pimc_kernel_name(c->kernel), c->threads,
               c->threads == 1 ? "" : "s", (unsigned long long)c->throws, ref.cpu_model,
               ref.same_cpu ? " (this CPU)" : " (not this CPU)",
               (unsigned long long)c->seed, options->repeats, options->repeats == 1 ? "" : "s",
               serial ? " of a parallel and a 1-thread run" : " of a parallel run",
               scalar ? " and a 1-thread scalar run" : "");
        fflush(stdout);
    }

    struct leg legs[3];
    struct leg *par = &legs[0], *ser = &legs[1], *sca = &legs[2];
    *par = (struct leg){.kernel = kernel, .threads = c->threads, .throws = c->throws};
    *ser = (struct leg){.kernel = kernel, .threads = 1, .throws = c->throws};
    *sca = (struct leg){.kernel = PIMC_KERNEL_SCALAR, .threads = 1,
                        .throws = c->throws < SCALAR_LEG_THROWS ? c->throws : SCALAR_LEG_THROWS};
    struct leg *order[3] = {par, serial ? ser : NULL, scalar ? sca : NULL};
    const struct pimc_run_plan base = {.rng = options->rng, .seed = c->seed, .stop = stop};
    bool going = true;
    for (int i = 0; i < 3 && going; i++)
        if (order[i] != NULL)
            going = time_run(order[i], &base, context->usable_cpus, true);
    for (int r = 0; r < options->repeats && going; r++)
        for (int i = 0; i < 3 && going; i++)
            if (order[i] != NULL)
                going = time_run(order[i], &base, context->usable_cpus, false);
    if (!going) {
        fprintf(stderr, "pimc-omp: --check stopped by signal %d: no verdict\n", (int)*stop_signal);
        free_baseline(&baseline);
        return PIMC_EXIT_SIGNAL + (int)*stop_signal;
    }
    if (par->team != c->threads)
        fprintf(stderr, "pimc-omp: warning: the OpenMP runtime gave %d threads of the %d asked; the figures are "
                        "per asked thread\n", par->team, c->threads);
    if (!par->accounted)
        fprintf(stderr, "pimc-omp: warning: no scheduler statistics (/proc/self/task/*/schedstat): time taken by "
                        "other processes cannot be discounted\n");

    /* The measured result, as a record: for --csv, and for its verification. */
    struct pimc_outcome outcome = {
        .throws_requested = c->throws,
        .throws = c->throws,
        .hits = par->hits,
        .hits_agree = par->hits_agree && (ser->runs == 0 || (ser->hits_agree && ser->hits == par->hits)) &&
                      (sca->runs == 0 || sca->hits_agree) && (sca->runs == 0 || sca->throws != c->throws ||
                                                               sca->hits == par->hits),
        .threads = par->team,
        .ranks = 1,
    };
    fill_engine_leg(&outcome.parallel, par);
    fill_engine_leg(&outcome.serial, ser);
    struct pimc_record record = {
        .context = context,
        .outcome = &outcome,
        .figures = pimc_figures_of(&outcome, PIMC_STRONG),
        .kernel = kernel,
        .kernel_asked = options->kernel_given ? kernel : PIMC_KERNEL_AUTO,
        .seed = c->seed,
        .repeats = options->repeats,
        .threads_source = options->threads_given ? options->threads_source : "baseline",
        .mode = "check",
        .rng = pimc_rng_name(options->rng),
        .run = options->repeats > 1 ? "median" : "0",
    };
    pimc_utc_timestamp(record.timestamp, sizeof record.timestamp);

    struct metric metrics[METRICS] = {
        {.name = "hits"}, {.name = "kernel"}, {.name = "throughput_per_thread"}, {.name = "efficiency"},
        {.name = "speed_vs_scalar"},
    };
    struct metric *m = metrics;
    m->has_values = ref.hits_rows > 0;
    m->measured = (double)par->hits;
    m->baseline = (double)ref.hits;
    if (!outcome.hits_agree)
        say(m, FAIL, "runs of the same throws gave different hits: this build miscounts");
    else if (!record.figures.verified)
        say(m, FAIL, "%llu: the estimate is %.1f standard errors from pi (limit %.0f)",
            (unsigned long long)par->hits, fabs(record.figures.z_score), PIMC_VERIFY_SIGMAS);
    else if (ref.hits_rows == 0)
        say(m, SKIPPED, "%llu: no baseline row of seed %llu and %llu throws (the runs agree and the estimate "
                        "verifies)", (unsigned long long)par->hits, (unsigned long long)c->seed,
            (unsigned long long)c->throws);
    else if (par->hits != ref.hits)
        say(m, FAIL, "%llu != baseline %llu (seed %llu, %llu throws): this build miscounts",
            (unsigned long long)par->hits, (unsigned long long)ref.hits, (unsigned long long)c->seed,
            (unsigned long long)c->throws);
    else
        say(m, PASS, "%llu = baseline (seed %llu, %llu throws, %d row%s)", (unsigned long long)par->hits,
            (unsigned long long)c->seed, (unsigned long long)c->throws, ref.hits_rows, ref.hits_rows == 1 ? "" : "s");

    m = &metrics[1];
    if (kernel == c->kernel)
        say(m, PASS, "%s (baseline %s)%s", pimc_kernel_name(kernel), pimc_kernel_name(c->kernel),
            options->kernel_given ? ", forced by --kernel" : "");
    else if (ref.same_cpu)
        say(m, FAIL, "%s (baseline %s on this CPU model): the dispatch picks another path", pimc_kernel_name(kernel),
            pimc_kernel_name(c->kernel));
    else
        say(m, SKIPPED, "%s (baseline %s on another CPU model, which may have other paths)",
            pimc_kernel_name(kernel), pimc_kernel_name(c->kernel));

    const struct leg_summary p = summarize_leg(par), s = summarize_leg(ser), k = summarize_leg(sca);
    const double n = (double)c->throws, threads = (double)c->threads;
    char skip_why[300] = "";
    if (oversubscribed)
        snprintf(skip_why, sizeof skip_why, "%d threads on %d usable CPUs: oversubscribed, not a speed result",
                 c->threads, context->usable_cpus);

    m = &metrics[2];
    if (*skip_why)
        say(m, SKIPPED, "(%s)", skip_why);
    else if (!ref.same_cpu)
        say(m, SKIPPED, "(baseline from another CPU model: \"%s\"; this is \"%s\")", ref.cpu_model,
            context->cpu_model);
    else
        judge_timing(m, &(struct timing){
                            .best = n / p.best / threads * 1e-9,
                            .raw = n / p.raw_best / threads * 1e-9,
                            .median = n / p.median / threads * 1e-9,
                            .lost_share = p.lost_share,
                            .stolen_share = p.stolen_share,
                            .baseline_best = n / ref.parallel_best / threads * 1e-9,
                            .baseline_median = n / ref.parallel_median / threads * 1e-9,
                            .runs = par->runs,
                            .baseline_rows = ref.rows,
                        },
                     options->tolerance, " Gthrows/s", "%.3f");

    m = &metrics[3];
    if (*skip_why)
        say(m, SKIPPED, "(%s)", skip_why);
    else if (!options->serial)
        say(m, SKIPPED, "(--no-serial: no 1-thread run)");
    else if (ref.serial_rows == 0)
        say(m, SKIPPED, "(the baseline rows have no serial leg)");
    else
        judge_timing(m, &(struct timing){
                            .best = s.best / (threads * p.best),
                            .raw = s.raw_best / (threads * p.raw_best),
                            .median = s.median / (threads * p.median),
                            .lost_share = p.lost_share > s.lost_share ? p.lost_share : s.lost_share,
                            .stolen_share = p.stolen_share,
                            .baseline_best = ref.serial_best / (threads * ref.parallel_best),
                            .baseline_median = ref.serial_median / (threads * ref.parallel_median),
                            .runs = par->runs,
                            .baseline_rows = ref.serial_rows,
                        },
                     options->tolerance, "", "%.3f");

    m = &metrics[4];
    const double scalar_n = (double)sca->throws;
    if (*skip_why)
        say(m, SKIPPED, "(%s)", skip_why);
    else if (c->kernel == PIMC_KERNEL_SCALAR)
        say(m, SKIPPED, "(the configuration is the scalar path itself)");
    else if (!options->serial)
        say(m, SKIPPED, "(--no-serial: no 1-thread run)");
    else if (!isfinite(ref.scalar_speed_best))
        say(m, SKIPPED, "(the baseline has no 1-thread scalar row of at least 1e7 throws on \"%s\"; add one with: "
                        "pimc-omp --kernel scalar -t 1 --no-serial --repeat 5 --csv BASELINE 1e8)", ref.cpu_model);
    else if (!isfinite(ref.kernel_speed_best))
        say(m, SKIPPED, "(the baseline has no 1-thread run of kernel %s of at least 1e7 throws on \"%s\": record "
                        "its rows with the serial leg)", pimc_kernel_name(c->kernel), ref.cpu_model);
    else if (!ref.same_cpu && kernel != c->kernel)
        say(m, SKIPPED, "(this CPU runs %s, the baseline %s)", pimc_kernel_name(kernel), pimc_kernel_name(c->kernel));
    else
        judge_timing(m, &(struct timing){
                            .best = (n / s.best) / (scalar_n / k.best),
                            .raw = (n / s.raw_best) / (scalar_n / k.raw_best),
                            .median = (n / s.median) / (scalar_n / k.median),
                            .lost_share = s.lost_share > k.lost_share ? s.lost_share : k.lost_share,
                            .baseline_best = ref.kernel_speed_best / ref.scalar_speed_best,
                            .baseline_median = ref.kernel_speed_median / ref.scalar_speed_median,
                            .runs = ser->runs,
                            .baseline_rows = ref.speed_rows,
                        },
                     options->tolerance, "x", "%.2f");

    char failing[128] = "", unsure[128] = "";
    for (int i = 0; i < METRICS; i++) {
        char *list = metrics[i].verdict == FAIL ? failing : metrics[i].verdict == INCONCLUSIVE ? unsure : NULL;
        if (list != NULL)
            snprintf(list + strlen(list), 128 - strlen(list), "%s%s", *list ? ", " : "", metrics[i].name);
    }
    const int status = *failing ? PIMC_EXIT_REGRESSION : PIMC_EXIT_OK;
    const char *final = *failing ? "REGRESSION" : *unsure ? "INCONCLUSIVE" : "PASS";
    if (talk) {
        for (int i = 0; i < METRICS; i++)
            printf("check %s: %s %s\n", metrics[i].name, verdict_names[metrics[i].verdict], metrics[i].text);
        if (*failing)
            printf("check: REGRESSION (%s)\n", failing);
        else if (*unsure)
            printf("check: INCONCLUSIVE (%s): the machine was too busy to tell; not a regression, exit 0\n", unsure);
        else
            printf("check: PASS\n");
    } else if (options->json) {
        printf("{\"check\": \"%s\", \"exit_status\": %d, \"baseline\": ", final, status);
        pimc_print_json_string(stdout, options->check_path);
        printf(", \"kernel\": \"%s\", \"threads\": %d, \"throws\": %llu, \"seed\": %llu, \"tolerance\": %.17g, "
               "\"same_cpu_model\": %s, \"metrics\": [",
               pimc_kernel_name(kernel), c->threads, (unsigned long long)c->throws, (unsigned long long)c->seed,
               options->tolerance, ref.same_cpu ? "true" : "false");
        for (int i = 0; i < METRICS; i++) {
            printf("%s{\"metric\": \"%s\", \"verdict\": \"%s\", \"measured\": ", i ? ", " : "", metrics[i].name,
                   verdict_names[metrics[i].verdict]);
            print_json_number(stdout, metrics[i].has_values, metrics[i].measured);
            fputs(", \"baseline\": ", stdout);
            print_json_number(stdout, metrics[i].has_values, metrics[i].baseline);
            fputs(", \"detail\": ", stdout);
            pimc_print_json_string(stdout, metrics[i].text);
            fputc('}', stdout);
        }
        fputs("]}\n", stdout);
    }
    fflush(stdout);

    int result = status;
    if (csv->fd >= 0 && pimc_csv_append(csv, &record, why, sizeof why) != 0) {
        fprintf(stderr, "pimc-omp: %s\n", why);
        result = PIMC_EXIT_CANNOT_WRITE;
    }
    free_baseline(&baseline); /* ref.cpu_model is one of its cells: the very end */
    return result;
}
