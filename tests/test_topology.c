/*
 * The topology and the placement analysis on nodes this machine is not,
 * through hwloc's synthetic topologies (HWLOC_SYNTHETIC) and an XML one
 * (HWLOC_XMLFILE): one SMT core, a 2-package SMT node numbered two ways, a
 * 256-CPU node. Threads are given as the affinity masks OpenMP's binding would
 * give them (OMP_PLACES=threads or cores, OMP_PROC_BIND=close or spread), by
 * CPU number.
 */
#include "sysinfo.h"
#include "tap.h"
#include "topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct pimc_topology *on(const char *synthetic)
{
    unsetenv("HWLOC_XMLFILE");
    setenv("HWLOC_SYNTHETIC", synthetic, 1);
    pimc_topology_forget();
    return pimc_topology();
}

static bool counts(const struct pimc_topology *t, int cpus, int cores, int per_core, int packages, int nodes)
{
    return t->known && t->cpus == cpus && t->cores == cores && t->threads_per_core == per_core &&
           t->packages == packages && t->numa_nodes == nodes && t->emulated[0] != '\0';
}

/* Threads 0..n-1 with masks from a format of i ("%d" pins thread i to CPU i). */
static struct pimc_placement placed(int threads, const char *format, int scale)
{
    static char text[512][32];
    const char *lists[512];
    for (int i = 0; i < threads; i++) {
        snprintf(text[i], sizeof text[i], format, scale * i, scale * i + 1);
        lists[i] = text[i];
    }
    return pimc_placement_of_lists(threads, lists);
}

static bool is(struct pimc_placement p, int threads, int used, int free_cores, bool shared)
{
    return p.threads == threads && p.cores_used == used && p.cores_free == free_cores && p.smt_shared == shared;
}

static void one_smt_core(void)
{
    const struct pimc_topology *t = on("core:1 pu:2");
    char text[256];
    pimc_describe_topology(t, text, sizeof text);
    tap_ok(counts(t, 2, 1, 2, 1, 1) && strstr(text, "1 core x 2 hardware threads (2 CPUs)") != NULL &&
               strstr(text, "emulated: HWLOC_SYNTHETIC=core:1 pu:2") != NULL,
           "one SMT core: %s", text);
    const char *const siblings[] = {"0", "1"};
    tap_ok(is(pimc_placement_of_lists(2, siblings), 2, 1, 0, false),
           "2 threads on its 2 hardware threads: 1 core used, not flagged (no core is free)");
    tap_ok(pimc_usable_cores() == 1, "usable cores: 1 (pow2 sweeps stop there, then mark 2 hardware threads)");
}

static void two_package_node(void)
{
    /* hwloc's own numbering: a core's hardware threads are next to each other. */
    const struct pimc_topology *t = on("pack:2 numa:1 core:4 pu:2");
    char text[256];
    pimc_describe_topology(t, text, sizeof text);
    tap_ok(counts(t, 16, 8, 2, 2, 2), "2-package SMT node: %s", text);
    const char *const siblings[] = {"0", "1"}, *const apart[] = {"0", "2"}, *const loose[] = {"0-15", "0-15"};
    struct pimc_placement p = pimc_placement_of_lists(2, siblings);
    pimc_describe_placement(&p, text, sizeof text);
    tap_ok(is(p, 2, 1, 7, true) && strcmp(text, "SMT-SHARED: 2 threads on 1 core while 7 cores are free") == 0,
           "2 threads pinned to one core's siblings: flagged: %s", text);
    tap_ok(is(pimc_placement_of_lists(2, apart), 2, 2, 6, false), "2 threads on two cores: not flagged");
    tap_ok(is(pimc_placement_of_lists(2, loose), 2, 2, 6, false), "2 unbound threads: the OS spreads them, 2 cores");
    tap_ok(is(placed(8, "%d", 1), 8, 4, 4, true),
           "OMP_PLACES=threads OMP_PROC_BIND=close, 8 threads: 4 cores while 4 are free, flagged");
    tap_ok(is(placed(8, "%d-%d", 2), 8, 8, 0, false), "OMP_PLACES=cores, 8 threads: 8 cores, not flagged");
    tap_ok(is(placed(16, "%d", 1), 16, 8, 0, false),
           "16 threads on 16 hardware threads: 8 cores, all used: SMT, but not flagged");
    const char *const outside[] = {"100", "101"};
    tap_ok(is(pimc_placement_of_lists(2, outside), 2, 2, 6, false),
           "masks outside the node's CPUs count as unbound (may run anywhere on it)");

    /* Linux's numbering on x86: CPU i and i + 8 are siblings. */
    t = on("pack:2 numa:1 core:4 pu:2(indexes=0,8,1,9,2,10,3,11,4,12,5,13,6,14,7,15)");
    tap_ok(counts(t, 16, 8, 2, 2, 2) && is(pimc_placement_of_lists(2, siblings), 2, 2, 6, false) &&
               is(placed(8, "%d", 1), 8, 8, 0, false),
           "the same node numbered as Linux does: CPUs 0 and 1 are two cores, 8 threads on CPUs 0-7 not flagged");
    const char *const linux_siblings[] = {"0", "8"};
    tap_ok(is(pimc_placement_of_lists(2, linux_siblings), 2, 1, 7, true), "...and CPUs 0 and 8 share a core");
}

