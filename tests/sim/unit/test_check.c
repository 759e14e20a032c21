/*
 * test_check.c: the streaming checkers (check.h): stats, echo, unique-ids duplicates and the
 * :unknown (incomparable IDs) case, latency quantiles, time buckets, exceptions and limits.
 *
 * Ops are fed as the runner feeds them, one completion at a time, with values scanned from JSON
 * text. The verdict rules are Maelstrom's (reference §2): echo counts every non-ok completion as
 * an error, unique-ids looks at ok ops only and compares IDs with Clojure's = and compare.
 * Depends on: check, idset, canon, json, unitkit.h.
 */
#include "unitkit.h"
#include "check.h"
#include "idset.h"

#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The checker is large (histograms, buckets, samples): one per test, not on the stack. */
static struct check chk;

static void ok_id(struct check *c, const char *id, uint64_t ref)
{
    struct json_val v = scan(id);
    check_complete(c, &(struct check_op){.type = OP_OK,
                                         .f = F_GENERATE,
                                         .invoke_ns = 1000,
                                         .complete_ns = 2000,
                                         .ref = ref,
                                         .index = ref,
                                         .value = &v});
}

static void done(struct check *c, enum op_type type, enum op_f f)
{
    check_complete(
        c, &(struct check_op){.type = type, .f = f, .invoke_ns = 0, .complete_ns = 1000000});
}

static void echo_reply(struct check *c, int n, const char *echo)
{
    struct json_val v;
    if (echo)
        v = scan(echo);
    check_complete(c, &(struct check_op){.type = OP_OK,
                                         .f = F_ECHO,
                                         .invoke_ns = 0,
                                         .complete_ns = 500,
                                         .echo_n = n,
                                         .value = echo ? &v : NULL});
}

/* ==== Stats ==== */

Test(check, stats_count_every_completion)
{
    check_init(&chk, WORKLOAD_UNIQUE_IDS, 10);
    for (int i = 0; i < 6; i++)
        check_invoke(&chk);
    ok_id(&chk, "\"a\"", 1);
    ok_id(&chk, "\"b\"", 2);
    done(&chk, OP_FAIL, F_GENERATE);
    done(&chk, OP_INFO, F_GENERATE);
    done(&chk, OP_INFO, F_GENERATE);
    cr_expect_eq(chk.invokes, 6);
    cr_expect_eq(chk.count, 5);
    cr_expect_eq(chk.ok, 2);
    cr_expect_eq(chk.fail, 1);
    cr_expect_eq(chk.info, 2);
    cr_expect_eq(chk.acknowledged, 2, "only ok ops reach the ID set");
    cr_expect_eq(chk.dup_ids, 0);
    cr_expect_eq(chk.lat_all.count, 5);
    cr_expect_eq(chk.lat_ok.count, 2);
    cr_expect_eq(chk.echo_errors, 0, "no echo checking in unique-ids");
    check_fini(&chk);
    ASSERT_NO_LEAKS();
}

/* ==== echo ==== */

Test(check, echo_matching_replies_are_no_error)
{
    check_init(&chk, WORKLOAD_ECHO, 10);
    echo_reply(&chk, 3, "\"Please echo 3\"");
    echo_reply(&chk, 127, "\"Please echo 127\"");
    echo_reply(&chk, 5, "\"Please echo \\u0035\""); /* the same string, escaped */
    cr_expect_eq(chk.echo_errors, 0);
    cr_expect_eq(chk.ok, 3);
    check_fini(&chk);
}

