/*
 * --against OTHER: is this build slower than OTHER, another pimc-omp
 * executable (an older build), on this machine, now? For CI on shared
 * machines, where a baseline file of another day or another VM cannot tell a
 * 3% slowdown from the machine's drift: both builds are timed in the same job,
 * on the same cores, interleaved, and a verdict is given only where the
 * statistics allow one.
 *
 * How it runs, in order:
 *
 * 1. OTHER is checked before any timing: it must exist, be an executable
 *    regular file, and answer --version with "pimc-omp VERSION". Else exit 2,
 *    nothing written.
 * 2. Both builds run as child processes, driven through their --json output
 *    (so any pimc-omp that has --json serves as OTHER, from before --against
 *    too): `pimc-omp --json -t T --seed S [--rng ars] [--kernel K] --repeat R
 *    THROWS`, the same arguments and environment for both, argv[0] the same
 *    (its length moves the stack), this build through /proc/self/exe, so A and
 *    B are started, placed and timed alike. Each child times its own legs: its
 *    parallel leg and its 1-thread (serial) leg, each the best of R runs after
 *    a warm-up (R = --repeat, default 2; --warm-up, when given, is passed
 *    to both, else each build uses its own default); process start-up is
 *    not timed.
 * 3. Rounds alternate ABBA and BAAB (A = OTHER, B = this build): a drift of
 *    the machine during a round falls on both alike, and neither build always
 *    runs first. In each round each build's figure per metric comes from its
 *    faster child (noise on a shared machine only slows a run down):
 *      throughput_per_thread  THROWS / (threads x parallel leg), Gthrows/s
 *      serial_throughput      THROWS / serial leg, Gthrows/s
 *      efficiency             serial leg / (threads x parallel leg)
 *    and the round gives one paired difference d = log(this) - log(OTHER).
 * 4. After each round from the 6th on (the fewest for a 95% interval), stats.c
 *    gives per metric the Hodges-Lehmann estimate of the ratio this/OTHER and
 *    its 95% Wilcoxon signed-rank interval. PASS when the interval lies wholly
 *    at or above 1 - tolerance (default 3%), REGRESSION when wholly below;
 *    else undecided. The rounds stop when a metric is a REGRESSION or all
 *    PASS, or before a round that would overrun --budget (default 60 s): the
 *    undecided metrics are then INCONCLUSIVE.
 * 5. Other work: for each child, the busy time of our CPUs (/proc/stat: user,
 *    nice, system, irq, softirq and steal, summed over the CPUs of our
 *    affinity mask) less the child's own CPU time (wait4's rusage) is time
 *    that other work took while it ran. Its share of our CPUs' time during
 *    the child is taken out of the child's legs for a second, adjusted set of
 *    intervals. The raw times decide PASS; a raw REGRESSION stands only when
 *    the adjusted times show it too, else the metric stays undecided (and is
 *    INCONCLUSIVE at the end, saying why): a CPU taken by other work is not
 *    called a regression, and never makes one PASS. Work on our CPUs evenly
 *    spread over A's and B's runs cancels out of the paired ratios anyway.
 * 6. hits: every run of both builds must give the same hits (same generator,
 *    seed and throws): else exit 3, named as the verification failure it is.
 *    A child that fails its own verification (exit 3) is one too. A leg under
 *    10 ms (PIMC_SHORTEST_TIMED_S, the limit --check and the report use too)
 *    is too short to time: its metrics are INCONCLUSIVE, never a PASS or a
 *    REGRESSION, and the rounds stop at the 6th.
 */
#include "ab.h"

#include "exit_status.h"
#include "junit.h"
#include "kernel.h"
#include "run.h"
#include "stats.h"
#include "timer.h"
#include "verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define AB_CONFIDENCE 0.95
#define AB_MAX_ROUNDS 500
#define AB_VERSION_TIMEOUT_S 10.0 /* OTHER --version */
#define AB_FIRST_RUN_TIMEOUT_S 600.0
#define AB_MAX_OTHER_SHARE 0.9

enum { OTHER, THIS, BUILDS };                      /* A = OTHER, B = this build */
enum { THROUGHPUT, SERIAL, EFFICIENCY, TIMED };    /* the timed metrics */
enum { HITS_CASE = TIMED, CASES };                 /* + hits, for the JUnit report */

static const char *const metric_names[TIMED] = {"throughput_per_thread", "serial_throughput", "efficiency"};
static const enum pimc_tolerance_metric metric_tolerance[TIMED] = {
    PIMC_TOLERANCE_THROUGHPUT, PIMC_TOLERANCE_SERIAL, PIMC_TOLERANCE_EFFICIENCY};

/* One child process: one run of one build. */
struct child {
    double parallel_s, serial_s; /* its legs, each the best of its --repeat runs */
    double wall_s;               /* fork to reaped */
    double other_share;          /* of our CPUs' time while it ran, what other work took */
    double steal_share;          /* of that, what the hypervisor took */
    uint64_t hits;
};

struct build {
    const char *name;  /* "this build", "OTHER" */
    const char *path;  /* what is executed */
    char shown[1024];  /* for messages */
    char version[128];
    char kernel[32];   /* the path its runs used */
    char rng[32];
    int team;          /* threads its runs got */
    int runs;
    struct child child[2 * AB_MAX_ROUNDS];
};

struct ab {
    const struct pimc_options *options;
    const struct pimc_context *context;
    const atomic_bool *stop;
    const volatile sig_atomic_t *stop_signal;
    struct build build[BUILDS];
    char *argv[24];
    char arg_text[6][64];
    int output_fd, error_fd; /* the current child's stdout and stderr (temporary files) */
    double longest_run_s;
    bool hits_set;
    uint64_t hits;
};

/* ---- child processes ----------------------------------------------------- */

static volatile sig_atomic_t deadline_passed;

static void on_deadline(int signal_number)
{
    (void)signal_number;
    deadline_passed = 1;
}

