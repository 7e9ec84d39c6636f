/* The worker pool: see parallel.h. One mutex guards the shared counters;
 * the main thread sleeps on a condition variable that units signal when
 * they report progress and workers signal when they finish. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "alloc.h"
#include "parallel.h"
#include "status.h"

/* How long the main thread waits between polls when nothing happens. */
#define POLL_NANOSECONDS 100000000L

struct parallel_pool {
    parallel_unit_fn fn;
    void *ctx;
    int n_units;
    parallel_poll_fn poll;
    void *poll_ctx;
    int on_calling_thread;  /* no workers: the caller runs units and polls */

    pthread_mutex_t lock;
    pthread_cond_t wake;    /* progress was reported or a worker finished */
    int next_unit;          /* guarded by lock, like the fields below */
    int next_thread;
    int running_workers;
    long progress;
    int stop;
    int stopped_by_poll;
    int status;             /* the first error a unit returned */

    /* On the calling thread only: when it last polled, and what it saw. */
    int polled;
    long polled_progress;
    struct timespec polled_at;
};

static long nanoseconds_between(const struct timespec *a,
                                const struct timespec *b) {
    return (long)(b->tv_sec - a->tv_sec) * 1000000000L +
           (b->tv_nsec - a->tv_nsec);
}

/* The calling thread runs the units itself, so it polls between them and
 * whenever a unit asks whether to stop, as often as the main thread of a
 * threaded run would: on new progress, else every POLL_NANOSECONDS; and no
 * more once the pool stops, as nothing is left to watch. */
static void poll_if_due(parallel_pool_t *pool) {
    if (pool->poll == NULL || pool->stop) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (pool->polled && pool->progress == pool->polled_progress &&
        nanoseconds_between(&pool->polled_at, &now) < POLL_NANOSECONDS)
        return;
    pool->polled = 1;
    pool->polled_progress = pool->progress;
    pool->polled_at = now;
    if (pool->poll(pool->poll_ctx, pool->progress)) {
        pool->stop = 1;
        pool->stopped_by_poll = 1;
    }
}

int parallel_stop_requested(parallel_pool_t *pool) {
    if (pool->on_calling_thread) poll_if_due(pool);
    pthread_mutex_lock(&pool->lock);
    int stop = pool->stop;
    pthread_mutex_unlock(&pool->lock);
    return stop;
}

