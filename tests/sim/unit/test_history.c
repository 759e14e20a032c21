/*
 * test_history.c: history.jsonl (history.h): the line format, the offsets returned as op
 * references, buffering across the 1 MiB block, and a write error (a full disk).
 *
 * Files live in a private mkdtemp() directory. Every line written is scanned back as JSON and
 * its keys checked; offsets are checked by reading the file at each one. /dev/full stands for a
 * full disk: every write fails with ENOSPC.
 * Depends on: history, json, unitkit.h.
 */
#include "unitkit.h"
#include "history.h"
#include "eddy/json.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256];
static char path[512];

static void setup(void)
{
    tmp_dir_make(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/history.jsonl", dir);
}

static void teardown(void)
{
    tmp_dir_remove(dir);
}

TestSuite(history, .init = setup, .fini = teardown);

/* The value of `key` in the scanned object, or type JSON_NONE. */
static struct json_val member(const struct json_val *obj, const char *key)
{
    struct json_iter it;
    struct json_val k, v;
    json_iter_init(&it, obj);
    while (json_iter_next(&it, &k, &v))
        if (json_str_eq(&k, key, strlen(key)))
            return v;
    return (struct json_val){0};
}

static size_t member_count(const struct json_val *obj)
{
    struct json_iter it;
    struct json_val k, v;
    size_t n = 0;
    json_iter_init(&it, obj);
    while (json_iter_next(&it, &k, &v))
        n++;
    return n;
}

/* Checks that member `key` is exactly the JSON text `want`. */
static void expect_member(const struct json_val *obj, const char *key, const char *want)
{
    struct json_val v = member(obj, key);
    cr_expect_neq(v.type, JSON_NONE, "no \"%s\" in %.*s", key, (int)obj->len, obj->p);
    if (v.type != JSON_NONE)
        cr_expect(v.len == strlen(want) && memcmp(v.p, want, v.len) == 0, "\"%s\" is %.*s, want %s",
                  key, (int)v.len, v.p, want);
}

/* Scans the line starting at file[offset] (up to its newline) as one JSON object. */
static struct json_val line_at(const char *file, size_t file_len, uint64_t offset, size_t *len)
{
    cr_assert_lt(offset, file_len, "offset %llu past the end (%zu)", (unsigned long long)offset,
                 file_len);
    const char *p = file + offset;
    const char *nl = memchr(p, '\n', file_len - offset);
    cr_assert_not_null(nl, "line at %llu has no newline", (unsigned long long)offset);
    *len = (size_t)(nl - p) + 1;
    struct json_val v;
    struct json_err e = {0};
    ssize_t n = json_scan(p, (size_t)(nl - p), true, &v, &e);
    cr_assert_gt(n, 0, "line at %llu is not JSON (%s at %zu): %.*s", (unsigned long long)offset,
                 e.what, e.offset, (int)(nl - p), p);
    cr_assert_eq(v.type, JSON_OBJECT);
    return v;
}

static struct op_rec op(enum op_type type, enum op_f f, const char *value)
{
    return (struct op_rec){.time_ns = 1500,
                           .process = 3,
                           .type = type,
                           .f = f,
                           .value = value,
                           .value_len = strlen(value),
                           .node = "\"n2\"",
                           .node_len = 4,
                           .client = 7};
}

/* ==== Format and offsets ==== */

Test(history, ops_and_nemesis_events_are_json_lines_with_the_documented_fields)
{
    struct history h;
    cr_assert_eq(history_open(&h, path), 0);
    struct op_rec inv = op(OP_INVOKE, F_GENERATE, "null");
    struct op_rec ok = op(OP_OK, F_GENERATE, "\"n2-\\\"quoted\\\"\"");
    ok.time_ns = -4;
    struct op_rec info = op(OP_INFO, F_ECHO, "\"Please echo 5\"");
    info.error = "[\"net-timeout\",\"no reply\"]";
    info.error_len = strlen(info.error);
    info.exception = "malformed-rpc-response";
    info.process = UINT64_MAX;
    uint64_t at[4];
    at[0] = history_op(&h, &inv);
    at[1] = history_op(&h, &ok);
    at[2] = history_nemesis(&h, 2000000000, "start-partition", "[\"isolated\",{\"n1\":[\"n2\"]}]",
                            strlen("[\"isolated\",{\"n1\":[\"n2\"]}]"));
    at[3] = history_op(&h, &info);
    cr_expect_eq(h.index, 4);
    cr_assert_eq(history_close(&h), 0);

    size_t len;
    char *file = read_all(path, &len);
    cr_assert_not_null(file);
    cr_expect_eq(h.offset, len, "offset counts every byte written");
    cr_expect_eq(at[0], 0);
    size_t line_len;
    struct json_val v = line_at(file, len, at[0], &line_len);
    expect_member(&v, "index", "0");
    expect_member(&v, "time", "1500");
    expect_member(&v, "process", "3");
    expect_member(&v, "type", "\"invoke\"");
    expect_member(&v, "f", "\"generate\"");
    expect_member(&v, "value", "null");
    expect_member(&v, "node", "\"n2\"");
    expect_member(&v, "client", "\"c7\"");
    cr_expect_eq(member_count(&v), 8, "no error or exception keys when there is none");
    cr_expect_eq(at[1], line_len, "the second line starts where the first ends");

    v = line_at(file, len, at[1], &line_len);
    expect_member(&v, "index", "1");
    expect_member(&v, "time", "-4");
    expect_member(&v, "type", "\"ok\"");
    expect_member(&v, "value", "\"n2-\\\"quoted\\\"\"");

    v = line_at(file, len, at[2], &line_len);
    expect_member(&v, "index", "2");
    expect_member(&v, "time", "2000000000");
    expect_member(&v, "process", "\"nemesis\"");
    expect_member(&v, "type", "\"info\"");
    expect_member(&v, "f", "\"start-partition\"");
    expect_member(&v, "value", "[\"isolated\",{\"n1\":[\"n2\"]}]");
    cr_expect_eq(member_count(&v), 6);

    v = line_at(file, len, at[3], &line_len);
    expect_member(&v, "index", "3");
    expect_member(&v, "process", "18446744073709551615");
    expect_member(&v, "type", "\"info\"");
    expect_member(&v, "f", "\"echo\"");
    expect_member(&v, "error", "[\"net-timeout\",\"no reply\"]");
    expect_member(&v, "exception", "\"malformed-rpc-response\"");
    cr_expect_eq(at[3] + line_len, len, "the last line ends the file");
    free(file);
    ASSERT_NO_LEAKS();
}

Test(history, type_and_f_names)
{
    cr_expect_str_eq(op_type_name(OP_INVOKE), "invoke");
    cr_expect_str_eq(op_type_name(OP_OK), "ok");
    cr_expect_str_eq(op_type_name(OP_FAIL), "fail");
    cr_expect_str_eq(op_type_name(OP_INFO), "info");
    cr_expect_str_eq(op_f_name(F_ECHO), "echo");
    cr_expect_str_eq(op_f_name(F_GENERATE), "generate");
}

Test(history, offsets_point_at_each_line_across_many_blocks, .timeout = 120)
{
    enum { LINES = 40000 };
    static uint64_t at[LINES];
    struct history h;
    cr_assert_eq(history_open(&h, path), 0);
    char value[64];
    for (uint32_t i = 0; i < LINES; i++) {
        int n = snprintf(value, sizeof(value), "\"n%u-%u-padding-to-make-lines-longer\"", i % 5, i);
        struct op_rec r = op(i % 2 ? OP_OK : OP_INVOKE, F_GENERATE, value);
        r.value_len = (size_t)n;
        r.time_ns = (int64_t)i * 1000;
        at[i] = i % 97 == 0 ? history_nemesis(&h, r.time_ns, "stop-partition", "\"healed\"", 8)
                            : history_op(&h, &r);
    }
    cr_assert_eq(history_close(&h), 0);
    size_t len;
    char *file = read_all(path, &len);
    cr_assert_not_null(file);
    cr_assert_gt(len, 3 * HISTORY_BUF, "the test spans several buffer flushes (%zu bytes)", len);
    for (uint32_t i = 0; i < LINES; i++) {
        CHECK(at[i] < len, "line %u offset %llu past the end", i, (unsigned long long)at[i]);
        CHECK(at[i] == 0 || file[at[i] - 1] == '\n', "line %u offset %llu is not a line start", i,
              (unsigned long long)at[i]);
        char want[40];
        int n = snprintf(want, sizeof(want), "{\"index\":%u,", i);
        CHECK(memcmp(file + at[i], want, (size_t)n) == 0, "line %u: %.40s", i, file + at[i]);
        if (i + 1 < LINES)
            CHECK(at[i + 1] > at[i], "offsets grow");
    }
    /* Every line is valid JSON. */
    size_t lines = 0;
    for (size_t off = 0; off < len; lines++) {
        const char *nl = memchr(file + off, '\n', len - off);
        CHECK(nl != NULL, "unterminated last line");
        struct json_val v;
        CHECK(json_scan(file + off, (size_t)(nl - (file + off)), true, &v, NULL) > 0,
              "line %zu is not JSON", lines);
        off = (size_t)(nl - file) + 1;
    }
    cr_expect_eq(lines, LINES);
    free(file);
}

Test(history, the_file_stops_at_its_budget_on_a_whole_line, .timeout = 120)
{
    /* A 100,000-byte budget, and lines of about 150 bytes: the file keeps a prefix of whole
     * lines, the rest is counted, and every op after the cut gets the cut as its offset. */
    enum { LINES = 5000, MAX = 100000 };
    struct history h;
    cr_assert_eq(history_open(&h, path), 0);
    history_set_max(&h, MAX);
    char value[64];
    uint64_t last = 0;
    for (uint32_t i = 0; i < LINES; i++) {
        int n = snprintf(value, sizeof(value), "\"n%u-%u\"", i % 5, i);
        struct op_rec r = op(OP_OK, F_GENERATE, value);
        r.value_len = (size_t)n;
        last = history_op(&h, &r);
    }
    cr_assert_eq(history_close(&h), 0);
    size_t len;
    char *file = read_all(path, &len);
    cr_assert_not_null(file);
    cr_expect_leq(len, MAX, "%zu bytes for a budget of %d", len, MAX);
    cr_expect_gt(len, MAX - 400, "stopped at the last line that fitted: %zu", len);
    cr_expect_eq(file[len - 1], '\n', "a whole line");
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += file[i] == '\n';
    cr_expect_eq(lines + h.over_max, LINES, "%zu lines written, %llu counted", lines,
                 (unsigned long long)h.over_max);
    cr_expect_eq(h.index, LINES, "indices go on past the cut");
    cr_expect_eq(last, len, "an op past the cut gets the cut as its offset");
    cr_expect_eq(h.error, 0, "a budget is not an error");
    free(file);
}

Test(history, counting_only_without_a_path)
{
    struct history h;
    cr_assert_eq(history_open(&h, NULL), 0);
    cr_expect_eq(h.fd, -1);
    struct op_rec r = op(OP_INVOKE, F_ECHO, "\"Please echo 1\"");
    uint64_t a = history_op(&h, &r);
    uint64_t b = history_op(&h, &r);
    uint64_t c = history_nemesis(&h, 0, "start-partition", "\"majority\"", 10);
    cr_expect_eq(a, 0);
    cr_expect_gt(b, a);
    cr_expect_gt(c, b);
    cr_expect_eq(h.index, 3);
    cr_expect_eq(history_flush(&h), 0);
    cr_expect_eq(h.error, 0);
    cr_expect_eq(h.lost, 0);
    cr_expect_eq(history_close(&h), 0);
    ASSERT_NO_LEAKS();
}

Test(history, open_reports_an_unwritable_path)
{
    struct history h;
    char bad[600];
    snprintf(bad, sizeof(bad), "%s/no/such/dir/history.jsonl", dir);
    cr_expect_eq(history_open(&h, bad), -ENOENT);
    cr_expect_eq(h.error, ENOENT);
    cr_expect_eq(h.fd, -1);
    struct op_rec r = op(OP_INVOKE, F_ECHO, "null");
    history_op(&h, &r); /* must not crash */
    cr_expect_eq(h.lost, 1);
    history_close(&h);
}

/* ==== A full disk ==== */

Test(history, a_write_error_sets_error_and_counts_lost_lines)
{
    struct history h;
    cr_assert_eq(history_open(&h, "/dev/full"), 0);
    struct op_rec r = op(OP_OK, F_GENERATE, "\"n1-123456789-padding-padding-padding-padding\"");
    uint64_t lines = 0;
    while (h.offset < 3 * (uint64_t)HISTORY_BUF) {
        history_op(&h, &r);
        lines++;
    }
    /* The writer thread meets the error asynchronously: by close it is known, and final. */
    cr_expect_leq(h.lost, lines);
    cr_expect_eq(h.index, lines, "lines keep their indexes");
    cr_expect_eq(history_close(&h), -ENOSPC);
    cr_expect_eq(h.error, ENOSPC, "error %d", h.error);
    cr_expect_eq(h.lost, lines, "every line was lost: %llu of %llu", (unsigned long long)h.lost,
                 (unsigned long long)lines);
    ASSERT_NO_LEAKS();
}

Test(history, every_line_that_never_reached_the_file_counts_as_lost)
{
    /* h->lost is "lines not written because of" the error. On /dev/full no line is written, so
     * after close every line must count, including those buffered when the first write failed. */
    struct history h;
    cr_assert_eq(history_open(&h, "/dev/full"), 0);
    struct op_rec r = op(OP_INVOKE, F_GENERATE, "null");
    for (int i = 0; i < 10; i++)
        history_op(&h, &r);
    cr_expect_eq(history_close(&h), -ENOSPC);
    cr_expect_eq(h.lost, 10, "lost %llu of 10 lines that were never written",
                 (unsigned long long)h.lost);

    cr_assert_eq(history_open(&h, "/dev/full"), 0);
    uint64_t lines = 0;
    while (h.offset < 3 * (uint64_t)HISTORY_BUF) {
        history_op(&h, &r);
        lines++;
    }
    history_close(&h);
    cr_expect_eq(h.lost, lines, "lost %llu of %llu lines that were never written",
                 (unsigned long long)h.lost, (unsigned long long)lines);
}

/* ==== The writer's queue at its maximum ==== */

struct slow_reader {
    struct history *h;
    int fd;
    uint64_t bytes;
    uint64_t lines;
    size_t queued_max;
};

static void *slow_reader_main(void *arg)
{
    struct slow_reader *r = arg;
    /* Do not read until the writer's queue is full: the event loop must then wait, not grow. */
    while ((r->queued_max = history_queued(r->h)) < HISTORY_QUEUE_MAX)
        sched_yield();
    static char chunk[1 << 16];
    ssize_t n;
    while ((n = read(r->fd, chunk, sizeof(chunk))) > 0) {
        r->bytes += (uint64_t)n;
        for (ssize_t i = 0; i < n; i++)
            r->lines += chunk[i] == '\n';
    }
    return NULL;
}

Test(history, a_full_queue_makes_the_loop_wait_and_loses_nothing, .timeout = 120)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    char dev[64];
    snprintf(dev, sizeof(dev), "/proc/self/fd/%d", p[1]);
    struct history h;
    cr_assert_eq(history_open(&h, dev), 0);
    close(p[1]); /* history holds its own descriptor for the pipe now */
    struct slow_reader r = {.h = &h, .fd = p[0]};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, slow_reader_main, &r), 0);
    struct op_rec rec = op(OP_OK, F_GENERATE, "\"n1-0123456789abcdef0123456789abcdef\"");
    uint64_t lines = 0;
    size_t most = 0;
    while (h.offset < (uint64_t)(HISTORY_QUEUE_MAX + 16) * HISTORY_BUF) {
        history_op(&h, &rec);
        lines++;
        size_t b = history_buffers(&h);
        most = b > most ? b : most;
    }
    uint64_t offset = h.offset;
    cr_expect_eq(history_close(&h), 0);
    pthread_join(t, NULL);
    close(p[0]);
    cr_expect_eq(r.queued_max, HISTORY_QUEUE_MAX, "the queue reached its maximum");
    cr_expect_leq(most, HISTORY_QUEUE_MAX + 1, "buffers allocated: %zu", most);
    cr_expect_eq(r.bytes, offset, "every byte reached the file");
    cr_expect_eq(r.lines, lines, "every line reached the file");
    cr_expect_eq(h.lost, 0);
}
