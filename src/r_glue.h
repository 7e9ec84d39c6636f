/* Helpers shared by the .Call glue files (r_*.c): the only files that see
 * R's headers. */
#ifndef MICROSCOPES_R_GLUE_H
#define MICROSCOPES_R_GLUE_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>
#include <stdint.h>

/* Group ids are slots + 1. The lowest free slot is always claimed, so with
 * n rows at most n groups, the ghost and split-merge's two work slots are
 * in use: a saved group id is at most n + 3 (above n when slots were not
 * compacted, e.g. a tiny data set that once had every row alone). The R
 * side's label_slack (R/runner.R) is the same number. */
#define LABEL_SLACK 3

/* The element of a named list, or R_NilValue. */
SEXP list_get(SEXP list, const char *name);

/* Reads a length-one numeric or integer element as double / int, with an
 * R error naming `what` if it is absent or of the wrong kind. */
double list_get_double(SEXP list, const char *name, const char *what);
int list_get_int(SEXP list, const char *name, const char *what);

/* A 64-bit seed built from R's RNG (GetRNGstate must be in force). */
uint64_t seed_from_r(void);

/* Raises the R error for a C status code. */
void stop_on_status(int status, const char *context);

/* ---- the one guarded poll ----
 * Worker threads run while the main thread polls (parallel.h). A poll that
 * long-jumped (an interrupt, a time limit, an error in R code that a
 * progress bar runs) would leave C while the workers still use its stack
 * and memory. So every poll of the package goes through poll_guard_poll(),
 * which runs the progress update and the interrupt check inside
 * R_ToplevelExec and R_tryCatchError: nothing can jump out of it. What it
 * caught is kept, the caller stops its workers, frees its C memory, and
 * only then raises it with poll_guard_raise(). */
enum { POLL_RUNNING = 0, POLL_INTERRUPTED = 1, POLL_ERROR = 2 };

typedef struct {
    SEXP bar;           /* a cli progress bar (preserved), or R_NilValue */
    double progress;
    int stopped;        /* POLL_RUNNING, POLL_INTERRUPTED or POLL_ERROR */
    SEXP condition;     /* the R error caught (preserved), or R_NilValue */
} poll_guard_t;

/* Starts a guard, with a progress bar of `total` units named `name` when
 * show_progress is nonzero (made inside the guard too: an error making it
 * stops the guard before any work starts). Check `stopped` afterwards. */
void poll_guard_start(poll_guard_t *guard, int show_progress, double total,
                      const char *name);

/* Updates the progress bar and checks for an interrupt, catching every
 * R condition. Returns nonzero when the work must stop. Main thread only. */
int poll_guard_poll(poll_guard_t *guard, double progress);

/* Closes the progress bar (guarded as well). Call once the workers are
 * joined. */
void poll_guard_finish(poll_guard_t *guard);

/* Raises what the guard caught: the R error as it was raised, or, when
 * `interrupt_message` is not NULL, an interrupt condition (as a Ctrl-C
 * gives at the top level, so that try() does not swallow it). Call it
 * only when every worker is joined and no C memory is left unowned. */
void poll_guard_raise(poll_guard_t *guard, const char *interrupt_message);

/* Forgets a caught error without raising it (before raising another). */
void poll_guard_release(poll_guard_t *guard);

/* The pool's poll (parallel.h) with a guard as its context: every .Call
 * that runs the pool passes this and the guard. */
int poll_guard_pool_poll(void *guard, long progress);

/* After the pool is joined and its C memory freed: closes the progress
 * bar, then raises a C failure as an error about `what`, an interrupt as
 * an interrupt condition ("<what> interrupted"), an R error caught at a
 * poll as it was. Returns only when status is MS_OK and nothing was
 * caught. */
void poll_guard_end(poll_guard_t *guard, int status, const char *what);

/* ---- C memory for workers ----
 * Memory that worker threads use is malloc'ed, never R_alloc'ed, and owned
 * by an external pointer with a finalizer (as curl does), so that it is
 * freed whatever R error or interrupt ends the .Call. PROTECT the owner;
 * free early with glue_buffer_free(). Raises an R error when memory runs
 * out (nothing is leaked then). */
SEXP glue_buffer_new(size_t bytes);
void *glue_buffer_data(SEXP owner);
void glue_buffer_free(SEXP owner);

#endif
