/*
 * fuzz_node_input.c: eddy-node's input handling, fed the way stdin feeds it.
 *
 * The input is a stretch of stdin. It goes through the line framer in reads of varying sizes,
 * checked against a plain split on '\n', and every line goes to node_handle_line with an output
 * buffer of exactly NODE_REPLY_MAX(len) bytes, so that ASan catches a reply that outgrows the
 * bound node.h promises. A request with an integer msg_id must get exactly one reply and anything
 * else none; a reply must be one line of valid JSON with a closed envelope addressed back to the
 * sender, and a body closed per its type. A first byte >= 0x80 (never valid JSON) picks the ID
 * strategy and an injected clock's behaviour; the default strategy must never repeat an ID and
 * must keep the IDs of one incarnation in creation order, whatever the clock does.
 * Depends on: node, io (limits), line, msg, json, buf, ids, fuzzkit.h.
 */
#include "fuzzkit.h"
#include "io.h"
#include "node.h"
#include "eddy/buf.h"
#include "eddy/ids.h"
#include "eddy/json.h"
#include "eddy/line.h"
#include "eddy/msg.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define FUZZ_LINE_MAX 2048u /* framer limit: inputs of up to 4 KiB exercise oversized lines */
#define FUZZ_READ_MAX 1024u /* the framer's chunk, and the largest simulated read */
#define FUZZ_IDS_MAX 1024u  /* default-strategy IDs checked for uniqueness per input */

/* ==== An injected clock ==== */

enum clock_mode {
    CLOCK_STEPPING,  /* forwards by small uneven steps, sometimes standing still */
    CLOCK_BACKWARDS, /* forwards, then seven seconds back on every third read */
    CLOCK_FROZEN,    /* never moves */
    CLOCK_PRE_EPOCH, /* before 1970 and running backwards */
    CLOCK_MODE_COUNT,
};

struct fake_clock {
    enum clock_mode mode;
    int64_t ns;     /* what the next read returns, before its step */
    uint64_t reads; /* reads so far */
};

static int64_t fake_clock_read(void *ctx)
{
    static const int64_t steps_ns[] = {1000000, 0, 250000, 0, 10000, 3000000};
    struct fake_clock *c = ctx;
    c->reads++;
    switch (c->mode) {
    case CLOCK_STEPPING:
        c->ns += steps_ns[c->reads % (sizeof(steps_ns) / sizeof(steps_ns[0]))];
        break;
    case CLOCK_BACKWARDS:
        c->ns += c->reads % 3 == 0 ? -INT64_C(7000000000) : INT64_C(400000);
        break;
    case CLOCK_FROZEN:
        break;
    case CLOCK_PRE_EPOCH:
        c->ns -= 1500000;
        break;
    case CLOCK_MODE_COUNT:
        FUZZ_CHECK(false, "bad clock mode");
    }
    return c->ns;
}

/* ==== Per-input state ==== */

struct harness {
    struct node node;
    struct fake_clock clock;
    struct buf log;
    enum ids_kind kind;
    /* Default-strategy IDs seen so far (JSON text), for uniqueness and order. */
    char ids[FUZZ_IDS_MAX][IDS_TEXT_MAX];
    size_t id_len[FUZZ_IDS_MAX];
    size_t id_count;
};

static bool same_text(const struct json_val *v, const char *p, size_t n)
{
    return v->len == n && memcmp(v->p, p, n) == 0;
}

/* What node_handle_line must do with a line: reply exactly when this is true. Fills *req. */
static bool wants_reply(const char *line, size_t len, struct msg *req)
{
    struct json_err e = {0};
    if (msg_parse(line, len, req, &e) != 0 || req->trailing_at)
        return false;
    if (msg_envelope_problem(req, false) || req->f[MSG_IN_REPLY_TO].type != JSON_NONE)
        return false;
    const struct json_val *id = &req->f[MSG_MSG_ID];
    return id->type == JSON_NUMBER && (id->flags & JSON_F_INT);
}

