/*
 * test_msg.c: sorting a Maelstrom line into the slots of struct msg (msg.h).
 *
 * Slots are slices of the line, so every check compares the exact text a slot points at. Lines
 * are parsed from a copy placed against a guard page.
 * Depends on: msg, json, testkit.h.
 */
#include "testkit.h"
#include "eddy/msg.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A parsed line together with the guarded copy its slots point into. */
struct parsed {
    struct guard g;
    struct msg m;
    struct json_err e;
    int rc;
};

static void parse(struct parsed *p, const char *line)
{
    size_t n = strlen(line);
    char *copy = guard_place(&p->g, line, n);
    memset(&p->e, 0, sizeof(p->e));
    p->rc = msg_parse(copy, n, &p->m, &p->e);
}

static void parsed_free(struct parsed *p)
{
    guard_free(&p->g);
}

static void expect_text(const struct json_val *v, enum json_type type, const char *text)
{
    cr_assert_eq(v->type, type, "type %d, want %d (%s)", v->type, type, text);
    if (type == JSON_NONE)
        return;
    cr_assert_eq(v->len, strlen(text), "slot is %.*s, want %s", (int)v->len, v->p, text);
    cr_assert_arr_eq(v->p, text, v->len, "slot is %.*s, want %s", (int)v->len, v->p, text);
}

Test(msg, fills_every_slot)
{
    struct parsed p;
    parse(&p, "{\"id\":17,\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"msg_id\":3,"
              "\"in_reply_to\":2,\"echo\":{\"a\":[1,2]},\"id\":\"x-1\",\"code\":11,\"text\":\"t\","
              "\"node_id\":\"n0\",\"node_ids\":[\"n0\",\"n1\"]}}");
    cr_assert_eq(p.rc, 0);
    expect_text(&p.m.env_id, JSON_NUMBER, "17");
    expect_text(&p.m.src, JSON_STRING, "\"c1\"");
    expect_text(&p.m.dest, JSON_STRING, "\"n0\"");
    cr_assert_eq(p.m.body.type, JSON_OBJECT);
    expect_text(&p.m.f[MSG_TYPE], JSON_STRING, "\"echo\"");
    expect_text(&p.m.f[MSG_MSG_ID], JSON_NUMBER, "3");
    expect_text(&p.m.f[MSG_IN_REPLY_TO], JSON_NUMBER, "2");
    expect_text(&p.m.f[MSG_ECHO], JSON_OBJECT, "{\"a\":[1,2]}");
    expect_text(&p.m.f[MSG_ID], JSON_STRING, "\"x-1\"");
    expect_text(&p.m.f[MSG_CODE], JSON_NUMBER, "11");
    expect_text(&p.m.f[MSG_TEXT], JSON_STRING, "\"t\"");
    expect_text(&p.m.f[MSG_NODE_ID], JSON_STRING, "\"n0\"");
    expect_text(&p.m.f[MSG_NODE_IDS], JSON_ARRAY, "[\"n0\",\"n1\"]");
    cr_assert_eq(p.m.env_extra.type, JSON_NONE);
    cr_assert_eq(p.m.body_extra.type, JSON_NONE);
    cr_assert_eq(p.m.body_extra_count, 0);
    cr_assert_null(msg_envelope_problem(&p.m, true));
    parsed_free(&p);
}

Test(msg, leaves_absent_slots_empty)
{
    struct parsed p;
    parse(&p, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\"}}");
    cr_assert_eq(p.rc, 0);
    cr_assert_eq(p.m.env_id.type, JSON_NONE);
    for (int k = 0; k < MSG_KEY_COUNT; k++) {
        if (k != MSG_TYPE)
            cr_assert_eq(p.m.f[k].type, JSON_NONE, "slot %s filled", msg_key_name(k));
    }
    parsed_free(&p);
}

