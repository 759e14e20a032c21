/*
 * test_node.c: eddy-node's protocol logic (node.h), driven in-process.
 *
 * Each line is handed to node_handle_line from a copy that ends at a guard page, and the reply
 * is compared byte for byte with the line Maelstrom expects. Bad input must produce no reply and
 * exactly one log line, and the node must answer a valid request right after it. Time is
 * injected so that generate replies are reproducible; the counter strategy gives exact IDs.
 * Depends on: node, buf, ids, json, cJSON, testkit.h.
 */
#include "testkit.h"
#include "node.h"
#include "eddy/buf.h"
#include "eddy/ids.h"
#include "eddy/json.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define BASE_NS (INT64_C(1732233600000) * 1000000)

#define INIT_N0                                                                                    \
    "{\"id\":0,\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n0\","     \
    "\"node_ids\":[\"n0\",\"n1\",\"n2\"],\"msg_id\":1}}"
#define INIT_OK_N0                                                                                 \
    "{\"src\":\"n0\",\"dest\":\"c0\",\"body\":{\"type\":\"init_ok\",\"in_reply_to\":1}}"

/* ==== Fixture ==== */

struct fake_clock {
    int64_t ns;
    int64_t step_ns;
};

static int64_t fake_clock_read(void *ctx)
{
    struct fake_clock *c = ctx;
    int64_t t = c->ns;
    c->ns += c->step_ns;
    return t;
}

struct fx {
    struct node n;
    struct buf out;
    struct buf log;
    struct fake_clock clk;
};

static void fx_init(struct fx *f, enum ids_kind kind)
{
    f->clk = (struct fake_clock){.ns = BASE_NS, .step_ns = 1000};
    node_init(&f->n, &(struct node_opts){
                         .ids = kind,
                         .clock = fake_clock_read,
                         .clock_ctx = &f->clk,
                     });
    buf_init(&f->out, 1u << 24);
    buf_init(&f->log, 1u << 20);
}

static void fx_fini(struct fx *f)
{
    buf_fini(&f->out);
    buf_fini(&f->log);
}

/* Hands line[0..n) to the node from a copy that ends at a guard page. */
static void fx_line(struct fx *f, const char *line, size_t n)
{
    struct guard g;
    char *copy = guard_place(&g, line, n);
    node_handle_line(&f->n, copy, n, &f->out, &f->log);
    guard_free(&g);
}

static void fx_send(struct fx *f, const char *line)
{
    fx_line(f, line, strlen(line));
}

/* The output must be exactly `want` plus a newline; then it is cleared. */
static void expect_reply(struct fx *f, const char *want)
{
    size_t n = strlen(want);
    size_t got = buf_len(&f->out);
    const char *p = got ? buf_peek(&f->out) : "";
    cr_assert(got == n + 1 && memcmp(p, want, n) == 0 && p[n] == '\n',
              "reply:\n  got  %.*s\n  want %s\\n", CLIP(got), p, want);
    buf_clear(&f->out);
}

static void expect_no_reply(struct fx *f)
{
    cr_assert_eq(buf_len(&f->out), 0, "unexpected reply: %.*s", CLIP(buf_len(&f->out)),
                 buf_len(&f->out) ? buf_peek(&f->out) : "");
}

static size_t log_lines(const struct fx *f)
{
    return buf_len(&f->log) ? count_lines(buf_peek(&f->log), buf_len(&f->log)) : 0;
}

/* Takes the single reply line out of the buffer, parsed (caller deletes). */
static cJSON *take_reply_json(struct fx *f)
{
    size_t n = buf_len(&f->out);
    cr_assert_gt(n, 0, "no reply");
    const char *p = buf_peek(&f->out);
    cr_assert_eq(p[n - 1], '\n');
    cr_assert_eq(count_lines(p, n), 1, "more than one line: %.*s", (int)n, p);
    cJSON *j = cJSON_ParseWithLength(p, n - 1);
    cr_assert_not_null(j, "reply is not JSON: %.*s", (int)n, p);
    buf_clear(&f->out);
    return j;
}