struct exit_of {
    bool started, timed_out, stopped;
    int exec_errno;
    int status; /* as wait4 gives it */
    double cpu_s, wall_s;
};

static void set_timer(double seconds)
{
    struct itimerval t = {0};
    t.it_value.tv_sec = (time_t)seconds;
    t.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
    setitimer(ITIMER_REAL, &t, NULL);
}

/* Runs path with argv, its stdout and stderr into the two files, stdin from
 * /dev/null; waits for it (killing it past the timeout, or when a stop signal
 * came: then stopped is set). */
static struct exit_of spawn(const char *path, char *const argv[], int output_fd, int error_fd, double timeout,
                            const atomic_bool *stop)
{
    struct exit_of e = {0};
    int report[2]; /* the exec's errno, if it fails; closed on exec when it works */
    if (ftruncate(output_fd, 0) != 0 || ftruncate(error_fd, 0) != 0 || pipe2(report, O_CLOEXEC) != 0) {
        e.exec_errno = errno;
        return e;
    }
    lseek(output_fd, 0, SEEK_SET);
    lseek(error_fd, 0, SEEK_SET);
    fflush(NULL);
    const double start = pimc_now();
    const pid_t pid = fork();
    if (pid < 0) {
        e.exec_errno = errno;
        close(report[0]);
        close(report[1]);
        return e;
    }
    if (pid == 0) {
        const int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, 0) < 0 || dup2(output_fd, 1) < 0 || dup2(error_fd, 2) < 0)
            _exit(127);
        execv(path, argv);
        const int why = errno;
        (void)!write(report[1], &why, sizeof why);
        _exit(127);
    }
    close(report[1]);
    int why;
    ssize_t got;
    while ((got = read(report[0], &why, sizeof why)) < 0 && errno == EINTR)
        ;
    close(report[0]);
    e.started = got != (ssize_t)sizeof why;
    if (!e.started)
        e.exec_errno = why;
    deadline_passed = 0;
    set_timer(timeout);
    struct rusage usage;
    for (;;) {
        const pid_t r = wait4(pid, &e.status, 0, &usage);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            break;
        if (atomic_load(stop) && !e.stopped) {
            e.stopped = true;
            kill(pid, SIGTERM); /* it stops at its next block, like us */
        }
        if (deadline_passed && !e.timed_out) {
            e.timed_out = true;
            kill(pid, SIGKILL);
        }
    }
    set_timer(0);
    e.wall_s = pimc_now() - start;
    e.cpu_s = (double)usage.ru_utime.tv_sec + 1e-6 * (double)usage.ru_utime.tv_usec +
              (double)usage.ru_stime.tv_sec + 1e-6 * (double)usage.ru_stime.tv_usec;
    return e;
}

/* The first lines of a file, for a message: at most size - 1 bytes, the
 * line breaks shown as " / ". */
static void read_head(int fd, char *text, size_t size)
{
    ssize_t n = pread(fd, text, size - 1, 0);
    n = n < 0 ? 0 : n;
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    text[n] = '\0';
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

static char *read_all(int fd, size_t *length)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return NULL;
    char *text = malloc((size_t)st.st_size + 1);
    if (text == NULL)
        return NULL;
    ssize_t n = pread(fd, text, (size_t)st.st_size, 0);
    *length = n < 0 ? 0 : (size_t)n;
    text[*length] = '\0';
    return text;
}

/* How a child that did not give a result ended, for a message. */
static void describe_exit(const struct exit_of *e, char *text, size_t size)
{
    if (!e->started)
        snprintf(text, size, "could not be started: %s", strerror(e->exec_errno));
    else if (e->timed_out)
        snprintf(text, size, "ran past its time limit and was killed");
    else if (WIFSIGNALED(e->status))
        snprintf(text, size, "crashed: killed by signal %d (%s)", WTERMSIG(e->status), strsignal(WTERMSIG(e->status)));
    else
        snprintf(text, size, "exited with status %d", WEXITSTATUS(e->status));
}

/* ---- other work: our CPUs' busy time from /proc/stat ---------------------- */

struct cpu_times {
    bool known;
    double busy, steal; /* seconds, summed over the CPUs of our affinity mask */
};

static struct cpu_times read_cpu_times(void)
{
    struct cpu_times t = {0};
    cpu_set_t mask;
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return t;
    if (sched_getaffinity(0, sizeof mask, &mask) != 0) {
        fclose(f);
        return t;
    }
    char line[512];
    double ticks = 0, steal = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        int cpu;
        unsigned long long v[8];
        /* user nice system idle iowait irq softirq steal (guest time is inside user) */
        if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7]) == 9 && cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &mask)) {
            ticks += (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
            steal += (double)v[7];
            t.known = true;
        }
    }
    fclose(f);
    const double tick = 1.0 / (double)sysconf(_SC_CLK_TCK);
    t.busy = ticks * tick;
    t.steal = steal * tick;
    return t;
}

/* Of our CPUs' time while a child ran (wall seconds on cpus CPUs), the share
 * other work took: busy time less the child's. /proc/stat counts in ticks, so
 * up to a tick per CPU at each reading is rounding, not work. */
static double other_share_of(struct cpu_times before, struct cpu_times after, double child_cpu_s, double wall_s,
                             int cpus, double *steal_share)
{
    *steal_share = 0.0;
    if (!before.known || !after.known || wall_s <= 0 || cpus <= 0)
        return 0.0;
    const double capacity = wall_s * cpus, rounding = 2.0 * cpus / (double)sysconf(_SC_CLK_TCK);
    const double other = after.busy - before.busy - child_cpu_s - rounding;
    const double steal = after.steal - before.steal - rounding;
    *steal_share = steal > 0 ? steal / capacity : 0.0;
    const double share = other > 0 ? other / capacity : 0.0;
    return share < AB_MAX_OTHER_SHARE ? share : AB_MAX_OTHER_SHARE;
}

