/*
 * buf.h: a byte buffer with a hard maximum, used for every output queue.
 *
 * Bytes are appended at the tail and consumed from the head, so a partial write(2) costs no
 * memmove; the live bytes are compacted to the front only when the tail runs out of room.
 * Capacity grows on demand up to `max` and never beyond: an append that would pass it fails
 * with -ENOBUFS and changes nothing, which is how a peer that stops reading is kept from growing
 * memory without bound.
 * Depends on: alloc. Used by: node io, sim proc, history, report.
 */
#ifndef EDDY_BUF_H
#define EDDY_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data;  /* owned; NULL until the first append */
    size_t head; /* first live byte */
    size_t tail; /* one past the last live byte */
    size_t cap;  /* allocated bytes */
    size_t max;  /* most live bytes ever allowed */
};

/* Starts empty with the given maximum of live bytes (> 0). Allocates nothing yet. */
void buf_init(struct buf *b, size_t max);
void buf_fini(struct buf *b);

static inline size_t buf_len(const struct buf *b)
{
    return b->tail - b->head;
}

static inline const char *buf_peek(const struct buf *b)
{
    return b->data + b->head;
}

/* Room for n more bytes at the tail: returns a pointer to write them (then call buf_commit with
 * the number actually written), or NULL if len + n would exceed max. */
char *buf_reserve(struct buf *b, size_t n);

static inline void buf_commit(struct buf *b, size_t n)
{
    b->tail += n;
}

/* Appends n bytes; 0, or -ENOBUFS (nothing appended) when len + n would exceed max. */
int buf_append(struct buf *b, const void *p, size_t n);

/* Appends formatted text (truncated at the maximum). Returns the bytes appended. */
size_t buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Drops n bytes (<= len) from the head. */
void buf_consume(struct buf *b, size_t n);

/* Drops everything; keeps the allocation. */
void buf_clear(struct buf *b);

#endif /* EDDY_BUF_H */
