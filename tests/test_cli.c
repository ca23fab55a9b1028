/* The command line's parsing and validation, without running anything. */
#include "cli.h"
#include "kernel.h"
#include "tap.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void counts(void)
{
    static const struct {
        const char *text;
        uint64_t value; /* 0: must be refused */
    } cases[] = {
        {"1000000000", 1000000000},
        {"1e9", 1000000000},
        {"1E9", 1000000000},
        {"1e+9", 1000000000},
        {"2.5e9", 2500000000},
        {"1.50e1", 15},
        {"10^9", 1000000000},
        {"2^40", UINT64_C(1) << 40},
        {"1G", 1000000000},
        {"1k", 1000},
        {"1K", 1000},
        {"3M", 3000000},
        {"1T", UINT64_C(1000000000000)},
        {"9P", UINT64_C(9000000000000000)},
        {"9000P", UINT64_C(9000000000000000000)},
        {"1", 1},
        {"007", 7},
        {"9223372036854775807", UINT64_C(9223372036854775807)},
        {"9223372036854775808", 0},
        {"1e19", 0},
        {"1e30", 0},
        {"10000P", 0},
        {"10^19", 0},
        {"99999999999999999999999", 0},
        {"0", 0},
        {"0e5", 0},
        {"-5", 0},
        {"1e9x", 0},
        {"1.5", 0},
        {"1e-3", 0},
        {"abc", 0},
        {"", 0},
        {" 5", 0},
        {"5 ", 0},
        {"1m", 0},
        {"1GG", 0},
        {"0x10", 0},
        {"1e", 0},
        {"10^", 0},
        {"1.5^2", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint64_t value = 0;
        bool ok = pimc_parse_count(cases[i].text, PIMC_MAX_THROWS, &value);
        if (cases[i].value != 0)
            tap_ok(ok && value == cases[i].value, "throws '%s' parses to %llu", cases[i].text,
                   (unsigned long long)cases[i].value);
        else
            tap_ok(!ok, "throws '%s' is refused", cases[i].text);
    }
}

/* Parses argv; returns the outcome and leaves the message in error. */
static enum pimc_cli_outcome parse(struct pimc_options *options, char *error, size_t size, int argc, ...)
{
    char *argv[16] = {"pimc-omp"};
    va_list args;
    va_start(args, argc);
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(args, char *);
    va_end(args);
    error[0] = '\0';
    return pimc_parse_options(argc, argv, options, error, size);
}

static void refusals(void)
{
    static const char *const bad[][3] = {
        /* argv[1], argv[2], a word the message must contain */
        {"--threads", "0", "'0'"},          {"--threads", "100000", "'100000'"}, {"-t", "two", "'two'"},
        {"--seed", "-1", "'-1'"},           {"--seed", "18446744073709551616", "18446744073709551616"},
        {"--kernel", "sse9", "'sse9'"},     {"--repeat", "0", "'0'"},          {"--bogus", NULL, "'--bogus'"},
        {"1e9x", NULL, "'1e9x'"},           {"1e30", NULL, "too large"},        {"0", NULL, "at least 1"},
        {"-1e9", NULL, "negative"},         {"--threads", NULL, "needs a value"}, {"1e9", "2e9", "'2e9'"},
        {"--csv", "", "file name"},         {"-x", NULL, "'-x'"},               {"--seed", NULL, "needs a value"},
    };
    char error[512];
    struct pimc_options options;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int argc = bad[i][1] ? 3 : 2;
        enum pimc_cli_outcome outcome = parse(&options, error, sizeof error, argc, bad[i][0], bad[i][1]);
        tap_ok(outcome == PIMC_CLI_ERROR && strstr(error, bad[i][2]) != NULL && strchr(error, '\n') == NULL,
               "'%s %s' refused: %s", bad[i][0], bad[i][1] ? bad[i][1] : "", error);
    }
}

