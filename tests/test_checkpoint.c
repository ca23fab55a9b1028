/* Checkpoints: the file format (round trip, every kind of bad input refused
 * with a message), atomic replacement under SIGKILL, the chunk grid and the
 * ranks' shares, and the resumable run ending with an uninterrupted run's hits
 * whatever threads and kernel paths its segments used. */
#include "checkpoint.h"
#include "file_io.h"
#include "resume.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/test_checkpoint.XXXXXX";

static char *path_in_dir(const char *name)
{
    static char paths[8][256];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, sizeof paths[0], "%s/%s", dir, name);
    return path;
}

static char *slurp(const char *path, size_t *length)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *text = malloc(1 << 24);
    *length = fread(text, 1, (1 << 24) - 1, f);
    text[*length] = '\0';
    fclose(f);
    return text;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static bool same_file(const char *path, const char *text, size_t length)
{
    size_t now_length;
    char *now = slurp(path, &now_length);
    bool same = now != NULL && now_length == length && memcmp(now, text, length) == 0;
    free(now);
    return same;
}

/* Temp files of a save of NAME (NAME.tmp.XXXXXX) in the test directory. */
static int temp_files_of(const char *name)
{
    char prefix[256];
    int count = 0;
    snprintf(prefix, sizeof prefix, "%s.tmp.", name);
    DIR *d = opendir(dir);
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        count += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d != NULL)
        closedir(d);
    return count;
}

/* Writes as a full disk or a stuck device make them, for the tests of what a
 * failed or killed save leaves. This write() stands in for libc's in this
 * program (file_io.c's calls come here); the real one is the system call.
 * - fail_after >= 0: writes of a large buffer (a checkpoint, not TAP output)
 *   take that many bytes, then fail with fail_errno, as a full disk does;
 * - stall_pipe >= 0: a large write goes half way, says so on the pipe, and
 *   waits there to be killed. */
static long fail_after = -1;
static int fail_errno, stall_pipe = -1;

ssize_t write(int fd, const void *data, size_t length)
{
    if (stall_pipe >= 0 && fd != stall_pipe && length > 65536) {
        (void)syscall(SYS_write, fd, data, length / 2);
        (void)syscall(SYS_write, stall_pipe, "x", 1);
        for (;;)
            pause();
    }
    if (fail_after >= 0 && length > 4096) {
        if (fail_after == 0) {
            errno = fail_errno;
            return -1;
        }
        const size_t taken = length < (size_t)fail_after ? length : (size_t)fail_after;
        const ssize_t wrote = syscall(SYS_write, fd, data, taken);
        if (wrote > 0)
            fail_after -= wrote;
        return wrote;
    }
    return syscall(SYS_write, fd, data, length);
}

