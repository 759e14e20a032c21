/*
 * test_idset.c: the set of acknowledged IDs (idset.h): exact, and bounded in memory.
 *
 * The set must find a duplicate exactly when Maelstrom's unique-ids checker would (Clojure's =
 * on the parsed JSON), keep the op that first returned each ID, and stay within its budget:
 * short IDs cost at most 32 bytes each in memory, and past the budget the set spills to disk
 * and still finds, and counts, every duplicate at the end. Fingerprints of few bits (a test
 * option) make different IDs share one, so that the byte comparisons that settle it run; a
 * file-size limit (EFBIG, as a full disk) must stop the set loudly, never silently.
 * Depends on: idset, canon, json, unitkit.h.
 */
#include "unitkit.h"
#include "canon.h"
#include "idset.h"
#include "eddy/buf.h"
#include "eddy/json.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static struct idset *small_set(const char *dir, size_t budget, unsigned bits)
{
    return idset_new(
        &(struct idset_opts){.dir = dir, .memory_max = budget, .fingerprint_bits = bits});
}

/* Adds the JSON text as an ID of the op with the given ref; returns idset_add's result. */
static int add(struct idset *s, const char *text, uint64_t ref, uint64_t *entry)
{
    struct json_val v = scan(text);
    uint64_t e;
    return idset_add(s, &v, &(struct idset_op){.ref = ref, .index = ref}, entry ? entry : &e);
}

