#include "resume.h"

#include "exit_status.h"
#include "progress_line.h"
#include "timer.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the chunk grid ------------------------------------------------------- */

/* Runs under about 4e9 throws get smaller chunks, so that several ranks still
 * share them. Each chunk costs one parallel region, whose closing barrier can
 * cost a scheduler time slice on a busy machine: on a loaded 2-core machine,
 * 1e9 throws in chunks of 2^23 took twice as long as one plain run, in chunks
 * of 2^26 1.08 times as long. Hence the floor. */
#define CHUNK_MIN_THROWS (UINT64_C(1) << 25)

uint64_t pimc_chunk_throws(uint64_t throws)
{
    uint64_t chunk = CHUNK_MIN_THROWS;
    while (chunk < PIMC_CHUNK_MAX_THROWS && chunk * 2 <= throws / 64)
        chunk *= 2;
    return chunk;
}

/* A parallel loop over few throws a thread costs its start and closing barrier
 * in every chunk: 2^25 throws on 512 threads are 13 us of work against ~100 us
 * of fork and join. So chunks are thrown in batches, one job (one parallel
 * loop per wave) each, with about 2^26 throws a thread: over 13 ms on the
 * fastest path, where the loop's cost is under 1%. The grid stays the same;
 * the kernel tallies each chunk of the batch apart. */
#define BATCH_THROWS_PER_THREAD (UINT64_C(1) << 26)

uint64_t pimc_batch_chunks(uint64_t chunk_throws, int threads)
{
    const uint64_t want = (uint64_t)(threads > 0 ? threads : 1) * BATCH_THROWS_PER_THREAD;
    return want / chunk_throws + (want % chunk_throws != 0);
}

bool pimc_work_init(struct pimc_work *work, const struct pimc_checkpoint *cp)
{
    const uint64_t c = pimc_chunk_throws(cp->throws);
    memset(work, 0, sizeof *work);
    work->chunk_throws = c;
    /* The gaps between done ranges: at most one more than there are ranges. */
    work->pending = malloc((cp->done_count + 1) * sizeof *work->pending);
    work->first_chunk = malloc((cp->done_count + 1) * sizeof *work->first_chunk);
    if (work->pending == NULL || work->first_chunk == NULL) {
        pimc_work_free(work);
        return false;
    }
    uint64_t next = 0;
    for (size_t i = 0; i <= cp->done_count; i++) {
        const uint64_t gap_end = i < cp->done_count ? cp->done[i].first : cp->throws;
        if (gap_end > next) {
            work->pending[work->pending_count] = (struct pimc_range){next, gap_end};
            work->first_chunk[work->pending_count++] = work->chunks;
            work->chunks += (gap_end - 1) / c - next / c + 1; /* grid cells the gap touches */
        }
        if (i < cp->done_count)
            next = cp->done[i].end;
    }
    return true;
}

void pimc_work_free(struct pimc_work *work)
{
    free(work->pending);
    free(work->first_chunk);
    memset(work, 0, sizeof *work);
}

/* The pending range that holds chunk `index`. */
static size_t pending_of(const struct pimc_work *work, uint64_t index)
{
    size_t low = 0, high = work->pending_count; /* first_chunk[low] <= index < first_chunk[high] */
    while (high - low > 1) {
        const size_t middle = low + (high - low) / 2;
        if (work->first_chunk[middle] <= index)
            low = middle;
        else
            high = middle;
    }
    return low;
}

static struct pimc_range chunk_in(const struct pimc_work *work, size_t p, uint64_t index)
{
    const uint64_t c = work->chunk_throws;
    const struct pimc_range gap = work->pending[p];
    const uint64_t cell = gap.first / c + (index - work->first_chunk[p]);
    const uint64_t first = cell * c > gap.first ? cell * c : gap.first;
    const uint64_t end = gap.end - cell * c > c ? cell * c + c : gap.end;
    return (struct pimc_range){first, end};
}

struct pimc_range pimc_work_chunk(const struct pimc_work *work, uint64_t index)
{
    return chunk_in(work, pending_of(work, index), index);
}

/* The throws of chunks [from, to), gap by gap as pimc_work_add_done goes. */
static uint64_t throws_of_chunks(const struct pimc_work *work, uint64_t from, uint64_t to)
{
    uint64_t throws = 0;
    for (size_t p = from < to ? pending_of(work, from) : 0; from < to; p++) {
        const uint64_t gap_end = p + 1 < work->pending_count ? work->first_chunk[p + 1] : work->chunks;
        const uint64_t last = (to < gap_end ? to : gap_end) - 1;
        throws += chunk_in(work, p, last).end - chunk_in(work, p, from).first;
        from = last + 1;
    }
    return throws;
}