static void sleep_s(double seconds)
{
    struct timespec t = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

/* ---- the format ----------------------------------------------------------- */

static void round_trip(void)
{
    char error[512] = "";
    struct pimc_checkpoint cp, back;
    pimc_checkpoint_init(&cp, UINT64_MAX, UINT64_C(9223372036854775807), "philox4x32-10", error, sizeof error);
    pimc_checkpoint_add(&cp, 100, 200);
    pimc_checkpoint_add(&cp, 0, 50);
    pimc_checkpoint_add(&cp, UINT64_C(9223372036854775000), UINT64_C(9223372036854775807));
    pimc_checkpoint_add(&cp, 50, 60); /* touches [0, 50) */
    tap_ok(pimc_checkpoint_merge(&cp) && cp.done_count == 3 && cp.done[0].first == 0 && cp.done[0].end == 60 &&
               cp.done[1].first == 100,
           "merge sorts the ranges and joins touching ones");
    cp.hits = 700;
    cp.compute_s = 1234.5678901234567;
    cp.segments = 7;
    const char *path = path_in_dir("round.json");
    tap_ok(pimc_checkpoint_write(path, &cp, error, sizeof error) == 0, "write%s%s", *error ? ": " : "", error);
    enum pimc_checkpoint_status status = pimc_checkpoint_read(path, &back, error, sizeof error);
    tap_ok(status == PIMC_CHECKPOINT_OK, "read back what was written: %s", status ? error : "ok");
    if (status == PIMC_CHECKPOINT_OK) {
        bool same = back.seed == cp.seed && back.throws == cp.throws && strcmp(back.generator, cp.generator) == 0 &&
                    back.stream_version == PIMC_STREAM_VERSION && back.hits == 700 && back.segments == 7 &&
                    back.compute_s == cp.compute_s && back.done_count == cp.done_count;
        for (size_t i = 0; same && i < cp.done_count; i++)
            same = back.done[i].first == cp.done[i].first && back.done[i].end == cp.done[i].end;
        tap_ok(same, "every field survives the round trip, seed 2^64-1 and throws 2^63-1 exactly");
        tap_ok(pimc_checkpoint_throws_done(&back) == 60 + 100 + 807 && !pimc_checkpoint_complete(&back),
               "throws done: the sum of the ranges");
        pimc_checkpoint_free(&back);
    }
    size_t length;
    char *text = slurp(path, &length);
    tap_ok(text != NULL && strstr(text, "\"seed\": \"18446744073709551615\"") != NULL &&
               strstr(text, "\"generator\": \"philox4x32-10\"") != NULL,
           "the seed is a decimal string, the generator named");
    free(text);
    tap_ok(temp_files_of("round.json") == 0, "no temp file is left behind");

    struct pimc_checkpoint bad;
    pimc_checkpoint_init(&bad, 1, 100, "philox4x32-10", error, sizeof error);
    pimc_checkpoint_add(&bad, 0, 50);
    pimc_checkpoint_add(&bad, 40, 60);
    tap_ok(!pimc_checkpoint_merge(&bad), "merge refuses overlapping ranges");
    bad.done_count = 0;
    pimc_checkpoint_add(&bad, 90, 101);
    tap_ok(!pimc_checkpoint_merge(&bad), "merge refuses a range past the throws");
    pimc_checkpoint_free(&bad);
    tap_ok(!pimc_checkpoint_init(&bad, 1, 1, "a-generator-name-of-more-than-31-chars", error, sizeof error),
           "a too long generator name is refused: %s", error);
    pimc_checkpoint_free(&cp);
}

/* A valid checkpoint's fields as JSON; a case replaces (or with NULL drops) one. */
static const char *const valid_fields[][2] = {
    {"format", "\"pimc-omp checkpoint\""},
    {"version", "1"},
    {"seed", "\"42\""},
    {"throws", "1000"},
    {"stream", "{\"generator\": \"philox4x32-10\", \"version\": 1}"},
    {"done", "[[0, 100], [200, 300]]"},
    {"throws_done", "200"},
    {"hits", "157"},
    {"compute_s", "1.5"},
    {"segments", "2"},
};
#define FIELD_COUNT (sizeof valid_fields / sizeof *valid_fields)

static char *json_with(const char *key, const char *value)
{
    static char text[4096];
    size_t used = (size_t)snprintf(text, sizeof text, "{");
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        const bool replaced = key != NULL && strcmp(key, valid_fields[i][0]) == 0;
        if (replaced && value == NULL)
            continue;
        used += (size_t)snprintf(text + used, sizeof text - used, "%s\"%s\": %s", used > 1 ? ", " : "",
                                 valid_fields[i][0], replaced ? value : valid_fields[i][1]);
    }
    snprintf(text + used, sizeof text - used, "}\n");
    return text;
}

