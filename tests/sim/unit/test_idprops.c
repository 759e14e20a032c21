/*
 * test_idprops.c: ID order and shape (idprops.h), on hand-made streams of acknowledged IDs.
 *
 * Integers stand for IDs (their canonical encodings order them as Clojure would). Each test
 * feeds ops in completion order with invoke and completion times and checks the decreases
 * within incarnations, the stray from real-time order across nodes, types and lengths, and
 * what happens at the bound of a line.
 * Depends on: idprops, canon, buf, unitkit.h.
 */
#include "unitkit.h"
#include "canon.h"
#include "idprops.h"
#include "eddy/buf.h"

#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

static const char *const names[] = {"n0", "n1", "n2", "n3"};

/* Feeds one op whose ID is the JSON text `id`. Times in ms. */
static void add(struct idprops *p, const char *id, uint32_t node, uint32_t inc, double invoke_ms,
                double complete_ms)
{
    struct json_val v = scan(id);
    struct buf b;
    buf_init(&b, 1 << 16);
    cr_assert_eq(canon_encode(&v, &b), 0);
    idprops_add(p, (const uint8_t *)buf_peek(&b), buf_len(&b), strlen(id), node, inc,
                (int64_t)(invoke_ms * 1e6), (int64_t)(complete_ms * 1e6));
    buf_fini(&b);
}

static double num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItem(o, a);
    if (b)
        x = cJSON_GetObjectItem(x, b);
    cr_assert(cJSON_IsNumber(x), "%s.%s is not a number", a, b ? b : "");
    return x->valuedouble;
}

Test(idprops, increasing_ids_have_no_decreases)
{
    struct idprops *p = idprops_new(2);
    for (int i = 0; i < 1000; i++) {
        char id[16];
        snprintf(id, sizeof(id), "%d", 100 + 2 * i);
        add(p, id, 0, 0, i, i + 0.5);
        snprintf(id, sizeof(id), "%d", 101 + 2 * i);
        add(p, id, 1, 0, i + 0.2, i + 0.7);
    }
    cJSON *j = idprops_json(p, names);
    cr_assert_eq(num(j, "within-incarnations", "incarnations"), 2);
    cr_assert_eq(num(j, "within-incarnations", "increasing"), 2);
    cr_assert(cJSON_IsTrue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "within-incarnations"), "all-increasing")));
    cr_assert_eq(num(j, "within-incarnations", "decreases"), 0);
    cr_assert_eq(num(j, "across-nodes", "out-of-real-time-order"), 0);
    cr_assert_eq(num(j, "types", "integer"), 2000);
    cr_assert_eq(num(j, "length-bytes", "min"), 3);
    cr_assert_eq(num(j, "length-bytes", "max"), 4);
    cr_assert_eq(num(j, "length-bytes", "median"), 4);
    cJSON_Delete(j);
    idprops_free(p);
    ASSERT_NO_LEAKS();
}

Test(idprops, a_clock_going_back_is_a_decrease_with_its_size)
{
    struct idprops *p = idprops_new(1);
    /* IDs follow a clock in ms; at 100 ms the clock goes back 50 ms. */
    for (int t = 0; t < 100; t++) {
        char id[16];
        snprintf(id, sizeof(id), "%d", 1000 + t);
        add(p, id, 0, 0, t, t + 0.1);
    }
    add(p, "1050", 0, 0, 100, 100.1); /* below 1051..1099, the first of which completed at 51.1 */
    cJSON *j = idprops_json(p, names);
    cr_assert_eq(num(j, "within-incarnations", "decreases"), 1);
    double size = num(j, "within-incarnations", "largest-decrease-ms");
    /* 100 - 51.1 = 48.9 ms, measured in 1 ms buckets from below. */
    cr_assert(size >= 47.9 && size <= 48.9, "decrease of %f ms", size);
    cr_assert_eq(num(j, "within-incarnations", "increasing"), 0);
    cJSON *per =
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "within-incarnations"), "per-incarnation");
    cr_assert_eq(cJSON_GetArraySize(per), 1);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(per, 0), "increasing")));
    cJSON_Delete(j);
    idprops_free(p);
    ASSERT_NO_LEAKS();
}