Test(check, echo_mismatches_are_errors)
{
    check_init(&chk, WORKLOAD_ECHO, 10);
    echo_reply(&chk, 3, "\"Please echo 4\"");
    echo_reply(&chk, 3, "\"please echo 3\"");
    echo_reply(&chk, 3, "\"Please echo 3 \"");
    echo_reply(&chk, 3, "3");
    echo_reply(&chk, 3, "[\"Please echo 3\"]");
    echo_reply(&chk, 3, NULL);
    cr_expect_eq(chk.echo_errors, 6);
    cr_assert_not_null(chk.echo_error_text[0]);
    cr_expect(strstr(chk.echo_error_text[0], "Please echo 3") != NULL, "%s",
              chk.echo_error_text[0]);
    cr_expect(strstr(chk.echo_error_text[0], "Please echo 4") != NULL, "names what came back: %s",
              chk.echo_error_text[0]);
    cr_assert_not_null(chk.echo_error_text[5]);
    cr_expect(strstr(chk.echo_error_text[5], "null") != NULL, "%s", chk.echo_error_text[5]);
    check_fini(&chk);
    ASSERT_NO_LEAKS();
}

Test(check, echo_failed_and_timed_out_ops_are_errors_as_in_maelstrom)
{
    check_init(&chk, WORKLOAD_ECHO, 10);
    echo_reply(&chk, 1, "\"Please echo 1\"");
    check_complete(&chk, &(struct check_op){.type = OP_FAIL, .f = F_ECHO, .echo_n = 8});
    check_complete(&chk, &(struct check_op){.type = OP_INFO, .f = F_ECHO, .echo_n = 9});
    cr_expect_eq(chk.echo_errors, 2);
    cr_assert_not_null(chk.echo_error_text[0]);
    cr_expect(strstr(chk.echo_error_text[0], "Please echo 8") != NULL, "%s",
              chk.echo_error_text[0]);
    cr_expect(strstr(chk.echo_error_text[0], "fail") != NULL, "%s", chk.echo_error_text[0]);
    cr_expect(strstr(chk.echo_error_text[1], "info") != NULL, "%s", chk.echo_error_text[1]);
    cr_expect_eq(chk.fail, 1);
    cr_expect_eq(chk.info, 1);
    check_fini(&chk);
}

Test(check, echo_errors_keep_a_bounded_number_of_texts)
{
    check_init(&chk, WORKLOAD_ECHO, 10);
    for (int i = 0; i < CHECK_ECHO_ERRORS_MAX + 50; i++)
        done(&chk, OP_INFO, F_ECHO);
    cr_expect_eq(chk.echo_errors, CHECK_ECHO_ERRORS_MAX + 50, "the count stays exact");
    cr_expect_not_null(chk.echo_error_text[CHECK_ECHO_ERRORS_MAX - 1]);
    check_fini(&chk);
    ASSERT_NO_LEAKS();
}

/* ==== unique-ids: duplicates ==== */

/* The text of listed duplicate i, as check_entry_text gives it (NUL-terminated, static). */
static const char *dup_text(size_t i)
{
    static char text[256];
    struct buf b;
    buf_init(&b, sizeof(text) - 1);
    CHECK(check_entry_text(&chk, chk.dups[i].first, &b) == 0, "text of duplicate %zu", i);
    memcpy(text, buf_peek(&b), buf_len(&b));
    text[buf_len(&b)] = '\0';
    buf_fini(&b);
    return text;
}

