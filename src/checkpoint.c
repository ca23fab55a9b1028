#include "checkpoint.h"

#include "bounds.h"
#include "error_message.h"
#include "file_io.h"
#include "input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The reason in error[size]; each caller returns its own failure after it. */
#define say(error, size, ...) pimc_error_message(error, size, __VA_ARGS__)

/* ---- the in-memory checkpoint --------------------------------------------- */

bool pimc_checkpoint_init(struct pimc_checkpoint *cp, uint64_t seed, uint64_t throws, const char *generator,
                          char *error, size_t error_size)
{
    memset(cp, 0, sizeof *cp);
    cp->seed = seed;
    cp->throws = throws;
    cp->stream_version = PIMC_STREAM_VERSION;
    if (strlen(generator) >= sizeof cp->generator) {
        say(error, error_size, "generator name '%s' is longer than %zu characters", generator,
            sizeof cp->generator - 1);
        return false;
    }
    strcpy(cp->generator, generator);
    return true;
}

void pimc_checkpoint_free(struct pimc_checkpoint *cp)
{
    free(cp->done);
    cp->done = NULL;
    cp->done_count = cp->done_capacity = 0;
}

bool pimc_checkpoint_copy(struct pimc_checkpoint *to, const struct pimc_checkpoint *from)
{
    *to = *from;
    to->done = NULL;
    to->done_capacity = 0;
    if (from->done_count == 0)
        return true;
    to->done = malloc(from->done_count * sizeof *to->done);
    if (to->done == NULL) {
        to->done_count = 0;
        return false;
    }
    memcpy(to->done, from->done, from->done_count * sizeof *to->done);
    to->done_capacity = from->done_count;
    return true;
}

bool pimc_checkpoint_add(struct pimc_checkpoint *cp, uint64_t first, uint64_t end)
{
    if (cp->done_count == cp->done_capacity) {
        size_t capacity = cp->done_capacity ? 2 * cp->done_capacity : 16;
        struct pimc_range *grown = realloc(cp->done, capacity * sizeof *grown);
        if (grown == NULL)
            return false;
        cp->done = grown;
        cp->done_capacity = capacity;
    }
    cp->done[cp->done_count++] = (struct pimc_range){first, end};
    return true;
}

