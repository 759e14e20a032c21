/*
 * test_ids.c: the ID strategies (ids.h).
 *
 * Time is injected through ids_opts.clock, a fake clock that reads (and optionally advances) a
 * variable, so clock faults are exact and replayable. The default strategy's IDs have a fixed
 * width before the "-node" suffix and sort by creation, so "each ID is strictly greater than the
 * one before" proves uniqueness for one generator; across generators a hash set does. Each naive
 * strategy is shown to fail exactly the way ids.h documents.
 * Depends on: ids, json, testkit.h.
 */
#include "testkit.h"
#include "eddy/ids.h"
#include "eddy/json.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define NS_PER_MS INT64_C(1000000)
#define BASE_MS INT64_C(1732233600000) /* 2024-11-22T00:00:00Z */
#define BASE_NS (BASE_MS * NS_PER_MS)
#define HOUR_NS (INT64_C(3600000) * NS_PER_MS)

/* Width of the eddy ID before the node suffix: the quote, T (10), I (13) and S (4). */
#define EDDY_FIXED 28

/* ==== Fake clock ==== */

struct fake_clock {
    int64_t ns;      /* what the next read returns */
    int64_t step_ns; /* added after every read (0: frozen) */
};

static int64_t fake_clock_read(void *ctx)
{
    struct fake_clock *c = ctx;
    int64_t t = c->ns;
    c->ns += c->step_ns;
    return t;
}

static void gen_init(struct ids *g, enum ids_kind kind, const char *node, struct fake_clock *c)
{
    ids_init(g, &(struct ids_opts){
                    .kind = kind,
                    .node = node,
                    .node_len = strlen(node),
                    .node_index = 5,
                    .clock = fake_clock_read,
                    .clock_ctx = c,
                });
}

/* ==== A set of short strings (open addressing), to find repeats ==== */

struct idset {
    uint32_t *slot; /* 0: empty; else 1 + index into keys */
    size_t mask;
    char *keys; /* `stride` bytes per key */
    uint8_t *lens;
    size_t stride;
    size_t count, max;
};

static void idset_init(struct idset *s, size_t max, size_t stride)
{
    size_t slots = 1;
    while (slots < 2 * max)
        slots <<= 1;
    s->slot = calloc(slots, sizeof(*s->slot));
    s->mask = slots - 1;
    s->keys = malloc(max * stride);
    s->lens = malloc(max);
    cr_assert(s->slot && s->keys && s->lens);
    s->stride = stride;
    s->count = 0;
    s->max = max;
}

static void idset_fini(struct idset *s)
{
    free(s->slot);
    free(s->keys);
    free(s->lens);
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3u;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9u;
    return h ^ (h >> 32);
}

/* Adds k[0..n); false if it was already there. */
static bool idset_add(struct idset *s, const char *k, size_t n)
{
    CHECK(n <= s->stride, "key of %zu bytes", n);
    CHECK(s->count < s->max, "set full");
    size_t i = hash_bytes(k, n) & s->mask;
    while (s->slot[i]) {
        size_t at = s->slot[i] - 1;
        if (s->lens[at] == n && memcmp(s->keys + at * s->stride, k, n) == 0)
            return false;
        i = (i + 1) & s->mask;
    }
    memcpy(s->keys + s->count * s->stride, k, n);
    s->lens[s->count] = (uint8_t)n;
    s->slot[i] = (uint32_t)(++s->count);
    return true;
}

/* ==== Eddy ID helpers ==== */

static int crockford_value(char c)
{
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

static uint64_t b32_decode(const char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        int d = crockford_value(p[i]);
        CHECK(d >= 0, "'%c' is not Crockford base32", p[i]);
        v = v << 5 | (uint64_t)d;
    }
    return v;
}

