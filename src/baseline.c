/*
 * Reading a baseline. A CSV (RFC 4180, read by libcsv in strict mode: a quote
 * out of place is an error, since a lenient reader would silently shift every
 * later column of the row) or JSON (read by jansson: one object, an array of
 * objects as --sweep --json prints, or several of these one after another).
 * Columns are found by name; columns this version does not know are ignored,
 * and a file without an rng column holds rows of the default generator.
 */
#include "baseline.h"

#include "bounds.h"
#include "cli.h"
#include "error_message.h"
#include "exit_status.h"
#include "input_file.h"
#include "report.h"
#include "schema.h"

#include <csv.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Far more than any baseline needs; past them a file is not one, and memory
 * stays bounded whatever the file holds. */
#define MAX_ROWS (1 << 20)
#define MAX_HEADER_COLUMNS 4096

static void *allocated(void *p)
{
    if (p == NULL) {
        fputs("pimc-omp: out of memory\n", stderr);
        exit(PIMC_EXIT_FAILURE);
    }
    return p;
}

/* The reason in why[size], and false: `return failed(why, size, ...)`. */
#define failed(why, size, ...) (pimc_error_message(why, size, __VA_ARGS__), false)

/* A copy of n bytes that lives as long as the baseline. */
static const char *keep(struct pimc_baseline *b, const char *s, size_t n)
{
    if (b->cell_count == b->cell_capacity) {
        b->cell_capacity = b->cell_capacity ? 2 * b->cell_capacity : 256;
        b->cells = allocated(realloc(b->cells, b->cell_capacity * sizeof *b->cells));
    }
    char *copy = allocated(malloc(n + 1));
    memcpy(copy, s, n);
    copy[n] = '\0';
    b->cells[b->cell_count++] = copy;
    return copy;
}

static int column_of(const char *name, size_t n)
{
    for (int c = 0; c < PIMC_COLUMN_COUNT; c++)
        if (strlen(pimc_column_names[c]) == n && memcmp(pimc_column_names[c], name, n) == 0)
            return c;
    return -1;
}

/* ---- one row's cells, validated ----------------------------------------- */

/* The columns the check reads; the first ones must be in every baseline. */
static const enum pimc_column required[] = {
    PIMC_COLUMN_CPU_MODEL, PIMC_COLUMN_KERNEL, PIMC_COLUMN_THREADS, PIMC_COLUMN_THROWS,
    PIMC_COLUMN_SEED,      PIMC_COLUMN_HITS,   PIMC_COLUMN_STATUS,  PIMC_COLUMN_PARALLEL_S,
};
#define REQUIRED (sizeof required / sizeof *required)

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