Test(msg, fills_only_the_top_level_of_the_body)
{
    /* Keys named like slots inside nested values must not be taken for the body's own. */
    struct parsed p;
    parse(&p, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"echo\":{\"type\":\"inner\",\"msg_id\":9,"
              "\"src\":\"x\"},\"type\":\"echo\",\"msg_id\":1,\"x\":{\"in_reply_to\":4}}}");
    cr_assert_eq(p.rc, 0);
    expect_text(&p.m.f[MSG_TYPE], JSON_STRING, "\"echo\"");
    expect_text(&p.m.f[MSG_MSG_ID], JSON_NUMBER, "1");
    cr_assert_eq(p.m.f[MSG_IN_REPLY_TO].type, JSON_NONE);
    expect_text(&p.m.src, JSON_STRING, "\"c1\"");
    expect_text(&p.m.body_extra, JSON_STRING, "\"x\"");
    cr_assert_eq(p.m.body_extra_count, 1);
    parsed_free(&p);
}

Test(msg, last_duplicate_key_wins)
{
    struct parsed p;
    parse(&p, "{\"src\":\"a\",\"dest\":\"n0\",\"src\":\"b\",\"id\":1,\"id\":2,\"body\":{\"type\":"
              "\"echo\",\"msg_id\":1,\"echo\":\"one\",\"msg_id\":2,\"echo\":\"two\",\"type\":"
              "\"generate\"}}");
    cr_assert_eq(p.rc, 0);
    expect_text(&p.m.src, JSON_STRING, "\"b\"");
    expect_text(&p.m.env_id, JSON_NUMBER, "2");
    expect_text(&p.m.f[MSG_TYPE], JSON_STRING, "\"generate\"");
    expect_text(&p.m.f[MSG_MSG_ID], JSON_NUMBER, "2");
    expect_text(&p.m.f[MSG_ECHO], JSON_STRING, "\"two\"");
    cr_assert_eq(p.m.body_extra_count, 0, "a repeated slot key counted as extra");
    parsed_free(&p);

    /* A repeated body: only the last one's members are used, whatever the first held. */
    parse(&p, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":1,\"zz\":0},"
              "\"body\":{\"type\":\"generate\",\"msg_id\":5}}");
    cr_assert_eq(p.rc, 0);
    expect_text(&p.m.f[MSG_TYPE], JSON_STRING, "\"generate\"");
    cr_assert_eq(p.m.f[MSG_ECHO].type, JSON_NONE, "the first body's echo leaked through");
    cr_assert_eq(p.m.body_extra.type, JSON_NONE);
    cr_assert_eq(p.m.body_extra_count, 0);
    parsed_free(&p);

    parse(&p, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\"},\"body\":\"x\"}");
    cr_assert_eq(p.rc, 0);
    expect_text(&p.m.body, JSON_STRING, "\"x\"");
    cr_assert_eq(p.m.f[MSG_TYPE].type, JSON_NONE);
    cr_assert_str_eq(msg_envelope_problem(&p.m, false), "body is not an object");
    parsed_free(&p);
}

Test(msg, parses_bodies_with_more_members_than_the_scan_records)
{
    /* 40 extra body keys, then the slots: msg_parse must fall back to walking the line. */
    char line[4096];
    size_t n = (size_t)snprintf(line, sizeof(line), "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, "\"x%d\":%d,", i, i);
    snprintf(line + n, sizeof(line) - n, "\"type\":\"echo\",\"msg_id\":7,\"echo\":[1]},\"id\":3}");
    struct parsed p;
    parse(&p, line);
    cr_assert_eq(p.rc, 0);
    expect_text(&p.m.src, JSON_STRING, "\"c1\"");
    expect_text(&p.m.env_id, JSON_NUMBER, "3");
    expect_text(&p.m.f[MSG_TYPE], JSON_STRING, "\"echo\"");
    expect_text(&p.m.f[MSG_MSG_ID], JSON_NUMBER, "7");
    expect_text(&p.m.f[MSG_ECHO], JSON_ARRAY, "[1]");
    expect_text(&p.m.body_extra, JSON_STRING, "\"x0\"");
    cr_assert_eq(p.m.body_extra_count, 40);
    parsed_free(&p);

    /* Members of an object under another envelope key count too, and do not leak into the body. */
    n = (size_t)snprintf(line, sizeof(line), "{\"src\":\"c1\",\"zz\":{");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, "%s\"type\":%d", i ? "," : "", i);
    snprintf(line + n, sizeof(line) - n, "},\"dest\":\"n0\",\"body\":{\"type\":\"init\"}}");
    parse(&p, line);
    cr_assert_eq(p.rc, 0);
    expect_text(&p.m.f[MSG_TYPE], JSON_STRING, "\"init\"");
    expect_text(&p.m.env_extra, JSON_STRING, "\"zz\"");
    cr_assert_eq(p.m.body_extra_count, 0);
    parsed_free(&p);
}

