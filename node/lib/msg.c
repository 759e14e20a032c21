/*
 * msg.c: sorting a Maelstrom line's members into the slots of struct msg.
 *
 * Key lookup is a switch on the key's length followed by one memcmp, cheaper than hashing for a
 * table this small; escaped keys (rare, but legal) are compared through json_str_eq.
 * Depends on: json, util. Used by: node, sim.
 */
#include "eddy/msg.h"
#include "eddy/util.h"

#include <errno.h>
#include <string.h>

static const char *const key_names[MSG_KEY_COUNT] = {
    [MSG_TYPE] = "type", [MSG_MSG_ID] = "msg_id",   [MSG_IN_REPLY_TO] = "in_reply_to",
    [MSG_ECHO] = "echo", [MSG_ID] = "id",           [MSG_CODE] = "code",
    [MSG_TEXT] = "text", [MSG_NODE_ID] = "node_id", [MSG_NODE_IDS] = "node_ids",
};

const char *msg_key_name(enum msg_key k)
{
    ASSERT(k < MSG_KEY_COUNT);
    return key_names[k];
}

static bool key_is(const struct json_val *key, const char *name, size_t n)
{
    if (!(key->flags & JSON_F_ESCAPED))
        return key->len == n + 2 && memcmp(key->p + 1, name, n) == 0;
    return json_str_eq(key, name, n);
}

static int body_slot(const struct json_val *key)
{
    if (key->flags & JSON_F_ESCAPED) {
        for (int k = 0; k < MSG_KEY_COUNT; k++)
            if (json_str_eq(key, key_names[k], strlen(key_names[k])))
                return k;
        return -1;
    }
    const char *s = key->p + 1;
    switch (key->len - 2) {
    case 2:
        return memcmp(s, "id", 2) == 0 ? MSG_ID : -1;
    case 4:
        if (memcmp(s, "type", 4) == 0)
            return MSG_TYPE;
        if (memcmp(s, "echo", 4) == 0)
            return MSG_ECHO;
        if (memcmp(s, "code", 4) == 0)
            return MSG_CODE;
        if (memcmp(s, "text", 4) == 0)
            return MSG_TEXT;
        return -1;
    case 6:
        return memcmp(s, "msg_id", 6) == 0 ? MSG_MSG_ID : -1;
    case 7:
        return memcmp(s, "node_id", 7) == 0 ? MSG_NODE_ID : -1;
    case 8:
        return memcmp(s, "node_ids", 8) == 0 ? MSG_NODE_IDS : -1;
    case 11:
        return memcmp(s, "in_reply_to", 11) == 0 ? MSG_IN_REPLY_TO : -1;
    default:
        return -1;
    }
}

static void envelope_member(struct msg *m, const struct json_val *key, const struct json_val *val)
{
    if (key_is(key, "src", 3))
        m->src = *val;
    else if (key_is(key, "dest", 4))
        m->dest = *val;
    else if (key_is(key, "body", 4))
        m->body = *val;
    else if (key_is(key, "id", 2))
        m->env_id = *val;
    else if (m->env_extra.type == JSON_NONE)
        m->env_extra = *key;
}

static void body_member(struct msg *m, const struct json_val *key, const struct json_val *val)
{
    int k = body_slot(key);
    if (k >= 0) {
        m->f[k] = *val;
        return;
    }
    if (m->body_extra_count++ == 0)
        m->body_extra = *key;
}

/* The general walk, for an envelope or body with more members than the scan recorded. */
static void parse_by_iteration(struct msg *m, const struct json_val *top)
{
    struct json_iter it;
    struct json_val key, val;
    json_iter_init(&it, top);
    while (json_iter_next(&it, &key, &val))
        envelope_member(m, &key, &val);
    if (m->body.type != JSON_OBJECT)
        return;
    json_iter_init(&it, &m->body);
    while (json_iter_next(&it, &key, &val))
        body_member(m, &key, &val);
}

int msg_parse(const char *line, size_t len, struct msg *m, struct json_err *e)
{
    struct json_val top;
    struct json_members t;
    memset(m, 0, sizeof(*m));
    ssize_t n = json_scan_members(line, len, false, &top, e, &t);
    if (n < 0)
        return (int)n;
    if (top.type != JSON_OBJECT)
        return -EPROTO;
    for (size_t i = (size_t)n; i < len; i++) {
        char c = line[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            m->trailing_at = i;
            break;
        }
    }
    if (t.overflow) {
        parse_by_iteration(m, &top);
        return 0;
    }
    /* As the walk would: the last "body" key wins, and its members are the body's fields. */
    int body = -1;
    for (unsigned i = 0; i < t.n; i++) {
        if (t.m[i].parent != -1)
            continue;
        envelope_member(m, &t.m[i].key, &t.m[i].val);
        if (m->body.p == t.m[i].val.p)
            body = (int)i;
    }
    if (m->body.type != JSON_OBJECT)
        return 0;
    for (unsigned i = 0; i < t.n; i++)
        if (t.m[i].parent == body)
            body_member(m, &t.m[i].key, &t.m[i].val);
    return 0;
}

const char *msg_envelope_problem(const struct msg *m, bool closed)
{
    if (m->src.type == JSON_NONE)
        return "src is missing";
    if (m->src.type != JSON_STRING)
        return "src is not a string";
    if (m->dest.type == JSON_NONE)
        return "dest is missing";
    if (m->dest.type != JSON_STRING)
        return "dest is not a string";
    if (m->body.type == JSON_NONE)
        return "body is missing";
    if (m->body.type != JSON_OBJECT)
        return "body is not an object";
    if (m->env_id.type != JSON_NONE &&
        (m->env_id.type != JSON_NUMBER || !(m->env_id.flags & JSON_F_INT)))
        return "the envelope's id is not an integer";
    if (closed && m->env_extra.type != JSON_NONE)
        return "the envelope has a key other than src, dest, body and id";
    if (m->f[MSG_TYPE].type == JSON_NONE)
        return "body.type is missing";
    if (m->f[MSG_TYPE].type != JSON_STRING)
        return "body.type is not a string";
    return NULL;
}

int msg_get_i64(const struct msg *m, enum msg_key k, int64_t *out)
{
    ASSERT(k < MSG_KEY_COUNT);
    const struct json_val *v = &m->f[k];
    if (v->type == JSON_NONE)
        return -ENOENT;
    return json_to_i64(v, out);
}
