/*
 * history.c: history.jsonl (see history.h): lines formatted on the event loop, written by a
 * thread of their own.
 * Depends on: buf, json, alloc, pthreads. Used by: run.
 */
#include "history.h"
#include "eddy/alloc.h"
#include "eddy/json.h"
#include "eddy/out.h"
#include "eddy/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *op_type_name(enum op_type t)
{
    switch (t) {
    case OP_INVOKE:
        return "invoke";
    case OP_OK:
        return "ok";
    case OP_FAIL:
        return "fail";
    case OP_INFO:
        return "info";
    }
    return "?";
}

const char *op_f_name(enum op_f f)
{
    return f == F_ECHO ? "echo" : "generate";
}

/* ==== The writer thread ==== */

/* Writing a gigabyte of history in ten seconds dirties the page cache faster than the disk
 * drains it, and then write(2) blocks until the kernel catches up. Done on the event loop, that
 * stalled every node's traffic; so full buffers go to a thread that owns the descriptor, and
 * the loop only formats. The queue is bounded (HISTORY_QUEUE_MAX buffers): when the disk
 * really is slower than the run, the loop waits, which keeps memory bounded and loses nothing. */
struct history_writer {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work;  /* a buffer was queued, or closing */
    pthread_cond_t space; /* a buffer came back */
    struct buf *queue[HISTORY_QUEUE_MAX];
    size_t qhead, qlen;
    struct buf *spare[HISTORY_QUEUE_MAX + 1];
    size_t nspare, allocated;
    bool closing;
    int fd;
    int error;     /* first write error (positive errno) */
    uint64_t lost; /* lines in buffers that could not be written */
};

static uint64_t count_lines(const struct buf *b)
{
    const char *p = buf_peek(b);
    size_t n = buf_len(b);
    uint64_t lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += p[i] == '\n';
    return lines;
}

static void *writer_main(void *arg)
{
    struct history_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->qlen == 0 && !w->closing)
            pthread_cond_wait(&w->work, &w->mu);
        if (w->qlen == 0)
            break;
        struct buf *b = w->queue[w->qhead];
        w->qhead = (w->qhead + 1) % HISTORY_QUEUE_MAX;
        w->qlen--;
        int error = w->error;
        pthread_mutex_unlock(&w->mu);
        uint64_t lost = 0;
        while (!error && buf_len(b) > 0) {
            ssize_t n = write(w->fd, buf_peek(b), buf_len(b));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                error = n < 0 ? errno : EIO;
            else
                buf_consume(b, (size_t)n);
        }
        if (buf_len(b) > 0)
            lost = count_lines(b); /* after an error: counted, not kept */
        buf_clear(b);
        pthread_mutex_lock(&w->mu);
        if (!w->error)
            w->error = error;
        w->lost += lost;
        w->spare[w->nspare++] = b;
        pthread_cond_signal(&w->space);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static struct buf *new_buffer(void)
{
    struct buf *b = xmalloc(sizeof(*b));
    buf_init(b, HISTORY_BUF + (4u << 20));
    return b;
}

int history_open(struct history *h, const char *path)
{
    memset(h, 0, sizeof(*h));
    h->fd = -1;
    h->cur = new_buffer();
    if (!path)
        return 0;
    h->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (h->fd < 0) {
        h->error = errno;
        return -errno;
    }
    struct history_writer *w = xcalloc(1, sizeof(*w));
    w->fd = h->fd;
    w->allocated = 1; /* h->cur */
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->space, NULL);
    /* The thread must not take signals meant for the event loop (SIGCHLD, SIGINT...). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        free(w);
        h->error = rc;
        close(h->fd);
        h->fd = -1;
        return -rc;
    }
    h->w = w;
    return 0;
}

/* Hands the current buffer to the writer and takes an empty one, waiting while the queue is
 * full. Picks up the writer's error and loss counts. */
static void hand_over(struct history *h)
{
    struct history_writer *w = h->w;
    pthread_mutex_lock(&w->mu);
    while (w->qlen == HISTORY_QUEUE_MAX)
        pthread_cond_wait(&w->space, &w->mu);
    w->queue[(w->qhead + w->qlen) % HISTORY_QUEUE_MAX] = h->cur;
    w->qlen++;
    pthread_cond_signal(&w->work);
    struct buf *next = NULL;
    if (w->nspare)
        next = w->spare[--w->nspare];
    else if (w->allocated <= HISTORY_QUEUE_MAX)
        w->allocated++;
    else
        while (!w->nspare)
            pthread_cond_wait(&w->space, &w->mu);
    if (!next && w->nspare)
        next = w->spare[--w->nspare];
    if (!h->error && w->error)
        h->error = w->error;
    h->lost = w->lost + h->lost_here;
    pthread_mutex_unlock(&w->mu);
    h->cur = next ? next : new_buffer();
}

size_t history_queued(struct history *h)
{
    if (!h->w)
        return 0;
    pthread_mutex_lock(&h->w->mu);
    size_t n = h->w->qlen;
    pthread_mutex_unlock(&h->w->mu);
    return n;
}