/* The log gets at most one line per input line, of at most NODE_LOG_LINE_MAX bytes. */
static void check_log(const struct buf *log, bool required)
{
    size_t n = buf_len(log);
    FUZZ_CHECK(n > 0 || !required, "an ignored line left no diagnostic");
    if (n == 0)
        return;
    const char *p = buf_peek(log);
    FUZZ_CHECK(n <= NODE_LOG_LINE_MAX, "log line of %zu bytes", n);
    FUZZ_CHECK(p[n - 1] == '\n', "log line without its newline: %.*s", FUZZ_CLIP(n), p);
    FUZZ_CHECK(memchr(p, '\n', n - 1) == NULL, "more than one log line: %.*s", FUZZ_CLIP(n), p);
}

/* ==== Reply checks ==== */

enum reply_key { RK_TYPE, RK_IN_REPLY_TO, RK_ECHO, RK_ID, RK_CODE, RK_TEXT, RK_COUNT };

static const char *const reply_keys[RK_COUNT] = {"type", "in_reply_to", "echo",
                                                 "id",   "code",        "text"};

/* The set of body keys (bits of enum reply_key); aborts on a repeated or unexpected key. */
static unsigned body_keys(const struct msg *rep, const char *line, size_t len)
{
    struct json_iter it;
    struct json_val k, v;
    unsigned seen = 0;
    json_iter_init(&it, &rep->body);
    while (json_iter_next(&it, &k, &v)) {
        char name[16];
        ssize_t n = json_str_decode(&k, name, sizeof(name));
        int found = -1;
        for (int i = 0; n > 0 && i < RK_COUNT; i++)
            if ((size_t)n == strlen(reply_keys[i]) && memcmp(name, reply_keys[i], (size_t)n) == 0)
                found = i;
        FUZZ_CHECK(found >= 0, "reply body key %.*s: %.*s", (int)k.len, k.p, FUZZ_CLIP(len), line);
        FUZZ_CHECK(!(seen & (1u << found)), "reply body repeats %s: %.*s", reply_keys[found],
                   FUZZ_CLIP(len), line);
        seen |= 1u << found;
    }
    return seen;
}

static bool type_is(const struct json_val *type, const char *name)
{
    return json_str_eq(type, name, strlen(name));
}

/* Checks one default-strategy ID: its layout, that it is new, and that it sorts after the
 * previous ID of the same incarnation. */
static void check_eddy_id(struct harness *h, const struct json_val *id)
{
    const struct node *n = &h->node;
    /* "TTTTTTTTTTIIIIIIIIIIIIISSSS-node": 27 base32 digits, '-', the node id's own text. */
    FUZZ_CHECK(id->type == JSON_STRING, "default ID not a string: %.*s", (int)id->len, id->p);
    FUZZ_CHECK(id->len == 1 + 27 + 1 + (n->self_len - 2) + 1, "default ID %.*s", (int)id->len,
               id->p);
    for (size_t i = 1; i <= 27; i++)
        FUZZ_CHECK(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", id->p[i]) && id->p[i],
                   "default ID %.*s: not Crockford base32", (int)id->len, id->p);
    FUZZ_CHECK(id->p[28] == '-', "default ID %.*s", (int)id->len, id->p);
    FUZZ_CHECK(memcmp(id->p + 29, n->self + 1, n->self_len - 2) == 0,
               "default ID %.*s does not end with the node id %.*s", (int)id->len, id->p,
               (int)n->self_len, n->self);
    for (size_t i = 0; i < h->id_count; i++) {
        const char *old = h->ids[i];
        FUZZ_CHECK(h->id_len[i] != id->len || memcmp(old, id->p, id->len) != 0,
                   "ID %.*s generated twice", (int)id->len, id->p);
    }
    if (h->id_count > 0) {
        const char *prev = h->ids[h->id_count - 1];
        size_t prev_len = h->id_len[h->id_count - 1];
        /* Same incarnation (I) and node: T then S must grow. Crockford digits sort as ASCII. */
        if (prev_len == id->len && memcmp(prev + 11, id->p + 11, 13) == 0 &&
            memcmp(prev + 28, id->p + 28, id->len - 28) == 0) {
            char a[14], b[14];
            memcpy(a, prev + 1, 10);
            memcpy(a + 10, prev + 24, 4);
            memcpy(b, id->p + 1, 10);
            memcpy(b + 10, id->p + 24, 4);
            FUZZ_CHECK(memcmp(a, b, 14) < 0, "ID %.*s does not sort after %.*s", (int)id->len,
                       id->p, (int)prev_len, prev);
        }
    }
    if (h->id_count < FUZZ_IDS_MAX) {
        memcpy(h->ids[h->id_count], id->p, id->len);
        h->id_len[h->id_count++] = id->len;
    }
}