Test(check, duplicates_are_counted_with_every_op)
{
    check_init(&chk, WORKLOAD_UNIQUE_IDS, 10);
    ok_id(&chk, "\"a\"", 10);
    ok_id(&chk, "\"b\"", 20);
    struct json_val a = scan("\"a\"");
    check_complete(&chk, &(struct check_op){.type = OP_OK,
                                            .f = F_GENERATE,
                                            .invoke_ns = 2500,
                                            .complete_ns = 3000,
                                            .node = 1,
                                            .client = 4,
                                            .process = 3,
                                            .ref = 30,
                                            .index = 31,
                                            .value = &a});
    ok_id(&chk, "\"\\u0061\"", 40);
    ok_id(&chk, "\"b\"", 50);
    ok_id(&chk, "\"c\"", 60);
    cr_expect_eq(chk.acknowledged, 6);
    cr_expect_eq(chk.repeats, 3, "seen while running");
    cr_expect_eq(chk.dup_ids, 0, "settled at the end");
    check_finish(&chk);
    cr_expect(chk.finished);
    cr_expect_eq(chk.finish_error, 0);
    cr_expect_eq(chk.dup_ids, 2, "a and b are duplicated");
    cr_expect_eq(chk.dup_extra, 3, "ok ops beyond the first of each ID");
    cr_assert_eq(chk.dups_len, 2);
    cr_expect_eq(chk.dups[0].count, 3);
    cr_expect_str_eq(dup_text(0), "\"a\"");
    cr_expect_eq(chk.dups[1].count, 2);
    cr_expect_str_eq(dup_text(1), "\"b\"");
    cr_assert_eq(chk.top_len, 2);
    cr_expect_eq(chk.top[0].count, 3, "the most frequent first");

    /* The first op of each ID is kept with its entry; the repeats, sorted by entry and time. */
    struct idset_op first;
    cr_assert_eq(idset_entry(chk.ids, chk.dups[0].first, NULL, &first), 0);
    cr_expect_eq(first.ref, 10);
    cr_assert_eq(idset_entry(chk.ids, chk.dups[1].first, NULL, &first), 0);
    cr_expect_eq(first.ref, 20);
    cr_assert_eq(chk.dup_ops_len, 3);
    static const uint64_t refs[] = {40, 30, 50};
    for (size_t i = 0; i < 3; i++) {
        cr_expect_eq(chk.dup_ops[i].ref, refs[i], "repeat %zu: ref %llu", i,
                     (unsigned long long)chk.dup_ops[i].ref);
        cr_expect_eq(chk.dup_ops[i].entry, chk.dups[i < 2 ? 0 : 1].first, "repeat %zu entry", i);
    }
    cr_expect_eq(chk.dup_ops[1].process, 3);
    cr_expect_eq(chk.dup_ops[1].node, 1);
    cr_expect_eq(chk.dup_ops[1].client, 4);
    cr_expect_eq(chk.dup_ops[1].time_ns, 3000);
    cr_expect_eq(chk.dup_ops[1].index, 31);
    struct idset_entry_count ec[4];
    cr_expect_eq(check_dup_entries(&chk, &chk.dups[0], ec, 4), 1);
    cr_expect_eq(ec[0].entry, chk.dups[0].first);
    cr_expect_eq(ec[0].count, 3);
    cr_expect(!chk.incomparable);
    check_fini(&chk);
    ASSERT_NO_LEAKS();
}

Test(check, failed_and_unknown_ops_never_duplicate)
{
    check_init(&chk, WORKLOAD_UNIQUE_IDS, 10);
    ok_id(&chk, "1", 1);
    struct json_val v = scan("1");
    check_complete(&chk, &(struct check_op){.type = OP_INFO, .f = F_GENERATE, .value = &v});
    check_complete(&chk, &(struct check_op){.type = OP_FAIL, .f = F_GENERATE, .value = &v});
    check_finish(&chk);
    cr_expect_eq(chk.dup_ids, 0);
    cr_expect_eq(chk.acknowledged, 1);
    check_fini(&chk);
}

/* Two IDs through a fresh checker: true when they were counted as a duplicate. */
static bool dup_pair(const char *a, const char *b)
{
    check_init(&chk, WORKLOAD_UNIQUE_IDS, 10);
    ok_id(&chk, a, 1);
    ok_id(&chk, b, 2);
    check_finish(&chk);
    bool dup = chk.dup_ids == 1;
    CHECK(chk.dup_extra == (dup ? 1u : 0u), "%s, %s: dup_extra %llu", a, b,
          (unsigned long long)chk.dup_extra);
    check_fini(&chk);
    return dup;
}