bool pimc_work_add_done(const struct pimc_work *work, uint64_t from, uint64_t to, struct pimc_checkpoint *cp)
{
    if (from >= to)
        return true;
    /* Chunks in one gap are contiguous throws: one range per gap touched. */
    for (size_t p = pending_of(work, from); from < to; p++) {
        const uint64_t gap_end = p + 1 < work->pending_count ? work->first_chunk[p + 1] : work->chunks;
        const uint64_t last = (to < gap_end ? to : gap_end) - 1;
        if (!pimc_checkpoint_add(cp, chunk_in(work, p, from).first, chunk_in(work, p, last).end))
            return false;
        from = last + 1;
    }
    return true;
}

/* ---- loading -------------------------------------------------------------- */

int pimc_resume_load(const char *path, const struct pimc_checkpoint *current, struct pimc_checkpoint *start,
                     char *error, size_t error_size)
{
    switch (pimc_checkpoint_read(path, start, error, error_size)) {
    case PIMC_CHECKPOINT_ABSENT:
        if (!pimc_checkpoint_copy(start, current)) {
            snprintf(error, error_size, "out of memory");
            return PIMC_EXIT_FAILURE;
        }
        start->segments = 0;
        return 0;
    case PIMC_CHECKPOINT_INVALID:
        return PIMC_EXIT_USAGE;
    case PIMC_CHECKPOINT_OK:
        break;
    }
    if (!pimc_checkpoint_matches(path, start, current, error, error_size)) {
        pimc_checkpoint_free(start);
        return PIMC_EXIT_USAGE;
    }
    return PIMC_EXIT_OK;
}

/* ---- the ledger and its saver thread (rank 0) ------------------------------ */

struct saver {
    const struct pimc_resume_plan *plan;
    const struct pimc_checkpoint *base; /* the segment's start */
    const struct pimc_work *work;
    const uint64_t *share_first; /* each rank's first chunk */
    int ranks;
    uint64_t segments;
    double start; /* pimc_now() at the segment's start */

    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t wake;
    uint64_t *chunks, *hits; /* each rank's progress through its share */
    bool finished;

    pthread_t thread;
    bool running;
    bool warned; /* a failed save was reported; quiet until one succeeds */
};

static void record_progress(void *arg, int rank, uint64_t chunks, uint64_t hits)
{
    struct saver *s = arg;
    if (rank < 0 || rank >= s->ranks)
        return;
    pthread_mutex_lock(&s->lock);
    s->chunks[rank] = chunks;
    s->hits[rank] = hits;
    pthread_mutex_unlock(&s->lock);
}

/* The checkpoint of everything known now. The lock is held only to copy one
 * pair of counts per rank: the list is built and written outside it. */
static bool snapshot(struct saver *s, struct pimc_checkpoint *cp)
{
    const size_t bytes = (size_t)s->ranks * sizeof(uint64_t);
    uint64_t *chunks = malloc(bytes), *hits = malloc(bytes);
    bool ok = chunks != NULL && hits != NULL && pimc_checkpoint_copy(cp, s->base);
    if (ok) {
        pthread_mutex_lock(&s->lock);
        memcpy(chunks, s->chunks, bytes);
        memcpy(hits, s->hits, bytes);
        pthread_mutex_unlock(&s->lock);
        for (int r = 0; r < s->ranks && ok; r++) {
            ok = pimc_work_add_done(s->work, s->share_first[r], s->share_first[r] + chunks[r], cp);
            cp->hits += hits[r];
        }
        /* Overlap here would be a bug in the shares, never a reason to write a
         * checkpoint that counts throws twice. */
        ok = ok && pimc_checkpoint_merge(cp);
        cp->compute_s = s->base->compute_s + (pimc_now() - s->start);
        cp->segments = s->segments;
    }
    free(chunks);
    free(hits);
    return ok;
}

/* Builds the checkpoint of now into cp (to be freed by the caller, whatever
 * happens) and writes it: 0; -1 when the write failed (cp is still right); -2
 * when it could not be built. */
