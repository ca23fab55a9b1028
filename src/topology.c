#include "topology.h"

#include "sysinfo.h"

#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if PIMC_HAVE_HWLOC
#include <hwloc.h>

/* One topology per process, loaded at the first question: loading reads all
 * of /sys's CPU tree, a few milliseconds on a big node. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static hwloc_topology_t loaded;
static hwloc_bitmap_t usable; /* the usable PUs, by OS number */
static struct pimc_topology summary;
static bool probed;

static bool emulated(hwloc_topology_t topology)
{
    return !hwloc_topology_is_thissystem(topology);
}

/* The mask of a thread (0: the calling one) as a bitmap of OS CPU numbers, with
 * a cpu_set_t as large as the kernel needs: no fixed 1024-CPU limit. */
static bool thread_mask(hwloc_bitmap_t mask)
{
    for (int cpus = 1024; cpus <= 1 << 22; cpus *= 2) {
        cpu_set_t *set = CPU_ALLOC((size_t)cpus);
        const size_t size = CPU_ALLOC_SIZE((size_t)cpus);
        if (set == NULL)
            return false;
        if (sched_getaffinity(0, size, set) == 0) {
            hwloc_bitmap_zero(mask);
            for (int cpu = 0; cpu < cpus; cpu++)
                if (CPU_ISSET_S((size_t)cpu, size, set))
                    hwloc_bitmap_set(mask, (unsigned)cpu);
            CPU_FREE(set);
            return true;
        }
        CPU_FREE(set);
    }
    return false;
}

/* The CPUs this process may use: its mask, and the OpenMP places' CPUs, since
 * with OMP_PROC_BIND the runtime binds this thread to its first place before
 * main(). On an emulated node, all of the node's. */
static void find_usable(hwloc_topology_t topology, hwloc_bitmap_t set)
{
    hwloc_bitmap_copy(set, hwloc_topology_get_allowed_cpuset(topology));
    if (emulated(topology))
        return;
    hwloc_bitmap_t mine = hwloc_bitmap_alloc();
    if (mine == NULL)
        return;
    if (thread_mask(mine)) {
        const int places = omp_get_num_places();
        for (int p = 0; p < places; p++) {
            const int count = omp_get_place_num_procs(p);
            int *ids = count > 0 ? malloc((size_t)count * sizeof *ids) : NULL;
            if (ids == NULL)
                continue;
            omp_get_place_proc_ids(p, ids);
            for (int i = 0; i < count; i++)
                hwloc_bitmap_set(mine, (unsigned)ids[i]);
            free(ids);
        }
        hwloc_bitmap_and(set, set, mine);
    }
    hwloc_bitmap_free(mine);
}

/* Objects of a type whose CPUs meet the set. */
static int count_meeting(hwloc_topology_t topology, hwloc_obj_type_t type, hwloc_const_bitmap_t set)
{
    int count = 0;
    for (hwloc_obj_t o = NULL; (o = hwloc_get_next_obj_by_type(topology, type, o)) != NULL;)
        count += o->cpuset != NULL && hwloc_bitmap_intersects(o->cpuset, set);
    return count;
}

/* The cores; where hwloc shows none (an OS that reports no cores), each PU is one. */
static hwloc_obj_type_t core_type(hwloc_topology_t topology)
{
    return hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
}

static void summarize(hwloc_topology_t topology, hwloc_const_bitmap_t set, struct pimc_topology *t)
{
    memset(t, 0, sizeof *t);
    t->known = true;
    t->cpus = hwloc_bitmap_weight(set);
    const hwloc_obj_type_t core = core_type(topology);
    hwloc_bitmap_t mine = hwloc_bitmap_alloc();
    for (hwloc_obj_t o = NULL; mine != NULL && (o = hwloc_get_next_obj_by_type(topology, core, o)) != NULL;) {
        hwloc_bitmap_and(mine, o->cpuset, set);
        const int pus = hwloc_bitmap_weight(mine);
        t->cores += pus > 0;
        t->threads_per_core = pus > t->threads_per_core ? pus : t->threads_per_core;
    }
    hwloc_bitmap_free(mine);
    const int packages = count_meeting(topology, HWLOC_OBJ_PACKAGE, set);
    const int nodes = count_meeting(topology, HWLOC_OBJ_NUMANODE, set);
    t->packages = packages > 0 ? packages : 1;
    t->numa_nodes = nodes > 0 ? nodes : 1;
    const char *synthetic = getenv("HWLOC_SYNTHETIC"), *xml = getenv("HWLOC_XMLFILE");
    if (emulated(topology))
        snprintf(t->emulated, sizeof t->emulated, "%s=%s", synthetic != NULL && *synthetic ? "HWLOC_SYNTHETIC"
                                                           : "HWLOC_XMLFILE",
                 synthetic != NULL && *synthetic ? synthetic : xml != NULL ? xml : "?");
}