/* A fresh set holding a, then b added: true when b was reported as a repeat of a. */
static bool duplicates(const char *a, const char *b)
{
    struct idset *s = idset_new(NULL);
    uint64_t ea, eb;
    cr_assert_eq(add(s, a, 1, &ea), 0, "%s is new in an empty set", a);
    int rc = add(s, b, 2, &eb);
    CHECK(rc == 0 || rc == 1, "idset_add(%s) returned %d", b, rc);
    if (rc == 1)
        CHECK(eb == ea, "a repeat names the first entry");
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

/* ==== Equality, as Maelstrom's checker ==== */

Test(idset, strings_by_decoded_content)
{
    expect_dup("\"n1-1\"", "\"n1-1\"");
    expect_dup("\"A\"", "\"\\u0041\"");
    expect_dup("\"\xf0\x9f\x98\x80\"", "\"\\ud83d\\ude00\"");
    expect_unique("\"n1-1\"", "\"n1-10\"");
    expect_unique("\"a\"", "\"A\"");
    expect_unique("\"\"", "\" \"");
}

Test(idset, numbers_types_and_containers)
{
    expect_dup("9007199254740993", "9007199254740993");
    expect_unique("9007199254740993", "9007199254740992");
    expect_dup("-0", "0");
    expect_dup("0.1", "0.10");
    expect_unique("1", "1.0");
    expect_unique("1", "\"1\"");
    expect_dup("[1,\"n0\"]", "[1, \"n0\"]");
    expect_unique("[1,\"n0\"]", "[\"n0\",1]");
    expect_dup("{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}");
    expect_dup("{\"a\":1,\"a\":2}", "{\"a\":2}");
    expect_dup("null", "null");
    expect_unique("true", "false");
}

/* ==== Entries ==== */

Test(idset, an_entry_keeps_its_id_and_the_op_that_made_it)
{
    struct idset *s = idset_new(NULL);
    struct json_val a = scan("\"x\""), b = scan("[1,{\"k\":\"v\"}]"), a2 = scan("\"\\u0078\"");
    struct idset_op op = {
        .ref = 1000, .index = 17, .process = 1ull << 40, .time_ns = -5, .node = 3, .client = 70000};
    uint64_t ea, eb, e;
    cr_assert_eq(idset_add(s, &a, &op, &ea), 0);
    cr_assert_eq(idset_add(s, &b, &(struct idset_op){.ref = 1}, &eb), 0);
    cr_expect_neq(ea, eb);
    cr_assert_eq(idset_add(s, &a2, &(struct idset_op){.ref = 5}, &e), 1);
    cr_expect_eq(e, ea);
    struct idset_op back;
    struct buf enc;
    buf_init(&enc, 1024);
    cr_assert_eq(idset_entry(s, ea, &enc, &back), 0);
    cr_expect_eq(back.ref, 1000);
    cr_expect_eq(back.index, 17);
    cr_expect_eq(back.process, 1ull << 40);
    cr_expect_eq(back.time_ns, -5);
    cr_expect_eq(back.node, 3);
    cr_expect_eq(back.client, 70000);
    cr_expect_eq(buf_len(&enc), 2);
    cr_expect_arr_eq(buf_peek(&enc), "sx", 2);
    buf_clear(&enc);
    cr_assert_eq(idset_entry(s, eb, &enc, NULL), 0);
    struct buf json;
    buf_init(&json, 1024);
    cr_assert_eq(canon_to_json((const uint8_t *)buf_peek(&enc), buf_len(&enc), &json), 0);
    cr_expect_eq(buf_len(&json), 13);
    cr_expect_arr_eq(buf_peek(&json), "[1,{\"k\":\"v\"}]", 13);
    buf_fini(&json);
    buf_fini(&enc);
    idset_free(s);
    ASSERT_NO_LEAKS();
}

Test(idset, last_encoding_is_the_canonical_encoding)
{
    static const char texts[][40] = {"\"plain\"",  "\"esc\\u0061ped\"", "12",  "-0", "0.10",
                                     "[1,\"n0\"]", "{\"b\":2,\"a\":1}", "null"};
    struct idset *s = idset_new(NULL);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
            cr_assert_eq(add(s, texts[i], i, NULL), pass, "%s, pass %d", texts[i], pass);
            size_t n = 0;
            const uint8_t *got = idset_last_encoding(s, &n);
            struct buf want;
            buf_init(&want, 1024);
            struct json_val v = scan(texts[i]);
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
    struct idset *s = idset_new(NULL);
    cr_expect_eq(add(s, text, 1, NULL), 0, "an encoding of IDSET_VALUE_MAX bytes fits");
    text[n + 1] = 'x';
    text[n + 2] = '"';
    text[n + 3] = '\0';
    cr_expect_eq(add(s, text, 2, NULL), -E2BIG, "one byte more is refused");
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
    struct idset *s = idset_new(NULL);
    cr_expect_eq(idset_count(s), 0);
    cr_expect_gt(idset_bytes(s), 0, "the tables exist from the start");
    cr_expect_eq(idset_disk_bytes(s), 0);
    idset_free(s);
    idset_free(NULL);
}

/* ==== The end: every duplicate, exactly ==== */

struct found {
    struct {
        uint64_t first, count;
        size_t nentries;
    } d[4096];
    size_t n;
    uint64_t total;
};

static void collect(void *ctx, const struct idset_dup *x)
{
    struct found *f = ctx;
    f->total++;
    CHECK(x->nentries >= 1 && x->count >= 2, "a duplicate of %llu ops in %zu entries",
          (unsigned long long)x->count, x->nentries);
    uint64_t sum = 0;
    for (size_t i = 0; i < x->nentries; i++) {
        sum += x->entries[i].count;
        CHECK(i == 0 || x->entries[i].entry > x->entries[i - 1].entry, "entries in order");
    }
    CHECK(sum == x->count, "entry counts add up: %llu of %llu", (unsigned long long)sum,
          (unsigned long long)x->count);
    if (f->n < 4096) {
        f->d[f->n].first = x->entries[0].entry;
        f->d[f->n].count = x->count;
        f->d[f->n].nentries = x->nentries;
        f->n++;
    }
}

/* The ref kept with a duplicate's first entry: which op first returned it. */
static uint64_t first_ref(struct idset *s, uint64_t entry)
{
    struct idset_op op;
    cr_assert_eq(idset_entry(s, entry, NULL, &op), 0);
    return op.ref;
}

static int by_ref_cmp(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return (*x > *y) - (*x < *y);
}

/* N unique 30-character IDs, then every 1000th of them again, twice: at a budget that holds a
 * fraction of them, the repeats of IDs that went to disk are found only by the final merge.
 * With `bits` of fingerprint, different IDs share fingerprints too. */
static void spill_and_find(unsigned bits, uint32_t n)
{
    char dir[256];
    tmp_dir_make(dir, sizeof(dir));
    struct idset *s = small_set(dir, IDSET_MEMORY_MIN, bits);
    char text[64];
    for (uint32_t i = 0; i < n; i++) {
        snprintf(text, sizeof(text), "\"id-%027u\"", i * 2654435761u % 1000000007u);
        CHECK(add(s, text, i, NULL) == 0, "ID %u new", i);
    }
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < n; i += 1000) {
            snprintf(text, sizeof(text), "\"id-%027u\"", i * 2654435761u % 1000000007u);
            int rc = add(s, text, n + i, NULL);
            CHECK(rc == 0 || rc == 1, "repeat of %u: %d", i, rc);
        }
    /* Near misses: the same length, one byte different at the end, never duplicates. */
    for (uint32_t i = 0; i < n; i += 997) {
        snprintf(text, sizeof(text), "\"id-%027u-\"", i * 2654435761u % 1000000007u);
        CHECK(add(s, text, 3 * n, NULL) == 0, "near miss %u is new", i);
    }
    cr_expect_gt(idset_runs(s), 0, "%u IDs do not fit in %llu bytes", n,
                 (unsigned long long)IDSET_MEMORY_MIN);
    if (n >= 3000000)
        cr_expect_gt(idset_runs(s), 256 * (IDSET_RUNS_MAX + 1),
                     "more runs than the shards may keep: %llu", (unsigned long long)idset_runs(s));
    cr_expect_leq(idset_bytes_max(s), IDSET_MEMORY_MIN, "within the budget: %zu",
                  idset_bytes_max(s));
    static struct found f;
    memset(&f, 0, sizeof(f));
    cr_assert_eq(idset_finish(s, collect, &f, NULL, false), 0);
    uint32_t want = (n + 999) / 1000;
    cr_expect_eq(f.total, want, "%llu duplicated IDs found, want %u", (unsigned long long)f.total,
                 want);
    uint64_t refs[4096];
    for (size_t i = 0; i < f.n; i++) {
        CHECK(f.d[i].count == 3, "every repeated ID counted 3 times, not %llu",
              (unsigned long long)f.d[i].count);
        refs[i] = first_ref(s, f.d[i].first);
    }
    qsort(refs, f.n, sizeof(refs[0]), by_ref_cmp);
    for (size_t i = 0; i < f.n; i++)
        CHECK(refs[i] == i * 1000, "duplicate %zu first returned by op %llu", i,
              (unsigned long long)refs[i]);
    cr_expect_leq(idset_bytes_max(s), IDSET_MEMORY_MIN, "merging stayed within the budget");
    idset_free(s);
    tmp_dir_remove(dir);
}