static int compare_ranges(const void *a, const void *b)
{
    const struct pimc_range *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

bool pimc_checkpoint_merge(struct pimc_checkpoint *cp)
{
    if (cp->done_count == 0)
        return true;
    qsort(cp->done, cp->done_count, sizeof *cp->done, compare_ranges);
    for (size_t i = 0; i < cp->done_count; i++)
        if (cp->done[i].first >= cp->done[i].end || cp->done[i].end > cp->throws ||
            (i > 0 && cp->done[i].first < cp->done[i - 1].end))
            return false;
    size_t kept = 0;
    for (size_t i = 1; i < cp->done_count; i++) {
        if (cp->done[i].first == cp->done[kept].end)
            cp->done[kept].end = cp->done[i].end;
        else
            cp->done[++kept] = cp->done[i];
    }
    cp->done_count = kept + 1;
    return true;
}

uint64_t pimc_checkpoint_throws_done(const struct pimc_checkpoint *cp)
{
    uint64_t done = 0;
    for (size_t i = 0; i < cp->done_count; i++)
        done += cp->done[i].end - cp->done[i].first;
    return done;
}

bool pimc_checkpoint_complete(const struct pimc_checkpoint *cp)
{
    return pimc_checkpoint_throws_done(cp) == cp->throws;
}

/* ---- reading: every field checked, every input answered ------------------- */

static const char *const known_fields[] = {"format", "version", "seed", "throws", "stream",
                                           "done", "throws_done", "hits", "compute_s", "segments"};

/* An integer field within [min, max]; jansson's integers are signed 64-bit, so
 * every count up to 2^63-1 fits. */
static bool get_integer(const json_t *object, const char *key, json_int_t min, json_int_t max, json_int_t *value)
{
    const json_t *field = json_object_get(object, key);
    if (!json_is_integer(field))
        return false;
    *value = json_integer_value(field);
    return *value >= min && *value <= max;
}

/* The seed is a decimal string: it may pass 2^63, past what JSON integers hold
 * portably (jansson's stop at 2^63-1, JavaScript's at 2^53). */
static bool parse_seed(const json_t *field, uint64_t *seed)
{
    const char *text = json_string_value(field);
    if (text == NULL || json_string_length(field) == 0 || json_string_length(field) > 20)
        return false;
    uint64_t value = 0;
    for (const char *c = text; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return false;
        const uint64_t digit = (uint64_t)(*c - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    *seed = value;
    return true;
}

/* Text from the file, safe to quote in a one-line message. */
static void printable(char *out, size_t size, const char *text)
{
    size_t i = 0;
    for (; text[i] != '\0' && i + 1 < size; i++)
        out[i] = (unsigned char)text[i] < ' ' || (unsigned char)text[i] > '~' ? '?' : text[i];
    out[i] = '\0';
}

static bool is_known_field(const char *key)
{
    for (size_t i = 0; i < sizeof known_fields / sizeof *known_fields; i++)
        if (strcmp(key, known_fields[i]) == 0)
            return true;
    return false;
}

/* Fills cp from the parsed root; false with the problem in `problem`. */
static bool check_root(const json_t *root, struct pimc_checkpoint *cp, char *problem, size_t size)
{
    json_int_t value;
    const char *key;
    json_t *field;

    if (!json_is_object(root))
        return say(problem, size, "not a JSON object"), false;
    const char *format = json_string_value(json_object_get(root, "format"));
    if (format == NULL || strcmp(format, PIMC_CHECKPOINT_FORMAT) != 0)
        return say(problem, size, "no \"format\": \"%s\" in it", PIMC_CHECKPOINT_FORMAT), false;
    if (!get_integer(root, "version", 1, INT32_MAX, &value))
        return say(problem, size, "\"version\" must be a positive integer"), false;
    if (value != PIMC_CHECKPOINT_VERSION)
        return say(problem, size, "version %lld; this pimc-omp reads version %d", (long long)value,
                   PIMC_CHECKPOINT_VERSION),
               false;
    json_object_foreach((json_t *)root, key, field) {
        char shown[41];
        printable(shown, sizeof shown, key);
        if (!is_known_field(key))
            return say(problem, size, "unknown field \"%s\"", shown), false;
    }

    if (!parse_seed(json_object_get(root, "seed"), &cp->seed))
        return say(problem, size, "\"seed\" must be a decimal string from \"0\" to \"18446744073709551615\""), false;
    if (!get_integer(root, "throws", 1, INT64_MAX, &value))
        return say(problem, size, "\"throws\" must be an integer from 1 to 2^63-1"), false;
    cp->throws = (uint64_t)value;

    const json_t *stream = json_object_get(root, "stream");
    if (!json_is_object(stream) || json_object_size(stream) != 2)
        return say(problem, size, "\"stream\" must be an object of \"generator\" and \"version\""), false;
    const json_t *generator = json_object_get(stream, "generator");
    const char *name = json_string_value(generator);
    if (name == NULL || json_string_length(generator) == 0 || json_string_length(generator) >= sizeof cp->generator)
        return say(problem, size, "\"stream\".\"generator\" must be a name of 1 to %zu characters",
                   sizeof cp->generator - 1),
               false;
    for (const char *c = name; *c != '\0'; c++)
        if (*c <= ' ' || *c > '~')
            return say(problem, size, "\"stream\".\"generator\" must be printable ASCII without spaces"), false;
    strcpy(cp->generator, name);
    if (!get_integer(stream, "version", 1, INT32_MAX, &value))
        return say(problem, size, "\"stream\".\"version\" must be a positive integer"), false;
    cp->stream_version = (int)value;

    const json_t *done = json_object_get(root, "done");
    if (!json_is_array(done))
        return say(problem, size, "\"done\" must be an array of [first, end] throw ranges"), false;
    for (size_t i = 0; i < json_array_size(done); i++) {
        const json_t *range = json_array_get(done, i);
        const json_t *first = json_array_get(range, 0), *end = json_array_get(range, 1);
        if (!json_is_array(range) || json_array_size(range) != 2 || !json_is_integer(first) || !json_is_integer(end))
            return say(problem, size, "\"done\"[%zu] must be a pair of integers [first, end]", i), false;
        const json_int_t f = json_integer_value(first), e = json_integer_value(end);
        if (f < 0 || e <= f || (uint64_t)e > cp->throws)
            return say(problem, size, "\"done\"[%zu] = [%lld, %lld] is not a range of throws within [0, %llu)", i,
                       (long long)f, (long long)e, (unsigned long long)cp->throws),
                   false;
        if (cp->done_count > 0 && (uint64_t)f < cp->done[cp->done_count - 1].end)
            return say(problem, size, "\"done\"[%zu] starts before \"done\"[%zu] ends: ranges must be sorted and "
                       "disjoint", i, i - 1),
                   false;
        if (cp->done_count > 0 && (uint64_t)f == cp->done[cp->done_count - 1].end)
            cp->done[cp->done_count - 1].end = (uint64_t)e; /* touching: one range */
        else if (!pimc_checkpoint_add(cp, (uint64_t)f, (uint64_t)e))
            return say(problem, size, "out of memory"), false;
    }
    const uint64_t throws_done = pimc_checkpoint_throws_done(cp);
    if (!get_integer(root, "throws_done", 0, INT64_MAX, &value) || (uint64_t)value != throws_done)
        return say(problem, size, "\"throws_done\" must be an integer, the sum of the \"done\" ranges (%llu)",
                   (unsigned long long)throws_done),
               false;
    if (!get_integer(root, "hits", 0, INT64_MAX, &value) || (uint64_t)value > throws_done)
        return say(problem, size, "\"hits\" must be an integer from 0 to \"throws_done\" (%llu)",
                   (unsigned long long)throws_done),
               false;
    cp->hits = (uint64_t)value;
    const json_t *compute = json_object_get(root, "compute_s");
    /* Counters within what runs of this version reach (bounds.h): a count
     * near 2^63 would wrap when the next segment adds to it. */
    if (!json_is_number(compute) || !isfinite(json_number_value(compute)) || json_number_value(compute) < 0 ||
        json_number_value(compute) > PIMC_MAX_SECONDS)
        return say(problem, size, "\"compute_s\" must be a number of seconds from 0 to %.0e", PIMC_MAX_SECONDS),
               false;
    cp->compute_s = json_number_value(compute);
    if (!get_integer(root, "segments", 1, (json_int_t)PIMC_MAX_SEGMENTS, &value))
        return say(problem, size, "\"segments\" must be an integer from 1 to %llu",
                   (unsigned long long)PIMC_MAX_SEGMENTS),
               false;
    cp->segments = (uint64_t)value;
    return true;
}

enum pimc_checkpoint_status pimc_checkpoint_parse(const char *name, const char *text, size_t length,
                                                  struct pimc_checkpoint *cp, char *error, size_t error_size)
{
    char problem[256];
    json_error_t json_error;
    memset(cp, 0, sizeof *cp);
    if (length == 0) {
        say(error, error_size, "checkpoint '%s' is empty; move it away to start the run afresh", name);
        return PIMC_CHECKPOINT_INVALID;
    }
    json_t *root = json_loadb(text, length, JSON_REJECT_DUPLICATES, &json_error);
    if (root == NULL) {
        char shown[sizeof json_error.text];
        printable(shown, sizeof shown, json_error.text); /* jansson quotes the text near the error */
        say(error, error_size, "checkpoint '%s' is not valid JSON (line %d: %s); move it away to start the run "
            "afresh", name, json_error.line, shown);
        return PIMC_CHECKPOINT_INVALID;
    }
    const bool valid = check_root(root, cp, problem, sizeof problem);
    json_decref(root);
    if (!valid) {
        pimc_checkpoint_free(cp);
        say(error, error_size, "checkpoint '%s' is unusable: %s; move it away to start the run afresh", name,
            problem);
        return PIMC_CHECKPOINT_INVALID;
    }
    return PIMC_CHECKPOINT_OK;
}

enum pimc_checkpoint_status pimc_checkpoint_read(const char *path, struct pimc_checkpoint *cp, char *error,
                                                 size_t error_size)
{
    memset(cp, 0, sizeof *cp);
    char *text, reason[256];
    size_t length;
    switch (pimc_input_read(path, PIMC_CHECKPOINT_MAX_BYTES, &text, &length, reason, sizeof reason)) {
    case PIMC_INPUT_ABSENT:
        return PIMC_CHECKPOINT_ABSENT;
    case PIMC_INPUT_REFUSED:
        say(error, error_size, "checkpoint '%s': %s; name the checkpoint file itself (or a new one)", path, reason);
        return PIMC_CHECKPOINT_INVALID;
    case PIMC_INPUT_TOO_LARGE:
        say(error, error_size, "checkpoint '%s' has %zu bytes, more than any checkpoint (%u); move it away to "
            "start the run afresh", path, length, PIMC_CHECKPOINT_MAX_BYTES);
        return PIMC_CHECKPOINT_INVALID;
    case PIMC_INPUT_OK:
        break;
    }
    enum pimc_checkpoint_status status = pimc_checkpoint_parse(path, text, length, cp, error, error_size);
    free(text);
    return status;
}

bool pimc_checkpoint_matches(const char *path, const struct pimc_checkpoint *cp,
                             const struct pimc_checkpoint *current, char *error, size_t error_size)
{
    char differences[384] = "";
    size_t used = 0;
#define DIFFER(...)                                                                                             \
    used += (size_t)snprintf(differences + used, used < sizeof differences ? sizeof differences - used : 0,   \
                             "%s", used ? ", " : ""),                                                           \
        used += (size_t)snprintf(differences + used, used < sizeof differences ? sizeof differences - used : 0, \
                                 __VA_ARGS__)
    if (cp->seed != current->seed)
        DIFFER("seed %llu there, %llu here", (unsigned long long)cp->seed, (unsigned long long)current->seed);
    if (cp->throws != current->throws)
        DIFFER("throws %llu there, %llu here", (unsigned long long)cp->throws, (unsigned long long)current->throws);
    if (strcmp(cp->generator, current->generator) != 0)
        DIFFER("generator %s there, %s here", cp->generator, current->generator);
    if (cp->stream_version != current->stream_version)
        DIFFER("stream version %d there, %d here", cp->stream_version, current->stream_version);
#undef DIFFER
    if (used == 0)
        return true;
    say(error, error_size, "checkpoint '%s' is of another run (%s); give the same options or another FILE", path,
        differences);
    return false;
}

/* ---- writing: the whole text first, then one atomic replace ---------------- */

char *pimc_checkpoint_format(const struct pimc_checkpoint *cp)
{
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)cp->seed);
    json_t *done = json_array();
    for (size_t i = 0; done != NULL && i < cp->done_count; i++)
        if (json_array_append_new(done, json_pack("[I, I]", (json_int_t)cp->done[i].first,
                                                  (json_int_t)cp->done[i].end)) != 0) {
            json_decref(done);
            done = NULL;
        }
    if (done == NULL)
        return NULL;
    /* "o" hands `done` to the object, which frees it, also when packing fails. */
    json_t *root = json_pack("{s:s, s:i, s:s, s:I, s:{s:s, s:i}, s:o, s:I, s:I, s:f, s:I}", "format",
                             PIMC_CHECKPOINT_FORMAT, "version", PIMC_CHECKPOINT_VERSION, "seed", seed, "throws",
                             (json_int_t)cp->throws, "stream", "generator", cp->generator, "version",
                             cp->stream_version, "done", done, "throws_done",
                             (json_int_t)pimc_checkpoint_throws_done(cp), "hits", (json_int_t)cp->hits,
                             "compute_s", cp->compute_s, "segments", (json_int_t)cp->segments);
    if (root == NULL)
        return NULL;
    char *body = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (body == NULL)
        return NULL;
    const size_t length = strlen(body);
    char *text = realloc(body, length + 2);
    if (text == NULL) {
        free(body);
        return NULL;
    }
    text[length] = '\n';
    text[length + 1] = '\0';
    return text;
}

int pimc_checkpoint_write(const char *path, const struct pimc_checkpoint *cp, char *error, size_t error_size)
{
    char *text = pimc_checkpoint_format(cp);
    if (text == NULL) {
        say(error, error_size, "cannot save checkpoint '%s': out of memory", path);
        return -1;
    }
    const int status = pimc_replace_file(path, "checkpoint", text, strlen(text), error, error_size);
    free(text);
    return status;
}
