#include "sysinfo.h"

#include "kernel.h"
#include "version.h"

#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *env_or_empty(const char *name)
{
    const char *value = getenv(name);
    return value != NULL ? value : "";
}

/* The affinity mask as the process started with it: with OMP_PROC_BIND set,
 * the OpenMP runtime pins this thread to one place before main() runs, so
 * sched_getaffinity() alone would see one CPU; omp_get_num_procs() still counts
 * the mask the runtime found at start-up. The mask is as large as the kernel
 * needs (a fixed cpu_set_t stops at 1024 CPUs, and sched_getaffinity fails
 * with EINVAL on a kernel built for more). */
int pimc_usable_cpus(void)
{
    int cpus = omp_get_num_procs();
    for (size_t size = 1024; size <= (size_t)1 << 22; size *= 2) {
        cpu_set_t *set = CPU_ALLOC(size);
        if (set == NULL)
            break;
        const int got = sched_getaffinity(0, CPU_ALLOC_SIZE(size), set) == 0 ? CPU_COUNT_S(CPU_ALLOC_SIZE(size), set)
                                                                            : -1;
        CPU_FREE(set);
        if (got >= 0) {
            cpus = got > cpus ? got : cpus;
            break;
        }
    }
    return cpus > 0 ? cpus : 1;
}

/* x86 names the CPU in "model name"; arm64 kernels often give no name at all. */
static void probe_cpu_model(char *model, size_t size)
{
    snprintf(model, size, "unknown");
    FILE *cpuinfo = fopen("/proc/cpuinfo", "r");
    if (cpuinfo == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, cpuinfo) != NULL) {
        if (strncmp(line, "model name", 10) != 0 && strncmp(line, "Model", 5) != 0)
            continue;
        const char *value = strchr(line, ':');
        if (value == NULL)
            continue;
        value += strspn(value + 1, " \t") + 1;
        snprintf(model, size, "%.*s", (int)strcspn(value, "\n"), value);
        break;
    }
    fclose(cpuinfo);
}

/* The first processor's "key : value" for KEY exactly ("model" is not "model name"); "" when absent. */
static void cpuinfo_value(const char *key, char *value, size_t size)
{
    value[0] = '\0';
    FILE *cpuinfo = fopen("/proc/cpuinfo", "r");
    if (cpuinfo == NULL)
        return;
    char line[512];
    const size_t key_length = strlen(key);
    while (fgets(line, sizeof line, cpuinfo) != NULL && line[0] != '\n') {
        if (strncmp(line, key, key_length) != 0 || strspn(line + key_length, " \t") + key_length != strcspn(line, ":"))
            continue;
        const char *v = strchr(line, ':') + 1;
        v += strspn(v, " \t");
        snprintf(value, size, "%.*s", (int)strcspn(v, "\n"), v);
        break;
    }
    fclose(cpuinfo);
}

/* Cloud machines often hide the model behind a generic name ("AMD EPYC" is a
 * Zen 3 and a Zen 4, with and without AVX-512): the processor's signature
 * tells them apart. x86: family, model, stepping; Arm: the MIDR fields. */
static void probe_cpu_signature(char *signature, size_t size)
{
    char a[32], b[32], c[32], d[32];
    cpuinfo_value("cpu family", a, sizeof a);
    cpuinfo_value("model", b, sizeof b);
    cpuinfo_value("stepping", c, sizeof c);
    if (a[0] && b[0]) {
        snprintf(signature, size, "family %s model %s stepping %s", a, b, c[0] ? c : "?");
        return;
    }
    cpuinfo_value("CPU implementer", a, sizeof a);
    cpuinfo_value("CPU part", b, sizeof b);
    cpuinfo_value("CPU variant", c, sizeof c);
    cpuinfo_value("CPU revision", d, sizeof d);
    if (a[0] && b[0])
        snprintf(signature, size, "implementer %s part %s variant %s revision %s", a, b, c[0] ? c : "?",
                 d[0] ? d : "?");
    else
        signature[0] = '\0';
}

void pimc_probe_context(struct pimc_context *context)
{
    if (gethostname(context->host, sizeof context->host) != 0)
        snprintf(context->host, sizeof context->host, "unknown");
    context->host[sizeof context->host - 1] = '\0';
    probe_cpu_model(context->cpu_model, sizeof context->cpu_model);
    probe_cpu_signature(context->cpu_signature, sizeof context->cpu_signature);
#if defined(__clang__)
    snprintf(context->compiler, sizeof context->compiler, "clang %d.%d.%d", __clang_major__, __clang_minor__,
             __clang_patchlevel__);
#elif defined(__GNUC__)
    snprintf(context->compiler, sizeof context->compiler, "gcc %d.%d.%d", __GNUC__, __GNUC_MINOR__,
             __GNUC_PATCHLEVEL__);
#else
    snprintf(context->compiler, sizeof context->compiler, "unknown");
#endif
    snprintf(context->openmp, sizeof context->openmp, "%s %s", pimc_openmp_runtime(), pimc_openmp_version());
    context->omp_proc_bind = env_or_empty("OMP_PROC_BIND");
    context->omp_places = env_or_empty("OMP_PLACES");
    context->omp_schedule = env_or_empty("OMP_SCHEDULE");
    context->slurm_job_id = env_or_empty("SLURM_JOB_ID");
    context->version = PIMC_VERSION;
    context->usable_cpus = pimc_usable_cpus();
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    context->online_cpus = online > 0 ? (int)online : context->usable_cpus;
    context->topology = *pimc_topology();
    context->ranks_on_host = 1;
    context->hosts = context->host;
    context->nodes = 1;
    context->mpi_library = "";
}

bool pimc_oversubscribed(const struct pimc_context *context, int threads_per_rank)
{
    return threads_per_rank > context->usable_cpus ||
           (long)threads_per_rank * context->ranks_on_host > context->online_cpus;
}
