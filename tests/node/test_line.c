/*
 * test_line.c: the bounded line framer (line.h).
 *
 * Input is fed the way io.c feeds it: ask for space, copy at most that much, commit, then take
 * lines until line_reader_next returns 0. The invariants checked throughout are the header's:
 * lines come back intact and in order whatever the chunking, a line over max_line is reported
 * once with its full length, and the buffer (cap) never grows.
 * Depends on: line, prng, testkit.h.
 */
#include "testkit.h"
#include "eddy/line.h"
#include "eddy/prng.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Copies as much of data[0..n) as fits into the framer, commits it, returns the bytes taken. */
static size_t feed_some(struct line_reader *lr, const char *data, size_t n)
{
    size_t room;
    char *space = line_reader_space(lr, &room);
    CHECK(room >= 1, "no room");
    size_t k = n < room ? n : room;
    memcpy(space, data, k);
    line_reader_commit(lr, k);
    return k;
}

/* Feeds a whole string in one commit (it must fit). */
static void feed(struct line_reader *lr, const char *s)
{
    size_t n = strlen(s);
    cr_assert_eq(feed_some(lr, s, n), n, "input did not fit in one commit");
}

static void expect_line(struct line_reader *lr, const char *want)
{
    const char *line = NULL;
    size_t len = 0;
    int rc = line_reader_next(lr, &line, &len);
    cr_assert_eq(rc, 1, "expected the line \"%s\", got rc %d", want, rc);
    cr_assert_eq(len, strlen(want), "line length %zu, want %zu (\"%s\")", len, strlen(want), want);
    cr_assert_arr_eq(line, want, len, "line is \"%.*s\", want \"%s\"", (int)len, line, want);
}

static void expect_more(struct line_reader *lr)
{
    const char *line;
    size_t len;
    int rc = line_reader_next(lr, &line, &len);
    cr_assert_eq(rc, 0, "expected 0 (need more input), got %d", rc);
}

static void expect_oversized(struct line_reader *lr, size_t len_want)
{
    const char *line;
    size_t len;
    int rc = line_reader_next(lr, &line, &len);
    cr_assert_eq(rc, -EMSGSIZE, "expected -EMSGSIZE, got %d", rc);
    cr_assert_eq(lr->discarded, len_want, "discarded %zu, want %zu", lr->discarded, len_want);
}

/* ==== Framing ==== */

Test(line, splits_two_lines_in_one_commit)
{
    struct line_reader lr;
    line_reader_init(&lr, 64, 64);
    feed(&lr, "ab\ncd\n");
    expect_line(&lr, "ab");
    expect_line(&lr, "cd");
    expect_more(&lr);
    cr_assert_eq(lr.line_no, 2);
    line_reader_fini(&lr);
    ASSERT_NO_LEAKS();
}

Test(line, returns_empty_lines)
{
    struct line_reader lr;
    line_reader_init(&lr, 8, 8);
    feed(&lr, "\n\nx\n");
    expect_line(&lr, "");
    expect_line(&lr, "");
    expect_line(&lr, "x");
    expect_more(&lr);
    line_reader_fini(&lr);
}

Test(line, keeps_the_carriage_return_of_crlf)
{
    struct line_reader lr;
    line_reader_init(&lr, 64, 64);
    feed(&lr, "ab\r\ncd\r\n\r\n");
    expect_line(&lr, "ab\r");
    expect_line(&lr, "cd\r");
    expect_line(&lr, "\r");
    expect_more(&lr);
    line_reader_fini(&lr);
}

