/*
 * checkq.c: the checker thread and its byte ring (see checkq.h).
 *
 * Records are laid end to end in a ring of CHECKQ_BYTES: a header (the op, the lengths) followed
 * by the value's text and the exception's text, padded to 8 bytes. A record that would straddle
 * the ring's end leaves a wrap marker (size 0) and starts again at the front. head and tail count
 * bytes ever written and read (C11 atomics): the producer publishes a record by storing head,
 * the consumer frees it by storing tail. Neither side makes a system call while the other keeps
 * up. The consumer sleeps on a condition variable when there is nothing to do, and is woken once
 * CHECKQ_WAKE_BATCH records or CHECKQ_WAKE_BYTES wait, not at the first: it is faster than the
 * loop, so woken at once it took a record or two and slept again, seven thousand futex wake-ups
 * and context switches a second at full speed. The producer never sleeps.
 * When a record does not fit in the ring (the loop was told the queue is full but still had
 * lines in hand), it goes to an overflow list under the mutex, and so does every later record
 * until the consumer takes the list, which it does only once the ring is empty: with a single
 * producer that keeps the records in order.
 * Depends on: check, json, alloc, pthreads. Used by: traffic, run.
 */
#include "checkq.h"
#include "eddy/alloc.h"
#include "eddy/json.h"
#include "eddy/util.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct record {
    uint32_t size;      /* bytes of the whole record, a multiple of 8; 0: wrap to the front */
    uint32_t value_len; /* the value's text follows the header */
    uint32_t text_len;  /* then the exception's text */
    bool has_value, has_text;
    struct check_op op; /* value and exception_text are NULL here */
};

struct overflow {
    struct overflow *next;
    struct record r; /* followed by its bytes, as in the ring */
};

struct checkq {
    struct check *check;
    checkq_event_cb *cb;
    void *ctx;
    uint8_t *ring;
    _Atomic size_t head; /* bytes ever written */
    _Atomic size_t tail; /* bytes ever read */
    _Atomic size_t head_records, tail_records;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct overflow *ovf_head, *ovf_tail; /* under mu */
    _Atomic size_t ovf_bytes;
    _Atomic bool overflowing; /* records go to the overflow list, not the ring */
    _Atomic bool consumer_sleeps;
    _Atomic bool full;
    _Atomic bool closing, aborting, holding, done;
    _Atomic bool anomaly;      /* see checkq_anomaly */
    struct checkq_stats stats; /* the producer's counts; unchecked is the consumer's */
    _Atomic uint64_t unchecked;
};

