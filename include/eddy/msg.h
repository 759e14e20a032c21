/*
 * msg.h: a Maelstrom message, parsed without allocation.
 *
 * msg_parse() validates one line as JSON and sorts the envelope's and the body's members into
 * fixed slots: the envelope's src, dest, body and integer id, and the body keys that echo and
 * unique-ids use. Everything stays a slice of the line, so values such as an echo payload or an
 * ID are carried as their exact text. Unknown keys are counted and the first one kept, which is
 * what both sides need: the node ignores them, the simulator's closed-schema checks report them.
 * When a key repeats, the last one wins, as with Maelstrom's JSON reader.
 * Depends on: json. Used by: node, sim.
 */
#ifndef EDDY_MSG_H
#define EDDY_MSG_H

#include "eddy/json.h"

#include <stdbool.h>
#include <stddef.h>

/* The body keys that have a slot. */
enum msg_key {
    MSG_TYPE,
    MSG_MSG_ID,
    MSG_IN_REPLY_TO,
    MSG_ECHO,
    MSG_ID,
    MSG_CODE,
    MSG_TEXT,
    MSG_NODE_ID,
    MSG_NODE_IDS,
    MSG_KEY_COUNT,
};

struct msg {
    struct json_val src;              /* JSON_NONE when absent, any type when present */
    struct json_val dest;             /* idem */
    struct json_val body;             /* idem; members below are filled only for an object body */
    struct json_val env_id;           /* the envelope's "id", JSON_NONE when absent */
    struct json_val env_extra;        /* first other envelope key (the key itself), or JSON_NONE */
    struct json_val f[MSG_KEY_COUNT]; /* body values by key, JSON_NONE when absent */
    struct json_val body_extra;       /* first body key without a slot, or JSON_NONE */
    unsigned body_extra_count;        /* body keys without a slot */
    size_t trailing_at;               /* offset of non-space bytes after the object, or 0 */
};

/* Parses line[0..len). 0 on a JSON object (even one with wrong members: see
 * msg_envelope_problem), -EBADMSG or -ELOOP (with *e set) when the line does not start with a
 * valid JSON value, and -EPROTO when it is valid JSON but not an object. Bytes after the object
 * other than whitespace do not fail the parse (Maelstrom's reader ignores them too); their
 * offset is left in m->trailing_at for the caller to judge. */
int msg_parse(const char *line, size_t len, struct msg *m, struct json_err *e);

/* Why the envelope is unusable as a Maelstrom message, or NULL if src and dest are strings, body
 * is an object with a string type, and id (if present) is an integer. `closed` also refuses
 * envelope keys other than src, dest, body and id, as Maelstrom's schema does. */
const char *msg_envelope_problem(const struct msg *m, bool closed);

/* The body's msg_id or in_reply_to as an int64: 0 when present and an integer that fits,
 * -ENOENT when absent, -EINVAL when not an integer, -ERANGE when too large. */
int msg_get_i64(const struct msg *m, enum msg_key k, int64_t *out);

/* The name of a body key slot, for messages ("in_reply_to"). */
const char *msg_key_name(enum msg_key k);

#endif /* EDDY_MSG_H */