static int save(struct saver *s, struct pimc_checkpoint *cp, char *error, size_t error_size)
{
    memset(cp, 0, sizeof *cp);
    if (!snapshot(s, cp)) {
        snprintf(error, error_size, "cannot save checkpoint '%s': out of memory or overlapping shares",
                 s->plan->path);
        return -2;
    }
    return pimc_checkpoint_write(s->plan->path, cp, error, error_size);
}

/* A save whose checkpoint is not needed afterwards. */
static int save_only(struct saver *s, char *error, size_t error_size)
{
    struct pimc_checkpoint cp;
    const int status = save(s, &cp, error, error_size);
    pimc_checkpoint_free(&cp);
    return status;
}

static struct timespec monotonic_deadline(double seconds_from_now)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double whole;
    const double fraction = modf(seconds_from_now, &whole);
    t.tv_sec += (time_t)whole;
    t.tv_nsec += (long)(fraction * 1e9);
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static void *saver_main(void *arg)
{
    struct saver *s = arg;
    char error[512];
    double next = pimc_now() + s->plan->interval_s;
    pthread_mutex_lock(&s->lock);
    while (!s->finished) {
        const double wait = next - pimc_now();
        if (wait > 0) {
            const struct timespec until = monotonic_deadline(wait);
            pthread_cond_timedwait(&s->wake, &s->lock, &until);
            continue;
        }
        pthread_mutex_unlock(&s->lock);
        if (save_only(s, error, sizeof error) != 0) {
            if (!s->warned)
                fprintf(stderr, "pimc-omp: warning: %s; trying again every %g s\n", error, s->plan->interval_s);
            s->warned = true;
        } else {
            s->warned = false;
        }
        /* A save that took longer than the interval is not followed by a burst. */
        next += s->plan->interval_s;
        if (next < pimc_now())
            next = pimc_now() + s->plan->interval_s;
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static bool saver_init(struct saver *s, const struct pimc_resume_plan *plan, const struct pimc_checkpoint *base,
                       const struct pimc_work *work, const uint64_t *share_first, int ranks)
{
    memset(s, 0, sizeof *s);
    s->plan = plan;
    s->base = base;
    s->work = work;
    s->share_first = share_first;
    s->ranks = ranks;
    s->segments = base->segments + 1;
    s->start = pimc_now();
    s->chunks = calloc((size_t)ranks, sizeof *s->chunks);
    s->hits = calloc((size_t)ranks, sizeof *s->hits);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attr);
    pthread_condattr_destroy(&attr);
    return s->chunks != NULL && s->hits != NULL;
}

static void saver_start(struct saver *s)
{
    s->start = pimc_now();
    s->running = pthread_create(&s->thread, NULL, saver_main, s) == 0;
}

static void saver_stop(struct saver *s)
{
    if (s->running) {
        pthread_mutex_lock(&s->lock);
        s->finished = true;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
        s->running = false;
    }
}

static void saver_free(struct saver *s)
{
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s->chunks);
    free(s->hits);
}

/* ---- the run -------------------------------------------------------------- */

static const struct pimc_cluster *alone(void)
{
    static const struct pimc_cluster one = {.rank = 0, .ranks = 1};
    return &one;
}

/* Rank 0's start state (done ranges, hits, time, segments) on every rank. */
static bool share_start(const struct pimc_cluster *cluster, const struct pimc_checkpoint *start,
                        struct pimc_checkpoint *base)
{
    const bool copied = pimc_checkpoint_copy(base, start);
    if (cluster->ranks == 1)
        return copied;
    uint64_t head[5] = {base->done_count, base->hits, base->segments, 0, !copied};
    memcpy(&head[3], &base->compute_s, sizeof base->compute_s);
    pimc_cluster_broadcast(cluster, head, 5);
    if (head[4] != 0) /* rank 0 has no copy: everyone gives up */
        return false;
    if (cluster->rank != 0) {
        free(base->done);
        base->done = calloc(head[0] + 1, sizeof *base->done);
        base->done_count = base->done_capacity = base->done != NULL ? head[0] : 0;
        base->hits = head[1];
        base->segments = head[2];
        memcpy(&base->compute_s, &head[3], sizeof base->compute_s);
    }
    uint64_t *values = malloc((2 * head[0] + 1) * sizeof *values);
    if (pimc_cluster_agree(cluster, values == NULL || (base->done == NULL && head[0] > 0))) {
        free(values);
        return false;
    }
    for (size_t i = 0; cluster->rank == 0 && i < base->done_count; i++)
        values[2 * i] = base->done[i].first, values[2 * i + 1] = base->done[i].end;
    pimc_cluster_broadcast(cluster, values, 2 * head[0]);
    for (size_t i = 0; i < base->done_count; i++)
        base->done[i] = (struct pimc_range){values[2 * i], values[2 * i + 1]};
    free(values);
    return true;
}

