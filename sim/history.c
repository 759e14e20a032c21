/*
 * history.c: history.jsonl (see history.h).
 * Depends on: buf, json. Used by: run.
 */
#include "history.h"
#include "eddy/json.h"
#include "eddy/util.h"

#include <errno.h>
#include <fcntl.h>
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

int history_open(struct history *h, const char *path)
{
    memset(h, 0, sizeof(*h));
    h->fd = -1;
    buf_init(&h->out, HISTORY_BUF + (4u << 20));
    if (!path)
        return 0;
    h->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (h->fd < 0) {
        h->error = errno;
        return -errno;
    }
    return 0;
}

/* Drops the buffered lines that can no longer be written, counting them as lost. */
static void discard(struct history *h)
{
    const char *p = buf_peek(&h->out);
    size_t n = buf_len(&h->out);
    for (size_t i = 0; i < n; i++)
        h->lost += p[i] == '\n';
    buf_clear(&h->out);
}

int history_flush(struct history *h)
{
    while (buf_len(&h->out) > 0) {
        if (h->fd < 0 || h->error) {
            /* Not writing (--no-history): nothing is lost, there was never a file. */
            if (h->error)
                discard(h);
            else
                buf_clear(&h->out);
            break;
        }
        ssize_t n = write(h->fd, buf_peek(&h->out), buf_len(&h->out));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            h->error = n < 0 ? errno : EIO;
            discard(h);
            break;
        }
        buf_consume(&h->out, (size_t)n);
    }
    return h->error ? -h->error : 0;
}

int history_close(struct history *h)
{
    int rc = history_flush(h);
    if (h->fd >= 0 && close(h->fd) < 0 && !h->error) {
        h->error = errno;
        rc = -errno;
    }
    h->fd = -1;
    buf_fini(&h->out);
    return rc;
}

struct line {
    char *p;
    size_t n;
};

static void lit(struct line *l, const char *s, size_t n)
{
    memcpy(l->p + l->n, s, n);
    l->n += n;
}

#define LIT(l, s) lit((l), (s), sizeof(s) - 1)

static char *reserve(struct history *h, size_t need)
{
    if (buf_len(&h->out) + need > HISTORY_BUF)
        history_flush(h);
    char *p = buf_reserve(&h->out, need);
    ASSERT(p); /* need is bounded by the longest node line, far below the buffer's maximum */
    return p;
}

static uint64_t finish(struct history *h, const struct line *l)
{
    uint64_t at = h->offset;
    buf_commit(&h->out, l->n);
    h->offset += l->n;
    h->index++;
    if (h->error) {
        /* The file is broken: the line is counted, not kept. */
        h->lost++;
        buf_clear(&h->out);
    }
    return at;
}

uint64_t history_op(struct history *h, const struct op_rec *r)
{
    size_t need = 256 + r->value_len + r->node_len + (r->error ? r->error_len : 0) +
                  (r->exception ? strlen(r->exception) : 0);
    struct line l = {.p = reserve(h, need)};
    LIT(&l, "{\"index\":");
    l.n += json_fmt_u64(l.p + l.n, h->index);
    LIT(&l, ",\"time\":");
    l.n += json_fmt_i64(l.p + l.n, r->time_ns);
    LIT(&l, ",\"process\":");
    l.n += json_fmt_u64(l.p + l.n, r->process);
    LIT(&l, ",\"type\":\"");
    const char *t = op_type_name(r->type);
    lit(&l, t, strlen(t));
    LIT(&l, "\",\"f\":\"");
    const char *f = op_f_name(r->f);
    lit(&l, f, strlen(f));
    LIT(&l, "\",\"value\":");
    lit(&l, r->value, r->value_len);
    LIT(&l, ",\"node\":");
    lit(&l, r->node, r->node_len);
    LIT(&l, ",\"client\":\"c");
    l.n += json_fmt_u64(l.p + l.n, r->client);
    LIT(&l, "\"");
    if (r->error) {
        LIT(&l, ",\"error\":");
        lit(&l, r->error, r->error_len);
    }
    if (r->exception) {
        LIT(&l, ",\"exception\":\"");
        lit(&l, r->exception, strlen(r->exception));
        LIT(&l, "\"");
    }
    LIT(&l, "}\n");
    ASSERT(l.n <= need);
    return finish(h, &l);
}

uint64_t history_nemesis(struct history *h, int64_t time_ns, const char *f, const char *value,
                         size_t value_len)
{
    size_t need = 128 + strlen(f) + value_len;
    struct line l = {.p = reserve(h, need)};
    LIT(&l, "{\"index\":");
    l.n += json_fmt_u64(l.p + l.n, h->index);
    LIT(&l, ",\"time\":");
    l.n += json_fmt_i64(l.p + l.n, time_ns);
    LIT(&l, ",\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"");
    lit(&l, f, strlen(f));
    LIT(&l, "\",\"value\":");
    lit(&l, value, value_len);
    LIT(&l, "}\n");
    ASSERT(l.n <= need);
    return finish(h, &l);
}
