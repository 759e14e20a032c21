/*
 * checkq.h: the checkers, run on a thread of their own, fed through a bounded queue.
 *
 * At full speed the event loop is the bottleneck while the machine's other core idles a
 * quarter of the time, and the exact ID set is a third of the loop's work (a cache miss or
 * three per ID). So completed ops are copied into a single-producer single-consumer ring and
 * checked by another thread: the loop pays a copy instead of the checking. The ring is bounded
 * (CHECKQ_CAP records): when the checker falls behind, the loop waits, so memory stays bounded
 * and nothing is skipped. The struct check is only read after checkq_finish().
 * Depends on: check, alloc, pthreads. Used by: traffic, run.
 */
#ifndef EDDY_SIM_CHECKQ_H
#define EDDY_SIM_CHECKQ_H

#include "check.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHECKQ_CAP (1u << 16)  /* records in the ring */
#define CHECKQ_INLINE 64       /* value bytes kept in the record; longer ones are allocated */
#define CHECKQ_WAKE_BATCH 1024 /* records waiting before a sleeping checker is woken */

struct checkq;

/* Starts the checker thread on c (initialised with check_init). */
struct checkq *checkq_new(struct check *c);

/* Queues a completion. op->value (if any) is copied, so it may point into a buffer that is
 * about to change. Waits while the ring is full. */
void checkq_push(struct checkq *q, const struct check_op *op);

/* True once the checker has checked an op that makes a checker invalid at once: a duplicated
 * ID, an echo error. Any thread. */
bool checkq_anomaly(struct checkq *q);

/* Wakes a sleeping checker if any record waits, for a caller that needs checkq_anomaly() sooner
 * than CHECKQ_WAKE_BATCH records would take to arrive (at a low rate, seconds). */
void checkq_kick(struct checkq *q);

/* Waits until every queued completion is checked and stops the thread; c is then complete.
 * Frees q. NULL is a no-op. */
void checkq_finish(struct checkq *q);

#endif /* EDDY_SIM_CHECKQ_H */
