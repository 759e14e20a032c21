/*
 * test_validate.c: Maelstrom's acceptance rules for node output (validate.h).
 *
 * validate_line() is Maelstrom's reader: JSON, an object, a closed envelope {src, dest, body,
 * optional integer id} whose body is an object, null or absent, with or without a type.
 * validate_reply() is the typed RPC schema of echo_ok and generate_ok: closed, required keys,
 * integer msg_id. Each rule is checked with one line that breaks only that rule, next to a line
 * that keeps it. Depends on: validate, msg, history, unitkit.h.
 */
#include "unitkit.h"
#include "history.h"
#include "validate.h"
#include "eddy/msg.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdbool.h>
#include <string.h>

struct checked {
    struct msg m;
    bool ok, warning;
    char why[256];
};

static void check_line(struct checked *c, const char *line)
{
    memset(c, 0, sizeof(*c));
    c->ok = validate_line(line, strlen(line), &c->m, &c->warning, c->why, sizeof(c->why));
}

/* validate_reply on a line that validate_line accepts; NULL when the reply is well formed. */
static const char *reply_problem(const char *line, enum op_f f, char *why, size_t cap)
{
    struct checked c;
    check_line(&c, line);
    cr_assert(c.ok, "test line refused by validate_line: %s (%s)", c.why, line);
    const char *r = validate_reply(&c.m, f, why, cap);
    cr_assert(r == NULL || r == why, "the reason is returned in why");
    return r;
}

#define ENV(body) "{\"src\":\"n1\",\"dest\":\"c3\",\"body\":" body "}"

/* ==== validate_line ==== */

Test(validate, a_well_formed_line_passes)
{
    struct checked c;
    check_line(&c, ENV("{\"type\":\"echo_ok\",\"echo\":\"x\",\"in_reply_to\":1}"));
    cr_expect(c.ok, "%s", c.why);
    cr_expect(!c.warning);
    check_line(&c, "{\"id\":7,\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":\"x\"}}");
    cr_expect(c.ok, "an integer id is allowed: %s", c.why);
    check_line(&c, "{\"id\":123456789012345678901234567890,\"src\":\"n1\",\"dest\":\"n2\","
                   "\"body\":{\"type\":\"x\"}}");
    cr_expect(c.ok, "Maelstrom's Int takes any integer: %s", c.why);
    check_line(&c, "  " ENV("{\"type\":\"x\"}") "  \r");
    cr_expect(c.ok, "surrounding whitespace: %s", c.why);
    cr_expect(!c.warning, "trailing whitespace is no warning: %s", c.why);
}

struct bad_line {
    char line[120];
    char why[40]; /* a part of the reason */
};