Test(msg, detects_extra_envelope_and_body_keys)
{
    struct parsed p;
    parse(&p, "{\"src\":\"c1\",\"zzz\":1,\"dest\":\"n0\",\"yyy\":[],\"body\":{\"type\":\"echo\","
              "\"qq\":1,\"msg_id\":1,\"rr\":2,\"ss\":3}}");
    cr_assert_eq(p.rc, 0);
    expect_text(&p.m.env_extra, JSON_STRING, "\"zzz\"");
    expect_text(&p.m.body_extra, JSON_STRING, "\"qq\"");
    cr_assert_eq(p.m.body_extra_count, 3);
    expect_text(&p.m.f[MSG_MSG_ID], JSON_NUMBER, "1");
    cr_assert_null(msg_envelope_problem(&p.m, false));
    cr_assert_str_eq(msg_envelope_problem(&p.m, true),
                     "the envelope has a key other than src, dest, body and id");
    parsed_free(&p);

    /* Near misses of slot names are extra keys. */
    parse(&p, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"msg_ids\":1,\"Type\":"
              "2,\"ech\":3,\"node_idz\":4,\"in_reply_t\":5}}");
    cr_assert_eq(p.rc, 0);
    cr_assert_eq(p.m.body_extra_count, 5);
    expect_text(&p.m.body_extra, JSON_STRING, "\"msg_ids\"");
    for (int k = 0; k < MSG_KEY_COUNT; k++) {
        if (k != MSG_TYPE)
            cr_assert_eq(p.m.f[k].type, JSON_NONE, "slot %s filled by a near miss",
                         msg_key_name(k));
    }
    parsed_free(&p);

    parse(&p, "{\"Src\":\"c1\",\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"e\"}}");
    expect_text(&p.m.env_extra, JSON_STRING, "\"Src\"");
    parsed_free(&p);
}

Test(msg, matches_escaped_keys)
{
    struct parsed p;
    parse(
        &p,
        "{\"\\u0073rc\":\"c1\",\"d\\u0065st\":\"n0\",\"i\\u0064\":4,\"b\\u006fdy\":{\"t\\u0079pe\":"
        "\"echo\",\"msg\\u005fid\":3,\"\\u0069d\":7,\"echo\\u0000\":1,\"\\u0065cho\":true}}");
    cr_assert_eq(p.rc, 0);
    expect_text(&p.m.src, JSON_STRING, "\"c1\"");
    expect_text(&p.m.dest, JSON_STRING, "\"n0\"");
    expect_text(&p.m.env_id, JSON_NUMBER, "4");
    cr_assert_eq(p.m.body.type, JSON_OBJECT);
    expect_text(&p.m.f[MSG_TYPE], JSON_STRING, "\"echo\"");
    expect_text(&p.m.f[MSG_MSG_ID], JSON_NUMBER, "3");
    expect_text(&p.m.f[MSG_ID], JSON_NUMBER, "7");
    expect_text(&p.m.f[MSG_ECHO], JSON_TRUE, "true");
    expect_text(&p.m.body_extra, JSON_STRING, "\"echo\\u0000\"");
    cr_assert_eq(p.m.body_extra_count, 1);
    cr_assert_eq(p.m.env_extra.type, JSON_NONE);
    cr_assert_null(msg_envelope_problem(&p.m, true));
    parsed_free(&p);
}

