/*
 * test_utf8.c: UTF-8 well-formedness, repair as Maelstrom's Java reader does it, and cutting
 * (utf8.h).
 *
 * The repair vectors are those Python's bytes.decode("utf-8", "replace") gives, which applies
 * the same rule as Java's decoder (one U+FFFD per maximal ill-formed subpart); the module was
 * also checked against Python on random byte strings when it was written.
 * Depends on: utf8, unitkit.h.
 */
#include "unitkit.h"
#include "utf8.h"

#include <criterion/criterion.h>

#include <string.h>

#define R "\xEF\xBF\xBD" /* U+FFFD */

struct vec {
    const char *in;
    size_t len;
    const char *out; /* repaired */
};

#define V(in, out)                                                                                 \
    {                                                                                              \
        in, sizeof(in) - 1, out                                                                    \
    }

static const struct vec vecs[] = {
    V("", ""),
    V("plain ascii", "plain ascii"),
    V("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
    V("x\xF1", "x" R), /* the pair: both become the same ID */
    V("x\xF2", "x" R),
    V("x\xFF"
      "1",
      "x" R "1"), /* a byte that starts nothing, then a digit */
    V("\xFF\xFE", R R),
    V("\xE2\x82x", R "x"), /* a truncated sequence: one U+FFFD for its maximal subpart */
    V("\xF0\x9F\x98", R),
    V("\xF0\x9F\x98"
      "a",
      R "a"),
    V("\xED\xA0\x80", R R R), /* an encoded surrogate is not UTF-8 */
    V("\xC0\x80", R R),       /* overlong */
    V("\xE0\x80\x80", R R R),
    V("\xF4\x90\x80\x80", R R R R), /* above U+10FFFF */
    V("\xF5\x80", R R),
    V("\x80\xBF", R R), /* lone continuation bytes */
    V("\xC2", R),
    V("\xC2\xC2\xA9", R "\xC2\xA9"),
    V("a\nb\xE2\n", "a\nb" R "\n"), /* a lead byte never swallows a newline */
};

Test(utf8, repair_matches_the_java_and_python_decoders)
{
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        char out[64];
        size_t n = utf8_repair(out, vecs[i].in, vecs[i].len, false);
        size_t want = strlen(vecs[i].out);
        cr_expect(n == want && memcmp(out, vecs[i].out, n) == 0, "vector %zu: %zu bytes, want %zu",
                  i, n, want);
        cr_expect(n <= utf8_repaired_max(vecs[i].len));
        cr_expect(utf8_valid(out, n), "vector %zu: the repair is well-formed", i);
        cr_expect_eq(utf8_valid(vecs[i].in, vecs[i].len),
                     n == vecs[i].len && memcmp(out, vecs[i].in, n) == 0,
                     "vector %zu: valid exactly when the repair changes nothing", i);
    }
}

Test(utf8, nul_bytes_are_kept_or_replaced_on_request)
{
    char out[16];
    cr_expect(utf8_valid("a\0b", 3));
    cr_assert_eq(utf8_repair(out, "a\0b", 3, false), 3);
    cr_expect(memcmp(out, "a\0b", 3) == 0);
    cr_assert_eq(utf8_repair(out, "a\0b", 3, true), 5);
    cr_expect(memcmp(out, "a" R "b", 5) == 0);
}

Test(utf8, the_ascii_fast_path_finds_a_bad_byte_anywhere)
{
    char buf[40];
    for (size_t at = 0; at < sizeof(buf); at++) {
        memset(buf, 'a', sizeof(buf));
        buf[at] = (char)0xFF;
        CHECK(!utf8_valid(buf, sizeof(buf)), "0xFF at %zu not found", at);
        CHECK(utf8_valid(buf, at), "the %zu bytes before it are fine", at);
    }
}

Test(utf8, prefix_never_splits_a_character)
{
    const char *s = "ab\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z"; /* a b é € 😀 z */
    size_t n = strlen(s);
    static const size_t want[] = {0, 1, 2, 2, 4, 4, 4, 7, 7, 7, 7, 11, 12};
    for (size_t max = 0; max <= n; max++)
        cr_expect_eq(utf8_prefix(s, n, max), want[max], "max %zu", max);
    cr_expect_eq(utf8_prefix(s, n, 100), n);
    cr_expect_eq(utf8_prefix("\xFF\xFF\xFF", 3, 2), 2, "ill-formed bytes are cut anywhere");
}