/* With the lock held. */
static void probe(void)
{
    if (probed)
        return;
    probed = true;
    memset(&summary, 0, sizeof summary);
    if (hwloc_topology_init(&loaded) != 0)
        return;
    if (hwloc_topology_load(loaded) != 0 || (usable = hwloc_bitmap_alloc()) == NULL) {
        hwloc_topology_destroy(loaded);
        loaded = NULL;
        return;
    }
    find_usable(loaded, usable);
    summarize(loaded, usable, &summary);
}

const struct pimc_topology *pimc_topology(void)
{
    pthread_mutex_lock(&lock);
    probe();
    pthread_mutex_unlock(&lock);
    return &summary;
}

void pimc_topology_forget(void)
{
    pthread_mutex_lock(&lock);
    if (loaded != NULL)
        hwloc_topology_destroy(loaded);
    hwloc_bitmap_free(usable);
    loaded = NULL;
    usable = NULL;
    probed = false;
    pthread_mutex_unlock(&lock);
}

/* The analysis: masks[i] is thread i's, by OS CPU number. */
static struct pimc_placement place(int threads, hwloc_bitmap_t *masks)
{
    struct pimc_placement p = {0};
    if (loaded == NULL || threads < 1)
        return p;
    const hwloc_obj_type_t core = core_type(loaded);
    const int cores = hwloc_get_nbobjs_by_type(loaded, core);
    char *taken = calloc((size_t)cores + 1, 1); /* by a pinned thread, by core index */
    hwloc_bitmap_t reach = hwloc_bitmap_alloc(), mask = hwloc_bitmap_alloc();
    if (taken == NULL || reach == NULL || mask == NULL)
        goto out;
    int unpinned = 0, used = 0;
    for (int i = 0; i < threads; i++) {
        hwloc_bitmap_and(mask, masks[i], usable);
        if (hwloc_bitmap_iszero(mask)) /* a mask outside the usable CPUs: it may run anywhere of them */
            hwloc_bitmap_copy(mask, usable);
        hwloc_obj_t home = hwloc_get_obj_covering_cpuset(loaded, mask);
        while (home != NULL && home->type != core && home->depth > hwloc_get_type_depth(loaded, core))
            home = home->parent;
        if (home != NULL && home->type == core) { /* pinned to one core (or a PU of it) */
            used += !taken[home->logical_index];
            taken[home->logical_index] = 1;
        } else {
            hwloc_bitmap_or(reach, reach, mask);
            unpinned++;
        }
    }
    /* The unpinned threads: one to a core they may reach and no pinned thread is on. */
    int room = 0;
    for (hwloc_obj_t o = NULL; (o = hwloc_get_next_obj_by_type(loaded, core, o)) != NULL;)
        room += !taken[o->logical_index] && hwloc_bitmap_intersects(o->cpuset, reach);
    used += unpinned < room ? unpinned : room;
    p.threads = threads;
    p.cores_used = used;
    p.cores_free = summary.cores - used > 0 ? summary.cores - used : 0;
    p.smt_shared = used < threads && p.cores_free > 0;
out:
    free(taken);
    hwloc_bitmap_free(reach);
    hwloc_bitmap_free(mask);
    return p;
}

static hwloc_bitmap_t *alloc_masks(int threads)
{
    hwloc_bitmap_t *masks = calloc((size_t)threads, sizeof *masks);
    for (int i = 0; masks != NULL && i < threads; i++)
        if ((masks[i] = hwloc_bitmap_alloc()) == NULL) {
            while (i-- > 0)
                hwloc_bitmap_free(masks[i]);
            free(masks);
            return NULL;
        }
    return masks;
}

