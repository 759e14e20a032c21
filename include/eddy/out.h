/*
 * out.h: writing a line into a buffer whose room was reserved beforehand.
 *
 * Replies, requests and history lines are assembled by hand (no printf, no cJSON) into space
 * the caller reserved for the longest line possible; these helpers only append, and the caller
 * asserts the length it reserved was enough.
 * Depends on: json (numbers). Used by: node, sim traffic, sim history.
 */
#ifndef EDDY_OUT_H
#define EDDY_OUT_H

#include "eddy/json.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct out {
    char *p;  /* the reserved space */
    size_t n; /* bytes written so far */
};

static inline void out_put(struct out *o, const char *s, size_t n)
{
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

/* Appends a string literal. */
#define OUT_LIT(o, s) out_put((o), (s), sizeof(s) - 1)

static inline void out_u64(struct out *o, uint64_t v)
{
    o->n += json_fmt_u64(o->p + o->n, v);
}

static inline void out_i64(struct out *o, int64_t v)
{
    o->n += json_fmt_i64(o->p + o->n, v);
}

/* Appends the exact text of a scanned JSON value. */
static inline void out_val(struct out *o, const struct json_val *v)
{
    out_put(o, v->p, v->len);
}

#endif /* EDDY_OUT_H */