/* v: each column's text, NULL where the row has none. */
static bool decode_row(struct pimc_baseline *b, long where, const char *const *v, char *why, size_t size)
{
    const char *unit = b->unit;
    for (size_t i = 0; i < REQUIRED; i++) {
        const enum pimc_column c = required[i];
        if (c != PIMC_COLUMN_CPU_MODEL && c != PIMC_COLUMN_PARALLEL_S && (v[c] == NULL || *v[c] == '\0'))
            return failed(why, size, "%s %ld has no %s", unit, where, pimc_column_names[c]);
    }
    if (b->count == MAX_ROWS)
        return failed(why, size, "it has more than %d rows; a baseline needs a few: keep the recent ones", MAX_ROWS);
    if (b->count == b->capacity) {
        b->capacity = b->capacity ? 2 * b->capacity : 64;
        b->rows = allocated(realloc(b->rows, (size_t)b->capacity * sizeof *b->rows));
    }
    struct pimc_baseline_row *row = &b->rows[b->count];
    uint64_t threads;
    *row = (struct pimc_baseline_row){
        .where = where,
        .timestamp = v[PIMC_COLUMN_TIMESTAMP] ? v[PIMC_COLUMN_TIMESTAMP] : "",
        .cpu_model = v[PIMC_COLUMN_CPU_MODEL] ? v[PIMC_COLUMN_CPU_MODEL] : "",
        /* Files from before the cpu_signature column: "", the model name alone. */
        .cpu_signature = v[PIMC_COLUMN_CPU_SIGNATURE] ? v[PIMC_COLUMN_CPU_SIGNATURE] : "",
        .mode = v[PIMC_COLUMN_MODE] ? v[PIMC_COLUMN_MODE] : "",
        /* Files from before the rng column hold the only generator there was. */
        .rng = v[PIMC_COLUMN_RNG] && *v[PIMC_COLUMN_RNG] ? v[PIMC_COLUMN_RNG] : PIMC_RNG_DEFAULT_NAME,
        .ranks = 1,
    };
    const char *kernel = v[PIMC_COLUMN_KERNEL], *t = v[PIMC_COLUMN_THREADS], *ranks = v[PIMC_COLUMN_RANKS];
    if (!pimc_kernel_from_name(kernel, &row->kernel) || row->kernel == PIMC_KERNEL_AUTO)
        return failed(why, size, "%s %ld: kernel '%s' is not a kernel path (scalar, aesni, avx2, avx512)", unit,
                      where, kernel);
    if (!decimal_count(t, &threads) || threads < 1 || threads > INT_MAX)
        return failed(why, size, "%s %ld: threads '%s' is not a thread count", unit, where, t);
    row->threads = (int)threads;
    const enum pimc_column counts[] = {PIMC_COLUMN_THROWS, PIMC_COLUMN_SEED, PIMC_COLUMN_HITS};
    uint64_t *targets[] = {&row->throws, &row->seed, &row->hits};
    for (int i = 0; i < 3; i++)
        if (!decimal_count(v[counts[i]], targets[i]))
            return failed(why, size, "%s %ld: %s '%s' is not a count", unit, where, pimc_column_names[counts[i]],
                          v[counts[i]]);
    if (row->throws == 0 || row->hits > row->throws)
        return failed(why, size, "%s %ld: %llu hits of %llu throws", unit, where, (unsigned long long)row->hits,
                      (unsigned long long)row->throws);
    if (ranks != NULL && *ranks != '\0' && (!decimal_count(ranks, &row->ranks) || row->ranks < 1))
        return failed(why, size, "%s %ld: ranks '%s' is not a count", unit, where, ranks);
    const enum pimc_column times[] = {PIMC_COLUMN_PARALLEL_S, PIMC_COLUMN_PARALLEL_MIN_S, PIMC_COLUMN_SERIAL_S,
                                      PIMC_COLUMN_SERIAL_MIN_S};
    double *seconds[] = {&row->parallel_s, &row->parallel_min_s, &row->serial_s, &row->serial_min_s};
    for (int i = 0; i < 4; i++) {
        if (!seconds_value(v[times[i]], seconds[i]))
            return failed(why, size, "%s %ld: %s '%s' is not a time in seconds", unit, where,
                          pimc_column_names[times[i]], v[times[i]]);
        /* Times are what a check's run length and speeds come from: a row of
         * 2^63-1 throws in a second would start a check that never ends. */
        const uint64_t on = i < 2 ? (uint64_t)row->threads : 1;
        if (isfinite(*seconds[i]) && !pimc_time_possible(row->throws, *seconds[i], on))
            return failed(why, size, "%s %ld: throws %llu in %s %s on %llu thread%s is past what pimc-omp can do "
                                     "(at most %.0e throws a second a thread, %.0e s a run): not a row it wrote",
                          unit, where, (unsigned long long)row->throws, pimc_column_names[times[i]], v[times[i]],
                          (unsigned long long)on, on == 1 ? "" : "s", PIMC_MAX_THROWS_PER_S_PER_THREAD,
                          PIMC_MAX_SECONDS);
    }
    /* Columns of later versions: a file without them has neither segments nor resumes. */
    uint64_t segments = 1, resumed = 0;
    const char *segments_text = v[PIMC_COLUMN_SEGMENTS], *resumed_text = v[PIMC_COLUMN_THROWS_RESUMED];
    if (segments_text != NULL && *segments_text != '\0' &&
        (!decimal_count(segments_text, &segments) || segments < 1 || segments > PIMC_MAX_SEGMENTS))
        return failed(why, size, "%s %ld: segments '%s' is not a count from 1 to %llu", unit, where, segments_text,
                      (unsigned long long)PIMC_MAX_SEGMENTS);
    if (resumed_text != NULL && *resumed_text != '\0' && (!decimal_count(resumed_text, &resumed) ||
                                                          resumed > row->throws))
        return failed(why, size, "%s %ld: throws_resumed '%s' is not a count from 0 to the throws (%llu)", unit,
                      where, resumed_text, (unsigned long long)row->throws);
    row->checkpointed = strcmp(row->mode, "checkpoint") == 0 || segments > 1 || resumed > 0;
    row->complete = strcmp(v[PIMC_COLUMN_STATUS], "complete") == 0;
    /* Multi-rank rows count all ranks' threads: more than one process can run. */
    row->reference = row->complete && row->ranks == 1 && isfinite(row->parallel_s) &&
                     row->threads <= PIMC_MAX_THREADS && row->throws <= PIMC_MAX_THROWS &&
                     strcmp(row->mode, "check") != 0 && strcmp(row->mode, "against") != 0 &&
                     strcmp(row->mode, "weak") != 0 && !row->checkpointed;
    b->count++;
    return true;
}