Test(check, ids_are_equal_exactly_as_maelstrom_compares_them)
{
    static const char dups[][2][40] = {
        {"\"A\"", "\"\\u0041\""},
        {"0.1", "0.10"},
        {"-0", "0"},
        {"[1,\"n0\"]", "[1, \"n0\"]"},
        {"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}"},
        {"{\"a\":1,\"a\":2}", "{\"a\":2}"},
        {"null", "null"},
        {"123456789012345678901234567890", "123456789012345678901234567890"},
    };
    for (size_t i = 0; i < sizeof(dups) / sizeof(dups[0]); i++)
        cr_expect(dup_pair(dups[i][0], dups[i][1]), "%s and %s are the same ID", dups[i][0],
                  dups[i][1]);
    static const char uniques[][2][40] = {
        {"9007199254740993", "9007199254740992"},
        {"123456789012345678901234567890", "123456789012345678901234567891"},
        {"1", "1.0"},
        {"1", "\"1\""},
        {"[1,\"n0\"]", "[\"n0\",1]"},
        {"{\"a\":1}", "{\"a\":1.0}"},
        {"true", "false"},
    };
    for (size_t i = 0; i < sizeof(uniques) / sizeof(uniques[0]); i++)
        cr_expect(!dup_pair(uniques[i][0], uniques[i][1]), "%s and %s are different IDs",
                  uniques[i][0], uniques[i][1]);
}

Test(check, dup_ops_are_bounded_and_counts_stay_exact, .timeout = 120)
{
    const uint64_t n = CHECK_DUP_OPS_MAX + 5;
    check_init(&chk, WORKLOAD_UNIQUE_IDS, 10);
    struct json_val v = scan("\"same\"");
    for (uint64_t i = 0; i < n; i++)
        check_complete(&chk, &(struct check_op){.type = OP_OK,
                                                .f = F_GENERATE,
                                                .invoke_ns = 0,
                                                .complete_ns = 1000,
                                                .ref = i,
                                                .value = &v});
    check_finish(&chk);
    cr_expect_eq(chk.dup_ids, 1);
    cr_assert_eq(chk.dups_len, 1);
    cr_expect_eq(chk.dups[0].count, n);
    cr_expect_eq(chk.dup_extra, n - 1);
    cr_expect_eq(chk.dup_ops_len, CHECK_DUP_OPS_MAX, "the repeats kept");
    cr_expect_eq(chk.dup_ops_dropped, n - 1 - CHECK_DUP_OPS_MAX, "and those counted only");
    bool seen_first = false, seen_last = false;
    for (size_t i = 0; i < chk.dup_ops_len; i++) {
        seen_first |= chk.dup_ops[i].ref == 1;
        seen_last |= chk.dup_ops[i].ref == CHECK_DUP_OPS_MAX;
    }
    cr_expect(seen_first && seen_last, "the first CHECK_DUP_OPS_MAX repeats are the ones kept");
    check_fini(&chk);
    ASSERT_NO_LEAKS();
}

Test(check, many_distinct_duplicated_ids_are_all_tracked)
{
    /* Enough duplicated IDs to grow the duplicate map several times. */
    check_init(&chk, WORKLOAD_UNIQUE_IDS, 10);
    char id[32];
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < 1000; i++) {
            snprintf(id, sizeof(id), "%d", i);
            ok_id(&chk, id, (uint64_t)(pass * 1000 + i));
        }
    check_finish(&chk);
    cr_expect_eq(chk.dup_ids, 1000);
    cr_expect_eq(chk.dup_extra, 2000);
    cr_assert_eq(chk.dups_len, 1000);
    for (size_t i = 0; i < chk.dups_len; i++) {
        CHECK(chk.dups[i].count == 3, "ID %s counted %llu times", dup_text(i),
              (unsigned long long)chk.dups[i].count);
        char want[32];
        snprintf(want, sizeof(want), "%zu", i);
        CHECK(strcmp(dup_text(i), want) == 0, "dups[%zu] is %s", i, dup_text(i));
    }
    cr_expect_eq(chk.dup_ops_len, 2000, "the repeats (first ops are kept with the entries)");
    check_fini(&chk);
    ASSERT_NO_LEAKS();
}

