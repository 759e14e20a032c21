/*
 * test_canon.c: canonical JSON encodings and Clojure's compare (canon.h).
 *
 * The encoding's one promise is that two values encode to the same bytes exactly when Clojure's
 * = (on what Maelstrom's JSON reader produced) calls them equal, so most tests encode two texts
 * and compare the bytes. canon_compare() is checked against clojure.core/compare, including the
 * pairs for which Clojure throws (CANON_INCOMPARABLE), which is what turns Maelstrom's
 * unique-ids verdict into :unknown.
 * Depends on: canon, json, buf, unitkit.h.
 */
#include "unitkit.h"
#include "canon.h"
#include "eddy/buf.h"
#include "eddy/json.h"
#include "eddy/util.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* An encoding, owned: free with enc_free(). */
struct enc {
    struct buf b;
};

static struct enc encode(const char *text)
{
    struct enc e;
    buf_init(&e.b, 1u << 20);
    struct json_val v = scan(text);
    int rc = canon_encode(&v, &e.b);
    CHECK(rc == 0, "canon_encode(%s) returned %d", text, rc);
    return e;
}

static void enc_free(struct enc *e)
{
    buf_fini(&e->b);
}

static const uint8_t *bytes(const struct enc *e)
{
    return (const uint8_t *)buf_peek(&e->b);
}

static bool same_encoding(const char *a, const char *b)
{
    struct enc x = encode(a), y = encode(b);
    bool same = buf_len(&x.b) == buf_len(&y.b) && memcmp(bytes(&x), bytes(&y), buf_len(&x.b)) == 0;
    enc_free(&x);
    enc_free(&y);
    return same;
}

static void expect_equal(const char *a, const char *b)
{
    cr_expect(same_encoding(a, b), "%s and %s should be equal IDs", a, b);
}

static void expect_distinct(const char *a, const char *b)
{
    cr_expect(!same_encoding(a, b), "%s and %s should be different IDs", a, b);
}

static int compare(const char *a, const char *b)
{
    struct enc x = encode(a), y = encode(b);
    int c = canon_compare(bytes(&x), buf_len(&x.b), bytes(&y), buf_len(&y.b));
    enc_free(&x);
    enc_free(&y);
    return c;
}

/* compare(a, b) must be `want`, and compare(b, a) its mirror. */
static void expect_order(const char *a, const char *b, int want)
{
    int c = compare(a, b);
    cr_expect_eq(c, want, "compare(%s, %s) = %d, want %d", a, b, c, want);
    int mirror = want == CANON_INCOMPARABLE ? CANON_INCOMPARABLE : -want;
    int r = compare(b, a);
    cr_expect_eq(r, mirror, "compare(%s, %s) = %d, want %d", b, a, r, mirror);
}

/* ==== Equality: strings ==== */

Test(canon, strings_equal_by_decoded_content)
{
    expect_equal("\"A\"", "\"\\u0041\"");
    expect_equal("\"a/b\"", "\"a\\/b\"");
    expect_equal("\"\xc3\xa9\"", "\"\\u00e9\"");
    expect_equal("\"\xc3\xa9\"", "\"\\u00E9\"");
    /* A surrogate pair escape is the same character as the raw four UTF-8 bytes. */
    expect_equal("\"\xf0\x9f\x98\x80\"", "\"\\ud83d\\ude00\"");
    expect_equal("\"tab\\there\"", "\"tab\\u0009here\"");
    expect_equal("\"\"", "\"\"");
}

Test(canon, strings_that_differ_stay_distinct)
{
    expect_distinct("\"a\"", "\"A\"");
    expect_distinct("\"a\"", "\"a \"");
    expect_distinct("\"\"", "\" \"");
    expect_distinct("\"\\ud800\"", "\"\\udc00\"");
    expect_distinct("\"n1-1\"", "\"n1-10\"");
}

/* ==== Equality: numbers ==== */

