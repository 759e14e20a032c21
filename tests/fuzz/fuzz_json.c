/*
 * fuzz_json.c: eddy's JSON scanner against cJSON, and against itself.
 *
 * The input is one document. Where json_scan accepts it, cJSON (cJSON_ParseWithLengthOpts with
 * require_null_terminated) must accept it too, and the two trees must agree: types, array
 * lengths, object members in order, decoded strings and keys, and numbers as strtod reads them.
 * Inside eddy, every value the iterators hand out must be the value json_scan finds when it scans
 * that slice alone (same length, type and flags), every string must decode, compare equal to
 * its decoding and survive json_escape, and every integer must read back as strtoll reads it;
 * json_scan_members must accept and refuse exactly what json_scan does, and record the members
 * the iterators find, in the same order, with the same keys and values.
 * What is not reported, because it is known and intended:
 *  - documents only cJSON accepts: cJSON is lenient where RFC 8259 is strict (leading zeros,
 *    "1.", "-.5", any byte <= 0x20 or a NUL as whitespace, a UTF-8 BOM, control characters and
 *    invalid UTF-8 in strings, "\u" with bad hex digits read as 0);
 *  - documents only eddy accepts for two reasons: a lone UTF-16 surrogate escape ("\ud800",
 *    which eddy decodes as WTF-8 as Jackson does, and cJSON refuses), and a number longer than
 *    63 characters, which cJSON releases before 1.7.16 cut short (Debian 12's 1.7.15 carries
 *    the CVE-2023-26819 fix and reads them whole).
 * Depends on: json, cJSON, fuzzkit.h.
 */
#include "fuzzkit.h"
#include "eddy/json.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define CJSON_NUMBER_MAX 63 /* characters of a number old cJSON releases read */
#define RESCAN_DEPTH_MAX 32 /* deeper values are walked but not re-scanned (cost) */

/* Why cJSON may refuse a document that eddy accepts. */
struct known {
    bool lone_surrogate;
    bool long_number;
};

/* ==== eddy against itself ==== */

/* A value from an iterator must be what json_scan finds in its slice. */
static void check_rescan(const struct json_val *v)
{
    struct json_val w;
    struct json_err e = {0};
    ssize_t n = json_scan(v->p, v->len, true, &w, &e);
    FUZZ_CHECK(n == (ssize_t)v->len, "slice %.*s does not rescan (%zd: %s)", FUZZ_CLIP(v->len),
               v->p, n, e.what ? e.what : "-");
    FUZZ_CHECK(w.p == v->p && w.len == v->len && w.type == v->type && w.flags == v->flags,
               "iterator says type %d flags %#x, json_scan type %d flags %#x: %.*s", v->type,
               v->flags, w.type, w.flags, FUZZ_CLIP(v->len), v->p);
}

static bool has_lone_surrogate(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if ((unsigned char)s[i] == 0xED && (unsigned char)s[i + 1] >= 0xA0)
            return true;
    return false;
}

/* Decodes a string value into a fresh buffer (caller frees) and checks the string helpers on it. */
static char *check_string(const struct json_val *s, size_t *len, struct known *k)
{
    char *dec = malloc(s->len);
    FUZZ_CHECK(dec, "out of memory");
    ssize_t n = json_str_decode(s, dec, s->len - 2);
    FUZZ_CHECK(n >= 0, "%.*s does not decode into its own length", FUZZ_CLIP(s->len), s->p);
    FUZZ_CHECK(((s->flags & JSON_F_ESCAPED) != 0) == (memchr(s->p, '\\', s->len) != NULL),
               "escape flag %#x for %.*s", s->flags, FUZZ_CLIP(s->len), s->p);
    FUZZ_CHECK(json_str_eq(s, dec, (size_t)n), "%.*s differs from its decoding", FUZZ_CLIP(s->len),
               s->p);
    if (n > 0) {
        char small[1];
        FUZZ_CHECK(json_str_decode(s, small, 0) == -ENOBUFS, "decoding into no room");
        FUZZ_CHECK(!json_str_eq(s, dec, (size_t)n - 1), "%.*s equals a prefix of itself",
                   FUZZ_CLIP(s->len), s->p);
    }
    bool lone = has_lone_surrogate(dec, (size_t)n);
    k->lone_surrogate |= lone;
    char *esc = malloc(json_escaped_max((size_t)n));
    FUZZ_CHECK(esc, "out of memory");
    size_t en = json_escape(esc, dec, (size_t)n);
    FUZZ_CHECK(en <= json_escaped_max((size_t)n), "json_escape overran its bound");
    struct json_val w;
    struct json_err e = {0};
    FUZZ_CHECK(json_scan(esc, en, true, &w, &e) == (ssize_t)en && w.type == JSON_STRING,
               "json_escape wrote invalid JSON (%s): %.*s", e.what ? e.what : "-", FUZZ_CLIP(en),
               esc);
    if (!lone) {
        /* Lone surrogates come back as U+FFFD by design; everything else round-trips. */
        FUZZ_CHECK(json_str_eq(&w, dec, (size_t)n), "%.*s does not round-trip through %.*s",
                   FUZZ_CLIP(s->len), s->p, FUZZ_CLIP(en), esc);
    }
    free(esc);
    *len = (size_t)n;
    return dec;
}