Test(idprops, concurrent_ops_are_never_compared)
{
    struct idprops *p = idprops_new(1);
    /* Two requests in flight together, answered out of order: not a decrease. */
    add(p, "10", 0, 0, 0, 5);
    add(p, "20", 0, 0, 1, 6);
    add(p, "15", 0, 0, 2, 7); /* invoked before 20 completed */
    add(p, "12", 0, 0, 8, 9); /* invoked after 20 completed: a decrease */
    cJSON *j = idprops_json(p, names);
    cr_assert_eq(num(j, "within-incarnations", "decreases"), 1);
    cr_assert_eq(num(j, "across-nodes", "out-of-real-time-order"), 1);
    cJSON_Delete(j);
    idprops_free(p);
    ASSERT_NO_LEAKS();
}

Test(idprops, each_incarnation_starts_afresh_but_nodes_are_compared)
{
    struct idprops *p = idprops_new(2);
    add(p, "\"n0-5\"", 0, 0, 0, 1);
    add(p, "\"n0-6\"", 0, 0, 2, 3);
    /* A restart: the counter starts again; not a decrease within the new incarnation... */
    add(p, "\"n0-1\"", 0, 1, 10, 11);
    add(p, "\"n0-2\"", 0, 1, 12, 13);
    /* ...but against real time across everything, both are. */
    add(p, "\"n1-1\"", 1, 0, 20, 21); /* "n1-1" > "n0-6" as strings: in order */
    cJSON *j = idprops_json(p, names);
    cr_assert_eq(num(j, "within-incarnations", "incarnations"), 3); /* n0#0, n0#1, n1#0 */
    cr_assert_eq(num(j, "within-incarnations", "decreases"), 0);
    cr_assert_eq(num(j, "across-nodes", "out-of-real-time-order"), 2);
    double stray = num(j, "across-nodes", "largest-stray-ms");
    /* "n0-2" was invoked at 12, 11 ms after "n0-5" completed; 1 ms buckets measure from below. */
    cr_assert(stray >= 10 && stray <= 11, "stray %f ms", stray);
    cr_assert_eq(num(j, "types", "string"), 5);
    cJSON_Delete(j);
    idprops_free(p);
    ASSERT_NO_LEAKS();
}

Test(idprops, a_full_line_is_thinned_and_says_so)
{
    struct idprops *p = idprops_new(1);
    /* One entry per ms for longer than a node's line holds. */
    int n = 3 * IDPROPS_NODE_LINE_MAX;
    for (int t = 0; t < n; t++) {
        char id[16];
        snprintf(id, sizeof(id), "%d", 10 * t);
        add(p, id, 0, 0, t, t + 0.5);
    }
    /* A decrease far back: still found, its size at most the true one. */
    add(p, "5", 0, 0, n, n + 0.5);
    cJSON *j = idprops_json(p, names);
    cr_assert_eq(num(j, "within-incarnations", "decreases"), 1);
    double size = num(j, "within-incarnations", "largest-decrease-ms");
    cr_assert(size > 0 && size <= n, "decrease of %f ms", size);
    cr_assert(cJSON_IsTrue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "within-incarnations"), "lower-bounds")));
    cJSON_Delete(j);
    idprops_free(p);
    ASSERT_NO_LEAKS();
}

Test(idprops, incomparable_ids_are_counted_not_judged)
{
    struct idprops *p = idprops_new(1);
    add(p, "1", 0, 0, 0, 1);
    add(p, "\"a\"", 0, 0, 2, 3);
    cJSON *j = idprops_json(p, names);
    cr_assert_eq(num(j, "within-incarnations", "incomparable"), 1);
    cr_assert_eq(num(j, "within-incarnations", "decreases"), 0);
    cr_assert_eq(num(j, "types", "integer"), 1);
    cr_assert_eq(num(j, "types", "string"), 1);
    cJSON_Delete(j);
    idprops_free(p);
    ASSERT_NO_LEAKS();
}