static bool missing_columns(const bool *present, char *why, size_t size)
{
    for (size_t i = 0; i < REQUIRED; i++)
        if (!present[required[i]])
            return !failed(why, size, "no column '%s': not a file pimc-omp wrote with --csv or --json",
                           pimc_column_names[required[i]]);
    return false;
}

/* ---- CSV, through libcsv ------------------------------------------------- */

struct csv_reading {
    struct pimc_baseline *b;
    char *why;
    size_t size;
    bool failed;
    long line;         /* being fed to the parser */
    long record_start; /* line where the record under way began */
    bool pending;      /* a record is under way */
    bool header_done;
    int fields;                /* of the record under way */
    int header_count;          /* columns of the header */
    int header_column[MAX_HEADER_COLUMNS]; /* schema column of each, -1 if unknown */
    const char *header_name[MAX_HEADER_COLUMNS];
    const char *v[PIMC_COLUMN_COUNT]; /* the record under way */
};

static void csv_failed(struct csv_reading *r, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void csv_failed(struct csv_reading *r, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    pimc_error_message_v(r->why, r->size, format, args);
    va_end(args);
    r->failed = true;
}

static void begin_record(struct csv_reading *r)
{
    if (!r->pending) {
        r->pending = true;
        r->record_start = r->line;
    }
}

static void on_field(void *data, size_t n, void *context)
{
    struct csv_reading *r = context;
    const char *text = data != NULL ? data : "";
    if (r->failed)
        return;
    begin_record(r);
    if (memchr(text, '\0', n) != NULL) {
        csv_failed(r, "line %ld: a NUL byte in a field", r->line);
        return;
    }
    if (!r->header_done) {
        if (r->header_count == MAX_HEADER_COLUMNS) {
            csv_failed(r, "line %ld: more than %d columns", r->record_start, MAX_HEADER_COLUMNS);
            return;
        }
        r->header_column[r->header_count] = column_of(text, n);
        r->header_name[r->header_count++] = keep(r->b, text, n);
    } else if (r->fields < r->header_count && r->header_column[r->fields] >= 0) {
        r->v[r->header_column[r->fields]] = keep(r->b, text, n);
    }
    r->fields++;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void finish_header(struct csv_reading *r)
{
    const char **sorted = allocated(malloc((size_t)r->header_count * sizeof *sorted));
    memcpy(sorted, r->header_name, (size_t)r->header_count * sizeof *sorted);
    qsort(sorted, (size_t)r->header_count, sizeof *sorted, compare_names);
    for (int i = 1; i < r->header_count && !r->failed; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            csv_failed(r, "line %ld: column '%.64s' appears twice", r->record_start, sorted[i]);
    free(sorted);
    bool present[PIMC_COLUMN_COUNT] = {false};
    for (int i = 0; i < r->header_count; i++)
        if (r->header_column[i] >= 0)
            present[r->header_column[i]] = true;
    if (!r->failed && missing_columns(present, r->why, r->size))
        r->failed = true;
    r->header_done = true;
}

static void on_record(int terminator, void *context)
{
    struct csv_reading *r = context;
    (void)terminator;
    if (r->failed)
        return;
    begin_record(r);
    if (!r->header_done)
        finish_header(r);
    else if (r->fields != r->header_count)
        csv_failed(r, "line %ld has %d fields where the header has %d", r->record_start, r->fields,
                   r->header_count);
    else if (!decode_row(r->b, r->record_start, r->v, r->why, r->size))
        r->failed = true;
    memset(r->v, 0, sizeof r->v);
    r->fields = 0;
    r->pending = false;
}

/* Spaces are data: libcsv would trim them from unquoted fields. */
static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static bool blank_line(const char *p, const char *end)
{
    return end - p <= 2 && (p == end || *p == '\n' || *p == '\r');
}

static bool parse_csv(const char *text, size_t length, struct pimc_baseline *b, char *why, size_t size)
{
    struct csv_reading *r = allocated(calloc(1, sizeof *r));
    struct csv_parser parser;
    *r = (struct csv_reading){.b = b, .why = why, .size = size};
    b->unit = "line";
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        free(r);
        return failed(why, size, "out of memory");
    }
    csv_set_space_func(&parser, no_space);
    /* Fed a line at a time, so that messages can name the line. */
    const char *at = text, *end = text + length;
    for (r->line = 1; at < end && !r->failed; r->line++) {
        const char *newline = memchr(at, '\n', (size_t)(end - at));
        const char *next = newline != NULL ? newline + 1 : end;
        if (!r->pending && !blank_line(at, next))
            begin_record(r);
        const size_t n = (size_t)(next - at);
        if (csv_parse(&parser, at, n, on_field, on_record, r) != n && !r->failed)
            csv_failed(r, "line %ld: %s", r->line,
                       csv_error(&parser) == CSV_EPARSE
                           ? "a quote inside an unquoted field, or text after a closing quote (a quote in a "
                             "field must be doubled, and the field quoted)"
                           : csv_strerror(csv_error(&parser)));
        at = next;
    }
    r->line--;
    if (!r->failed && csv_fini(&parser, on_field, on_record, r) != 0)
        csv_failed(r, "line %ld: a quoted field is never closed", r->record_start);
    csv_free(&parser);
    const bool ok = !r->failed && (r->header_done || failed(why, size, "no header line"));
    free(r);
    return ok;
}

/* ---- JSON, through jansson ----------------------------------------------- */

static bool json_failed(const json_error_t *e, size_t offset, size_t length, char *why, size_t size)
{
    const bool at_end = offset + (size_t)e->position >= length;
    /* jansson's integers are 64-bit signed: pimc-omp writes a seed past
     * 2^63-1 as a string, and nothing else it writes gets there. */
    const bool too_big = strncmp(e->text, "too big", 7) == 0;
    return failed(why, size, "JSON: %s (line %d, column %d)%s", e->text, e->line, e->column,
                  at_end    ? ", but the file ends (truncated?)"
                  : too_big ? "; integers go up to 2^63-1 (pimc-omp writes a seed past that as a string, "
                              "\"seed\": \"18446744073709551615\")"
                            : "");
}

/* A member's value as the text a CSV cell would hold: null is empty, "does
 * not apply". */
static const char *scalar_text(struct pimc_baseline *b, const json_t *value)
{
    char number[64];
    switch (json_typeof(value)) {
    case JSON_STRING:
        return keep(b, json_string_value(value), json_string_length(value));
    case JSON_INTEGER:
        snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
        return keep(b, number, strlen(number));
    case JSON_REAL:
        snprintf(number, sizeof number, "%.17g", json_real_value(value));
        return keep(b, number, strlen(number));
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    default:
        return "";
    }
}

struct json_rows {
    json_t **objects;
    int count, capacity;
};

static bool add_object(struct json_rows *rows, json_t *object, char *why, size_t size)
{
    if (!json_is_object(object))
        return failed(why, size, "JSON: object %d: an array must hold objects, one per row", rows->count + 1);
    if (rows->count == MAX_ROWS)
        return failed(why, size, "it has more than %d rows; a baseline needs a few: keep the recent ones", MAX_ROWS);
    if (rows->count == rows->capacity) {
        rows->capacity = rows->capacity ? 2 * rows->capacity : 64;
        rows->objects = allocated(realloc(rows->objects, (size_t)rows->capacity * sizeof *rows->objects));
    }
    rows->objects[rows->count++] = object;
    return true;
}

static bool decode_objects(struct pimc_baseline *b, const struct json_rows *rows, char *why, size_t size)
{
    bool present[PIMC_COLUMN_COUNT] = {false};
    for (int i = 0; i < rows->count; i++) {
        const char *key;
        json_t *value;
        json_object_foreach(rows->objects[i], key, value) {
            if (json_is_object(value) || json_is_array(value))
                return failed(why, size, "JSON: object %d: '%.64s' holds an object or array; a pimc-omp record is "
                                         "flat", i + 1, key);
            const int c = column_of(key, strlen(key));
            if (c >= 0)
                present[c] = true;
        }
    }
    if (rows->count > 0 && missing_columns(present, why, size))
        return false;
    for (int i = 0; i < rows->count; i++) {
        const char *v[PIMC_COLUMN_COUNT] = {NULL};
        const char *key;
        json_t *value;
        json_object_foreach(rows->objects[i], key, value) {
            const int c = column_of(key, strlen(key));
            if (c >= 0)
                v[c] = scalar_text(b, value);
        }
        if (!decode_row(b, i + 1, v, why, size))
            return false;
    }
    return true;
}

static bool parse_json(const char *text, size_t length, struct pimc_baseline *b, char *why, size_t size)
{
    struct json_rows rows = {0};
    json_t **documents = NULL;
    int document_count = 0;
    bool ok = true;
    b->unit = "object";
    for (size_t at = 0; ok;) {
        while (at < length && strchr(" \t\r\n", text[at]) != NULL && text[at] != '\0')
            at++;
        if (at == length)
            break;
        if (text[at] != '{' && text[at] != '[') {
            ok = failed(why, size, "JSON: expected an object or an array of objects at byte %zu", at);
            break;
        }
        json_error_t error;
        /* A key twice in one object is not a record pimc-omp wrote, and which
         * value would count is a guess: refused, as the CSV and checkpoint
         * readers refuse a column or field twice. */
        json_t *document = json_loadb(text + at, length - at, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES,
                                      &error);
        if (document == NULL) {
            ok = json_failed(&error, at, length, why, size);
            break;
        }
        at += (size_t)error.position;
        documents = allocated(realloc(documents, (size_t)(document_count + 1) * sizeof *documents));
        documents[document_count++] = document;
        if (json_is_object(document)) {
            ok = add_object(&rows, document, why, size);
        } else {
            size_t i;
            json_t *element;
            json_array_foreach(document, i, element) {
                if (!(ok = add_object(&rows, element, why, size)))
                    break;
            }
        }
    }
    if (ok)
        ok = decode_objects(b, &rows, why, size);
    for (int i = 0; i < document_count; i++)
        json_decref(documents[i]);
    free(documents);
    free(rows.objects);
    return ok;
}

/* ---- the file ------------------------------------------------------------ */

bool pimc_baseline_parse(const char *text, size_t length, enum pimc_baseline_format format,
                         struct pimc_baseline *b, char *why, size_t size)
{
    memset(b, 0, sizeof *b);
    b->unit = "line";
    if (length >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) { /* a UTF-8 byte order mark */
        text += 3;
        length -= 3;
    }
    size_t first = 0;
    while (first < length && (text[first] == ' ' || text[first] == '\t' || text[first] == '\r' ||
                              text[first] == '\n'))
        first++;
    if (first == length)
        return failed(why, size, "it is empty");
    if (format == PIMC_BASELINE_ANY)
        format = text[first] == '{' || text[first] == '[' ? PIMC_BASELINE_JSON : PIMC_BASELINE_CSV;
    bool ok = format == PIMC_BASELINE_JSON ? parse_json(text, length, b, why, size)
                                           : parse_csv(text, length, b, why, size);
    if (!ok)
        return false;
    for (int r = 0; r < b->count; r++)
        if (b->rows[r].reference)
            return true;
    return failed(why, size, "no complete row to compare with (status=complete; rows of --check, --weak, "
                             "several MPI ranks or checkpointed runs do not count)");
}

bool pimc_baseline_read(const char *path, struct pimc_baseline *b, char *why, size_t size)
{
    memset(b, 0, sizeof *b);
    char *text, reason[256];
    size_t length;
    switch (pimc_input_read(path, PIMC_BASELINE_MAX_BYTES, &text, &length, reason, sizeof reason)) {
    case PIMC_INPUT_ABSENT:
        return failed(why, size, "cannot open it: %s", strerror(ENOENT));
    case PIMC_INPUT_REFUSED:
        return failed(why, size, "%s; name the CSV or JSON file that --csv or --json wrote", reason);
    case PIMC_INPUT_TOO_LARGE:
        return failed(why, size, "it is larger than %zu MiB", PIMC_BASELINE_MAX_BYTES >> 20);
    case PIMC_INPUT_OK:
        break;
    }
    const bool ok = pimc_baseline_parse(text, length, PIMC_BASELINE_ANY, b, why, size);
    free(text);
    return ok;
}

void pimc_baseline_free(struct pimc_baseline *b)
{
    for (size_t i = 0; i < b->cell_count; i++)
        free(b->cells[i]);
    free(b->cells);
    free(b->rows);
    memset(b, 0, sizeof *b);
}