static void fill_outcome(struct pimc_outcome *o, const struct pimc_checkpoint *cp, int threads, int ranks)
{
    memset(o, 0, sizeof *o);
    o->throws_requested = cp->throws;
    o->throws = pimc_checkpoint_throws_done(cp);
    o->hits = cp->hits;
    o->partial = !pimc_checkpoint_complete(cp);
    o->cut_leg = o->partial ? PIMC_LEG_PARALLEL : PIMC_LEG_NONE; /* a checkpointed run has no other leg */
    o->hits_agree = true;
    o->threads = threads;
    o->ranks = ranks;
    o->parallel.runs = 1;
    o->parallel.seconds[0] = o->parallel.median_s = o->parallel.min_s = o->parallel.max_s = cp->compute_s;
}

int pimc_resume_run(const struct pimc_resume_plan *plan, const struct pimc_checkpoint *start,
                    struct pimc_resume_result *result, char *error, size_t error_size)
{
    const struct pimc_cluster *cluster = plan->cluster != NULL ? plan->cluster : alone();
    const bool leader = cluster->rank == 0;
    struct pimc_checkpoint base;
    memset(result, 0, sizeof *result);
    if (!share_start(cluster, start, &base)) {
        pimc_checkpoint_free(&base);
        snprintf(error, error_size, "out of memory");
        return PIMC_EXIT_FAILURE;
    }
    result->throws_resumed = pimc_checkpoint_throws_done(&base);
    if (pimc_checkpoint_complete(&base)) {
        result->was_complete = true;
        result->segments = base.segments;
        fill_outcome(&result->outcome, &base, pimc_start_team(plan->threads), cluster->ranks);
        pimc_checkpoint_free(&base);
        return 0;
    }

    struct pimc_work work;
    struct saver saver;
    uint64_t *share_first = calloc((size_t)cluster->ranks, sizeof *share_first);
    int status = pimc_work_init(&work, &base) && share_first != NULL ? PIMC_EXIT_OK : PIMC_EXIT_FAILURE;
    const uint64_t batch = pimc_batch_chunks(pimc_chunk_throws(base.throws), plan->threads);
    atomic_uint_fast64_t *cell_hits = calloc(batch, sizeof *cell_hits),
                         *cell_throws = calloc(batch, sizeof *cell_throws);
    if (cell_hits == NULL || cell_throws == NULL)
        status = PIMC_EXIT_FAILURE;
    if (saver_init(&saver, plan, &base, &work, share_first, cluster->ranks) == false)
        status = PIMC_EXIT_FAILURE;
    if ((status = pimc_cluster_agree(cluster, status)) != 0) {
        snprintf(error, error_size, "out of memory");
        goto out;
    }
    for (int r = 0; r < cluster->ranks; r++) {
        const struct pimc_cluster rank = {.rank = r, .ranks = cluster->ranks};
        uint64_t count;
        pimc_cluster_share(&rank, work.chunks, &share_first[r], &count);
    }
    uint64_t first, count;
    pimc_cluster_share(cluster, work.chunks, &first, &count);

    /* The first save, before any throw: an unwritable FILE is found now, and the
     * segment is counted even if a kill comes before the first interval. */
    if (leader && save_only(&saver, error, error_size) != 0)
        status = PIMC_EXIT_CANNOT_WRITE;
    if ((status = pimc_cluster_agree(cluster, status)) != 0) {
        if (!leader)
            snprintf(error, error_size, "rank 0 cannot save the checkpoint");
        goto out;
    }

    const int threads = pimc_start_team(plan->threads);
    struct pimc_progress_link *link = pimc_progress_open(cluster);
    pimc_cluster_barrier(cluster);
    const double started = pimc_cluster_time(cluster);
    if (leader)
        saver_start(&saver);
    /* The line of a plain run: alone, of the whole run, the resumed throws
     * counted as done; under MPI, of rank 0's share, as a plain run shows. */
    struct pimc_progress_line progress;
    const bool show_progress = plan->show_progress && leader;
    if (show_progress)
        pimc_progress_line_start(&progress, "parallel",
                                 cluster->ranks == 1 ? base.throws : throws_of_chunks(&work, first, first + count),
                                 cluster->ranks == 1 ? result->throws_resumed : 0);