Test(check, duplicated_ids_listed_are_bounded_and_counts_stay_exact, .timeout = 120)
{
    /* Three more duplicated IDs than the checker lists: every one is counted, the list keeps
     * the first CHECK_DUPS_LISTED by when they were first returned, and the most frequent one
     * (returned three times, among the last) is still the first of the top list. */
    check_init(&chk, WORKLOAD_UNIQUE_IDS, 10);
    const uint32_t n = CHECK_DUPS_LISTED + 3;
    char id[32];
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < n; i++) {
            snprintf(id, sizeof(id), "%u", i);
            ok_id(&chk, id, (uint64_t)pass * n + i);
        }
    ok_id(&chk, "12", 0); /* a third time: the most frequent */
    check_finish(&chk);
    cr_expect_eq(chk.dup_ids, n);
    cr_expect_eq(chk.dup_extra, (uint64_t)n + 1);
    cr_assert_eq(chk.dups_len, CHECK_DUPS_LISTED);
    for (size_t i = 0; i < chk.dups_len; i++)
        CHECK(i == 0 || chk.dups[i].first > chk.dups[i - 1].first, "listed in order");
    cr_expect_str_eq(dup_text(0), "0");
    cr_expect_str_eq(dup_text(CHECK_DUPS_LISTED - 1), "1048575");
    cr_assert_eq(chk.top_len, CHECK_DUPS_TOP);
    cr_expect_eq(chk.top[0].count, 3);
    cr_expect_eq(chk.top[1].count, 2);
    check_fini(&chk);
    ASSERT_NO_LEAKS();
}

Test(check, an_id_longer_than_the_set_accepts_is_counted_apart)
{
    size_t n = IDSET_VALUE_MAX + 10;
    char *text = malloc(n + 3);
    text[0] = '"';
    memset(text + 1, 'z', n);
    text[n + 1] = '"';
    text[n + 2] = '\0';
    check_init(&chk, WORKLOAD_UNIQUE_IDS, 10);
    ok_id(&chk, text, 1);
    ok_id(&chk, text, 2);
    cr_expect_eq(chk.too_long, 2);
    cr_expect_eq(chk.acknowledged, 0);
    cr_expect_eq(chk.ok, 2);
    check_fini(&chk);
    free(text);
}

/* ==== unique-ids: range and incomparable IDs ==== */

Test(check, range_follows_clojure_compare)
{
    check_init(&chk, WORKLOAD_UNIQUE_IDS, 10);
    ok_id(&chk, "\"n1-5\"", 1);
    ok_id(&chk, "\"n0-9\"", 2);
    ok_id(&chk, "\"n2-0\"", 3);
    ok_id(&chk, "\"n1-7\"", 4);
    cr_expect(!chk.incomparable);
    cr_expect_str_eq(chk.range_lo_text, "\"n0-9\"");
    cr_expect_str_eq(chk.range_hi_text, "\"n2-0\"");
    check_fini(&chk);

    check_init(&chk, WORKLOAD_UNIQUE_IDS, 10);
    ok_id(&chk, "10", 1);
    ok_id(&chk, "9", 2);
    ok_id(&chk, "100", 3);
    ok_id(&chk, "-123456789012345678901234567890", 4);
    ok_id(&chk, "2.5", 5);
    cr_expect(!chk.incomparable, "integers and floats compare: %s", chk.incomparable_why);
    cr_expect_str_eq(chk.range_lo_text, "-123456789012345678901234567890");
    cr_expect_str_eq(chk.range_hi_text, "100");
    check_fini(&chk);

    check_init(&chk, WORKLOAD_UNIQUE_IDS, 10);
    ok_id(&chk, "[1700000000,2,\"n1\"]", 1);
    ok_id(&chk, "[1700000000,1,\"n2\"]", 2);
    ok_id(&chk, "[1700000001,0,\"n0\"]", 3);
    cr_expect(!chk.incomparable, "%s", chk.incomparable_why);
    cr_expect_str_eq(chk.range_lo_text, "[1700000000,1,\"n2\"]");
    cr_expect_str_eq(chk.range_hi_text, "[1700000001,0,\"n0\"]");
    check_fini(&chk);
    ASSERT_NO_LEAKS();
}

