#include "cli.h"

#include "cluster.h"
#include "error_message.h"
#include "sysinfo.h"
#include "version.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] =
    "Usage: pimc-omp [OPTIONS] [THROWS]\n"
    "Monte Carlo pi on all cores: throw THROWS darts at the unit square, count the hits\n"
    "inside the quarter circle, pi ~ 4*hits/THROWS; time a parallel and a 1-thread run\n"
    "of the same throws and report the speedup.\n"
    "\n"
    "  THROWS              darts to throw (default 1e9): 1000000000, 1e9, 2.5e9, 10^9,\n"
    "                      1G (k M G T P = 10^3 .. 10^15); 1 to 2^63-1\n"
    "  -t, --threads N     threads for the parallel run (default: OMP_NUM_THREADS, else\n"
    "                      SLURM_CPUS_PER_TASK, else the CPUs this process may run on)\n"
    "  -s, --seed S        stream seed, 0 to 2^64-1, decimal or 0x hex (default 1)\n"
    "      --rng G         the stream's generator: philox (Philox4x32-10, the default)\n"
    "                      or ars (ARS-5, AES rounds: about twice as fast where the CPU\n"
    "                      has VAES); the two are different streams, with other hits\n"
    "      --kernel K      auto, avx512, avx2, aesni or neon (ARS only: AES-NI, Armv8\n"
    "                      AES), or scalar (default auto: the fastest this CPU runs);\n"
    "                      the hits never depend on it\n"
    "      --no-serial     skip the 1-thread reference run (no speedup then)\n"
    "      --repeat R      time each run R times, report median, min and max (default 1;\n"
    "                      3 in a study); up to 100\n"
    "      --warm-up S     seconds of untimed throws before each timed leg, on its\n"
    "                      threads and path, at most the leg's throws (default 0.2;\n"
    "                      0: none, a cold first leg)\n"
    "      --csv FILE      append one row to FILE (header when the file is new or empty)\n"
    "      --json          print the result as one JSON object instead of the report\n"
    "  -q, --quiet         no report on stdout (CSV and JSON are still written)\n"
    "\n"
    "Studies (one process, a warm-up then --repeat timed runs for each point):\n"
    "      --sweep LIST    strong scaling over thread counts: 1,2,4,8 or 1-16 or pow2\n"
    "                      (powers of two up to the usable cores, the cores, then all\n"
    "                      hardware threads: a point marked \"hw threads\")\n"
    "      --weak          with --sweep: weak scaling, THROWS per thread\n"
    "      --sizes LIST    serial against parallel time as THROWS grows, e.g.\n"
    "                      1e4,1e5,1e6,1e7,1e8, and the break-even size\n"
    "      --markdown      print the study's table as Markdown\n"
    "\n"
    "Regression check (for CI and node health checks):\n"
    "      --check FILE    measure this build here and compare it with the baseline\n"
    "                      rows FILE (written earlier by --csv or --json) holds: hits,\n"
    "                      kernel path, speed per thread, efficiency, speed against\n"
    "                      the scalar path; exit 0 pass, 1 regression, 2 unusable\n"
    "                      baseline. THROWS, --threads, --seed, --kernel default to\n"
    "                      the baseline's. A speed PASSes only on times as timed (no\n"
    "                      discount for other work), legs of 10 ms or more and rows\n"
    "                      of this CPU model (same cpu_signature)\n"
    "      --tolerance T   slowdown allowed before a regression, e.g. 10% (default; 3%\n"
    "                      with --against); NAME=T for one metric, e.g. efficiency=5%\n";

/* --against (src/ab.c), docs/regression-checks.md. */
static const char usage_against[] =
    "      --junit FILE    also write the verdicts as a JUnit XML report (--check and\n"
    "                      --against): a testcase per metric, failure on a regression,\n"
    "                      skipped when inconclusive\n"
    "      --against OTHER time this build against OTHER, another pimc-omp executable\n"
    "                      (an older build), in ABBA rounds of both as child processes\n"
    "                      with the same THROWS (default 5e8), --threads, --seed, --rng,\n"
    "                      --kernel and --warm-up (when given; else each build's\n"
    "                      default); per metric (throughput_per_thread,\n"
    "                      serial_throughput, efficiency) the ratio this/OTHER with a\n"
    "                      95% interval (Hodges-Lehmann, Wilcoxon signed-rank): PASS\n"
    "                      when wholly above 1 - tolerance, REGRESSION when wholly\n"
    "                      below, else more rounds until --budget, then INCONCLUSIVE.\n"
    "                      Exit 0 PASS or INCONCLUSIVE, 1 REGRESSION, 2 OTHER missing,\n"
    "                      not a pimc-omp or failing, 3 the builds' hits differ\n"
    "      --budget S      seconds of rounds at most (default 60)\n"
    "      --bisect        INCONCLUSIVE exits 125, git bisect run's \"cannot decide\"\n";