/* Checks the layout of one eddy ID for node `node` and returns its T field (ms). */
static int64_t eddy_check_shape(const char *id, size_t n, const char *node)
{
    size_t nl = strlen(node);
    cr_assert_eq(n, EDDY_FIXED + 1 + nl + 1, "ID %.*s has length %zu", (int)n, id, n);
    cr_assert_eq(id[0], '"');
    cr_assert_eq(id[EDDY_FIXED], '-');
    cr_assert_arr_eq(id + EDDY_FIXED + 1, node, nl);
    cr_assert_eq(id[n - 1], '"');
    b32_decode(id + 11, 13);
    uint64_t seq = b32_decode(id + 24, 4);
    cr_assert_lt(seq, UINT64_C(1) << 20);
    struct json_val v;
    cr_assert_eq(json_scan(id, n, true, &v, NULL), (ssize_t)n, "ID %.*s is not JSON", (int)n, id);
    cr_assert_eq(v.type, JSON_STRING);
    return (int64_t)b32_decode(id + 1, 10);
}

/* ==== The default strategy ==== */

Test(ids, eddy_ids_have_the_documented_layout)
{
    struct fake_clock c = {.ns = BASE_NS + 123456, .step_ns = 0};
    struct ids g;
    gen_init(&g, IDS_EDDY, "n0", &c);
    char a[IDS_TEXT_MAX], b[IDS_TEXT_MAX];
    size_t na = ids_next(&g, a);
    size_t nb = ids_next(&g, b);
    cr_assert_eq(eddy_check_shape(a, na, "n0"), BASE_MS, "T is not the clock's ms");
    cr_assert_eq(eddy_check_shape(b, nb, "n0"), BASE_MS);
    cr_assert_eq(b32_decode(a + 24, 4), 0, "the sequence starts at 0 in a new ms");
    cr_assert_eq(b32_decode(b + 24, 4), 1);
    cr_assert_arr_eq(a + 11, b + 11, 13, "the incarnation changed within a process");
    cr_assert_eq(b32_decode(a + 11, 13), g.incarnation, "I is not the incarnation");

    c.ns += 5 * NS_PER_MS;
    nb = ids_next(&g, b);
    cr_assert_eq(eddy_check_shape(b, nb, "n0"), BASE_MS + 5);
    cr_assert_eq(b32_decode(b + 24, 4), 0);

    /* A clock before 1970 gives T = 0, still increasing. */
    c.ns = -5;
    gen_init(&g, IDS_EDDY, "n0", &c);
    na = ids_next(&g, a);
    nb = ids_next(&g, b);
    cr_assert_eq(eddy_check_shape(a, na, "n0"), 0);
    cr_assert_gt(memcmp(b, a, EDDY_FIXED), 0);
}

Test(ids, eddy_ten_million_ids_strictly_increase)
{
    enum { COUNT = 10000000, SAMPLE_EVERY = 50 };
    struct fake_clock c = {.ns = BASE_NS, .step_ns = 37}; /* ~27,000 IDs per ms */
    struct ids g;
    gen_init(&g, IDS_EDDY, "n0", &c);
    struct idset sample;
    idset_init(&sample, COUNT / SAMPLE_EVERY + 1, 40);
    char buf[2][IDS_TEXT_MAX];
    size_t n = ids_next(&g, buf[0]);
    eddy_check_shape(buf[0], n, "n0");
    cr_assert(idset_add(&sample, buf[0], n));
    static const char suffix[] = "-n0\"";
    for (int i = 1; i < COUNT; i++) {
        char *cur = buf[i & 1], *prev = buf[!(i & 1)];
        size_t k = ids_next(&g, cur);
        if (k != n || memcmp(cur, prev, EDDY_FIXED) <= 0 ||
            memcmp(cur + EDDY_FIXED, suffix, 4) != 0) {
            cr_assert_fail("ID %d %.*s does not follow %.*s", i, (int)k, cur, (int)n, prev);
        }
        if (i % SAMPLE_EVERY == 0) {
            if (i % (1000 * SAMPLE_EVERY) == 0)
                eddy_check_shape(cur, k, "n0");
            CHECK(idset_add(&sample, cur, k), "ID %d repeated: %.*s", i, (int)k, cur);
        }
    }
    cr_assert_geq(sample.count, 200000);
    cr_assert_eq(g.rerolled, 0);
    idset_fini(&sample);
    ASSERT_NO_LEAKS();
}

