/*
 * test_report_page.c: escaping untrusted strings for report.html, and the tolerant readers.
 *
 * page_text() is what keeps a hostile node name or ID from breaking the page or injecting
 * markup, so it is tested byte by byte: markup characters, every class of invalid UTF-8 (stray
 * continuation bytes, overlong forms, surrogates, code points past U+10FFFF, truncated
 * sequences), characters XML forbids, and cutting at a character boundary.
 * Depends on: report_page.
 */
#include "report_page.h"

#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define ASSERT_NO_LEAKS() cr_assert(__lsan_do_recoverable_leak_check() == 0, "memory leaked")
#else
#define ASSERT_NO_LEAKS() ((void)0)
#endif

/* ==== Helpers ==== */

#define FFFD "\xEF\xBF\xBD"

/* page_text(s, max) into a fixed buffer, as a C string. */
static const char *escaped(const char *s, size_t max)
{
    static char out[4096];
    memset(out, 0, sizeof(out));
    FILE *f = fmemopen(out, sizeof(out), "w");
    cr_assert_not_null(f);
    page_text(f, s, max);
    cr_assert_eq(fclose(f), 0);
    return out;
}

static void expect(const char *in, const char *want)
{
    const char *got = escaped(in, 1000);
    cr_expect_str_eq(got, want, "escaping \"%s\": got \"%s\", want \"%s\"", in, got, want);
}

/* ==== Escaping ==== */

Test(report_page, escapes_markup_characters)
{
    expect("a<b>&\"'c", "a&lt;b&gt;&amp;&quot;&#39;c");
    expect("</td><script>alert(1)</script>", "&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    expect("&amp;", "&amp;amp;");
    expect("", "");
}

Test(report_page, keeps_valid_utf8)
{
    expect("µs ヽ(‘ー`)ノ 𝄞", "µs ヽ(‘ー`)ノ 𝄞");
    expect("\xEF\xBF\xBD", FFFD); /* U+FFFD itself is fine */
}

Test(report_page, replaces_each_invalid_byte)
{
    expect("a\xFF"
           "b",
           "a" FFFD "b");
    expect("\x80\xBF", FFFD FFFD);                   /* stray continuation bytes */
    expect("\xC0\xAF", FFFD FFFD);                   /* overlong '/' */
    expect("\xE0\x80\xAF", FFFD FFFD FFFD);          /* overlong, three bytes */
    expect("\xED\xA0\x80", FFFD FFFD FFFD);          /* a surrogate, U+D800 */
    expect("\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* past U+10FFFF */
    expect("\xE2\x82", FFFD FFFD);                   /* truncated at the end */
    expect("\xE2\x82"
           "x",
           FFFD FFFD "x");                  /* truncated before ASCII */
    expect("\xEF\xBF\xBE", FFFD FFFD FFFD); /* U+FFFE is not an XML character */
}

Test(report_page, drops_control_characters_but_tab_and_newline)
{
    expect("a\x01\x1b[31mb\x7f", "a[31mb\x7f");
    expect("a\tb\nc\rd", "a\tb\ncd");
}

Test(report_page, cuts_at_max_bytes_on_a_character_boundary)
{
    cr_expect_str_eq(escaped("abcdef", 3), "abc…");
    cr_expect_str_eq(escaped("abc", 3), "abc");
    /* "é" is two bytes: the cut never splits it. */
    cr_expect_str_eq(escaped("aéb", 2), "aé…");
    cr_expect_str_eq(escaped("<<<<", 2), "&lt;&lt;…");
    cr_expect_str_eq(escaped("x", 0), "…");
}

Test(report_page, null_writes_nothing)
{
    cr_expect_str_eq(escaped(NULL, 10), "");
}

Test(report_page, json_keeps_ids_distinct_and_escaped)
{
    cJSON *num = cJSON_CreateNumber(1), *str = cJSON_CreateString("1");
    cJSON *raw = cJSON_CreateRaw("{\"a\":\"<\\u0000&\"}");
    char out[256];
    FILE *f = fmemopen(out, sizeof(out), "w");
    page_json(f, num, 100);
    fputc('|', f);
    page_json(f, str, 100);
    fputc('|', f);
    page_json(f, raw, 100);
    fclose(f);
    cr_expect_str_eq(out, "1|&quot;1&quot;|{&quot;a&quot;:&quot;&lt;\\u0000&amp;&quot;}");
    cJSON_Delete(num);
    cJSON_Delete(str);
    cJSON_Delete(raw);
    ASSERT_NO_LEAKS();
}

/* ==== Reading the map ==== */

Test(report_page, readers_tolerate_absence_and_wrong_types)
{
    cJSON *o = cJSON_Parse("{\"n\":2.5,\"s\":\"x\",\"b\":true,\"v\":\"unknown\",\"w\":false}");
    cr_assert_not_null(o);
    cr_expect_eq(page_num(o, "n", 0), 2.5);
    cr_expect_eq(page_num(o, "s", 7), 7);
    cr_expect_eq(page_num(o, "missing", 7), 7);
    cr_expect_eq(page_num(NULL, "n", 7), 7);
    cr_expect_str_eq(page_str(o, "s"), "x");
    cr_expect_null(page_str(o, "n"));
    cr_expect_null(page_get(page_get(o, "s"), "x"));
    cJSON *v = cJSON_Parse("{\"valid?\":true}");
    cJSON *u = cJSON_Parse("{\"valid?\":\"unknown\"}");
    cJSON *x = cJSON_Parse("{\"valid?\":false}");
    cr_expect_eq(page_valid(v), 1);
    cr_expect_eq(page_valid(x), 0);
    cr_expect_eq(page_valid(u), -1);
    cr_expect_eq(page_valid(NULL), -1);
    cJSON_Delete(o);
    cJSON_Delete(v);
    cJSON_Delete(u);
    cJSON_Delete(x);
    ASSERT_NO_LEAKS();
}

Test(report_page, numbers_are_compact)
{
    char out[128];
    FILE *f = fmemopen(out, sizeof(out), "w");
    page_num_text(f, 2812);
    fputc(' ', f);
    page_num_text(f, 0.986842105263158);
    fputc(' ', f);
    page_num_text(f, -3);
    fputc(' ', f);
    page_num_text(f, NAN);
    fclose(f);
    cr_expect_str_eq(out, "2812 0.986842 -3 –");
}
