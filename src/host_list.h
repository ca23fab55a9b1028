/* The report's list of a run's hosts, made from every rank's host name: each
 * run of consecutive ranks on one host is an entry, "n1 (rank 0)" or
 * "n2 (ranks 1-3)", and entries are joined by ", " in rank order. A cyclic
 * placement (srun -m cyclic: n1, n2, n1, n2) lists a host once per run of its
 * ranks but counts it once. No MPI here: cluster.c gathers the names. */
#ifndef PIMC_HOST_LIST_H
#define PIMC_HOST_LIST_H

#include <stddef.h>

/* `names` holds `ranks` records of `stride` bytes, rank r's at names + r * stride:
 * its host name, ended by a NUL or by the record's end. Writes the list into
 * list[size], NUL-terminated. A list longer than that ends after the last
 * entry that fits, followed by ", ... (H hosts, R ranks in all)", so that no
 * name is ever cut; a buffer too small for even that summary gets "".
 * Returns the distinct hosts (in O(ranks log ranks)), or -1 and "" when out of memory. */
int pimc_host_list(const char *names, size_t stride, int ranks, char *list, size_t size);

#endif
