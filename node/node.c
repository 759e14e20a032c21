/*
 * node.c: init, echo and generate, and the errors Maelstrom expects for everything else.
 *
 * Replies are written by hand rather than through cJSON: every value a reply carries (src,
 * dest, the echo payload, msg_id) is copied as the exact text it had in the request, which is
 * both faster and the only way to echo integers beyond 2^53 unchanged. Reply bodies are closed,
 * as Maelstrom's schemas require: echo_ok = {type, echo, in_reply_to}, generate_ok = {type, id,
 * in_reply_to}, init_ok = {type, in_reply_to}, error = {type, code, text, in_reply_to}.
 * Depends on: msg, json, ids, buf, errors. Used by: io, tests.
 */
#include "node.h"
#include "eddy/errors.h"
#include "eddy/msg.h"
#include "eddy/out.h"
#include "eddy/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ==== Output helpers ==== */

EDDY_PRINTF(2, 3) static void node_log(struct buf *log, const char *fmt, ...)
{
    char line[NODE_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = EDDY_MIN((size_t)n, sizeof(line) - 2);
    line[len++] = '\n';
    if (log)
        buf_append(log, line, len); /* a full log drops the line; stdout is what matters */
}

/* Copies up to NODE_LOG_QUOTE_MAX bytes of a bad line into `q` as printable ASCII. */
static void quote(char *q, size_t cap, const char *line, size_t len)
{
    ASSERT(cap >= 4);
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < cap; i++) {
        unsigned char c = (unsigned char)line[i];
        q[n++] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
    }
    if (len > n) {
        /* The loop left room for the marker and the NUL. */
        memcpy(q + n, "...", 3);
        n += 3;
    }
    q[n] = '\0';
}

/* Starts a reply envelope: {"src":SELF,"dest":REQ_SRC,"body":{"type":"TYPE" */
static void begin_reply(struct node *n, struct out *o, const struct msg *m, const char *type)
{
    OUT_LIT(o, "{\"src\":");
    if (n->initialised)
        out_put(o, n->self, n->self_len);
    else
        out_val(o, &m->dest); /* before init we only know the name we were addressed by */
    OUT_LIT(o, ",\"dest\":");
    out_val(o, &m->src);
    OUT_LIT(o, ",\"body\":{\"type\":\"");
    out_put(o, type, strlen(type));
    OUT_LIT(o, "\"");
}

static void end_reply(struct out *o, const struct msg *m)
{
    OUT_LIT(o, ",\"in_reply_to\":");
    out_val(o, &m->f[MSG_MSG_ID]);
    OUT_LIT(o, "}}\n");
}

static void reply_error(struct node *n, struct out *o, const struct msg *m, enum eddy_error code,
                        const char *text)
{
    begin_reply(n, o, m, "error");
    OUT_LIT(o, ",\"code\":");
    out_i64(o, code);
    OUT_LIT(o, ",\"text\":\"");
    out_put(o, text, strlen(text)); /* our own texts need no escaping */
    OUT_LIT(o, "\"");
    end_reply(o, m);
    n->stats.errors++;
}

/* ==== Handlers ==== */

/* The node_ids array must hold strings only; returns our position in it, or -1. */
static int init_find_self(const struct json_val *ids, const struct json_val *self, bool *ok)
{
    struct json_iter it;
    struct json_val v;
    int at = 0, found = -1;
    *ok = true;
    json_iter_init(&it, ids);
    while (json_iter_next_elem(&it, &v)) {
        if (v.type != JSON_STRING) {
            *ok = false;
            return -1;
        }
        if (found < 0 && v.len == self->len && memcmp(v.p, self->p, v.len) == 0)
            found = at;
        at++;
    }
    return found;
}

static void handle_init(struct node *n, struct out *o, const struct msg *m, struct buf *log)
{
    const struct json_val *id = &m->f[MSG_NODE_ID];
    const struct json_val *ids = &m->f[MSG_NODE_IDS];
    if (id->type != JSON_STRING) {
        reply_error(n, o, m, EDDY_ERR_MALFORMED_REQUEST, "init needs a string node_id");
        return;
    }
    if (id->len > IDS_NODE_MAX) {
        reply_error(n, o, m, EDDY_ERR_MALFORMED_REQUEST, "node_id is longer than 256 bytes");
        return;
    }
    if (ids->type != JSON_ARRAY) {
        reply_error(n, o, m, EDDY_ERR_MALFORMED_REQUEST, "init needs a node_ids array");
        return;
    }
    bool ok;
    int index = init_find_self(ids, id, &ok);
    if (!ok) {
        reply_error(n, o, m, EDDY_ERR_MALFORMED_REQUEST, "node_ids must hold strings only");
        return;
    }
    bool again = n->initialised;
    memcpy(n->self, id->p, id->len);
    n->self_len = id->len;
    ids_init(&n->ids, &(struct ids_opts){
                          .kind = n->opts.ids,
                          .node = id->p + 1,
                          .node_len = id->len - 2,
                          .node_index = index < 0 ? 0 : (uint32_t)index,
                          .clock = n->opts.clock,
                          .clock_ctx = n->opts.clock_ctx,
                      });
    n->initialised = true;
    begin_reply(n, o, m, "init_ok");
    end_reply(o, m);
    /* One line, whatever happened: the log contract is one line per input line. */
    node_log(log, "eddy-node: %.*s initialised%s%s, ids=%s, incarnation=%016llx", (int)id->len,
             id->p, again ? " again (IDs stay unique: a new incarnation)" : "",
             index < 0 ? " (warning: node_id is not in node_ids)" : "", ids_kind_name(n->opts.ids),
             (unsigned long long)n->ids.incarnation);
}

