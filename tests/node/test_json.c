/*
 * test_json.c: the validating slice scanner (json.h).
 *
 * Every input is scanned from a copy whose last byte sits against a PROT_NONE page, so any read
 * past the end of the input faults. The scanner is held to strict RFC 8259: each rejected input
 * below is one that a lenient parser would accept. Round trips (escape, then scan and decode)
 * are checked on random inputs from a fixed seed.
 * Depends on: json, prng, testkit.h.
 */
#include "testkit.h"
#include "eddy/json.h"
#include "eddy/prng.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Scans text[0..n) placed against a guard page. */
static ssize_t scan_guarded(const char *text, size_t n, bool whole, struct json_val *v,
                            struct json_err *e)
{
    struct guard g;
    char *p = guard_place(&g, text, n);
    ssize_t rc = json_scan(p, n, whole, v, e);
    if (rc > 0) {
        cr_assert(v->p >= p && v->p + v->len <= p + n, "value slice outside the input");
        v->p = text + (v->p - p); /* re-point into the caller's copy before unmapping */
    }
    guard_free(&g);
    return rc;
}

/* Scans a NUL-terminated literal in place (for tests that keep slices). */
static ssize_t scan(const char *text, bool whole, struct json_val *v)
{
    return json_scan(text, strlen(text), whole, v, NULL);
}

/* ==== Values accepted ==== */

struct valid_case {
    char text[80];
    enum json_type type;
    unsigned flags;
};

ParameterizedTestParameters(json, accepts_every_value_kind)
{
    static struct valid_case cases[] = {
        {"null", JSON_NULL, 0},
        {"false", JSON_FALSE, 0},
        {"true", JSON_TRUE, 0},
        {"0", JSON_NUMBER, JSON_F_INT},
        {"-0", JSON_NUMBER, JSON_F_INT | JSON_F_NEG},
        {"123", JSON_NUMBER, JSON_F_INT},
        {"-123", JSON_NUMBER, JSON_F_INT | JSON_F_NEG},
        {"12345678901234567890123", JSON_NUMBER, JSON_F_INT},
        {"1.5", JSON_NUMBER, 0},
        {"-1.5", JSON_NUMBER, JSON_F_NEG},
        {"0.0", JSON_NUMBER, 0},
        {"1e10", JSON_NUMBER, 0},
        {"1E+10", JSON_NUMBER, 0},
        {"1e-10", JSON_NUMBER, 0},
        {"-0.0e0", JSON_NUMBER, JSON_F_NEG},
        {"\"\"", JSON_STRING, 0},
        {"\"abc\"", JSON_STRING, 0},
        {"\"a\\nb\"", JSON_STRING, JSON_F_ESCAPED},
        {"\"\\u00e9\"", JSON_STRING, JSON_F_ESCAPED},
        {"\"\\/\"", JSON_STRING, JSON_F_ESCAPED},
        {"\"\\ud800\"", JSON_STRING, JSON_F_ESCAPED}, /* lone surrogate escapes are grammatical */
        {"\"\xc3\xa9\"", JSON_STRING, 0},             /* U+00E9 */
        {"\"\xe2\x82\xac\"", JSON_STRING, 0},         /* U+20AC */
        {"\"\xf0\x9f\x98\x80\"", JSON_STRING, 0},     /* U+1F600 */
        {"\"\xed\x9f\xbf\"", JSON_STRING, 0},         /* U+D7FF, just below the surrogates */
        {"\"\xee\x80\x80\"", JSON_STRING, 0},         /* U+E000, just above them */
        {"\"\xef\xbf\xbf\"", JSON_STRING, 0},         /* U+FFFF */
        {"\"\xf4\x8f\xbf\xbf\"", JSON_STRING, 0},     /* U+10FFFF, the last code point */
        {"\"\x7f\"", JSON_STRING, 0},                 /* DEL needs no escape */
        {"[]", JSON_ARRAY, 0},
        {"[ ]", JSON_ARRAY, 0},
        {"[1,\"a\",[],{},null,true,false]", JSON_ARRAY, 0},
        {"[-1]", JSON_ARRAY, 0},      /* flags describe the value itself, not its members */
        {"[\"\\n\"]", JSON_ARRAY, 0}, /* idem */
        {"{}", JSON_OBJECT, 0},
        {"{ }", JSON_OBJECT, 0},
        {"{\"a\":1}", JSON_OBJECT, 0},
        {"{\"a\\n\":[-1.5]}", JSON_OBJECT, 0},
        {"{\"a\":1,\"a\":2}", JSON_OBJECT, 0},
        {"{\"a\":{\"b\":{\"c\":[null,true,false]}}}", JSON_OBJECT, 0},
        {" \t\r\n[1] \t\r\n", JSON_ARRAY, 0},
        {"\n-7\n", JSON_NUMBER, JSON_F_INT | JSON_F_NEG},
    };
    return cr_make_param_array(struct valid_case, cases, NELEM(cases));
}

ParameterizedTest(struct valid_case *c, json, accepts_every_value_kind)
{
    size_t n = strlen(c->text);
    size_t lead = strspn(c->text, " \t\r\n");
    size_t vend = n;
    while (vend > lead && strchr(" \t\r\n", c->text[vend - 1]))
        vend--;
    struct json_val v = {0};
    struct json_err e = {0};
    ssize_t rc = scan_guarded(c->text, n, true, &v, &e);
    cr_assert_eq(rc, (ssize_t)vend, "%s: returned %zd (%s at %zu), want %zu", c->text, rc,
                 e.what ? e.what : "-", e.offset, vend);
    cr_assert_eq(v.type, c->type, "%s: type %d, want %d", c->text, v.type, c->type);
    cr_assert_eq(v.flags, c->flags, "%s: flags %#x, want %#x", c->text, v.flags, c->flags);
    cr_assert_eq(v.p, c->text + lead, "%s: value starts at %td", c->text, v.p - c->text);
    cr_assert_eq(v.len, vend - lead, "%s: value length %zu", c->text, v.len);

    /* Without `whole`, the same value is found and nothing after it is looked at. */
    memset(&v, 0, sizeof(v));
    rc = scan_guarded(c->text, n, false, &v, NULL);
    cr_assert_eq(rc, (ssize_t)vend, "%s: whole=false returned %zd", c->text, rc);
    cr_assert_eq(v.type, c->type);
}

