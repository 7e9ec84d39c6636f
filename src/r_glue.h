/* Helpers shared by the .Call glue files (r_*.c): the only files that see
 * R's headers. */
#ifndef MICROSCOPES_R_GLUE_H
#define MICROSCOPES_R_GLUE_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>
#include <stdint.h>

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

#endif