static void bad_inputs(void)
{
    char error[512];
    struct pimc_checkpoint cp;
    const char *valid = json_with(NULL, NULL);
    tap_ok(pimc_checkpoint_parse("x", valid, strlen(valid), &cp, error, sizeof error) == PIMC_CHECKPOINT_OK &&
               cp.seed == 42 && cp.throws == 1000 && cp.done_count == 2 && cp.hits == 157 && cp.segments == 2,
           "the valid sample parses");
    pimc_checkpoint_free(&cp);
    char touching[4096];
    snprintf(touching, sizeof touching, "%s", json_with("done", "[[0, 100], [100, 200]]"));
    tap_ok(pimc_checkpoint_parse("x", touching, strlen(touching), &cp, error, sizeof error) ==
                   PIMC_CHECKPOINT_OK &&
               cp.done_count == 1 && cp.done[0].end == 200,
           "touching ranges are read as one");
    pimc_checkpoint_free(&cp);

    static const struct {
        const char *key, *value, *named; /* the message must contain `named` */
    } fields[] = {
        {"format", NULL, "format"},
        {"format", "\"pimc-omp checkpoints\"", "format"},
        {"format", "7", "format"},
        {"version", "2", "version 2"},
        {"version", "\"1\"", "version"},
        {"version", NULL, "version"},
        {"seed", "42", "seed"},
        {"seed", "\"-1\"", "seed"},
        {"seed", "\"18446744073709551616\"", "seed"},
        {"seed", "\"0x10\"", "seed"},
        {"seed", "\"\"", "seed"},
        {"seed", NULL, "seed"},
        {"throws", "0", "throws"},
        {"throws", "-5", "throws"},
        {"throws", "1000.0", "throws"},
        {"throws", "\"1000\"", "throws"},
        {"throws", "9223372036854775808", "JSON"},
        {"throws", "1e3", "throws"},
        {"stream", "\"philox4x32-10\"", "stream"},
        {"stream", "{\"generator\": \"philox4x32-10\"}", "stream"},
        {"stream", "{\"generator\": \"\", \"version\": 1}", "generator"},
        {"stream", "{\"generator\": \"philox 4x32\", \"version\": 1}", "generator"},
        {"stream", "{\"generator\": \"philox4x32-10\", \"version\": 0}", "version"},
        {"stream", "{\"generator\": \"philox4x32-10\", \"versio\": 1}", "version"},
        {"done", "{}", "done"},
        {"done", "[[0, 100], [50, 300]]", "sorted"},
        {"done", "[[200, 300], [0, 100]]", "sorted"},
        {"done", "[[0, 100], [200, 1001]]", "done\"[1]"},
        {"done", "[[100, 100]]", "done\"[0]"},
        {"done", "[[-1, 100]]", "done\"[0]"},
        {"done", "[[0, 100, 200]]", "done\"[0]"},
        {"done", "[[0]]", "done\"[0]"},
        {"done", "[[0, \"100\"]]", "done\"[0]"},
        {"done", "[0, 100]", "done\"[0]"},
        {"throws_done", "199", "throws_done"},
        {"throws_done", NULL, "throws_done"},
        {"hits", "201", "hits"},
        {"hits", "-1", "hits"},
        {"hits", NULL, "hits"},
        {"compute_s", "-0.5", "compute_s"},
        {"compute_s", "\"1.5\"", "compute_s"},
        {"compute_s", "1e400", "JSON"},
        {"segments", "0", "segments"},
        {"segments", "1.5", "segments"},
    };
    int refused = 0;
    const int cases = (int)(sizeof fields / sizeof *fields);
    for (int i = 0; i < cases; i++) {
        const char *text = json_with(fields[i].key, fields[i].value);
        enum pimc_checkpoint_status status = pimc_checkpoint_parse("cp.json", text, strlen(text), &cp, error,
                                                                   sizeof error);
        const bool ok = status == PIMC_CHECKPOINT_INVALID && strstr(error, fields[i].named) != NULL &&
                        strstr(error, "cp.json") != NULL && strchr(error, '\n') == NULL;
        if (!ok)
            tap_ok(false, "%s = %s refused, naming '%s': got %s", fields[i].key,
                   fields[i].value ? fields[i].value : "(missing)", fields[i].named,
                   status == PIMC_CHECKPOINT_OK ? "accepted" : error);
        refused += ok;
        if (status == PIMC_CHECKPOINT_OK)
            pimc_checkpoint_free(&cp);
    }
    tap_ok(refused == cases, "%d of %d bad fields refused, each message naming the file and the field", refused,
           cases);

    static const struct {
        const char *label, *text;
        size_t length; /* 0: strlen */
    } raw[] = {
        {"an empty file", "", 0},
        {"not JSON", "hello", 0},
        {"truncated", "{\"format\": \"pimc-omp checkpoint\", \"version\": 1, \"seed\": \"4", 0},
        {"an array", "[1, 2]", 0},
        {"a string", "\"pimc-omp checkpoint\"", 0},
        {"trailing text", NULL, 0},
        {"a duplicate key", NULL, 0},
        {"an unknown field", NULL, 0},
        {"a NUL byte", "{\"format\"\0: 1}", 14},
        {"deep nesting", NULL, 0},
    };
    char buffer[8192];
    refused = 0;
    const int raw_cases = (int)(sizeof raw / sizeof *raw);
    for (int i = 0; i < raw_cases; i++) {
        const char *text = raw[i].text;
        size_t length = raw[i].length;
        if (strcmp(raw[i].label, "trailing text") == 0) {
            snprintf(buffer, sizeof buffer, "%s{}", json_with(NULL, NULL));
            text = buffer;
        } else if (strcmp(raw[i].label, "a duplicate key") == 0) {
            snprintf(buffer, sizeof buffer, "{\"hits\": 1, %s", json_with(NULL, NULL) + 1);
            text = buffer;
        } else if (strcmp(raw[i].label, "an unknown field") == 0) {
            snprintf(buffer, sizeof buffer, "{\"ranks\": 4, %s", json_with(NULL, NULL) + 1);
            text = buffer;
        } else if (strcmp(raw[i].label, "deep nesting") == 0) {
            memset(buffer, '[', 5000);
            buffer[5000] = '\0';
            text = buffer;
        }
        if (length == 0)
            length = strlen(text);
        enum pimc_checkpoint_status status = pimc_checkpoint_parse("cp.json", text, length, &cp, error, sizeof error);
        const bool ok = status == PIMC_CHECKPOINT_INVALID && strstr(error, "cp.json") != NULL;
        if (!ok)
            tap_ok(false, "%s refused: got %s", raw[i].label, status == PIMC_CHECKPOINT_OK ? "accepted" : error);
        refused += ok;
        if (status == PIMC_CHECKPOINT_OK)
            pimc_checkpoint_free(&cp);
    }
    tap_ok(refused == raw_cases, "%d of %d malformed texts refused", refused, raw_cases);

    put(path_in_dir("empty.json"), "");
    tap_ok(pimc_checkpoint_read(path_in_dir("empty.json"), &cp, error, sizeof error) == PIMC_CHECKPOINT_INVALID &&
               strstr(error, "empty") != NULL,
           "an empty file is refused: %s", error);
    tap_ok(pimc_checkpoint_read(dir, &cp, error, sizeof error) == PIMC_CHECKPOINT_INVALID &&
               strstr(error, "regular file") != NULL,
           "a directory is refused: %s", error);
    tap_ok(pimc_checkpoint_read(path_in_dir("absent.json"), &cp, error, sizeof error) == PIMC_CHECKPOINT_ABSENT,
           "a missing file is absent, not an error");
}

