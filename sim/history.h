/*
 * history.h: the run's op history, written as it happens to history.jsonl.
 *
 * One JSON object per line, one line per event, as Jepsen's history holds them: an invoke, then
 * its completion (ok, fail or info), plus nemesis events. Lines are formatted by hand into
 * 1 MiB buffers that a writer thread writes in large blocks, so neither formatting nor a disk
 * that falls behind holds up the run (up to HISTORY_QUEUE_MAX buffers, after which the run
 * waits for the disk). A write error (a full disk) stops the file, keeps the count and is
 * reported once, and the run goes on with everything else intact. A byte budget
 * (history_set_max) stops the file the same way, at a whole line, before a long run at full
 * speed fills the disk (267 bytes per op: 14 GB a minute).
 * Depends on: buf, json. Used by: run, check.
 */
#ifndef EDDY_SIM_HISTORY_H
#define EDDY_SIM_HISTORY_H

#include "eddy/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_BUF (1u << 20) /* one buffer; a full one goes to the writer thread */
#define HISTORY_QUEUE_MAX 64   /* buffers waiting for the disk (64 MiB) */

enum op_type {
    OP_INVOKE,
    OP_OK,
    OP_FAIL,
    OP_INFO,
};

enum op_f {
    F_ECHO,
    F_GENERATE,
};

const char *op_type_name(enum op_type t);
const char *op_f_name(enum op_f f);

/* One history line. Texts are JSON (already escaped), borrowed for the call. */
struct op_rec {
    int64_t time_ns; /* since the start of the test */
    uint64_t process;
    enum op_type type;
    enum op_f f;
    const char *value; /* JSON text, "null" when absent */
    size_t value_len;
    const char *node; /* the node's name as a JSON string, quotes included */
    size_t node_len;
    uint32_t client;   /* client number (cN) */
    const char *error; /* JSON text or NULL */
    size_t error_len;
    const char *exception; /* an exception class name, or NULL */
};

struct history_writer;

struct history {
    int fd;                   /* -1 when not writing */
    struct buf *cur;          /* being filled; handed to the writer thread when full */
    struct history_writer *w; /* the writer thread, NULL when not writing */
    uint64_t index;           /* lines so far: the next line's index */
    uint64_t offset;          /* bytes so far (written or buffered) */
    int error;                /* first write error seen (positive errno), 0 if none */
    uint64_t lost;            /* lines not written because of it, as last reported */
    uint64_t lost_here;       /* of those, lines dropped before reaching the writer */
    uint64_t max_bytes;       /* the budget, 0 for none */
    uint64_t over_max;        /* lines not written because of it */
};

/* Opens path for writing (truncating). 0, or a negative errno. path NULL = count only. */
int history_open(struct history *h, const char *path);

/* Stops the file (lines counted in over_max, not written) before it would pass max_bytes; 0 for
 * no limit. */
void history_set_max(struct history *h, uint64_t max_bytes);

/* Appends an op; returns the byte offset of its line in the file (the op's reference; past the
 * budget, the offset the file stopped at). */
uint64_t history_op(struct history *h, const struct op_rec *r);

/* Appends a nemesis event: f ("start-partition"), value (JSON text). */
uint64_t history_nemesis(struct history *h, int64_t time_ns, const char *f, const char *value,
                         size_t value_len);

/* Hands what is buffered to the writer (or drops it, counted, when there is no file). 0, or the
 * negative errno of the first write error seen so far (also in h->error). */
int history_flush(struct history *h);

/* Buffers waiting for the writer now, and buffers allocated so far (at most
 * HISTORY_QUEUE_MAX + 1): what the tests of the queue's maximum look at. */
size_t history_queued(struct history *h);
size_t history_buffers(struct history *h);

/* Flushes, waits for the writer to finish, and closes. h->error and h->lost are final. */
int history_close(struct history *h);

#endif /* EDDY_SIM_HISTORY_H */
