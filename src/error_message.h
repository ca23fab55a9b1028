/* The one way a reader or writer says what went wrong: printf into the
 * caller's error buffer (cut to fit, always NUL-terminated when size > 0).
 * Each caller then returns its own code, so a file keeps a one-line wrapper:
 *     #define fail(error, size, ...) (pimc_error_message(error, size, __VA_ARGS__), PIMC_CLI_ERROR)
 * Above the kernel: the kernel reports nothing and must not include this. */
#ifndef PIMC_ERROR_MESSAGE_H
#define PIMC_ERROR_MESSAGE_H

#include <stdarg.h>
#include <stddef.h>

void pimc_error_message(char *error, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* For a printf-style function of the caller's own that has the buffer elsewhere (a reader's state). */
void pimc_error_message_v(char *error, size_t size, const char *format, va_list args)
    __attribute__((format(printf, 3, 0)));

#endif