Test(msg, leaves_trailing_bytes_to_the_caller)
{
    /* msg.h: bytes after the object do not fail the parse; the offset of the first non-space
     * one is left in trailing_at (0 when there is none). */
    struct parsed p;
    parse(&p, "{\"src\":\"c1\"} x");
    cr_assert_eq(p.rc, 0);
    expect_text(&p.m.src, JSON_STRING, "\"c1\"");
    cr_assert_eq(p.m.trailing_at, 13);
    parsed_free(&p);
    parse(&p, " {}{\"src\":1}");
    cr_assert_eq(p.rc, 0);
    cr_assert_eq(p.m.trailing_at, 3);
    parsed_free(&p);
    parse(&p, "{\"src\":\"c1\"} \t\r\n");
    cr_assert_eq(p.rc, 0);
    cr_assert_eq(p.m.trailing_at, 0, "whitespace counted as trailing bytes");
    parsed_free(&p);

    struct guard g;
    static const char nul[] = "{\"a\":1}\0";
    char *copy = guard_place(&g, nul, sizeof(nul) - 1);
    struct msg m;
    cr_assert_eq(msg_parse(copy, sizeof(nul) - 1, &m, NULL), 0);
    cr_assert_eq(m.trailing_at, 7, "a NUL after the object is a trailing byte");
    guard_free(&g);

    /* Trailing bytes do not rescue a value that is not an object, nor an invalid one. */
    parse(&p, "[1] x");
    cr_assert_eq(p.rc, -EPROTO);
    parsed_free(&p);
    parse(&p, "{\"a\":} x");
    cr_assert_eq(p.rc, -EBADMSG);
    parsed_free(&p);
}

Test(msg, reports_parse_errors)
{
    struct parsed p;
    parse(&p, "{\"src\":\"c1\",");
    cr_assert_eq(p.rc, -EBADMSG);
    cr_assert_not_null(p.e.what);
    parsed_free(&p);
    parse(&p, "");
    cr_assert_eq(p.rc, -EBADMSG);
    parsed_free(&p);

    static const char *const not_objects[] = {"[]",  "[{\"src\":\"c1\"}]", "\"x\"", "1", "null",
                                              "true"};
    for (size_t i = 0; i < NELEM(not_objects); i++) {
        parse(&p, not_objects[i]);
        cr_assert_eq(p.rc, -EPROTO, "%s: rc %d, want -EPROTO", not_objects[i], p.rc);
        parsed_free(&p);
    }

    size_t n = 300000;
    char *deep = malloc(n + 32);
    size_t at = 0;
    at += (size_t)sprintf(deep, "{\"body\":{\"echo\":");
    memset(deep + at, '[', n - at);
    struct guard g;
    char *copy = guard_place(&g, deep, n);
    struct msg m;
    struct json_err e = {0};
    cr_assert_eq(msg_parse(copy, n, &m, &e), -ELOOP);
    guard_free(&g);
    free(deep);
}

struct problem_case {
    char line[96];
    bool closed;
    char problem[64]; /* "" for none */
};

ParameterizedTestParameters(msg, names_each_envelope_problem)
{
    static struct problem_case cases[] = {
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\"}}", false, ""},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\"}}", true, ""},
        {"{\"id\":0,\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\"}}", true, ""},
        {"{\"id\":-5,\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"\"}}", true, ""},
        {"{\"dest\":\"n0\",\"body\":{\"type\":\"echo\"}}", false, "src is missing"},
        {"{\"src\":1,\"dest\":\"n0\",\"body\":{\"type\":\"echo\"}}", false, "src is not a string"},
        {"{\"src\":null,\"dest\":\"n0\",\"body\":{\"type\":\"e\"}}", false, "src is not a string"},
        {"{\"src\":\"c1\",\"body\":{\"type\":\"echo\"}}", false, "dest is missing"},
        {"{\"src\":\"c1\",\"dest\":[],\"body\":{\"type\":\"e\"}}", false, "dest is not a string"},
        {"{\"src\":\"c1\",\"dest\":\"n0\"}", false, "body is missing"},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":[]}", false, "body is not an object"},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":\"{}\"}", false, "body is not an object"},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":null}", false, "body is not an object"},
        {"{\"id\":1.5,\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"e\"}}", false,
         "the envelope's id is not an integer"},
        {"{\"id\":\"1\",\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"e\"}}", false,
         "the envelope's id is not an integer"},
        {"{\"id\":null,\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"e\"}}", false,
         "the envelope's id is not an integer"},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"e\"},\"x\":1}", true,
         "the envelope has a key other than src, dest, body and id"},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"e\"},\"x\":1}", false, ""},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{}}", false, "body.type is missing"},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"msg_id\":1}}", false, "body.type is missing"},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":1}}", false,
         "body.type is not a string"},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":null}}", false,
         "body.type is not a string"},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":[\"echo\"]}}", false,
         "body.type is not a string"},
    };
    return cr_make_param_array(struct problem_case, cases, NELEM(cases));
}