/* Generates `count` IDs, each strictly above *prev (which is updated); returns the last T. */
static int64_t eddy_run(struct ids *g, char prev[IDS_TEXT_MAX], size_t *prev_len, int count)
{
    char cur[IDS_TEXT_MAX];
    for (int i = 0; i < count; i++) {
        size_t k = ids_next(g, cur);
        if (k != *prev_len || memcmp(cur, prev, EDDY_FIXED) <= 0)
            cr_assert_fail("ID %.*s does not follow %.*s", (int)k, cur, (int)*prev_len, prev);
        memcpy(prev, cur, k);
    }
    return (int64_t)b32_decode(prev + 1, 10);
}

Test(ids, eddy_survives_clock_back_freeze_and_jump)
{
    struct fake_clock c = {.ns = BASE_NS, .step_ns = 1000};
    struct ids g;
    gen_init(&g, IDS_EDDY, "n0", &c);
    char prev[IDS_TEXT_MAX];
    size_t prev_len = ids_next(&g, prev);
    int64_t t = eddy_run(&g, prev, &prev_len, 100000);
    cr_assert_geq(t, BASE_MS + 99);

    /* The clock jumps back an hour: T stays where it was, S keeps counting. */
    c.ns -= HOUR_NS;
    int64_t t2 = eddy_run(&g, prev, &prev_len, 100000);
    cr_assert_geq(t2, t, "T went back with the clock");
    cr_assert_lt(t2, t + 5, "T ran away while the clock was behind");

    /* The clock stands still for 3,000,000 IDs: more than the 2^20 sequence of one ms, so
     * the generator must borrow milliseconds instead of repeating or waiting. */
    c.step_ns = 0;
    uint64_t borrowed_before = g.borrowed_ms;
    int64_t t3 = eddy_run(&g, prev, &prev_len, 3000000);
    cr_assert_gt(g.borrowed_ms, borrowed_before, "no millisecond was borrowed");
    cr_assert_geq(g.borrowed_ms, 2);
    cr_assert_gt(t3, t2);

    /* The clock jumps forward: T follows it exactly and S restarts. */
    c.ns = BASE_NS + HOUR_NS;
    c.step_ns = 1000;
    char first[IDS_TEXT_MAX];
    size_t k = ids_next(&g, first);
    cr_assert_gt(memcmp(first, prev, EDDY_FIXED), 0);
    cr_assert_eq(eddy_check_shape(first, k, "n0"), BASE_MS + HOUR_NS / NS_PER_MS);
    cr_assert_eq(b32_decode(first + 24, 4), 0);
    memcpy(prev, first, k);
    eddy_run(&g, prev, &prev_len, 100000);
    cr_assert_eq(g.rerolled, 0);
}

Test(ids, eddy_restarts_with_a_replayed_clock_give_disjoint_ids)
{
    enum { RESTARTS = 5, PER = 200000 };
    struct idset seen;
    idset_init(&seen, RESTARTS * PER, 40);
    uint64_t inc[RESTARTS];
    char first[RESTARTS][IDS_TEXT_MAX];
    for (int r = 0; r < RESTARTS; r++) {
        struct fake_clock c = {.ns = BASE_NS, .step_ns = 1000}; /* the same clock every time */
        struct ids g;
        gen_init(&g, IDS_EDDY, "n0", &c);
        inc[r] = g.incarnation;
        for (int i = 0; i < PER; i++) {
            char id[IDS_TEXT_MAX];
            size_t n = ids_next(&g, id);
            if (i == 0)
                memcpy(first[r], id, n);
            if (!idset_add(&seen, id, n))
                cr_assert_fail("restart %d repeated %.*s", r, (int)n, id);
        }
    }
    for (int r = 1; r < RESTARTS; r++) {
        /* The clock really did replay: same T and S, only I differs. */
        cr_assert_arr_eq(first[r] + 1, first[0] + 1, 10);
        cr_assert_arr_eq(first[r] + 24, first[0] + 24, 4);
        for (int q = 0; q < r; q++)
            cr_assert_neq(inc[r], inc[q], "two incarnations drew the same 64 bits");
    }
    cr_assert_eq(seen.count, RESTARTS * PER);
    idset_fini(&seen);
    ASSERT_NO_LEAKS();
}