/* ---- one run of one build -------------------------------------------------- */

static bool json_number(json_t *object, const char *name, double *value)
{
    json_t *v = json_object_get(object, name);
    if (!json_is_number(v))
        return false;
    *value = json_number_value(v);
    return true;
}

static bool json_count(json_t *object, const char *name, uint64_t *value)
{
    json_t *v = json_object_get(object, name);
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *value = (uint64_t)json_integer_value(v);
        return true;
    }
    if (json_is_string(v)) { /* counts past 2^63-1 are written as digits */
        char *end;
        errno = 0;
        *value = strtoull(json_string_value(v), &end, 10);
        return *end == '\0' && errno == 0 && json_string_value(v)[0] != '\0';
    }
    return false;
}

static void json_text_into(json_t *object, const char *name, char *text, size_t size)
{
    json_t *v = json_object_get(object, name);
    snprintf(text, size, "%s", json_is_string(v) ? json_string_value(v) : "");
}

/* Reads a child's --json object into run (and its build's kernel etc.);
 * false with the reason when it is not pimc-omp's. */
static bool parse_result(char *text, size_t length, struct build *b, struct child *run, uint64_t throws,
                         char *why, size_t size)
{
    /* A pimc-omp from before the seed was written as digits past 2^63-1 writes
     * it as a bare integer that jansson refuses: the seed is ours anyway. */
    char *seed = strstr(text, "\"seed\": ");
    for (char *p = seed != NULL ? seed + 8 : NULL; p != NULL && *p >= '0' && *p <= '9'; p++)
        *p = p == seed + 8 ? '0' : ' ';
    json_error_t error;
    json_t *root = json_loadb(text, length, JSON_DISABLE_EOF_CHECK, &error);
    uint64_t got_throws = 0, threads = 0;
    double parallel, serial;
    bool ok = json_is_object(root);
    if (!ok)
        snprintf(why, size, "its --json output is not a JSON object (%s)", error.text);
    else if (!json_count(root, "hits", &run->hits) || !json_count(root, "throws", &got_throws) ||
             !json_count(root, "threads", &threads) ||
             !(json_number(root, "parallel_min_s", &parallel) || json_number(root, "parallel_s", &parallel)) ||
             !(json_number(root, "serial_min_s", &serial) || json_number(root, "serial_s", &serial))) {
        snprintf(why, size, "its --json output lacks pimc-omp's hits, throws, threads, parallel_s or serial_s");
        ok = false;
    } else if (got_throws != throws) {
        snprintf(why, size, "it threw %llu darts, not the %llu asked", (unsigned long long)got_throws,
                 (unsigned long long)throws);
        ok = false;
    }
    if (ok) {
        run->parallel_s = parallel;
        run->serial_s = serial;
        json_text_into(root, "kernel", b->kernel, sizeof b->kernel);
        json_text_into(root, "rng", b->rng, sizeof b->rng);
        if (b->rng[0] == '\0') /* before the rng column there was only Philox */
            snprintf(b->rng, sizeof b->rng, "%s", PIMC_RNG_DEFAULT_NAME);
        b->team = (int)threads;
    }
    json_decref(root);
    return ok;
}

/* One child of build b; 0, or the exit status of the whole comparison with
 * the message printed. */
static int run_once(struct ab *ab, int which, struct child *run)
{
    struct build *b = &ab->build[which];
    const int cpus = ab->context->usable_cpus;
    const double timeout = ab->longest_run_s > 0 ? 60.0 + 10.0 * ab->longest_run_s : AB_FIRST_RUN_TIMEOUT_S;
    const struct cpu_times before = read_cpu_times();
    const struct exit_of e = spawn(b->path, ab->argv, ab->output_fd, ab->error_fd, timeout, ab->stop);
    const struct cpu_times after = read_cpu_times();
    char said[600], how[200];
    read_head(ab->error_fd, said, sizeof said);
    if (e.stopped || atomic_load(ab->stop)) {
        fprintf(stderr, "pimc-omp: --against stopped by signal %d: no verdict\n", (int)*ab->stop_signal);
        return PIMC_EXIT_SIGNAL + (int)*ab->stop_signal;
    }
    if (!e.started || e.timed_out || !WIFEXITED(e.status) ||
        (WEXITSTATUS(e.status) != 0 && WEXITSTATUS(e.status) != PIMC_EXIT_VERIFICATION)) {
        describe_exit(&e, how, sizeof how);
        fprintf(stderr, "pimc-omp: --against: %s (%s) %s%s%s; nothing compared\n", b->name, b->shown, how,
                *said ? "; it said: " : "", said);
        return PIMC_EXIT_USAGE;
    }
    if (WEXITSTATUS(e.status) == PIMC_EXIT_VERIFICATION) {
        fprintf(stderr, "pimc-omp: --against: verification FAILED: %s (%s) failed its own verification (exit 3)%s%s\n",
                b->name, b->shown, *said ? "; it said: " : "", said);
        return PIMC_EXIT_VERIFICATION;
    }
    size_t length = 0;
    char *text = read_all(ab->output_fd, &length), why[300];
    const bool parsed = text != NULL && parse_result(text, length, b, run, ab->options->throws, why, sizeof why);
    free(text);
    if (!parsed) {
        fprintf(stderr, "pimc-omp: --against: %s (%s) is not a pimc-omp this version can drive: %s\n", b->name,
                b->shown, text == NULL ? "its output cannot be read" : why);
        return PIMC_EXIT_USAGE;
    }
    run->wall_s = e.wall_s;
    run->other_share = other_share_of(before, after, e.cpu_s, e.wall_s, cpus, &run->steal_share);
    ab->longest_run_s = e.wall_s > ab->longest_run_s ? e.wall_s : ab->longest_run_s;
    return 0;
}

/* ---- checks before any timing ------------------------------------------- */

