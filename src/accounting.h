/* Accounting for the time other work took: what the kernel counts for us, in
 * seconds. For each thread, its time on a CPU and its time ready to run but
 * waiting for one (/proc/self/task/TID/schedstat; with paravirtual time
 * accounting the time on a CPU leaves out what the hypervisor stole), and for
 * the CPUs in our affinity mask, their steal (/proc/stat: the time the
 * hypervisor ran something else while the vCPU wanted to run). */
#ifndef PIMC_ACCOUNTING_H
#define PIMC_ACCOUNTING_H

#include <stdbool.h>

#define PIMC_MAX_TASKS 256

struct pimc_task_account {
    long tid; /* 0: the calling thread */
    double run, wait;
};

struct pimc_accounts {
    int tasks; /* 0: no scheduler statistics */
    struct pimc_task_account task[PIMC_MAX_TASKS];
    double steal; /* NAN: unknown */
};

/* Of every thread of the process, or of the calling one only. */
void pimc_read_accounts(bool all_threads, struct pimc_accounts *accounts);

/* How long a run would have taken with the machine to itself, from the
 * accounts read before and after it. timed: the run as the engine timed it;
 * bracket: the time between the two readings (the accounts span it); team:
 * the threads that ran. *stolen_share: the share of our CPUs' time in the
 * bracket that the hypervisor stole (0 when unknown). Without accounts, the
 * time as timed. Pure: a function of its arguments. */
double pimc_time_alone(const struct pimc_accounts *before, const struct pimc_accounts *after, bool parallel,
                       double timed, double bracket, int team, int usable_cpus, double *stolen_share);

#endif
