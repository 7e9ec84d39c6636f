/* The packed data set shared, read-only, by every chain built on it.
 *
 * Binary data are sparse (binarised MNIST: ~19% of pixels on), so a row is
 * scored against a group by a sum over its on-features only; missing entries
 * are rare and listed separately. The arrays themselves live in R vectors of
 * the dataview object (so they survive saveRDS and are shared by all runners
 * made from one view); this struct only points into them. */
#ifndef MICROSCOPES_DATA_H
#define MICROSCOPES_DATA_H

#include <stdint.h>

enum { CODE_OFF = 0, CODE_ON = 1, CODE_MISSING = 2 };

typedef struct {
    int n;                  /* rows */
    int D;                  /* features */
    const uint8_t *codes;   /* n x D, row-major: CODE_OFF, CODE_ON, CODE_MISSING */
    const int *on_start;    /* n + 1 offsets into on_feature */
    const int *on_feature;  /* features equal to 1, row by row, increasing */
    const int *missing_start;   /* n + 1 offsets into missing_feature */
    const int *missing_feature; /* missing features, row by row */
} data_t;

/* Counts the on and missing entries of row-major codes. */
void data_count_entries(const uint8_t *codes, int n, int D, long *n_on,
                        long *n_missing);

/* Fills the two compressed row indices; the output arrays have room for
 * n + 1 offsets and the counts given by data_count_entries. */
void data_fill_index(const uint8_t *codes, int n, int D, int *on_start,
                     int *on_feature, int *missing_start,
                     int *missing_feature);

/* Checks everything the samplers index with, so that a tampered or
 * corrupted view gives an error instead of reads out of bounds: every code
 * is one of the three; both offset arrays start at 0, never decrease and end
 * at n_on / n_missing entries; every listed feature lies in [0, D), rises
 * within its row, and has the code its list says. Together with per-row
 * counts of the codes this makes the index agree with the codes exactly.
 * One pass over the codes and one over the index. Returns NULL when the
 * view is sound, else what is wrong. */
const char *data_check(const data_t *data, long n_on, long n_missing);

#endif