/* OTHER must be an executable regular file that says it is a pimc-omp. */
static int check_other(struct ab *ab)
{
    struct build *b = &ab->build[OTHER];
    const char *path = b->path;
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "pimc-omp: --against '%s': %s; give the path of another pimc-omp executable (an older "
                        "build, e.g. from bench/compare)\n", path, strerror(errno));
        return PIMC_EXIT_USAGE;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "pimc-omp: --against '%s' is %s, not an executable file; give the path of another "
                        "pimc-omp executable\n", path, S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
        return PIMC_EXIT_USAGE;
    }
    if (access(path, X_OK) != 0) {
        fprintf(stderr, "pimc-omp: --against '%s' is not executable (mode %03o); give a built pimc-omp, or chmod +x "
                        "it\n", path, (unsigned)(st.st_mode & 0777));
        return PIMC_EXIT_USAGE;
    }
    char *version_argv[] = {"pimc-omp", "--version", NULL};
    const struct exit_of e = spawn(path, version_argv, ab->output_fd, ab->error_fd, AB_VERSION_TIMEOUT_S, ab->stop);
    if (e.stopped || atomic_load(ab->stop)) {
        fprintf(stderr, "pimc-omp: --against stopped by signal %d: no verdict\n", (int)*ab->stop_signal);
        return PIMC_EXIT_SIGNAL + (int)*ab->stop_signal;
    }
    char line[200], how[200]; /* its first line */
    ssize_t got = pread(ab->output_fd, line, sizeof line - 1, 0);
    line[got > 0 ? got : 0] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (!e.started || e.timed_out || !WIFEXITED(e.status) || WEXITSTATUS(e.status) != 0 ||
        strncmp(line, "pimc-omp ", 9) != 0) {
        describe_exit(&e, how, sizeof how);
        if (e.started && !e.timed_out && WIFEXITED(e.status) && WEXITSTATUS(e.status) == 0)
            snprintf(how, sizeof how, "printed '%.60s'", line);
        fprintf(stderr, "pimc-omp: --against '%s' is not a pimc-omp: asked for its --version, it %s (a pimc-omp "
                        "prints 'pimc-omp VERSION'); give the path of another pimc-omp executable\n", path, how);
        return PIMC_EXIT_USAGE;
    }
    snprintf(b->version, sizeof b->version, "%.100s", line + 9);
    return 0;
}

/* ---- the verdicts ----------------------------------------------------------- */

struct judged {
    struct pimc_metric metric[CASES];
    struct pimc_interval raw[TIMED], adjusted[TIMED];
    enum pimc_ab_call call[TIMED];
    double this_median[TIMED], other_median[TIMED];
    bool too_short[TIMED];
    double short_s[TIMED];      /* the shorter median leg behind the metric, of either build */
    const char *short_leg[TIMED]; /* which legs */
};

