/*
 * canon.h: JSON values as Maelstrom's checker sees them: equality and order.
 *
 * Maelstrom compares IDs with Clojure's = and compare on what its JSON reader produced: strings
 * by content, integers exactly at any size, other numbers as doubles (so 1 and 1.0 differ, and
 * 0.1 and 0.10 are equal), arrays element by element, objects by key set regardless of order
 * (the last of repeated keys wins), null as a value. canon_encode() turns a scanned value into
 * bytes that are equal exactly when the values are equal under those rules, so the ID set can
 * hash and memcmp them. canon_compare() orders two encodings as clojure.core/compare would, and
 * says when Clojure would throw instead (a string against a number, any object), which is what
 * makes Maelstrom's unique-ids checker answer :unknown.
 *
 * Encoding: one tag byte, then: 'n' null, 'f' false, 't' true (nothing more); 'i' an integer's
 * canonical decimal text; 'd' a double's 8 bytes ("-0.0" as 0.0); 's' the decoded UTF-8 bytes;
 * 'a' varint count then each element as varint length + encoding; 'o' varint count then the
 * members sorted by key, each as varint key length + key bytes + varint value length + encoding.
 * Depends on: json, buf. Used by: idset, check.
 */
#ifndef EDDY_SIM_CANON_H
#define EDDY_SIM_CANON_H

#include "eddy/buf.h"
#include "eddy/json.h"

#include <stddef.h>
#include <stdint.h>

#define CANON_TEXT_MAX (256u << 20) /* longest container text encoded (offsets are 32-bit) */

/* Scratch space for encoding arrays and objects: a token index of the value, reused between
 * calls so that a checker encoding such IDs all run long allocates only while they grow. It
 * holds about 24 bytes per token of the largest value encoded (12 MiB for a 1 MiB line). */
struct canon_scratch {
    struct canon_tok *tok;
    size_t ntok, tok_cap;
    uint32_t *perm; /* each object's members in key order */
    size_t perm_len, perm_cap;
    struct canon_member *members;
    size_t members_cap;
    char *arena; /* decoded strings with escapes, doubles */
    size_t arena_len, arena_cap;
};

void canon_scratch_init(struct canon_scratch *sc);
void canon_scratch_fini(struct canon_scratch *sc);
size_t canon_scratch_bytes(const struct canon_scratch *sc); /* bytes it holds now */

/* Appends the canonical encoding of v to out, in time linear in v's length (plus sorting each
 * object's keys). 0, or -ENOBUFS when out's maximum is reached (out unchanged) or v is longer
 * than CANON_TEXT_MAX. */
int canon_encode_with(const struct json_val *v, struct buf *out, struct canon_scratch *sc);

/* The same with a scratch of its own, freed before it returns. */
int canon_encode(const struct json_val *v, struct buf *out);

#define CANON_INCOMPARABLE 2

/* -1, 0 or 1 as clojure.core/compare orders the two values, or CANON_INCOMPARABLE when it would
 * throw a ClassCastException. */
int canon_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* Appends the JSON text of an encoding to out: the value as Maelstrom's checker sees it, which
 * may be written differently from what the node sent (strings escaped afresh, floats in their
 * shortest form that reads back the same, object keys in sorted order, the last of repeated
 * keys). 0, -ENOBUFS when out's maximum is reached, or -EINVAL for bytes that are not an
 * encoding. */
int canon_to_json(const uint8_t *enc, size_t len, struct buf *out);

/* A short name of the encoded value's type, for explanations: "string", "integer", ... */
const char *canon_type_name(const uint8_t *enc, size_t len);

/* Appends a varint / reads one (returns bytes read, 0 if truncated). */
size_t canon_put_varint(uint8_t *out, uint64_t v);
size_t canon_get_varint(const uint8_t *p, size_t len, uint64_t *v);

#endif /* EDDY_SIM_CANON_H */