/* The rest of --help: ISO C promises string literals of 4095 characters only. */
static const char usage_tail[] =
    "\n"
    "Long runs (time limits, requeued or chained jobs, lost nodes):\n"
    "      --checkpoint FILE  save the run's progress to FILE (JSON, replaced\n"
    "                      atomically) every interval and when stopped; started again\n"
    "                      with the same options, throw only what FILE lacks, on any\n"
    "                      threads, ranks or kernel: the hits equal an uninterrupted\n"
    "                      run's. Times are compute time summed over the segments; no\n"
    "                      serial leg. A FILE of another run, or a corrupt one: exit 2,\n"
    "                      FILE untouched. A FILE of a finished run: its result is\n"
    "                      reported again, nothing thrown and no CSV row added. A\n"
    "                      FILE that is a symbolic link is refused (exit 2): give\n"
    "                      the file itself. A second run on FILE is refused (exit 2,\n"
    "                      naming the first's PID) while the first holds FILE.lock\n"
    "      --checkpoint-interval S  seconds between saves (default 60), e.g. 30 or 0.5\n"
    "\n"
    "After an install (admins, package recipes):\n"
    "      --self-test     check this binary on this CPU: the generators' published\n"
    "                      known answers, and every kernel path's hits for reference\n"
    "                      seeds on 1 and --threads threads; one line per path, paths\n"
    "                      this CPU lacks skipped; exit 0 when all agree, else 3\n"
    "  -h, --help          this text\n"
    "  -V, --version       version, compiler, OpenMP runtime and kernel paths\n"
    "\n"
    "Reproducing a result: throw i uses Philox4x32-10 block i/2 with counter\n"
    "(block mod 2^32, block / 2^32, 0, 0) and key (seed mod 2^32, seed / 2^32); words 0,1\n"
    "(even i) or 2,3 (odd i) are x and y; a hit is x^2 + y^2 < 2^64. With --rng ars the\n"
    "block is Random123's ars4x32_R(5, counter, key) with counter (block mod 2^32,\n"
    "block / 2^32, 0, 0) and key (seed mod 2^32, seed / 2^32, 0, 0), the same words and\n"
    "test. The hits depend on generator, seed and THROWS only: not on threads, schedule\n"
    "or kernel.\n"
    "\n"
    "Reporting: quote the median of several runs (--repeat), with the kernel, compiler\n"
    "and OMP_PROC_BIND/OMP_PLACES shown; more threads than CPUs (oversubscribed) and\n"
    "legs under 10 ms (too short to time: too_short) are flagged and are not speed\n"
    "results; every timed leg follows a warm-up (--warm-up). The topology line\n"
    "(hwloc: cores x hardware threads, packages, NUMA nodes) and where the threads ran\n"
    "are in the report and each row (cores, cores_used, ...); threads on the SMT\n"
    "siblings of a core while cores are free are flagged SMT-SHARED (smt_shared).\n"
    "\n"
    "Exit status: 0 done (--check, --against: pass, or inconclusive); 1 --check,\n"
    "--against: a regression; 2 bad usage or input (nothing run, nothing written;\n"
    "--check: an unusable baseline; --against: OTHER unusable); 3 verification failed\n"
    "(|pi - estimate| over 5 standard errors, or runs of the same throws gave\n"
    "different hits; --against: the builds' hits differ); 4 a file cannot be written;\n"
    "5 run-time failure (out of memory, a thread that could not start); 125\n"
    "--bisect: inconclusive; 128+N stopped by signal\n"
    "N: SIGINT, SIGTERM or SIGUSR1 (what was done is reported and recorded, and says\n"
    "where the run was cut; with --checkpoint, FILE holds it and the same command\n"
    "continues the run).\n";

/* The message in error[size], and the outcome of bad usage: `return fail(error, size, ...)`. */
#define fail(error, size, ...) (pimc_error_message(error, size, __VA_ARGS__), PIMC_CLI_ERROR)

static bool multiply_checked(uint64_t a, uint64_t b, uint64_t max, uint64_t *product)
{
    if (a != 0 && b > max / a)
        return false;
    *product = a * b;
    return *product <= max;
}

static bool power_checked(uint64_t base, uint64_t exponent, uint64_t max, uint64_t *value)
{
    uint64_t result = 1;
    for (uint64_t i = 0; i < exponent; i++) {
        if (!multiply_checked(result, base, max, &result))
            return false;
        if (base <= 1)
            break;
    }
    *value = result;
    return true;
}

/* Digits, optionally with a fraction: the digits as one integer plus how many of
 * them came after the point. Trailing fraction zeros are dropped so that 1.50e1
 * parses like 1.5e1. */
static const char *parse_decimal(const char *p, uint64_t *digits, int *fraction_digits, bool *overflow)
{
    const char *start = p;
    uint64_t value = 0;
    int fraction = 0;
    bool in_fraction = false, any = false;
    *overflow = false;
    for (;; p++) {
        if (*p == '.' && !in_fraction) {
            in_fraction = true;
            continue;
        }
        if (!isdigit((unsigned char)*p))
            break;
        any = true;
        if (!multiply_checked(value, 10, UINT64_MAX, &value) || value > UINT64_MAX - (uint64_t)(*p - '0'))
            *overflow = true;
        else
            value += (uint64_t)(*p - '0');
        fraction += in_fraction;
    }
    if (!any)
        return start;
    while (fraction > 0 && value % 10 == 0) {
        value /= 10;
        fraction--;
    }
    *digits = value;
    *fraction_digits = fraction;
    return p;
}