static double median(double *v, int n)
{
    for (int i = 1; i < n; i++) /* insertion sort: a few hundred values at most */
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            const double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n == 0 ? NAN : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Build b's figures in round r: from its faster child of the round, each leg
 * (adjusted: less other work's share during that child). */
static void round_figures(const struct ab *ab, int which, int r, bool adjusted, double figure[TIMED])
{
    const struct build *b = &ab->build[which];
    double p = INFINITY, s = INFINITY;
    for (int k = 0; k < 2; k++) {
        const struct child *c = &b->child[2 * r + k];
        const double keep = adjusted ? 1.0 - c->other_share : 1.0;
        p = fmin(p, c->parallel_s * keep);
        s = fmin(s, c->serial_s * keep);
    }
    const double n = (double)ab->options->throws, threads = (double)ab->options->threads;
    figure[THROUGHPUT] = n / (threads * p) * 1e-9;
    figure[SERIAL] = n / s * 1e-9;
    figure[EFFICIENCY] = s / (threads * p);
}

static void intervals(const struct ab *ab, int rounds, bool adjusted, struct pimc_interval out[TIMED],
                      double this_median[TIMED], double other_median[TIMED])
{
    double *d = malloc(3 * (size_t)TIMED * (size_t)(rounds > 0 ? rounds : 1) * sizeof *d);
    if (d == NULL) {
        perror("pimc-omp");
        exit(PIMC_EXIT_FAILURE);
    }
    double *mine = d + TIMED * rounds, *theirs = mine + TIMED * rounds;
    for (int r = 0; r < rounds; r++) {
        double a[TIMED], b[TIMED];
        round_figures(ab, OTHER, r, adjusted, a);
        round_figures(ab, THIS, r, adjusted, b);
        for (int m = 0; m < TIMED; m++) {
            d[m * rounds + r] = log(b[m]) - log(a[m]);
            mine[m * rounds + r] = b[m];
            theirs[m * rounds + r] = a[m];
        }
    }
    for (int m = 0; m < TIMED; m++) {
        out[m] = pimc_signed_rank_interval(d + m * rounds, rounds, AB_CONFIDENCE);
        if (this_median != NULL) {
            this_median[m] = median(mine + m * rounds, rounds);
            other_median[m] = median(theirs + m * rounds, rounds);
        }
    }
    free(d);
}

/* The legs too short to time: a build whose median leg is under
 * PIMC_SHORTEST_TIMED_S (either build's: a leg is only as good as its clock),
 * the one limit of the report's flag and of --check's rule. */
static void find_short_legs(const struct ab *ab, struct judged *j)
{
    double parallel = INFINITY, serial = INFINITY;
    for (int which = 0; which < BUILDS; which++) {
        const struct build *b = &ab->build[which];
        double *p = malloc(2 * (size_t)(b->runs > 0 ? b->runs : 1) * sizeof *p), *s = p + b->runs;
        if (p == NULL) {
            perror("pimc-omp");
            exit(PIMC_EXIT_FAILURE);
        }
        for (int i = 0; i < b->runs; i++) {
            p[i] = b->child[i].parallel_s;
            s[i] = b->child[i].serial_s;
        }
        parallel = fmin(parallel, median(p, b->runs));
        serial = fmin(serial, median(s, b->runs));
        free(p);
    }
    j->short_s[THROUGHPUT] = j->short_s[EFFICIENCY] = fmin(parallel, serial);
    j->short_leg[THROUGHPUT] = j->short_leg[EFFICIENCY] = parallel <= serial ? "parallel legs" : "1-thread legs";
    j->short_s[SERIAL] = serial;
    j->short_leg[SERIAL] = "1-thread legs";
    for (int m = 0; m < TIMED; m++)
        j->too_short[m] = !(j->short_s[m] >= PIMC_SHORTEST_TIMED_S);
}

/* The calls after `rounds` rounds (no text yet). */
static void call_metrics(const struct ab *ab, int rounds, struct judged *j)
{
    intervals(ab, rounds, false, j->raw, j->this_median, j->other_median);
    intervals(ab, rounds, true, j->adjusted, NULL, NULL);
    find_short_legs(ab, j);
    for (int m = 0; m < TIMED; m++) {
        const double tolerance = pimc_tolerance_for(ab->options, metric_tolerance[m]);
        j->call[m] = j->too_short[m] ? PIMC_AB_UNDECIDED
                                     : pimc_ab_combine(pimc_ab_call_of(&j->raw[m], tolerance),
                                                       pimc_ab_call_of(&j->adjusted[m], tolerance));
    }
}

static const char *unit_of(int m)
{
    return m == EFFICIENCY ? "" : " Gthrows/s";
}

/* The verdict lines, once the rounds are over. */
static void say_verdicts(const struct ab *ab, int rounds, bool budget_out, struct judged *j)
{
    struct pimc_metric *hits = &j->metric[HITS_CASE];
    hits->name = "hits";
    hits->has_values = true;
    hits->measured = hits->baseline = (double)ab->hits;
    pimc_say(hits, PIMC_PASS, "%llu in all %d runs of both builds (seed %llu, %llu throws, %s)",
             (unsigned long long)ab->hits, ab->build[THIS].runs + ab->build[OTHER].runs,
             (unsigned long long)ab->options->seed, (unsigned long long)ab->options->throws, ab->build[THIS].rng);
    for (int m = 0; m < TIMED; m++) {
        struct pimc_metric *x = &j->metric[m];
        const struct pimc_interval *i = &j->raw[m], *adj = &j->adjusted[m];
        const double tolerance = pimc_tolerance_for(ab->options, metric_tolerance[m]);
        char figures[400];
        x->name = metric_names[m];
        x->has_values = true;
        x->measured = j->this_median[m];
        x->baseline = j->other_median[m];
        if (i->valid)
            snprintf(figures, sizeof figures, "this/OTHER %.3f (%.0f%% interval %.3f to %.3f, %d rounds), tolerance "
                                              "%.0f%%: this %.3f%s, OTHER %.3f%s (medians)",
                     exp(i->estimate), 100 * AB_CONFIDENCE, exp(i->low), exp(i->high), rounds, 100 * tolerance,
                     j->this_median[m], unit_of(m), j->other_median[m], unit_of(m));
        else
            snprintf(figures, sizeof figures, "this/OTHER %.3f (%d round%s: too few for a %.0f%% interval, which "
                                              "needs %d), tolerance %.0f%%: this %.3f%s, OTHER %.3f%s (medians)",
                     exp(i->estimate), rounds, rounds == 1 ? "" : "s", 100 * AB_CONFIDENCE,
                     pimc_signed_rank_min_pairs(AB_CONFIDENCE), 100 * tolerance, j->this_median[m], unit_of(m),
                     j->other_median[m], unit_of(m));
        const enum pimc_ab_call raw = pimc_ab_call_of(i, tolerance);
        if (j->too_short[m])
            pimc_say(x, PIMC_INCONCLUSIVE, "%s: %s of %.2f ms (median) are too short to time (under %.0f ms); give "
                                           "more THROWS", figures, j->short_leg[m], 1e3 * j->short_s[m],
                     1e3 * PIMC_SHORTEST_TIMED_S);
        else if (j->call[m] == PIMC_AB_PASS)
            pimc_say(x, PIMC_PASS, "%s", figures);
        else if (j->call[m] == PIMC_AB_REGRESSION)
            pimc_say(x, PIMC_FAIL, "%s: %.1f%% slower", figures, 100 * (1 - exp(i->estimate)));
        else if (raw == PIMC_AB_REGRESSION)
            pimc_say(x, PIMC_INCONCLUSIVE, "%s: slower as timed, but with the time other work took out the interval "
                                           "is %.3f to %.3f: other work, not the build, may have made it",
                     figures, exp(adj->low), exp(adj->high));
        else
            pimc_say(x, PIMC_INCONCLUSIVE, "%s: %s", figures,
                     budget_out ? "undecided when the budget ran out; give a larger --budget or a quieter machine"
                                : "undecided");
    }
}

/* ---- output ---------------------------------------------------------------- */

static double mean_share(const struct build *b, bool steal)
{
    double sum = 0;
    for (int i = 0; i < b->runs; i++)
        sum += steal ? b->child[i].steal_share : b->child[i].other_share;
    return b->runs ? sum / b->runs : 0.0;
}

static const char *metric_verdict_name(enum pimc_verdict v)
{
    return v == PIMC_FAIL ? "REGRESSION" : pimc_verdict_name(v);
}

static void print_plan(const struct ab *ab)
{
    const struct pimc_options *o = ab->options;
    printf("against: this build (pimc-omp %s) against OTHER %s (pimc-omp %s): %d thread%s, %llu throws, seed %llu, "
           "%s, kernel %s, best of %d per leg; ABBA rounds until decided or %.0f s, tolerance %.0f%%\n",
           ab->context->version, ab->build[OTHER].shown, ab->build[OTHER].version, o->threads,
           o->threads == 1 ? "" : "s", (unsigned long long)o->throws, (unsigned long long)o->seed,
           pimc_rng_name(o->rng), pimc_kernel_name(o->kernel), o->repeats, o->budget_s, 100 * o->tolerance);
    fflush(stdout);
}

static void print_verdicts(FILE *out, const struct ab *ab, const struct judged *j, const char *final,
                           const char *named, int rounds, double seconds, int status)
{
    fprintf(out, "against kernel: this build %s, OTHER %s\n", ab->build[THIS].kernel, ab->build[OTHER].kernel);
    for (int m = 0; m < CASES; m++) {
        const struct pimc_metric *x = &j->metric[m == 0 ? HITS_CASE : m - 1];
        fprintf(out, "against %s: %s %s\n", x->name, metric_verdict_name(x->verdict), x->text);
    }
    fprintf(out, "against: other work took %.1f%% of our CPUs' time during this build's runs, %.1f%% during OTHER's "
                 "(the hypervisor %.1f%%, %.1f%%)\n",
            100 * mean_share(&ab->build[THIS], false), 100 * mean_share(&ab->build[OTHER], false),
            100 * mean_share(&ab->build[THIS], true), 100 * mean_share(&ab->build[OTHER], true));
    if (strcmp(final, "REGRESSION") == 0)
        fprintf(out, "against: REGRESSION (%s): this build is slower than OTHER beyond the tolerance (%d rounds, "
                     "%.1f s)\n", named, rounds, seconds);
    else if (strcmp(final, "INCONCLUSIVE") == 0)
        fprintf(out, "against: INCONCLUSIVE (%s): not a regression shown; exit %d (%d rounds, %.1f s)\n", named,
                status, rounds, seconds);
    else
        fprintf(out, "against: PASS (%d rounds, %.1f s)\n", rounds, seconds);
}

static json_t *json_seed(uint64_t seed)
{
    char digits[32];
    if (seed <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)seed);
    snprintf(digits, sizeof digits, "%llu", (unsigned long long)seed);
    return json_string(digits);
}

static json_t *json_finite(double v)
{
    return isfinite(v) && v > 0 ? json_real(v) : json_null(); /* exp() of an open end: 0 or inf */
}

static void print_json(const struct ab *ab, const struct judged *j, const char *final, int status, int rounds,
                       double seconds)
{
    json_t *metrics = json_array(), *runs = json_array(), *builds = json_object();
    for (int m = 0; m < CASES; m++) {
        const int k = m == 0 ? HITS_CASE : m - 1;
        const struct pimc_metric *x = &j->metric[k];
        json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:s}", "metric", x->name, "verdict",
                              metric_verdict_name(x->verdict), "this", json_finite(x->measured), "other",
                              json_finite(x->baseline), "detail", x->text);
        if (k < TIMED)
            json_object_update_new(
                o, json_pack("{s:o, s:o, s:o, s:o, s:o, s:f}", "ratio", json_finite(exp(j->raw[k].estimate)), "low",
                             json_finite(exp(j->raw[k].low)), "high", json_finite(exp(j->raw[k].high)), "adjusted_low",
                             json_finite(exp(j->adjusted[k].low)), "adjusted_high",
                             json_finite(exp(j->adjusted[k].high)), "tolerance",
                             pimc_tolerance_for(ab->options, metric_tolerance[k])));
        json_array_append_new(metrics, o);
    }
    for (int which = 0; which < BUILDS; which++) {
        const struct build *b = &ab->build[which];
        json_object_set_new(builds, which == THIS ? "this" : "other",
                            json_pack("{s:s, s:s, s:s, s:i}", "path", b->shown, "version", b->version, "kernel",
                                      b->kernel, "threads", b->team));
        for (int i = 0; i < b->runs; i++) {
            const struct child *c = &b->child[i];
            json_array_append_new(runs, json_pack("{s:s, s:i, s:f, s:f, s:f, s:f, s:f}", "build",
                                                  which == THIS ? "this" : "other", "round", i / 2, "parallel_s",
                                                  c->parallel_s, "serial_s", c->serial_s, "wall_s", c->wall_s,
                                                  "other_work_share", c->other_share, "steal_share", c->steal_share));
        }
    }
    json_t *root = json_pack("{s:s, s:i, s:o, s:i, s:I, s:o, s:s, s:s, s:i, s:f, s:f, s:f, s:i, s:f, s:o, s:o}",
                             "against", final, "exit_status", status, "builds", builds, "threads",
                             ab->options->threads, "throws", (json_int_t)ab->options->throws, "seed",
                             json_seed(ab->options->seed), "rng", pimc_rng_name(ab->options->rng), "kernel",
                             pimc_kernel_name(ab->options->kernel), "repeats", ab->options->repeats, "tolerance",
                             ab->options->tolerance, "budget_s", ab->options->budget_s, "confidence", AB_CONFIDENCE,
                             "rounds", rounds, "seconds", seconds, "metrics", metrics, "runs", runs);
    if (root == NULL) {
        fputs("pimc-omp: out of memory\n", stderr);
        exit(PIMC_EXIT_FAILURE);
    }
    json_dumpf(root, stdout, JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY);
    fputc('\n', stdout);
    json_decref(root);
}

