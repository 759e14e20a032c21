/*
 * validate.h: is a node's stdout line a message Maelstrom would accept, and is a reply well
 * formed for the request it answers? Pure checks, shared by the router and the fuzzers.
 * Depends on: msg, history (op_f). Used by: traffic, tests, fuzz.
 */
#ifndef EDDY_SIM_VALIDATE_H
#define EDDY_SIM_VALIDATE_H

#include "history.h"
#include "eddy/msg.h"

#include <stdbool.h>
#include <stddef.h>

/* Checks one stdout line as Maelstrom's reader does: valid JSON, an object, a closed envelope
 * {src, dest[, body][, integer id]} with string src and dest and a body that is an object, null
 * or absent (Maelstrom reads the last two as {}); the body need not have a type. Fills *m. Returns
 * true when the line is usable; otherwise false with the reason in why. *warning is set (with the
 * reason in why) for a usable line Maelstrom accepts but that is almost certainly a mistake
 * (characters after the object). */
bool validate_line(const char *line, size_t len, struct msg *m, bool *warning, char *why,
                   size_t cap);

/* Whether the body's type is the string `type` (false when it has no type, or one that is not a
 * string: Maelstrom's reader lets such bodies through). */
bool msg_type_is(const struct msg *m, const char *type);

/* Checks a non-error reply body against Maelstrom's closed schema for the request's f:
 * echo_ok = {type, echo, in_reply_to[, msg_id]}, generate_ok = {type, id, in_reply_to[, msg_id]},
 * msg_id an integer when present. NULL when well formed, else `why` filled and returned. */
const char *validate_reply(const struct msg *m, enum op_f f, char *why, size_t cap);

#endif /* EDDY_SIM_VALIDATE_H */
