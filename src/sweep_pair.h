/* Two threads on one row's scores (issue 15, one chain on many cores).
 *
 * At large K the Gibbs sweep spends most of its time scoring each row
 * against every group; the rows themselves must be visited one after the
 * other (each move changes the next row's scores). A sweep pair is a
 * helper thread that, for every row of a sweep, scores the row against the
 * upper half of the slots while the chain's own thread scores the lower
 * half; the two meet before the draw. Each slot's score is computed by the
 * same code either way, so the chain is bit-identical with and without the
 * pair. For now the pair serves a state of one beta-Bernoulli block (the
 * binary-image case), the only scores split by slot range.
 *
 * The threads hand over through two counters (release / acquire), and the
 * helper spins while it waits: a handover costs well under a microsecond,
 * against several microseconds of scoring per row at K ~ 170, which is why
 * the pair is used only above SWEEP_PAIR_MIN_SLOTS slots and
 * SWEEP_PAIR_MIN_WORK. On a machine too busy for the helper to keep its
 * core, the chain's thread notices (long waits) and scores the rest of the
 * sweep alone. The helper touches C memory only, never R. */
#ifndef MICROSCOPES_SWEEP_PAIR_H
#define MICROSCOPES_SWEEP_PAIR_H

#include "state.h"

/* Below this slot span, or below this much work per row (blocks of 8
 * slots times the row's on-features, the tile lines it reads; ~5 us at
 * 2 ns a line), one thread scores a row faster than two can meet. */
#define SWEEP_PAIR_MIN_SLOTS 48
#define SWEEP_PAIR_MIN_WORK 2048

typedef struct sweep_pair sweep_pair_t;

/* Whether a pair can serve this state: one bb block, slots and work per
 * row enough. */
int sweep_pair_applies(const state_t *st);

/* Starts the helper thread; NULL when it cannot be made (no memory, no
 * thread), in which case the caller scores rows alone: the results are the
 * same. */
sweep_pair_t *sweep_pair_start(state_t *st);

/* st->scores for `row`, as state_score_row_all() fills them. */
void sweep_pair_score_row(sweep_pair_t *pair, int row);

/* Stops and joins the helper, frees the pair (NULL is fine). */
void sweep_pair_stop(sweep_pair_t *pair);

#endif
