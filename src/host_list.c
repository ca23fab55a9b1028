#include "host_list.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct name {
    const char *text;
    size_t length; /* a record filled to its end has no NUL */
};

static struct name name_of(const char *names, size_t stride, int rank)
{
    const char *text = names + (size_t)rank * stride;
    return (struct name){text, strnlen(text, stride)};
}

static bool same(struct name a, struct name b)
{
    return a.length == b.length && memcmp(a.text, b.text, a.length) == 0;
}

static int compare_names(const void *a, const void *b)
{
    const struct name *x = a, *y = b;
    int order = memcmp(x->text, y->text, x->length < y->length ? x->length : y->length);
    return order != 0 ? order : (x->length > y->length) - (x->length < y->length);
}

/* Sorted, equal names sit together: n log n comparisons in all, where
 * comparing each rank with every one before it makes n^2/2 (5e7 at 10,000 ranks). */
static int distinct_hosts(const char *names, size_t stride, int ranks)
{
    struct name *sorted = malloc((size_t)ranks * sizeof *sorted);
    if (sorted == NULL)
        return -1;
    for (int r = 0; r < ranks; r++)
        sorted[r] = name_of(names, stride, r);
    qsort(sorted, (size_t)ranks, sizeof *sorted, compare_names);
    int hosts = 0;
    for (int r = 0; r < ranks; r++)
        hosts += r == 0 || !same(sorted[r - 1], sorted[r]);
    free(sorted);
    return hosts;
}

/* The last rank of the run of consecutive ranks on `first`'s host. */
static int run_end(const char *names, size_t stride, int ranks, int first)
{
    const struct name host = name_of(names, stride, first);
    int end = first;
    while (end + 1 < ranks && same(name_of(names, stride, end + 1), host))
        end++;
    return end;
}

/* One entry, ", " before all but the first, into out[size] (snprintf's
 * rules: its length is returned whether or not it fitted). */
static size_t entry(char *out, size_t size, bool first_entry, struct name host, int first, int end)
{
    int length = end > first ? snprintf(out, size, "%s%.*s (ranks %d-%d)", first_entry ? "" : ", ",
                                        (int)host.length, host.text, first, end)
                             : snprintf(out, size, "%s%.*s (rank %d)", first_entry ? "" : ", ", (int)host.length,
                                        host.text, first);
    return length > 0 ? (size_t)length : 0;
}

int pimc_host_list(const char *names, size_t stride, int ranks, char *list, size_t size)
{
    if (size > 0)
        list[0] = '\0';
    if (ranks <= 0)
        return 0;
    const int hosts = distinct_hosts(names, stride, ranks);
    if (hosts < 0)
        return -1;

    /* The whole list's length first: only a list that does not fit gives up room to the summary. */
    size_t whole = 0;
    for (int r = 0, end; r < ranks && whole < size; r = end + 1) {
        end = run_end(names, stride, ranks, r);
        whole += entry(NULL, 0, r == 0, name_of(names, stride, r), r, end);
    }
    const bool fits = whole < size;

    char summary[96];
    snprintf(summary, sizeof summary, "... (%d host%s, %d rank%s in all)", hosts, hosts == 1 ? "" : "s", ranks,
             ranks == 1 ? "" : "s");
    const size_t reserved = fits ? 0 : strlen(", ") + strlen(summary);
    if (!fits && strlen(summary) >= size)
        return hosts; /* "" rather than a torn summary */

    size_t used = 0;
    for (int r = 0, end; r < ranks; r = end + 1) {
        end = run_end(names, stride, ranks, r);
        const struct name host = name_of(names, stride, r);
        if (used + entry(NULL, 0, r == 0, host, r, end) + reserved >= size)
            break;
        used += entry(list + used, size - used, r == 0, host, r, end);
    }
    if (!fits)
        snprintf(list + used, size - used, "%s%s", used > 0 ? ", " : "", summary);
    return hosts;
}