Test(ids, eddy_two_generators_with_one_node_id_never_collide)
{
    enum { PER = 500000 };
    struct fake_clock c = {.ns = BASE_NS, .step_ns = 500}; /* one clock, shared */
    struct ids g[2];
    gen_init(&g[0], IDS_EDDY, "n1", &c);
    gen_init(&g[1], IDS_EDDY, "n1", &c);
    struct idset seen;
    idset_init(&seen, 2 * PER, 40);
    char prev[2][IDS_TEXT_MAX];
    size_t prev_len[2] = {0, 0};
    for (int i = 0; i < PER; i++) {
        for (int k = 0; k < 2; k++) {
            char id[IDS_TEXT_MAX];
            size_t n = ids_next(&g[k], id);
            if (!idset_add(&seen, id, n))
                cr_assert_fail("generator %d repeated %.*s", k, (int)n, id);
            if (prev_len[k] && memcmp(id, prev[k], EDDY_FIXED) <= 0)
                cr_assert_fail("generator %d went backwards: %.*s", k, (int)n, id);
            memcpy(prev[k], id, n);
            prev_len[k] = n;
        }
    }
    idset_fini(&seen);
    ASSERT_NO_LEAKS();
}

/* What a forked child reports back through the pipe. */
struct fork_report {
    unsigned generation;
    uint64_t incarnation;
    char eddy[IDS_TEXT_MAX];
    size_t eddy_len;
    char uuid[IDS_TEXT_MAX];
    size_t uuid_len;
};

Test(ids, a_forked_child_draws_a_new_incarnation)
{
    struct fake_clock c = {.ns = BASE_NS, .step_ns = 0};
    struct ids g, u;
    gen_init(&g, IDS_EDDY, "n0", &c);
    gen_init(&u, IDS_UUID4, "n0", &c);
    char id[IDS_TEXT_MAX];
    ids_next(&g, id);
    ids_next(&u, id); /* the random pool is now partly used */
    unsigned gen_before = ids_fork_generation();
    uint64_t inc_before = g.incarnation;

    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork failed");
    if (pid == 0) {
        struct fork_report r = {0};
        r.generation = ids_fork_generation();
        r.eddy_len = ids_next(&g, r.eddy);
        r.incarnation = g.incarnation;
        r.uuid_len = ids_next(&u, r.uuid);
        ssize_t w = write(fds[1], &r, sizeof(r));
        _exit(w == (ssize_t)sizeof(r) ? 0 : 1);
    }
    close(fds[1]);
    struct fork_report r;
    size_t got = 0;
    while (got < sizeof(r)) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int ready = poll(&p, 1, 10000);
        if (ready <= 0)
            break;
        ssize_t n = read(fds[0], (char *)&r + got, sizeof(r) - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);
    if (got < sizeof(r))
        kill(pid, SIGKILL);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert_eq(got, sizeof(r), "the child reported %zu of %zu bytes", got, sizeof(r));
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    cr_assert_neq(r.generation, gen_before, "the fork generation did not change in the child");
    cr_assert_eq(ids_fork_generation(), gen_before, "the parent's fork generation changed");
    cr_assert_neq(r.incarnation, inc_before, "the child kept the parent's incarnation");
    eddy_check_shape(r.eddy, r.eddy_len, "n0");
    cr_assert_eq(b32_decode(r.eddy + 11, 13), r.incarnation);

    /* The parent carries on with its own incarnation and random bytes the child never saw. */
    char mine[IDS_TEXT_MAX];
    size_t n = ids_next(&g, mine);
    cr_assert_eq(g.incarnation, inc_before);
    cr_assert_neq(memcmp(mine + 11, r.eddy + 11, 13), 0);
    n = ids_next(&u, mine);
    cr_assert(n != r.uuid_len || memcmp(mine, r.uuid, n) != 0,
              "parent and child produced the same UUIDv4 after fork: %.*s", (int)n, mine);
}