Test(line, joins_a_line_split_byte_by_byte)
{
    struct line_reader lr;
    line_reader_init(&lr, 512, 16);
    char want[301];
    for (int i = 0; i < 300; i++)
        want[i] = (char)('a' + i % 26);
    want[300] = '\0';
    for (int i = 0; i < 300; i++) {
        cr_assert_eq(feed_some(&lr, want + i, 1), 1);
        expect_more(&lr);
    }
    feed(&lr, "\n");
    expect_line(&lr, want);
    expect_more(&lr);

    /* Several lines, still one byte per commit, including the newlines. */
    const char *text = "one\ntwo\n\nthree\n";
    const char *lines[] = {"one", "two", "", "three"};
    size_t got = 0;
    for (const char *p = text; *p; p++) {
        cr_assert_eq(feed_some(&lr, p, 1), 1);
        if (*p == '\n')
            expect_line(&lr, lines[got++]);
        expect_more(&lr);
    }
    cr_assert_eq(got, 4);
    line_reader_fini(&lr);
}

Test(line, accepts_a_line_of_exactly_max_line)
{
    enum { MAX = 32 };
    char line[MAX + 2];
    memset(line, 'x', MAX);
    line[MAX] = '\n';
    line[MAX + 1] = '\0';

    struct line_reader lr;
    line_reader_init(&lr, MAX, 8);
    /* In pieces no larger than the room offered. */
    size_t off = 0;
    while (off < MAX + 1) {
        off += feed_some(&lr, line + off, MAX + 1 - off);
        if (off < MAX + 1)
            expect_more(&lr);
    }
    line[MAX] = '\0';
    expect_line(&lr, line);
    expect_more(&lr);

    /* Byte by byte. */
    line[MAX] = '\n';
    for (size_t i = 0; i < MAX + 1; i++) {
        cr_assert_eq(feed_some(&lr, line + i, 1), 1);
        if (i < MAX)
            expect_more(&lr);
    }
    line[MAX] = '\0';
    expect_line(&lr, line);
    expect_more(&lr);
    line_reader_fini(&lr);
}

/* ==== Oversized lines ==== */

Test(line, rejects_max_line_plus_one_with_its_length)
{
    enum { MAX = 32 };
    char big[MAX + 2];
    memset(big, 'y', MAX + 1);
    big[MAX + 1] = '\n';

    /* The whole line and the next one in a single commit (chunk is large enough). */
    struct line_reader lr;
    line_reader_init(&lr, MAX, 128);
    char input[MAX + 2 + 6];
    memcpy(input, big, MAX + 2);
    memcpy(input + MAX + 2, "next\n", 6);
    feed(&lr, input);
    expect_oversized(&lr, MAX + 1);
    expect_line(&lr, "next");
    expect_more(&lr);
    cr_assert_eq(lr.line_no, 2, "the oversized line counts as a line");
    line_reader_fini(&lr);

    /* Byte by byte: the framer notices at byte MAX + 1 and reports at the newline. */
    line_reader_init(&lr, MAX, 8);
    for (size_t i = 0; i < MAX + 1; i++) {
        cr_assert_eq(feed_some(&lr, big + i, 1), 1);
        expect_more(&lr);
    }
    feed(&lr, "\nafter\n");
    expect_oversized(&lr, MAX + 1);
    expect_line(&lr, "after");
    expect_more(&lr);
    line_reader_fini(&lr);
    ASSERT_NO_LEAKS();
}

Test(line, discards_a_10mb_line_with_bounded_memory)
{
    enum { MAX = 4096, CHUNK = 16384 };
    const size_t big = 10u << 20;
    char *junk = malloc(CHUNK);
    memset(junk, 'z', CHUNK);

    struct line_reader lr;
    line_reader_init(&lr, MAX, CHUNK);
    size_t cap = lr.cap;
    char *data = lr.data;
    feed(&lr, "first\n");
    expect_line(&lr, "first");
    expect_more(&lr);
    size_t fed = 0;
    while (fed < big) {
        size_t want = big - fed < CHUNK ? big - fed : CHUNK;
        fed += feed_some(&lr, junk, want);
        expect_more(&lr);
        cr_assert_eq(lr.cap, cap, "the buffer grew to %zu", lr.cap);
        cr_assert_eq(lr.data, data, "the buffer was reallocated");
        cr_assert_leq(lr.end, lr.cap);
    }
    cr_assert(lr.discarding);
    feed(&lr, "\n{\"next\":1}\n");
    expect_oversized(&lr, big);
    expect_line(&lr, "{\"next\":1}");
    expect_more(&lr);
    cr_assert_eq(lr.line_no, 3);
    cr_assert_eq(lr.cap, cap);
    line_reader_fini(&lr);
    free(junk);
    ASSERT_NO_LEAKS();
}

