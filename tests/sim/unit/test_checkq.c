/*
 * test_checkq.c: the checker thread's queue (checkq.h): every op pushed is checked, in order,
 * after checkq_finish(); nothing the producer handed over is read after it changed; the queue
 * is bounded in bytes and says when it is full instead of waiting; records that arrive past the
 * ring keep their order; an abort leaves the rest counted.
 *
 * The producer's buffers are overwritten right after each push, as the event loop's stack and
 * read buffers are: a ring that kept pointers instead of copies would check garbage (it once did
 * for the text of a malformed reply, which reached results.json as invalid UTF-8). A slow
 * checker is simulated with checkq_hold(); waits poll a condition with a deadline.
 * Depends on: checkq, check, json, unitkit.h.
 */
#include "unitkit.h"
#include "check.h"
#include "checkq.h"

#include <criterion/criterion.h>

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

TestSuite(checkq, .timeout = 120);

static atomic_int events;

static void count_event(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&events, 1);
}

/* Polls cond (a predicate on q) every millisecond for up to 60 s. */
static bool wait_for(bool (*cond)(struct checkq *), struct checkq *q)
{
    for (int i = 0; i < 60000; i++) {
        if (cond(q))
            return true;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    return false;
}

static bool not_full(struct checkq *q)
{
    return !checkq_full(q);
}

static bool is_done(struct checkq *q)
{
    return checkq_done(q);
}

static bool push_id(struct checkq *q, struct check *c, const char *text, uint64_t ref)
{
    struct json_val v = scan(text);
    check_invoke(c);
    return checkq_push(q, &(struct check_op){.type = OP_OK,
                                             .f = F_GENERATE,
                                             .invoke_ns = (int64_t)ref,
                                             .complete_ns = (int64_t)ref + 1,
                                             .index = ref,
                                             .ref = ref,
                                             .value = &v});
}

Test(checkq, copies_what_the_producer_hands_over)
{
    struct check c;
    check_init(&c, WORKLOAD_UNIQUE_IDS, 10);
    struct checkq *q = checkq_new(&c, NULL, NULL);
    enum { OPS = 3 * CHECKQ_WAKE_BATCH + 7 };
    for (int i = 0; i < OPS; i++) {
        char text[64], why[128];
        snprintf(text, sizeof(text),
                 "\"id-%d-with-a-long-tail-to-pass-the-inline-limit-of-the-ring\"",
                 i % 2 ? i : i / 2);
        snprintf(why, sizeof(why), "reply %d has a disallowed key", i);
        struct json_val v = scan(text);
        bool bad = i == 5;
        check_invoke(&c);
        checkq_push(q, &(struct check_op){.type = bad ? OP_INFO : OP_OK,
                                          .f = F_GENERATE,
                                          .invoke_ns = i,
                                          .complete_ns = i + 1,
                                          .index = (uint64_t)i,
                                          .ref = (uint64_t)i,
                                          .value = bad ? NULL : &v,
                                          .exception = bad ? "malformed-rpc-response" : NULL,
                                          .exception_text = bad ? why : NULL});
        memset(text, 'x', sizeof(text));
        memset(why, 0, sizeof(why));
    }
    checkq_finish(q, NULL);
    cr_assert_eq(c.exception_kinds, 1u);
    cr_assert_str_eq(c.exceptions[0].example, "reply 5 has a disallowed key");
    cr_assert_str_eq(c.exceptions[0].name, "malformed-rpc-response");
    /* Odd ops carry ID i, even ops ID i / 2: an even op repeats the ID of the odd op i / 2 when
     * that is odd and was ok (op 5 was not). Nothing else repeats. */
    uint64_t dups = 0;
    for (int i = 0; i < OPS; i += 2)
        dups += i / 2 % 2 == 1 && i / 2 != 5;
    cr_assert_eq(c.dup_ids, dups, "duplicated IDs counted %llu, want %llu",
                 (unsigned long long)c.dup_ids, (unsigned long long)dups);
    cr_assert_eq(c.dup_extra, dups);
    check_fini(&c);
    ASSERT_NO_LEAKS();
}

/* A JSON string of `len` bytes (quotes included) whose content starts with tag. */
static char *big_id(size_t len, unsigned tag)
{
    char *t = malloc(len + 1);
    memset(t, 'a' + (char)(tag % 26), len);
    int k = snprintf(t, len, "\"%u-", tag);
    t[k] = '-';
    t[0] = '"';
    t[len - 1] = '"';
    t[len] = '\0';
    return t;
}

Test(checkq, is_bounded_in_bytes_and_never_waits)
{
    /* 64 KiB IDs while the checker is held: the queue says it is full once it holds more than
     * CHECKQ_HIGH bytes, that is after about 128 of them, not after CHECKQ_WAKE_BATCH records or
     * 65,536. Pushing on past the ring (as the loop does with the lines it already read) never
     * waits: the rest go to the overflow list, and everything is checked in order. */
    atomic_store(&events, 0);
    struct check c;
    check_init(&c, WORKLOAD_UNIQUE_IDS, 10);
    struct checkq *q = checkq_new(&c, count_event, NULL);
    checkq_hold(q, true);
    enum { LEN = 64 << 10 };
    unsigned full_at = 0, n = 0;
    for (; n < 400; n++) {
        char *t = big_id(LEN, n);
        bool full = push_id(q, &c, t, n);
        free(t);
        if (full && !full_at)
            full_at = n + 1;
        cr_assert_eq(full, full_at != 0, "once full, the queue stays full while held");
    }
    size_t per = LEN + 256;
    cr_expect(full_at > CHECKQ_HIGH / per && full_at <= CHECKQ_HIGH / LEN + 1,
              "full after %u IDs of 64 KiB (%u MiB)", full_at, CHECKQ_HIGH >> 20);
    /* The first ID again, at the very end: it must be found as the repeat of the first. */
    char *t = big_id(LEN, 0);
    push_id(q, &c, t, n);
    free(t);
    cr_expect(checkq_full(q));
    cr_expect_eq(atomic_load(&events), 0, "no room was announced while held");
    checkq_hold(q, false);
    cr_assert(wait_for(not_full, q), "the checker drained the queue");
    cr_expect_geq(atomic_load(&events), 1, "and said so");
    struct checkq_stats st;
    checkq_finish(q, &st);
    cr_expect_eq(st.pushed, 401);
    cr_expect_gt(st.overflowed, 0, "400 IDs of 64 KiB do not fit in the ring");
    cr_expect_gt(st.bytes_max, (size_t)CHECKQ_BYTES, "the overflow counted in the queue's size");
    cr_expect_eq(st.fulls, 1);
    cr_expect_eq(c.ok, 401);
    cr_expect_eq(c.acknowledged, 401);
    cr_expect_eq(c.dup_ids, 1);
    cr_assert_eq(c.dups_len, 1);
    struct idset_op first;
    cr_assert_eq(idset_entry(c.ids, c.dups[0].first, NULL, &first), 0);
    cr_expect_eq(first.ref, 0, "the first op of the repeated ID came first");
    cr_assert_eq(c.dup_ops_len, 1);
    cr_expect_eq(c.dup_ops[0].ref, 400, "the repeat came last, after the overflow");
    check_fini(&c);
    ASSERT_NO_LEAKS();
}

Test(checkq, abort_counts_what_is_left)
{
    atomic_store(&events, 0);
    struct check c;
    check_init(&c, WORKLOAD_UNIQUE_IDS, 10);
    struct checkq *q = checkq_new(&c, count_event, NULL);
    checkq_hold(q, true);
    for (unsigned i = 0; i < 1000; i++) {
        char text[32];
        snprintf(text, sizeof(text), "\"id-%u\"", i);
        push_id(q, &c, text, i);
    }
    checkq_abort(q);
    cr_assert(wait_for(is_done, q), "an abort ends the checker even while it is held");
    cr_expect_geq(atomic_load(&events), 1, "the end is announced");
    push_id(q, &c, "\"late\"", 1000); /* after the abort: counted too */
    struct checkq_stats st;
    checkq_finish(q, &st);
    cr_expect_eq(st.unchecked, 1001);
    cr_expect_eq(c.ok, 0);
    check_fini(&c);
    ASSERT_NO_LEAKS();
}

Test(checkq, close_finishes_and_announces)
{
    atomic_store(&events, 0);
    struct check c;
    check_init(&c, WORKLOAD_UNIQUE_IDS, 10);
    struct checkq *q = checkq_new(&c, count_event, NULL);
    for (unsigned i = 0; i < 10; i++) {
        char text[32];
        snprintf(text, sizeof(text), "\"id-%u\"", i);
        push_id(q, &c, text, i);
    }
    checkq_close(q);
    cr_assert(wait_for(is_done, q));
    cr_expect_eq(atomic_load(&events), 1);
    cr_expect_eq(c.ok, 10, "fewer than a wake batch, all checked at the close");
    checkq_finish(q, NULL);
    check_fini(&c);
    ASSERT_NO_LEAKS();
}
