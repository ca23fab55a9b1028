#include "error_message.h"

#include <stdio.h>

void pimc_error_message(char *error, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    pimc_error_message_v(error, size, format, args);
    va_end(args);
}

void pimc_error_message_v(char *error, size_t size, const char *format, va_list args)
{
    vsnprintf(error, size, format, args);
}
