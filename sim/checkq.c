/*
 * checkq.c: the checker thread and its ring (see checkq.h).
 *
 * The ring's head and tail are C11 atomics: the producer publishes a record by storing head,
 * the consumer takes it after loading head. Neither side makes a system call
 * while the other keeps up; a side that finds the ring empty (consumer) or full (producer)
 * sleeps on a condition variable, and the other side wakes it only when it said it sleeps.
 * A sleeping checker is woken once CHECKQ_WAKE_BATCH records wait, not at the first: it is
 * faster than the loop, so woken at once it took a record or two and slept again, seven
 * thousand futex wake-ups and context switches a second at full speed. Nothing reads the
 * checker's state before checkq_finish(), which wakes it for what is left.
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

struct record {
    struct check_op op;   /* value and exception_text unused: see below */
    char *exception_text; /* owned copy: the producer's text lives on its stack */
    bool has_value;
    uint32_t value_len;
    char *value_heap; /* for values longer than CHECKQ_INLINE, owned */
    char value_inline[CHECKQ_INLINE];
};

struct checkq {
    struct check *check;
    struct record *ring;
    _Atomic size_t head; /* next record the producer writes */
    _Atomic size_t tail; /* next record the consumer reads */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic bool consumer_sleeps;
    _Atomic bool producer_sleeps;
    _Atomic bool closing;
    _Atomic bool anomaly; /* see checkq_anomaly */
};

static void wake(struct checkq *q)
{
    pthread_mutex_lock(&q->mu);
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static void check_record(struct checkq *q, struct record *r)
{
    struct json_val v;
    struct check_op op = r->op;
    op.value = NULL;
    if (r->has_value) {
        const char *text = r->value_heap ? r->value_heap : r->value_inline;
        /* The text was a scanned value on the loop's side, so it scans again. */
        ssize_t n = json_scan(text, r->value_len, true, &v, NULL);
        ASSERT(n > 0);
        op.value = &v;
    }
    op.exception_text = r->exception_text;
    check_complete(q->check, &op);
    free(r->value_heap);
    r->value_heap = NULL;
    free(r->exception_text);
    r->exception_text = NULL;
}

static void *checkq_main(void *arg)
{
    struct checkq *q = arg;
    for (;;) {
        size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
        size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
        if (tail == head) {
            if (atomic_load(&q->closing) && tail == atomic_load(&q->head))
                break;
            pthread_mutex_lock(&q->mu);
            atomic_store(&q->consumer_sleeps, true);
            while (atomic_load(&q->tail) == atomic_load(&q->head) && !atomic_load(&q->closing))
                pthread_cond_wait(&q->cv, &q->mu);
            atomic_store(&q->consumer_sleeps, false);
            pthread_mutex_unlock(&q->mu);
            continue;
        }
        while (tail != head) {
            check_record(q, &q->ring[tail & (CHECKQ_CAP - 1)]);
            if (q->check->dup_ids || q->check->echo_errors)
                atomic_store_explicit(&q->anomaly, true, memory_order_relaxed);
            tail++;
            /* Sequentially consistent, not just release: the load of producer_sleeps below
             * must not move before this store, or a sleeping producer could miss its wake-up. */
            atomic_store(&q->tail, tail);
        }
        if (atomic_load(&q->producer_sleeps))
            wake(q);
    }
    return NULL;
}

struct checkq *checkq_new(struct check *c)
{
    struct checkq *q = xcalloc(1, sizeof(*q));
    q->check = c;
    q->ring = xcalloc(CHECKQ_CAP, sizeof(*q->ring));
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

void checkq_push(struct checkq *q, const struct check_op *op)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (head - atomic_load_explicit(&q->tail, memory_order_acquire) == CHECKQ_CAP) {
        pthread_mutex_lock(&q->mu);
        atomic_store(&q->producer_sleeps, true);
        while (head - atomic_load(&q->tail) == CHECKQ_CAP)
            pthread_cond_wait(&q->cv, &q->mu);
        atomic_store(&q->producer_sleeps, false);
        pthread_mutex_unlock(&q->mu);
    }
    struct record *r = &q->ring[head & (CHECKQ_CAP - 1)];
    r->op = *op;
    r->op.value = NULL;
    r->op.exception_text = NULL;
    r->exception_text = op->exception_text ? xstrdup(op->exception_text) : NULL;
    r->has_value = op->value != NULL;
    r->value_heap = NULL;
    if (op->value) {
        const struct json_val *v = op->value;
        ASSERT(v->len <= UINT32_MAX);
        r->value_len = (uint32_t)v->len;
        if (v->len <= CHECKQ_INLINE) {
            memcpy(r->value_inline, v->p, v->len);
        } else {
            r->value_heap = xmalloc(v->len);
            memcpy(r->value_heap, v->p, v->len);
        }
    }
    atomic_store(&q->head, head + 1); /* seq_cst, for the same reason as the tail's */
    if (atomic_load(&q->consumer_sleeps) && head + 1 - atomic_load(&q->tail) >= CHECKQ_WAKE_BATCH)
        wake(q);
}

bool checkq_anomaly(struct checkq *q)
{
    return atomic_load_explicit(&q->anomaly, memory_order_relaxed);
}

void checkq_kick(struct checkq *q)
{
    if (atomic_load(&q->consumer_sleeps) && atomic_load(&q->head) != atomic_load(&q->tail))
        wake(q);
}

void checkq_finish(struct checkq *q)
{
    if (!q)
        return;
    atomic_store(&q->closing, true);
    wake(q);
    pthread_join(q->thread, NULL);
    ASSERT(atomic_load(&q->tail) == atomic_load(&q->head));
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q->ring);
    free(q);
}