static void defaults_and_sources(void)
{
    char error[512];
    struct pimc_options o;
    unsetenv("OMP_NUM_THREADS");
    unsetenv("SLURM_CPUS_PER_TASK");
    enum pimc_cli_outcome r = parse(&o, error, sizeof error, 1);
    tap_ok(r == PIMC_CLI_RUN && o.throws == PIMC_DEFAULT_THROWS && o.seed == PIMC_DEFAULT_SEED && o.serial &&
               o.repeats == 1 && o.kernel == PIMC_KERNEL_AUTO && strcmp(o.threads_source, "affinity") == 0 &&
               o.threads >= 1,
           "defaults: 1e9 throws, seed 1, serial run, auto kernel, threads from the affinity mask (%d)", o.threads);

    setenv("SLURM_CPUS_PER_TASK", "6", 1);
    r = parse(&o, error, sizeof error, 1);
    tap_ok(r == PIMC_CLI_RUN && o.threads == 6 && strcmp(o.threads_source, "SLURM_CPUS_PER_TASK") == 0,
           "SLURM_CPUS_PER_TASK=6 gives 6 threads");
    setenv("OMP_NUM_THREADS", "3,2", 1);
    r = parse(&o, error, sizeof error, 1);
    tap_ok(r == PIMC_CLI_RUN && o.threads == 3 && strcmp(o.threads_source, "OMP_NUM_THREADS") == 0,
           "OMP_NUM_THREADS=3,2 wins over Slurm: 3 threads");
    r = parse(&o, error, sizeof error, 3, "-t", "5");
    tap_ok(r == PIMC_CLI_RUN && o.threads == 5 && strcmp(o.threads_source, "option") == 0,
           "--threads wins over both");
    setenv("OMP_NUM_THREADS", "lots", 1);
    r = parse(&o, error, sizeof error, 1);
    tap_ok(r == PIMC_CLI_ERROR && strstr(error, "OMP_NUM_THREADS='lots'") != NULL,
           "a bad OMP_NUM_THREADS is named: %s", error);
    unsetenv("OMP_NUM_THREADS");
    setenv("SLURM_CPUS_PER_TASK", "0", 1);
    r = parse(&o, error, sizeof error, 1);
    tap_ok(r == PIMC_CLI_ERROR && strstr(error, "SLURM_CPUS_PER_TASK='0'") != NULL,
           "a bad SLURM_CPUS_PER_TASK is named: %s", error);
    unsetenv("SLURM_CPUS_PER_TASK");

    r = parse(&o, error, sizeof error, 10, "2.5e9", "-t", "4", "--seed", "0xff", "--kernel", "scalar", "--no-serial",
              "--json");
    tap_ok(r == PIMC_CLI_RUN && o.throws == 2500000000u && o.threads == 4 && o.seed == 255 &&
               o.kernel == PIMC_KERNEL_SCALAR && !o.serial && o.json,
           "options after THROWS are read too; seed in hex");
}

/* A value that starts with - is the value of the option before it. */
static void option_values(void)
{
    static const char *const bad[][4] = {
        /* argv[1], argv[2], the option the message must name */
        {"--seed", "-1", "--seed '-1'"},  {"-t", "-1", "--threads '-1'"},     {"--thr", "-2", "--threads '-2'"},
        {"-qt", "-3", "--threads '-3'"},  {"--repeat", "-4", "--repeat '-4'"}, {"-s", "-5", "--seed '-5'"},
    };
    char error[512];
    struct pimc_options o;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const enum pimc_cli_outcome r = parse(&o, error, sizeof error, 3, bad[i][0], bad[i][1]);
        tap_ok(r == PIMC_CLI_ERROR && strstr(error, bad[i][2]) != NULL && strstr(error, "throws") == NULL,
               "'%s %s' names the option, not THROWS: %s", bad[i][0], bad[i][1], error);
    }
    enum pimc_cli_outcome r = parse(&o, error, sizeof error, 4, "--csv", "-5.csv", "1e6");
    tap_ok(r == PIMC_CLI_RUN && strcmp(o.csv_path, "-5.csv") == 0 && o.throws == 1000000,
           "--csv -5.csv 1e6: a file named -5.csv, and 1e6 throws");
    r = parse(&o, error, sizeof error, 3, "--csv=-5.csv", "-5");
    tap_ok(r == PIMC_CLI_ERROR && strstr(error, "throws '-5' is negative") != NULL,
           "-5 where THROWS stands is still a negative count: %s", error);
}