/* This build's runs as one CSV row (mode "against"): its legs' times over
 * all its runs, so that the figures can be kept with the others of the file. */
static int append_row(const struct ab *ab, struct pimc_csv *csv, char *why, size_t size)
{
    const struct build *b = &ab->build[THIS];
    struct pimc_outcome outcome = {
        .throws_requested = ab->options->throws,
        .throws = ab->options->throws,
        .hits = ab->hits,
        .hits_agree = true,
        .threads = b->team,
        .ranks = 1,
    };
    struct pimc_leg *legs[2] = {&outcome.parallel, &outcome.serial};
    for (int l = 0; l < 2; l++) {
        double v[PIMC_MAX_RUNS];
        const int n = b->runs < PIMC_MAX_RUNS ? b->runs : PIMC_MAX_RUNS;
        for (int i = 0; i < n; i++)
            v[i] = legs[l]->seconds[i] = l == 0 ? b->child[i].parallel_s : b->child[i].serial_s;
        legs[l]->runs = n;
        legs[l]->median_s = median(v, n);
        legs[l]->min_s = v[0];
        legs[l]->max_s = v[n - 1];
    }
    enum pimc_kernel kernel = PIMC_KERNEL_SCALAR;
    pimc_kernel_from_name(b->kernel, &kernel);
    struct pimc_record record = {
        .context = ab->context,
        .outcome = &outcome,
        .figures = pimc_figures_of(&outcome, PIMC_STRONG),
        .kernel = kernel,
        .kernel_asked = ab->options->kernel,
        .seed = ab->options->seed,
        .repeats = outcome.parallel.runs,
        .threads_source = ab->options->threads_source,
        .mode = "against",
        .run = "median",
        .rng = pimc_rng_name(ab->options->rng),
        .nodes = 1,
    };
    pimc_utc_timestamp(record.timestamp, sizeof record.timestamp);
    return pimc_csv_append(csv, &record, why, size);
}

