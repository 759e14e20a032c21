/*
 * node.h: eddy-node's protocol logic, free of I/O.
 *
 * node_handle_line() takes one line of stdin and appends at most one reply line to an output
 * buffer, or one diagnostic line to a log buffer; the libev shell in io.c owns the descriptors.
 * Keeping this part pure lets the tests drive every message type and every bad input in-process.
 * Depends on: msg, ids, buf, errors. Used by: io, main, tests.
 */
#ifndef EDDY_NODE_H
#define EDDY_NODE_H

#include "eddy/buf.h"
#include "eddy/ids.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest reply node_handle_line can produce for an input line of n bytes. Every field a
 * reply copies (src, dest, echo, msg_id) is a disjoint part of the input line. */
#define NODE_REPLY_MAX(n) ((n) + 512 + IDS_TEXT_MAX + IDS_NODE_MAX)

/* Longest diagnostic line, and how much of a bad input line it quotes. */
#define NODE_LOG_LINE_MAX 512
#define NODE_LOG_QUOTE_MAX 160

struct node_opts {
    enum ids_kind ids;   /* ID strategy */
    ids_clock_fn *clock; /* NULL for the real wall clock; tests inject time here */
    void *clock_ctx;
};

struct node_stats {
    uint64_t lines;    /* lines handled */
    uint64_t replies;  /* reply lines written */
    uint64_t errors;   /* error replies among them */
    uint64_t rejected; /* lines answered only on stderr */
};

struct node {
    struct node_opts opts;
    bool initialised;
    char self[IDS_NODE_MAX + 2]; /* our node id as JSON text, quotes included */
    size_t self_len;
    struct ids ids;
    struct node_stats stats;
};

void node_init(struct node *n, const struct node_opts *o);

/* Handles one line (newline excluded). Appends at most NODE_REPLY_MAX(len) bytes (one line,
 * newline included) to `out`, which must have that much room below its maximum, and at most one
 * line of NODE_LOG_LINE_MAX bytes to `log`; `log` is dropped silently when full, `out` never. */
void node_handle_line(struct node *n, const char *line, size_t len, struct buf *out,
                      struct buf *log);

/* Records an input line longer than the framer's maximum (it was discarded unread). */
void node_handle_oversized(struct node *n, unsigned long line_no, size_t len, struct buf *log);

#endif /* EDDY_NODE_H */