Test(canon, integers_are_exact_at_any_magnitude)
{
    /* 2^53 + 1 and 2^53 collapse to the same double; as integers they differ. */
    expect_distinct("9007199254740993", "9007199254740992");
    expect_distinct("123456789012345678901234567890", "123456789012345678901234567891");
    expect_distinct("-9223372036854775809", "-9223372036854775808");
    expect_distinct("18446744073709551616", "18446744073709551617");
    expect_equal("123456789012345678901234567890", "123456789012345678901234567890");
    expect_distinct("1", "2");
    expect_distinct("1", "-1");
}

Test(canon, negative_zero_equals_zero)
{
    expect_equal("-0", "0");
    expect_equal("-0.0", "0.0");
    expect_equal("-0e0", "0.0");
}

Test(canon, floats_compare_as_doubles)
{
    expect_equal("0.1", "0.10");
    expect_equal("1.0", "1e0");
    expect_equal("1.0", "1.00000000000000001"); /* closer than double precision: one value */
    expect_equal("1e400", "2e400");             /* both overflow to infinity, as Jackson does */
    expect_distinct("0.1", "0.2");
    expect_distinct("1.5", "-1.5");
}

Test(canon, integer_float_and_string_are_different_types)
{
    expect_distinct("1", "1.0");
    expect_distinct("1", "1e0");
    expect_distinct("1", "\"1\"");
    expect_distinct("0", "-0.0");
    expect_distinct("1.0", "\"1.0\"");
}

/* ==== Equality: null, booleans, arrays, objects ==== */

Test(canon, null_and_booleans_are_values)
{
    expect_equal("null", "null");
    expect_equal(" null ", "null");
    expect_equal("true", "true");
    expect_distinct("true", "false");
    expect_distinct("null", "false");
    expect_distinct("null", "\"null\"");
    expect_distinct("null", "0");
    expect_distinct("null", "[]");
}

Test(canon, arrays_equal_element_by_element)
{
    expect_equal("[1,\"n0\"]", "[1, \"n0\"]");
    expect_equal("[ 1 ,\n\t\"n0\" ]", "[1,\"n0\"]");
    expect_equal("[1,\"\\u006e0\"]", "[1,\"n0\"]");
    expect_equal("[[1,[2]],{}]", "[ [1, [2]], { } ]");
    expect_equal("[]", "[ ]");
    expect_distinct("[1,\"n0\"]", "[\"n0\",1]");
    expect_distinct("[1,\"n0\"]", "[1,\"n0\",null]");
    expect_distinct("[1]", "[1.0]");
    expect_distinct("[[1,2]]", "[1,2]");
    expect_distinct("[]", "[null]");
    /* Element boundaries are part of the encoding: ["ab","c"] is not ["a","bc"]. */
    expect_distinct("[\"ab\",\"c\"]", "[\"a\",\"bc\"]");
}

Test(canon, objects_equal_regardless_of_key_order)
{
    expect_equal("{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}");
    expect_equal("{\"a\":1,\"b\":2,\"c\":3}", "{\"c\":3,\"a\":1,\"b\":2}");
    expect_equal("{\"a\":{\"x\":1,\"y\":2}}", "{\"a\":{\"y\":2,\"x\":1}}");
    expect_equal("{\"\\u0061\":1}", "{\"a\":1}");
    expect_equal("{}", "{ }");
    expect_distinct("{\"a\":1,\"b\":2}", "{\"a\":2,\"b\":1}");
    expect_distinct("{\"a\":1}", "{\"a\":1,\"b\":2}");
    expect_distinct("{\"ab\":\"c\"}", "{\"a\":\"bc\"}");
    expect_distinct("{\"a\":1}", "[\"a\",1]");
    expect_distinct("{}", "[]");
}

Test(canon, repeated_keys_last_one_wins)
{
    expect_equal("{\"a\":1,\"a\":2}", "{\"a\":2}");
    expect_equal("{\"a\":1,\"b\":3,\"a\":2}", "{\"b\":3,\"a\":2}");
    expect_equal("{\"a\":1,\"\\u0061\":2}", "{\"a\":2}");
    expect_equal("{\"a\":1,\"a\":2,\"a\":3}", "{\"a\":3}");
    expect_distinct("{\"a\":1,\"a\":2}", "{\"a\":1}");
}