static int write_junit(const struct ab *ab, const struct judged *j, double seconds, char *why, size_t size)
{
    struct pimc_junit_case cases[CASES];
    for (int m = 0; m < CASES; m++) {
        const struct pimc_metric *x = &j->metric[m == 0 ? HITS_CASE : m - 1];
        cases[m] = (struct pimc_junit_case){.name = x->name, .verdict = x->verdict, .detail = x->text};
    }
    char threads[16], throws[32], seed[32], tolerance[16], timestamp[32];
    snprintf(threads, sizeof threads, "%d", ab->options->threads);
    snprintf(throws, sizeof throws, "%llu", (unsigned long long)ab->options->throws);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)ab->options->seed);
    snprintf(tolerance, sizeof tolerance, "%g", ab->options->tolerance);
    pimc_utc_timestamp(timestamp, sizeof timestamp);
    const struct pimc_junit_property properties[] = {
        {"this_version", ab->context->version}, {"other", ab->build[OTHER].shown},
        {"other_version", ab->build[OTHER].version}, {"threads", threads}, {"throws", throws}, {"seed", seed},
        {"rng", pimc_rng_name(ab->options->rng)}, {"tolerance", tolerance}, {"cpu_model", ab->context->cpu_model},
    };
    const struct pimc_junit_suite suite = {
        .name = "pimc-omp --against",
        .classname = "pimc-omp.against",
        .timestamp = timestamp,
        .hostname = ab->context->host,
        .seconds = seconds,
        .cases = cases,
        .count = CASES,
        .properties = properties,
        .property_count = (int)(sizeof properties / sizeof *properties),
    };
    return pimc_junit_write(ab->options->junit_path, &suite, why, size);
}

/* ---- the comparison ---------------------------------------------------------- */

static void build_argv(struct ab *ab)
{
    const struct pimc_options *o = ab->options;
    int n = 0;
    ab->argv[n++] = "pimc-omp"; /* the same for both: its length moves the stack */
    ab->argv[n++] = "--json";
    ab->argv[n++] = "-t";
    snprintf(ab->arg_text[0], sizeof ab->arg_text[0], "%d", o->threads);
    ab->argv[n++] = ab->arg_text[0];
    ab->argv[n++] = "--seed";
    snprintf(ab->arg_text[1], sizeof ab->arg_text[1], "%llu", (unsigned long long)o->seed);
    ab->argv[n++] = ab->arg_text[1];
    if (o->rng != PIMC_RNG_PHILOX) { /* an OTHER from before --rng runs Philox without it */
        ab->argv[n++] = "--rng";
        ab->argv[n++] = (char *)pimc_rng_option(o->rng);
    }
    if (o->kernel_given && o->kernel != PIMC_KERNEL_AUTO) {
        ab->argv[n++] = "--kernel";
        ab->argv[n++] = (char *)pimc_kernel_name(o->kernel);
    }
    ab->argv[n++] = "--repeat";
    snprintf(ab->arg_text[2], sizeof ab->arg_text[2], "%d", o->repeats);
    ab->argv[n++] = ab->arg_text[2];
    if (o->warm_up_given) { /* only when asked: an OTHER from before --warm-up would refuse it */
        ab->argv[n++] = "--warm-up";
        snprintf(ab->arg_text[4], sizeof ab->arg_text[4], "%.9g", o->warm_up_s);
        ab->argv[n++] = ab->arg_text[4];
    }
    snprintf(ab->arg_text[3], sizeof ab->arg_text[3], "%llu", (unsigned long long)o->throws);
    ab->argv[n++] = ab->arg_text[3];
    ab->argv[n] = NULL;
}

/* The hits of every run must be the same; 0 or exit 3 with the message. */
static int check_hits(struct ab *ab, int which, const struct child *run)
{
    if (!ab->hits_set) {
        ab->hits = run->hits;
        ab->hits_set = true;
        return 0;
    }
    if (run->hits == ab->hits)
        return 0;
    const struct build *b = &ab->build[which], *o = &ab->build[1 - which];
    if (o->runs == 0) /* the differing ones are both this build's */
        fprintf(stderr, "pimc-omp: --against: verification FAILED: runs of %s (%s) gave %llu and %llu hits for the "
                        "same seed and throws: it miscounts\n", b->name, b->shown, (unsigned long long)ab->hits,
                (unsigned long long)run->hits);
    else
        fprintf(stderr, "pimc-omp: --against: verification FAILED: the builds' hits differ: %s %llu (%s), %s %llu "
                        "(%s), for seed %llu and %llu throws: they throw different streams, so their times do not "
                        "compare\n", ab->build[THIS].name, (unsigned long long)(which == THIS ? run->hits : ab->hits),
                ab->build[THIS].rng, ab->build[OTHER].name,
                (unsigned long long)(which == OTHER ? run->hits : ab->hits), ab->build[OTHER].rng,
                (unsigned long long)ab->options->seed, (unsigned long long)ab->options->throws);
    return PIMC_EXIT_VERIFICATION;
}