/* ==== End of input ==== */

Test(line, finish_returns_the_unterminated_tail)
{
    struct line_reader lr;
    line_reader_init(&lr, 16, 16);
    feed(&lr, "abc\nxyz");
    expect_line(&lr, "abc");
    expect_more(&lr);
    const char *line = NULL;
    size_t len = 0;
    cr_assert_eq(line_reader_finish(&lr, &line, &len), 1);
    cr_assert_eq(len, 3);
    cr_assert_arr_eq(line, "xyz", 3);
    cr_assert_eq(lr.line_no, 2);
    cr_assert_eq(line_reader_finish(&lr, &line, &len), 0, "the tail was returned twice");
    line_reader_fini(&lr);
}

Test(line, finish_without_a_tail_returns_zero)
{
    struct line_reader lr;
    line_reader_init(&lr, 16, 16);
    const char *line;
    size_t len;
    cr_assert_eq(line_reader_finish(&lr, &line, &len), 0, "empty input has a tail");
    feed(&lr, "abc\n");
    expect_line(&lr, "abc");
    expect_more(&lr);
    cr_assert_eq(line_reader_finish(&lr, &line, &len), 0);
    cr_assert_eq(lr.line_no, 1);
    line_reader_fini(&lr);
}

Test(line, finish_inside_an_oversized_line_reports_it)
{
    struct line_reader lr;
    line_reader_init(&lr, 4, 16);
    feed(&lr, "ok\n0123456789");
    expect_line(&lr, "ok");
    expect_more(&lr);
    const char *line;
    size_t len;
    cr_assert_eq(line_reader_finish(&lr, &line, &len), -EMSGSIZE);
    cr_assert_eq(lr.discarded, 10);
    cr_assert_eq(line_reader_finish(&lr, &line, &len), 0);
    line_reader_fini(&lr);
}

/* ==== Buffer management ==== */

Test(line, keeps_a_partial_line_across_compaction)
{
    /* The partial line is moved to the front of the buffer when space is asked for. */
    struct line_reader lr;
    line_reader_init(&lr, 8, 8);
    feed(&lr, "aaaa\nbbbbbbbb");
    expect_line(&lr, "aaaa");
    expect_more(&lr);
    feed(&lr, "\ncc\n");
    expect_line(&lr, "bbbbbbbb");
    expect_line(&lr, "cc");
    expect_more(&lr);
    line_reader_fini(&lr);
}

Test(line, never_reads_past_the_committed_bytes)
{
    /* The framer's own buffer is replaced by one that ends at a guard page, and filled to its
     * last byte: any look beyond `end` (memchr, a peek at the next byte) faults. */
    enum { MAX = 8, CHUNK = 8 };
    struct line_reader lr;
    line_reader_init(&lr, MAX, CHUNK);
    free(lr.data);
    struct guard g;
    lr.data = guard_alloc(&g, lr.cap);

    size_t room;
    char *space = line_reader_space(&lr, &room);
    cr_assert_eq(room, lr.cap);
    memcpy(space, "12345678\nabcdef", 15);
    line_reader_commit(&lr, 15);
    expect_line(&lr, "12345678");
    expect_more(&lr); /* "abcdef" waits: 6 bytes */
    space = line_reader_space(&lr, &room);
    cr_assert_eq(room, lr.cap - 6);
    memcpy(space, "gh\n", 3);
    line_reader_commit(&lr, 3);
    expect_line(&lr, "abcdefgh");
    expect_more(&lr);

    /* Fill every byte up to the guard page with a line that has no newline yet. */
    space = line_reader_space(&lr, &room);
    cr_assert_eq(room, lr.cap);
    memset(space, 'q', room);
    line_reader_commit(&lr, room);
    cr_assert_eq(lr.end, lr.cap);
    expect_more(&lr); /* over MAX: now discarding */
    cr_assert(lr.discarding);

    /* An unterminated tail that ends on the last readable byte. */
    space = line_reader_space(&lr, &room);
    memcpy(space, "\n", 1);
    line_reader_commit(&lr, 1);
    expect_oversized(&lr, lr.cap);
    space = line_reader_space(&lr, &room);
    memset(space, 't', room);
    memcpy(space + room - 5, "\ntail", 5);
    line_reader_commit(&lr, room);
    expect_oversized(&lr, room - 5);
    expect_more(&lr);
    const char *line;
    size_t len;
    cr_assert_eq(line_reader_finish(&lr, &line, &len), 1);
    cr_assert_eq(len, 4);
    cr_assert_arr_eq(line, "tail", 4);
    cr_assert_eq(line + len, g.guard, "the tail does not end at the guard page");

    guard_free(&g);
    lr.data = NULL;
    line_reader_fini(&lr);
}