/* ==== Inputs refused ==== */

struct invalid_case {
    char text[48];
    size_t len; /* 0: strlen(text); set for inputs holding NUL bytes */
};

/* One test over the whole table rather than a parameterized test: each parameter costs a
 * process, which under ASan took seconds for these hundred-odd inputs. */
static const struct invalid_case invalid_cases[] = {
    /* trailing and stray commas */
    {"[1,]", 0},
    {"{\"a\":1,}", 0},
    {"[1,,2]", 0},
    {"[,1]", 0},
    {"{,\"a\":1}", 0},
    {"[,]", 0},
    {"{,}", 0},
    /* leading zeros and other malformed numbers */
    {"01", 0},
    {"-01", 0},
    {"00", 0},
    {"[01]", 0},
    {"{\"a\":00}", 0},
    {"-00.5", 0},
    {"-", 0},
    {"+1", 0},
    {".5", 0},
    {"1.", 0},
    {"1.e5", 0},
    {"1e", 0},
    {"1e+", 0},
    {"-a", 0},
    {"0x10", 0},
    {"[1.]", 0},
    {"NaN", 0},
    {"Infinity", 0},
    {"-Infinity", 0},
    /* literals */
    {"nul", 0},
    {"nulll", 0},
    {"tru", 0},
    {"True", 0},
    {"FALSE", 0},
    {"n", 0},
    {"[nul]", 0},
    /* structure */
    {"", 0},
    {"   ", 0},
    {"[", 0},
    {"]", 0},
    {"{", 0},
    {"}", 0},
    {"[1", 0},
    {"[1 2]", 0},
    {"{\"a\" 1}", 0},
    {"{\"a\":}", 0},
    {"{\"a\"}", 0},
    {"{1:2}", 0},
    {"{a:1}", 0},
    {"{'a':1}", 0},
    {"'a'", 0},
    {"[}", 0},
    {"{]", 0},
    {"[1}", 0},
    {"{\"a\":1]", 0},
    {"[]]", 0},
    {"{}}", 0},
    {"/* c */ 1", 0},
    {"1 // c", 0},
    {"[1]x", 0},
    /* whitespace RFC 8259 does not allow */
    {"\f1", 0},
    {"\v1", 0},
    {"\xc2\xa0"
     "1",
     0},
    {"1\f", 0},
    /* strings: termination and escapes */
    {"\"abc", 0},
    {"\"\\\"", 0},
    {"\"\\", 0},
    {"\"\\x\"", 0},
    {"\"\\u12\"", 0},
    {"\"\\u12G4\"", 0},
    {"\"\\U0041\"", 0},
    {"\"\\'\"", 0},
    {"\"\\a\"", 0},
    {"\"\\0\"", 0},
    {"\"\\u\"", 0},
    /* strings: raw control characters and NUL bytes */
    {"\"a\x01"
     "b\"",
     0},
    {"\"\t\"", 0},
    {"\"\n\"", 0},
    {"\"\x1f\"", 0},
    {"\"a\0b\"", 5},
    {"\0", 1},
    {"1\0", 2},
    {"[1,\0]", 5},
    {"{\"a\0\":1}", 8},
    {"{\"a\x01\":1}", 0},
    /* strings: invalid UTF-8 */
    {"\"\x80\"", 0},
    {"\"\xbf\"", 0},
    {"\"\xc0\x80\"", 0},                 /* overlong NUL */
    {"\"\xc1\xbf\"", 0},                 /* overlong U+007F */
    {"\"\xe0\x80\xaf\"", 0},             /* overlong '/' */
    {"\"\xe0\x9f\xbf\"", 0},             /* overlong U+07FF */
    {"\"\xf0\x80\x80\xaf\"", 0},         /* overlong '/' in four bytes */
    {"\"\xf0\x8f\xbf\xbf\"", 0},         /* overlong U+FFFF */
    {"\"\xed\xa0\x80\"", 0},             /* U+D800 encoded directly */
    {"\"\xed\xbf\xbf\"", 0},             /* U+DFFF encoded directly */
    {"\"\xed\xa0\xbd\xed\xb8\x80\"", 0}, /* CESU-8 surrogate pair */
    {"\"\xf4\x90\x80\x80\"", 0},         /* U+110000 */
    {"\"\xf5\x80\x80\x80\"", 0},
    {"\"\xf8\x88\x80\x80\x80\"", 0},
    {"\"\xfe\"", 0},
    {"\"\xff\"", 0},
    {"\"\xc3\"", 0},         /* truncated two-byte sequence */
    {"\"\xe2\x82\"", 0},     /* truncated three-byte sequence */
    {"\"\xf0\x9f\x98\"", 0}, /* truncated four-byte sequence */
    {"\"\xc3\x28\"", 0},     /* bad continuation byte */
    {"\"\xe2\x28\xa1\"", 0},
    {"{\"\xff\":1}", 0},
    {"\xc3\xa9", 0}, /* UTF-8 outside a string */
};

Test(json, rejects_invalid_input)
{
    for (size_t i = 0; i < NELEM(invalid_cases); i++) {
        const struct invalid_case *c = &invalid_cases[i];
        size_t n = c->len ? c->len : strlen(c->text);
        struct json_val v = {0};
        struct json_err e = {0};
        ssize_t rc = scan_guarded(c->text, n, true, &v, &e);
        CHECK(rc == -EBADMSG, "case %zu, %zu bytes \"%.*s\": returned %zd, want -EBADMSG", i, n,
              (int)n, c->text, rc);
        CHECK(e.what != NULL, "case %zu: no reason given", i);
        CHECK(e.offset <= n, "case %zu: offset %zu beyond the input (%zu bytes)", i, e.offset, n);
    }
}