/* The object's keys are exactly `keys` (each once). */
static void expect_keys(const cJSON *obj, const char *const *keys, size_t count)
{
    cr_assert(cJSON_IsObject(obj));
    size_t seen = 0;
    for (const cJSON *it = obj->child; it; it = it->next) {
        bool known = false;
        for (size_t k = 0; k < count; k++)
            known = known || strcmp(it->string, keys[k]) == 0;
        cr_assert(known, "unexpected key \"%s\"", it->string);
        seen++;
    }
    cr_assert_eq(seen, count, "%zu keys, want %zu", seen, count);
}

static void fx_init_n0(struct fx *f, enum ids_kind kind)
{
    fx_init(f, kind);
    fx_send(f, INIT_N0);
    expect_reply(f, INIT_OK_N0);
    buf_clear(&f->log);
}

/* A generate must still get its reply (the node keeps serving). */
static void expect_still_serving(struct fx *f)
{
    fx_send(f, "{\"src\":\"c9\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":99}}");
    cJSON *j = take_reply_json(f);
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(j, "body");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(body, "type")->valuestring, "generate_ok");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(body, "in_reply_to")->valuedouble, 99);
    cJSON_Delete(j);
}

/* ==== init ==== */

Test(node, init_replies_init_ok_ignoring_extra_keys)
{
    struct fx f;
    fx_init(&f, IDS_EDDY);
    fx_send(&f, "{\"id\":0,\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":"
                "\"n0\",\"node_ids\":[\"n0\",\"n1\",\"n2\"],\"msg_id\":1,\"future\":{\"x\":[1]}},"
                "\"extra\":\"ignored\"}");
    expect_reply(&f, INIT_OK_N0);
    cr_assert(f.n.initialised);
    cr_assert_eq(f.n.self_len, 4);
    cr_assert_arr_eq(f.n.self, "\"n0\"", 4);
    fx_fini(&f);
    ASSERT_NO_LEAKS();
}

Test(node, init_reply_copies_the_request_msg_id)
{
    struct fx f;
    fx_init(&f, IDS_EDDY);
    fx_send(&f, "{\"id\":12,\"src\":\"c7\",\"dest\":\"n3\",\"body\":{\"msg_id\":9007199254740993,"
                "\"node_ids\":[\"n1\",\"n2\",\"n3\"],\"node_id\":\"n3\",\"type\":\"init\"}}");
    expect_reply(&f, "{\"src\":\"n3\",\"dest\":\"c7\",\"body\":{\"type\":\"init_ok\","
                     "\"in_reply_to\":9007199254740993}}");
    fx_fini(&f);
}

struct node_name_case {
    char name[16];
};

ParameterizedTestParameters(node, serves_under_any_node_name)
{
    static struct node_name_case cases[] = {{"n0"}, {"n1"}, {"node-a"}, {"n10"}};
    return cr_make_param_array(struct node_name_case, cases, NELEM(cases));
}

ParameterizedTest(struct node_name_case *c, node, serves_under_any_node_name)
{
    struct fx f;
    fx_init(&f, IDS_EDDY);
    char line[256], want[256];
    snprintf(line, sizeof(line),
             "{\"id\":0,\"src\":\"c0\",\"dest\":\"%s\",\"body\":{\"type\":\"init\",\"node_id\":"
             "\"%s\",\"node_ids\":[\"n0\",\"n1\",\"node-a\",\"n10\"],\"msg_id\":1}}",
             c->name, c->name);
    fx_send(&f, line);
    snprintf(want, sizeof(want),
             "{\"src\":\"%s\",\"dest\":\"c0\",\"body\":{\"type\":\"init_ok\",\"in_reply_to\":1}}",
             c->name);
    expect_reply(&f, want);

    snprintf(line, sizeof(line),
             "{\"id\":4,\"src\":\"c3\",\"dest\":\"%s\",\"body\":{\"type\":\"echo\",\"echo\":"
             "\"hi\",\"msg_id\":2}}",
             c->name);
    fx_send(&f, line);
    snprintf(want, sizeof(want),
             "{\"src\":\"%s\",\"dest\":\"c3\",\"body\":{\"type\":\"echo_ok\",\"echo\":\"hi\","
             "\"in_reply_to\":2}}",
             c->name);
    expect_reply(&f, want);

    snprintf(line, sizeof(line),
             "{\"src\":\"c3\",\"dest\":\"%s\",\"body\":{\"type\":\"generate\",\"msg_id\":3}}",
             c->name);
    fx_send(&f, line);
    cJSON *j = take_reply_json(&f);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "src")->valuestring, c->name);
    const char *id =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "body"), "id")
            ->valuestring;
    cr_assert_not_null(id);
    size_t idn = strlen(id), nn = strlen(c->name);
    cr_assert_eq(idn, 27 + 1 + nn, "ID %s", id);
    cr_assert_eq(id[27], '-');
    cr_assert_str_eq(id + 28, c->name, "ID %s does not end with the node id", id);
    cJSON_Delete(j);
    fx_fini(&f);
    ASSERT_NO_LEAKS();
}