static void identity(void)
{
    char error[512];
    struct pimc_checkpoint cp, here;
    pimc_checkpoint_init(&cp, 7, 1000, "philox4x32-10", error, sizeof error);
    pimc_checkpoint_init(&here, 7, 1000, "philox4x32-10", error, sizeof error);
    tap_ok(pimc_checkpoint_matches("cp.json", &cp, &here, error, sizeof error), "the same run matches");
    here.seed = 8;
    tap_ok(!pimc_checkpoint_matches("cp.json", &cp, &here, error, sizeof error) &&
               strstr(error, "seed 7 there, 8 here") != NULL && strstr(error, "throws") == NULL,
           "another seed is named, and only it: %s", error);
    here.seed = 7;
    here.throws = 2000;
    strcpy(here.generator, "ars4x32-5");
    here.stream_version = 2;
    tap_ok(!pimc_checkpoint_matches("cp.json", &cp, &here, error, sizeof error) &&
               strstr(error, "throws 1000 there, 2000 here") != NULL &&
               strstr(error, "generator philox4x32-10 there, ars4x32-5 here") != NULL &&
               strstr(error, "stream version 1 there, 2 here") != NULL,
           "every difference is named: %s", error);
}

/* ---- atomic replacement ----------------------------------------------------- */

/* A checkpoint large enough to fill a pipe many times over, numbered n. */
static void nth_checkpoint(struct pimc_checkpoint *cp, uint64_t n)
{
    char error[256];
    pimc_checkpoint_init(cp, 3, UINT64_C(1) << 40, "philox4x32-10", error, sizeof error);
    for (uint64_t i = 0; i < 20001; i++)
        pimc_checkpoint_add(cp, 10 * i, 10 * i + 5);
    cp->hits = n;
    cp->segments = n;
}

/* Random moments: the writer child rewrites the file in a loop, and is killed
 * after a random wait, 20 times. */
static void kill_at_random(void)
{
    const char *path = path_in_dir("killed.json");
    char error[512];
    int kills = 0, whole = 0, mid_write = 0;
    srand(12345);
    for (int k = 0; k < 20; k++) {
        int ready[2];
        if (pipe(ready) != 0)
            break;
        const pid_t child = fork();
        if (child == 0) {
            struct pimc_checkpoint cp;
            nth_checkpoint(&cp, 1);
            for (uint64_t n = 1;; n++) {
                cp.hits = cp.segments = n;
                if (pimc_checkpoint_write(path, &cp, error, sizeof error) != 0)
                    _exit(1);
                if (n == 1 && write(ready[1], "x", 1) != 1)
                    _exit(1);
            }
        }
        char byte;
        close(ready[1]);
        const bool started = read(ready[0], &byte, 1) == 1;
        close(ready[0]);
        sleep_s(0.001 * (rand() % 40));
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        kills += started;
        mid_write += temp_files_of("killed.json") > 0;
        struct pimc_checkpoint cp;
        if (pimc_checkpoint_read(path, &cp, error, sizeof error) == PIMC_CHECKPOINT_OK) {
            /* whole: one of the checkpoints written, not a mix of two */
            whole += cp.segments >= 1 && cp.hits == cp.segments && cp.done_count == 20001;
            pimc_checkpoint_free(&cp);
        }
        unlink(path);
        pimc_remove_stale_temps(path);
    }
    tap_ok(kills == 20 && whole == 20, "20 SIGKILLs of a writer at random moments: the file is whole every time "
           "(%d of %d; %d left a temp file)", whole, kills, mid_write);
}

/* The worst moment, made certain: the writer stops half way through writing
 * the new checkpoint (write() above) and is killed there. What it leaves, a
 * temp file, is removed by the next holder of the checkpoint's lock. */