/* Returns 0 when valid, 1 when not a count, 2 when beyond max, 3 when below 1. */
static int parse_count_detailed(const char *text, uint64_t max, uint64_t *value)
{
    uint64_t digits;
    int fraction_digits;
    bool overflow;
    const char *p = parse_decimal(text, &digits, &fraction_digits, &overflow);
    if (p == text)
        return 1;
    long exponent = 0;
    if (*p == '^') { /* B^N: an integer base to a non-negative integer power */
        char *end;
        if (fraction_digits != 0 || !isdigit((unsigned char)p[1]))
            return 1;
        errno = 0;
        unsigned long long power = strtoull(p + 1, &end, 10);
        if (*end != '\0')
            return 1;
        if (overflow || errno == ERANGE || !power_checked(digits, power, max, value))
            return 2;
        return *value >= 1 ? 0 : 3;
    }
    if (*p == 'e' || *p == 'E') {
        char *end;
        const char *q = p + 1 + (p[1] == '+');
        if (!isdigit((unsigned char)*q))
            return 1;
        errno = 0;
        exponent = strtol(q, &end, 10);
        if (errno == ERANGE)
            exponent = 1000;
        p = end;
    } else if (*p != '\0' && strchr("kKMGTP", *p) != NULL) {
        exponent = 3 * (long)(strchr("kMGTP", *p == 'K' ? 'k' : *p) - "kMGTP" + 1);
        p++;
    }
    if (*p != '\0')
        return 1;
    if (digits == 0 && !overflow)
        return 3;
    exponent -= fraction_digits;
    if (exponent < 0)
        return 1; /* a fraction left over: not a whole number of throws */
    uint64_t scale;
    if (overflow || exponent > 19 || !power_checked(10, (uint64_t)exponent, UINT64_MAX, &scale) ||
        !multiply_checked(digits, scale, max, value))
        return 2;
    return 0;
}

bool pimc_parse_count(const char *text, uint64_t max, uint64_t *value)
{
    return parse_count_detailed(text, max, value) == 0;
}

static bool parse_int_in(const char *text, long min, long max, long *value)
{
    char *end;
    if (!isdigit((unsigned char)text[0]))
        return false;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*end != '\0' || errno == ERANGE || v < min || v > max)
        return false;
    *value = v;
    return true;
}

/* 10% or 0.1: a fraction in [0, 0.9]. */
static bool parse_fraction(const char *text, double *fraction)
{
    char *end;
    if (!isdigit((unsigned char)text[0]) && text[0] != '.')
        return false;
    errno = 0;
    double value = strtod(text, &end);
    if (end[0] == '%' && end[1] == '\0')
        value /= 100.0;
    else if (end[0] != '\0')
        return false;
    if (errno == ERANGE || !(value >= 0.0 && value <= 0.9))
        return false;
    *fraction = value;
    return true;
}

const char *const pimc_tolerance_metric_names[PIMC_TOLERANCE_METRICS] = {
    [PIMC_TOLERANCE_THROUGHPUT] = "throughput_per_thread",
    [PIMC_TOLERANCE_SERIAL] = "serial_throughput",
    [PIMC_TOLERANCE_EFFICIENCY] = "efficiency",
    [PIMC_TOLERANCE_SPEED_VS_SCALAR] = "speed_vs_scalar",
};

double pimc_tolerance_for(const struct pimc_options *options, enum pimc_tolerance_metric metric)
{
    return isnan(options->metric_tolerance[metric]) ? options->tolerance : options->metric_tolerance[metric];
}

/* --tolerance T for all metrics, or NAME=T for one. */
static enum pimc_cli_outcome parse_tolerance(const char *text, struct pimc_options *options, char *error,
                                             size_t size)
{
    const char *equals = strchr(text, '=');
    if (equals == NULL) {
        if (!parse_fraction(text, &options->tolerance))
            return fail(error, size, "--tolerance '%s' is not a tolerance; use a percentage from 0%% to 90%% "
                                     "like 10%%, or a fraction like 0.1", text);
        return PIMC_CLI_RUN;
    }
    for (int m = 0; m < PIMC_TOLERANCE_METRICS; m++)
        if (strlen(pimc_tolerance_metric_names[m]) == (size_t)(equals - text) &&
            strncmp(text, pimc_tolerance_metric_names[m], (size_t)(equals - text)) == 0) {
            if (!parse_fraction(equals + 1, &options->metric_tolerance[m]))
                return fail(error, size, "--tolerance '%s': '%s' is not a tolerance; use a percentage from 0%% "
                                         "to 90%% like 5%%, or a fraction like 0.05", text, equals + 1);
            return PIMC_CLI_RUN;
        }
    return fail(error, size, "--tolerance '%s': '%.*s' is not a metric; use throughput_per_thread, "
                             "serial_throughput, efficiency or speed_vs_scalar", text, (int)(equals - text), text);
}

/* Seconds, e.g. 60, 0.5 or 1e-3: from a millisecond to about 11 days. */
static bool parse_seconds(const char *text, double *seconds)
{
    char *end;
    if (!isdigit((unsigned char)text[0]) && text[0] != '.')
        return false;
    errno = 0;
    double value = strtod(text, &end);
    if (*end != '\0' || errno == ERANGE || !(value >= 1e-3 && value <= 1e6))
        return false;
    *seconds = value;
    return true;
}

static bool parse_seed(const char *text, uint64_t *seed)
{
    char *end;
    int base = (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) ? 16 : 10;
    if (!isxdigit((unsigned char)text[base == 16 ? 2 : 0]))
        return false;
    errno = 0;
    unsigned long long v = strtoull(text, &end, base);
    if (*end != '\0' || errno == ERANGE)
        return false;
    *seed = v;
    return true;
}

/* OMP_NUM_THREADS as libgomp reads it: a list of positive whole numbers, one
 * per nesting level ("8,2"), each with optional white space around it and an
 * optional + (`plus`: LLVM's libomp warns "Invalid symbols" on a + and then
 * aborts or runs out of memory at its first parallel region, so there it is
 * refused first); the first is ours. A list the runtime would refuse is refused. */
