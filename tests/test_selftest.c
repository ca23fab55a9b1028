/*
 * The self-test (src/selftest.c), built three times by tests/meson.build: as
 * pimc-omp ships it, and with PIMC_SELFTEST_CORRUPT=1 (one expected hit count
 * of Philox wrong) or =2 (one of ARS's published known answers wrong), which
 * no pimc-omp binary is ever built with. As shipped it must pass on every path
 * this CPU runs; corrupted, it must fail on the lines of the wrong value alone,
 * and name what differs.
 */
#include "kernel.h"
#include "selftest.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

#ifndef PIMC_SELFTEST_CORRUPT
#define PIMC_SELFTEST_CORRUPT 0
#endif

struct run {
    bool passed;
    struct pimc_self_test_result result;
    char *text; /* the lines, as --self-test prints them */
};

static struct run self_test(int threads)
{
    struct run run;
    size_t size;
    FILE *out = open_memstream(&run.text, &size);
    if (out == NULL) {
        perror("open_memstream");
        exit(99);
    }
    run.passed = pimc_self_test(out, threads, &run.result);
    fclose(out);
    return run;
}

/* The line that starts with the generator's and the path's columns; "" when none. */
static const char *line_of(const char *text, const char *rng, const char *path, char *line, size_t size)
{
    char head[64];
    snprintf(head, sizeof head, "%-14s %-7s ", rng, path);
    for (const char *p = text; *p;) {
        const size_t length = strcspn(p, "\n");
        if (strncmp(p, head, strlen(head)) == 0) {
            snprintf(line, size, "%.*s", (int)length, p);
            return line;
        }
        p += length + (p[length] == '\n');
    }
    line[0] = '\0';
    return line;
}

static bool has(const char *line, const char *part)
{
    return strstr(line, part) != NULL;
}

static const char *const paths[] = {"scalar", "aesni", "neon", "avx2", "avx512"};

/* Every path's line: ok when this CPU runs it, skipped when not, FAIL where `failing` says. */
static void each_path_line(const struct run *run, enum pimc_rng rng, bool failing)
{
    char line[512];
    for (size_t k = 0; k < sizeof paths / sizeof *paths; k++) {
        enum pimc_kernel kernel;
        pimc_kernel_from_name(paths[k], &kernel);
        line_of(run->text, pimc_rng_name(rng), paths[k], line, sizeof line);
        if (rng == PIMC_RNG_PHILOX && (kernel == PIMC_KERNEL_AESNI || kernel == PIMC_KERNEL_NEON))
            tap_ok(line[0] == '\0', "%s has no %s path and no line for it", pimc_rng_name(rng), paths[k]);
        else if (!pimc_kernel_available_for(rng, kernel))
            tap_ok(has(line, " skipped: "), "%s", line);
        else if (failing)
            tap_ok(has(line, " FAIL: seed 0xffffffffffffffff, throws 8589933591 to 8590933593, 1 thread: ") &&
                       has(line, " hits, expected 786090 (and more)"),
                   "%s", line);
        else
            tap_ok(has(line, " ok: ") && has(line, " on 1 and 2 threads"), "%s", line);
    }
}

static const char *last_line(const char *text)
{
    const char *end = text + strlen(text);
    if (end > text && end[-1] == '\n')
        end--;
    while (end > text && end[-1] != '\n')
        end--;
    return end;
}

int main(void)
{
    struct run run = self_test(2);
    char line[512];
    const char *last = last_line(run.text);

    if (PIMC_SELFTEST_CORRUPT == 0) {
        tap_ok(run.passed && run.result.failed == 0, "as shipped: passes (%d passed, %d skipped)", run.result.passed,
               run.result.skipped);
        tap_ok(run.result.passed + run.result.skipped == 2 + 3 + 5, "2 generators' known answers and 8 paths");
        tap_ok(has(line_of(run.text, "philox4x32-10", "KAT", line, sizeof line), " ok: 3 of Random123's"), "%s",
               line);
        tap_ok(has(line_of(run.text, "ars4x32-5", "KAT", line, sizeof line), " ok: 3 of Random123's"), "%s", line);
        each_path_line(&run, PIMC_RNG_PHILOX, false);
        each_path_line(&run, PIMC_RNG_ARS, false);
        tap_ok(strncmp(last, "self-test: PASS: ", 17) == 0, "last line: %.*s", (int)strcspn(last, "\n"), last);
        free(run.text);

        /* PIMC_HIDE_KERNELS does this: the SIMD paths skipped, the portable ones run. */
        pimc_kernel_hide(1u << PIMC_KERNEL_AESNI | 1u << PIMC_KERNEL_NEON | 1u << PIMC_KERNEL_AVX2 |
                         1u << PIMC_KERNEL_AVX512);
        run = self_test(1);
        tap_ok(run.passed && run.result.passed == 4 && run.result.skipped == 6,
               "SIMD paths hidden: 2 known answers and 2 scalar paths pass, 6 skipped");
        tap_ok(has(line_of(run.text, "philox4x32-10", "avx2", line, sizeof line),
                   " skipped: this CPU lacks it (or PIMC_HIDE_KERNELS hides it)"),
               "%s", line);
        tap_ok(has(line_of(run.text, "ars4x32-5", "scalar", line, sizeof line), " ok: 2 reference hit counts, "
                                                                                 "10^6 throws, on 1 thread"),
               "%s", line);
    } else if (PIMC_SELFTEST_CORRUPT == 1) {
        tap_ok(!run.passed && run.result.failed >= 1, "one expected hit count wrong: fails (%d failed)",
               run.result.failed);
        each_path_line(&run, PIMC_RNG_PHILOX, true);
        each_path_line(&run, PIMC_RNG_ARS, false);
        tap_ok(has(line_of(run.text, "philox4x32-10", "KAT", line, sizeof line), " ok: "), "%s", line);
        tap_ok(strncmp(last, "self-test: FAIL: ", 17) == 0, "last line: %.*s", (int)strcspn(last, "\n"), last);
    } else {
        tap_ok(!run.passed && run.result.failed == 1, "one known answer wrong: fails (%d failed)", run.result.failed);
        tap_ok(has(line_of(run.text, "ars4x32-5", "KAT", line, sizeof line),
                   " FAIL: counter 00000000 00000000 00000000 00000000: 8d73ee19 506401ef 13c2dbe4 0cbe9c0d, "
                   "published 8d73ee19 506401ef 13c2dbe4 0cbe9c0c"),
               "%s", line);
        tap_ok(has(line_of(run.text, "philox4x32-10", "KAT", line, sizeof line), " ok: "), "%s", line);
        each_path_line(&run, PIMC_RNG_PHILOX, false);
        each_path_line(&run, PIMC_RNG_ARS, false);
        tap_ok(strncmp(last, "self-test: FAIL: ", 17) == 0, "last line: %.*s", (int)strcspn(last, "\n"), last);
    }
    free(run.text);
    return tap_done();
}
