/* Status codes returned by the pure C core. Worker threads cannot raise R
 * errors, so every C function that can fail returns one of these and the
 * glue (r_*.c) turns it into an R error on the main thread. */
#ifndef MICROSCOPES_STATUS_H
#define MICROSCOPES_STATUS_H

enum {
    MS_OK = 0,
    MS_ERR_NOMEM = 1,       /* an allocation failed */
    MS_ERR_NUMERIC = 2,     /* a non-finite log density where none can be */
    MS_INTERRUPTED = 3,     /* the user asked to stop; state is consistent */
    MS_ERR_UNSUPPORTED = 4  /* a feature block kind this build lacks */
};

const char *ms_status_message(int status);

/* Hyperparameters (alpha, a, b) above this are refused where they come
 * in: a + b + count then rounds to a + b, and sums of values near the
 * largest double overflow (R/state.R keeps the same bound). */
#define MS_MAX_HYPERPARAMETER 1e15

#endif