/* ==== Encoding details ==== */

Test(canon, encoding_starts_with_the_documented_tag)
{
    static const struct {
        char text[24];
        char tag;
        char type[12];
    } cases[] = {
        {"null", 'n', "null"},  {"false", 'f', "boolean"},    {"true", 't', "boolean"},
        {"12", 'i', "integer"}, {"1.5", 'd', "float"},        {"\"x\"", 's', "string"},
        {"[1]", 'a', "array"},  {"{\"k\":1}", 'o', "object"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct enc e = encode(cases[i].text);
        cr_expect_eq(bytes(&e)[0], (uint8_t)cases[i].tag, "%s: tag '%c'", cases[i].text,
                     bytes(&e)[0]);
        cr_expect_str_eq(canon_type_name(bytes(&e), buf_len(&e.b)), cases[i].type, "%s",
                         cases[i].text);
        enc_free(&e);
    }
    cr_expect_str_eq(canon_type_name(NULL, 0), "nothing");
}

Test(canon, string_encoding_is_tag_and_decoded_bytes)
{
    struct enc e = encode("\"a\\u00e9\\n\"");
    cr_assert_eq(buf_len(&e.b), 5);
    cr_expect_arr_eq(bytes(&e), "sa\xc3\xa9\n", 5);
    enc_free(&e);
}

Test(canon, integer_encoding_is_its_decimal_text)
{
    struct enc e = encode("-123456789012345678901234567890");
    cr_assert_eq(buf_len(&e.b), 32);
    cr_expect_arr_eq(bytes(&e), "i-123456789012345678901234567890", 32);
    enc_free(&e);
}

Test(canon, encode_reports_a_full_buffer)
{
    struct buf b;
    buf_init(&b, 4);
    struct json_val v = scan("\"longer than four\"");
    cr_expect_eq(canon_encode(&v, &b), -ENOBUFS);
    buf_fini(&b);

    buf_init(&b, 8);
    v = scan("[\"abcdefgh\",1]");
    cr_expect_eq(canon_encode(&v, &b), -ENOBUFS);
    buf_fini(&b);

    buf_init(&b, 8);
    v = scan("{\"key\":\"abcdefgh\"}");
    cr_expect_eq(canon_encode(&v, &b), -ENOBUFS);
    buf_fini(&b);
    ASSERT_NO_LEAKS();
}

Test(canon, varints_round_trip)
{
    static const uint64_t values[] = {
        0, 1, 127, 128, 255, 300, 16383, 16384, UINT32_MAX, UINT64_C(1) << 63, UINT64_MAX};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        uint8_t tmp[10];
        size_t n = canon_put_varint(tmp, values[i]);
        cr_expect(n >= 1 && n <= 10, "length %zu", n);
        uint64_t back = 0;
        cr_expect_eq(canon_get_varint(tmp, n, &back), n, "read length for %llu",
                     (unsigned long long)values[i]);
        cr_expect_eq(back, values[i]);
        if (n > 1)
            cr_expect_eq(canon_get_varint(tmp, n - 1, &back), 0, "a truncated varint reads as 0");
    }
    uint8_t one[10];
    cr_expect_eq(canon_put_varint(one, 127), 1);
    cr_expect_eq(canon_put_varint(one, 128), 2);
    cr_expect_eq(canon_put_varint(one, UINT64_MAX), 10);
}

/* ==== Hostile shapes: linear time, exact results ==== */

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* `depth` arrays around a string of `fill` bytes, in buf (NUL-terminated); returns its length. */
static size_t nested_text(char *buf, size_t depth, size_t fill)
{
    size_t n = 0;
    for (size_t i = 0; i < depth; i++)
        buf[n++] = '[';
    buf[n++] = '"';
    memset(buf + n, 'x', fill);
    n += fill;
    buf[n++] = '"';
    for (size_t i = 0; i < depth; i++)
        buf[n++] = ']';
    buf[n] = '\0';
    return n;
}

