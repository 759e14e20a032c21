/*
 * json.h: a validating, zero-allocation JSON scanner that returns slices of its input.
 *
 * The message hot path (every line a node reads or writes) must not allocate and must keep
 * values exactly as written: an echo of 12345678901234567890 is copied as text, never through a
 * double, and an ID is compared by its text. So instead of building a tree, the scanner checks a
 * value against RFC 8259 (strict: no trailing commas, no comments, well-formed UTF-8, no control
 * characters in strings) and returns where it starts and ends. Objects are walked member by
 * member with an iterator, or, for a message's envelope and body, recorded by the scan itself.
 * Nesting is bounded by JSON_DEPTH_MAX without recursion, so a line of 200,000 '[' costs 200,000
 * steps and is refused, never a stack overflow.
 * cJSON is used elsewhere for cold paths (scenario files, results); it is not used here because
 * it allocates per node and reads numbers as doubles.
 * Depends on: nothing. Used by: msg (node and sim), check, scenario.
 */
#ifndef EDDY_JSON_H
#define EDDY_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Deepest nesting accepted, as Jackson's default StreamReadConstraints (1000). */
#define JSON_DEPTH_MAX 1000

enum json_type {
    JSON_NONE = 0,
    JSON_NULL,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
};

#define JSON_F_ESCAPED 0x1u /* string: contains at least one backslash escape */
#define JSON_F_INT 0x2u     /* number: an integer literal (no fraction, no exponent) */
#define JSON_F_NEG 0x4u     /* number: starts with '-' */

/* A value found by the scanner: a slice of the caller's buffer, valid as long as it is. */
struct json_val {
    const char *p;       /* first byte of the value (the quote, for strings) */
    size_t len;          /* length of the value's text, quotes included */
    enum json_type type; /* JSON_NONE only before a successful scan */
    unsigned flags;      /* JSON_F_* */
};

/* Where and why a scan failed, for one precise error message. */
struct json_err {
    size_t offset;    /* byte offset from the start of the scanned text */
    const char *what; /* static string, e.g. "unterminated string" */
};

/* Scans one value at text[0..len): skips leading whitespace, validates the whole value and
 * fills *v. If `whole` is true, only whitespace may follow it. Returns the number of bytes
 * consumed (> 0, up to the end of the value), or -EBADMSG for invalid JSON and -ELOOP for nesting
 * deeper than JSON_DEPTH_MAX, with *e (if not NULL) saying where and why. */
ssize_t json_scan(const char *text, size_t len, bool whole, struct json_val *v, struct json_err *e);

/* The members of a scanned object, and of the objects that are its members' values, in the order
 * they appear: what a Maelstrom envelope and its body need, found in the same pass that
 * validates the line instead of in a second and third walk with json_iter. Keys and values are
 * as json_iter_next gives them. */
#define JSON_MEMBERS_MAX 32
struct json_member {
    struct json_val key, val;
    int parent; /* -1 for a member of the top-level object, else the index of the member whose
                 * value (an object) holds this one */
};
struct json_members {
    struct json_member m[JSON_MEMBERS_MAX];
    unsigned n;
    bool overflow; /* there were more than JSON_MEMBERS_MAX: the list is incomplete, iterate */
};

/* json_scan, recording members into *t as it goes (t->n is 0 when the value is not an object). */
ssize_t json_scan_members(const char *text, size_t len, bool whole, struct json_val *v,
                          struct json_err *e, struct json_members *t);

/* Iterator over the members of a scanned object. Zero-fill is not needed; use json_iter_init. */
struct json_iter {
    const char *p;   /* next byte to read */
    const char *end; /* one past the object's closing brace */
    bool first;      /* no member read yet */
};

/* Starts iterating the object `obj` (which must have been scanned, type JSON_OBJECT) or the
 * array `arr` (type JSON_ARRAY) with json_iter_next_elem. */
void json_iter_init(struct json_iter *it, const struct json_val *container);

/* Next member: 1 with *key (a JSON_STRING value) and *val filled, 0 at the end. The container
 * was validated when it was scanned, so this cannot fail; it asserts that. */
int json_iter_next(struct json_iter *it, struct json_val *key, struct json_val *val);

/* Next array element: 1 with *val filled, 0 at the end. */
int json_iter_next_elem(struct json_iter *it, struct json_val *val);

/* True when the string value `s` decodes to exactly the n bytes at `want`. Handles escapes. */
bool json_str_eq(const struct json_val *s, const char *want, size_t n);

/* Decodes the string value `s` into out[0..cap) as UTF-8 (lone surrogates as WTF-8), without a
 * terminating NUL. Returns the decoded length, or -ENOBUFS if it needs more than cap bytes. */
ssize_t json_str_decode(const struct json_val *s, char *out, size_t cap);

/* The exact value of an integer literal. Returns 0, -EINVAL when `num` is not an integer
 * literal, or -ERANGE when it does not fit in int64_t. */
int json_to_i64(const struct json_val *num, int64_t *out);

/* Appends the decimal text of v to out (at least 21 bytes free) and returns its length. */
size_t json_fmt_i64(char *out, int64_t v);
size_t json_fmt_u64(char *out, uint64_t v);

/* Writes s[0..n) as a JSON string (with quotes, escaping as needed) into out, which must have
 * room for json_escaped_max(n) bytes. Returns the bytes written. Invalid UTF-8 is written as
 * U+FFFD so the output is always valid JSON. */
size_t json_escape(char *out, const char *s, size_t n);
#define json_escaped_max(n) (6 * (n) + 2)

#endif /* EDDY_JSON_H */