Test(node, init_again_takes_the_new_name_and_a_new_incarnation)
{
    struct fx f;
    fx_init_n0(&f, IDS_EDDY);
    uint64_t inc = f.n.ids.incarnation;
    fx_send(&f, "{\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n1\","
                "\"node_ids\":[\"n0\",\"n1\"],\"msg_id\":2}}");
    expect_reply(&f, "{\"src\":\"n1\",\"dest\":\"c0\",\"body\":{\"type\":\"init_ok\","
                     "\"in_reply_to\":2}}");
    cr_assert_neq(f.n.ids.incarnation, inc);
    fx_send(&f, "{\"src\":\"c1\",\"dest\":\"n1\",\"body\":{\"type\":\"echo\",\"echo\":1,"
                "\"msg_id\":3}}");
    expect_reply(&f, "{\"src\":\"n1\",\"dest\":\"c1\",\"body\":{\"type\":\"echo_ok\",\"echo\":1,"
                     "\"in_reply_to\":3}}");
    fx_fini(&f);
}

Test(node, init_logs_at_most_one_line)
{
    /* node.h: node_handle_line appends "at most one line ... to `log`". Checked after the
     * fixture is released, so that a failure reports only itself under LeakSanitizer. */
    static const char *const inits[] = {
        /* node_id not in node_ids */
        "{\"src\":\"c0\",\"dest\":\"n7\",\"body\":{\"type\":\"init\",\"node_id\":\"n7\","
        "\"node_ids\":[\"n0\",\"n1\"],\"msg_id\":1}}",
        /* a second init */
        INIT_N0,
    };
    struct fx f;
    fx_init(&f, IDS_EDDY);
    size_t lines[2];
    char text[2][2 * NODE_LOG_LINE_MAX];
    for (int i = 0; i < 2; i++) {
        buf_clear(&f.log);
        fx_send(&f, inits[i]);
        lines[i] = log_lines(&f);
        snprintf(text[i], sizeof(text[i]), "%.*s", (int)buf_len(&f.log), buf_peek(&f.log));
    }
    bool replied = buf_len(&f.out) > 0 && f.n.initialised;
    fx_fini(&f);
    cr_assert(replied);
    cr_assert_leq(lines[0], 1, "an init whose node_id is not in node_ids logged %zu lines:\n%s",
                  lines[0], text[0]);
    cr_assert_leq(lines[1], 1, "a second init logged %zu lines:\n%s", lines[1], text[1]);
}

/* ==== echo ==== */

struct echo_case {
    char value[96];
};

