/*
 * validate.c: Maelstrom's acceptance rules for node output (see validate.h).
 *
 * The reasons are written for the person whose node broke the rule: they name the key or the
 * byte, and what Maelstrom expected instead.
 * Depends on: msg, json. Used by: traffic, tests, fuzz.
 */
#include "validate.h"
#include "eddy/json.h"
#include "eddy/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Maelstrom's reader (maelstrom src/maelstrom/process.clj parse-msg, net.clj Message): the
 * closed schema {:src String, :dest String, :body Any, optional :id Int}. The body is not
 * required to have a type, or to exist: parse-msg turns a missing or null body into {}, and only
 * a body its key conversion cannot walk (a string, a number, a boolean) throws. An array body is
 * refused here, where Maelstrom's conversion happens to turn [] and arrays of [key, value] pairs
 * into objects (README, Deliberate differences). */
static const char *envelope_problem(const struct msg *m)
{
    if (m->src.type == JSON_NONE)
        return "src is missing";
    if (m->src.type != JSON_STRING)
        return "src is not a string";
    if (m->dest.type == JSON_NONE)
        return "dest is missing";
    if (m->dest.type != JSON_STRING)
        return "dest is not a string";
    if (m->body.type != JSON_NONE && m->body.type != JSON_NULL && m->body.type != JSON_OBJECT)
        return "body is not an object";
    if (m->env_id.type != JSON_NONE &&
        (m->env_id.type != JSON_NUMBER || !(m->env_id.flags & JSON_F_INT)))
        return "the envelope's id is not an integer";
    if (m->env_extra.type != JSON_NONE)
        return "the envelope has a key other than src, dest, body and id";
    return NULL;
}

bool msg_type_is(const struct msg *m, const char *type)
{
    const struct json_val *t = &m->f[MSG_TYPE];
    return t->type == JSON_STRING && json_str_eq(t, type, strlen(type));
}

bool validate_line(const char *line, size_t len, struct msg *m, bool *warning, char *why,
                   size_t cap)
{
    struct json_err e = {0};
    *warning = false;
    int rc = msg_parse(line, len, m, &e);
    if (rc == -EPROTO) {
        snprintf(why, cap, "a line that is JSON but not an object");
        return false;
    }
    if (rc < 0) {
        if (len == 0)
            snprintf(why, cap,
                     "an empty line, which Maelstrom reads as a message with no src, "
                     "dest or body");
        else
            snprintf(why, cap, "a line that is not well-formed JSON (%s at byte %zu)", e.what,
                     e.offset);
        return false;
    }
    const char *problem = envelope_problem(m);
    if (problem) {
        snprintf(why, cap, "a malformed message: %s", problem);
        return false;
    }
    if (m->trailing_at) {
        *warning = true;
        snprintf(why, cap, "characters after the JSON object (from byte %zu)", m->trailing_at);
    }
    return true;
}

const char *validate_reply(const struct msg *m, enum op_f f, char *why, size_t cap)
{
    const char *want = f == F_ECHO ? "echo_ok" : "generate_ok";
    enum msg_key field = f == F_ECHO ? MSG_ECHO : MSG_ID;
    if (m->f[MSG_TYPE].type == JSON_NONE) {
        snprintf(why, cap, "the reply has no type, expected \"%s\"", want);
        return why;
    }
    if (!msg_type_is(m, want)) {
        snprintf(why, cap, "reply type %.*s, expected \"%s\"",
                 (int)EDDY_MIN(m->f[MSG_TYPE].len, 60u), m->f[MSG_TYPE].p, want);
        return why;
    }
    if (m->f[field].type == JSON_NONE) {
        snprintf(why, cap, "%s has no %s key", want, msg_key_name(field));
        return why;
    }
    int64_t id;
    if (m->f[MSG_MSG_ID].type != JSON_NONE && msg_get_i64(m, MSG_MSG_ID, &id) == -EINVAL) {
        snprintf(why, cap, "msg_id is not an integer");
        return why;
    }
    for (int k = 0; k < MSG_KEY_COUNT; k++) {
        if (k == MSG_TYPE || k == MSG_MSG_ID || k == MSG_IN_REPLY_TO || k == (int)field)
            continue;
        if (m->f[k].type != JSON_NONE) {
            snprintf(why, cap,
                     "%s has a disallowed key \"%s\" (its schema is closed: type, %s, "
                     "in_reply_to and an optional msg_id)",
                     want, msg_key_name((enum msg_key)k), msg_key_name(field));
            return why;
        }
    }
    if (m->body_extra_count) {
        snprintf(why, cap,
                 "%s has a disallowed key %.*s (its schema is closed: type, %s, "
                 "in_reply_to and an optional msg_id)",
                 want, (int)EDDY_MIN(m->body_extra.len, 60u), m->body_extra.p, msg_key_name(field));
        return why;
    }
    return NULL;
}