static void check_number(const struct json_val *v, struct known *k)
{
    k->long_number |= v->len > CJSON_NUMBER_MAX;
    FUZZ_CHECK(((v->flags & JSON_F_NEG) != 0) == (v->p[0] == '-'), "sign flag of %.*s",
               FUZZ_CLIP(v->len), v->p);
    bool integer = memchr(v->p, '.', v->len) == NULL && memchr(v->p, 'e', v->len) == NULL &&
                   memchr(v->p, 'E', v->len) == NULL;
    FUZZ_CHECK(integer == ((v->flags & JSON_F_INT) != 0), "integer flag of %.*s", FUZZ_CLIP(v->len),
               v->p);
    if (!integer || v->len > 40)
        return;
    char text[48];
    memcpy(text, v->p, v->len);
    text[v->len] = '\0';
    errno = 0;
    long long want = strtoll(text, NULL, 10);
    bool range = errno == ERANGE;
    int64_t got = 0;
    int rc = json_to_i64(v, &got);
    FUZZ_CHECK(range ? rc == -ERANGE : (rc == 0 && got == want), "%s read as %lld (%d)", text,
               (long long)got, rc);
}

/* json_scan_members against the iterators: the members of an object and of the objects that are
 * its members' values, in document order, as many as fit. */
struct expect {
    struct json_member m[JSON_MEMBERS_MAX];
    unsigned n;
    bool overflow;
};

static void expect_add(struct expect *x, const struct json_val *key, const struct json_val *val,
                       int parent, int *index)
{
    *index = -1;
    if (x->n == JSON_MEMBERS_MAX) {
        x->overflow = true;
        return;
    }
    x->m[x->n] = (struct json_member){.key = *key, .val = *val, .parent = parent};
    *index = (int)x->n++;
}

static bool same_val(const struct json_val *a, const struct json_val *b)
{
    return a->p == b->p && a->len == b->len && a->type == b->type && a->flags == b->flags;
}

static void check_members(const char *text, size_t size, const struct json_val *v)
{
    struct json_members t;
    struct json_val w;
    ssize_t n = json_scan_members(text, size, false, &w, NULL, &t);
    FUZZ_CHECK(n > 0 && same_val(&w, v), "json_scan_members disagrees with json_scan (%zd)", n);
    struct expect x = {.n = 0, .overflow = false};
    if (v->type == JSON_OBJECT) {
        struct json_iter it, inner;
        struct json_val key, val, k2, v2;
        json_iter_init(&it, v);
        while (json_iter_next(&it, &key, &val)) {
            int at;
            expect_add(&x, &key, &val, -1, &at);
            if (at < 0 || val.type != JSON_OBJECT)
                continue;
            json_iter_init(&inner, &val);
            while (json_iter_next(&inner, &k2, &v2)) {
                int unused;
                expect_add(&x, &k2, &v2, at, &unused);
            }
        }
    }
    FUZZ_CHECK(t.overflow == x.overflow, "overflow %d, expected %d", t.overflow, x.overflow);
    FUZZ_CHECK(t.n == x.n, "%u members recorded, the iterators find %u", t.n, x.n);
    for (unsigned i = 0; i < t.n; i++)
        FUZZ_CHECK(same_val(&t.m[i].key, &x.m[i].key) && same_val(&t.m[i].val, &x.m[i].val) &&
                       t.m[i].parent == x.m[i].parent,
                   "member %u: key %.*s, value %.*s, parent %d; expected %.*s, %.*s, %d", i,
                   FUZZ_CLIP(t.m[i].key.len), t.m[i].key.p, FUZZ_CLIP(t.m[i].val.len), t.m[i].val.p,
                   t.m[i].parent, FUZZ_CLIP(x.m[i].key.len), x.m[i].key.p,
                   FUZZ_CLIP(x.m[i].val.len), x.m[i].val.p, x.m[i].parent);
}

/* ==== eddy against cJSON ==== */

static double number_of(const struct json_val *v)
{
    char *text = malloc(v->len + 1);
    FUZZ_CHECK(text, "out of memory");
    memcpy(text, v->p, v->len);
    text[v->len] = '\0';
    double d = strtod(text, NULL);
    free(text);
    return d;
}

/* cJSON strings end at their first NUL: compare that much. */
static void same_string(const char *dec, size_t n, const char *cs, const struct json_val *v)
{
    FUZZ_CHECK(cs != NULL, "cJSON has no string for %.*s", FUZZ_CLIP(v->len), v->p);
    const char *nul = memchr(dec, '\0', n);
    size_t upto = nul ? (size_t)(nul - dec) : n;
    FUZZ_CHECK(strlen(cs) == upto && memcmp(cs, dec, upto) == 0,
               "eddy decodes %.*s as %.*s, cJSON as %s", FUZZ_CLIP(v->len), v->p, FUZZ_CLIP(n), dec,
               cs);
}