ParameterizedTestParameters(node, echo_returns_the_value_byte_for_byte)
{
    static struct echo_case cases[] = {
        {"\"Please echo 42\""},
        {"\"\""},
        {"12345678901234567890123"},
        {"-9223372036854775809"},
        {"1.5e-300"},
        {"-0"},
        {"true"},
        {"null"},
        {"[]"},
        {"{}"},
        {"{\"a\":[1,{\"b\":null}],\"c\":\"d\",\"type\":\"x\",\"msg_id\":7}"},
        {"[[[[[[\"deep\"]]]]]]"},
        {"\"\\u00e9\\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\n\\t\""},
        {"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""},
        {"[ 1 , 2 ,\t3 ]"},
        {"\"\\u0000\""},
    };
    return cr_make_param_array(struct echo_case, cases, NELEM(cases));
}

ParameterizedTest(struct echo_case *c, node, echo_returns_the_value_byte_for_byte)
{
    struct fx f;
    fx_init_n0(&f, IDS_EDDY);
    char line[256], want[256];
    snprintf(line, sizeof(line),
             "{\"id\":3,\"src\":\"c2\",\"dest\":\"n0\",\"body\":{\"echo\":%s,\"type\":\"echo\","
             "\"msg_id\":1}}",
             c->value);
    snprintf(want, sizeof(want),
             "{\"src\":\"n0\",\"dest\":\"c2\",\"body\":{\"type\":\"echo_ok\",\"echo\":%s,"
             "\"in_reply_to\":1}}",
             c->value);
    fx_send(&f, line);
    expect_reply(&f, want);
    cr_assert_eq(log_lines(&f), 0, "echo logged: %.*s", (int)buf_len(&f.log), buf_peek(&f.log));
    fx_fini(&f);
    ASSERT_NO_LEAKS();
}

Test(node, echo_accepts_escapes_whitespace_and_crlf_in_the_envelope)
{
    struct fx f;
    fx_init_n0(&f, IDS_EDDY);
    /* Escaped type and keys, whitespace everywhere, and the \r a CRLF line keeps. */
    fx_send(&f,
            " { \"src\" : \"c\\u0031\" , \"dest\":\"n0\",\"b\\u006fdy\":{ \"type\":\"ech\\u006f\","
            " \"echo\" : [ 1 ] , \"msg_id\" : 5 } } \r");
    expect_reply(&f,
                 "{\"src\":\"n0\",\"dest\":\"c\\u0031\",\"body\":{\"type\":\"echo_ok\",\"echo\":"
                 "[ 1 ],\"in_reply_to\":5}}");
    fx_fini(&f);
}

Test(node, echo_reply_body_is_closed)
{
    struct fx f;
    fx_init_n0(&f, IDS_EDDY);
    fx_send(&f, "{\"src\":\"c2\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":\"x\","
                "\"msg_id\":1,\"extra\":2}}");
    cJSON *j = take_reply_json(&f);
    static const char *const env[] = {"src", "dest", "body"};
    static const char *const body[] = {"type", "echo", "in_reply_to"};
    expect_keys(j, env, NELEM(env));
    expect_keys(cJSON_GetObjectItemCaseSensitive(j, "body"), body, NELEM(body));
    cJSON_Delete(j);
    fx_fini(&f);
    ASSERT_NO_LEAKS();
}

/* ==== generate ==== */

Test(node, generate_reply_has_exactly_type_id_and_in_reply_to)
{
    struct fx f;
    fx_init_n0(&f, IDS_EDDY);
    regex_t re;
    cr_assert_eq(regcomp(&re, "^[0-9A-HJKMNP-TV-Z]{27}-n0$", REG_EXTENDED | REG_NOSUB), 0);
    const char *prev = NULL;
    char prev_buf[64] = "";
    for (int i = 1; i <= 1000; i++) {
        char line[128];
        snprintf(line, sizeof(line),
                 "{\"id\":%d,\"src\":\"c4\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\","
                 "\"msg_id\":%d}}",
                 i, i);
        fx_send(&f, line);
        cJSON *j = take_reply_json(&f);
        static const char *const env[] = {"src", "dest", "body"};
        static const char *const keys[] = {"type", "id", "in_reply_to"};
        expect_keys(j, env, NELEM(env));
        cJSON *body = cJSON_GetObjectItemCaseSensitive(j, "body");
        expect_keys(body, keys, NELEM(keys));
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "src")->valuestring, "n0");
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "dest")->valuestring, "c4");
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(body, "type")->valuestring,
                         "generate_ok");
        cr_assert_eq(cJSON_GetObjectItemCaseSensitive(body, "in_reply_to")->valuedouble, i);
        const char *id = cJSON_GetObjectItemCaseSensitive(body, "id")->valuestring;
        cr_assert_not_null(id, "id is not a string");
        cr_assert_eq(regexec(&re, id, 0, NULL, 0), 0, "ID %s has the wrong shape", id);
        if (prev)
            cr_assert_gt(strcmp(id, prev_buf), 0, "ID %s does not follow %s", id, prev_buf);
        snprintf(prev_buf, sizeof(prev_buf), "%s", id);
        prev = prev_buf;
        cJSON_Delete(j);
    }
    regfree(&re);
    fx_fini(&f);
    ASSERT_NO_LEAKS();
}