Test(canon, deep_nesting_costs_linear_time, .timeout = 120)
{
    /* Encoding each element on its own and copying it into its parent copied the innermost
     * string once per level: about a second of CPU for this 1 MiB value nested 999 deep (and
     * 5 ms for a 2 KB ID nested 997 deep). In one pass per level of the index it is a few
     * milliseconds; the bound is a gross-regression guard, generous for a loaded machine. */
    static char text[(1u << 20) + 4096];
    size_t n = nested_text(text, 999, (1u << 20) - 2000);
    struct json_val v = scan(text);
    struct buf out;
    buf_init(&out, 4u << 20);
    struct canon_scratch sc;
    canon_scratch_init(&sc);
    double t0 = cpu_seconds();
    for (int i = 0; i < 5; i++) {
        buf_clear(&out);
        cr_assert_eq(canon_encode_with(&v, &out, &sc), 0);
    }
    double took = (cpu_seconds() - t0) / 5;
    cr_expect_lt(took, 0.2, "a 1 MiB ID nested 999 deep took %.3f s to encode", took);
    /* Each level adds its tag, its count (1) and its element's length (3 bytes from the level
     * whose element is 16,384 bytes or more: every level here). */
    cr_expect_eq(buf_len(&out), 1 + (n - 2 * 999 - 2) + 999 * (1 + 1 + 3));
    const uint8_t *e = (const uint8_t *)buf_peek(&out);
    cr_expect_eq(e[0], 'a');
    cr_expect_eq(e[buf_len(&out) - 1], 'x');
    canon_scratch_fini(&sc);
    buf_fini(&out);
    ASSERT_NO_LEAKS();
}

/* Checks that an object's encoding lists its keys in strictly increasing byte order; returns
 * how many members it has. */
static uint64_t check_sorted_object(const uint8_t *e, size_t len)
{
    CHECK(len > 0 && e[0] == 'o', "not an object encoding");
    uint64_t count;
    size_t at = 1 + canon_get_varint(e + 1, len - 1, &count);
    const uint8_t *prev = NULL;
    uint64_t prev_len = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t kl, vl;
        at += canon_get_varint(e + at, len - at, &kl);
        const uint8_t *key = e + at;
        at += kl;
        if (prev) {
            int c = memcmp(prev, key, EDDY_MIN(prev_len, kl));
            CHECK(c < 0 || (c == 0 && prev_len < kl), "member %llu out of order",
                  (unsigned long long)i);
        }
        prev = key;
        prev_len = kl;
        at += canon_get_varint(e + at, len - at, &vl);
        at += vl;
    }
    CHECK(at == len, "object encoding has %zu bytes, members end at %zu", len, at);
    return count;
}

