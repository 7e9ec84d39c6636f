/* Rows of a niw feature with some but not all coordinates missing
 * (block_niw.h): data augmentation.
 *
 * Such a row's group posterior is no longer normal-inverse-Wishart, so
 * the missing coordinates are kept as latent values and the chain samples
 * (partition, latent values) jointly: the block holds its own copy of
 * these rows' cells (the packed data are shared read-only by every chain),
 * niw_cell() returns it, and so scores, moves, recounts and check() all
 * see the completed cells. Once per iteration each latent row is taken
 * out of its group, its missing coordinates are drawn from the
 * conditional Student t given its observed coordinates and the group's
 * other rows (niw_sample_conditional on the slot, the exact full
 * conditional of the collapsed model), and it is put back: a Gibbs step
 * that leaves p(partition, latent | observed) invariant, whose partition
 * marginal is the posterior with the missing coordinates integrated out.
 *
 * Initial values: each missing coordinate is the mean of that coordinate
 * over the rows observing it (0 when no row does); deterministic, so a
 * state built from an assignment needs no random numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "block_niw.h"
#include "status.h"

int niw_latent_setup(block_t *b, niw_feature_t *f) {
    const int n = b->data.n, d = f->dim;
    int count = 0;
    for (int r = 0; r < n; r++) {
        const double *x = niw_data_cell(b, f, r);
        int missing = 0;
        for (int i = 0; i < d; i++) missing += isnan(x[i]) != 0;
        if (missing > 0 && missing < d) count++;
    }
    f->n_latent = count;
    if (count == 0) return MS_OK;
    f->latent_row = ms_malloc(sizeof(int) * (size_t)count);
    f->latent_of_row = ms_malloc(sizeof(int) * (size_t)n);
    f->latent_cells = ms_malloc(sizeof(double) * (size_t)count * d);
    double *sum = ms_calloc((size_t)d, sizeof(double));
    long *seen = ms_calloc((size_t)d, sizeof(long));
    if (f->latent_row == NULL || f->latent_of_row == NULL ||
        f->latent_cells == NULL || sum == NULL || seen == NULL) {
        free(sum);
        free(seen);
        return MS_ERR_NOMEM;
    }
    for (int r = 0; r < n; r++) {
        const double *x = niw_data_cell(b, f, r);
        for (int i = 0; i < d; i++)
            if (!isnan(x[i])) {
                sum[i] += x[i];
                seen[i]++;
            }
    }
    int at = 0;
    for (int r = 0; r < n; r++) {
        const double *x = niw_data_cell(b, f, r);
        int missing = 0;
        for (int i = 0; i < d; i++) missing += isnan(x[i]) != 0;
        f->latent_of_row[r] = -1;
        if (missing == 0 || missing == d) continue;
        f->latent_row[at] = r;
        f->latent_of_row[r] = at;
        double *cell = f->latent_cells + (size_t)at * d;
        for (int i = 0; i < d; i++)
            cell[i] = !isnan(x[i]) ? x[i] : seen[i] > 0 ? sum[i] / seen[i] : 0.0;
        at++;
    }
    free(sum);
    free(seen);
    return MS_OK;
}

int niw_n_latent(const block_t *b, int j) {
    return NIW(b)->features[j].n_latent;
}

void niw_get_latent(const block_t *b, int j, int *rows, double *cells) {
    const niw_feature_t *f = &NIW(b)->features[j];
    if (f->n_latent == 0) return;
    memcpy(rows, f->latent_row, sizeof(int) * (size_t)f->n_latent);
    memcpy(cells, f->latent_cells,
           sizeof(double) * (size_t)f->n_latent * f->dim);
}

void niw_set_latent(block_t *b, int j, const double *cells) {
    niw_feature_t *f = &NIW(b)->features[j];
    const int d = f->dim;
    for (int a = 0; a < f->n_latent; a++) {
        const double *x = niw_data_cell(b, f, f->latent_row[a]);
        for (int i = 0; i < d; i++)
            if (isnan(x[i]))
                f->latent_cells[(size_t)a * d + i] = cells[(size_t)a * d + i];
    }
}

/* The tests' wrong kernel: the group's unconditional predictive drawn
 * whole, its missing coordinates kept (what ignoring the observed
 * coordinates would do). */
static void draw_wrong(const block_t *b, int k, int j, const double *data,
                       rng_t *rng, double *out, double *draw) {
    const int d = NIW(b)->features[j].dim;
    b->ops->sample_predictive(b, k, j, rng, draw);
    for (int i = 0; i < d; i++) out[i] = isnan(data[i]) ? draw[i] : data[i];
}

int niw_resample_latent(block_t *b, const partition_view_t *p, rng_t *rng) {
    niw_t *g = NIW(b);
    int status = MS_OK;
    for (int j = 0; j < b->n_features; j++) {
        niw_feature_t *f = &g->features[j];
        const int d = f->dim;
        /* The scratch's tail: the cell as it was, and a whole draw (the
         * moves use its first 3 d doubles). */
        double *old = g->scratch + 4 * (size_t)g->max_dim,
               *draw = old + g->max_dim;
        for (int a = 0; a < f->n_latent; a++) {
            const int row = f->latent_row[a];
            const int k = p->group_of_row[row];
            if (k < 0) continue;
            double *cell = f->latent_cells + (size_t)a * d;
            const double *data = niw_data_cell(b, f, row);
            memcpy(old, cell, sizeof(double) * d);
            niw_remove_cell(b, j, k, cell);
            if (g->test_wrong_latent)
                draw_wrong(b, k, j, data, rng, cell, draw);
            else
                niw_sample_conditional(b, k, j, data, rng, cell);
            int finite = 1;
            for (int i = 0; i < d; i++) finite &= isfinite(cell[i]) != 0;
            if (!finite) {
                memcpy(cell, old, sizeof(double) * d);
                status = MS_ERR_NUMERIC;
            }
            niw_add_cell(b, j, k, cell);
        }
    }
    return status;
}
