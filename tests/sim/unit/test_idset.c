/*
 * test_idset.c: the exact set of acknowledged IDs (idset.h).
 *
 * The set must find a duplicate exactly when Maelstrom's unique-ids checker would (Clojure's =
 * on the parsed JSON), hand back the reference stored with the first copy, and stay compact: a
 * million 30-character string IDs must cost less than 64 bytes each. The equality cases are the
 * project's requirements, checked here through the set itself (the fast path for plain strings
 * and the canonical path for everything else must agree).
 * Depends on: idset, canon, json, unitkit.h.
 */
#include "unitkit.h"
#include "canon.h"
#include "idset.h"
#include "eddy/buf.h"
#include "eddy/json.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Adds the JSON text as an ID with reference ref; returns idset_add's result. */
static int add(struct idset *s, const char *text, uint64_t ref, uint64_t *first_ref)
{
    struct json_val v = scan(text);
    uint64_t entry, first = UINT64_MAX;
    int rc = idset_add(s, &v, ref, &first, &entry);
    if (first_ref)
        *first_ref = first;
    return rc;
}

/* A fresh set holding a, then b added: true when b was reported as a duplicate of a. */
static bool duplicates(const char *a, const char *b)
{
    struct idset *s = idset_new();
    cr_assert_eq(add(s, a, 1, NULL), 0, "%s is new in an empty set", a);
    uint64_t first;
    int rc = add(s, b, 2, &first);
    CHECK(rc == 0 || rc == 1, "idset_add(%s) returned %d", b, rc);
    if (rc == 1)
        CHECK(first == 1, "first_ref %llu, want 1", (unsigned long long)first);
    CHECK(idset_count(s) == (rc == 1 ? 1u : 2u), "count %zu after %s, %s", idset_count(s), a, b);
    idset_free(s);
    return rc == 1;
}

static void expect_dup(const char *a, const char *b)
{
    cr_expect(duplicates(a, b), "%s then %s: should be a duplicate", a, b);
    cr_expect(duplicates(b, a), "%s then %s: should be a duplicate", b, a);
}

static void expect_unique(const char *a, const char *b)
{
    cr_expect(!duplicates(a, b), "%s then %s: should both be unique", a, b);
    cr_expect(!duplicates(b, a), "%s then %s: should both be unique", b, a);
}

/* ==== Equality as Maelstrom's checker sees it ==== */

Test(idset, strings_are_equal_by_content)
{
    expect_dup("\"n1-7\"", "\"n1-7\"");
    /* The plain-string fast path (raw bytes) and the escaped path (decoded) must agree. */
    expect_dup("\"A\"", "\"\\u0041\"");
    expect_dup("\"n1-\\u0037\"", "\"n1-7\"");
    expect_dup("\"\xf0\x9f\x98\x80\"", "\"\\ud83d\\ude00\"");
    expect_unique("\"n1-7\"", "\"n1-70\"");
    expect_unique("\"a\"", "\"A\"");
    expect_unique("\"\"", "\" \"");
}

Test(idset, integers_are_exact_at_any_magnitude)
{
    expect_unique("9007199254740993", "9007199254740992");
    expect_unique("123456789012345678901234567890", "123456789012345678901234567891");
    expect_dup("123456789012345678901234567890", "123456789012345678901234567890");
    expect_unique("18446744073709551615", "18446744073709551614");
    expect_dup("-0", "0");
}

Test(idset, floats_are_doubles)
{
    expect_dup("0.1", "0.10");
    expect_dup("1.0", "1e0");
    expect_dup("-0.0", "0.0");
    expect_unique("0.1", "0.2");
}

Test(idset, types_never_mix)
{
    expect_unique("1", "1.0");
    expect_unique("1", "\"1\"");
    expect_unique("null", "\"null\"");
    expect_unique("true", "\"true\"");
    expect_unique("[1]", "1");
    expect_unique("{}", "[]");
}

Test(idset, arrays_are_equal_element_by_element)
{
    expect_dup("[1,\"n0\"]", "[1, \"n0\"]");
    expect_dup("[1700000000, 12, \"n2\"]", "[1700000000,12,\"n2\"]");
    expect_unique("[1,\"n0\"]", "[1,\"n1\"]");
    expect_unique("[1,\"n0\"]", "[\"n0\",1]");
}

Test(idset, objects_are_equal_regardless_of_key_order)
{
    expect_dup("{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}");
    expect_dup("{\"a\":1,\"a\":2}", "{\"a\":2}");
    expect_unique("{\"a\":1,\"a\":2}", "{\"a\":1}");
    expect_unique("{\"a\":1}", "{\"a\":1,\"b\":1}");
}

Test(idset, null_counts_as_a_value)
{
    expect_dup("null", "null");
    expect_dup("true", "true");
    expect_unique("true", "false");
}

/* ==== References and encodings ==== */

Test(idset, a_duplicate_reports_the_first_ref_and_entry)
{
    struct idset *s = idset_new();
    struct json_val a = scan("\"x\""), b = scan("\"y\""), a2 = scan("\"\\u0078\"");
    uint64_t first = 0, entry_a = 0, entry_b = 0, entry_dup = 0;
    cr_assert_eq(idset_add(s, &a, 1000, &first, &entry_a), 0);
    cr_assert_eq(idset_add(s, &b, IDSET_REF_MAX, &first, &entry_b), 0);
    cr_expect_neq(entry_a, entry_b);
    cr_assert_eq(idset_add(s, &a2, 5, &first, &entry_dup), 1);
    cr_expect_eq(first, 1000);
    cr_expect_eq(entry_dup, entry_a);
    cr_assert_eq(idset_add(s, &b, 6, &first, &entry_dup), 1);
    cr_expect_eq(first, IDSET_REF_MAX, "the full 40-bit reference survives");
    cr_expect_eq(entry_dup, entry_b);
    cr_expect_eq(idset_count(s), 2);
    idset_free(s);
    ASSERT_NO_LEAKS();
}

