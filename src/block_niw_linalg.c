/* Dense linear algebra of the niw block (block_niw.h): a lower Cholesky
 * factor L (row-major, so that row i, read by a forward substitution, is
 * contiguous), its rank-one update and downdate, and the forward
 * substitution a score is. Pure C, no allocation. */
#include <math.h>
#include "block_niw.h"
#include "log_gamma.h"

int niw_cholesky(double *a, int d) {
    for (int j = 0; j < d; j++) {
        double diagonal = a[(size_t)j * d + j];
        for (int k = 0; k < j; k++)
            diagonal -= a[(size_t)j * d + k] * a[(size_t)j * d + k];
        if (!(diagonal > 0) || !isfinite(diagonal)) return -1;
        const double ljj = sqrt(diagonal);
        a[(size_t)j * d + j] = ljj;
        for (int i = j + 1; i < d; i++) {
            double s = a[(size_t)i * d + j];
            for (int k = 0; k < j; k++)
                s -= a[(size_t)i * d + k] * a[(size_t)j * d + k];
            a[(size_t)i * d + j] = s / ljj;
        }
        for (int i = 0; i < j; i++) a[(size_t)i * d + j] = 0.0;
    }
    return 0;
}

/* Givens rotations column by column (Golub and Van Loan, 4th ed., 6.5.4):
 * the update of a positive definite matrix by v v' is always well
 * conditioned. */
void niw_chol_update(double *L, int d, double *v) {
    for (int k = 0; k < d; k++) {
        double *lk = L + (size_t)k * d;
        const double r = hypot(lk[k], v[k]);
        const double c = r / lk[k], s = v[k] / lk[k];
        lk[k] = r;
        for (int i = k + 1; i < d; i++) {
            double *li = L + (size_t)i * d;
            li[k] = (li[k] + s * v[i]) / c;
            v[i] = c * v[i] - s * li[k];
        }
    }
}

/* Below this, rho^2 = 1 - ||L^{-1} v||^2 = |L L' - v v'| / |L L'| makes
 * the downdate lose about -log10(rho^2) more digits than a fresh
 * factorisation (its condition number is about 1 / rho^2): the caller
 * refactorises from the statistics instead. rho^2 is the ratio of the
 * determinants of Psi after and before the row leaves, so it is below
 * 1e-3 only when that row spans more than 99.9% of a direction of its
 * group's Psi_n (a group of about d rows under a psi far smaller than the
 * data's spread): with psi from the data's scale, almost never.
 * tools/niw_selftest.c forces it with psi 1e-6 times the data's. */
#define NIW_DOWNDATE_MIN_RHO2 1e-3

/* LINPACK's dchdd (Stewart 1979; Dongarra et al., LINPACK Users' Guide,
 * ch. 10) written for L = R': solve L a = v, then orthogonal rotations
 * that remove v from the factor. Unlike hyperbolic rotations it is stable,
 * and its one scalar rho^2 detects a downdate that would leave the
 * positive definite cone or lose accuracy before L is touched. */
int niw_chol_downdate(double *L, int d, const double *v, double *work) {
    double *a = work, *c = work + d;
    double norm2 = 0.0;
    for (int j = 0; j < d; j++) {
        const double *lj = L + (size_t)j * d;
        double s = v[j];
        for (int i = 0; i < j; i++) s -= lj[i] * a[i];
        a[j] = s / lj[j];
        norm2 += a[j] * a[j];
    }
    const double rho2 = 1.0 - norm2;
    if (!(rho2 >= NIW_DOWNDATE_MIN_RHO2)) return -1;
    double alpha = sqrt(rho2);
    for (int i = d - 1; i >= 0; i--) {
        const double scale = alpha + fabs(a[i]);
        const double x = alpha / scale, y = a[i] / scale;
        const double norm = sqrt(x * x + y * y);
        c[i] = x / norm;
        a[i] = y / norm; /* the sine, in place */
        alpha = scale * norm;
    }
    for (int j = 0; j < d; j++) {
        double *lj = L + (size_t)j * d; /* column j of R */
        double carried = 0.0;
        for (int i = j; i >= 0; i--) {
            const double t = c[i] * carried + a[i] * lj[i];
            lj[i] = c[i] * lj[i] - a[i] * carried;
            carried = t;
        }
    }
    /* A rotation may leave a diagonal entry negative: flipping the sign
     * of that column of L leaves L L' unchanged. */
    for (int i = 0; i < d; i++) {
        if (L[(size_t)i * d + i] < 0)
            for (int r = i; r < d; r++) L[(size_t)r * d + i] = -L[(size_t)r * d + i];
        if (!(L[(size_t)i * d + i] > 0)) return -1;
    }
    return 0;
}

double niw_forward_norm2(const double *L, const double *inv_diag, int d,
                         const double *r) {
    double z[d > 0 ? d : 1];
    double norm2 = 0.0;
    for (int i = 0; i < d; i++) {
        const double *li = L + (size_t)i * d;
        double s = r[i];
        for (int k = 0; k < i; k++) s -= li[k] * z[k];
        z[i] = s * inv_diag[i];
        norm2 += z[i] * z[i];
    }
    return norm2;
}

double niw_log_det_from_factor(const double *L, int d) {
    double s = 0.0;
    for (int i = 0; i < d; i++) s += log(L[(size_t)i * d + i]);
    return 2.0 * s;
}

double niw_log_mv_gamma(int d, double a) {
    double s = 0.25 * d * (d - 1) * NIW_LOG_PI;
    for (int i = 0; i < d; i++) s += log_gamma(a - 0.5 * i);
    return s;
}