static void big_node(void)
{
    const struct pimc_topology *t = on("pack:2 numa:2 core:32 pu:2");
    char text[256];
    pimc_describe_topology(t, text, sizeof text);
    tap_ok(counts(t, 256, 128, 2, 2, 4) && strstr(text, "128 cores x 2 hardware threads (256 CPUs), 2 packages, "
                                                        "4 NUMA nodes") != NULL,
           "256-CPU node: %s", text);
    tap_ok(is(placed(128, "%d", 1), 128, 64, 64, true), "128 threads close on hardware threads: 64 cores, flagged");
    tap_ok(is(placed(128, "%d-%d", 2), 128, 128, 0, false), "128 threads one to a core: 128 cores");
    tap_ok(is(placed(192, "%d", 1), 192, 96, 32, true), "192 threads close on hardware threads: 96 cores, flagged");
    tap_ok(is(placed(256, "0-255", 0), 256, 128, 0, false), "256 unbound threads: every core, not flagged");
    tap_ok(pimc_usable_cores() == 128, "usable cores: 128");
}

static void from_xml(void)
{
    const char *fixture = getenv("TOPOLOGY_XML"); /* tests/fixtures/two-package-smt.xml, Linux's numbering */
    if (fixture == NULL) {
        tap_ok(true, "# SKIP TOPOLOGY_XML (the fixture) not set");
        return;
    }
    unsetenv("HWLOC_SYNTHETIC");
    setenv("HWLOC_XMLFILE", fixture, 1);
    pimc_topology_forget();
    const struct pimc_topology *t = pimc_topology();
    char text[256];
    pimc_describe_topology(t, text, sizeof text);
    const char *const apart[] = {"0", "1"}, *const siblings[] = {"3", "11"};
    tap_ok(counts(t, 16, 8, 2, 2, 2) && strstr(text, "emulated: HWLOC_XMLFILE=") != NULL &&
               is(pimc_placement_of_lists(2, apart), 2, 2, 6, false) &&
               is(pimc_placement_of_lists(2, siblings), 2, 1, 7, true),
           "an XML topology (HWLOC_XMLFILE: a 2-package SMT node, Linux's numbering): %s", text);
}

static void this_machine(void)
{
    unsetenv("HWLOC_SYNTHETIC");
    unsetenv("HWLOC_XMLFILE");
    pimc_topology_forget();
    const struct pimc_topology *t = pimc_topology();
    tap_ok(t->known && t->emulated[0] == '\0' && t->cpus >= 1 && t->cores >= 1 && t->cores <= t->cpus &&
               t->cpus <= pimc_usable_cpus(),
           "this machine: %d cores x %d hardware threads, %d CPUs of %d usable", t->cores, t->threads_per_core,
           t->cpus, pimc_usable_cpus());
    const int threads = pimc_usable_cpus() < 2 ? 1 : 2;
    const struct pimc_placement p = pimc_probe_placement(threads);
    tap_ok(p.threads == threads && p.cores_used >= 1 && p.cores_used <= threads,
           "a team of %d here is on %d core%s%s", threads, p.cores_used, p.cores_used == 1 ? "" : "s",
           p.smt_shared ? " (SMT-shared)" : "");
}

int main(void)
{
    if (!pimc_topology()->known) {
        puts("1..0 # SKIP built without hwloc");
        return 0;
    }
    one_smt_core();
    two_package_node();
    big_node();
    from_xml();
    this_machine();
    return tap_done();
}