Test(canon, sixty_thousand_keys_sort_in_linear_time, .timeout = 120)
{
    /* Keys in a scrambled order, sharing long prefixes, some of them prefixes of others, some
     * repeated (the later value wins): the encoding must equal that of the same object written
     * in order without repeats. */
    enum { KEYS = 60000 };
    static char a[2u << 20], b[2u << 20];
    size_t na = 0, nb = 0;
    a[na++] = '{';
    b[nb++] = '{';
    for (int i = 0; i < KEYS; i++) {
        int k = (int)(((long)i * 7919) % KEYS);
        na += (size_t)sprintf(a + na, "%s\"key-%d\":%d", i ? "," : "", k, k % 3 ? 0 : 1);
    }
    for (int k = 0; k < 100; k++) /* repeats, after the originals: these values win */
        na += (size_t)sprintf(a + na, ",\"key-%d\":\"again\"", k * 17);
    a[na++] = '}';
    a[na] = '\0';
    for (int k = KEYS - 1; k >= 0; k--) {
        bool again = k % 17 == 0 && k / 17 < 100;
        if (again)
            nb += (size_t)sprintf(b + nb, "%s\"key-%d\":\"again\"", k < KEYS - 1 ? "," : "", k);
        else
            nb += (size_t)sprintf(b + nb, "%s\"key-%d\":%d", k < KEYS - 1 ? "," : "", k,
                                  k % 3 ? 0 : 1);
    }
    b[nb++] = '}';
    b[nb] = '\0';
    struct json_val va = scan(a), vb = scan(b);
    struct buf ea, eb;
    buf_init(&ea, 4u << 20);
    buf_init(&eb, 4u << 20);
    struct canon_scratch sc;
    canon_scratch_init(&sc);
    double t0 = cpu_seconds();
    cr_assert_eq(canon_encode_with(&va, &ea, &sc), 0);
    double took = cpu_seconds() - t0;
    cr_assert_eq(canon_encode_with(&vb, &eb, &sc), 0);
    cr_expect_lt(took, 0.5,
                 "60,000 keys took %.3f s (qsort took 60 ms, a gross-regression "
                 "guard)",
                 took);
    cr_assert_eq(buf_len(&ea), buf_len(&eb));
    cr_expect(memcmp(buf_peek(&ea), buf_peek(&eb), buf_len(&ea)) == 0, "same object, same bytes");
    cr_expect_eq(check_sorted_object((const uint8_t *)buf_peek(&ea), buf_len(&ea)), KEYS);
    canon_scratch_fini(&sc);
    buf_fini(&ea);
    buf_fini(&eb);
    ASSERT_NO_LEAKS();
}

Test(canon, keys_sort_by_bytes_whatever_their_shape)
{
    /* More than the insertion sort's share, so the radix sort's paths run: keys that are
     * prefixes of others, the empty key, bytes above 0x7F, escapes, long common prefixes. */
    static const char *const keys[] = {
        "",
        "a",
        "aa",
        "aaa",
        "ab",
        "b",
        "\\u00e9",
        "\u00ff",
        "z",
        "zz",
        "\\n",
        "A",
        "0",
        "00",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa0",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "~",
        "\\u0000",
        " ",
        "m",
        "mm",
        "mmm",
        "mmmm",
        "q1",
        "q2",
        "q3",
        "q10",
        "q20",
        "\xf0\x9f\x98\x80",
        "\xef\xbf\xbf",
        "y",
    };
    enum { N = sizeof(keys) / sizeof(keys[0]) };
    char fwd[4096], rev[4096];
    size_t nf = 0, nr = 0;
    fwd[nf++] = '{';
    rev[nr++] = '{';
    for (int i = 0; i < N; i++) {
        nf += (size_t)sprintf(fwd + nf, "%s\"%s\":%d", i ? "," : "", keys[i], i);
        nr += (size_t)sprintf(rev + nr, "%s\"%s\":%d", i ? "," : "", keys[N - 1 - i], N - 1 - i);
    }
    fwd[nf++] = '}';
    rev[nr++] = '}';
    fwd[nf] = rev[nr] = '\0';
    struct enc a = encode(fwd), b = encode(rev);
    cr_assert_eq(buf_len(&a.b), buf_len(&b.b));
    cr_expect(memcmp(bytes(&a), bytes(&b), buf_len(&a.b)) == 0, "key order does not matter");
    cr_expect_eq(check_sorted_object(bytes(&a), buf_len(&a.b)), N);
    enc_free(&a);
    enc_free(&b);
}

Test(canon, nesting_of_every_kind_encodes_exactly)
{
    /* Objects in arrays in objects, 300 levels of each, with keys in two orders. */
    static char a[16384], b[16384];
    size_t na = 0, nb = 0;
    for (int i = 0; i < 300; i++) {
        na += (size_t)sprintf(a + na, "{\"k\":%d,\"v\":[", i);
        nb += (size_t)sprintf(b + nb, "{\"v\":[");
    }
    a[na++] = '1';
    b[nb++] = '1';
    for (int i = 299; i >= 0; i--) {
        na += (size_t)sprintf(a + na, "]}");
        nb += (size_t)sprintf(b + nb, "],\"k\":%d}", i);
    }
    a[na] = b[nb] = '\0';
    expect_equal(a, b);
    b[nb - 2] = '9'; /* the outermost k: 0 becomes 9 */
    expect_distinct(a, b);
}

