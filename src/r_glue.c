#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <R_ext/Random.h>
#include "r_glue.h"
#include "status.h"
#include <cli/progress.h>

SEXP list_get(SEXP list, const char *name) {
    SEXP names = Rf_getAttrib(list, R_NamesSymbol);
    if (TYPEOF(list) != VECSXP || TYPEOF(names) != STRSXP) return R_NilValue;
    for (R_xlen_t j = 0; j < XLENGTH(list); j++)
        if (strcmp(CHAR(STRING_ELT(names, j)), name) == 0)
            return VECTOR_ELT(list, j);
    return R_NilValue;
}

double list_get_double(SEXP list, const char *name, const char *what) {
    SEXP x = list_get(list, name);
    if ((TYPEOF(x) != REALSXP && TYPEOF(x) != INTSXP) || XLENGTH(x) != 1)
        Rf_error("%s: `%s` must be a single number.", what, name);
    return Rf_asReal(x);
}

int list_get_int(SEXP list, const char *name, const char *what) {
    SEXP x = list_get(list, name);
    if ((TYPEOF(x) != REALSXP && TYPEOF(x) != INTSXP) || XLENGTH(x) != 1)
        Rf_error("%s: `%s` must be a single whole number.", what, name);
    int value = Rf_asInteger(x);
    if (value == NA_INTEGER)
        Rf_error("%s: `%s` must not be missing.", what, name);
    return value;
}

uint64_t seed_from_r(void) {
    /* unif_rand() carries 32 random bits with the default generator; two
     * draws make the 64-bit seed that splitmix64 spreads over the stream. */
    uint64_t high = (uint64_t)(unif_rand() * 4294967296.0);
    uint64_t low = (uint64_t)(unif_rand() * 4294967296.0);
    return (high << 32) ^ low;
}

void stop_on_status(int status, const char *context) {
    if (status != MS_OK) Rf_error("%s: %s.", context, ms_status_message(status));
}

/* ---- the guarded poll (r_glue.h) ---- */

typedef struct {
    poll_guard_t *guard;
    int what;           /* one of the steps below */
    double total;
    const char *name;
} poll_step_t;

enum { STEP_START, STEP_POLL, STEP_FINISH };

static SEXP poll_step_body(void *data) {
    poll_step_t *step = data;
    poll_guard_t *guard = step->guard;
    switch (step->what) {
    case STEP_START: {
        SEXP bar = PROTECT(cli_progress_bar(step->total, R_NilValue));
        R_PreserveObject(bar);
        guard->bar = bar;
        UNPROTECT(1);
        cli_progress_set_name(bar, step->name);
        break;
    }
    case STEP_POLL:
        if (guard->bar != R_NilValue) cli_progress_set(guard->bar, guard->progress);
        R_CheckUserInterrupt();
        break;
    case STEP_FINISH:
        if (guard->bar != R_NilValue) cli_progress_done(guard->bar);
        break;
    }
    return R_NilValue;
}

/* An R error (time limits, errors of R code run by the progress bar): kept
 * for poll_guard_raise(). */
static SEXP poll_step_error(SEXP condition, void *data) {
    poll_step_t *step = data;
    if (step->guard->condition == R_NilValue) {
        R_PreserveObject(condition);
        step->guard->condition = condition;
    }
    return R_NilValue;
}

static void poll_step_toplevel(void *data) {
    R_tryCatchError(poll_step_body, data, poll_step_error, data);
}

/* Runs one step where no condition can escape: R_tryCatchError catches
 * errors; an interrupt, which is no error, reaches R_ToplevelExec, which
 * then returns FALSE. */
static void poll_step(poll_guard_t *guard, int what, double total,
                      const char *name) {
    poll_step_t step = {guard, what, total, name};
    if (!R_ToplevelExec(poll_step_toplevel, &step) && !guard->stopped)
        guard->stopped = POLL_INTERRUPTED;
    if (guard->condition != R_NilValue && !guard->stopped)
        guard->stopped = POLL_ERROR;
}

void poll_guard_start(poll_guard_t *guard, int show_progress, double total,
                      const char *name) {
    guard->bar = R_NilValue;
    guard->condition = R_NilValue;
    guard->progress = 0.0;
    guard->stopped = POLL_RUNNING;
    if (show_progress) poll_step(guard, STEP_START, total, name);
}

int poll_guard_poll(poll_guard_t *guard, double progress) {
    /* Once stopped, R is left alone until the workers are joined. */
    if (guard->stopped) return 1;
    guard->progress = progress;
    poll_step(guard, STEP_POLL, 0.0, NULL);
    return guard->stopped != POLL_RUNNING;
}

void poll_guard_finish(poll_guard_t *guard) {
    if (guard->bar == R_NilValue) return;
    poll_step(guard, STEP_FINISH, 0.0, NULL);
    R_ReleaseObject(guard->bar);
    guard->bar = R_NilValue;
}

void poll_guard_release(poll_guard_t *guard) {
    if (guard->condition != R_NilValue) R_ReleaseObject(guard->condition);
    guard->condition = R_NilValue;
}

int poll_guard_pool_poll(void *guard, long progress) {
    return poll_guard_poll(guard, (double)progress);
}

void poll_guard_end(poll_guard_t *guard, int status, const char *what) {
    poll_guard_finish(guard);
    if (status != MS_OK && status != MS_INTERRUPTED) {
        poll_guard_release(guard);
        stop_on_status(status, what);
    }
    char message[128];
    snprintf(message, sizeof(message), "%s interrupted", what);
    poll_guard_raise(guard, message);
    stop_on_status(status, what);
}

void poll_guard_raise(poll_guard_t *guard, const char *interrupt_message) {
    if (guard->stopped == POLL_ERROR && guard->condition != R_NilValue) {
        SEXP condition = PROTECT(guard->condition);
        poll_guard_release(guard);
        SEXP call = PROTECT(Rf_lang2(Rf_install("stop"), condition));
        Rf_eval(call, R_BaseEnv);
        UNPROTECT(2); /* not reached */
    }
    if (guard->stopped == POLL_INTERRUPTED && interrupt_message != NULL) {
        /* R/utils-checks.R: signal_interrupt() */
        SEXP ns = PROTECT(R_FindNamespace(Rf_mkString("microscopes")));
        SEXP call = PROTECT(Rf_lang2(Rf_install("signal_interrupt"),
                                     Rf_mkString(interrupt_message)));
        Rf_eval(call, ns);
        UNPROTECT(2); /* not reached */
    }
}

/* ---- C memory for workers (r_glue.h) ---- */

static void buffer_finalize(SEXP owner) {
    free(R_ExternalPtrAddr(owner));
    R_ClearExternalPtr(owner);
}

SEXP glue_buffer_new(size_t bytes) {
    SEXP owner = PROTECT(R_MakeExternalPtr(NULL, R_NilValue, R_NilValue));
    R_RegisterCFinalizerEx(owner, buffer_finalize, TRUE);
    void *data = malloc(bytes > 0 ? bytes : 1);
    if (data == NULL)
        Rf_error("out of memory (%.0f bytes of scratch space).", (double)bytes);
    R_SetExternalPtrAddr(owner, data);
    UNPROTECT(1);
    return owner;
}

void *glue_buffer_data(SEXP owner) { return R_ExternalPtrAddr(owner); }

void glue_buffer_free(SEXP owner) { buffer_finalize(owner); }
