/* libFuzzer target: the option parser. The input is the command line, its
 * arguments separated by NUL bytes (a seed: "--sweep\0001-4\0001e6"). */
#include "cli.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* --help and --version print; the parser's environment is fixed. */
    if (freopen("/dev/null", "w", stdout) == NULL)
        return 1;
    unsetenv("OMP_NUM_THREADS");
    unsetenv("SLURM_CPUS_PER_TASK");
    unsetenv("PIMC_HIDE_KERNELS");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *argv[MAX_ARGS + 2] = {"pimc-omp"};
    int argc = 1;
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (char *p = text; argc <= MAX_ARGS && p <= text + size; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    struct pimc_options options;
    char error[512];
    pimc_parse_options(argc, argv, &options, error, sizeof error);
    uint64_t count;
    pimc_parse_count(text, PIMC_MAX_THROWS, &count);
    free(text);
    return 0;
}