/* The IDs (JSON texts, in order) through a fresh checker: was the run marked incomparable? */
static bool incomparable(const char *const *ids, size_t n, char *why, size_t cap)
{
    check_init(&chk, WORKLOAD_UNIQUE_IDS, 10);
    for (size_t i = 0; i < n; i++)
        ok_id(&chk, ids[i], i + 1);
    bool r = chk.incomparable;
    snprintf(why, cap, "%s", chk.incomparable_why);
    check_fini(&chk);
    return r;
}

#define INCOMPARABLE(why, ...)                                                                     \
    incomparable((const char *const[]){__VA_ARGS__},                                               \
                 sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *), why,           \
                 sizeof(why))

Test(check, mixed_strings_and_numbers_are_incomparable)
{
    char why[256];
    cr_expect(INCOMPARABLE(why, "\"n1-1\"", "\"n1-2\"", "5"));
    cr_expect(strstr(why, "string") != NULL && strstr(why, "integer") != NULL, "why: %s", why);
    cr_expect(strstr(why, "unknown") != NULL, "says the result is unknown: %s", why);
    cr_expect(INCOMPARABLE(why, "5", "\"x\""), "the number first");
    cr_expect(INCOMPARABLE(why, "1.5", "\"x\""));
    cr_expect(strstr(why, "float") != NULL, "why: %s", why);
}

Test(check, objects_are_incomparable)
{
    char why[256];
    cr_expect(INCOMPARABLE(why, "{\"a\":1}", "{\"a\":2}"));
    cr_expect(strstr(why, "object") != NULL, "why: %s", why);
    cr_expect(INCOMPARABLE(why, "\"x\"", "{\"a\":1}"));
    cr_expect(INCOMPARABLE(why, "{\"a\":1}", "{\"a\":1}"), "even equal objects (and a duplicate)");
}

Test(check, other_clashes_are_incomparable)
{
    char why[256];
    cr_expect(INCOMPARABLE(why, "1", "true"), "number and boolean");
    cr_expect(INCOMPARABLE(why, "[1,\"a\"]", "[\"a\",1]"), "vectors whose elements clash");
    cr_expect(INCOMPARABLE(why, "[1]", "1"), "vector and number");
}

Test(check, comparable_mixtures_are_not_flagged)
{
    char why[256];
    cr_expect(!INCOMPARABLE(why, "\"a\""), "a single ID");
    cr_expect(!INCOMPARABLE(why, "1", "2.5", "123456789012345678901234567890"), "%s", why);
    cr_expect(!INCOMPARABLE(why, "[1]", "[\"a\",\"b\"]"), "vectors of different length: %s", why);
    cr_expect(!INCOMPARABLE(why, "false", "true"), "%s", why);
    cr_expect(!INCOMPARABLE(why, "\"b\"", "\"a\"", "\"c\"", "\"a\""), "%s", why);
}

/* ==== Latency ==== */

/* The exact value check_quantile should approximate: rank floor(q (n-1)) + 1 of the sorted
 * latencies. */
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