static int compare(struct ab *ab, struct pimc_csv *csv)
{
    const struct pimc_options *o = ab->options;
    const bool talk = !o->quiet && !o->json;
    const double start = pimc_now();
    int status = check_other(ab);
    if (status != 0)
        return status;
    build_argv(ab);
    if (talk)
        print_plan(ab);

    const int min_rounds = pimc_signed_rank_min_pairs(AB_CONFIDENCE);
    struct judged j;
    int rounds = 0;
    bool budget_out = false, decided = false;
    double longest_round = 0;
    while (rounds < AB_MAX_ROUNDS && !decided) {
        const double elapsed = pimc_now() - start;
        if (rounds > 0 && elapsed + longest_round > o->budget_s) {
            budget_out = true;
            break;
        }
        static const int order[2][4] = {{OTHER, THIS, THIS, OTHER}, {THIS, OTHER, OTHER, THIS}};
        const double round_start = pimc_now();
        for (int slot = 0; slot < 4; slot++) {
            const int which = order[rounds % 2][slot];
            struct build *b = &ab->build[which];
            struct child *run = &b->child[b->runs];
            if ((status = run_once(ab, which, run)) != 0 || (status = check_hits(ab, which, run)) != 0)
                return status;
            b->runs++;
        }
        longest_round = fmax(longest_round, pimc_now() - round_start);
        rounds++;
        if (rounds >= min_rounds) {
            call_metrics(ab, rounds, &j);
            bool all_pass = true, any_regression = false, any_short = false;
            for (int m = 0; m < TIMED; m++) {
                all_pass = all_pass && j.call[m] == PIMC_AB_PASS;
                any_regression = any_regression || j.call[m] == PIMC_AB_REGRESSION;
                any_short = any_short || j.too_short[m];
            }
            /* Legs too short to time do not get better with more rounds. */
            decided = all_pass || any_regression || any_short;
        }
    }
    const double seconds = pimc_now() - start;
    call_metrics(ab, rounds, &j);
    say_verdicts(ab, rounds, budget_out, &j);
    if (ab->build[THIS].team != o->threads || ab->build[OTHER].team != o->threads)
        fprintf(stderr, "pimc-omp: warning: the OpenMP runtime gave %d (this build) and %d (OTHER) threads of the "
                        "%d asked; the figures are per asked thread\n", ab->build[THIS].team, ab->build[OTHER].team,
                o->threads);

    const struct pimc_check_outcome outcome = pimc_check_outcome_of(j.metric, TIMED);
    status = outcome.exit_status;
    const char *named = *outcome.failing ? outcome.failing : outcome.unsure;
    if (status == PIMC_EXIT_OK && *outcome.unsure && o->bisect)
        status = PIMC_EXIT_BISECT_SKIP;
    if (talk)
        print_verdicts(stdout, ab, &j, outcome.final, named, rounds, seconds, status);
    else if (o->json)
        print_json(ab, &j, outcome.final, status, rounds, seconds);
    fflush(stdout);

    char why[1024];
    if (csv->fd >= 0 && append_row(ab, csv, why, sizeof why) != 0) {
        fprintf(stderr, "pimc-omp: %s\n", why);
        status = PIMC_EXIT_CANNOT_WRITE;
    }
    if (o->junit_path != NULL && write_junit(ab, &j, seconds, why, sizeof why) != 0) {
        fprintf(stderr, "pimc-omp: %s\n", why);
        status = PIMC_EXIT_CANNOT_WRITE;
    }
    return status;
}

int pimc_run_against(const struct pimc_options *options, const struct pimc_context *context, struct pimc_csv *csv,
                     const atomic_bool *stop, const volatile sig_atomic_t *stop_signal)
{
    if (pimc_oversubscribed(context, options->threads)) {
        fprintf(stderr, "pimc-omp: --against: %d threads on %d usable CPUs is oversubscribed: the times would not be "
                        "a speed result; give --threads %d or fewer\n", options->threads, context->usable_cpus,
                context->usable_cpus);
        return PIMC_EXIT_USAGE;
    }
    struct ab *ab = calloc(1, sizeof *ab);
    FILE *output = tmpfile(), *error = tmpfile();
    if (ab == NULL || output == NULL || error == NULL) {
        fprintf(stderr, "pimc-omp: --against: cannot make temporary files for the runs' output: %s\n",
                strerror(errno));
        free(ab);
        return PIMC_EXIT_FAILURE;
    }
    *ab = (struct ab){
        .options = options,
        .context = context,
        .stop = stop,
        .stop_signal = stop_signal,
        .output_fd = fileno(output),
        .error_fd = fileno(error),
    };
    ab->build[THIS].name = "this build";
    ab->build[THIS].path = "/proc/self/exe";
    ab->build[OTHER].name = "OTHER";
    ab->build[OTHER].path = options->against_path;
    snprintf(ab->build[OTHER].shown, sizeof ab->build[OTHER].shown, "%s", options->against_path);
    ssize_t n = readlink("/proc/self/exe", ab->build[THIS].shown, sizeof ab->build[THIS].shown - 1);
    ab->build[THIS].shown[n > 0 ? n : 0] = '\0';
    snprintf(ab->build[THIS].version, sizeof ab->build[THIS].version, "%s", context->version);

    struct sigaction deadline = {.sa_handler = on_deadline}, previous;
    sigemptyset(&deadline.sa_mask);
    sigaction(SIGALRM, &deadline, &previous);
    const int status = compare(ab, csv);
    sigaction(SIGALRM, &previous, NULL);
    fclose(output);
    fclose(error);
    free(ab);
    return status;
}