/* ==== Every strategy ==== */

static enum json_type kind_json_type(enum ids_kind k)
{
    switch (k) {
    case IDS_COUNTER:
    case IDS_TIMESTAMP:
    case IDS_RANDOM32:
        return JSON_NUMBER;
    default:
        return JSON_STRING;
    }
}

Test(ids, every_strategy_writes_valid_json_of_one_type)
{
    /* Node ids with an escape and at the maximum length; output buffers of exactly
     * IDS_TEXT_MAX bytes against a guard page. */
    char longest[IDS_NODE_MAX + 1];
    memset(longest, 'a', IDS_NODE_MAX);
    longest[IDS_NODE_MAX] = '\0';
    const char *nodes[] = {"n0", "node-a", "n\\\"x\\u00e9", longest};
    struct guard gd;
    char *out = guard_alloc(&gd, IDS_TEXT_MAX);
    for (int k = 0; k < IDS_KIND_COUNT; k++) {
        for (size_t ni = 0; ni < NELEM(nodes); ni++) {
            struct fake_clock c = {.ns = BASE_NS, .step_ns = 250000};
            struct ids g;
            gen_init(&g, (enum ids_kind)k, nodes[ni], &c);
            for (int i = 0; i < 2000; i++) {
                size_t n = ids_next(&g, out);
                CHECK(n <= IDS_TEXT_MAX, "%s: %zu bytes", ids_kind_name(k), n);
                struct json_val v;
                struct json_err e = {0};
                ssize_t rc = json_scan(out, n, true, &v, &e);
                CHECK(rc == (ssize_t)n, "%s/%s: %.*s is not JSON (%s)", ids_kind_name(k), nodes[ni],
                      (int)n, out, e.what ? e.what : "-");
                CHECK(v.type == kind_json_type((enum ids_kind)k), "%s: %.*s has type %d",
                      ids_kind_name(k), (int)n, out, v.type);
                CHECK(v.type != JSON_NUMBER || (v.flags & JSON_F_INT), "%.*s is not an integer",
                      (int)n, out);
            }
        }
    }
    guard_free(&gd);
}

Test(ids, parses_every_strategy_name)
{
    static const char *const names[] = {
        "eddy",      "counter",  "timestamp", "node-counter", "node-counter-time",
        "snowflake", "random32", "uuid4",     "uuid7"};
    cr_assert_eq(NELEM(names), IDS_KIND_COUNT);
    for (size_t i = 0; i < NELEM(names); i++) {
        enum ids_kind k = IDS_KIND_COUNT;
        cr_assert_eq(ids_kind_parse(names[i], &k), 0, "%s refused", names[i]);
        cr_assert_eq(k, (enum ids_kind)i);
        cr_assert_str_eq(ids_kind_name(k), names[i]);
        cr_assert_gt(strlen(ids_kind_doc(k)), 0);
    }
    static const char *const bad[] = {"",       "Eddy",  "uuid",       "counter ", "node",
                                      "random", "uuid8", "snowflakes", "-"};
    for (size_t i = 0; i < NELEM(bad); i++) {
        enum ids_kind k = IDS_UUID7;
        cr_assert_eq(ids_kind_parse(bad[i], &k), -EINVAL, "'%s' accepted", bad[i]);
        cr_assert_eq(k, IDS_UUID7, "'%s' changed the output", bad[i]);
    }
}

static size_t next_text(struct ids *g, char *out)
{
    size_t n = ids_next(g, out);
    out[n] = '\0';
    return n;
}

