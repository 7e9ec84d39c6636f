/* Closed-form log probabilities of a state: the partition under the CRP and
 * the data under the beta-Bernoulli model, both collapsed (no p_kd). */
#ifndef MICROSCOPES_SCORE_H
#define MICROSCOPES_SCORE_H

#include <stddef.h>

/* log CRP(partition | alpha) = K log alpha + lgamma(alpha) - lgamma(alpha + n)
 * + sum_k lgamma(size_k). */
double score_crp(const int *sizes, int K, int n, double alpha);

/* sum over K groups of log B(a + h_k, b + t_k) - log B(a, b): the marginal
 * likelihood of one feature, from contiguous counts of its K groups. */
double score_feature(const int *heads, const int *tails, int K,
                     double a, double b);

#endif