/* Options that cannot apply together: refused, both named, never one dropped. */
static void combinations(void)
{
    static const char *const bad[][6] = {
        {"--sweep", "1,2", "-t", "1", "--threads does not apply to --sweep"},
        {"--sweep", "1,2", "--no-serial", NULL, "--no-serial does not apply to --sweep"},
        {"--sizes", "1e4,1e5", "--no-serial", NULL, "--no-serial does not apply to --sizes"},
        {"--sweep", "1,2", "--json", "--markdown", "--markdown prints the study's table and --json"},
        {"--sizes", "1e4", "-q", "--markdown", "--quiet prints no table"},
    };
    char error[512];
    struct pimc_options o;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const int argc = bad[i][3] != NULL ? 5 : 4;
        const enum pimc_cli_outcome r = parse(&o, error, sizeof error, argc, bad[i][0], bad[i][1], bad[i][2],
                                              bad[i][3]);
        tap_ok(r == PIMC_CLI_ERROR && strstr(error, bad[i][4]) != NULL, "%s %s %s %s: refused: %s", bad[i][0],
               bad[i][1], bad[i][2], bad[i][3] ? bad[i][3] : "", error);
    }
    enum pimc_cli_outcome r = parse(&o, error, sizeof error, 5, "--sizes", "1e4,1e5", "-t", "2");
    tap_ok(r == PIMC_CLI_RUN && o.threads == 2, "--sizes with -t: the threads of its parallel runs");
    r = parse(&o, error, sizeof error, 5, "--checkpoint", "/nonexistent-dir/c.json", "--no-serial", "1e6");
    tap_ok(r == PIMC_CLI_RUN && !o.serial, "--checkpoint with --no-serial: honoured (no serial leg either way)");

    /* One file in two roles. */
    char dir[] = "/tmp/test_cli_XXXXXX", a[64], b[64], c[64];
    if (mkdtemp(dir) == NULL)
        return;
    snprintf(a, sizeof a, "%s/x.csv", dir);
    snprintf(b, sizeof b, "%s/./x.csv", dir);
    snprintf(c, sizeof c, "%s/y.csv", dir);
    r = parse(&o, error, sizeof error, 6, "--csv", a, "--checkpoint", b, "1e6");
    tap_ok(r == PIMC_CLI_ERROR && strstr(error, "--csv") != NULL && strstr(error, "--checkpoint") != NULL &&
               strstr(error, "same file") != NULL,
           "--csv X --checkpoint ./X (neither there yet): refused naming both: %s", error);
    FILE *f = fopen(a, "w");
    if (f != NULL)
        fclose(f);
    if (symlink(a, c) != 0)
        c[0] = '\0';
    r = parse(&o, error, sizeof error, 5, "--csv", a, "--check", c);
    tap_ok(r == PIMC_CLI_ERROR && strstr(error, "--csv") != NULL && strstr(error, "--check") != NULL,
           "--csv X --check LINK-TO-X: refused naming both: %s", error);
    r = parse(&o, error, sizeof error, 6, "--csv", c, "--checkpoint", b, "1e6");
    tap_ok(r == PIMC_CLI_ERROR, "--csv LINK-TO-X --checkpoint X: refused");
    snprintf(b, sizeof b, "%s/z.csv", dir);
    r = parse(&o, error, sizeof error, 6, "--csv", a, "--checkpoint", b, "1e6");
    tap_ok(r == PIMC_CLI_RUN, "two files: fine");
    unlink(c);
    unlink(a);
    rmdir(dir);
}

/* OMP_NUM_THREADS as libgomp takes it (its own parser's rules, tried on libgomp 12). */
static void omp_num_threads_forms(void)
{
    static const struct {
        const char *value;
        int threads; /* 0: refused, as libgomp refuses it */
    } cases[] = {
        {" 2", 2}, {"2 ", 2}, {" 2 , 4 ", 2}, {"+2", 2}, {"00003", 3}, {"\t3", 3}, {"8,2", 8},
        {"2,", 0}, {"2,,3", 0}, {"0", 0}, {"2,0", 0}, {"3,x", 0}, {"2x", 0}, {"-2", 0}, {" ", 0},
    };
    char error[512];
    struct pimc_options o;
    /* LLVM's libomp aborts on a + (see cli.c): there, "+2" is refused. */
    const bool libgomp = strcmp(pimc_openmp_runtime(), "libgomp") == 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        setenv("OMP_NUM_THREADS", cases[i].value, 1);
        const enum pimc_cli_outcome r = parse(&o, error, sizeof error, 1);
        if (!libgomp && cases[i].value[0] == '+')
            tap_ok(r == PIMC_CLI_ERROR && strstr(error, "(LLVM libomp)") != NULL,
                   "OMP_NUM_THREADS='%s' refused under libomp: %s", cases[i].value, error);
        else if (cases[i].threads > 0)
            tap_ok(r == PIMC_CLI_RUN && o.threads == cases[i].threads, "OMP_NUM_THREADS='%s': %d threads",
                   cases[i].value, cases[i].threads);
        else
            tap_ok(r == PIMC_CLI_ERROR && strstr(error, "OMP_NUM_THREADS=") != NULL,
                   "OMP_NUM_THREADS='%s' refused, as libgomp does: %s", cases[i].value, error);
    }
    unsetenv("OMP_NUM_THREADS");
}

int main(void)
{
    counts();
    refusals();
    defaults_and_sources();
    option_values();
    combinations();
    omp_num_threads_forms();
    return tap_done();
}