static void kill_in_the_middle_of_a_write(void)
{
    const char *path = path_in_dir("midwrite.json");
    char error[512];
    struct pimc_checkpoint cp;
    nth_checkpoint(&cp, 1);
    pimc_checkpoint_write(path, &cp, error, sizeof error);
    size_t length;
    char *before = slurp(path, &length);
    int stalled[2];
    if (pipe(stalled) != 0)
        return;
    const pid_t child = fork();
    if (child == 0) {
        stall_pipe = stalled[1];
        cp.segments = 2;
        _exit(pimc_checkpoint_write(path, &cp, error, sizeof error) == 0 ? 0 : 1);
    }
    close(stalled[1]);
    char byte;
    const bool in_write = read(stalled[0], &byte, 1) == 1; /* the writer is now inside its write */
    close(stalled[0]);
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    const int temps = temp_files_of("midwrite.json");
    tap_ok(in_write && length > 65536 && WIFSIGNALED(status) && temps == 1 && same_file(path, before, length),
           "killed in the middle of writing (%zu bytes): the previous checkpoint is whole, %d temp file left", length,
           temps);
    pimc_remove_stale_temps(path);
    tap_ok(temp_files_of("midwrite.json") == 0 && same_file(path, before, length),
           "the temp file of a killed save is removed as stale, the checkpoint kept");
    free(before);
    pimc_checkpoint_free(&cp);
}

static void write_failures(void)
{
    char error[512];
    struct pimc_checkpoint cp;
    pimc_checkpoint_init(&cp, 1, 100, "philox4x32-10", error, sizeof error);
    cp.segments = 1;
    tap_ok(pimc_checkpoint_write(path_in_dir("no/such/dir/cp.json"), &cp, error, sizeof error) != 0 &&
               strstr(error, "no/such/dir/cp.json") != NULL && strstr(error, "No such file") != NULL,
           "a missing directory is reported: %s", error);
    const char *path = path_in_dir("kept.json");
    nth_checkpoint(&cp, 1);
    pimc_checkpoint_write(path, &cp, error, sizeof error);
    size_t length;
    char *before = slurp(path, &length);
    const int errors[] = {ENOSPC, EIO, EDQUOT};
    for (size_t i = 0; i < sizeof errors / sizeof *errors; i++) {
        /* A short write first, then the error, as a full disk gives them. */
        fail_after = 1000;
        fail_errno = errors[i];
        cp.segments = 2 + i;
        const int status = pimc_checkpoint_write(path, &cp, error, sizeof error);
        fail_after = -1;
        tap_ok(status != 0 && strstr(error, strerror(errors[i])) != NULL && strstr(error, "kept.json") != NULL &&
                   same_file(path, before, length) && temp_files_of("kept.json") == 0,
               "a save cut short by %s says so and leaves the previous checkpoint as it was, no temp file: %s",
               strerror(errors[i]), error);
    }
    /* A planted link where a fixed temp name would be: never followed. */
    const char *victim = path_in_dir("victim");
    put(victim, "victim\n");
    symlink(victim, path_in_dir("kept.json.tmp"));
    tap_ok(pimc_checkpoint_write(path, &cp, error, sizeof error) == 0 && same_file(victim, "victim\n", 7),
           "a link planted as FILE.tmp is left alone, and so is its target");
    unlink(path_in_dir("kept.json.tmp"));
    free(before);
    pimc_checkpoint_free(&cp);
}

/* ---- the chunk grid and the shares -------------------------------------------- */