ParameterizedTest(struct problem_case *c, msg, names_each_envelope_problem)
{
    struct parsed p;
    parse(&p, c->line);
    cr_assert_eq(p.rc, 0, "%s: rc %d", c->line, p.rc);
    const char *problem = msg_envelope_problem(&p.m, c->closed);
    if (c->problem[0] == '\0')
        cr_assert_null(problem, "%s: unexpected problem \"%s\"", c->line, problem);
    else
        cr_assert(problem && strcmp(problem, c->problem) == 0, "%s: problem \"%s\", want \"%s\"",
                  c->line, problem ? problem : "(none)", c->problem);
    parsed_free(&p);
}

struct i64_case {
    char body[64];
    int key;
    int rc;
    int64_t want;
};

ParameterizedTestParameters(msg, reads_integer_slots)
{
    static struct i64_case cases[] = {
        {"\"msg_id\":1", MSG_MSG_ID, 0, 1},
        {"\"msg_id\":0", MSG_MSG_ID, 0, 0},
        {"\"msg_id\":-3", MSG_MSG_ID, 0, -3},
        {"\"msg_id\":9223372036854775807", MSG_MSG_ID, 0, INT64_MAX},
        {"\"msg_id\":-9223372036854775808", MSG_MSG_ID, 0, INT64_MIN},
        {"\"msg_id\":9223372036854775808", MSG_MSG_ID, -ERANGE, 0},
        {"\"msg_id\":12345678901234567890123", MSG_MSG_ID, -ERANGE, 0},
        {"\"msg_id\":1.0", MSG_MSG_ID, -EINVAL, 0},
        {"\"msg_id\":1e3", MSG_MSG_ID, -EINVAL, 0},
        {"\"msg_id\":\"1\"", MSG_MSG_ID, -EINVAL, 0},
        {"\"msg_id\":null", MSG_MSG_ID, -EINVAL, 0},
        {"\"other\":1", MSG_MSG_ID, -ENOENT, 0},
        {"\"in_reply_to\":42", MSG_IN_REPLY_TO, 0, 42},
        {"\"msg_id\":42", MSG_IN_REPLY_TO, -ENOENT, 0},
        {"\"code\":11", MSG_CODE, 0, 11},
    };
    return cr_make_param_array(struct i64_case, cases, NELEM(cases));
}

ParameterizedTest(struct i64_case *c, msg, reads_integer_slots)
{
    char line[160];
    snprintf(line, sizeof(line), "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"x\",%s}}",
             c->body);
    struct parsed p;
    parse(&p, line);
    cr_assert_eq(p.rc, 0, "%s: rc %d", line, p.rc);
    int64_t out = 99;
    int rc = msg_get_i64(&p.m, (enum msg_key)c->key, &out);
    cr_assert_eq(rc, c->rc, "%s: rc %d, want %d", c->body, rc, c->rc);
    if (c->rc == 0)
        cr_assert_eq(out, c->want, "%s: got %" PRId64, c->body, out);
    parsed_free(&p);
}

Test(msg, names_every_key)
{
    static const char *const names[MSG_KEY_COUNT] = {
        [MSG_TYPE] = "type", [MSG_MSG_ID] = "msg_id",   [MSG_IN_REPLY_TO] = "in_reply_to",
        [MSG_ECHO] = "echo", [MSG_ID] = "id",           [MSG_CODE] = "code",
        [MSG_TEXT] = "text", [MSG_NODE_ID] = "node_id", [MSG_NODE_IDS] = "node_ids",
    };
    for (int k = 0; k < MSG_KEY_COUNT; k++)
        cr_assert_str_eq(msg_key_name((enum msg_key)k), names[k]);
}

Test(msg, parses_a_line_that_ends_at_a_guard_page)
{
    /* parse() always places the line against the guard page; this one ends in a number, the
     * value kind whose end is found only by looking at the next byte. */
    struct parsed p;
    parse(&p, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":1},\"id\":7}");
    cr_assert_eq(p.rc, 0);
    expect_text(&p.m.env_id, JSON_NUMBER, "7");
    parsed_free(&p);
    parse(&p, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":1},\"id\":7");
    cr_assert_eq(p.rc, -EBADMSG);
    parsed_free(&p);
}
