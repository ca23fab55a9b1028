/*
 * The report's host list (host_list.c), without MPI: names laid out as
 * MPI_Gather leaves them, one fixed-width record per rank. The expected lists
 * are written out by hand; a list too long for its buffer must end on a whole
 * entry and the summary, whatever the buffer's size.
 */
#include "host_list.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STRIDE 256 /* Open MPI's MPI_MAX_PROCESSOR_NAME */

/* Rank r on hosts[r], as records of STRIDE bytes. */
static char *records(const char *const *hosts, int ranks)
{
    char *names = calloc((size_t)ranks, STRIDE);
    for (int r = 0; r < ranks; r++)
        strcpy(names + (size_t)r * STRIDE, hosts[r]);
    return names;
}

static void expect(const char *what, const char *const *hosts, int ranks, size_t size, const char *list, int count)
{
    char *names = records(hosts, ranks);
    char buffer[1024];
    memset(buffer, 'X', sizeof buffer); /* past `size`, it must stay so */
    buffer[sizeof buffer - 1] = '\0';
    const int hosts_counted = pimc_host_list(names, STRIDE, ranks, buffer, size);
    const bool written = size == 0 ? buffer[0] == 'X' && *list == '\0'
                                   : memchr(buffer, '\0', size) != NULL && strcmp(buffer, list) == 0;
    tap_ok(hosts_counted == count && written && buffer[size] == 'X',
           "%s, in %zu bytes: \"%s\", %d host%s (got \"%.*s\", %d)", what, size, list, count, count == 1 ? "" : "s",
           (int)size, buffer, hosts_counted);
    free(names);
}

static void layouts(void)
{
    expect("one rank", (const char *[]){"n1"}, 1, 512, "n1 (rank 0)", 1);
    expect("one host", (const char *[]){"n1", "n1", "n1", "n1"}, 4, 512, "n1 (ranks 0-3)", 1);
    expect("consecutive ranks on a host", (const char *[]){"n1", "n1", "n2", "n2", "n2", "n3"}, 6, 512,
           "n1 (ranks 0-1), n2 (ranks 2-4), n3 (rank 5)", 3);
    expect("cyclic (srun -m cyclic)", (const char *[]){"n1", "n2", "n1", "n2"}, 4, 512,
           "n1 (rank 0), n2 (rank 1), n1 (rank 2), n2 (rank 3)", 2);
    expect("a name that is a prefix of another is another host", (const char *[]){"n1", "n10", "n1"}, 3, 512,
           "n1 (rank 0), n10 (rank 1), n1 (rank 2)", 2);
    expect("no ranks", (const char *[]){"n1"}, 0, 512, "", 0);
}

/* Records filled to their end have no NUL: the stride ends the name. */
static void names_without_nul(void)
{
    char list[64];
    const int hosts = pimc_host_list("n1n2n1", 2, 3, list, sizeof list);
    tap_ok(hosts == 2 && strcmp(list, "n1 (rank 0), n2 (rank 1), n1 (rank 2)") == 0,
           "names that fill their 2-byte records: \"%s\", %d hosts", list, hosts);
}

static const char *const ten_hosts[] = {"node01", "node02", "node03", "node04", "node05",
                                        "node06", "node07", "node08", "node09", "node10"};

static void overflow(void)
{
    /* 15 + 9 * 17 = 168 bytes and the NUL: the whole list, with nothing to spare. */
    expect("ten hosts", ten_hosts, 10, 169,
           "node01 (rank 0), node02 (rank 1), node03 (rank 2), node04 (rank 3), node05 (rank 4), node06 (rank 5), "
           "node07 (rank 6), node08 (rank 7), node09 (rank 8), node10 (rank 9)",
           10);
    /* One byte short: eight entries (134 bytes), ", " and the summary (31) and the NUL. */
    expect("ten hosts", ten_hosts, 10, 168,
           "node01 (rank 0), node02 (rank 1), node03 (rank 2), node04 (rank 3), node05 (rank 4), node06 (rank 5), "
           "node07 (rank 6), node08 (rank 7), ... (10 hosts, 10 ranks in all)",
           10);
    /* 15 + 2 + 31 bytes: the first entry, then the summary; the second entry would leave it no room. */
    expect("ten hosts", ten_hosts, 10, 64, "node01 (rank 0), ... (10 hosts, 10 ranks in all)", 10);
    expect("ten hosts", ten_hosts, 10, 100,
           "node01 (rank 0), node02 (rank 1), node03 (rank 2), node04 (rank 3), ... (10 hosts, 10 ranks in all)", 10);
    expect("room for the summary only", ten_hosts, 10, 40, "... (10 hosts, 10 ranks in all)", 10);
    expect("one host's entry too long for its buffer",
           (const char *[]){"averyveryverylonghostname", "averyveryverylonghostname", "averyveryverylonghostname",
                            "averyveryverylonghostname"},
           4, 37, "... (1 host, 4 ranks in all)", 1);
    expect("no room even for the summary", ten_hosts, 10, 31, "", 10);
    expect("no buffer at all", ten_hosts, 10, 0, "", 10);
}

