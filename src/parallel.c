#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "parallel.h"
#include "status.h"

/* How long the main thread sleeps between polls when nothing finishes. */
#define POLL_NANOSECONDS 100000000L

typedef struct {
    chain_t **chains;
    int n_chains, niters;
    int *chain_status, *iterations_done;
    pthread_mutex_t lock;
    pthread_cond_t progress;
    int next_chain;         /* guarded by lock */
    long iterations;        /* guarded by lock */
    int running_workers;    /* guarded by lock */
    int stop;               /* guarded by lock */
} pool_t;

static int should_stop(pool_t *pool) {
    pthread_mutex_lock(&pool->lock);
    int stop = pool->stop;
    pthread_mutex_unlock(&pool->lock);
    return stop;
}

/* Runs one chain to completion or until asked to stop. */
static void run_chain(pool_t *pool, int c) {
    int status = MS_OK;
    for (int it = 0; it < pool->niters; it++) {
        if (should_stop(pool)) {
            status = MS_INTERRUPTED;
            break;
        }
        status = chain_iterate(pool->chains[c]);
        if (status) break;
        pool->iterations_done[c]++;
        pthread_mutex_lock(&pool->lock);
        pool->iterations++;
        pthread_cond_signal(&pool->progress);
        pthread_mutex_unlock(&pool->lock);
    }
    pool->chain_status[c] = status;
    if (status && status != MS_INTERRUPTED) {
        /* A failed chain stops the others: the user sees the error at once. */
        pthread_mutex_lock(&pool->lock);
        pool->stop = 1;
        pthread_mutex_unlock(&pool->lock);
    }
}

static void *worker(void *arg) {
    pool_t *pool = arg;
    for (;;) {
        pthread_mutex_lock(&pool->lock);
        int c = pool->next_chain++;
        pthread_mutex_unlock(&pool->lock);
        if (c >= pool->n_chains) break;
        run_chain(pool, c);
    }
    pthread_mutex_lock(&pool->lock);
    pool->running_workers--;
    pthread_cond_signal(&pool->progress);
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

int parallel_run(chain_t **chains, int n_chains, int niters, int threads,
                 poll_fn poll, void *context, int *chain_status,
                 int *iterations_done) {
    pool_t pool = {chains, n_chains, niters, chain_status, iterations_done};
    for (int c = 0; c < n_chains; c++) {
        chain_status[c] = MS_OK;
        iterations_done[c] = 0;
    }
    if (n_chains == 0 || niters == 0) return MS_OK;
    if (threads > n_chains) threads = n_chains;
    if (threads < 1) threads = 1;
    pthread_t *workers = malloc((size_t)threads * sizeof(pthread_t));
    if (workers == NULL) return MS_ERR_NOMEM;
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.progress, NULL);

    int started = 0;
    pthread_mutex_lock(&pool.lock);
    for (; started < threads; started++) {
        pool.running_workers++;
        if (pthread_create(&workers[started], NULL, worker, &pool) != 0) {
            pool.running_workers--;
            break;
        }
    }
    pthread_mutex_unlock(&pool.lock);
    if (started == 0) {
        /* No thread could be made: run on this thread, without polling. */
        worker(&pool);
    } else {
        long seen = -1;
        pthread_mutex_lock(&pool.lock);
        while (pool.running_workers > 0) {
            if (pool.iterations == seen) {
                struct timespec deadline;
                deadline_from_now(&deadline);
                int rc = pthread_cond_timedwait(&pool.progress, &pool.lock,
                                                &deadline);
                if (rc != 0 && rc != ETIMEDOUT) break;
            }
            seen = pool.iterations;
            int running = pool.running_workers;
            pthread_mutex_unlock(&pool.lock);
            int stop = running > 0 && poll != NULL &&
                       poll(context, seen, (long)n_chains * niters);
            pthread_mutex_lock(&pool.lock);
            if (stop) pool.stop = 1;
        }
        pthread_mutex_unlock(&pool.lock);
        for (int t = 0; t < started; t++) pthread_join(workers[t], NULL);
    }
    free(workers);
    pthread_cond_destroy(&pool.progress);
    pthread_mutex_destroy(&pool.lock);

    for (int c = 0; c < n_chains; c++)
        if (chain_status[c] && chain_status[c] != MS_INTERRUPTED)
            return chain_status[c];
    return MS_OK;
}