size_t history_buffers(struct history *h)
{
    if (!h->w)
        return 1;
    pthread_mutex_lock(&h->w->mu);
    size_t n = h->w->allocated;
    pthread_mutex_unlock(&h->w->mu);
    return n;
}

int history_flush(struct history *h)
{
    if (buf_len(h->cur) == 0)
        return h->error ? -h->error : 0;
    if (!h->w) {
        /* No file: --no-history (nothing is lost) or a file that never opened (all is). */
        if (h->error)
            h->lost_here += count_lines(h->cur);
        h->lost = h->lost_here;
        buf_clear(h->cur);
        return h->error ? -h->error : 0;
    }
    hand_over(h);
    return h->error ? -h->error : 0;
}

int history_close(struct history *h)
{
    history_flush(h);
    if (h->w) {
        struct history_writer *w = h->w;
        pthread_mutex_lock(&w->mu);
        w->closing = true;
        pthread_cond_signal(&w->work);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
        if (!h->error && w->error)
            h->error = w->error;
        h->lost = w->lost + h->lost_here;
        for (size_t i = 0; i < w->nspare; i++) {
            buf_fini(w->spare[i]);
            free(w->spare[i]);
        }
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->work);
        pthread_cond_destroy(&w->space);
        free(w);
        h->w = NULL;
    }
    int rc = h->error ? -h->error : 0;
    if (h->fd >= 0 && close(h->fd) < 0 && !h->error) {
        h->error = errno;
        rc = -errno;
    }
    h->fd = -1;
    buf_fini(h->cur);
    free(h->cur);
    h->cur = NULL;
    return rc;
}

static char *reserve(struct history *h, size_t need)
{
    if (buf_len(h->cur) + need > HISTORY_BUF)
        history_flush(h);
    char *p = buf_reserve(h->cur, need);
    ASSERT(p); /* need is bounded by the longest node line, far below the buffer's maximum */
    return p;
}

void history_set_max(struct history *h, uint64_t max_bytes)
{
    h->max_bytes = max_bytes;
}

static uint64_t finish(struct history *h, const struct out *l)
{
    uint64_t at = h->offset;
    if (h->max_bytes && (h->over_max || h->offset + l->n > h->max_bytes)) {
        /* Past the budget: counted, not kept; the file ends at a whole line. */
        h->over_max++;
        h->index++;
        return at;
    }
    buf_commit(h->cur, l->n);
    h->offset += l->n;
    h->index++;
    if (h->error) {
        /* The file is broken: the line is counted, not kept. */
        h->lost_here++;
        h->lost++;
        buf_clear(h->cur);
    }
    return at;
}

uint64_t history_op(struct history *h, const struct op_rec *r)
{
    size_t need = 256 + r->value_len + r->node_len + (r->error ? r->error_len : 0) +
                  (r->exception ? strlen(r->exception) : 0);
    struct out l = {.p = reserve(h, need)};
    OUT_LIT(&l, "{\"index\":");
    out_u64(&l, h->index);
    OUT_LIT(&l, ",\"time\":");
    out_i64(&l, r->time_ns);
    OUT_LIT(&l, ",\"process\":");
    out_u64(&l, r->process);
    OUT_LIT(&l, ",\"type\":\"");
    const char *t = op_type_name(r->type);
    out_put(&l, t, strlen(t));
    OUT_LIT(&l, "\",\"f\":\"");
    const char *f = op_f_name(r->f);
    out_put(&l, f, strlen(f));
    OUT_LIT(&l, "\",\"value\":");
    out_put(&l, r->value, r->value_len);
    OUT_LIT(&l, ",\"node\":");
    out_put(&l, r->node, r->node_len);
    OUT_LIT(&l, ",\"client\":\"c");
    out_u64(&l, r->client);
    OUT_LIT(&l, "\"");
    if (r->error) {
        OUT_LIT(&l, ",\"error\":");
        out_put(&l, r->error, r->error_len);
    }
    if (r->exception) {
        OUT_LIT(&l, ",\"exception\":\"");
        out_put(&l, r->exception, strlen(r->exception));
        OUT_LIT(&l, "\"");
    }
    OUT_LIT(&l, "}\n");
    ASSERT(l.n <= need);
    return finish(h, &l);
}

uint64_t history_nemesis(struct history *h, int64_t time_ns, const char *f, const char *value,
                         size_t value_len)
{
    size_t need = 128 + strlen(f) + value_len;
    struct out l = {.p = reserve(h, need)};
    OUT_LIT(&l, "{\"index\":");
    out_u64(&l, h->index);
    OUT_LIT(&l, ",\"time\":");
    out_i64(&l, time_ns);
    OUT_LIT(&l, ",\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"");
    out_put(&l, f, strlen(f));
    OUT_LIT(&l, "\",\"value\":");
    out_put(&l, value, value_len);
    OUT_LIT(&l, "}\n");
    ASSERT(l.n <= need);
    return finish(h, &l);
}