static void grid(void)
{
    bool ok = true;
    uint64_t previous = 0;
    for (uint64_t throws = 1; throws < UINT64_C(1) << 62; throws = throws * 3 + 1) {
        const uint64_t c = pimc_chunk_throws(throws);
        ok = ok && (c & (c - 1)) == 0 && c <= PIMC_CHUNK_MAX_THROWS && c >= previous;
        previous = c;
    }
    tap_ok(ok, "chunks are powers of two, up to %llu throws, growing with the run",
           (unsigned long long)PIMC_CHUNK_MAX_THROWS);

    /* A fragmented checkpoint: the chunks must be exactly the throws not done. */
    char error[256];
    struct pimc_checkpoint cp;
    const uint64_t throws = UINT64_C(3000000000) + 12345;
    pimc_checkpoint_init(&cp, 1, throws, "philox4x32-10", error, sizeof error);
    const uint64_t c = pimc_chunk_throws(throws);
    pimc_checkpoint_add(&cp, 0, 5 * c);
    pimc_checkpoint_add(&cp, 7 * c + 3, 9 * c);
    pimc_checkpoint_add(&cp, 9 * c + 100, 9 * c + 200);
    pimc_checkpoint_add(&cp, throws - 10, throws);
    pimc_checkpoint_merge(&cp);
    struct pimc_work work;
    pimc_work_init(&work, &cp);
    uint64_t covered = 0, next_first = 0;
    ok = work.chunks > 0;
    for (uint64_t i = 0; ok && i < work.chunks; i++) {
        struct pimc_range r = pimc_work_chunk(&work, i);
        ok = r.first < r.end && r.first >= next_first && r.first / c == (r.end - 1) / c;
        for (size_t d = 0; ok && d < cp.done_count; d++)
            ok = r.end <= cp.done[d].first || r.first >= cp.done[d].end;
        covered += r.end - r.first;
        next_first = r.end;
    }
    tap_ok(ok && covered == throws - pimc_checkpoint_throws_done(&cp),
           "%llu chunks: in order, each within one grid cell, none done, all not done covered",
           (unsigned long long)work.chunks);

    /* Any number of ranks: the shares together are the chunks, once each. */
    ok = true;
    for (int ranks = 1; ranks <= 7 && ok; ranks++) {
        struct pimc_checkpoint all;
        pimc_checkpoint_copy(&all, &cp);
        for (int r = 0; r < ranks; r++) {
            const struct pimc_cluster rank = {.rank = r, .ranks = ranks};
            uint64_t first, count;
            pimc_cluster_share(&rank, work.chunks, &first, &count);
            ok = ok && pimc_work_add_done(&work, first, first + count, &all);
        }
        ok = ok && pimc_checkpoint_merge(&all) && all.done_count == 1 && all.done[0].first == 0 &&
             all.done[0].end == throws;
        pimc_checkpoint_free(&all);
    }
    tap_ok(ok, "shares of 1 to 7 ranks add up to every throw, none twice");
    pimc_work_free(&work);
    pimc_checkpoint_free(&cp);
}

/* A checkpointed run on one rank, modelled: its chunks in batches of
 * pimc_batch_chunks, each batch one kernel job. For every thread count 1 to
 * 512 at every size whose run is a speed result (PIMC_SHORTEST_TIMED_S on the
 * model's fastest path), the threads are >= 97% busy. */
static void batches(void)
{
    const struct pimc_busy_model model = PIMC_BUSY_MODEL_DEFAULT;
    double worst = 1.0;
    uint64_t worst_throws = 0, sizes = 0;
    int worst_threads = 0;
    bool whole = true;
    for (int t = 1; t <= 512; t++) {
        const uint64_t least = (uint64_t)(PIMC_SHORTEST_TIMED_S * model.throws_per_s * t);
        for (uint64_t i = 0;; i++) {
            const uint64_t n = (uint64_t)((double)least * pow(1.07, (double)i)) + i % 5;
            if (n >= UINT64_C(1) << 63)
                break;
            const uint64_t c = pimc_chunk_throws(n), batch = pimc_batch_chunks(c, t) * c;
            whole = whole && batch >= c && batch % c == 0;
            const double seconds = (double)(n / batch) * pimc_modelled_seconds(batch, t, &model) +
                                   pimc_modelled_seconds(n % batch, t, &model);
            const double busy = (double)n / model.throws_per_s / (t * seconds);
            sizes++;
            if (busy < worst)
                worst = busy, worst_throws = n, worst_threads = t;
        }
    }
    tap_ok(whole && worst >= 0.97, "checkpointed runs in batches of whole chunks: modelled busy fraction >= 97%% for "
           "1 to 512 threads at every timed size (%llu sizes): least %.2f%%, %d threads, %llu throws",
           (unsigned long long)sizes, 100 * worst, worst_threads, (unsigned long long)worst_throws);
}

/* ---- the resumable run --------------------------------------------------------- */

/* Stops a segment as soon as its checkpoint shows progress: a segment then
 * always adds something and never finishes, however fast or slow the machine. */
struct stopper {
    atomic_bool stop, finished;
    const char *path;
    uint64_t done_at_start;
};

static void *stop_on_progress(void *arg)
{
    struct stopper *s = arg;
    char error[512];
    while (!atomic_load(&s->finished)) {
        struct pimc_checkpoint cp;
        if (pimc_checkpoint_read(s->path, &cp, error, sizeof error) == PIMC_CHECKPOINT_OK) {
            const bool advanced = pimc_checkpoint_throws_done(&cp) > s->done_at_start;
            pimc_checkpoint_free(&cp);
            if (advanced) {
                atomic_store(&s->stop, true);
                break;
            }
        }
        sleep_s(0.005);
    }
    return NULL;
}

/* One segment: load PATH (or start), run with the kernel and threads; with
 * `stop`, stopped once it has saved some progress. */
static enum pimc_rng rng; /* of the segments run */