Test(check, quantiles_are_within_three_percent)
{
    enum { N = 50000 };
    static int64_t lat[N];
    check_init(&chk, WORKLOAD_ECHO, 100); /* echo: ok ops need no ID */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* Log-uniform from 1 us to about 60 ms: every power of two gets traffic. */
        double u = (double)(x >> 11) * 0x1.0p-53;
        lat[i] = (int64_t)(1000.0 * exp(u * 11.0));
        check_complete(&chk, &(struct check_op){.type = i % 10 ? OP_OK : OP_INFO,
                                                .f = F_ECHO,
                                                .invoke_ns = 1000000,
                                                .complete_ns = 1000000 + lat[i]});
    }
    qsort(lat, N, sizeof(lat[0]), cmp_i64);
    static const double qs[] = {0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        size_t rank = (size_t)(qs[i] * (N - 1));
        int64_t exact = lat[rank];
        int64_t got = check_quantile(&chk.lat_all, qs[i]);
        double err = fabs((double)(got - exact)) / (double)exact;
        printf("check: q=%.3f exact %lld ns, histogram %lld ns (%.2f%%)\n", qs[i], (long long)exact,
               (long long)got, 100 * err);
        cr_expect_leq(err, 0.03, "q=%.3f: %lld ns vs exact %lld ns (%.2f%%)", qs[i], (long long)got,
                      (long long)exact, 100 * err);
    }
    cr_expect_eq(chk.lat_all.max_ns, lat[N - 1]);
    cr_expect_eq(check_quantile(&chk.lat_all, 1), lat[N - 1], "q=1 is the maximum");
    cr_expect_eq(chk.lat_ok.count, N - N / 10);
    cr_expect_leq(check_quantile(&chk.lat_ok, 0.5), check_quantile(&chk.lat_ok, 0.9));
    fflush(stdout);
    check_fini(&chk);
}

Test(check, quantiles_of_small_and_empty_histograms)
{
    struct latency_hist h;
    memset(&h, 0, sizeof(h));
    cr_expect_eq(check_quantile(&h, 0.5), 0, "an empty histogram");
    check_init(&chk, WORKLOAD_ECHO, 10);
    for (int i = 1; i <= 31; i++)
        check_complete(
            &chk, &(struct check_op){.type = OP_OK, .f = F_ECHO, .invoke_ns = 0, .complete_ns = i});
    cr_expect_eq(check_quantile(&chk.lat_all, 0), 1, "values below 32 ns are exact");
    cr_expect_eq(check_quantile(&chk.lat_all, 0.5), 16);
    cr_expect_eq(check_quantile(&chk.lat_all, 1), 31);
    check_fini(&chk);
}