Test(idset, last_encoding_is_the_canonical_encoding)
{
    static const char texts[][40] = {"\"plain\"",  "\"esc\\u0061ped\"", "12",  "-0", "0.10",
                                     "[1,\"n0\"]", "{\"b\":2,\"a\":1}", "null"};
    struct idset *s = idset_new();
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
            struct json_val v = scan(texts[i]);
            uint64_t first, entry;
            cr_assert_eq(idset_add(s, &v, i, &first, &entry), pass, "%s, pass %d", texts[i], pass);
            size_t n = 0;
            const uint8_t *got = idset_last_encoding(s, &n);
            struct buf want;
            buf_init(&want, 1024);
            cr_assert_eq(canon_encode(&v, &want), 0);
            cr_expect_eq(n, buf_len(&want), "%s: encoding length %zu, want %zu", texts[i], n,
                         buf_len(&want));
            if (n == buf_len(&want))
                cr_expect_arr_eq(got, buf_peek(&want), n, "%s: encoding differs", texts[i]);
            buf_fini(&want);
        }
    }
    idset_free(s);
}

Test(idset, an_id_longer_than_the_maximum_is_refused)
{
    /* A plain string whose encoding ('s' + bytes) is exactly IDSET_VALUE_MAX fits; one more
     * byte does not. The escaped path (canonical encoding into scratch) obeys the same bound. */
    size_t n = IDSET_VALUE_MAX - 1;
    char *text = malloc(n + 4);
    text[0] = '"';
    memset(text + 1, 'x', n);
    text[n + 1] = '"';
    text[n + 2] = '\0';
    struct idset *s = idset_new();
    cr_expect_eq(add(s, text, 1, NULL), 0, "an encoding of IDSET_VALUE_MAX bytes fits");
    text[n + 1] = 'x';
    text[n + 2] = '"';
    text[n + 3] = '\0';
    cr_expect_eq(add(s, text, 2, NULL), -E2BIG, "one byte more is refused");
    /* The same decoded length through the escaped path: one of the x's written as \u0078. */
    char *esc = malloc(n + 1 + 6 + 3);
    esc[0] = '"';
    memcpy(esc + 1, "\\u0078", 6);
    memset(esc + 7, 'x', n);
    esc[n + 7] = '"';
    esc[n + 8] = '\0';
    cr_expect_eq(add(s, esc, 3, NULL), -E2BIG);
    esc[n + 6] = '"'; /* one x fewer: fits, and is the ID already there */
    esc[n + 7] = '\0';
    cr_expect_eq(add(s, esc, 4, NULL), 1);
    free(esc);
    cr_expect_eq(idset_count(s), 1);
    idset_free(s);
    free(text);
    ASSERT_NO_LEAKS();
}

Test(idset, empty_set_counts_nothing)
{
    struct idset *s = idset_new();
    cr_expect_eq(idset_count(s), 0);
    cr_expect_gt(idset_bytes(s), 0, "the table exists from the start");
    idset_free(s);
    idset_free(NULL);
}

/* ==== A million IDs ==== */

#define MILLION 1000000u

/* The i-th 30-character ID, as a JSON string (32 bytes with the quotes). */
static size_t million_id(char *out, size_t cap, uint32_t i)
{
    int n = snprintf(out, cap, "\"id-%027u\"", i * 2654435761u % 1000000007u);
    return (size_t)n;
}

static struct json_val plain_string(const char *text, size_t len)
{
    return (struct json_val){.p = text, .len = len, .type = JSON_STRING, .flags = 0};
}

Test(idset, a_million_ids_find_every_duplicate_in_under_64_bytes_each, .timeout = 120)
{
    struct idset *s = idset_new();
    char text[64];
    for (uint32_t i = 0; i < MILLION; i++) {
        size_t n = million_id(text, sizeof(text), i);
        CHECK(n == 32, "ID %u has %zu bytes", i, n);
        struct json_val v = plain_string(text, n);
        uint64_t first, entry;
        int rc = idset_add(s, &v, (uint64_t)i * 7, &first, &entry);
        CHECK(rc == 0, "ID %u (%s) reported as %d", i, text, rc);
    }
    cr_assert_eq(idset_count(s), MILLION);
    double per_id = (double)idset_bytes(s) / (double)idset_count(s);
    printf("idset: %zu IDs of 30 characters in %zu bytes: %.1f bytes per ID\n", idset_count(s),
           idset_bytes(s), per_id);
    fflush(stdout);
    cr_expect_lt(per_id, 64.0, "%.1f bytes per ID", per_id);

    for (uint32_t i = 0; i < MILLION; i++) {
        /* Re-insert every other one through the escaped path: a \u0069 for the leading i. */
        size_t n = million_id(text, sizeof(text), i);
        struct json_val v = plain_string(text, n);
        char esc[80];
        if (i % 2) {
            int k = snprintf(esc, sizeof(esc), "\"\\u0069%s", text + 2);
            v = (struct json_val){
                .p = esc, .len = (size_t)k, .type = JSON_STRING, .flags = JSON_F_ESCAPED};
        }
        uint64_t first = 0, entry;
        int rc = idset_add(s, &v, 1, &first, &entry);
        CHECK(rc == 1, "ID %u (%.*s) not found again: %d", i, (int)v.len, v.p, rc);
        CHECK(first == (uint64_t)i * 7, "ID %u: first_ref %llu, want %llu", i,
              (unsigned long long)first, (unsigned long long)i * 7);
    }
    cr_expect_eq(idset_count(s), MILLION, "duplicates are not added");
    idset_free(s);
}