Test(node, generate_with_the_counter_strategy_gives_exact_lines)
{
    struct fx f;
    fx_init_n0(&f, IDS_COUNTER);
    fx_send(&f, "{\"id\":5,\"src\":\"c2\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\","
                "\"msg_id\":2}}");
    expect_reply(&f, "{\"src\":\"n0\",\"dest\":\"c2\",\"body\":{\"type\":\"generate_ok\",\"id\":1,"
                     "\"in_reply_to\":2}}");
    fx_send(&f, "{\"src\":\"c3\",\"dest\":\"n0\",\"body\":{\"msg_id\":-4,\"type\":\"generate\"}}");
    expect_reply(&f, "{\"src\":\"n0\",\"dest\":\"c3\",\"body\":{\"type\":\"generate_ok\",\"id\":2,"
                     "\"in_reply_to\":-4}}");
    fx_fini(&f);
}

/* ==== Error replies ==== */

Test(node, unknown_type_is_not_supported)
{
    struct fx f;
    fx_init_n0(&f, IDS_EDDY);
    fx_send(&f,
            "{\"id\":9,\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"bogus\",\"msg_id\":5}}");
    expect_reply(&f, "{\"src\":\"n0\",\"dest\":\"c1\",\"body\":{\"type\":\"error\",\"code\":10,"
                     "\"text\":\"unsupported message type\",\"in_reply_to\":5}}");
    /* The same before init: the reply comes from the name the request was addressed to. */
    struct fx g;
    fx_init(&g, IDS_EDDY);
    fx_send(&g, "{\"src\":\"c1\",\"dest\":\"n4\",\"body\":{\"type\":\"read\",\"msg_id\":6}}");
    expect_reply(&g, "{\"src\":\"n4\",\"dest\":\"c1\",\"body\":{\"type\":\"error\",\"code\":10,"
                     "\"text\":\"unsupported message type\",\"in_reply_to\":6}}");
    fx_fini(&f);
    fx_fini(&g);
}

Test(node, echo_and_generate_before_init_are_temporarily_unavailable)
{
    struct fx f;
    fx_init(&f, IDS_EDDY);
    fx_send(&f, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":\"x\","
                "\"msg_id\":2}}");
    expect_reply(&f, "{\"src\":\"n0\",\"dest\":\"c1\",\"body\":{\"type\":\"error\",\"code\":11,"
                     "\"text\":\"not initialised yet\",\"in_reply_to\":2}}");
    fx_send(&f, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":3}}");
    expect_reply(&f, "{\"src\":\"n0\",\"dest\":\"c1\",\"body\":{\"type\":\"error\",\"code\":11,"
                     "\"text\":\"not initialised yet\",\"in_reply_to\":3}}");
    cr_assert_not(f.n.initialised);
    fx_fini(&f);
}

struct malformed_case {
    char line[160];
    char reply[160];
};

ParameterizedTestParameters(node, malformed_requests_get_code_12)
{
    static struct malformed_case cases[] = {
        {"{\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_ids\":[\"n0\"],"
         "\"msg_id\":1}}",
         "{\"src\":\"n0\",\"dest\":\"c0\",\"body\":{\"type\":\"error\",\"code\":12,\"text\":"
         "\"init needs a string node_id\",\"in_reply_to\":1}}"},
        {"{\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":0,"
         "\"node_ids\":[\"n0\"],\"msg_id\":1}}",
         "{\"src\":\"n0\",\"dest\":\"c0\",\"body\":{\"type\":\"error\",\"code\":12,\"text\":"
         "\"init needs a string node_id\",\"in_reply_to\":1}}"},
        {"{\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n0\","
         "\"node_ids\":\"n0\",\"msg_id\":1}}",
         "{\"src\":\"n0\",\"dest\":\"c0\",\"body\":{\"type\":\"error\",\"code\":12,\"text\":"
         "\"init needs a node_ids array\",\"in_reply_to\":1}}"},
        {"{\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n0\","
         "\"msg_id\":1}}",
         "{\"src\":\"n0\",\"dest\":\"c0\",\"body\":{\"type\":\"error\",\"code\":12,\"text\":"
         "\"init needs a node_ids array\",\"in_reply_to\":1}}"},
        {"{\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n0\","
         "\"node_ids\":[\"n0\",1],\"msg_id\":1}}",
         "{\"src\":\"n0\",\"dest\":\"c0\",\"body\":{\"type\":\"error\",\"code\":12,\"text\":"
         "\"node_ids must hold strings only\",\"in_reply_to\":1}}"},
    };
    return cr_make_param_array(struct malformed_case, cases, NELEM(cases));
}