static void check_generated(struct harness *h, const struct json_val *id)
{
    switch (h->kind) {
    case IDS_EDDY:
        check_eddy_id(h, id);
        return;
    case IDS_COUNTER:
    case IDS_TIMESTAMP:
    case IDS_RANDOM32:
        FUZZ_CHECK(id->type == JSON_NUMBER && (id->flags & JSON_F_INT), "%s ID %.*s",
                   ids_kind_name(h->kind), (int)id->len, id->p);
        return;
    default:
        FUZZ_CHECK(id->type == JSON_STRING, "%s ID %.*s", ids_kind_name(h->kind), (int)id->len,
                   id->p);
        return;
    }
}

/* The error code the node must answer a request with, or 0 when it must succeed. */
static int64_t expected_error(const struct msg *req, bool was_init)
{
    const struct json_val *type = &req->f[MSG_TYPE];
    if (type_is(type, "init")) {
        const struct json_val *id = &req->f[MSG_NODE_ID], *ids = &req->f[MSG_NODE_IDS];
        if (id->type != JSON_STRING || id->len > IDS_NODE_MAX || ids->type != JSON_ARRAY)
            return 12;
        struct json_iter it;
        struct json_val v;
        json_iter_init(&it, ids);
        while (json_iter_next_elem(&it, &v))
            if (v.type != JSON_STRING)
                return 12;
        return 0;
    }
    if (!type_is(type, "echo") && !type_is(type, "generate"))
        return 10;
    if (!was_init)
        return 11;
    if (type_is(type, "echo") && req->f[MSG_ECHO].type == JSON_NONE)
        return 12;
    return 0;
}