Test(check, time_buckets_add_up_to_the_totals)
{
    /* Buckets are keyed by invoke time, as the latency samples are. */
    check_init(&chk, WORKLOAD_ECHO, 19); /* 24 s over 240 buckets: 0.1 s each */
    cr_expect(fabs(chk.bucket_ns - 1e8) < 1, "bucket width %f ns", chk.bucket_ns);
    static const struct {
        int64_t at_ns;
        enum op_type type;
        unsigned bucket;
    } ops[] = {
        {0, OP_OK, 0},
        {150000000, OP_OK, 1},
        {150000001, OP_FAIL, 1},
        {1000000000, OP_INFO, 10},
        {-5, OP_OK, 0},                                    /* before the start: first bucket */
        {INT64_C(100000000000), OP_OK, CHECK_BUCKETS - 1}, /* long after: last bucket */
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        check_complete(&chk, &(struct check_op){.type = ops[i].type,
                                                .f = F_ECHO,
                                                .invoke_ns = ops[i].at_ns,
                                                .complete_ns = ops[i].at_ns + 2000000});
    uint64_t ok = 0, fail = 0, info = 0;
    for (unsigned b = 0; b < CHECK_BUCKETS; b++) {
        ok += chk.buckets[b].ok;
        fail += chk.buckets[b].fail;
        info += chk.buckets[b].info;
    }
    cr_expect_eq(ok, chk.ok);
    cr_expect_eq(fail, chk.fail);
    cr_expect_eq(info, chk.info);
    cr_expect_eq(chk.buckets[0].ok, 2);
    cr_expect_eq(chk.buckets[1].ok, 1);
    cr_expect_eq(chk.buckets[1].fail, 1);
    cr_expect_eq(chk.buckets[10].info, 1);
    cr_expect_eq(chk.buckets[CHECK_BUCKETS - 1].ok, 1);
    cr_expect_eq(chk.buckets[1].latency_max_us, 2000);
    cr_expect_eq(chk.buckets[1].latency_sum_us, 4000);
    uint32_t q = check_bucket_quantile(&chk.buckets[1], 0.5);
    cr_expect(q >= 1000 && q <= 2000, "bucket median %u us for two 2000 us ops", q);
    cr_expect_eq(check_bucket_quantile(&chk.buckets[5], 0.5), 0, "an empty bucket");
    check_fini(&chk);
}

Test(check, reservoir_keeps_a_bounded_sample)
{
    check_init(&chk, WORKLOAD_ECHO, 10);
    for (int i = 0; i < 3 * CHECK_SAMPLES_MAX; i++)
        check_complete(&chk, &(struct check_op){.type = OP_FAIL,
                                                .f = F_ECHO,
                                                .invoke_ns = i,
                                                .complete_ns = i + 10,
                                                .node = (uint32_t)(i % 3)});
    cr_expect_eq(chk.samples_len, CHECK_SAMPLES_MAX);
    cr_expect_eq(chk.samples_seen, 3 * CHECK_SAMPLES_MAX);
    unsigned late = 0;
    for (uint32_t i = 0; i < chk.samples_len; i++) {
        CHECK(chk.samples[i].latency_ns == 10, "sample %u latency %lld", i,
              (long long)chk.samples[i].latency_ns);
        late += chk.samples[i].time_ns >= CHECK_SAMPLES_MAX;
    }
    /* Uniform over 12,000 points: about two thirds come from after the first 4,000. */
    cr_expect(late > CHECK_SAMPLES_MAX / 2, "only %u of %u samples replaced", late,
              CHECK_SAMPLES_MAX);
    check_fini(&chk);
}

/* ==== Exceptions ==== */

Test(check, exceptions_are_grouped_by_kind)
{
    check_init(&chk, WORKLOAD_ECHO, 10);
    static const char kinds[][24] = {"malformed-rpc", "malformed-rpc", "timeout", "malformed-rpc"};
    for (size_t i = 0; i < 4; i++)
        check_complete(&chk, &(struct check_op){.type = OP_INFO,
                                                .f = F_ECHO,
                                                .exception = kinds[i],
                                                .exception_text = i == 0 ? "first" : "later"});
    cr_assert_eq(chk.exception_kinds, 2);
    cr_expect_str_eq(chk.exceptions[0].name, "malformed-rpc");
    cr_expect_eq(chk.exceptions[0].count, 3);
    cr_expect_str_eq(chk.exceptions[0].example, "first");
    cr_expect_eq(chk.exceptions[1].count, 1);
    check_fini(&chk);

    check_init(&chk, WORKLOAD_ECHO, 10);
    static char names[CHECK_EXCEPTION_KINDS_MAX + 4][8];
    for (int i = 0; i < CHECK_EXCEPTION_KINDS_MAX + 4; i++) {
        snprintf(names[i], sizeof(names[i]), "e%d", i);
        check_complete(
            &chk, &(struct check_op){
                      .type = OP_INFO, .f = F_ECHO, .exception = names[i], .exception_text = NULL});
    }
    cr_expect_eq(chk.exception_kinds, CHECK_EXCEPTION_KINDS_MAX);
    cr_expect_str_eq(chk.exceptions[0].example, "", "no text: an empty example");
    check_fini(&chk);
    ASSERT_NO_LEAKS();
}