/* For every buffer size: a complete list, or as many whole entries of it as
 * leave room for the summary and the summary, or "" -- within the buffer and
 * NUL-terminated, never a cut name. */
static void every_size(void)
{
    char *names = records(ten_hosts, 10);
    char full[512], list[512];
    pimc_host_list(names, STRIDE, 10, full, sizeof full);
    const char *summary = "... (10 hosts, 10 ranks in all)";
    int bad = 0;
    size_t first_bad = 0;
    for (size_t size = 0; size <= strlen(full) + 1; size++) {
        memset(list, 'X', sizeof list);
        pimc_host_list(names, STRIDE, 10, list, size);
        bool good = list[size] == 'X' && (size == 0 || memchr(list, '\0', size) != NULL);
        if (good && size > 0) {
            const size_t n = strlen(list);
            const char *tail = n >= strlen(summary) ? list + n - strlen(summary) : NULL;
            const size_t kept = tail != NULL ? (size_t)(tail - list) : 0; /* entries before the summary, ", " too */
            if (size > strlen(full))
                good = strcmp(list, full) == 0;
            else if (n == 0)
                good = size <= strlen(summary);
            else
                good = tail != NULL && strcmp(tail, summary) == 0 &&
                       (kept == 0 || (kept >= 2 && memcmp(list, full, kept) == 0 && full[kept - 2] == ',' &&
                                      full[kept - 1] == ' ' && full[kept - 3] == ')'));
            if (good && size <= strlen(full) && n > 0) { /* and as many entries as fit: the next one did not */
                const char *next = strstr(full + kept, ", ");
                const size_t next_end = next != NULL ? (size_t)(next - full) : strlen(full);
                good = next_end + strlen(", ") + strlen(summary) >= size;
            }
        }
        if (!good && bad++ == 0)
            first_bad = size;
    }
    tap_ok(bad == 0, "buffers of 0 to %zu bytes: whole entries and the summary, or the whole list (%d bad, first %zu)",
           strlen(full) + 1, bad, first_bad);
    free(names);
}

/* The list starts with `start` and ends with `end`, and fits in 512 bytes. */
static bool whole_entries_then(const char *list, const char *start, const char *end)
{
    const size_t n = strlen(list);
    return n < 512 && strncmp(list, start, strlen(start)) == 0 && n >= strlen(end) &&
           strcmp(list + n - strlen(end), end) == 0;
}

static void ten_thousand_ranks(void)
{
    enum { RANKS = 10000, HOSTS = 1000 };
    char *names = calloc(RANKS, STRIDE);
    char *cyclic = calloc(RANKS, STRIDE);
    for (int r = 0; r < RANKS; r++) {
        snprintf(names + (size_t)r * STRIDE, STRIDE, "node%04d", r / (RANKS / HOSTS));
        snprintf(cyclic + (size_t)r * STRIDE, STRIDE, "node%04d", r % HOSTS);
    }
    char list[512];
    const clock_t start = clock();
    const int blocks = pimc_host_list(names, STRIDE, RANKS, list, sizeof list);
    const bool blocks_listed = whole_entries_then(list, "node0000 (ranks 0-9), node0001 (ranks 10-19), ",
                                                  "), ... (1000 hosts, 10000 ranks in all)");
    const int cycles = pimc_host_list(cyclic, STRIDE, RANKS, list, sizeof list);
    const double seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
    const bool cycles_listed = whole_entries_then(list, "node0000 (rank 0), node0001 (rank 1), ",
                                                  "), ... (1000 hosts, 10000 ranks in all)");
    tap_ok(blocks == HOSTS && blocks_listed, "10,000 ranks, 10 a host: %d hosts, the list cut after a whole entry",
           blocks);
    tap_ok(cycles == HOSTS && cycles_listed,
           "10,000 ranks cyclic over 1,000 hosts: %d hosts, the list cut after a whole entry", cycles);
    /* Counting by comparing each rank with those before it took 0.27 s for the two, at -O2. */
    tap_ok(seconds < 0.1, "both lists in %.3f s of CPU (under 0.1 s)", seconds);
    free(names);
    free(cyclic);
}

int main(void)
{
    layouts();
    names_without_nul();
    overflow();
    every_size();
    ten_thousand_ranks();
    return tap_done();
}
