/* Status codes returned by the pure C core. Worker threads cannot raise R
 * errors, so every C function that can fail returns one of these and the
 * glue (r_*.c) turns it into an R error on the main thread. */
#ifndef MICROSCOPES_STATUS_H
#define MICROSCOPES_STATUS_H

enum {
    MS_OK = 0,
    MS_ERR_NOMEM = 1,       /* an allocation failed */
    MS_ERR_NUMERIC = 2,     /* a non-finite log density where none can be */
    MS_INTERRUPTED = 3      /* the user asked to stop; state is consistent */
};

const char *ms_status_message(int status);

#endif
