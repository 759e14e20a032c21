/*
 * test_buf.c: the bounded output buffer (buf.h).
 *
 * The property that matters to the I/O shell is the maximum: an append that would pass it fails
 * with -ENOBUFS and leaves the buffer exactly as it was, and capacity never exceeds it. The
 * random test checks every operation against a plain array model.
 * Depends on: buf, prng, testkit.h.
 */
#include "testkit.h"
#include "eddy/buf.h"
#include "eddy/prng.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void expect_contents(const struct buf *b, const void *want, size_t n)
{
    CHECK(buf_len(b) == n, "length %zu, want %zu", buf_len(b), n);
    CHECK(n == 0 || memcmp(buf_peek(b), want, n) == 0, "contents differ");
}

static void fill_pattern(char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)(seed + i * 7);
}

Test(buf, starts_empty_and_allocates_nothing)
{
    struct buf b;
    buf_init(&b, 100);
    cr_assert_null(b.data);
    cr_assert_eq(buf_len(&b), 0);
    cr_assert_eq(b.cap, 0);
    cr_assert_eq(b.max, 100);
    buf_fini(&b);
    buf_fini(&b); /* idempotent */
    cr_assert_null(b.data);
}

Test(buf, appends_and_consumes_in_order)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    cr_assert_eq(buf_append(&b, "hello", 5), 0);
    cr_assert_eq(buf_append(&b, " world", 6), 0);
    expect_contents(&b, "hello world", 11);
    buf_consume(&b, 6);
    expect_contents(&b, "world", 5);
    cr_assert_eq(buf_append(&b, "!", 1), 0);
    expect_contents(&b, "world!", 6);
    buf_consume(&b, 6);
    cr_assert_eq(buf_len(&b), 0);
    cr_assert_eq(b.head, 0, "an empty buffer restarts at the front");
    cr_assert_eq(b.tail, 0);
    buf_fini(&b);
    ASSERT_NO_LEAKS();
}

Test(buf, compacts_before_growing)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    char a[4000], c[3000], want[4000];
    fill_pattern(a, sizeof(a), 1);
    fill_pattern(c, sizeof(c), 2);
    cr_assert_eq(buf_append(&b, a, sizeof(a)), 0);
    size_t cap = b.cap;
    cr_assert_geq(cap, sizeof(a));
    cr_assert_lt(cap, sizeof(a) + sizeof(c), "test assumes the first allocation is small");
    buf_consume(&b, 3000);
    cr_assert_eq(buf_append(&b, c, sizeof(c)), 0);
    cr_assert_eq(b.cap, cap, "grew to %zu although compaction made room", b.cap);
    cr_assert_eq(b.head, 0);
    memcpy(want, a + 3000, 1000);
    memcpy(want + 1000, c, sizeof(c));
    expect_contents(&b, want, sizeof(want));
    buf_fini(&b);
    ASSERT_NO_LEAKS();
}

Test(buf, grows_up_to_max_and_never_beyond)
{
    struct buf b;
    buf_init(&b, 10000);
    char *p = malloc(10000);
    fill_pattern(p, 10000, 3);
    cr_assert_eq(buf_append(&b, p, 9000), 0);
    cr_assert_leq(b.cap, b.max);
    cr_assert_eq(buf_append(&b, p + 9000, 1000), 0);
    cr_assert_leq(b.cap, b.max);
    expect_contents(&b, p, 10000);
    cr_assert_eq(buf_append(&b, "x", 1), -ENOBUFS);
    expect_contents(&b, p, 10000);
    free(p);
    buf_fini(&b);

    /* A maximum below the first allocation size. */
    buf_init(&b, 10);
    cr_assert_eq(buf_append(&b, "0123456789", 10), 0);
    cr_assert_leq(b.cap, 10);
    cr_assert_eq(buf_append(&b, "x", 1), -ENOBUFS);
    expect_contents(&b, "0123456789", 10);
    buf_fini(&b);
    ASSERT_NO_LEAKS();
}

/* Appends n bytes that would pass the maximum and checks nothing at all changed. */
static void expect_refused(struct buf *b, size_t n)
{
    struct buf before = *b;
    size_t len = buf_len(b);
    char *copy = malloc(len + 1);
    if (len)
        memcpy(copy, buf_peek(b), len);
    char *src = calloc(n ? n : 1, 1);
    cr_assert_eq(buf_append(b, src, n), -ENOBUFS, "append of %zu with %zu/%zu held accepted", n,
                 len, b->max);
    cr_assert_eq(b->data, before.data, "reallocated");
    cr_assert_eq(b->head, before.head, "head moved");
    cr_assert_eq(b->tail, before.tail, "tail moved");
    cr_assert_eq(b->cap, before.cap, "capacity changed");
    cr_assert_eq(b->max, before.max);
    expect_contents(b, copy, len);
    free(copy);
    free(src);
}

