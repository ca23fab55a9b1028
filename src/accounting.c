#include "accounting.h"

#include <dirent.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static bool read_schedstat(const char *path, struct pimc_task_account *task)
{
    unsigned long long run_ns = 0, wait_ns = 0;
    FILE *f = fopen(path, "r");
    bool ok = f != NULL && fscanf(f, "%llu %llu", &run_ns, &wait_ns) == 2;
    if (f != NULL)
        fclose(f);
    task->run = (double)run_ns * 1e-9;
    task->wait = (double)wait_ns * 1e-9;
    return ok;
}

/* This thread's mask in a set as large as the kernel needs (a plain cpu_set_t
 * holds 1024 CPUs, and the call fails on a kernel built for more): NULL on failure. */
static cpu_set_t *own_mask(size_t *cpus)
{
    for (*cpus = 1024; *cpus <= (size_t)1 << 22; *cpus *= 2) {
        cpu_set_t *mask = CPU_ALLOC(*cpus);
        if (mask == NULL || sched_getaffinity(0, CPU_ALLOC_SIZE(*cpus), mask) == 0)
            return mask;
        CPU_FREE(mask);
    }
    return NULL;
}

static double steal_seconds(void)
{
    size_t cpus;
    cpu_set_t *mask = own_mask(&cpus);
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL || mask == NULL) {
        if (f != NULL)
            fclose(f);
        if (mask != NULL)
            CPU_FREE(mask);
        return NAN;
    }
    char line[512];
    double ticks = 0;
    bool any = false;
    while (fgets(line, sizeof line, f) != NULL) {
        int cpu;
        unsigned long long v[8];
        if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7]) == 9 && cpu >= 0 && (size_t)cpu < cpus &&
            CPU_ISSET_S((size_t)cpu, CPU_ALLOC_SIZE(cpus), mask)) {
            ticks += (double)v[7];
            any = true;
        }
    }
    fclose(f);
    CPU_FREE(mask);
    return any ? ticks / (double)sysconf(_SC_CLK_TCK) : NAN;
}

void pimc_read_accounts(bool all_threads, struct pimc_accounts *a)
{
    a->tasks = 0;
    a->steal = steal_seconds();
    if (!all_threads) {
        a->task[0].tid = 0;
        a->tasks = read_schedstat("/proc/thread-self/schedstat", &a->task[0]);
        return;
    }
    DIR *tasks = opendir("/proc/self/task");
    for (struct dirent *e; tasks != NULL && a->tasks < PIMC_MAX_TASKS && (e = readdir(tasks)) != NULL;) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%.20s/schedstat", e->d_name);
        struct pimc_task_account *t = &a->task[a->tasks];
        t->tid = atol(e->d_name);
        if (t->tid > 0 && read_schedstat(path, t)) /* or the thread just ended */
            a->tasks++;
    }
    if (tasks != NULL)
        closedir(tasks);
}

/* A thread's run and wait between two readings (a new thread's from zero). */
static struct pimc_task_account task_delta(const struct pimc_accounts *before, const struct pimc_task_account *after)
{
    struct pimc_task_account d = *after;
    for (int i = 0; i < before->tasks; i++)
        if (before->task[i].tid == after->tid) {
            d.run = after->run > before->task[i].run ? after->run - before->task[i].run : 0.0;
            d.wait = after->wait > before->task[i].wait ? after->wait - before->task[i].wait : 0.0;
        }
    return d;
}

/* The wait of the threads that did the work, each at most the window: the
 * kernel credits a wait when the thread gets its CPU, so a worker that spun
 * idle, runnable, from before the window can bring a second of wait into it;
 * it delayed no throw. A thread took part when it ran at least a quarter as
 * long as the busiest one (the dynamic schedule evens out the ones that do). */
static double working_wait(const struct pimc_accounts *before, const struct pimc_accounts *after, double window)
{
    double busiest = 0, wait = 0;
    for (int i = 0; i < after->tasks; i++) {
        const double run = task_delta(before, &after->task[i]).run;
        busiest = run > busiest ? run : busiest;
    }
    for (int i = 0; i < after->tasks; i++) {
        const struct pimc_task_account d = task_delta(before, &after->task[i]);
        if (d.run >= 0.25 * busiest)
            wait += d.wait < window ? d.wait : window;
    }
    return wait;
}

double pimc_time_alone(const struct pimc_accounts *before, const struct pimc_accounts *after, bool parallel,
                       double t, double bracket, int team, int usable_cpus, double *stolen_share)
{
    const double steal = isfinite(before->steal) && isfinite(after->steal) ? after->steal - before->steal : 0.0;
    *stolen_share = steal > 0 && usable_cpus > 0 && bracket > 0 ? steal / (usable_cpus * bracket) : 0.0;
    double alone = t;
    const bool accounted = before->tasks > 0 && after->tasks > 0;
    if (accounted && !parallel) {
        /* One thread: alone, it would have taken its time on a CPU, which
         * leaves out its wait and its steal. But not less than the time less
         * its wait and all our CPUs' steal: that would excuse sleeping too. */
        const struct pimc_task_account d = task_delta(before, &after->task[0]);
        const double awake = t - d.wait - steal;
        alone = d.run > awake ? d.run : awake;
    } else if (accounted) {
        /* Less the working threads' wait, spread over the team. Never the time
         * a thread slept: a team left idle is the build's own doing. The
         * accounts span the whole call, the time only the timed run inside it,
         * so a wait that may have fallen outside it (a worker woken late
         * before the clock started) is not discounted. Steal is not
         * discounted: /proc/stat counts it per CPU, in ticks, not per thread. */
        const double lost = working_wait(before, after, bracket) / (team > 0 ? team : 1);
        const double untimed = bracket > t ? bracket - t : 0.0;
        alone = t - (lost > untimed ? lost - untimed : 0.0);
    }
    if (!(alone > 0.01 * t && alone <= t)) /* the accounts disagree with the clock past reason */
        alone = alone > t ? t : 0.01 * t;
    return alone;
}