/* Expected outcome of one line of the random test. */
struct want_line {
    size_t off, len;
    bool oversized;
};

Test(line, random_chunking_gives_the_same_lines)
{
    enum { MAX = 200, CHUNK = 64, LINES = 3000 };
    struct prng r;
    prng_seed(&r, 7, 0);
    char *text = malloc(LINES * (2 * MAX + 2));
    struct want_line *want = calloc(LINES, sizeof(*want));
    size_t n = 0;
    for (int i = 0; i < LINES; i++) {
        /* Mostly short lines, some at and just over the limit, a few far over it. */
        size_t len;
        switch (prng_below(&r, 8)) {
        case 0:
            len = MAX - 1 + prng_below(&r, 3);
            break;
        case 1:
            len = MAX + 1 + prng_below(&r, MAX);
            break;
        default:
            len = prng_below(&r, 40);
            break;
        }
        want[i] = (struct want_line){.off = n, .len = len, .oversized = len > MAX};
        for (size_t k = 0; k < len; k++)
            text[n++] = (char)(' ' + prng_below(&r, 94));
        text[n++] = '\n';
    }

    struct line_reader lr;
    line_reader_init(&lr, MAX, CHUNK);
    size_t cap = lr.cap, fed = 0;
    int got = 0;
    while (fed < n) {
        size_t room;
        char *space = line_reader_space(&lr, &room);
        size_t k = 1 + prng_below(&r, room);
        if (k > n - fed)
            k = n - fed;
        memcpy(space, text + fed, k);
        line_reader_commit(&lr, k);
        fed += k;
        for (;;) {
            const char *line;
            size_t len;
            int rc = line_reader_next(&lr, &line, &len);
            if (rc == 0)
                break;
            CHECK(got < LINES, "more lines than were fed");
            const struct want_line *w = &want[got];
            if (w->oversized) {
                CHECK(rc == -EMSGSIZE, "line %d (%zu bytes): rc %d", got, w->len, rc);
                CHECK(lr.discarded == w->len, "line %d: discarded %zu, want %zu", got, lr.discarded,
                      w->len);
            } else {
                CHECK(rc == 1, "line %d (%zu bytes): rc %d", got, w->len, rc);
                CHECK(len == w->len, "line %d: %zu bytes, want %zu", got, len, w->len);
                CHECK(memcmp(line, text + w->off, len) == 0, "line %d changed", got);
            }
            got++;
        }
        CHECK(lr.cap == cap, "the buffer grew to %zu", lr.cap);
    }
    cr_assert_eq(got, LINES);
    cr_assert_eq(lr.line_no, (unsigned long)LINES);
    const char *line;
    size_t len;
    cr_assert_eq(line_reader_finish(&lr, &line, &len), 0);
    line_reader_fini(&lr);
    free(text);
    free(want);
    ASSERT_NO_LEAKS();
}