ParameterizedTest(struct malformed_case *c, node, malformed_requests_get_code_12)
{
    struct fx f;
    fx_init(&f, IDS_EDDY);
    fx_send(&f, c->line);
    expect_reply(&f, c->reply);
    cr_assert_not(f.n.initialised, "a failed init initialised the node");
    /* Still uninitialised: an echo is refused with 11, not served. */
    fx_send(&f, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":1,"
                "\"msg_id\":2}}");
    expect_reply(&f, "{\"src\":\"n0\",\"dest\":\"c1\",\"body\":{\"type\":\"error\",\"code\":11,"
                     "\"text\":\"not initialised yet\",\"in_reply_to\":2}}");
    fx_fini(&f);
}

Test(node, echo_without_echo_is_malformed)
{
    struct fx f;
    fx_init_n0(&f, IDS_EDDY);
    fx_send(&f, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"msg_id\":4}}");
    expect_reply(&f, "{\"src\":\"n0\",\"dest\":\"c1\",\"body\":{\"type\":\"error\",\"code\":12,"
                     "\"text\":\"echo needs an echo field\",\"in_reply_to\":4}}");
    fx_fini(&f);
}

Test(node, init_with_an_overlong_node_id_is_malformed)
{
    struct fx f;
    fx_init(&f, IDS_EDDY);
    char name[IDS_NODE_MAX + 1];
    memset(name, 'x', IDS_NODE_MAX - 1); /* 255 bytes: 257 with its quotes */
    name[IDS_NODE_MAX - 1] = '\0';
    char *line = malloc(1024);
    snprintf(line, 1024,
             "{\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"%s\","
             "\"node_ids\":[\"%s\"],\"msg_id\":1}}",
             name, name);
    fx_send(&f, line);
    expect_reply(&f, "{\"src\":\"n0\",\"dest\":\"c0\",\"body\":{\"type\":\"error\",\"code\":12,"
                     "\"text\":\"node_id is longer than 256 bytes\",\"in_reply_to\":1}}");
    cr_assert_not(f.n.initialised);
    free(line);
    fx_fini(&f);
}

Test(node, error_replies_have_the_error_schema)
{
    struct fx f;
    fx_init(&f, IDS_EDDY);
    fx_send(&f, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"bogus\",\"msg_id\":5}}");
    cJSON *j = take_reply_json(&f);
    static const char *const env[] = {"src", "dest", "body"};
    static const char *const keys[] = {"type", "code", "text", "in_reply_to"};
    expect_keys(j, env, NELEM(env));
    cJSON *body = cJSON_GetObjectItemCaseSensitive(j, "body");
    expect_keys(body, keys, NELEM(keys));
    cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(body, "text")));
    cJSON_Delete(j);
    fx_fini(&f);
    ASSERT_NO_LEAKS();
}

/* ==== Bad input: no reply, one log line, and the node keeps serving ==== */

struct bad_case {
    char line[128];
    size_t len; /* 0: strlen; set for lines holding NUL bytes */
};