Test(ids, counter_repeats_across_two_generators)
{
    struct fake_clock c = {.ns = BASE_NS};
    struct ids a, b;
    gen_init(&a, IDS_COUNTER, "n0", &c);
    gen_init(&b, IDS_COUNTER, "n1", &c);
    char x[IDS_TEXT_MAX], y[IDS_TEXT_MAX];
    next_text(&a, x);
    next_text(&b, y);
    cr_assert_str_eq(x, "1");
    cr_assert_str_eq(y, "1", "the flaw did not show: second generator gave %s", y);
    next_text(&a, x);
    cr_assert_str_eq(x, "2");
}

Test(ids, timestamp_repeats_with_a_frozen_clock)
{
    struct fake_clock c = {.ns = BASE_NS + 999999, .step_ns = 0};
    struct ids g;
    gen_init(&g, IDS_TIMESTAMP, "n0", &c);
    char x[IDS_TEXT_MAX], y[IDS_TEXT_MAX], want[32];
    next_text(&g, x);
    next_text(&g, y);
    snprintf(want, sizeof(want), "%" PRId64, BASE_MS);
    cr_assert_str_eq(x, want);
    cr_assert_str_eq(x, y, "the flaw did not show");
}

Test(ids, node_counter_repeats_across_a_restart)
{
    struct fake_clock c = {.ns = BASE_NS, .step_ns = NS_PER_MS};
    struct ids g;
    char x[IDS_TEXT_MAX], y[IDS_TEXT_MAX];
    gen_init(&g, IDS_NODE_COUNTER, "n0", &c);
    next_text(&g, x);
    cr_assert_str_eq(x, "\"n0-1\"");
    gen_init(&g, IDS_NODE_COUNTER, "n0", &c); /* restart */
    next_text(&g, y);
    cr_assert_str_eq(x, y, "the flaw did not show");
}

Test(ids, node_counter_time_repeats_across_a_restart_in_the_same_second)
{
    struct ids g;
    char x[IDS_TEXT_MAX], y[IDS_TEXT_MAX], want[64];
    struct fake_clock c = {.ns = BASE_NS + 300 * NS_PER_MS, .step_ns = NS_PER_MS};
    gen_init(&g, IDS_NODE_COUNTER_TIME, "n0", &c);
    next_text(&g, x);
    snprintf(want, sizeof(want), "\"n0-%" PRId64 "-1\"", BASE_MS / 1000);
    cr_assert_str_eq(x, want);
    struct fake_clock replay = {.ns = BASE_NS + 300 * NS_PER_MS, .step_ns = NS_PER_MS};
    gen_init(&g, IDS_NODE_COUNTER_TIME, "n0", &replay); /* restart, clock replayed */
    next_text(&g, y);
    cr_assert_str_eq(x, y, "the flaw did not show");
    /* In a later second it does not repeat. */
    struct fake_clock later = {.ns = BASE_NS + 1300 * NS_PER_MS};
    gen_init(&g, IDS_NODE_COUNTER_TIME, "n0", &later);
    next_text(&g, y);
    cr_assert_str_neq(x, y);
}

static uint64_t snowflake_value(const char *text)
{
    cr_assert_eq(text[0], '"');
    char *end;
    uint64_t v = strtoull(text + 1, &end, 10);
    cr_assert_str_eq(end, "\"", "%s is not a quoted decimal", text);
    return v;
}

Test(ids, snowflake_repeats_when_the_clock_goes_back)
{
    const int64_t epoch_ms = INT64_C(1288834974657);
    struct fake_clock c = {.ns = BASE_NS, .step_ns = 0};
    struct ids g;
    gen_init(&g, IDS_SNOWFLAKE, "n0", &c); /* node_index 5 */
    char a[IDS_TEXT_MAX], b[IDS_TEXT_MAX], again[IDS_TEXT_MAX];
    next_text(&g, a);
    next_text(&g, b);
    uint64_t va = snowflake_value(a), vb = snowflake_value(b);
    cr_assert_eq(va >> 22, (uint64_t)(BASE_MS - epoch_ms), "timestamp field");
    cr_assert_eq(va >> 12 & 1023, 5, "worker field");
    cr_assert_eq(va & 4095, 0, "sequence field");
    cr_assert_eq(vb, va + 1, "same ms: the sequence advances");

    c.ns += 2 * NS_PER_MS;
    char later[IDS_TEXT_MAX];
    next_text(&g, later);
    cr_assert_gt(snowflake_value(later), vb);
    c.ns = BASE_NS; /* back, while running */
    next_text(&g, again);
    cr_assert_str_eq(again, a, "the flaw did not show");
}

