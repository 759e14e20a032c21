/*
 * line.c: the bounded line framer of line.h.
 *
 * Invariant: end - start <= max_line unless discarding, so compaction never moves more than
 * max_line bytes and the buffer never grows.
 * Depends on: alloc, util. Used by: io, proc.
 */
#include "eddy/line.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void line_reader_init(struct line_reader *lr, size_t max_line, size_t chunk)
{
    ASSERT(max_line > 0);
    ASSERT(chunk > 0);
    *lr = (struct line_reader){.max_line = max_line, .cap = max_line + chunk};
    lr->data = xmalloc(lr->cap);
}

void line_reader_fini(struct line_reader *lr)
{
    free(lr->data);
    lr->data = NULL;
}

char *line_reader_space(struct line_reader *lr, size_t *room)
{
    if (lr->start > 0) {
        size_t live = lr->end - lr->start;
        memmove(lr->data, lr->data + lr->start, live);
        lr->scan -= lr->start;
        lr->end = live;
        lr->start = 0;
    }
    ASSERT(lr->end < lr->cap);
    *room = lr->cap - lr->end;
    return lr->data + lr->end;
}

void line_reader_commit(struct line_reader *lr, size_t n)
{
    ASSERT(n <= lr->cap - lr->end);
    lr->end += n;
}

int line_reader_next(struct line_reader *lr, const char **line, size_t *len)
{
    char *nl = memchr(lr->data + lr->scan, '\n', lr->end - lr->scan);
    if (!nl) {
        lr->scan = lr->end;
        size_t partial = lr->end - lr->start;
        if (lr->discarding || partial > lr->max_line) {
            /* Drop what we hold of the oversized line; keep counting its length. */
            if (!lr->discarding) {
                lr->discarding = true;
                lr->discarded = 0;
            }
            lr->discarded += partial;
            lr->start = lr->scan = lr->end = 0;
        }
        return 0;
    }
    size_t at = (size_t)(nl - lr->data);
    size_t n = at - lr->start;
    const char *p = lr->data + lr->start;
    lr->start = lr->scan = at + 1;
    lr->line_no++;
    if (lr->discarding) {
        lr->discarded += n;
        lr->discarding = false;
        return -EMSGSIZE;
    }
    if (n > lr->max_line) {
        lr->discarded = n;
        return -EMSGSIZE;
    }
    *line = p;
    *len = n;
    return 1;
}

int line_reader_finish(struct line_reader *lr, const char **line, size_t *len)
{
    size_t n = lr->end - lr->start;
    if (lr->discarding) {
        lr->discarded += n;
        lr->discarding = false;
        lr->start = lr->scan = lr->end = 0;
        lr->line_no++;
        return -EMSGSIZE;
    }
    if (n == 0)
        return 0;
    *line = lr->data + lr->start;
    *len = n;
    lr->start = lr->scan = lr->end = 0;
    lr->line_no++;
    return 1;
}
