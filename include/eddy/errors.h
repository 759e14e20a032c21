/*
 * errors.h: Maelstrom's error codes, as one table.
 *
 * These are a protocol domain (the "code" of an error body), kept apart from eddy's own return
 * values, which are negative errno. The table generates the enum, the names and the definite
 * flag; a code outside it is "unknown" and indefinite, as Maelstrom treats custom codes.
 * Depends on: nothing. Used by: node, sim client and checkers.
 */
#ifndef EDDY_ERRORS_H
#define EDDY_ERRORS_H

#include <stdbool.h>

/* XX(code, ENUM, "name", definite) */
#define EDDY_ERROR_MAP(XX)                                                                         \
    XX(0, TIMEOUT, "timeout", false)                                                               \
    XX(1, NODE_NOT_FOUND, "node-not-found", true)                                                  \
    XX(10, NOT_SUPPORTED, "not-supported", true)                                                   \
    XX(11, TEMPORARILY_UNAVAILABLE, "temporarily-unavailable", true)                               \
    XX(12, MALFORMED_REQUEST, "malformed-request", true)                                           \
    XX(13, CRASH, "crash", false)                                                                  \
    XX(14, ABORT, "abort", true)                                                                   \
    XX(20, KEY_DOES_NOT_EXIST, "key-does-not-exist", true)                                         \
    XX(21, KEY_ALREADY_EXISTS, "key-already-exists", true)                                         \
    XX(22, PRECONDITION_FAILED, "precondition-failed", true)                                       \
    XX(30, TXN_CONFLICT, "txn-conflict", true)

enum eddy_error {
#define XX(code, name, str, definite) EDDY_ERR_##name = code,
    EDDY_ERROR_MAP(XX)
#undef XX
};

/* Maelstrom's name for a code ("temporarily-unavailable"), or "unknown". Never NULL. */
const char *eddy_error_name(long code);

/* True when the code is definite (the op certainly did not happen, so Maelstrom records it as
 * fail); false for indefinite and unknown codes (recorded as info). */
bool eddy_error_definite(long code);

#endif /* EDDY_ERRORS_H */