ParameterizedTestParameters(validate, lines_maelstrom_refuses)
{
    static struct bad_line cases[] = {
        {"", "empty line"},
        {"hello", "not well-formed JSON"},
        {"{\"src\":\"n1\",", "not well-formed JSON"},
        {"[1,2]", "not an object"},
        {"\"text\"", "not an object"},
        {"{}", "src"},
        {"{\"dest\":\"c1\",\"body\":{\"type\":\"x\"}}", "src"},
        {"{\"src\":1,\"dest\":\"c1\",\"body\":{\"type\":\"x\"}}", "src"},
        {"{\"src\":\"n1\",\"body\":{\"type\":\"x\"}}", "dest"},
        {"{\"src\":\"n1\",\"dest\":[\"c1\"],\"body\":{\"type\":\"x\"}}", "dest"},
        {"{\"src\":\"n1\",\"dest\":\"c1\",\"body\":\"x\"}", "body"},
        {"{\"src\":\"n1\",\"dest\":\"c1\",\"body\":7}", "body"},
        {"{\"src\":\"n1\",\"dest\":\"c1\",\"body\":true}", "body"},
        {"{\"src\":\"n1\",\"dest\":\"c1\",\"body\":[]}", "body"},
        {"{\"id\":1.5,\"src\":\"n1\",\"dest\":\"c1\",\"body\":{\"type\":\"x\"}}", "id"},
        {"{\"id\":\"1\",\"src\":\"n1\",\"dest\":\"c1\",\"body\":{\"type\":\"x\"}}", "id"},
        {"{\"src\":\"n1\",\"dest\":\"c1\",\"body\":{\"type\":\"x\"},\"extra\":1}", "key"},
        {"{\"src\":\"n1\",\"dest\":\"c1\",\"Body\":{\"type\":\"x\"}}", "body"},
    };
    return cr_make_param_array(struct bad_line, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_line *b, validate, lines_maelstrom_refuses)
{
    struct checked c;
    check_line(&c, b->line);
    cr_expect(!c.ok, "accepted: %s", b->line);
    cr_expect(strstr(c.why, b->why) != NULL, "%s: reason \"%s\" lacks \"%s\"", b->line, c.why,
              b->why);
}

Test(validate, bodies_without_a_type_pass_the_reader)
{
    /* maelstrom net.clj: :body s/Any; process.clj parse-msg turns nil into {}. The type matters
     * only to whoever reads the message: a client's schema, a node's handler. */
    static const char *const lines[] = {
        "{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{}}",
        "{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"gossip\":[1,2]}}",
        "{\"src\":\"n1\",\"dest\":\"n2\",\"body\":{\"type\":3}}",
        "{\"src\":\"n1\",\"dest\":\"n2\",\"body\":null}",
        "{\"src\":\"n1\",\"dest\":\"n2\"}",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct checked c;
        check_line(&c, lines[i]);
        cr_expect(c.ok, "%s: %s", lines[i], c.why);
    }
    char why[256];
    cr_expect_not_null(
        reply_problem(ENV("{\"in_reply_to\":1,\"id\":1}"), F_GENERATE, why, sizeof(why)),
        "but a reply without type fails its op");
    cr_expect(strstr(why, "no type") != NULL, "reason: %s", why);
}

Test(validate, bad_json_reason_gives_the_byte)
{
    struct checked c;
    check_line(&c, "{\"src\":\"n1\",\"dest\" \"c1\"}"); /* byte 19: the quote where : belongs */
    cr_expect(!c.ok);
    cr_expect(strstr(c.why, "at byte 19") != NULL, "reason: %s", c.why);
}

Test(validate, characters_after_the_object_warn_but_pass)
{
    struct checked c;
    check_line(&c, ENV("{\"type\":\"x\"}") " trailing");
    cr_expect(c.ok, "Maelstrom's reader ignores them: %s", c.why);
    cr_expect(c.warning);
    cr_expect(strstr(c.why, "after the JSON object") != NULL, "reason: %s", c.why);
    cr_expect(strstr(c.why, "byte") != NULL, "reason gives the offset: %s", c.why);
}

/* ==== validate_reply ==== */

Test(validate, well_formed_replies_pass)
{
    char why[256];
    cr_expect_null(reply_problem(ENV("{\"type\":\"echo_ok\",\"echo\":\"Please echo 3\","
                                     "\"in_reply_to\":1}"),
                                 F_ECHO, why, sizeof(why)),
                   "%s", why);
    cr_expect_null(reply_problem(ENV("{\"in_reply_to\":1,\"msg_id\":9,\"echo\":{\"any\":[1]},"
                                     "\"type\":\"echo_ok\"}"),
                                 F_ECHO, why, sizeof(why)),
                   "%s", why);
    cr_expect_null(
        reply_problem(ENV("{\"type\":\"generate_ok\",\"id\":\"n1-1\",\"in_reply_to\":2}"),
                      F_GENERATE, why, sizeof(why)),
        "%s", why);
    cr_expect_null(reply_problem(ENV("{\"type\":\"generate_ok\",\"id\":null,\"in_reply_to\":2}"),
                                 F_GENERATE, why, sizeof(why)),
                   "a null id is present: %s", why);
    cr_expect_null(reply_problem(ENV("{\"type\":\"generate_ok\",\"id\":1,\"in_reply_to\":2,"
                                     "\"msg_id\":123456789012345678901234567890}"),
                                 F_GENERATE, why, sizeof(why)),
                   "a big integer msg_id is an Int: %s", why);
    cr_expect_null(reply_problem(ENV("{\"type\":\"generate_ok\",\"id\":1,\"in_reply_to\":2,"
                                     "\"msg_id\":-4}"),
                                 F_GENERATE, why, sizeof(why)),
                   "%s", why);
}

struct bad_reply {
    char line[140];
    int f;        /* enum op_f */
    char why[40]; /* a part of the reason */
};

ParameterizedTestParameters(validate, replies_that_break_the_schema)
{
    static struct bad_reply cases[] = {
        /* Wrong type. */
        {ENV("{\"type\":\"generate_ok\",\"echo\":\"x\",\"in_reply_to\":1}"), F_ECHO, "echo_ok"},
        {ENV("{\"type\":\"echo_ok\",\"id\":\"x\",\"in_reply_to\":1}"), F_GENERATE, "generate_ok"},
        {ENV("{\"type\":\"ECHO_OK\",\"echo\":\"x\",\"in_reply_to\":1}"), F_ECHO, "echo_ok"},
        /* Missing keys. */
        {ENV("{\"type\":\"echo_ok\",\"in_reply_to\":1}"), F_ECHO, "no echo"},
        {ENV("{\"type\":\"generate_ok\",\"in_reply_to\":1}"), F_GENERATE, "no id"},
        /* Extra keys, known to msg.h's slots or not. */
        {ENV("{\"type\":\"echo_ok\",\"echo\":\"x\",\"in_reply_to\":1,\"id\":1}"), F_ECHO, "\"id\""},
        {ENV("{\"type\":\"generate_ok\",\"id\":1,\"in_reply_to\":1,\"echo\":1}"), F_GENERATE,
         "\"echo\""},
        {ENV("{\"type\":\"generate_ok\",\"id\":1,\"in_reply_to\":1,\"code\":1}"), F_GENERATE,
         "\"code\""},
        {ENV("{\"type\":\"generate_ok\",\"id\":1,\"in_reply_to\":1,\"text\":\"t\"}"), F_GENERATE,
         "\"text\""},
        {ENV("{\"type\":\"generate_ok\",\"id\":1,\"in_reply_to\":1,\"node_id\":\"n1\"}"),
         F_GENERATE, "\"node_id\""},
        {ENV("{\"type\":\"echo_ok\",\"echo\":1,\"in_reply_to\":1,\"extra\":true}"), F_ECHO,
         "\"extra\""},
        {ENV("{\"type\":\"echo_ok\",\"echo\":1,\"in_reply_to\":1,\"a\":1,\"b\":2}"), F_ECHO,
         "\"a\""},
        /* Non-integer msg_id. */
        {ENV("{\"type\":\"echo_ok\",\"echo\":1,\"in_reply_to\":1,\"msg_id\":1.5}"), F_ECHO,
         "msg_id"},
        {ENV("{\"type\":\"echo_ok\",\"echo\":1,\"in_reply_to\":1,\"msg_id\":1.0}"), F_ECHO,
         "msg_id"},
        {ENV("{\"type\":\"echo_ok\",\"echo\":1,\"in_reply_to\":1,\"msg_id\":\"1\"}"), F_ECHO,
         "msg_id"},
        {ENV("{\"type\":\"generate_ok\",\"id\":1,\"in_reply_to\":1,\"msg_id\":null}"), F_GENERATE,
         "msg_id"},
        {ENV("{\"type\":\"generate_ok\",\"id\":1,\"in_reply_to\":1,\"msg_id\":1e2}"), F_GENERATE,
         "msg_id"},
    };
    return cr_make_param_array(struct bad_reply, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_reply *b, validate, replies_that_break_the_schema)
{
    char why[256] = "";
    const char *r = reply_problem(b->line, (enum op_f)b->f, why, sizeof(why));
    cr_expect_not_null(r, "accepted: %s", b->line);
    cr_expect(strstr(why, b->why) != NULL, "%s: reason \"%s\" lacks %s", b->line, why, b->why);
}
