/* Minimal TAP producer for the C tests (meson: protocol 'tap'). */
#ifndef PIMC_TAP_H
#define PIMC_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_count, tap_failed;

static inline bool tap_ok(bool pass, const char *format, ...) __attribute__((format(printf, 2, 3)));
static inline bool tap_ok(bool pass, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    printf("%s %d - ", pass ? "ok" : "not ok", ++tap_count);
    vprintf(format, args);
    putchar('\n');
    va_end(args);
    tap_failed += !pass;
    fflush(stdout);
    return pass;
}

static inline int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed != 0;
}

#endif