struct offset_case {
    char text[32];
    size_t offset;
};

ParameterizedTestParameters(json, reports_where_the_error_is)
{
    static struct offset_case cases[] = {
        {"[1,]", 3},      {"{\"a\":1,}", 7}, {"[1 2]", 3}, {"\"ab\x01\"", 3},
        {"\"ab\\x\"", 3}, {"\"ab\xff\"", 3}, {"01", 1},    {"[1]x", 3},
        {"{\"a\" 1}", 5}, {"nulx", 0},       {"[tru]", 1}, {"  ", 2},
    };
    return cr_make_param_array(struct offset_case, cases, NELEM(cases));
}

ParameterizedTest(struct offset_case *c, json, reports_where_the_error_is)
{
    struct json_val v;
    struct json_err e = {0};
    ssize_t rc = scan_guarded(c->text, strlen(c->text), true, &v, &e);
    cr_assert_eq(rc, -EBADMSG, "%s: returned %zd", c->text, rc);
    cr_assert_eq(e.offset, c->offset, "%s: error (%s) at %zu, want %zu", c->text, e.what, e.offset,
                 c->offset);
}

struct garbage_case {
    char text[24];
    ssize_t first; /* bytes consumed by the first value when whole is false */
};

ParameterizedTestParameters(json, rejects_trailing_garbage_only_when_whole)
{
    static struct garbage_case cases[] = {
        {"1 x", 1},    {"{} {}", 2},      {"[]]", 2},    {"\"a\"b", 3}, {"nullx", 4},
        {"01", 1},     {"123abc", 3},     {"true,", 4},  {" [1] ,", 4}, {"0-1", 1},
        {"-0.5.5", 4}, {"{\"a\":1}}", 7}, {"\"\"\"", 2},
    };
    return cr_make_param_array(struct garbage_case, cases, NELEM(cases));
}

ParameterizedTest(struct garbage_case *c, json, rejects_trailing_garbage_only_when_whole)
{
    size_t n = strlen(c->text);
    struct json_val v;
    struct json_err e = {0};
    ssize_t rc = scan_guarded(c->text, n, true, &v, &e);
    cr_assert_eq(rc, -EBADMSG, "%s: whole=true returned %zd", c->text, rc);
    rc = scan_guarded(c->text, n, false, &v, &e);
    cr_assert_eq(rc, c->first, "%s: whole=false returned %zd, want %zd", c->text, rc, c->first);
}

/* A document that exercises every state: nested containers, escapes, raw multi-byte UTF-8 (so
 * that some prefixes end inside a sequence), numbers with fraction and exponent, literals. */