Test(idset, past_its_budget_it_spills_and_still_finds_every_duplicate, .timeout = 120)
{
    spill_and_find(0, 1000000);
    ASSERT_NO_LEAKS();
}

Test(idset, a_shard_past_its_32_runs_merges_them_and_stays_exact, .timeout = 120)
{
    /* 3 million IDs at the smallest budget: each shard writes more runs than it may keep
     * (IDSET_RUNS_MAX), so it merges them as it goes; the duplicates still all come out. */
    spill_and_find(0, 3000000);
    ASSERT_NO_LEAKS();
}

Test(idset, shared_fingerprints_are_settled_by_the_bytes, .timeout = 120)
{
    /* 16 bits for 200,000 IDs: each fingerprint is shared by a few, and every lookup and the
     * final merge must compare bytes to tell them apart. */
    spill_and_find(16, 200000);
    ASSERT_NO_LEAKS();
}

Test(idset, ids_that_differ_only_in_their_last_byte_stay_apart, .timeout = 120)
{
    /* Fingerprints of the first 64 bytes only: every one of these 64 KB IDs shares its
     * fingerprint with its near twin, which differs in the last byte; only the bytes tell. */
    char dir[256];
    tmp_dir_make(dir, sizeof(dir));
    struct idset *s = idset_new(
        &(struct idset_opts){.dir = dir, .memory_max = IDSET_MEMORY_MIN, .fingerprint_prefix = 64});
    enum { LEN = 64 << 10, IDS = 100 };
    char *text = malloc(LEN + 1);
    for (int pass = 0; pass < 3; pass++) {
        for (int i = 0; i < IDS; i++) {
            memset(text, 'x', LEN);
            int k = snprintf(text, 64, "\"id-%d-", i);
            text[k] = 'x';
            text[LEN - 2] = pass == 1 ? 'y' : 'x'; /* pass 1: the near twins */
            text[LEN - 1] = '"';
            text[LEN] = '\0';
            int rc = add(s, text, (uint64_t)(pass * IDS + i), NULL);
            CHECK(rc == (pass == 2 ? 1 : 0), "pass %d, ID %d: %d", pass, i, rc);
        }
    }
    cr_expect_gt(idset_disk_bytes(s), 0, "the IDs' bytes went to disk");
    cr_expect_leq(idset_bytes_max(s), IDSET_MEMORY_MIN);
    static struct found f;
    memset(&f, 0, sizeof(f));
    cr_assert_eq(idset_finish(s, collect, &f, NULL, false), 0);
    cr_expect_eq(f.total, IDS, "the originals, returned twice; never their twins");
    for (size_t i = 0; i < f.n; i++)
        CHECK(f.d[i].count == 2 && first_ref(s, f.d[i].first) < IDS, "duplicate %zu", i);
    free(text);
    idset_free(s);
    tmp_dir_remove(dir);
}

