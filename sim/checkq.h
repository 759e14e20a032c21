/*
 * checkq.h: the checkers, run on a thread of their own, fed through a queue bounded in bytes.
 *
 * At full speed the event loop is the bottleneck while the machine's other core idles a
 * quarter of the time, and the exact ID set is a third of the loop's work (a cache miss or
 * three per ID). So completed ops are copied into a single-producer single-consumer ring and
 * checked by another thread: the loop pays a copy instead of the checking.
 * The ring is bounded in bytes, not records, since a hostile node's IDs can be a megabyte each,
 * and the loop never waits for it: past CHECKQ_HIGH bytes, checkq_push() says the queue is full
 * and the loop stops reading node output (back-pressure on the nodes' replies) until the checker
 * has brought it under CHECKQ_LOW and says so through the callback. What the loop still had in
 * hand when it stopped reading goes into the ring's slack, or past it into an overflow list
 * (bounded by what one read of node output and the ops that time out at once can produce).
 * At the end, checkq_close() lets the checker finish on its own while the loop keeps serving
 * signals, and checkq_abort() stops it early. The struct check is only read after
 * checkq_finish().
 * Depends on: check, json, alloc, pthreads. Used by: traffic, run.
 */
#ifndef EDDY_SIM_CHECKQ_H
#define EDDY_SIM_CHECKQ_H

#include "check.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHECKQ_BYTES (16u << 20)     /* the ring */
#define CHECKQ_HIGH (8u << 20)       /* queued bytes past which the queue is full */
#define CHECKQ_LOW (2u << 20)        /* ...and under which a full queue has room again */
#define CHECKQ_WAKE_BATCH 1024       /* records waiting before a sleeping checker is woken */
#define CHECKQ_WAKE_BYTES (1u << 20) /* or bytes waiting */
#define CHECKQ_TEXT_MAX 1024         /* bytes kept of an exception's text */
#define CHECKQ_RECORD_MAX (2u << 20) /* largest record: a 1 MiB line's value and the text */

/* Called on the checker thread, so it may only do thread-safe things (ev_async_send): the queue
 * has room again after checkq_push() said it was full, or the checker is done. */
typedef void checkq_event_cb(void *ctx);

struct checkq;

struct checkq_stats {
    uint64_t pushed;     /* records queued */
    uint64_t fulls;      /* times checkq_push() said the queue was full */
    uint64_t overflowed; /* records that went past the ring into the overflow list */
    size_t bytes_max;    /* most bytes queued at once, overflow included */
    uint64_t unchecked;  /* records abandoned by checkq_abort() */
};

/* Starts the checker thread on c (initialised with check_init). cb may be NULL. */
struct checkq *checkq_new(struct check *c, checkq_event_cb *cb, void *ctx);

/* Queues a completion, never waiting: op->value and op->exception_text are copied (the latter
 * up to CHECKQ_TEXT_MAX bytes), so they may point into buffers about to change. Returns true
 * when the queue is full (more than CHECKQ_HIGH bytes): the producer should take no more work
 * until the callback has run and checkq_full() is false. */
bool checkq_push(struct checkq *q, const struct check_op *op);

/* True from a push that found the queue full until the checker has drained it under
 * CHECKQ_LOW. */
bool checkq_full(const struct checkq *q);

/* True once the checker has checked an op that makes a checker invalid at once: a duplicated
 * ID (one found while running: repeats of IDs that went to disk are found at the end), an echo
 * error. Any thread. */
bool checkq_anomaly(struct checkq *q);

/* Wakes a sleeping checker if any record waits, for a caller that needs checkq_anomaly() sooner
 * than CHECKQ_WAKE_BATCH records would take to arrive (at a low rate, seconds). */
void checkq_kick(struct checkq *q);

/* No more pushes: the checker checks what is queued, then calls check_finish(), then the
 * callback. */
void checkq_close(struct checkq *q);

/* Stops the checker at the next record (or the next step of check_finish()): what is still
 * queued is counted in stats.unchecked, not checked. Then the callback runs. */
void checkq_abort(struct checkq *q);

/* True once the checker has stopped, after checkq_close() or checkq_abort(). */
bool checkq_done(const struct checkq *q);

/* For tests: while held, the checker takes no record (as if it were slow). */
void checkq_hold(struct checkq *q, bool hold);

/* Closes the queue if it is open, waits until the checker is done, stops the thread and frees q;
 * c is then complete (or, after an abort, as far as it got). Fills *stats if not NULL. NULL is
 * a no-op. */
void checkq_finish(struct checkq *q, struct checkq_stats *stats);

#endif /* EDDY_SIM_CHECKQ_H */