/* ==== Order (clojure.core/compare) ==== */

Test(canon, string_against_number_is_incomparable)
{
    expect_order("\"1\"", "1", CANON_INCOMPARABLE);
    expect_order("\"a\"", "1.5", CANON_INCOMPARABLE);
    expect_order("\"n0-1\"", "123456789012345678901234567890", CANON_INCOMPARABLE);
}

Test(canon, any_object_pair_is_incomparable)
{
    expect_order("{\"a\":1}", "{\"a\":1}", CANON_INCOMPARABLE);
    expect_order("{\"a\":1}", "{\"b\":2}", CANON_INCOMPARABLE);
    expect_order("{}", "{}", CANON_INCOMPARABLE);
    expect_order("{\"a\":1}", "\"a\"", CANON_INCOMPARABLE);
    expect_order("{\"a\":1}", "1", CANON_INCOMPARABLE);
    expect_order("{\"a\":1}", "[1]", CANON_INCOMPARABLE);
}

Test(canon, number_against_boolean_is_incomparable)
{
    expect_order("1", "true", CANON_INCOMPARABLE);
    expect_order("0", "false", CANON_INCOMPARABLE);
    expect_order("1.5", "true", CANON_INCOMPARABLE);
    expect_order("\"true\"", "true", CANON_INCOMPARABLE);
    expect_order("[1]", "1", CANON_INCOMPARABLE);
    expect_order("[\"a\"]", "\"a\"", CANON_INCOMPARABLE);
}

Test(canon, null_compares_below_everything)
{
    expect_order("null", "null", 0);
    expect_order("null", "false", -1);
    expect_order("null", "-1e300", -1);
    expect_order("null", "-123456789012345678901234567890", -1);
    expect_order("null", "\"\"", -1);
    expect_order("null", "[]", -1);
    expect_order("null", "{}", -1);
}

Test(canon, vectors_compare_by_length_first)
{
    expect_order("[9]", "[1,1]", -1);
    expect_order("[\"z\",\"z\"]", "[\"a\",\"a\",\"a\"]", -1);
    expect_order("[]", "[0]", -1);
    /* Different lengths decide before the elements are looked at, even clashing ones. */
    expect_order("[\"a\"]", "[1,2]", -1);
    expect_order("[1,2]", "[1,3]", -1);
    expect_order("[1,\"n0\"]", "[1,\"n1\"]", -1);
    expect_order("[1,\"n0\"]", "[1, \"n0\"]", 0);
    /* Equal lengths with clashing elements: Clojure throws. */
    expect_order("[1,\"a\"]", "[\"a\",1]", CANON_INCOMPARABLE);
    expect_order("[1,{}]", "[1,{}]", CANON_INCOMPARABLE);
}

Test(canon, integers_compare_exactly)
{
    expect_order("9007199254740993", "9007199254740992", 1);
    expect_order("123456789012345678901234567890", "123456789012345678901234567891", -1);
    expect_order("-10", "-9", -1);
    expect_order("-9", "10", -1);
    expect_order("10", "9", 1);
    expect_order("-0", "0", 0);
    expect_order("-123456789012345678901234567891", "-123456789012345678901234567890", -1);
}

Test(canon, integers_and_floats_compare_by_value)
{
    /* Clojure's compare orders mixed numbers by value (= says 1 and 1.0 differ; compare says 0). */
    expect_order("1", "1.0", 0);
    expect_order("1", "1.5", -1);
    expect_order("-1", "-0.5", -1);
    expect_order("0.1", "0.10", 0);
    expect_order("2.5", "1e1", -1);
}

Test(canon, booleans_and_strings_order)
{
    expect_order("false", "true", -1);
    expect_order("true", "true", 0);
    expect_order("\"a\"", "\"b\"", -1);
    expect_order("\"ab\"", "\"abc\"", -1);
    expect_order("\"\"", "\"a\"", -1);
    expect_order("\"A\"", "\"\\u0041\"", 0);
    expect_order("\"B\"", "\"a\"", -1);
}