Test(idset, memory_only_finish_sees_what_is_in_memory, .timeout = 120)
{
    char dir[256];
    tmp_dir_make(dir, sizeof(dir));
    struct idset *s = small_set(dir, IDSET_MEMORY_MIN, 0);
    cr_assert_eq(add(s, "\"early\"", 0, NULL), 0);
    char text[64];
    for (uint32_t i = 1; idset_runs(s) < 2 * 256; i++) {
        snprintf(text, sizeof(text), "\"id-%u\"", i);
        CHECK(add(s, text, i, NULL) == 0, "ID %u new", i);
    }
    cr_assert_eq(add(s, "\"late\"", 1, NULL), 0);
    cr_assert_eq(add(s, "\"late\"", 2, NULL), 1, "a repeat in memory");
    static struct found f;
    memset(&f, 0, sizeof(f));
    cr_assert_eq(idset_finish(s, collect, &f, NULL, true), 0);
    cr_expect_eq(f.total, 1, "only the repeat in memory");
    idset_free(s);
    tmp_dir_remove(dir);
}

Test(idset, counts_stay_exact_past_the_slot_counter, .timeout = 120)
{
    /* The slot counts 22 bits of ops (4,194,303); beyond that a side list takes over. */
    struct idset *s = idset_new(NULL);
    struct json_val v = scan("\"same\"");
    uint64_t e;
    const uint64_t n = (1u << 22) + 10;
    for (uint64_t i = 0; i < n; i++)
        CHECK(idset_add(s, &v, &(struct idset_op){.ref = i}, &e) == (i ? 1 : 0), "op %llu",
              (unsigned long long)i);
    static struct found f;
    memset(&f, 0, sizeof(f));
    cr_assert_eq(idset_finish(s, collect, &f, NULL, false), 0);
    cr_assert_eq(f.n, 1);
    cr_expect_eq(f.d[0].count, n);
    idset_free(s);
    ASSERT_NO_LEAKS();
}

/* ==== Memory per ID, and disks that fill ==== */

#define MILLION 1000000u

Test(idset, a_million_short_ids_cost_at_most_32_bytes_each, .timeout = 120)
{
    /* The slots are what grows with the IDs; the window of recent entries is fixed (16 MiB at
     * the default budget). The bytes of the IDs are in the spill, not in memory. */
    char dir[256];
    tmp_dir_make(dir, sizeof(dir));
    struct idset *s = small_set(dir, 0, 0);
    char text[64];
    double worst = 0;
    for (uint32_t i = 0; i < MILLION; i++) {
        int n = snprintf(text, sizeof(text), "\"id-%027u\"", i * 2654435761u % 1000000007u);
        struct json_val v = {.p = text, .len = (size_t)n, .type = JSON_STRING};
        uint64_t e;
        CHECK(idset_add(s, &v, &(struct idset_op){.ref = i}, &e) == 0, "ID %u new", i);
        if (i > 100000 && i % 4096 == 0) {
            double per = (double)idset_table_bytes(s) / (double)idset_count(s);
            worst = per > worst ? per : worst;
        }
    }
    double per = (double)idset_table_bytes(s) / (double)idset_count(s);
    printf("idset: %zu IDs of 30 characters: %.1f bytes each in slots (at worst %.1f), %zu bytes "
           "in all\n",
           idset_count(s), per, worst, idset_bytes(s));
    fflush(stdout);
    cr_expect_leq(worst, 32.0, "%.1f bytes per ID at worst", worst);
    cr_expect_lt(idset_bytes(s), (size_t)MILLION * 32 + (17u << 20));
    idset_free(s);
    tmp_dir_remove(dir);
}

Test(idset, a_full_disk_stops_the_set_loudly, .timeout = 120)
{
    /* A file-size limit makes the spill hit EFBIG, as a full disk would (ENOSPC). */
    signal(SIGXFSZ, SIG_IGN);
    char dir[256];
    tmp_dir_make(dir, sizeof(dir));
    struct rlimit lim = {.rlim_cur = 4u << 20, .rlim_max = RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    /* A budget that holds every slot, so that the repeat below stays in memory. */
    struct idset *s = small_set(dir, 64u << 20, 0);
    cr_assert_eq(add(s, "\"first\"", 0, NULL), 0);
    cr_assert_eq(add(s, "\"first\"", 1, NULL), 1);
    char text[64];
    int rc = 0;
    uint32_t i = 0;
    for (; rc >= 0 && i < MILLION; i++) {
        snprintf(text, sizeof(text), "\"id-%027u\"", i);
        rc = add(s, text, i + 2, NULL);
    }
    cr_expect_eq(rc, -EFBIG, "the spill's error comes back: %d after %u IDs", rc, i);
    cr_expect_eq(idset_error(s), -EFBIG);
    cr_expect_eq(add(s, "\"another\"", 0, NULL), -EFBIG, "and stays");
    static struct found f;
    memset(&f, 0, sizeof(f));
    idset_finish(s, collect, &f, NULL, true);
    cr_expect_eq(f.total, 1, "the repeat found before the disk filled is still known");
    idset_free(s);
    tmp_dir_remove(dir);
}