static void check_reply(struct harness *h, const struct msg *req, bool was_init, const char *r,
                        size_t len, const char *line, size_t line_len)
{
    FUZZ_CHECK(len >= 2 && r[len - 1] == '\n', "reply is not one line: %.*s", FUZZ_CLIP(len), r);
    FUZZ_CHECK(memchr(r, '\n', len - 1) == NULL, "reply of more than one line: %.*s",
               FUZZ_CLIP(len), r);
    len--;
    struct json_val top;
    struct json_err e = {0};
    ssize_t n = json_scan(r, len, true, &top, &e);
    FUZZ_CHECK(n == (ssize_t)len && top.type == JSON_OBJECT && top.p == r,
               "reply is not one JSON object (%s at %zu): %.*s", e.what ? e.what : "-", e.offset,
               FUZZ_CLIP(len), r);
    struct msg rep;
    FUZZ_CHECK(msg_parse(r, len, &rep, &e) == 0 && rep.trailing_at == 0, "reply: %.*s",
               FUZZ_CLIP(len), r);
    const char *problem = msg_envelope_problem(&rep, true);
    FUZZ_CHECK(!problem, "reply envelope: %s: %.*s", problem, FUZZ_CLIP(len), r);
    FUZZ_CHECK(rep.env_id.type == JSON_NONE, "reply has an envelope id: %.*s", FUZZ_CLIP(len), r);
    FUZZ_CHECK(same_text(&rep.dest, req->src.p, req->src.len), "reply not sent back: %.*s",
               FUZZ_CLIP(len), r);
    const struct node *node = &h->node;
    if (node->initialised)
        FUZZ_CHECK(same_text(&rep.src, node->self, node->self_len), "reply src: %.*s",
                   FUZZ_CLIP(len), r);
    else
        FUZZ_CHECK(same_text(&rep.src, req->dest.p, req->dest.len), "reply src: %.*s",
                   FUZZ_CLIP(len), r);
    const struct json_val *irt = &rep.f[MSG_IN_REPLY_TO];
    FUZZ_CHECK(same_text(irt, req->f[MSG_MSG_ID].p, req->f[MSG_MSG_ID].len),
               "in_reply_to is not the msg_id: %.*s", FUZZ_CLIP(len), r);

    unsigned keys = body_keys(&rep, r, len);
    const struct json_val *type = &rep.f[MSG_TYPE];
    int64_t want = expected_error(req, was_init);
    unsigned base = 1u << RK_TYPE | 1u << RK_IN_REPLY_TO;
    if (type_is(type, "error")) {
        FUZZ_CHECK(keys == (base | 1u << RK_CODE | 1u << RK_TEXT), "error body: %.*s",
                   FUZZ_CLIP(len), r);
        int64_t code = -1;
        FUZZ_CHECK(msg_get_i64(&rep, MSG_CODE, &code) == 0 && code == want,
                   "error code %lld, expected %lld, for %.*s: %.*s", (long long)code,
                   (long long)want, FUZZ_CLIP(line_len), line, FUZZ_CLIP(len), r);
        FUZZ_CHECK(rep.f[MSG_TEXT].type == JSON_STRING, "error text: %.*s", FUZZ_CLIP(len), r);
        return;
    }
    FUZZ_CHECK(want == 0, "expected error %lld for %.*s, got %.*s", (long long)want,
               FUZZ_CLIP(line_len), line, FUZZ_CLIP(len), r);
    const struct json_val *rtype = &req->f[MSG_TYPE];
    if (type_is(type, "init_ok")) {
        FUZZ_CHECK(type_is(rtype, "init") && keys == base, "init_ok: %.*s", FUZZ_CLIP(len), r);
        FUZZ_CHECK(same_text(&rep.src, req->f[MSG_NODE_ID].p, req->f[MSG_NODE_ID].len),
                   "init_ok not from the new node id: %.*s", FUZZ_CLIP(len), r);
    } else if (type_is(type, "echo_ok")) {
        FUZZ_CHECK(type_is(rtype, "echo") && keys == (base | 1u << RK_ECHO), "echo_ok: %.*s",
                   FUZZ_CLIP(len), r);
        FUZZ_CHECK(same_text(&rep.f[MSG_ECHO], req->f[MSG_ECHO].p, req->f[MSG_ECHO].len),
                   "echo changed: %.*s", FUZZ_CLIP(len), r);
    } else if (type_is(type, "generate_ok")) {
        FUZZ_CHECK(type_is(rtype, "generate") && keys == (base | 1u << RK_ID), "generate_ok: %.*s",
                   FUZZ_CLIP(len), r);
        check_generated(h, &rep.f[MSG_ID]);
    } else {
        FUZZ_CHECK(false, "unknown reply type: %.*s", FUZZ_CLIP(len), r);
    }
}

/* ==== Driving the node ==== */

static void handle_line(struct harness *h, const char *line, size_t len)
{
    struct node_stats before = h->node.stats;
    bool was_init = h->node.initialised;
    struct buf out;
    /* Exactly the room node.h asks for, so the allocation ends where the bound does. */
    buf_init(&out, NODE_REPLY_MAX(len));
    buf_clear(&h->log);
    node_handle_line(&h->node, line, len, &out, &h->log);

    const struct node_stats *s = &h->node.stats;
    FUZZ_CHECK(s->lines == before.lines + 1, "lines not counted");
    FUZZ_CHECK(s->replies + s->rejected == s->lines, "a line neither answered nor rejected");
    FUZZ_CHECK(s->errors <= s->replies, "more errors than replies");
    struct msg req;
    bool want = wants_reply(line, len, &req);
    FUZZ_CHECK(want == (buf_len(&out) > 0), "%s: %.*s", want ? "no reply" : "unexpected reply",
               FUZZ_CLIP(len), line);
    check_log(&h->log, !want);
    if (want)
        check_reply(h, &req, was_init, buf_peek(&out), buf_len(&out), line, len);
    buf_fini(&out);
}