static bool parse_thread_env(const char *text, bool plus, long *threads)
{
    bool first = true;
    for (const char *p = text;; p++) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '+' && plus)
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        char *end;
        errno = 0;
        const unsigned long long value = strtoull(p, &end, 10);
        if (errno == ERANGE || value == 0 || (first && value > PIMC_MAX_THREADS))
            return false;
        if (first)
            *threads = (long)value;
        first = false;
        for (p = end; isspace((unsigned char)*p); p++)
            ;
        if (*p == '\0')
            return true;
        if (*p != ',')
            return false;
    }
}

static enum pimc_cli_outcome choose_threads(struct pimc_options *options, long from_option, char *error,
                                            size_t size)
{
    long threads = 0;
    const char *omp = getenv("OMP_NUM_THREADS"), *slurm = getenv("SLURM_CPUS_PER_TASK");
    if (from_option > 0) {
        options->threads = (int)from_option;
        options->threads_source = "option";
    } else if (omp != NULL && *omp != '\0') {
        const bool libgomp = strcmp(pimc_openmp_runtime(), "libgomp") == 0;
        if (!parse_thread_env(omp, libgomp, &threads))
            return fail(error, size,
                        "OMP_NUM_THREADS='%s' is not a thread count%s; set it to a whole number from 1 to %d "
                        "(or a list such as 8,2, the first for pimc-omp), or unset it",
                        omp, !libgomp && strchr(omp, '+') != NULL ? " this build's OpenMP runtime (LLVM libomp) reads" : "",
                        PIMC_MAX_THREADS);
        options->threads = (int)threads;
        options->threads_source = "OMP_NUM_THREADS";
    } else if (slurm != NULL && *slurm != '\0') {
        if (!parse_int_in(slurm, 1, PIMC_MAX_THREADS, &threads))
            return fail(error, size, "SLURM_CPUS_PER_TASK='%s' is not a CPU count; give --threads N instead",
                        slurm);
        options->threads = (int)threads;
        options->threads_source = "SLURM_CPUS_PER_TASK";
    } else {
        options->threads = pimc_usable_cpus();
        options->threads_source = "affinity";
    }
    return PIMC_CLI_RUN;
}

/* PIMC_HIDE_KERNELS=avx512,avx2,aesni,neon makes this CPU look older, so that one machine
 * can test the path every other node of a mixed cluster would take. */