static bool same_type(const struct json_val *v, const cJSON *c)
{
    switch (v->type) {
    case JSON_NULL:
        return cJSON_IsNull(c);
    case JSON_FALSE:
        return cJSON_IsFalse(c);
    case JSON_TRUE:
        return cJSON_IsTrue(c);
    case JSON_NUMBER:
        return cJSON_IsNumber(c);
    case JSON_STRING:
        return cJSON_IsString(c);
    case JSON_ARRAY:
        return cJSON_IsArray(c);
    case JSON_OBJECT:
        return cJSON_IsObject(c);
    case JSON_NONE:
        break;
    }
    return false;
}

/* Walks v (and c, cJSON's tree of the same text, when not NULL) checking everything above. */
static void walk(const struct json_val *v, const cJSON *c, int depth, struct known *k)
{
    if (depth <= RESCAN_DEPTH_MAX)
        check_rescan(v);
    FUZZ_CHECK(!c || same_type(v, c), "type %d for %.*s, cJSON type %#x", v->type,
               FUZZ_CLIP(v->len), v->p, c ? (unsigned)c->type : 0u);
    if (v->type == JSON_STRING) {
        size_t n;
        char *dec = check_string(v, &n, k);
        if (c)
            same_string(dec, n, c->valuestring, v);
        free(dec);
        return;
    }
    if (v->type == JSON_NUMBER) {
        check_number(v, k);
        if (c) {
            double d = number_of(v);
            FUZZ_CHECK(memcmp(&d, &c->valuedouble, sizeof(d)) == 0, "%.*s: %.17g and cJSON %.17g",
                       FUZZ_CLIP(v->len), v->p, d, c->valuedouble);
        }
        return;
    }
    if (v->type != JSON_ARRAY && v->type != JSON_OBJECT)
        return;
    struct json_iter it;
    struct json_val key, val;
    const cJSON *child = c ? c->child : NULL;
    json_iter_init(&it, v);
    for (;;) {
        int more = v->type == JSON_OBJECT ? json_iter_next(&it, &key, &val)
                                          : json_iter_next_elem(&it, &val);
        if (!more)
            break;
        FUZZ_CHECK(!c || child, "cJSON has fewer members in %.*s", FUZZ_CLIP(v->len), v->p);
        if (v->type == JSON_OBJECT) {
            FUZZ_CHECK(key.type == JSON_STRING, "key of type %d", key.type);
            if (depth <= RESCAN_DEPTH_MAX)
                check_rescan(&key);
            size_t n;
            char *dec = check_string(&key, &n, k);
            if (c)
                same_string(dec, n, child->string, &key);
            free(dec);
        }
        walk(&val, child, depth + 1, k);
        if (child)
            child = child->next;
    }
    FUZZ_CHECK(!child, "cJSON has more members in %.*s", FUZZ_CLIP(v->len), v->p);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct json_val v, whole;
    struct json_err e = {0}, e2 = {0};
    ssize_t n = json_scan(text, size, false, &v, &e);
    ssize_t nw = json_scan(text, size, true, &whole, &e2);
    if (n < 0) {
        struct json_members t;
        FUZZ_CHECK(json_scan_members(text, size, false, &v, NULL, &t) == n,
                   "json_scan_members accepts what json_scan refuses");
        FUZZ_CHECK(n == -EBADMSG || n == -ELOOP, "json_scan gave %zd", n);
        FUZZ_CHECK(e.what && e.offset <= size, "error at %zu of %zu", e.offset, size);
        FUZZ_CHECK(nw == n, "whole scan gave %zd, prefix scan %zd", nw, n);
    } else {
        FUZZ_CHECK(n > 0 && (size_t)n <= size && v.p + v.len == text + n, "scan consumed %zd", n);
        /* The value alone scans the same. */
        struct json_val again;
        FUZZ_CHECK(json_scan(text, (size_t)n, true, &again, NULL) == n && again.len == v.len &&
                       again.type == v.type && again.flags == v.flags,
                   "the value does not rescan alone");
        size_t rest = (size_t)n;
        while (rest < size && text[rest] && strchr(" \t\r\n", text[rest]))
            rest++;
        FUZZ_CHECK((nw > 0) == (rest == size), "whole scan gave %zd with trailing bytes at %zu", nw,
                   rest);
        check_members(text, size, &v);
    }

    /* cJSON needs the terminating NUL inside its length for require_null_terminated. */
    char *copy = malloc(size + 1);
    FUZZ_CHECK(copy, "out of memory");
    if (size)
        memcpy(copy, data, size);
    copy[size] = '\0';
    cJSON *c = cJSON_ParseWithLengthOpts(copy, size + 1, NULL, true);
    if (nw == -ELOOP)
        FUZZ_CHECK(!c, "cJSON accepts nesting deeper than %d", JSON_DEPTH_MAX);
    if (nw > 0) {
        struct known k = {false, false};
        walk(&whole, c, 0, &k);
        FUZZ_CHECK(c || k.lone_surrogate || k.long_number, "only eddy accepts %.*s",
                   FUZZ_CLIP(size), text);
    }
    cJSON_Delete(c);
    free(copy);
    return 0;
}