Test(buf, refuses_an_append_past_max_and_changes_nothing)
{
    struct buf b;
    buf_init(&b, 8192);
    expect_refused(&b, 8193);
    cr_assert_null(b.data, "a refused first append allocated");

    char *p = malloc(8192);
    fill_pattern(p, 8192, 4);
    cr_assert_eq(buf_append(&b, p, 5000), 0);
    expect_refused(&b, 3193);
    /* With consumed bytes at the head: refusing must not compact either. */
    buf_consume(&b, 1000);
    expect_refused(&b, 4193);
    cr_assert_eq(buf_append(&b, p, 4192), 0, "an append up to exactly max refused");
    cr_assert_eq(buf_len(&b), 8192);
    expect_refused(&b, 1);
    buf_consume(&b, 100);
    cr_assert_eq(buf_append(&b, p, 100), 0);
    expect_refused(&b, 1);
    free(p);
    buf_fini(&b);
    ASSERT_NO_LEAKS();
}

Test(buf, reserve_returns_null_at_the_max)
{
    struct buf b;
    buf_init(&b, 5000);
    char *w = buf_reserve(&b, 5000);
    cr_assert_not_null(w);
    memset(w, 'r', 40);
    buf_commit(&b, 40); /* commit less than reserved */
    cr_assert_eq(buf_len(&b), 40);
    cr_assert_null(buf_reserve(&b, 4961), "reserve beyond max succeeded");
    w = buf_reserve(&b, 4960);
    cr_assert_not_null(w, "reserve up to exactly max failed");
    memset(w, 's', 4960);
    buf_commit(&b, 4960);
    cr_assert_eq(buf_len(&b), 5000);
    cr_assert_null(buf_reserve(&b, 1));
    cr_assert_not_null(buf_reserve(&b, 0), "a reserve of 0 at the max is within the max");
    cr_assert_eq(buf_peek(&b)[39], 'r');
    cr_assert_eq(buf_peek(&b)[40], 's');
    buf_fini(&b);
    ASSERT_NO_LEAKS();
}

Test(buf, appends_zero_bytes_to_an_empty_buffer)
{
    /* buf.h: -ENOBUFS only "when len + n would exceed max"; 0 + 0 never does. */
    struct buf b;
    buf_init(&b, 16);
    cr_assert_eq(buf_append(&b, "", 0), 0, "append of 0 bytes on a fresh buffer failed");
    cr_assert_eq(buf_len(&b), 0);
    cr_assert_eq(buf_append(&b, "abc", 3), 0);
    cr_assert_eq(buf_append(&b, "", 0), 0);
    expect_contents(&b, "abc", 3);
    buf_fini(&b);
}

Test(buf, reserves_zero_bytes_on_an_empty_buffer)
{
    /* buf.h: NULL only "if len + n would exceed max"; 0 + 0 never does, and callers treat NULL
     * as "full". */
    struct buf b;
    buf_init(&b, 16);
    cr_assert_not_null(buf_reserve(&b, 0), "reserve(0) on a fresh buffer returned NULL");
    buf_commit(&b, 0);
    cr_assert_eq(buf_len(&b), 0);
    buf_fini(&b);
}

Test(buf, clear_keeps_the_allocation)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    cr_assert_eq(buf_append(&b, "abc", 3), 0);
    buf_consume(&b, 1);
    char *data = b.data;
    size_t cap = b.cap;
    buf_clear(&b);
    cr_assert_eq(buf_len(&b), 0);
    cr_assert_eq(b.data, data);
    cr_assert_eq(b.cap, cap);
    cr_assert_eq(buf_append(&b, "xy", 2), 0);
    expect_contents(&b, "xy", 2);
    buf_fini(&b);
    cr_assert_null(b.data);
    cr_assert_eq(b.cap, 0);
    ASSERT_NO_LEAKS();
}

Test(buf, random_operations_match_a_model)
{
    enum { MAX = 20000 };
    struct prng r;
    prng_seed(&r, 11, 0);
    char *model = malloc(MAX);
    char src[3000];
    size_t mlen = 0;
    struct buf b;
    buf_init(&b, MAX);
    for (int i = 0; i < 50000; i++) {
        uint64_t op = prng_below(&r, 10);
        if (op < 5) {
            size_t n = prng_below(&r, sizeof(src)) + 1;
            fill_pattern(src, n, (unsigned)i);
            int rc = buf_append(&b, src, n);
            if (mlen + n > MAX) {
                CHECK(rc == -ENOBUFS, "op %d: append of %zu to %zu accepted", i, n, mlen);
            } else {
                CHECK(rc == 0, "op %d: append of %zu to %zu refused", i, n, mlen);
                memcpy(model + mlen, src, n);
                mlen += n;
            }
        } else if (op < 9) {
            size_t n = mlen ? prng_below(&r, mlen + 1) : 0;
            buf_consume(&b, n);
            memmove(model, model + n, mlen - n);
            mlen -= n;
        } else if (op == 9 && prng_below(&r, 20) == 0) {
            buf_clear(&b);
            mlen = 0;
        }
        CHECK(b.cap <= (size_t)MAX, "op %d: capacity %zu over max", i, b.cap);
        CHECK(b.tail <= b.cap, "op %d: tail %zu past capacity %zu", i, b.tail, b.cap);
        expect_contents(&b, model, mlen);
    }
    buf_fini(&b);
    free(model);
    ASSERT_NO_LEAKS();
}