static void free_masks(hwloc_bitmap_t *masks, int threads)
{
    for (int i = 0; masks != NULL && i < threads; i++)
        hwloc_bitmap_free(masks[i]);
    free(masks);
}

struct pimc_placement pimc_probe_placement(int threads)
{
    struct pimc_placement p = {0};
    pimc_topology();
    hwloc_bitmap_t *masks = threads > 0 ? alloc_masks(threads) : NULL;
    if (masks == NULL)
        return p;
    int team = threads;
    bool read = true;
#pragma omp parallel num_threads(threads) reduction(&& : read)
    {
        const int i = omp_get_thread_num();
#pragma omp single
        team = omp_get_num_threads();
        read = thread_mask(masks[i]);
    }
    pthread_mutex_lock(&lock);
    if (read)
        p = place(team, masks);
    pthread_mutex_unlock(&lock);
    free_masks(masks, threads);
    return p;
}

struct pimc_placement pimc_placement_of_lists(int threads, const char *const *cpu_lists)
{
    struct pimc_placement p = {0};
    pimc_topology();
    hwloc_bitmap_t *masks = threads > 0 ? alloc_masks(threads) : NULL;
    bool parsed = masks != NULL;
    for (int i = 0; parsed && i < threads; i++)
        parsed = hwloc_bitmap_list_sscanf(masks[i], cpu_lists[i]) == 0;
    pthread_mutex_lock(&lock);
    if (parsed)
        p = place(threads, masks);
    pthread_mutex_unlock(&lock);
    free_masks(masks, threads);
    return p;
}

#else /* no hwloc: no topology */

static const struct pimc_topology unknown;

const struct pimc_topology *pimc_topology(void)
{
    return &unknown;
}

void pimc_topology_forget(void)
{
}

struct pimc_placement pimc_probe_placement(int threads)
{
    (void)threads;
    return (struct pimc_placement){0};
}

struct pimc_placement pimc_placement_of_lists(int threads, const char *const *cpu_lists)
{
    (void)threads;
    (void)cpu_lists;
    return (struct pimc_placement){0};
}

#endif

int pimc_usable_cores(void)
{
    const struct pimc_topology *t = pimc_topology();
    return t->known && t->cores > 0 ? t->cores : pimc_usable_cpus();
}

static const char *plural(int n, const char *one, const char *more)
{
    return n == 1 ? one : more;
}

void pimc_describe_topology(const struct pimc_topology *t, char *text, size_t size)
{
    if (!t->known) {
        snprintf(text, size, "unknown (%s)", PIMC_HAVE_HWLOC ? "hwloc found none" : "built without hwloc");
        return;
    }
    int used = snprintf(text, size, "%d core%s x %d hardware thread%s (%d CPU%s), %d package%s, %d NUMA node%s",
                        t->cores, plural(t->cores, "", "s"), t->threads_per_core,
                        plural(t->threads_per_core, "", "s"), t->cpus, plural(t->cpus, "", "s"), t->packages,
                        plural(t->packages, "", "s"), t->numa_nodes, plural(t->numa_nodes, "", "s"));
    if (t->emulated[0] && used > 0 && (size_t)used < size)
        snprintf(text + used, size - (size_t)used, "; emulated: %s", t->emulated);
}

void pimc_describe_placement(const struct pimc_placement *p, char *text, size_t size)
{
    if (!p->smt_shared) {
        if (size > 0)
            text[0] = '\0';
        return;
    }
    snprintf(text, size, "SMT-SHARED: %d threads on %d core%s while %d core%s free", p->threads, p->cores_used,
             plural(p->cores_used, "", "s"), p->cores_free, plural(p->cores_free, " is", "s are"));
}

void pimc_warn_about_placement(const struct pimc_placement *p)
{
    char text[160];
    pimc_describe_placement(p, text, sizeof text);
    if (text[0])
        fprintf(stderr, "pimc-omp: warning: %s: threads on SMT siblings (or one hardware thread) of a core, and the "
                        "row is marked smt_shared; OMP_PLACES=cores gives each thread its own core\n",
                text);
}