static void wake(struct checkq *q)
{
    pthread_mutex_lock(&q->mu);
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static size_t queued_bytes(const struct checkq *q)
{
    return atomic_load(&q->head) - atomic_load(&q->tail) + atomic_load(&q->ovf_bytes);
}

static size_t record_size(size_t value_len, size_t text_len)
{
    return (sizeof(struct record) + value_len + text_len + 7) & ~(size_t)7;
}

/* ==== The consumer ==== */

static void check_record(struct checkq *q, const struct record *r)
{
    struct json_val v;
    struct check_op op = r->op;
    const char *bytes = (const char *)(r + 1);
    op.value = NULL;
    op.exception_text = NULL;
    if (r->has_value) {
        /* The text was a scanned value on the loop's side, so it scans again. */
        ssize_t n = json_scan(bytes, r->value_len, true, &v, NULL);
        ASSERT(n > 0);
        op.value = &v;
    }
    char text[CHECKQ_TEXT_MAX + 1];
    if (r->has_text) {
        memcpy(text, bytes + r->value_len, r->text_len);
        text[r->text_len] = '\0';
        op.exception_text = text;
    }
    check_complete(q->check, &op);
}

/* After records were taken: a full queue that has drained under CHECKQ_LOW says so. The
 * producer may clear the flag itself (see checkq_push); whoever clears it, the callback is
 * harmless. */
static void maybe_report_room(struct checkq *q)
{
    if (!atomic_load(&q->full) || queued_bytes(q) > CHECKQ_LOW)
        return;
    bool expect = true;
    if (atomic_compare_exchange_strong(&q->full, &expect, false) && q->cb)
        q->cb(q->ctx);
}

/* Takes the ring's records up to what head says now. Returns how many. */
static size_t drain_ring(struct checkq *q)
{
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    size_t taken = 0;
    while (tail != head && !atomic_load_explicit(&q->aborting, memory_order_relaxed)) {
        const struct record *r = (const struct record *)(q->ring + tail % CHECKQ_BYTES);
        bool wrap = r->size == 0;
        if (wrap) {
            tail += CHECKQ_BYTES - tail % CHECKQ_BYTES;
        } else {
            check_record(q, r);
            if (q->check->repeats || q->check->echo_errors)
                atomic_store_explicit(&q->anomaly, true, memory_order_relaxed);
            tail += r->size;
            taken++;
        }
        /* Sequentially consistent: the producer's full/room handshake reads tail. From here on
         * the record's bytes are the producer's again. */
        atomic_store(&q->tail, tail);
        if (!wrap) {
            atomic_fetch_add_explicit(&q->tail_records, 1, memory_order_relaxed);
            if (taken % 64 == 0)
                maybe_report_room(q);
        }
    }
    return taken;
}

/* Takes the overflow list (only when the ring is empty, so that order is kept) and checks it. */
static size_t drain_overflow(struct checkq *q)
{
    pthread_mutex_lock(&q->mu);
    struct overflow *o = q->ovf_head;
    q->ovf_head = q->ovf_tail = NULL;
    atomic_store(&q->overflowing, false);
    pthread_mutex_unlock(&q->mu);
    size_t taken = 0;
    while (o) {
        struct overflow *next = o->next;
        if (!atomic_load_explicit(&q->aborting, memory_order_relaxed)) {
            check_record(q, &o->r);
            if (q->check->repeats || q->check->echo_errors)
                atomic_store_explicit(&q->anomaly, true, memory_order_relaxed);
        } else
            atomic_fetch_add(&q->unchecked, 1);
        atomic_fetch_sub(&q->ovf_bytes, o->r.size);
        atomic_fetch_add_explicit(&q->tail_records, 1, memory_order_relaxed);
        free(o);
        o = next;
        taken++;
    }
    return taken;
}

/* Counts and drops everything still queued (after an abort). */
static void discard_all(struct checkq *q)
{
    size_t head = atomic_load(&q->head), tail = atomic_load(&q->tail);
    while (tail != head) {
        const struct record *r = (const struct record *)(q->ring + tail % CHECKQ_BYTES);
        if (r->size == 0) {
            tail += CHECKQ_BYTES - tail % CHECKQ_BYTES;
            continue;
        }
        tail += r->size;
        atomic_fetch_add(&q->unchecked, 1);
    }
    atomic_store(&q->tail, tail);
    drain_overflow(q);
}

static bool has_work(struct checkq *q)
{
    if (atomic_load(&q->holding))
        return false;
    return atomic_load(&q->tail) != atomic_load(&q->head) || atomic_load(&q->overflowing);
}

static void *checkq_main(void *arg)
{
    struct checkq *q = arg;
    for (;;) {
        if (atomic_load(&q->aborting)) {
            discard_all(q);
            break;
        }
        if (has_work(q)) {
            if (drain_ring(q) == 0 && atomic_load(&q->tail) == atomic_load(&q->head) &&
                atomic_load(&q->overflowing))
                drain_overflow(q);
            maybe_report_room(q);
            continue;
        }
        if (atomic_load(&q->closing) && !atomic_load(&q->holding) && !has_work(q))
            break;
        pthread_mutex_lock(&q->mu);
        atomic_store(&q->consumer_sleeps, true);
        while (!has_work(q) && !atomic_load(&q->aborting) &&
               !(atomic_load(&q->closing) && !atomic_load(&q->holding)))
            pthread_cond_wait(&q->cv, &q->mu);
        atomic_store(&q->consumer_sleeps, false);
        pthread_mutex_unlock(&q->mu);
    }
    if (!atomic_load(&q->aborting))
        check_finish(q->check);
    atomic_store(&q->done, true);
    if (q->cb)
        q->cb(q->ctx);
    return NULL;
}

/* ==== The producer ==== */

struct checkq *checkq_new(struct check *c, checkq_event_cb *cb, void *ctx)
{
    struct checkq *q = xcalloc(1, sizeof(*q));
    q->check = c;
    q->cb = cb;
    q->ctx = ctx;
    /* Pages are touched as the ring goes round, not up front. */
    q->ring = mmap(NULL, CHECKQ_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT(q->ring != MAP_FAILED);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    /* Signals belong to the event loop's thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&q->thread, NULL, checkq_main, q);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    ASSERT(rc == 0);
    return q;
}

static void fill_record(struct record *r, size_t size, const struct check_op *op, size_t text_len)
{
    r->size = (uint32_t)size;
    r->op = *op;
    r->op.value = NULL;
    r->op.exception_text = NULL;
    r->has_value = op->value != NULL;
    r->value_len = op->value ? (uint32_t)op->value->len : 0;
    r->has_text = op->exception_text != NULL;
    r->text_len = (uint32_t)text_len;
    char *bytes = (char *)(r + 1);
    if (op->value)
        memcpy(bytes, op->value->p, op->value->len);
    if (op->exception_text)
        memcpy(bytes + r->value_len, op->exception_text, text_len);
}

/* Puts the record in the ring if it fits (wrapping if need be); false if it does not. */
static bool ring_put(struct checkq *q, const struct check_op *op, size_t size, size_t text_len)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    size_t free_bytes =
        CHECKQ_BYTES - (head - atomic_load_explicit(&q->tail, memory_order_acquire));
    size_t to_end = CHECKQ_BYTES - head % CHECKQ_BYTES;
    size_t need = size <= to_end ? size : to_end + size;
    if (need > free_bytes)
        return false;
    if (size > to_end) {
        ((struct record *)(q->ring + head % CHECKQ_BYTES))->size = 0;
        head += to_end;
    }
    fill_record((struct record *)(q->ring + head % CHECKQ_BYTES), size, op, text_len);
    atomic_store(&q->head, head + size); /* seq_cst, for the full/room handshake */
    return true;
}

static void overflow_put(struct checkq *q, const struct check_op *op, size_t size, size_t text_len)
{
    struct overflow *o = xmalloc(sizeof(*o) - sizeof(o->r) + size);
    o->next = NULL;
    fill_record(&o->r, size, op, text_len);
    pthread_mutex_lock(&q->mu);
    if (q->ovf_tail)
        q->ovf_tail->next = o;
    else
        q->ovf_head = o;
    q->ovf_tail = o;
    atomic_fetch_add(&q->ovf_bytes, size);
    atomic_store(&q->overflowing, true);
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    q->stats.overflowed++;
}

bool checkq_push(struct checkq *q, const struct check_op *op)
{
    ASSERT(!atomic_load(&q->closing));
    if (atomic_load(&q->aborting)) {
        atomic_fetch_add(&q->unchecked, 1);
        return false;
    }
    size_t text_len = op->exception_text ? strlen(op->exception_text) : 0;
    text_len = EDDY_MIN(text_len, (size_t)CHECKQ_TEXT_MAX);
    size_t value_len = op->value ? op->value->len : 0;
    size_t size = record_size(value_len, text_len);
    ASSERT(size <= CHECKQ_RECORD_MAX); /* values come from lines of at most PROC_LINE_MAX */
    if (atomic_load(&q->overflowing) || !ring_put(q, op, size, text_len))
        overflow_put(q, op, size, text_len);
    q->stats.pushed++;
    atomic_fetch_add_explicit(&q->head_records, 1, memory_order_relaxed);
    size_t queued = queued_bytes(q);
    q->stats.bytes_max = EDDY_MAX(q->stats.bytes_max, queued);
    if (atomic_load(&q->consumer_sleeps) &&
        (queued >= CHECKQ_WAKE_BYTES || queued > CHECKQ_HIGH ||
         atomic_load_explicit(&q->head_records, memory_order_relaxed) -
                 atomic_load_explicit(&q->tail_records, memory_order_relaxed) >=
             CHECKQ_WAKE_BATCH))
        wake(q);
    if (atomic_load(&q->full))
        return true;
    if (queued <= CHECKQ_HIGH)
        return false;
    atomic_store(&q->full, true);
    q->stats.fulls++;
    if (atomic_load(&q->consumer_sleeps))
        wake(q);
    /* The consumer may have drained the queue between the load above and the store: then it did
     * not see the flag, and the producer takes it back itself. */
    if (queued_bytes(q) <= CHECKQ_LOW) {
        bool expect = true;
        if (atomic_compare_exchange_strong(&q->full, &expect, false))
            return false;
    }
    return true;
}

bool checkq_full(const struct checkq *q)
{
    return atomic_load(&((struct checkq *)q)->full);
}

bool checkq_anomaly(struct checkq *q)
{
    return atomic_load_explicit(&q->anomaly, memory_order_relaxed);
}

void checkq_kick(struct checkq *q)
{
    if (atomic_load(&q->consumer_sleeps) &&
        (atomic_load(&q->head) != atomic_load(&q->tail) || atomic_load(&q->overflowing)))
        wake(q);
}

void checkq_close(struct checkq *q)
{
    atomic_store(&q->closing, true);
    wake(q);
}

void checkq_abort(struct checkq *q)
{
    atomic_store(&q->aborting, true);
    atomic_store(&q->check->stop, true);
    wake(q);
}

bool checkq_done(const struct checkq *q)
{
    return atomic_load(&((struct checkq *)q)->done);
}

void checkq_hold(struct checkq *q, bool hold)
{
    atomic_store(&q->holding, hold);
    wake(q);
}

void checkq_finish(struct checkq *q, struct checkq_stats *stats)
{
    if (!q)
        return;
    checkq_close(q);
    pthread_join(q->thread, NULL);
    discard_all(q); /* pushed while an abort was under way: counted */
    ASSERT(atomic_load(&q->tail) == atomic_load(&q->head));
    ASSERT(!q->ovf_head);
    if (stats) {
        *stats = q->stats;
        stats->unchecked = atomic_load(&q->unchecked);
    }
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    munmap(q->ring, CHECKQ_BYTES);
    free(q);
}
