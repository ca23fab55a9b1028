/* The node's topology, from hwloc: the cores, hardware threads per core,
 * packages and NUMA nodes of the CPUs this process may use, and where a team
 * of OpenMP threads is placed on them. Context probing, like sysinfo.c: the
 * kernel knows nothing of it.
 *
 * hwloc reads HWLOC_SYNTHETIC (e.g. "pack:2 core:4 pu:2") or HWLOC_XMLFILE
 * from the environment in place of the machine: then the topology is that
 * node's ("emulated"), every CPU of it counts as usable, and the threads'
 * affinity masks are read by CPU number on it. That is how one small machine
 * tests what a big node would show. A build without hwloc (the aarch64 cross
 * build) knows no topology: counts are 0 and "known" is false. */
#ifndef PIMC_TOPOLOGY_H
#define PIMC_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

struct pimc_topology {
    bool known;           /* hwloc gave a topology */
    int cpus;             /* usable hardware threads (hwloc's PUs) */
    int cores;            /* cores with at least one usable hardware thread */
    int threads_per_core; /* the most usable hardware threads of one core */
    int packages;         /* packages (sockets) with a usable hardware thread; at least 1 */
    int numa_nodes;       /* NUMA nodes whose CPUs include a usable one; at least 1 */
    char emulated[160];   /* "" on this machine; else "HWLOC_SYNTHETIC=..." or "HWLOC_XMLFILE=..." */
};

/* Where a team's threads are, from each thread's affinity mask: pinned threads
 * (a mask within one core) on their cores, the others anywhere in their masks,
 * at most one to a core where there is room (as Linux places them). */
struct pimc_placement {
    int threads;      /* of the team; 0: not probed (or no topology) */
    int cores_used;   /* cores the threads are on */
    int cores_free;   /* usable cores no thread is on */
    bool smt_shared;  /* threads share cores (SMT siblings, or one hardware thread) while cores are free */
};

/* Probed once, then the same answer. */
const struct pimc_topology *pimc_topology(void);

/* The cores of the usable CPUs; without a topology, the usable CPUs. */
int pimc_usable_cores(void);

/* Starts a team of `threads` (a parallel region) and reads where its threads
 * may run. The same team size gives the same places under OMP_PROC_BIND. */
struct pimc_placement pimc_probe_placement(int threads);

/* The analysis of pimc_probe_placement for threads whose masks are given as
 * Linux CPU lists ("0", "2-3,8"), on the topology in use: for tests. */
struct pimc_placement pimc_placement_of_lists(int threads, const char *const *cpu_lists);

/* "4 cores x 2 hardware threads (8 CPUs), 2 packages, 2 NUMA nodes", and the
 * emulation if any; "unknown (built without hwloc)" without a topology. */
void pimc_describe_topology(const struct pimc_topology *topology, char *text, size_t size);

/* "SMT-SHARED: 2 threads on 1 core while 3 cores are free", or "" when not flagged. */
void pimc_describe_placement(const struct pimc_placement *placement, char *text, size_t size);

/* On stderr, when the placement is flagged: the warning, with what to do. */
void pimc_warn_about_placement(const struct pimc_placement *placement);

/* Drops the probed topology, so that the next call probes again (tests that
 * change HWLOC_SYNTHETIC between cases). */
void pimc_topology_forget(void);

#endif
