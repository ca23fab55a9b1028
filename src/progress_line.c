#include "progress_line.h"

#include "timer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void *progress_main(void *arg)
{
    struct pimc_progress_line *p = arg;
    const double quiet_period = 2.0, interval = 0.5;
    pthread_mutex_lock(&p->lock);
    double wake = p->start + quiet_period;
    while (!p->finished) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double wait = wake - pimc_now();
        if (wait > 0) {
            long ns = until.tv_nsec + (long)(fmod(wait, 1.0) * 1e9);
            until.tv_sec += (time_t)wait + ns / 1000000000L;
            until.tv_nsec = ns % 1000000000L;
            pthread_cond_timedwait(&p->finished_cond, &p->lock, &until);
            continue;
        }
        double elapsed = pimc_now() - p->start;
        double now = (double)atomic_load_explicit(&p->done, memory_order_relaxed);
        double done = (double)p->done_before + now;
        double rate = now / elapsed, left = (double)p->throws - done;
        fprintf(stderr, "\r\033[K%s: %5.1f%%  %.3g of %.3g throws  %.3g Gthrows/s  ETA %.0f s", p->label,
                100.0 * done / (double)p->throws, done, (double)p->throws, rate * 1e-9,
                rate > 0 ? left / rate : 0.0);
        p->shown = true;
        wake = pimc_now() + interval;
    }
    if (p->shown)
        fputs("\r\033[K", stderr);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

void pimc_progress_line_start(struct pimc_progress_line *p, const char *label, uint64_t throws,
                              uint64_t done_before)
{
    memset(p, 0, sizeof *p);
    p->label = label;
    p->throws = throws;
    p->done_before = done_before;
    p->start = pimc_now();
    atomic_init(&p->done, 0);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->finished_cond, NULL);
    p->running = pthread_create(&p->thread, NULL, progress_main, p) == 0;
}

void pimc_progress_line_stop(struct pimc_progress_line *p)
{
    if (p->running) {
        pthread_mutex_lock(&p->lock);
        p->finished = true;
        pthread_cond_signal(&p->finished_cond);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
    }
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->finished_cond);
}