static void handle_oversized(struct harness *h, const struct line_reader *lr, size_t want_len)
{
    FUZZ_CHECK(lr->discarded == want_len, "oversized line of %zu bytes reported as %zu", want_len,
               lr->discarded);
    uint64_t rejected = h->node.stats.rejected;
    buf_clear(&h->log);
    node_handle_oversized(&h->node, lr->line_no, lr->discarded, &h->log);
    FUZZ_CHECK(h->node.stats.rejected == rejected + 1, "oversized line not counted");
    check_log(&h->log, true);
}

/* The reference framing: the next '\n'-terminated piece of [*at, end), or the unterminated rest
 * when there is no newline left. Advances *at past the piece and its newline. */
static size_t next_piece(const uint8_t **at, const uint8_t *end, const uint8_t **piece)
{
    const uint8_t *nl = memchr(*at, '\n', (size_t)(end - *at));
    size_t n = (size_t)((nl ? nl : end) - *at);
    *piece = *at;
    *at = nl ? nl + 1 : end;
    return n;
}

/* Takes every complete line from the framer, checking each against the reference. */
static void take_lines(struct harness *h, struct line_reader *lr, const uint8_t **ref,
                       const uint8_t *end, bool finish)
{
    for (;;) {
        const char *line;
        size_t len;
        int rc = finish ? line_reader_finish(lr, &line, &len) : line_reader_next(lr, &line, &len);
        if (rc == 0) {
            FUZZ_CHECK(!finish || *ref == end, "framer lost the last line");
            return;
        }
        const uint8_t *piece;
        size_t n = next_piece(ref, end, &piece);
        if (rc < 0) {
            FUZZ_CHECK(rc == -EMSGSIZE && n > FUZZ_LINE_MAX, "line of %zu bytes refused (%d)", n,
                       rc);
            handle_oversized(h, lr, n);
        } else {
            FUZZ_CHECK(rc == 1 && len == n && len <= FUZZ_LINE_MAX &&
                           (n == 0 || memcmp(line, piece, n) == 0),
                       "framer gave %zu bytes for a line of %zu", len, n);
            handle_line(h, line, len);
        }
        if (finish)
            return;
    }
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    static struct harness h;
    memset(&h.node, 0, sizeof(h.node));
    h.kind = IDS_EDDY;
    h.clock = (struct fake_clock){.mode = CLOCK_STEPPING, .ns = INT64_C(1700000000000000000)};
    h.id_count = 0;
    if (size > 0 && data[0] >= 0x80) {
        /* Not JSON in any case: a selector of the ID strategy and the clock. */
        unsigned s = data[0] - 0x80u;
        h.kind = (enum ids_kind)(s % IDS_KIND_COUNT);
        h.clock.mode = (enum clock_mode)(s / IDS_KIND_COUNT % CLOCK_MODE_COUNT);
        if (h.clock.mode == CLOCK_PRE_EPOCH)
            h.clock.ns = -INT64_C(315360000000000000);
        data++;
        size--;
    }
    node_init(&h.node,
              &(struct node_opts){.ids = h.kind, .clock = fake_clock_read, .clock_ctx = &h.clock});
    buf_init(&h.log, IO_LOG_MAX);

    struct line_reader lr;
    line_reader_init(&lr, FUZZ_LINE_MAX, FUZZ_READ_MAX);
    const uint8_t *ref = data, *end = data + size;
    uint32_t rnd = (uint32_t)size * 2654435761u + 1;
    size_t at = 0;
    while (at < size) {
        size_t room;
        char *space = line_reader_space(&lr, &room);
        FUZZ_CHECK(room >= 1, "framer offered no room");
        /* Reads of 1 to 64 bytes, or as much as there is room for: partial lines everywhere. */
        rnd = rnd * 1103515245u + 12345u;
        size_t want = (rnd >> 16) & 1 ? FUZZ_READ_MAX : 1 + ((rnd >> 17) & 63);
        size_t n = want < room ? want : room;
        if (n > size - at)
            n = size - at;
        memcpy(space, data + at, n);
        line_reader_commit(&lr, n);
        at += n;
        take_lines(&h, &lr, &ref, end, false);
    }
    take_lines(&h, &lr, &ref, end, true);
    FUZZ_CHECK(ref == end, "framer stopped before the end of the input");
    line_reader_fini(&lr);
    buf_fini(&h.log);
    return 0;
}