ParameterizedTestParameters(node, ignores_bad_input_with_one_log_line)
{
    static struct bad_case cases[] = {
        {"hello", 0},
        {"this is not json", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":\"x\",\"msg_id\":1",
         0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":1},}", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":1}}{}", 0},
        {"", 0},
        {"   \t", 0},
        {"\r", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":\"echo\"}", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":[\"generate\"]}", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":null}", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\"}", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"echo\":\"x\",\"msg_id\":1}}", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":7,\"msg_id\":1}}", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":null,\"msg_id\":1}}", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":\"a\0b\",\"msg_id\":"
         "1}}",
         71},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\0\"body\":{\"type\":\"generate\",\"msg_id\":1}}", 63},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":1}}\0", 63},
        {"\0", 1},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\"}}", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":1.0}}", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":1e2}}", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":\"1\"}}", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":null}}", 0},
        {"[{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":1}}]", 0},
        {"\"generate\"", 0},
        {"null", 0},
        {"42", 0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo_ok\",\"echo\":\"x\","
         "\"in_reply_to\":1}}",
         0},
        {"{\"src\":\"n1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate_ok\",\"id\":1,\"msg_id\":4,"
         "\"in_reply_to\":1}}",
         0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"error\",\"code\":11,"
         "\"in_reply_to\":3}}",
         0},
        {"{\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":1}}", 0},
        {"{\"src\":7,\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":1}}", 0},
        {"{\"src\":\"c1\",\"body\":{\"type\":\"generate\",\"msg_id\":1}}", 0},
        {"{\"src\":\"c1\",\"dest\":null,\"body\":{\"type\":\"generate\",\"msg_id\":1}}", 0},
        {"{\"id\":\"x\",\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\","
         "\"msg_id\":1}}",
         0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":\"\xff\","
         "\"msg_id\":1}}",
         0},
        {"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":\"\xed\xa0\x80\","
         "\"msg_id\":1}}",
         0},
        {"{'src':'c1'}", 0},
    };
    return cr_make_param_array(struct bad_case, cases, NELEM(cases));
}

ParameterizedTest(struct bad_case *c, node, ignores_bad_input_with_one_log_line)
{
    struct fx f;
    fx_init_n0(&f, IDS_EDDY);
    size_t n = c->len ? c->len : strlen(c->line);
    uint64_t rejected = f.n.stats.rejected;
    fx_line(&f, c->line, n);
    expect_no_reply(&f);
    cr_assert_eq(log_lines(&f), 1, "%zu log lines for %.*s", log_lines(&f), (int)n, c->line);
    cr_assert_eq(buf_peek(&f.log)[buf_len(&f.log) - 1], '\n');
    cr_assert_leq(buf_len(&f.log), NODE_LOG_LINE_MAX);
    cr_assert_eq(f.n.stats.rejected, rejected + 1);
    buf_clear(&f.log);
    expect_still_serving(&f);
    fx_fini(&f);
    ASSERT_NO_LEAKS();
}

Test(node, ignores_200000_nested_brackets_in_an_echo)
{
    struct fx f;
    fx_init_n0(&f, IDS_EDDY);
    const char *head = "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"msg_id\":1,"
                       "\"echo\":";
    size_t hn = strlen(head), depth = 200000;
    size_t n = hn + 2 * depth + 2;
    char *line = malloc(n);
    memcpy(line, head, hn);
    memset(line + hn, '[', depth);
    memset(line + hn + depth, ']', depth);
    memcpy(line + hn + 2 * depth, "}}", 2);
    fx_line(&f, line, n);
    expect_no_reply(&f);
    cr_assert_eq(log_lines(&f), 1);
    cr_assert_leq(buf_len(&f.log), NODE_LOG_LINE_MAX);
    buf_clear(&f.log);
    expect_still_serving(&f);
    free(line);
    fx_fini(&f);
    ASSERT_NO_LEAKS();
}

Test(node, quotes_a_long_bad_line_in_one_bounded_log_line)
{
    struct fx f;
    fx_init_n0(&f, IDS_EDDY);
    size_t n = 100000;
    char *line = malloc(n);
    memset(line, 'x', n);
    line[0] = '{';
    fx_line(&f, line, n);
    expect_no_reply(&f);
    cr_assert_eq(log_lines(&f), 1);
    cr_assert_leq(buf_len(&f.log), NODE_LOG_LINE_MAX);
    free(line);
    fx_fini(&f);
}