static int segment(const char *path, uint64_t seed, uint64_t throws, enum pimc_kernel kernel, int threads,
                   bool stop, struct pimc_resume_result *result, char *error, size_t error_size)
{
    struct pimc_checkpoint current, start;
    pimc_checkpoint_init(&current, seed, throws, pimc_rng_name(rng), error, error_size);
    int status = pimc_resume_load(path, &current, &start, error, error_size);
    pimc_checkpoint_free(&current);
    if (status != 0)
        return status;
    struct stopper stopper = {.path = path, .done_at_start = pimc_checkpoint_throws_done(&start)};
    atomic_init(&stopper.stop, false);
    atomic_init(&stopper.finished, false);
    pthread_t thread;
    if (stop)
        pthread_create(&thread, NULL, stop_on_progress, &stopper);
    struct pimc_resume_plan plan = {.rng = rng, .kernel = pimc_kernel_resolve_for(rng, kernel), .threads = threads,
                                    .path = path, .interval_s = 0.02, .stop = &stopper.stop};
    status = pimc_resume_run(&plan, &start, result, error, error_size);
    atomic_store(&stopper.finished, true);
    if (stop)
        pthread_join(thread, NULL);
    pimc_checkpoint_free(&start);
    return status;
}

static void resumed_runs(void)
{
    char error[512];
    const uint64_t seed = 99, throws = UINT64_C(2000000000);
    const struct pimc_throw_job whole = {.kernel = pimc_kernel_resolve(PIMC_KERNEL_AUTO), .seed = seed,
                                         .throws = throws, .threads = 2};
    const uint64_t uninterrupted = pimc_throw_parallel(&whole).hits;
    const char *path = path_in_dir("run.json");
    struct pimc_resume_result r;

    int status = segment(path, seed, throws, PIMC_KERNEL_AUTO, 2, true, &r, error, sizeof error);
    tap_ok(status == 0 && r.outcome.partial && r.segments == 1 && r.throws_resumed == 0 &&
               r.outcome.throws == r.throws_now && r.outcome.throws < throws,
           "segment 1 (auto, 2 threads) stopped after %llu throws: %s", (unsigned long long)r.outcome.throws,
           status ? error : "partial");
    const uint64_t after_first = r.outcome.throws;
    struct pimc_checkpoint cp;
    tap_ok(pimc_checkpoint_read(path, &cp, error, sizeof error) == PIMC_CHECKPOINT_OK &&
               pimc_checkpoint_throws_done(&cp) == after_first && cp.hits == r.outcome.hits && cp.segments == 1 &&
               cp.compute_s > 0,
           "its checkpoint holds exactly the throws it reported");
    pimc_checkpoint_free(&cp);

    status = segment(path, seed, throws, PIMC_KERNEL_SCALAR, 1, true, &r, error, sizeof error);
    tap_ok(status == 0 && r.outcome.partial && r.segments == 2 && r.throws_resumed == after_first &&
               r.outcome.throws == after_first + r.throws_now && r.throws_now > 0,
           "segment 2 (scalar, 1 thread) resumed %llu throws and stopped at %llu", (unsigned long long)after_first,
           (unsigned long long)r.outcome.throws);
    const uint64_t after_second = r.outcome.throws;

    status = segment(path, seed, throws, PIMC_KERNEL_AUTO, 2, false, &r, error, sizeof error);
    tap_ok(status == 0 && !r.outcome.partial && r.segments == 3 && r.throws_resumed == after_second &&
               r.outcome.throws == throws && r.throws_now == throws - after_second,
           "segment 3 (auto, 2 threads) threw only the rest: %llu", (unsigned long long)r.throws_now);
    tap_ok(r.outcome.hits == uninterrupted, "hits after 3 segments on other threads and paths: %llu, uninterrupted "
           "%llu", (unsigned long long)r.outcome.hits, (unsigned long long)uninterrupted);

    size_t length;
    char *finished = slurp(path, &length);
    status = segment(path, seed, throws, PIMC_KERNEL_AUTO, 2, false, &r, error, sizeof error);
    tap_ok(status == 0 && r.was_complete && r.throws_now == 0 && r.outcome.hits == uninterrupted &&
               !r.outcome.partial && r.segments == 3 && same_file(path, finished, length),
           "a completed checkpoint is reported and nothing thrown or written");

    status = segment(path, seed + 1, throws, PIMC_KERNEL_AUTO, 2, false, &r, error, sizeof error);
    tap_ok(status == 2 && strstr(error, "seed 99 there, 100 here") != NULL && same_file(path, finished, length),
           "another seed is refused with exit 2 and the file left untouched: %s", error);
    status = segment(path, seed, throws / 2, PIMC_KERNEL_AUTO, 2, false, &r, error, sizeof error);
    tap_ok(status == 2 && strstr(error, "throws 2000000000 there, 1000000000 here") != NULL &&
               same_file(path, finished, length),
           "other throws are refused the same way");
    free(finished);

    const char *cut = "{\"format\": \"pimc-omp checkpoint\", \"version\": 1, \"seed\": \"99\",";
    put(path, cut);
    status = segment(path, seed, throws, PIMC_KERNEL_AUTO, 2, false, &r, error, sizeof error);
    tap_ok(status == 2 && strstr(error, "not valid JSON") != NULL && same_file(path, cut, strlen(cut)),
           "a corrupt checkpoint: exit 2, nothing overwritten: %s", error);

    status = segment(path_in_dir("missing/dir/run.json"), seed, throws, PIMC_KERNEL_AUTO, 2, false, &r, error,
                     sizeof error);
    tap_ok(status == 4 && r.throws_now == 0, "an unwritable checkpoint: exit 4 before any throw: %s", error);
}

