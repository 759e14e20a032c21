/*
 * buf.c: the bounded head/tail byte buffer of buf.h.
 * Depends on: alloc, util. Used by: io, proc, history.
 */
#include "eddy/buf.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
    ASSERT(max > 0);
    *b = (struct buf){.max = max};
}

void buf_fini(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->head = b->tail = b->cap = 0;
}

char *buf_reserve(struct buf *b, size_t n)
{
    size_t len = buf_len(b);
    if (n > b->max - len)
        return NULL;
    if (b->data && b->tail + n <= b->cap)
        return b->data + b->tail;
    if (b->head > 0) {
        /* Compact first: the live bytes are usually a short partial write. */
        memmove(b->data, b->data + b->head, len);
        b->head = 0;
        b->tail = len;
        if (len + n <= b->cap)
            return b->data + b->tail;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < len + n)
        cap *= 2;
    if (cap > b->max)
        cap = b->max;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
    return b->data + b->tail;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    char *dst = buf_reserve(b, n);
    if (!dst)
        return -ENOBUFS;
    memcpy(dst, p, n);
    buf_commit(b, n);
    return 0;
}

void buf_consume(struct buf *b, size_t n)
{
    ASSERT(n <= buf_len(b));
    b->head += n;
    if (b->head == b->tail)
        b->head = b->tail = 0;
}

void buf_clear(struct buf *b)
{
    b->head = b->tail = 0;
}

size_t buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return 0;
    size_t want = (size_t)n;
    size_t room = b->max - buf_len(b);
    if (room == 0)
        return 0;
    size_t take = EDDY_MIN(want, room - 1 > 0 ? room - 1 : 0);
    char *dst = buf_reserve(b, take + 1);
    if (!dst)
        return 0;
    va_start(ap, fmt);
    vsnprintf(dst, take + 1, fmt, ap);
    va_end(ap);
    buf_commit(b, take);
    return take;
}