Test(node, oversized_lines_produce_one_log_line)
{
    struct fx f;
    fx_init_n0(&f, IDS_EDDY);
    uint64_t lines = f.n.stats.lines, rejected = f.n.stats.rejected;
    node_handle_oversized(&f.n, 7, 10485760, &f.log);
    expect_no_reply(&f);
    cr_assert_eq(log_lines(&f), 1);
    cr_assert_not_null(memmem(buf_peek(&f.log), buf_len(&f.log), "10485760", 8),
                       "the log line does not give the length: %.*s", (int)buf_len(&f.log),
                       buf_peek(&f.log));
    cr_assert_eq(f.n.stats.lines, lines + 1);
    cr_assert_eq(f.n.stats.rejected, rejected + 1);
    buf_clear(&f.log);
    expect_still_serving(&f);
    fx_fini(&f);
}

Test(node, a_full_log_never_blocks_replies)
{
    struct fx f;
    fx_init_n0(&f, IDS_EDDY);
    buf_fini(&f.log);
    buf_init(&f.log, 8);
    fx_send(&f, "not json");
    expect_no_reply(&f);
    cr_assert_leq(buf_len(&f.log), 8);
    expect_still_serving(&f);
    fx_fini(&f);
}

/* ==== Limits and counters ==== */

Test(node, replies_fit_in_node_reply_max)
{
    /* The longest node id accepted (254 bytes, 256 with quotes) makes every reply long: the
     * smallest requests must still fit in NODE_REPLY_MAX of their own length. */
    struct fx f;
    fx_init(&f, IDS_EDDY);
    char name[IDS_NODE_MAX - 1];
    memset(name, 'm', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    char *init = malloc(1024);
    snprintf(init, 1024,
             "{\"src\":\"c0\",\"dest\":\"\",\"body\":{\"type\":\"init\",\"node_id\":\"%s\","
             "\"node_ids\":[\"%s\"],\"msg_id\":1}}",
             name, name);
    fx_send(&f, init);
    cr_assert(f.n.initialised, "init with a 254-byte node id failed: %.*s", CLIP(buf_len(&f.out)),
              buf_peek(&f.out));
    free(init);
    static const char *const smallest[] = {
        "{\"src\":\"\",\"dest\":\"\",\"body\":{\"type\":\"generate\",\"msg_id\":0}}",
        "{\"src\":\"\",\"dest\":\"\",\"body\":{\"type\":\"\",\"msg_id\":0}}",
        "{\"src\":\"\",\"dest\":\"\",\"body\":{\"type\":\"echo\",\"msg_id\":0}}",
        "{\"src\":\"\",\"dest\":\"\",\"body\":{\"type\":\"echo\",\"echo\":0,\"msg_id\":0}}",
    };
    for (size_t i = 0; i < NELEM(smallest); i++) {
        size_t n = strlen(smallest[i]);
        struct buf tight;
        buf_init(&tight, NODE_REPLY_MAX(n));
        struct guard g;
        char *copy = guard_place(&g, smallest[i], n);
        node_handle_line(&f.n, copy, n, &tight, &f.log);
        guard_free(&g);
        cr_assert_gt(buf_len(&tight), 0, "no reply to %s", smallest[i]);
        cr_assert_leq(buf_len(&tight), NODE_REPLY_MAX(n));
        buf_fini(&tight);
    }
    fx_fini(&f);
    ASSERT_NO_LEAKS();
}

Test(node, counts_lines_replies_errors_and_rejections)
{
    struct fx f;
    fx_init(&f, IDS_EDDY);
    fx_send(&f, INIT_N0);
    fx_send(
        &f,
        "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":1,\"msg_id\":2}}");
    fx_send(&f, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"nope\",\"msg_id\":3}}");
    fx_send(&f, "garbage");
    node_handle_oversized(&f.n, 5, 2000000, &f.log);
    cr_assert_eq(f.n.stats.lines, 5);
    cr_assert_eq(f.n.stats.replies, 3);
    cr_assert_eq(f.n.stats.errors, 1);
    cr_assert_eq(f.n.stats.rejected, 2);
    cr_assert_eq(count_lines(buf_peek(&f.out), buf_len(&f.out)), 3);
    fx_fini(&f);
}