static enum pimc_cli_outcome hide_kernels(char *error, size_t size)
{
    const char *list = getenv("PIMC_HIDE_KERNELS");
    unsigned mask = 0;
    if (list == NULL)
        return PIMC_CLI_RUN;
    for (const char *p = list; *p;) {
        char name[32];
        size_t length = strcspn(p, ",");
        enum pimc_kernel kernel;
        snprintf(name, sizeof name, "%.*s", (int)length, p);
        if (!pimc_kernel_from_name(name, &kernel) || kernel == PIMC_KERNEL_AUTO || kernel == PIMC_KERNEL_SCALAR)
            return fail(error, size,
                        "PIMC_HIDE_KERNELS='%s' names '%s'; list avx512, avx2, aesni and/or neon, comma-separated",
                        list,
                        name);
        mask |= 1u << kernel;
        p += length + (p[length] == ',');
    }
    pimc_kernel_hide(mask);
    return PIMC_CLI_RUN;
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int compare_counts(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static bool add_thread_count(int *list, int *n, long threads)
{
    for (int i = 0; i < *n; i++)
        if (list[i] == threads)
            return true;
    if (*n == PIMC_MAX_LIST)
        return false;
    list[(*n)++] = (int)threads;
    return true;
}

/* 1,2,4,8 or 1-16 or pow2, mixed freely: sorted, without repeats. */
static enum pimc_cli_outcome parse_thread_list(const char *text, struct pimc_options *options, char *error,
                                               size_t size)
{
    const char *accepted = "use thread counts from 1 to 4096 like 1,2,4,8 or 1-16 or pow2";
    char item[64];
    int n = 0;
    for (const char *p = text;; p += strcspn(p, ",") + 1) {
        size_t length = strcspn(p, ",");
        long first, last;
        if (length == 0 || length >= sizeof item)
            return fail(error, size, "--sweep '%s' is not a list of thread counts; %s", text, accepted);
        snprintf(item, sizeof item, "%.*s", (int)length, p);
        char *dash = strchr(item, '-');
        if (strcmp(item, "pow2") == 0) {
            /* Cores first; then all the hardware threads, a point the table marks. */
            const int cores = pimc_usable_cores(), cpus = pimc_topology()->known ? pimc_topology()->cpus : cores;
            for (first = 1; first <= cores; first *= 2)
                add_thread_count(options->sweep_threads, &n, first);
            add_thread_count(options->sweep_threads, &n, cores);
            add_thread_count(options->sweep_threads, &n, cpus);
        } else if (dash != NULL) {
            *dash = '\0';
            if (!parse_int_in(item, 1, PIMC_MAX_THREADS, &first) ||
                !parse_int_in(dash + 1, 1, PIMC_MAX_THREADS, &last) || last < first)
                return fail(error, size, "--sweep '%s': '%.*s' is not a range of thread counts; %s", text,
                            (int)length, p, accepted);
            for (long t = first; t <= last; t++)
                if (!add_thread_count(options->sweep_threads, &n, t))
                    return fail(error, size, "--sweep '%s' has more than %d thread counts", text, PIMC_MAX_LIST);
        } else if (!parse_int_in(item, 1, PIMC_MAX_THREADS, &first)) {
            return fail(error, size, "--sweep '%s': '%s' is not a thread count; %s", text, item, accepted);
        } else if (!add_thread_count(options->sweep_threads, &n, first)) {
            return fail(error, size, "--sweep '%s' has more than %d thread counts", text, PIMC_MAX_LIST);
        }
        if (p[length] == '\0')
            break;
    }
    qsort(options->sweep_threads, (size_t)n, sizeof(int), compare_ints);
    options->sweep_count = n;
    return PIMC_CLI_RUN;
}

static enum pimc_cli_outcome parse_size_list(const char *text, struct pimc_options *options, char *error,
                                             size_t size)
{
    char item[64];
    int n = 0;
    for (const char *p = text;; p += strcspn(p, ",") + 1) {
        size_t length = strcspn(p, ",");
        uint64_t throws;
        snprintf(item, sizeof item, "%.*s", (int)(length < sizeof item ? length : sizeof item - 1), p);
        if (length == 0 || length >= sizeof item || !pimc_parse_count(item, PIMC_MAX_THROWS, &throws))
            return fail(error, size, "--sizes '%s': '%s' is not a count of throws; use a list like 1e4,1e5,1e6",
                        text, item);
        bool known = false;
        for (int i = 0; i < n; i++)
            known = known || options->sizes[i] == throws;
        if (!known && n == PIMC_MAX_LIST)
            return fail(error, size, "--sizes '%s' has more than %d sizes", text, PIMC_MAX_LIST);
        if (!known)
            options->sizes[n++] = throws;
        if (p[length] == '\0')
            break;
    }
    qsort(options->sizes, (size_t)n, sizeof(uint64_t), compare_counts);
    options->size_count = n;
    return PIMC_CLI_RUN;
}

static void print_version(void)
{
    printf("pimc-omp %s\n", PIMC_VERSION);
#if defined(__clang__)
    printf("compiler: clang %s\n", __clang_version__);
#elif defined(__GNUC__)
    printf("compiler: gcc %s\n", __VERSION__);
#endif
    printf("OpenMP: %s %s\n", pimc_openmp_runtime(), pimc_openmp_version());
    printf("MPI: %s\n", PIMC_HAVE_MPI ? pimc_cluster_library() : "none (built without; -Dmpi=enabled adds it)");
    struct pimc_context context;
    char topology[256];
    pimc_probe_context(&context);
    pimc_describe_topology(&context.topology, topology, sizeof topology);
    printf("host: %s, %s; %s\n", context.host, context.cpu_model, topology);
    /* One line per generator, "kernels" first: scripts read the default's paths from it. */
    for (int r = 0; r < PIMC_RNG_COUNT; r++) {
        const enum pimc_rng rng = (enum pimc_rng)r;
        printf(r == 0 ? "kernels:" : "kernels (--rng %s):", pimc_rng_option(rng));
        for (int k = PIMC_KERNEL_SCALAR; k < PIMC_KERNEL_COUNT; k++)
            if (pimc_kernel_available_for(rng, (enum pimc_kernel)k))
                printf(" %s", pimc_kernel_name((enum pimc_kernel)k));
        printf(" (auto: %s; %s)\n", pimc_kernel_name(pimc_kernel_resolve_for(rng, PIMC_KERNEL_AUTO)),
               pimc_rng_name(rng));
    }
}

/* Whether the argument ARG is an option that takes the next argument as its
 * value: getopt_long gives it that value whatever it starts with, so that
 * "--csv -5.csv" and "--seed -1" are a file name and a (bad) seed, never
 * THROWS. A long option may be abbreviated, as getopt_long allows. */
static bool value_follows(const char *arg, const struct option *long_options, const char *short_with_value)
{
    if (arg[0] != '-' || arg[1] == '\0')
        return false;
    if (arg[1] == '-') {
        const char *name = arg + 2;
        const size_t length = strlen(name);
        const struct option *match = NULL;
        int matches = 0;
        if (length == 0 || strchr(name, '=') != NULL)
            return false;
        for (const struct option *o = long_options; o->name != NULL; o++) {
            if (strncmp(o->name, name, length) != 0)
                continue;
            match = o;
            if (strlen(o->name) == length) { /* exact: no abbreviation to resolve */
                matches = 1;
                break;
            }
            matches++;
        }
        return matches == 1 && match->has_arg == required_argument;
    }
    /* A cluster such as -qt: an option with a value takes the rest of the
     * cluster, or the next argument when it ends the cluster. */
    for (const char *c = arg + 1; *c != '\0'; c++)
        if (strchr(short_with_value, *c) != NULL)
            return c[1] == '\0';
    return false;
}

/* Whether two paths name one file: the same file when both exist, else the
 * same name in the same directory once the directory is resolved. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    const bool has_a = stat(a, &sa) == 0, has_b = stat(b, &sb) == 0;
    if (has_a || has_b)
        return has_a && has_b && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char *canonical[2] = {NULL, NULL};
    const char *paths[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        const char *slash = strrchr(paths[i], '/');
        char *directory = slash == NULL ? strdup(".") : slash == paths[i] ? strdup("/")
                                                      : strndup(paths[i], (size_t)(slash - paths[i]));
        char *resolved = directory != NULL ? realpath(directory, NULL) : NULL;
        const char *name = slash == NULL ? paths[i] : slash + 1;
        if (resolved != NULL && asprintf(&canonical[i], "%s/%s", resolved, name) < 0)
            canonical[i] = NULL;
        free(resolved);
        free(directory);
    }
    const bool same = canonical[0] != NULL && canonical[1] != NULL ? strcmp(canonical[0], canonical[1]) == 0
                                                                   : strcmp(a, b) == 0;
    free(canonical[0]);
    free(canonical[1]);
    return same;
}

/* One file in two roles: the CSV appended to, the checkpoint or JUnit report
 * replaced, the baseline read, the other build run. Each would spoil the other
 * (a CSV row in a checkpoint, a report over the baseline it judged, a row
 * appended to the executable): refused, naming both. */
static enum pimc_cli_outcome one_file_one_role(const struct pimc_options *o, char *error, size_t size)
{
    const struct {
        const char *option, *path;
    } roles[] = {{"--csv", o->csv_path},     {"--checkpoint", o->checkpoint_path}, {"--check", o->check_path},
                 {"--junit", o->junit_path}, {"--against", o->against_path}};
    const int count = sizeof roles / sizeof *roles;
    for (int i = 0; i < count; i++)
        for (int j = i + 1; j < count; j++)
            if (roles[i].path != NULL && roles[j].path != NULL && same_file(roles[i].path, roles[j].path))
                return fail(error, size, "%s '%s' and %s '%s' are the same file; give each its own", roles[i].option,
                            roles[i].path, roles[j].option, roles[j].path);
    return PIMC_CLI_RUN;
}

static enum pimc_cli_outcome bad_count(char *error, size_t size, const char *what, const char *text, uint64_t max)
{
    uint64_t ignored;
    switch (parse_count_detailed(text, max, &ignored)) {
    case 2:
        return fail(error, size, "%s '%s' is too large; the most is %llu", what, text, (unsigned long long)max);
    case 3:
        return fail(error, size, "%s '%s' must be at least 1", what, text);
    default:
        return fail(error, size, "%s '%s' is not a count; use a whole number such as 1000000000, 1e9, 10^9 or 1G",
                    what, text);
    }
}

enum pimc_cli_outcome pimc_parse_options(int argc, char **argv, struct pimc_options *options, char *error,
                                         size_t size)
{
    enum { OPT_KERNEL = 256, OPT_RNG, OPT_NO_SERIAL, OPT_REPEAT, OPT_CSV, OPT_JSON, OPT_SWEEP, OPT_WEAK, OPT_SIZES,
           OPT_MARKDOWN, OPT_CHECK, OPT_TOLERANCE, OPT_CHECKPOINT, OPT_CHECKPOINT_INTERVAL,
           OPT_SELF_TEST, OPT_AGAINST, OPT_BUDGET, OPT_BISECT, OPT_JUNIT, OPT_WARM_UP };
    static const struct option long_options[] = {
        {"threads", required_argument, NULL, 't'},
        {"seed", required_argument, NULL, 's'},
        {"kernel", required_argument, NULL, OPT_KERNEL},
        {"rng", required_argument, NULL, OPT_RNG},
        {"no-serial", no_argument, NULL, OPT_NO_SERIAL},
        {"repeat", required_argument, NULL, OPT_REPEAT},
        {"warm-up", required_argument, NULL, OPT_WARM_UP},
        {"csv", required_argument, NULL, OPT_CSV},
        {"json", no_argument, NULL, OPT_JSON},
        {"sweep", required_argument, NULL, OPT_SWEEP},
        {"weak", no_argument, NULL, OPT_WEAK},
        {"sizes", required_argument, NULL, OPT_SIZES},
        {"markdown", no_argument, NULL, OPT_MARKDOWN},
        {"check", required_argument, NULL, OPT_CHECK},
        {"tolerance", required_argument, NULL, OPT_TOLERANCE},
        {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
        {"checkpoint-interval", required_argument, NULL, OPT_CHECKPOINT_INTERVAL},
        {"self-test", no_argument, NULL, OPT_SELF_TEST},
        {"against", required_argument, NULL, OPT_AGAINST},
        {"budget", required_argument, NULL, OPT_BUDGET},
        {"bisect", no_argument, NULL, OPT_BISECT},
        {"junit", required_argument, NULL, OPT_JUNIT},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    memset(options, 0, sizeof *options);
    options->throws = PIMC_DEFAULT_THROWS;
    options->seed = PIMC_DEFAULT_SEED;
    options->kernel = PIMC_KERNEL_AUTO;
    options->serial = true;
    options->repeats = 0; /* not given: chosen below */
    options->tolerance = 0.10;
    options->checkpoint_interval_s = PIMC_DEFAULT_CHECKPOINT_INTERVAL;
    options->budget_s = PIMC_AGAINST_BUDGET;
    options->warm_up_s = PIMC_DEFAULT_WARM_UP_S;
    for (int m = 0; m < PIMC_TOLERANCE_METRICS; m++)
        options->metric_tolerance[m] = NAN;
    bool tolerance_given = false, interval_given = false, budget_given = false;
    long threads_option = 0, number;
    int option;
    if (hide_kernels(error, size) != PIMC_CLI_RUN)
        return PIMC_CLI_ERROR;
    opterr = 0;
    optind = 0; /* 0, not 1: glibc then also forgets a half-read option cluster */
    /* No option starts with a digit: "-5" where THROWS may stand is a negative
     * count, not an option. The value of an option is not THROWS. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (value_follows(argv[i], long_options, "ts"))
            i++;
        else if (argv[i][0] == '-' && (isdigit((unsigned char)argv[i][1]) || argv[i][1] == '.'))
            return fail(error, size, "throws '%s' is negative; use a whole number from 1 to %llu", argv[i],
                        (unsigned long long)PIMC_MAX_THROWS);
    }
    while ((option = getopt_long(argc, argv, ":t:s:qhV", long_options, NULL)) != -1) {
        switch (option) {
        case 't':
            options->threads_given = true;
            if (!parse_int_in(optarg, 1, PIMC_MAX_THREADS, &threads_option))
                return fail(error, size, "--threads '%s' is not a thread count; use a whole number from 1 to %d",
                            optarg, PIMC_MAX_THREADS);
            break;
        case 's':
            options->seed_given = true;
            if (!parse_seed(optarg, &options->seed))
                return fail(error, size, "--seed '%s' is not a seed; use a whole number from 0 to 2^64-1 "
                                         "(decimal, or hex with 0x)", optarg);
            break;
        case OPT_KERNEL:
            options->kernel_given = true;
            if (!pimc_kernel_from_name(optarg, &options->kernel))
                return fail(error, size, "--kernel '%s' is not a kernel; use auto, avx512, avx2, aesni, neon or scalar",
                            optarg);
            break;
        case OPT_RNG:
            if (!pimc_rng_from_name(optarg, &options->rng))
                return fail(error, size, "--rng '%s' is not a generator; use philox or ars", optarg);
            break;
        case OPT_NO_SERIAL:
            options->serial = false;
            break;
        case OPT_REPEAT:
            if (!parse_int_in(optarg, 1, PIMC_MAX_REPEATS, &number))
                return fail(error, size, "--repeat '%s' is not a repeat count; use a whole number from 1 to %d",
                            optarg, PIMC_MAX_REPEATS);
            options->repeats = (int)number;
            break;
        case OPT_CSV:
            if (optarg[0] == '\0')
                return fail(error, size, "--csv needs a file name");
            options->csv_path = optarg;
            break;
        case OPT_JSON:
            options->json = true;
            break;
        case OPT_SWEEP:
            if (parse_thread_list(optarg, options, error, size) != PIMC_CLI_RUN)
                return PIMC_CLI_ERROR;
            break;
        case OPT_WEAK:
            options->weak = true;
            break;
        case OPT_SIZES:
            if (parse_size_list(optarg, options, error, size) != PIMC_CLI_RUN)
                return PIMC_CLI_ERROR;
            break;
        case OPT_MARKDOWN:
            options->markdown = true;
            break;
        case OPT_CHECK:
            if (optarg[0] == '\0')
                return fail(error, size, "--check needs a baseline file (a CSV or JSON written by --csv/--json)");
            options->check_path = optarg;
            break;
        case OPT_CHECKPOINT:
            if (optarg[0] == '\0')
                return fail(error, size, "--checkpoint needs a file name");
            options->checkpoint_path = optarg;
            break;
        case OPT_CHECKPOINT_INTERVAL:
            if (!parse_seconds(optarg, &options->checkpoint_interval_s))
                return fail(error, size, "--checkpoint-interval '%s' is not a number of seconds from 0.001 to "
                                         "1e6; use e.g. 60 or 0.5", optarg);
            interval_given = true;
            break;
        case OPT_TOLERANCE:
            if (parse_tolerance(optarg, options, error, size) != PIMC_CLI_RUN)
                return PIMC_CLI_ERROR;
            tolerance_given = tolerance_given || strchr(optarg, '=') == NULL;
            options->tolerance_given = true;
            break;
        case OPT_AGAINST:
            if (optarg[0] == '\0')
                return fail(error, size, "--against needs the path of another pimc-omp executable");
            options->against_path = optarg;
            break;
        case OPT_WARM_UP:
            if (strcmp(optarg, "0") != 0 && !parse_seconds(optarg, &options->warm_up_s))
                return fail(error, size, "--warm-up '%s' is not 0 or a number of seconds from 0.001 to 1e6; use "
                                         "e.g. 0.2", optarg);
            if (strcmp(optarg, "0") == 0)
                options->warm_up_s = 0.0;
            options->warm_up_given = true;
            break;
        case OPT_BUDGET:
            if (!parse_seconds(optarg, &options->budget_s))
                return fail(error, size, "--budget '%s' is not a number of seconds from 0.001 to 1e6; use e.g. 60",
                            optarg);
            budget_given = true;
            break;
        case OPT_BISECT:
            options->bisect = true;
            break;
        case OPT_JUNIT:
            if (optarg[0] == '\0')
                return fail(error, size, "--junit needs a file name");
            options->junit_path = optarg;
            break;
        case OPT_SELF_TEST:
            options->self_test = true;
            break;
        case 'q':
            options->quiet = true;
            break;
        case 'h': /* under a launcher, from rank 0 alone: once, not once per rank */
            if (pimc_cluster_launched_rank() == 0) {
                fputs(usage_text, stdout);
                fputs(usage_against, stdout);
                fputs(usage_tail, stdout);
            }
            return PIMC_CLI_DONE;
        case 'V':
            if (pimc_cluster_launched_rank() == 0)
                print_version();
            return PIMC_CLI_DONE;
        case ':':
            if (strncmp(argv[optind - 1], "--", 2) != 0)
                return fail(error, size, "option '-%c' needs a value; see pimc-omp --help", optopt);
            return fail(error, size, "option '%s' needs a value; see pimc-omp --help", argv[optind - 1]);
        default: {
            /* A long option without a value given one (--json=1): getopt sets
             * optopt to that option's code, which is no character to show. */
            const char *given = argv[optind - 1], *equals = strchr(given, '=');
            if (optopt != 0 && strncmp(given, "--", 2) == 0 && equals != NULL)
                for (const struct option *o = long_options; o->name != NULL; o++)
                    if (o->has_arg == no_argument && strncmp(o->name, given + 2, (size_t)(equals - given - 2)) == 0)
                        return fail(error, size, "option '%.*s' takes no value; see pimc-omp --help",
                                    (int)(equals - given), given);
            if (optopt != 0 && optopt < OPT_KERNEL)
                return fail(error, size, "unknown option '-%c'; see pimc-omp --help", optopt);
            return fail(error, size, "unknown option '%s'; see pimc-omp --help", given);
        }
        }
    }
    if (optind < argc) {
        if (argc - optind > 1)
            return fail(error, size, "unexpected argument '%s': give THROWS only once",
                        argv[optind + 1]);
        if (!pimc_parse_count(argv[optind], PIMC_MAX_THROWS, &options->throws))
            return bad_count(error, size, "throws", argv[optind], PIMC_MAX_THROWS);
        options->throws_given = true;
    }
    if ((options->kernel == PIMC_KERNEL_AESNI || options->kernel == PIMC_KERNEL_NEON) &&
        options->rng != PIMC_RNG_ARS)
        return fail(error, size, "--kernel %s is a path of the ARS generator only; add --rng ars, or use "
                                 "--kernel auto, avx512, avx2 or scalar", pimc_kernel_name(options->kernel));
    const bool study = options->sweep_count > 0 || options->size_count > 0;
    if (options->sweep_count > 0 && options->size_count > 0)
        return fail(error, size, "--sweep and --sizes are separate studies; run one at a time");
    if (options->weak && options->sweep_count == 0)
        return fail(error, size, "--weak needs --sweep LIST (the thread counts to scale over)");
    if (options->markdown && !study)
        return fail(error, size, "--markdown prints a study's table; use it with --sweep or --sizes");
    /* Options that cannot apply together are refused, never one of them
     * silently dropped. */
    if (options->markdown && options->json)
        return fail(error, size, "--markdown prints the study's table and --json its rows instead of it; choose one");
    if (options->markdown && options->quiet)
        return fail(error, size, "--quiet prints no table, so --markdown has nothing to format; choose one");
    if (options->sweep_count > 0 && options->threads_given)
        return fail(error, size, "--threads does not apply to --sweep: its LIST gives the thread counts; leave out "
                                 "--threads");
    if (options->sweep_count > 0 && !options->serial)
        return fail(error, size, "--no-serial does not apply to --sweep: its 1-thread point is every speedup's "
                                 "reference; leave out --no-serial");
    if (options->size_count > 0 && !options->serial)
        return fail(error, size, "--no-serial does not apply to --sizes: the study is the 1-thread run against the "
                                 "parallel one; leave out --no-serial");
    if (options->size_count > 0 && optind < argc)
        return fail(error, size, "give either THROWS or --sizes, not both");
    if (options->check_path != NULL && study)
        return fail(error, size, "--check measures one configuration; leave out --sweep and --sizes");
    if (options->tolerance_given && options->check_path == NULL && options->against_path == NULL)
        return fail(error, size, "--tolerance goes with --check BASELINE or --against OTHER");
    if (options->against_path != NULL && (study || options->check_path != NULL || options->checkpoint_path != NULL))
        return fail(error, size, "--against times one configuration of two builds; leave out --sweep, --sizes, "
                                 "--check and --checkpoint");
    if (options->against_path != NULL && !options->serial)
        return fail(error, size, "--against compares the 1-thread leg too; leave out --no-serial");
    if ((budget_given || options->bisect) && options->against_path == NULL)
        return fail(error, size, "%s goes with --against OTHER", budget_given ? "--budget" : "--bisect");
    if (options->junit_path != NULL && options->check_path == NULL && options->against_path == NULL)
        return fail(error, size, "--junit writes the verdicts of --check BASELINE or --against OTHER; add one");
    if (options->against_path != NULL && !tolerance_given)
        options->tolerance = PIMC_AGAINST_TOLERANCE;
    if (options->against_path != NULL && !options->throws_given)
        options->throws = PIMC_AGAINST_THROWS;
    if (interval_given && options->checkpoint_path == NULL)
        return fail(error, size, "--checkpoint-interval goes with --checkpoint FILE");
    if (options->checkpoint_path != NULL && (study || options->check_path != NULL))
        return fail(error, size, "--checkpoint continues one long run; leave out --sweep, --sizes and --check");
    if (options->checkpoint_path != NULL && options->repeats > 1)
        return fail(error, size, "--checkpoint times one run over its segments; leave out --repeat");
    if (options->self_test && (options->throws_given || options->seed_given || options->kernel_given ||
                               options->rng != PIMC_RNG_PHILOX || study ||
                               options->check_path != NULL || options->checkpoint_path != NULL ||
                               options->against_path != NULL || options->csv_path != NULL || options->json))
        return fail(error, size, "--self-test runs its own cases on every path; give it alone, or with --threads N "
                                 "(its largest thread count)");
    if (one_file_one_role(options, error, size) != PIMC_CLI_RUN)
        return PIMC_CLI_ERROR;
    if (options->checkpoint_path != NULL)
        options->serial = false; /* a production run: the reference would double its cost */
    if (options->repeats == 0)
        options->repeats = options->check_path != NULL ? 5 : options->against_path != NULL ? PIMC_AGAINST_REPEATS
                           : study ? 3 : 1;
    /* The kernel reads no environment: OMP_SCHEDULE is read here and handed down. */
    const char *schedule = getenv("OMP_SCHEDULE");
    if (schedule != NULL && !pimc_schedule_parse(schedule, &options->schedule))
        return fail(error, size, "OMP_SCHEDULE='%s' is not a schedule; use static, dynamic, guided or auto, "
                                 "optionally with a chunk (e.g. dynamic,4), or unset it", schedule);
    return choose_threads(options, threads_option, error, size);
}