void parallel_add_progress(parallel_pool_t *pool, long amount) {
    pthread_mutex_lock(&pool->lock);
    pool->progress += amount;
    pthread_cond_signal(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
}

/* The next unit to run, or -1 when all are taken or the pool stops. */
static int take_unit(parallel_pool_t *pool) {
    if (pool->on_calling_thread) poll_if_due(pool);
    pthread_mutex_lock(&pool->lock);
    int unit = pool->stop || pool->next_unit >= pool->n_units
                   ? -1 : pool->next_unit++;
    pthread_mutex_unlock(&pool->lock);
    return unit;
}

static void run_units(parallel_pool_t *pool, int thread) {
    for (int unit; (unit = take_unit(pool)) >= 0;) {
        int status = pool->fn(pool->ctx, unit, thread, pool);
        if (status != MS_OK) {
            /* A failed unit stops the others: the user sees the error at
             * once, not after the rest of the work. */
            pthread_mutex_lock(&pool->lock);
            if (pool->status == MS_OK) pool->status = status;
            pool->stop = 1;
            pthread_mutex_unlock(&pool->lock);
        }
    }
}

static void *worker(void *arg) {
    parallel_pool_t *pool = arg;
    pthread_mutex_lock(&pool->lock);
    int thread = pool->next_thread++;
    pthread_mutex_unlock(&pool->lock);
    run_units(pool, thread);
    pthread_mutex_lock(&pool->lock);
    pool->running_workers--;
    pthread_cond_signal(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

static void deadline_from_now(struct timespec *deadline) {
    clock_gettime(CLOCK_REALTIME, deadline);
    deadline->tv_nsec += POLL_NANOSECONDS;
    if (deadline->tv_nsec >= 1000000000L) {
        deadline->tv_sec += 1;
        deadline->tv_nsec -= 1000000000L;
    }
}

/* The main thread while workers run, called with the lock held: poll at
 * once, then after every wake-up (new progress, a finished worker) or
 * POLL_NANOSECONDS of quiet. The lock is released around `poll`, which may
 * take long (R code), and on return. */
static void wait_and_poll(parallel_pool_t *pool) {
    long seen = -1;
    while (pool->running_workers > 0) {
        if (pool->progress == seen) {
            struct timespec deadline;
            deadline_from_now(&deadline);
            int rc = pthread_cond_timedwait(&pool->wake, &pool->lock,
                                            &deadline);
            if (rc != 0 && rc != ETIMEDOUT) break;
        }
        seen = pool->progress;
        if (pool->running_workers == 0 || pool->poll == NULL) continue;
        pthread_mutex_unlock(&pool->lock);
        int stop = pool->poll(pool->poll_ctx, seen);
        pthread_mutex_lock(&pool->lock);
        if (stop) {
            pool->stop = 1;
            pool->stopped_by_poll = 1;
        }
    }
    pthread_mutex_unlock(&pool->lock);
}

int parallel_for(int n_units, int n_threads, parallel_unit_fn fn, void *ctx,
                 parallel_poll_fn poll, void *poll_ctx) {
    if (n_units <= 0) return MS_OK;
    if (n_threads > n_units) n_threads = n_units;
    if (n_threads < 1) n_threads = 1;

    parallel_pool_t pool = {.fn = fn, .ctx = ctx, .n_units = n_units,
                            .poll = poll, .poll_ctx = poll_ctx,
                            .status = MS_OK};
    if (pthread_mutex_init(&pool.lock, NULL) != 0) return MS_ERR_NOMEM;
    if (pthread_cond_init(&pool.wake, NULL) != 0) {
        pthread_mutex_destroy(&pool.lock);
        return MS_ERR_NOMEM;
    }

    /* One thread's worth of work needs no worker: it runs here, as all of
     * it does when no worker can be made. Without a poll the calling
     * thread has nothing to watch, so it is one of the n_threads and runs
     * units itself: it is running already, while a new worker may take a
     * millisecond to get a core (an idle virtual CPU must be woken), which
     * in an inner loop of a chain (a few ms of work) was most of the gain
     * of the second thread. */
    const int caller_works = poll == NULL;
    const int n_workers = caller_works ? n_threads - 1 : n_threads;
    pthread_t *workers =
        n_threads > 1 ? ms_malloc((size_t)n_workers * sizeof(pthread_t)) : NULL;
    int started = 0;
    /* Workers wait for the lock until the main thread has seen them all
     * running, so that it polls at least once: a progress bar then shows
     * even when the work is done in an instant. */
    pthread_mutex_lock(&pool.lock);
    for (; workers != NULL && started < n_workers; started++) {
        if (pthread_create(&workers[started], NULL, worker, &pool) != 0)
            break;
        pool.running_workers++;
    }
    if (started == 0) {
        pthread_mutex_unlock(&pool.lock);
        pool.on_calling_thread = 1;
        run_units(&pool, 0);
    } else if (caller_works) {
        /* Workers are threads 0 .. started - 1 (worker()); the caller
         * takes the last id, which no worker has. */
        pthread_mutex_unlock(&pool.lock);
        run_units(&pool, n_threads - 1);
        pthread_mutex_lock(&pool.lock);
        while (pool.running_workers > 0)
            pthread_cond_wait(&pool.wake, &pool.lock);
        pthread_mutex_unlock(&pool.lock);
        for (int t = 0; t < started; t++) pthread_join(workers[t], NULL);
    } else {
        wait_and_poll(&pool);
        for (int t = 0; t < started; t++) pthread_join(workers[t], NULL);
    }
    free(workers);
    pthread_cond_destroy(&pool.wake);
    pthread_mutex_destroy(&pool.lock);

    if (pool.status != MS_OK) return pool.status;
    return pool.stopped_by_poll ? MS_INTERRUPTED : MS_OK;
}