Test(ids, random32_eventually_repeats)
{
    enum { LIMIT = 2000000 };
    struct fake_clock c = {.ns = BASE_NS};
    struct ids g;
    gen_init(&g, IDS_RANDOM32, "n0", &c);
    struct idset seen;
    idset_init(&seen, LIMIT, 12);
    int found = -1;
    for (int i = 0; i < LIMIT && found < 0; i++) {
        char id[IDS_TEXT_MAX];
        size_t n = ids_next(&g, id);
        CHECK(n <= 10, "random32 ID of %zu bytes", n);
        char *end;
        id[n] = '\0';
        unsigned long long v = strtoull(id, &end, 10);
        CHECK(*end == '\0' && v <= UINT32_MAX, "%s is not a 32-bit integer", id);
        if (!idset_add(&seen, id, n))
            found = i;
    }
    /* Birthday bound: a repeat is expected after about 82,000 draws of 32 bits. */
    cr_assert_geq(found, 0, "no repeat in %d draws of 32 bits", LIMIT);
    idset_fini(&seen);
    ASSERT_NO_LEAKS();
}

static bool is_lower_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

/* Checks "xxxxxxxx-xxxx-Vxxx-Nxxx-xxxxxxxxxxxx" (quoted) with version V and variant 10xx. */
static void uuid_check(const char *id, size_t n, char version)
{
    CHECK(n == 38, "%.*s: length %zu", (int)n, id, n);
    CHECK(id[0] == '"' && id[37] == '"', "%.*s: not quoted", (int)n, id);
    for (int i = 1; i < 37; i++) {
        if (i == 9 || i == 14 || i == 19 || i == 24)
            CHECK(id[i] == '-', "%.*s: no dash at %d", (int)n, id, i);
        else
            CHECK(is_lower_hex(id[i]), "%.*s: '%c' at %d", (int)n, id, id[i], i);
    }
    CHECK(id[15] == version, "%.*s: version nibble", (int)n, id);
    CHECK(strchr("89ab", id[20]) != NULL, "%.*s: variant nibble %c", (int)n, id, id[20]);
}

Test(ids, uuids_have_the_right_version_and_variant)
{
    struct fake_clock c = {.ns = BASE_NS + 42 * NS_PER_MS + 7, .step_ns = 0};
    struct ids g4, g7;
    gen_init(&g4, IDS_UUID4, "n0", &c);
    gen_init(&g7, IDS_UUID7, "n0", &c);
    struct idset seen;
    idset_init(&seen, 200000, 40);
    for (int i = 0; i < 100000; i++) {
        char id[IDS_TEXT_MAX];
        size_t n = ids_next(&g4, id);
        uuid_check(id, n, '4');
        CHECK(idset_add(&seen, id, n), "UUIDv4 repeated: %.*s", (int)n, id);
        n = ids_next(&g7, id);
        uuid_check(id, n, '7');
        CHECK(idset_add(&seen, id, n), "UUIDv7 repeated: %.*s", (int)n, id);
        if (i == 0) {
            /* The first 48 bits are the clock's Unix ms, big-endian. */
            char hexms[13];
            memcpy(hexms, id + 1, 8);
            memcpy(hexms + 8, id + 10, 4);
            hexms[12] = '\0';
            cr_assert_eq((int64_t)strtoull(hexms, NULL, 16), BASE_MS + 42, "%.*s", (int)n, id);
        }
    }
    idset_fini(&seen);
    ASSERT_NO_LEAKS();
}