Test(canon, strings_order_by_utf16_code_units_as_java)
{
    /* U+1F600 is the surrogate pair D83D DE00 in UTF-16, below U+FFFF; in UTF-8 bytes it would
     * sort above (F0 > EF). Java's String.compareTo uses the UTF-16 units. */
    expect_order("\"\\ud83d\\ude00\"", "\"\\uffff\"", -1);
    expect_order("\"\xf0\x9f\x98\x80\"", "\"\xef\xbf\xbf\"", -1);
    expect_order("\"\\u00e9\"", "\"z\"", 1);
}

Test(canon, integers_of_any_length_compare_with_floats_by_value)
{
    /* Clojure compares a BigInt with a Double as doubles: 10^70 < 1e300. An integer text of 64
     * digits or more must not be taken for infinity. */
    static const char big[] =
        "10000000000000000000000000000000000000000000000000000000000000000000000";
    static const char neg[] =
        "-10000000000000000000000000000000000000000000000000000000000000000000000";
    expect_order(big, "1e300", -1);
    expect_order(neg, "-1e300", 1);
    expect_order("1000000000000000000000000000000", "1e300", -1); /* 31 digits: fine */
}

/* ==== Back to JSON ==== */

/* canon_to_json(encode(text)) must be `want`, and must encode back to the same bytes. */
static void expect_json(const char *text, const char *want)
{
    struct enc e = encode(text);
    struct buf out;
    buf_init(&out, 1u << 20);
    cr_assert_eq(canon_to_json(bytes(&e), buf_len(&e.b), &out), 0, "%s", text);
    CHECK(buf_len(&out) == strlen(want) && memcmp(buf_peek(&out), want, strlen(want)) == 0,
          "%s as JSON: %.*s, want %s", text, (int)buf_len(&out), buf_peek(&out), want);
    char *again = strndup(buf_peek(&out), buf_len(&out));
    struct enc back = encode(again);
    cr_expect(buf_len(&back.b) == buf_len(&e.b) &&
                  memcmp(bytes(&back), bytes(&e), buf_len(&e.b)) == 0,
              "%s does not encode back to %s's bytes", again, text);
    free(again);
    enc_free(&back);
    enc_free(&e);
    buf_fini(&out);
}

Test(canon, encodings_read_back_as_json)
{
    expect_json("null", "null");
    expect_json("true", "true");
    expect_json("-0", "0");
    expect_json("123456789012345678901234567890", "123456789012345678901234567890");
    expect_json("0.10", "0.1");
    expect_json("1e0", "1.0");
    expect_json("1e400", "1e999");
    expect_json("-2.5e-7", "-2.5e-07");
    expect_json("\"\\u0041\\n\\u00e9\"", "\"A\\n\xc3\xa9\"");
    expect_json("[1, [\"a\", null], {}]", "[1,[\"a\",null],{}]");
    expect_json("{\"b\": 2, \"a\": {\"y\": 1, \"x\": [true]}, \"b\": 3}",
                "{\"a\":{\"x\":[true],\"y\":1},\"b\":3}");
}

Test(canon, json_of_a_bad_encoding_is_an_error)
{
    struct buf out;
    buf_init(&out, 1024);
    cr_expect_eq(canon_to_json((const uint8_t *)"", 0, &out), -EINVAL);
    cr_expect_eq(canon_to_json((const uint8_t *)"x", 1, &out), -EINVAL);
    cr_expect_eq(canon_to_json((const uint8_t *)"a\x02\x05", 3, &out), -EINVAL, "truncated");
    cr_expect_eq(canon_to_json((const uint8_t *)"d12", 3, &out), -EINVAL);
    buf_fini(&out);
    buf_init(&out, 4);
    cr_expect_eq(canon_to_json((const uint8_t *)"slonger", 7, &out), -ENOBUFS);
    buf_fini(&out);
    ASSERT_NO_LEAKS();
}