static const char full_doc[] =
    "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":[\"\\u00e9\\ud83d\\ude00"
    "\",\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",-1.5e+3,0,true,false,null,{\"k\":\"\\\"\\\\\"},"
    "[]],\"msg_id\":12345678901234567890123}}";

Test(json, rejects_every_truncation_of_a_valid_document)
{
    size_t n = sizeof(full_doc) - 1;
    struct json_val v;
    struct json_err e;
    cr_assert_eq(scan_guarded(full_doc, n, true, &v, &e), (ssize_t)n);
    cr_assert_eq(v.type, JSON_OBJECT);
    for (size_t k = 0; k < n; k++) {
        e.what = NULL;
        ssize_t rc = scan_guarded(full_doc, k, true, &v, &e);
        cr_assert_eq(rc, -EBADMSG, "prefix of %zu bytes: whole=true returned %zd", k, rc);
        cr_assert_not_null(e.what);
        cr_assert_leq(e.offset, k);
        rc = scan_guarded(full_doc, k, false, &v, &e);
        cr_assert_eq(rc, -EBADMSG, "prefix of %zu bytes: whole=false returned %zd", k, rc);
    }
}

Test(json, scans_values_that_end_at_a_guard_page)
{
    /* Each value's last byte is the last readable byte: the scanner must decide it is complete
     * without peeking further, including for bare numbers and literals. */
    static const char *const docs[] = {"0",     "-12",  "1.5e7",      "true",
                                       "false", "null", "\"\"",       "\"\xf0\x9f\x98\x80\"",
                                       "[]",    "{}",   "\"\\u0041\""};
    for (size_t i = 0; i < NELEM(docs); i++) {
        struct json_val v;
        size_t n = strlen(docs[i]);
        cr_assert_eq(scan_guarded(docs[i], n, true, &v, NULL), (ssize_t)n, "%s", docs[i]);
        cr_assert_eq(scan_guarded(docs[i], n, false, &v, NULL), (ssize_t)n, "%s", docs[i]);
    }
}

/* ==== Nesting ==== */

static char *nested_arrays(size_t depth, size_t *len)
{
    char *s = malloc(2 * depth);
    cr_assert_not_null(s);
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    *len = 2 * depth;
    return s;
}

Test(json, refuses_200000_open_brackets_with_eloop)
{
    size_t n = 200000;
    char *s = malloc(n);
    memset(s, '[', n);
    struct json_val v;
    struct json_err e = {0};
    cr_assert_eq(scan_guarded(s, n, true, &v, &e), -ELOOP);
    cr_assert_eq(e.offset, (size_t)JSON_DEPTH_MAX, "stopped at %zu", e.offset);
    cr_assert_not_null(e.what);
    cr_assert_eq(scan_guarded(s, n, false, &v, &e), -ELOOP);
    free(s);
    ASSERT_NO_LEAKS();
}

Test(json, accepts_exactly_json_depth_max)
{
    size_t n;
    char *s = nested_arrays(JSON_DEPTH_MAX, &n);
    struct json_val v;
    struct json_err e = {0};
    ssize_t rc = scan_guarded(s, n, true, &v, &e);
    cr_assert_eq(rc, (ssize_t)n, "depth %d refused: %zd (%s at %zu)", JSON_DEPTH_MAX, rc,
                 e.what ? e.what : "-", e.offset);
    cr_assert_eq(v.type, JSON_ARRAY);
    free(s);

    s = nested_arrays(JSON_DEPTH_MAX + 1, &n);
    cr_assert_eq(scan_guarded(s, n, true, &v, &e), -ELOOP, "depth %d accepted", JSON_DEPTH_MAX + 1);
    free(s);
    ASSERT_NO_LEAKS();
}

/* Builds JSON_DEPTH_MAX levels alternating objects and arrays, innermost value 7. When
 * `swap_closers` is set, the closing brackets are the wrong kind. */
static char *mixed_nesting(bool swap_closers, size_t *len)
{
    char *s = malloc(8 * JSON_DEPTH_MAX + 8);
    size_t n = 0;
    for (int d = 0; d < JSON_DEPTH_MAX; d++) {
        if (d % 2 == 0) {
            memcpy(s + n, "{\"k\":", 5);
            n += 5;
        } else {
            s[n++] = '[';
        }
    }
    s[n++] = '7';
    for (int d = JSON_DEPTH_MAX - 1; d >= 0; d--) {
        bool obj = d % 2 == 0;
        s[n++] = (obj != swap_closers) ? '}' : ']';
    }
    *len = n;
    return s;
}

Test(json, tracks_object_and_array_nesting_to_the_limit)
{
    size_t n;
    char *s = mixed_nesting(false, &n);
    struct json_val v;
    cr_assert_eq(scan_guarded(s, n, true, &v, NULL), (ssize_t)n);
    cr_assert_eq(v.type, JSON_OBJECT);
    free(s);
    s = mixed_nesting(true, &n);
    cr_assert_eq(scan_guarded(s, n, true, &v, NULL), -EBADMSG);
    free(s);
    ASSERT_NO_LEAKS();
}

Test(json, depth_counts_open_containers_not_total_containers)
{
    /* 50 siblings, each JSON_DEPTH_MAX - 1 deep, inside one array: the depth never passes the
     * limit, so closing a container must really give its level back. */
    size_t per = 2 * (JSON_DEPTH_MAX - 1);
    size_t n = 2 + 50 * (per + 1) - 1;
    char *s = malloc(n);
    size_t at = 0;
    s[at++] = '[';
    for (int k = 0; k < 50; k++) {
        if (k)
            s[at++] = ',';
        memset(s + at, '[', JSON_DEPTH_MAX - 1);
        at += JSON_DEPTH_MAX - 1;
        memset(s + at, ']', JSON_DEPTH_MAX - 1);
        at += JSON_DEPTH_MAX - 1;
    }
    s[at++] = ']';
    cr_assert_eq(at, n);
    struct json_val v;
    cr_assert_eq(scan_guarded(s, n, true, &v, NULL), (ssize_t)n);
    free(s);
    ASSERT_NO_LEAKS();
}

/* ==== Iteration ==== */

static bool val_is(const struct json_val *v, const char *text)
{
    return v->len == strlen(text) && memcmp(v->p, text, v->len) == 0;
}

Test(json, iterates_object_members_in_order)
{
    const char *doc =
        " { \"a\" : 1 , \"b\":[1,{\"c\":2}], \"d\\u0065\":\"x\" ,\"e\":{}, \"f\":null } ";
    struct json_val obj;
    cr_assert_gt(scan(doc, true, &obj), 0);
    cr_assert_eq(obj.type, JSON_OBJECT);
    static const char *const keys[] = {"\"a\"", "\"b\"", "\"d\\u0065\"", "\"e\"", "\"f\""};
    static const char *const vals[] = {"1", "[1,{\"c\":2}]", "\"x\"", "{}", "null"};
    static const enum json_type types[] = {JSON_NUMBER, JSON_ARRAY, JSON_STRING, JSON_OBJECT,
                                           JSON_NULL};
    struct json_iter it;
    struct json_val k, v;
    json_iter_init(&it, &obj);
    size_t i = 0;
    while (json_iter_next(&it, &k, &v)) {
        cr_assert_lt(i, NELEM(keys), "too many members");
        cr_assert_eq(k.type, JSON_STRING);
        cr_assert(val_is(&k, keys[i]), "key %zu is %.*s", i, (int)k.len, k.p);
        cr_assert(val_is(&v, vals[i]), "value %zu is %.*s", i, (int)v.len, v.p);
        cr_assert_eq(v.type, types[i]);
        i++;
    }
    cr_assert_eq(i, NELEM(keys));
    cr_assert_eq(json_iter_next(&it, &k, &v), 0, "iteration restarted after the end");

    /* The escaped key decodes to "de" and carries the flag. */
    json_iter_init(&it, &obj);
    for (int skip = 0; skip < 3; skip++)
        cr_assert_eq(json_iter_next(&it, &k, &v), 1);
    cr_assert(k.flags & JSON_F_ESCAPED);
    cr_assert(json_str_eq(&k, "de", 2));
}

Test(json, iterates_array_elements_and_nested_containers)
{
    const char *doc = "[ 1, \"two\" ,[3, [ ]],{\"four\":4}, null,-5.5e1 ]";
    struct json_val arr;
    cr_assert_gt(scan(doc, true, &arr), 0);
    static const char *const want[] = {"1",    "\"two\"", "[3, [ ]]", "{\"four\":4}",
                                       "null", "-5.5e1"};
    struct json_iter it;
    struct json_val v;
    json_iter_init(&it, &arr);
    size_t i = 0;
    struct json_val inner_arr = {0}, inner_obj = {0};
    while (json_iter_next_elem(&it, &v)) {
        cr_assert_lt(i, NELEM(want));
        cr_assert(val_is(&v, want[i]), "element %zu is %.*s", i, (int)v.len, v.p);
        if (i == 2)
            inner_arr = v;
        if (i == 3)
            inner_obj = v;
        i++;
    }
    cr_assert_eq(i, NELEM(want));
    cr_assert_eq(v.flags, JSON_F_NEG);

    /* Values found by iteration can themselves be iterated. */
    json_iter_init(&it, &inner_arr);
    cr_assert_eq(json_iter_next_elem(&it, &v), 1);
    cr_assert(val_is(&v, "3"));
    cr_assert_eq(json_iter_next_elem(&it, &v), 1);
    cr_assert(val_is(&v, "[ ]"));
    struct json_iter empty;
    json_iter_init(&empty, &v);
    cr_assert_eq(json_iter_next_elem(&empty, &v), 0);
    cr_assert_eq(json_iter_next_elem(&it, &v), 0);

    struct json_val k;
    json_iter_init(&it, &inner_obj);
    cr_assert_eq(json_iter_next(&it, &k, &v), 1);
    cr_assert(val_is(&k, "\"four\""));
    cr_assert(val_is(&v, "4"));
    cr_assert_eq(json_iter_next(&it, &k, &v), 0);
}

/* json_scan_members: what msg_parse reads an envelope and its body from. */
Test(json, records_members_of_the_object_and_of_objects_in_it)
{
    const char *doc = "{\"a\":1, \"o\" : {\"x\":-2.5,\"k\\u0065y\":\"v\\n\",\"deep\":{\"z\":1}},"
                      "\"arr\":[{\"in\":1}],\"e\":{},\"s\":\"str\",\"t\":true}";
    struct json_members t;
    struct json_val v;
    cr_assert_eq(json_scan_members(doc, strlen(doc), true, &v, NULL, &t), (ssize_t)strlen(doc));
    cr_assert_eq(v.type, JSON_OBJECT);
    cr_assert(!t.overflow);
    static const struct {
        const char *key, *val;
        enum json_type type;
        unsigned flags;
        int parent;
    } want[] = {
        {"\"a\"", "1", JSON_NUMBER, JSON_F_INT, -1},
        {"\"o\"", "{\"x\":-2.5,\"k\\u0065y\":\"v\\n\",\"deep\":{\"z\":1}}", JSON_OBJECT, 0, -1},
        {"\"x\"", "-2.5", JSON_NUMBER, JSON_F_NEG, 1},
        {"\"k\\u0065y\"", "\"v\\n\"", JSON_STRING, JSON_F_ESCAPED, 1},
        {"\"deep\"", "{\"z\":1}", JSON_OBJECT, 0, 1},
        {"\"arr\"", "[{\"in\":1}]", JSON_ARRAY, 0, -1},
        {"\"e\"", "{}", JSON_OBJECT, 0, -1},
        {"\"s\"", "\"str\"", JSON_STRING, 0, -1},
        {"\"t\"", "true", JSON_TRUE, 0, -1},
    };
    cr_assert_eq(t.n, NELEM(want), "%u members recorded", t.n);
    for (unsigned i = 0; i < t.n; i++) {
        cr_assert(val_is(&t.m[i].key, want[i].key), "key %u is %.*s", i, (int)t.m[i].key.len,
                  t.m[i].key.p);
        cr_assert(val_is(&t.m[i].val, want[i].val), "value %u is %.*s", i, (int)t.m[i].val.len,
                  t.m[i].val.p);
        cr_assert_eq(t.m[i].val.type, want[i].type, "type of value %u", i);
        cr_assert_eq(t.m[i].val.flags, want[i].flags, "flags of value %u", i);
        cr_assert_eq(t.m[i].parent, want[i].parent, "parent of member %u", i);
    }
    cr_assert_eq(t.m[3].key.flags, JSON_F_ESCAPED, "an escaped key is flagged");
    cr_assert_eq(t.m[0].key.flags, 0u);

    /* Not an object: nothing recorded, even for objects inside the array. */
    cr_assert_gt(json_scan_members("[{\"a\":{\"b\":1}}]", 15, true, &v, NULL, &t), 0);
    cr_assert_eq(t.n, 0u);
    cr_assert(!t.overflow);

    /* Refused exactly as json_scan refuses. */
    struct json_err e = {0};
    cr_assert_eq(json_scan_members("{\"a\":{\"b\":}}", 12, true, &v, &e, &t), -EBADMSG);
    cr_assert_eq(e.offset, 10u, "refused at %zu", e.offset);
}

Test(json, says_when_members_overflow_the_record)
{
    char doc[2048];
    size_t n = 0;
    doc[n++] = '{';
    for (int i = 0; i < JSON_MEMBERS_MAX + 1; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s\"k%d\":%d", i ? "," : "", i, i);
    doc[n++] = '}';
    struct json_members t;
    struct json_val v;
    cr_assert_eq(json_scan_members(doc, n, true, &v, NULL, &t), (ssize_t)n);
    cr_assert(t.overflow, "33 members do not fit in 32");
    cr_assert_eq(t.n, (unsigned)JSON_MEMBERS_MAX);
    cr_assert(val_is(&t.m[JSON_MEMBERS_MAX - 1].val, "31"), "the first 32 are kept in order");

    /* Exactly the maximum fits. */
    n = 0;
    doc[n++] = '{';
    for (int i = 0; i < JSON_MEMBERS_MAX; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s\"k%d\":%d", i ? "," : "", i, i);
    doc[n++] = '}';
    cr_assert_eq(json_scan_members(doc, n, true, &v, NULL, &t), (ssize_t)n);
    cr_assert(!t.overflow);
    cr_assert_eq(t.n, (unsigned)JSON_MEMBERS_MAX);
}

Test(json, iterates_empty_containers)
{
    struct json_val c, k, v;
    struct json_iter it;
    cr_assert_gt(scan("{ \n }", true, &c), 0);
    json_iter_init(&it, &c);
    cr_assert_eq(json_iter_next(&it, &k, &v), 0);
    cr_assert_gt(scan("[]", true, &c), 0);
    json_iter_init(&it, &c);
    cr_assert_eq(json_iter_next_elem(&it, &v), 0);
}

/* ==== Strings ==== */

struct str_case {
    char json[48];
    char want[16];
    size_t want_len;
};

ParameterizedTestParameters(json, decodes_strings)
{
    static struct str_case cases[] = {
        {"\"\"", "", 0},
        {"\"abc\"", "abc", 3},
        {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8},
        {"\"\\u0041\\u0062\"", "Ab", 2},
        {"\"\\u0000\"", "\0", 1},
        {"\"a\\u0000b\"", "a\0b", 3},
        {"\"\\u00e9\"", "\xc3\xa9", 2},
        {"\"\\u00E9\"", "\xc3\xa9", 2},
        {"\"\\u07ff\"", "\xdf\xbf", 2},
        {"\"\\u0800\"", "\xe0\xa0\x80", 3},
        {"\"\\u20ac\"", "\xe2\x82\xac", 3},
        {"\"\\uffff\"", "\xef\xbf\xbf", 3},
        {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4},
        {"\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80", 4},
        {"\"\\ud800\\udc00\"", "\xf0\x90\x80\x80", 4},
        {"\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf", 4},
        {"\"x\\ud83d\\ude00y\"", "x\xf0\x9f\x98\x80y", 6},
        {"\"\\ud800\"", "\xed\xa0\x80", 3}, /* lone surrogates come out as WTF-8 */
        {"\"\\udc00\"", "\xed\xb0\x80", 3},
        {"\"\\ud800\\u0041\"",
         "\xed\xa0\x80"
         "A",
         4},
        {"\"\\ud800\\ud800\"", "\xed\xa0\x80\xed\xa0\x80", 6},
        {"\"\\ude00\\ud83d\"", "\xed\xb8\x80\xed\xa0\xbd", 6},
        {"\"\\ud83d\\n\"", "\xed\xa0\xbd\n", 4},
        {"\"\\ud83d\"", "\xed\xa0\xbd", 3},
        {"\"\\\\u0041\"", "\\u0041", 6},
        {"\"\xc3\xa9\\u00e9\"", "\xc3\xa9\xc3\xa9", 4},
        {"\"\xf0\x9f\x98\x80\"", "\xf0\x9f\x98\x80", 4},
    };
    return cr_make_param_array(struct str_case, cases, NELEM(cases));
}

ParameterizedTest(struct str_case *c, json, decodes_strings)
{
    struct json_val s;
    size_t n = strlen(c->json);
    cr_assert_eq(json_scan(c->json, n, true, &s, NULL), (ssize_t)n, "%s does not scan", c->json);
    cr_assert_eq(s.type, JSON_STRING);

    cr_assert(json_str_eq(&s, c->want, c->want_len), "%s: not equal to its decoding", c->json);
    char longer[20];
    memcpy(longer, c->want, c->want_len);
    longer[c->want_len] = 'z';
    cr_assert_not(json_str_eq(&s, longer, c->want_len + 1), "%s: equal to a longer string",
                  c->json);
    if (c->want_len > 0) {
        cr_assert_not(json_str_eq(&s, c->want, c->want_len - 1), "%s: equal to a prefix", c->json);
        char other[16];
        memcpy(other, c->want, c->want_len);
        other[c->want_len - 1] ^= 0x01;
        cr_assert_not(json_str_eq(&s, other, c->want_len), "%s: equal to a different string",
                      c->json);
    }

    char out[16];
    memset(out, 0x55, sizeof(out));
    ssize_t k = json_str_decode(&s, out, c->want_len);
    cr_assert_eq(k, (ssize_t)c->want_len, "%s: decoded %zd bytes", c->json, k);
    cr_assert_arr_eq(out, c->want, c->want_len);
    cr_assert_eq((unsigned char)out[c->want_len], 0x55, "wrote past the decoded length");
    if (c->want_len > 0) {
        cr_assert_eq(json_str_decode(&s, out, c->want_len - 1), -ENOBUFS,
                     "%s: decoded into too small a buffer", c->json);
    }
}

Test(json, decodes_into_a_buffer_that_ends_at_a_guard_page)
{
    const char *doc = "\"a\\u00e9\\ud83d\\ude00\\n\"";
    const char want[] = "a\xc3\xa9\xf0\x9f\x98\x80\n";
    size_t want_len = sizeof(want) - 1;
    struct json_val s;
    cr_assert_gt(scan(doc, true, &s), 0);
    struct guard g;
    char *out = guard_alloc(&g, want_len);
    cr_assert_eq(json_str_decode(&s, out, want_len), (ssize_t)want_len);
    cr_assert_arr_eq(out, want, want_len);
    guard_free(&g);
    out = guard_alloc(&g, want_len - 1);
    cr_assert_eq(json_str_decode(&s, out, want_len - 1), -ENOBUFS);
    guard_free(&g);
}

/* ==== Numbers ==== */

struct i64_case {
    char text[40];
    int rc;
    int64_t want;
};

ParameterizedTestParameters(json, converts_integers_exactly)
{
    static struct i64_case cases[] = {
        {"0", 0, 0},
        {"-0", 0, 0},
        {"1", 0, 1},
        {"-1", 0, -1},
        {"9007199254740993", 0, INT64_C(9007199254740993)}, /* 2^53 + 1: not a double */
        {"9223372036854775807", 0, INT64_MAX},
        {"-9223372036854775808", 0, INT64_MIN},
        {"9223372036854775806", 0, INT64_MAX - 1},
        {"-9223372036854775807", 0, INT64_MIN + 1},
        {"9223372036854775808", -ERANGE, 0},
        {"-9223372036854775809", -ERANGE, 0},
        {"9223372036854775810", -ERANGE, 0},
        {"18446744073709551615", -ERANGE, 0},
        {"18446744073709551616", -ERANGE, 0},
        {"92233720368547758070", -ERANGE, 0},
        {"12345678901234567890123", -ERANGE, 0},
        {"1.0", -EINVAL, 0},
        {"1e2", -EINVAL, 0},
        {"-0.0", -EINVAL, 0},
        {"1E0", -EINVAL, 0},
        {"\"1\"", -EINVAL, 0},
        {"null", -EINVAL, 0},
        {"[1]", -EINVAL, 0},
    };
    return cr_make_param_array(struct i64_case, cases, NELEM(cases));
}

ParameterizedTest(struct i64_case *c, json, converts_integers_exactly)
{
    struct json_val v;
    cr_assert_gt(scan_guarded(c->text, strlen(c->text), true, &v, NULL), 0);
    int64_t out = 42;
    int rc = json_to_i64(&v, &out);
    cr_assert_eq(rc, c->rc, "%s: returned %d, want %d", c->text, rc, c->rc);
    if (c->rc == 0)
        cr_assert_eq(out, c->want, "%s: got %" PRId64, c->text, out);
    else
        cr_assert_eq(out, 42, "%s: output written on failure", c->text);
}

Test(json, formats_integers)
{
    char out[24];
    static const struct {
        int64_t v;
        const char *want;
    } i64[] = {{0, "0"},
               {-1, "-1"},
               {7, "7"},
               {-10, "-10"},
               {INT64_MAX, "9223372036854775807"},
               {INT64_MIN, "-9223372036854775808"},
               {INT64_MIN + 1, "-9223372036854775807"}};
    for (size_t i = 0; i < NELEM(i64); i++) {
        memset(out, 0, sizeof(out));
        size_t n = json_fmt_i64(out, i64[i].v);
        cr_assert_eq(n, strlen(i64[i].want));
        cr_assert_str_eq(out, i64[i].want);
    }
    static const struct {
        uint64_t v;
        const char *want;
    } u64[] = {{0, "0"}, {9, "9"}, {10, "10"}, {UINT64_MAX, "18446744073709551615"}};
    for (size_t i = 0; i < NELEM(u64); i++) {
        memset(out, 0, sizeof(out));
        size_t n = json_fmt_u64(out, u64[i].v);
        cr_assert_eq(n, strlen(u64[i].want));
        cr_assert_str_eq(out, u64[i].want);
    }

    /* Every length boundary (each power of ten, one either side) and the 32-bit one. */
    uint64_t edges[64];
    size_t ne = 0;
    for (uint64_t p = 1; ne + 3 <= 60; p *= 10) {
        edges[ne++] = p - 1;
        edges[ne++] = p;
        edges[ne++] = p + 1;
        if (p > UINT64_MAX / 10)
            break;
    }
    edges[ne++] = UINT32_MAX;
    edges[ne++] = (uint64_t)UINT32_MAX + 1;
    for (size_t i = 0; i < ne; i++) {
        char want[32];
        memset(out, 0, sizeof(out));
        size_t n = json_fmt_u64(out, edges[i]);
        snprintf(want, sizeof(want), "%" PRIu64, edges[i]);
        cr_assert(strcmp(out, want) == 0 && n == strlen(want), "%s formatted as %s", want, out);
    }

    /* Random values agree with printf and survive a scan and json_to_i64. */
    struct prng r;
    prng_seed(&r, 1, 0);
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = prng_next(&r) >> (prng_next(&r) % 64);
        int64_t v = (int64_t)bits;
        char want[32];
        memset(out, 0, sizeof(out));
        size_t n = json_fmt_i64(out, v);
        snprintf(want, sizeof(want), "%" PRId64, v);
        CHECK(strcmp(out, want) == 0 && n == strlen(want), "%s formatted as %s", want, out);
        struct json_val jv;
        int64_t back = 0;
        CHECK(json_scan(out, n, true, &jv, NULL) == (ssize_t)n && json_to_i64(&jv, &back) == 0 &&
                  back == v,
              "%s did not convert back", out);
        memset(out, 0, sizeof(out));
        n = json_fmt_u64(out, bits);
        snprintf(want, sizeof(want), "%" PRIu64, bits);
        CHECK(strcmp(out, want) == 0 && n == strlen(want), "%s formatted as %s", want, out);
    }
}

/* ==== Escaping ==== */

/* Escapes s[0..n) into a buffer of exactly json_escaped_max(n) bytes that ends at a guard page,
 * checks the output scans as one string, and returns its decoding (caller frees). */
static char *escape_and_decode(const char *s, size_t n, size_t *out_len)
{
    struct guard g;
    size_t max = json_escaped_max(n);
    char *esc = guard_alloc(&g, max);
    size_t k = json_escape(esc, s, n);
    CHECK(k <= max, "escaped %zu bytes into %zu", n, k);
    struct json_val v;
    struct json_err e = {0};
    ssize_t rc = json_scan(esc, k, true, &v, &e);
    CHECK(rc == (ssize_t)k, "escaped output is not JSON: %s at %zu: %.*s", e.what ? e.what : "-",
          e.offset, (int)k, esc);
    CHECK(v.type == JSON_STRING, "escaped output is not a string: %.*s", (int)k, esc);
    char *dec = malloc(4 * n + 1);
    ssize_t d = json_str_decode(&v, dec, 4 * n + 1);
    CHECK(d >= 0, "decoding failed: %zd", d);
    guard_free(&g);
    *out_len = (size_t)d;
    return dec;
}

Test(json, escape_round_trips_every_ascii_byte)
{
    char all[128];
    for (int c = 0; c < 128; c++)
        all[c] = (char)c;
    size_t n;
    char *back = escape_and_decode(all, sizeof(all), &n);
    cr_assert_eq(n, sizeof(all));
    cr_assert_arr_eq(back, all, sizeof(all));
    free(back);

    const char tricky[] = "a\"b\\c/d\n\t\r\b\f\x01\x1f\x7f\0end";
    back = escape_and_decode(tricky, sizeof(tricky) - 1, &n);
    cr_assert_eq(n, sizeof(tricky) - 1);
    cr_assert_arr_eq(back, tricky, n);
    free(back);
    ASSERT_NO_LEAKS();
}

/* Appends the UTF-8 form of cp (not a surrogate, <= 0x10FFFF). */
static size_t utf8_put(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

Test(json, escape_round_trips_random_valid_utf8)
{
    struct prng r;
    prng_seed(&r, 2, 0);
    char s[4 * 64];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0, chars = prng_below(&r, 64);
        for (size_t i = 0; i < chars; i++) {
            uint32_t cp;
            switch (prng_below(&r, 4)) {
            case 0:
                cp = (uint32_t)prng_below(&r, 0x80);
                break;
            case 1:
                cp = (uint32_t)prng_below(&r, 0x800);
                break;
            case 2:
                cp = (uint32_t)prng_below(&r, 0x10000);
                break;
            default:
                cp = (uint32_t)prng_below(&r, 0x110000);
                break;
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD;
            n += utf8_put(s + n, cp);
        }
        size_t k;
        char *back = escape_and_decode(s, n, &k);
        CHECK(k == n, "iteration %d: %zu bytes came back as %zu", iter, n, k);
        CHECK(memcmp(back, s, n) == 0, "iteration %d: bytes changed", iter);
        free(back);
    }
    ASSERT_NO_LEAKS();
}

/* Length of the well-formed UTF-8 sequence at p, or 0: an implementation independent of
 * json.c's, from the table in Unicode 15 section 3.9 (D92). */
static size_t ref_utf8_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;
    if (c < 0x80)
        return 1;
    else if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* Copies s with every run of U+FFFD (and of invalid bytes, when `raw`) collapsed into one
 * U+FFFD, so that decodings that replace an invalid sequence per byte or per maximal subpart
 * compare equal. */
static size_t collapse_fffd(char *out, const char *s, size_t n, bool raw)
{
    static const char fffd[] = "\xef\xbf\xbd";
    size_t k = 0;
    bool in_run = false;
    for (size_t i = 0; i < n;) {
        size_t len = ref_utf8_len((const unsigned char *)s + i, n - i);
        bool bad = raw && len == 0;
        bool is_fffd = len == 3 && memcmp(s + i, fffd, 3) == 0;
        if (bad || is_fffd) {
            if (!in_run) {
                memcpy(out + k, fffd, 3);
                k += 3;
            }
            in_run = true;
            i += bad ? 1 : 3;
            continue;
        }
        CHECK(len > 0, "decoded output is not UTF-8 at byte %zu", i);
        in_run = false;
        memcpy(out + k, s + i, len);
        k += len;
        i += len;
    }
    return k;
}

Test(json, escape_replaces_invalid_utf8_with_fffd)
{
    static const struct {
        const char *in;
        const char *want; /* the decoding, runs of U+FFFD collapsed */
    } cases[] = {
        {"a\xff"
         "b",
         "a\xef\xbf\xbd"
         "b"},
        {"\x80", "\xef\xbf\xbd"},
        {"\xc0\xaf", "\xef\xbf\xbd"},             /* overlong */
        {"x\xe0\x80\xafy", "x\xef\xbf\xbdy"},     /* overlong */
        {"\xed\xa0\x80", "\xef\xbf\xbd"},         /* surrogate */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd"},     /* above U+10FFFF */
        {"ok\xf0\x9f\x98", "ok\xef\xbf\xbd"},     /* truncated */
        {"\xc3\xa9\xc3", "\xc3\xa9\xef\xbf\xbd"}, /* valid then truncated */
        {"\xc3\x28", "\xef\xbf\xbd("},            /* bad continuation */
    };
    for (size_t i = 0; i < NELEM(cases); i++) {
        size_t n = strlen(cases[i].in), k;
        char *back = escape_and_decode(cases[i].in, n, &k);
        char norm[64];
        size_t m = collapse_fffd(norm, back, k, false);
        cr_assert_eq(m, strlen(cases[i].want), "case %zu: decoded to %zu bytes", i, m);
        cr_assert_arr_eq(norm, cases[i].want, m, "case %zu: wrong decoding", i);
        free(back);
    }
    /* A single invalid byte is exactly one U+FFFD whatever the policy. */
    size_t k;
    char *back = escape_and_decode("a\xff"
                                   "b",
                                   3, &k);
    cr_assert_eq(k, 5);
    cr_assert_arr_eq(back,
                     "a\xef\xbf\xbd"
                     "b",
                     5);
    free(back);
    ASSERT_NO_LEAKS();
}

Test(json, escape_of_random_bytes_is_valid_json_keeping_the_valid_parts)
{
    struct prng r;
    prng_seed(&r, 3, 0);
    unsigned char s[96];
    char *want = malloc(4 * sizeof(s));
    char *got = malloc(4 * sizeof(s));
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = prng_below(&r, sizeof(s));
        for (size_t i = 0; i < n; i++) {
            /* Bias towards bytes that start or continue multi-byte sequences. */
            uint64_t x = prng_next(&r);
            s[i] = (x & 1) ? (unsigned char)(0x80 | (x >> 8 & 0x7F)) : (unsigned char)(x >> 8);
        }
        size_t k;
        char *back = escape_and_decode((const char *)s, n, &k);
        size_t wn = collapse_fffd(want, (const char *)s, n, true);
        size_t gn = collapse_fffd(got, back, k, false);
        CHECK(gn == wn, "iteration %d: %zu bytes, want %zu", iter, gn, wn);
        CHECK(memcmp(got, want, wn) == 0, "iteration %d: valid bytes changed", iter);
        free(back);
    }
    free(want);
    free(got);
    ASSERT_NO_LEAKS();
}