/* The other generator: its own stream, resumed just as exactly, and never
 * mixed with Philox's. */
static void resumed_ars(void)
{
    char error[512];
    const uint64_t seed = 3, throws = UINT64_C(1000000000);
    const struct pimc_throw_job whole = {.rng = PIMC_RNG_ARS, .kernel = pimc_kernel_resolve_for(PIMC_RNG_ARS,
                                         PIMC_KERNEL_AUTO), .seed = seed, .throws = throws, .threads = 2};
    const uint64_t uninterrupted = pimc_throw_parallel(&whole).hits;
    const char *path = path_in_dir("ars.json");
    struct pimc_resume_result r;
    rng = PIMC_RNG_ARS;
    /* The portable path is slow (~20 Mthrows/s, 1.7 s a chunk here): one chunk in the middle. */
    int first = segment(path, seed, throws, PIMC_KERNEL_AUTO, 2, true, &r, error, sizeof error);
    const bool stopped = r.outcome.partial;
    int second = segment(path, seed, throws, PIMC_KERNEL_SCALAR, 1, true, &r, error, sizeof error);
    const bool stopped_again = r.outcome.partial && r.throws_now > 0;
    int third = segment(path, seed, throws, PIMC_KERNEL_AUTO, 2, false, &r, error, sizeof error);
    tap_ok(first == 0 && second == 0 && third == 0 && stopped && stopped_again && !r.outcome.partial &&
               r.outcome.hits == uninterrupted && r.segments == 3,
           "ARS: fastest path, then the scalar one, then the fastest again: %llu hits, uninterrupted %llu",
           (unsigned long long)r.outcome.hits, (unsigned long long)uninterrupted);
    rng = PIMC_RNG_PHILOX;
    tap_ok(segment(path, seed, throws, PIMC_KERNEL_AUTO, 2, false, &r, error, sizeof error) == 2 &&
               strstr(error, "generator ars4x32-5 there, philox4x32-10 here") != NULL,
           "an ARS checkpoint is refused for a Philox run: %s", error);
}

/* The saver writes while the kernel throws: every file read mid-run is whole,
 * and they show the run advancing. */
struct watched {
    const char *path;
    struct pimc_resume_result result;
    int status;
    atomic_bool finished;
};

static void *run_in_background(void *arg)
{
    struct watched *w = arg;
    char error[512];
    w->status = segment(w->path, 5, UINT64_C(2000000000), PIMC_KERNEL_AUTO, 2, false, &w->result, error,
                        sizeof error);
    atomic_store(&w->finished, true);
    return NULL;
}

static void saves_while_running(void)
{
    struct watched w = {.path = path_in_dir("watched.json")};
    atomic_init(&w.finished, false);
    pthread_t thread;
    pthread_create(&thread, NULL, run_in_background, &w);
    int reads = 0, bad = 0, advances = 0;
    uint64_t last = 0;
    char error[512];
    while (!atomic_load(&w.finished)) {
        struct pimc_checkpoint cp;
        enum pimc_checkpoint_status status = pimc_checkpoint_read(w.path, &cp, error, sizeof error);
        if (status == PIMC_CHECKPOINT_OK) {
            reads++;
            const uint64_t done = pimc_checkpoint_throws_done(&cp);
            bad += done < last;
            advances += done > last && done < cp.throws;
            last = done;
            pimc_checkpoint_free(&cp);
        } else if (status == PIMC_CHECKPOINT_INVALID) {
            bad++;
        }
        sleep_s(0.01);
    }
    pthread_join(thread, NULL);
    tap_ok(w.status == 0 && !w.result.outcome.partial && bad == 0 && advances >= 2,
           "read mid-run %d times: always whole, never going back, %d saves of progress seen", reads, advances);
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return perror("mkdtemp"), 1;
    round_trip();
    bad_inputs();
    identity();
    kill_at_random();
    kill_in_the_middle_of_a_write();
    write_failures();
    grid();
    batches();
    resumed_runs();
    resumed_ars();
    saves_while_running();
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return tap_done();
}