static void handle_echo(struct node *n, struct out *o, const struct msg *m)
{
    if (m->f[MSG_ECHO].type == JSON_NONE) {
        reply_error(n, o, m, EDDY_ERR_MALFORMED_REQUEST, "echo needs an echo field");
        return;
    }
    begin_reply(n, o, m, "echo_ok");
    OUT_LIT(o, ",\"echo\":");
    out_val(o, &m->f[MSG_ECHO]);
    end_reply(o, m);
}

static void handle_generate(struct node *n, struct out *o, const struct msg *m)
{
    begin_reply(n, o, m, "generate_ok");
    OUT_LIT(o, ",\"id\":");
    o->n += ids_next(&n->ids, o->p + o->n);
    end_reply(o, m);
}

/* ==== Dispatch ==== */

void node_init(struct node *n, const struct node_opts *o)
{
    memset(n, 0, sizeof(*n));
    n->opts = *o;
}

static void reject(struct node *n, struct buf *log, const char *line, size_t len, const char *why)
{
    char q[NODE_LOG_QUOTE_MAX + 8];
    quote(q, sizeof(q), line, len);
    node_log(log, "eddy-node: ignored input line %llu (%s): %s", (unsigned long long)n->stats.lines,
             why, q);
    n->stats.rejected++;
}

static bool type_is(const struct msg *m, const char *name)
{
    return json_str_eq(&m->f[MSG_TYPE], name, strlen(name));
}

void node_handle_line(struct node *n, const char *line, size_t len, struct buf *out,
                      struct buf *log)
{
    struct msg m;
    struct json_err e = {0};
    char why[96];
    n->stats.lines++;

    int rc = msg_parse(line, len, &m, &e);
    if (rc == -EPROTO) {
        reject(n, log, line, len, "not a JSON object");
        return;
    }
    if (rc < 0) {
        snprintf(why, sizeof(why), "invalid JSON at byte %zu: %s", e.offset, e.what);
        reject(n, log, line, len, why);
        return;
    }
    if (m.trailing_at) {
        snprintf(why, sizeof(why), "invalid JSON at byte %zu: trailing characters after the value",
                 m.trailing_at);
        reject(n, log, line, len, why);
        return;
    }
    const char *problem = msg_envelope_problem(&m, false);
    if (problem) {
        reject(n, log, line, len, problem);
        return;
    }
    if (m.f[MSG_IN_REPLY_TO].type != JSON_NONE) {
        reject(n, log, line, len, "a reply, but this node sends no requests");
        return;
    }
    const struct json_val *msg_id = &m.f[MSG_MSG_ID];
    if (msg_id->type == JSON_NONE) {
        reject(n, log, line, len, "no msg_id, so no reply is possible");
        return;
    }
    if (msg_id->type != JSON_NUMBER || !(msg_id->flags & JSON_F_INT)) {
        reject(n, log, line, len, "msg_id is not an integer, so no reply is possible");
        return;
    }

    char *dst = buf_reserve(out, NODE_REPLY_MAX(len));
    ASSERT(dst); /* the caller guarantees room; see node.h */
    struct out o = {.p = dst};
    bool echo = type_is(&m, "echo"), generate = type_is(&m, "generate");
    if (type_is(&m, "init"))
        handle_init(n, &o, &m, log);
    else if (!echo && !generate)
        reply_error(n, &o, &m, EDDY_ERR_NOT_SUPPORTED, "unsupported message type");
    else if (!n->initialised)
        reply_error(n, &o, &m, EDDY_ERR_TEMPORARILY_UNAVAILABLE, "not initialised yet");
    else if (echo)
        handle_echo(n, &o, &m);
    else
        handle_generate(n, &o, &m);
    ASSERT(o.n <= NODE_REPLY_MAX(len));
    buf_commit(out, o.n);
    n->stats.replies++;
}

void node_handle_oversized(struct node *n, unsigned long line_no, size_t len, struct buf *log)
{
    n->stats.lines++;
    n->stats.rejected++;
    node_log(log, "eddy-node: ignored input line %lu: %zu bytes is over the line limit", line_no,
             len);
}