    /* Other ranks tell rank 0 at most this often: often enough that a save
     * is never more than a fraction of an interval behind them. */
    const double offer_period = fmin(plan->interval_s / 4, 0.05);
    double last_offer = pimc_now();
    uint64_t chunks = 0, hits = 0;
    while (chunks < count) {
        if (plan->stop != NULL && atomic_load_explicit(plan->stop, memory_order_relaxed))
            break;
        /* The next chunks that are one stretch of throws, up to a batch: chunks
         * next to each other in the order are next to each other on the grid. */
        const struct pimc_range head = pimc_work_chunk(&work, first + chunks);
        uint64_t in_batch = 1, end = head.end;
        for (; in_batch < batch && chunks + in_batch < count; in_batch++) {
            const struct pimc_range next = pimc_work_chunk(&work, first + chunks + in_batch);
            if (next.first != end)
                break;
            end = next.end;
        }
        for (uint64_t c = 0; c < in_batch; c++) {
            atomic_init(&cell_hits[c], 0);
            atomic_init(&cell_throws[c], 0);
        }
        /* A stop reaches into the batch: most paths throw one in well under a
         * second, but ARS's portable one takes seconds. The chunks finished
         * before the first unfinished one are recorded; the blocks of the
         * others are scattered over the threads, and are thrown again. */
        const struct pimc_throw_job job = {.rng = plan->rng, .kernel = plan->kernel, .seed = base.seed,
                                           .first_throw = head.first, .throws = end - head.first,
                                           .threads = threads, .schedule = plan->schedule, .stop = plan->stop,
                                           .grid = work.chunk_throws, .cell_hits = cell_hits,
                                           .cell_throws = cell_throws,
                                           .throws_done = show_progress ? &progress.done : NULL};
        const struct pimc_tally tally = pimc_throw_parallel(&job);
        uint64_t finished = 0;
        for (; finished < in_batch; finished++) {
            const struct pimc_range chunk = pimc_work_chunk(&work, first + chunks + finished);
            if (atomic_load(&cell_throws[finished]) != chunk.end - chunk.first)
                break;
            hits += atomic_load(&cell_hits[finished]);
        }
        chunks += finished;
        if (finished > 0 && leader) {
            record_progress(&saver, 0, chunks, hits);
            if (link != NULL)
                pimc_progress_collect(link, false, record_progress, &saver);
        } else if (finished > 0 && link != NULL && pimc_now() - last_offer >= offer_period) {
            pimc_progress_offer(link, chunks, hits);
            last_offer = pimc_now();
        }
        if (tally.throws < job.throws)
            break;
    }
    if (show_progress)
        pimc_progress_line_stop(&progress);
    if (link != NULL) {
        if (leader)
            pimc_progress_collect(link, true, record_progress, &saver);
        else
            pimc_progress_finish(link, chunks, hits);
        pimc_progress_close(link);
    }
    const double elapsed = pimc_cluster_max(cluster, pimc_cluster_time(cluster) - started);
    uint64_t thrown = 0;
    for (uint64_t c = 0; c < chunks; c++) {
        const struct pimc_range chunk = pimc_work_chunk(&work, first + c);
        thrown += chunk.end - chunk.first;
    }
    result->throws_now = pimc_cluster_sum(cluster, thrown);
    result->segments = saver.segments;

    if (leader) {
        saver_stop(&saver);
        /* The last save holds the exact end, timed by the run's own clock. */
        saver.start = pimc_now() - elapsed;
        struct pimc_checkpoint final;
        const int saved = save(&saver, &final, error, error_size);
        /* A failed write still leaves the counts known: they are reported. */
        fill_outcome(&result->outcome, saved == -2 ? &base : &final, threads, cluster->ranks);
        status = saved == 0 ? PIMC_EXIT_OK : saved == -1 ? PIMC_EXIT_CANNOT_WRITE : PIMC_EXIT_FAILURE;
        pimc_checkpoint_free(&final);
    } else {
        fill_outcome(&result->outcome, &base, threads, cluster->ranks);
    }
    result->outcome.partial = pimc_cluster_from_rank0(cluster, result->outcome.partial);
    status = pimc_cluster_from_rank0(cluster, status);
    if (status != 0 && !leader)
        snprintf(error, error_size, "rank 0 cannot save the checkpoint");

out:
    free(cell_hits);
    free(cell_throws);
    saver_free(&saver);
    pimc_work_free(&work);
    free(share_first);
    pimc_checkpoint_free(&base);
    return status;
}
