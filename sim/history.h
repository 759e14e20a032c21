/*
 * history.h: the run's op history, written as it happens to history.jsonl.
 *
 * One JSON object per line, one line per event, as Jepsen's history holds them: an invoke, then
 * its completion (ok, fail or info), plus nemesis events. Lines are formatted by hand into a
 * 1 MiB buffer and written in large blocks, so recording costs a few per cent of throughput;
 * a write error (a full disk) stops the file, keeps the count and is reported once, and the run
 * goes on with everything else intact.
 * Depends on: buf, json. Used by: run, check.
 */
#ifndef EDDY_SIM_HISTORY_H
#define EDDY_SIM_HISTORY_H

#include "eddy/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_BUF (1u << 20)

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

struct history {
    int fd; /* -1 when not writing */
    struct buf out;
    uint64_t index;  /* lines so far: the next line's index */
    uint64_t offset; /* bytes so far (written or buffered) */
    int error;       /* first write error (positive errno), 0 if none */
    uint64_t lost;   /* lines not written because of it */
};

/* Opens path for writing (truncating). 0, or a negative errno. path NULL = count only. */
int history_open(struct history *h, const char *path);

/* Appends an op; returns the byte offset of its line in the file (the op's reference). */
uint64_t history_op(struct history *h, const struct op_rec *r);

/* Appends a nemesis event: f ("start-partition"), value (JSON text). */
uint64_t history_nemesis(struct history *h, int64_t time_ns, const char *f, const char *value,
                         size_t value_len);

/* Writes what is buffered. 0 or a negative errno (also remembered in h->error). */
int history_flush(struct history *h);

/* Flushes and closes. */
int history_close(struct history *h);

#endif /* EDDY_SIM_HISTORY_H */
