/*
 * test_diagnose.c: the classes of duplicated IDs and their causes (diagnose.h), on hand-made
 * histories: the ops that returned each duplicated ID, the clocks the nodes had, and how each
 * incarnation started.
 *
 * Each history is built the way a broken ID scheme produces it (a racing counter, a clock that
 * goes back or freezes, a counter lost on restart, a restart into the past, a missing or
 * truncated node id, random IDs colliding), and the test checks the class, the exact counts of
 * IDs and pairs, the nodes involved, the example and the cause chosen.
 * Depends on: diagnose, nemesis, unitkit.h.
 */
#include "unitkit.h"
#include "diagnose.h"

#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

/* ==== A hand-made world: clocks per node, starts per incarnation ==== */

#define MAX_SEGS 8

struct seg {
    int64_t from_ns; /* the segment holds from this test time on */
    int64_t offset_ns;
    double rate; /* the fake clock's speed from from_ns */
    const char *faults;
};

struct world {
    struct seg segs[8][MAX_SEGS];
    unsigned nsegs[8];
    struct diag_start starts[8][4];
};

static struct world W;
static const char *const names[] = {"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7"};

static void clock_at(void *ctx, uint32_t node, int64_t t, bool describe, struct diag_clock *out)
{
    struct world *w = ctx;
    memset(out, 0, sizeof(*out));
    out->rate = 1.0;
    for (unsigned i = 0; i < w->nsegs[node]; i++) {
        const struct seg *s = &w->segs[node][i];
        if (s->from_ns > t)
            break;
        out->controlled = true;
        out->rate = s->rate;
        /* The offset grows by (rate - 1) per real ns since the segment began. */
        out->offset_ns = s->offset_ns + (int64_t)((s->rate - 1.0) * (double)(t - s->from_ns));
        if (describe)
            snprintf(out->faults, sizeof(out->faults), "%s", s->faults);
    }
}

static void start_of(void *ctx, uint32_t node, uint32_t inc, struct diag_start *out)
{
    struct world *w = ctx;
    *out = inc < 4 ? w->starts[node][inc] : (struct diag_start){0};
}

static void clock_seg(uint32_t node, double from_s, double offset_ms, double rate,
                      const char *faults)
{
    W.segs[node][W.nsegs[node]++] =
        (struct seg){(int64_t)(from_s * 1e9), (int64_t)(offset_ms * 1e6), rate, faults};
}

static void restart(uint32_t node, uint32_t inc, double at_s, enum restart_clock mode)
{
    W.starts[node][inc] = (struct diag_start){.restart = true,
                                              .time_ns = (int64_t)(at_s * 1e9),
                                              .mode = mode,
                                              .behind_ms = mode == RESTART_CLOCK_BEHIND ? 2000 : 0,
                                              .clock_applied = true};
}

static struct diag *new_diag(uint32_t nodes, uint64_t acknowledged)
{
    memset(&W, 0, sizeof(W));
    return diag_new(&(struct diag_env){.node_count = nodes,
                                       .node_names = names,
                                       .acknowledged = acknowledged,
                                       .clock_at = clock_at,
                                       .start_of = start_of,
                                       .ctx = &W});
}

static struct diag_op op(uint32_t node, uint32_t inc, double t_s)
{
    static uint32_t client;
    client++;
    return (struct diag_op){.node = node,
                            .incarnation = inc,
                            .client = client,
                            .process = client * 3,
                            .time_ns = (int64_t)(t_s * 1e9),
                            .known = true};
}

static const struct diag_finding *only(struct diag *d, enum diag_class want)
{
    const struct diag_finding *f;
    size_t n = diag_finish(d, &f);
    cr_assert_eq(n, 1, "expected one class, got %zu", n);
    cr_assert_eq(f[0].cls, want, "class %s, expected %s", diag_class_name(f[0].cls),
                 diag_class_name(want));
    return &f[0];
}

/* ==== within-process ==== */

Test(diagnose, racing_counter_is_within_process_a_moment_apart)
{
    struct diag *d = new_diag(3, 1000);
    /* A counter read twice before it was advanced: two requests 0.4 ms apart. */
    for (int i = 0; i < 5; i++) {
        struct diag_op ops[] = {op(1, 0, 1.0 + i * 0.1), op(1, 0, 1.0004 + i * 0.1)};
        char id[16];
        snprintf(id, sizeof(id), "%d", 40 + i);
        diag_add_id(d, id, ops, 2);
    }
    const struct diag_finding *f = only(d, DIAG_WITHIN_PROCESS);
    cr_assert_eq(f->ids, 5);
    cr_assert_eq(f->pairs, 5);
    cr_assert_eq(f->reason, DIAG_R_MOMENT);
    cr_assert_eq(f->involved_len, 1);
    cr_assert_eq(f->involved[0].node_a, 1);
    cr_assert_eq(f->involved[0].inc_a, 0);
    cr_assert_eq(f->involved[0].pairs, 5);
    cr_assert_str_eq(f->id, "40");
    cr_assert_eq(f->a.time_ns, 1000000000);
    cr_assert_eq(f->b.time_ns, 1000400000);
    cr_assert(strstr(f->cause, "a moment apart"), "cause: %s", f->cause);
    diag_free(d);
    ASSERT_NO_LEAKS();
}

Test(diagnose, clock_going_back_is_within_process_with_the_jump)
{
    struct diag *d = new_diag(3, 1000);
    /* n2's clock jumps back 5 s at t = 2: at t = 3 it reads what it read at t = -1 + ... */
    clock_seg(2, 2.0, -5000, 1.0, "clock-bump -5000 ms at 2.000 s");
    struct diag_op ops[] = {op(2, 0, 3.0), op(2, 0, 1.0)};
    diag_add_id(d, "\"t-1000\"", ops, 2);
    const struct diag_finding *f = only(d, DIAG_WITHIN_PROCESS);
    cr_assert_eq(f->reason, DIAG_R_CLOCK_BACK);
    /* a is the earlier op, whatever order they came in. */
    cr_assert_eq(f->a.time_ns, 1000000000);
    cr_assert_eq(f->clock_a.offset_ns, 0);
    cr_assert_eq(f->clock_b.offset_ns, -5000000000);
    cr_assert_str_eq(f->clock_b.faults, "clock-bump -5000 ms at 2.000 s");
    cr_assert(strstr(f->cause, "clock went back (by 5000 ms)"), "cause: %s", f->cause);
    cJSON *j = diag_finding_json(d, f);
    char *text = cJSON_PrintUnformatted(j);
    cr_assert(strstr(text, "\"class\":\"within-process\""), "%s", text);
    cr_assert(strstr(text, "\"clock-offset-ms\":-5000"), "%s", text);
    cr_assert(strstr(text, "\"clock-faults\":\"clock-bump -5000 ms at 2.000 s\""), "%s", text);
    cr_assert(strstr(text, "\"dominant\":\"clock-went-back\""), "%s", text);
    cJSON_free(text);
    cJSON_Delete(j);
    diag_free(d);
    ASSERT_NO_LEAKS();
}

Test(diagnose, frozen_clock_is_within_process_clock_stood_still)
{
    struct diag *d = new_diag(3, 1000);
    clock_seg(0, 3.5, 0, 0.0, "clock-drift rate 0 at 3.500 s");
    struct diag_op ops[] = {op(0, 0, 3.6), op(0, 0, 3.9)};
    diag_add_id(d, "1795460121", ops, 2);
    const struct diag_finding *f = only(d, DIAG_WITHIN_PROCESS);
    cr_assert_eq(f->reason, DIAG_R_CLOCK_STILL);
    cr_assert_eq(f->clock_b.rate, 0.0);
    cr_assert(strstr(f->cause, "stood still"), "cause: %s", f->cause);
    char text[2048];
    diag_finding_text(d, f, text, sizeof(text));
    cr_assert(strstr(text, "frozen"), "%s", text);
    diag_free(d);
    ASSERT_NO_LEAKS();
}

Test(diagnose, wrapped_counter_is_within_process_far_apart)
{
    struct diag *d = new_diag(2, 100);
    struct diag_op ops[] = {op(0, 0, 0.5), op(0, 0, 6.5)};
    diag_add_id(d, "7", ops, 2);
    const struct diag_finding *f = only(d, DIAG_WITHIN_PROCESS);
    cr_assert_eq(f->reason, DIAG_R_FAR);
    cr_assert(strstr(f->cause, "wrapped"), "cause: %s", f->cause);
    diag_free(d);
    ASSERT_NO_LEAKS();
}

/* ==== across-restarts ==== */

Test(diagnose, counter_lost_on_restart_is_across_restarts_state_lost)
{
    struct diag *d = new_diag(5, 10000);
    restart(4, 1, 5.7, RESTART_CLOCK_NOW);
    for (int i = 1; i <= 3; i++) {
        struct diag_op ops[] = {op(4, 0, 0.0006 * i), op(4, 1, 5.7063 + 0.0001 * i)};
        char id[16];
        snprintf(id, sizeof(id), "\"n4-%d\"", i);
        diag_add_id(d, id, ops, 2);
    }
    const struct diag_finding *f = only(d, DIAG_ACROSS_RESTARTS);
    cr_assert_eq(f->ids, 3);
    cr_assert_eq(f->reason, DIAG_R_STATE_LOST);
    cr_assert_eq(f->involved[0].node_a, 4);
    cr_assert_eq(f->involved[0].inc_a, 0);
    cr_assert_eq(f->involved[0].inc_b, 1);
    cr_assert(f->start_b.restart);
    cr_assert(!f->start_a.restart);
    cr_assert(strstr(f->cause, "State lost on restart"), "cause: %s", f->cause);
    char text[2048];
    diag_finding_text(d, f, text, sizeof(text));
    cr_assert(strstr(text, "across-restarts: 3 IDs (n4#0/#1)"), "%s", text);
    cr_assert(strstr(text, "n4#1"), "%s", text);
    diag_free(d);
    ASSERT_NO_LEAKS();
}

Test(diagnose, replayed_restart_clock_is_across_restarts_into_the_past)
{
    struct diag *d = new_diag(5, 10000);
    restart(2, 1, 2.7, RESTART_CLOCK_REPLAY);
    /* The new process starts with the clock its predecessor started with: 2.7 s back. */
    clock_seg(2, 2.7, -2700, 1.0, "");
    struct diag_op ops[] = {op(2, 0, 0.2), op(2, 1, 2.9)};
    diag_add_id(d, "\"n2-1795460121-3\"", ops, 2);
    const struct diag_finding *f = only(d, DIAG_ACROSS_RESTARTS);
    cr_assert_eq(f->reason, DIAG_R_RESTART_PAST);
    cr_assert_eq(f->start_b.mode, RESTART_CLOCK_REPLAY);
    cr_assert(strstr(f->cause, "replay"), "cause: %s", f->cause);
    cJSON *j = diag_finding_json(d, f);
    char *text = cJSON_PrintUnformatted(j);
    cr_assert(strstr(text, "\"restart-clock\":\"replay\""), "%s", text);
    cJSON_free(text);
    cJSON_Delete(j);
    diag_free(d);
    ASSERT_NO_LEAKS();
}

Test(diagnose, restart_without_clock_control_is_state_lost_not_past)
{
    struct diag *d = new_diag(3, 10000);
    restart(1, 1, 1.7, RESTART_CLOCK_REPLAY);
    W.starts[1][1].clock_applied = false; /* e.g. a static binary: the replay never happened */
    struct diag_op ops[] = {op(1, 0, 0.2), op(1, 1, 1.9)};
    diag_add_id(d, "3", ops, 2);
    const struct diag_finding *f = only(d, DIAG_ACROSS_RESTARTS);
    cr_assert_eq(f->reason, DIAG_R_STATE_LOST);
    diag_free(d);
    ASSERT_NO_LEAKS();
}

/* ==== across-nodes ==== */

Test(diagnose, counter_on_two_nodes_is_across_nodes_without_node_id)
{
    struct diag *d = new_diag(2, 2000);
    for (int i = 1; i <= 100; i++) {
        struct diag_op ops[] = {op(0, 0, 0.001 * i), op(1, 0, 0.001 * i + 0.0002)};
        char id[16];
        snprintf(id, sizeof(id), "%d", i);
        diag_add_id(d, id, ops, 2);
    }
    const struct diag_finding *f = only(d, DIAG_ACROSS_NODES);
    cr_assert_eq(f->ids, 100);
    cr_assert_eq(f->pairs, 100);
    cr_assert_eq(f->reason, DIAG_R_NO_NODE_ID);
    cr_assert_eq(f->node_bits, 0);
    cr_assert_eq(f->involved_len, 1);
    cr_assert_eq(f->involved[0].node_a, 0);
    cr_assert_eq(f->involved[0].node_b, 1);
    cr_assert(strstr(f->cause, "node id is not in the ID"), "cause: %s", f->cause);
    diag_free(d);
    ASSERT_NO_LEAKS();
}

Test(diagnose, two_node_bits_of_five_nodes_collide_n0_with_n4)
{
    struct diag *d = new_diag(5, 100000);
    for (int i = 0; i < 300; i++) {
        struct diag_op ops[] = {op(0, 0, 0.01 * i), op(4, 0, 0.01 * i + 0.0001)};
        char id[24];
        snprintf(id, sizeof(id), "\"%d\"", 1000 + i);
        diag_add_id(d, id, ops, 2);
    }
    const struct diag_finding *f = only(d, DIAG_ACROSS_NODES);
    cr_assert_eq(f->ids, 300);
    cr_assert_eq(f->node_bits, 2);
    cr_assert(strstr(f->cause, "low 2 bits (n0 & n4)"), "cause: %s", f->cause);
    diag_free(d);
    ASSERT_NO_LEAKS();
}

Test(diagnose, rare_far_collisions_are_random_ids)
{
    struct diag *d = new_diag(5, 1000000);
    struct diag_op a[] = {op(0, 0, 1.0), op(3, 0, 7.5)};
    struct diag_op b[] = {op(2, 0, 2.0), op(1, 0, 9.0)};
    diag_add_id(d, "3141592653", a, 2);
    diag_add_id(d, "2718281828", b, 2);
    const struct diag_finding *f = only(d, DIAG_ACROSS_NODES);
    cr_assert_eq(f->reason, DIAG_R_RARE);
    cr_assert_eq(f->involved_len, 2);
    cr_assert(strstr(f->cause, "birthday"), "cause: %s", f->cause);
    diag_free(d);
    ASSERT_NO_LEAKS();
}

/* ==== Counting and ordering ==== */

Test(diagnose, pair_counts_are_exact_and_classes_sorted_largest_first)
{
    struct diag *d = new_diag(3, 1000);
    restart(0, 1, 1.0, RESTART_CLOCK_NOW);
    /* n0#0 x3, n0#1 x2, n1#0 x4: within 3+1+6 = 10, restarts 5*4/2-4 = 6, nodes 36-10-6 = 20. */
    struct diag_op ops[9];
    int k = 0;
    for (int i = 0; i < 3; i++)
        ops[k++] = op(0, 0, 0.1 + i * 0.01);
    for (int i = 0; i < 2; i++)
        ops[k++] = op(0, 1, 1.5 + i * 0.01);
    for (int i = 0; i < 4; i++)
        ops[k++] = op(1, 0, 0.2 + i * 0.3);
    diag_add_id(d, "5", ops, 9);
    /* Two more IDs across nodes only, one with an op whose details were lost. */
    struct diag_op more[] = {op(1, 0, 2.0), op(2, 0, 2.1), op(2, 0, 2.2)};
    more[2].known = false;
    diag_add_id(d, "6", more, 3);
    struct diag_op more2[] = {op(2, 0, 3.0), op(1, 0, 3.1)};
    diag_add_id(d, "8", more2, 2);
    /* And one with a single known op: not classified. */
    struct diag_op lone[] = {op(2, 0, 4.0), op(1, 0, 4.1)};
    lone[0].known = false;
    diag_add_id(d, "9", lone, 2);
    const struct diag_finding *f;
    size_t n = diag_finish(d, &f);
    cr_assert_eq(n, 3);
    cr_assert_eq(f[0].cls, DIAG_ACROSS_NODES);
    cr_assert_eq(f[0].ids, 3);
    cr_assert_eq(f[0].pairs, 22);
    cr_assert_eq(f[1].cls, DIAG_WITHIN_PROCESS); /* 1 ID, 10 pairs */
    cr_assert_eq(f[1].pairs, 10);
    cr_assert_eq(f[2].cls, DIAG_ACROSS_RESTARTS); /* 1 ID, 6 pairs */
    cr_assert_eq(f[2].pairs, 6);
    cr_assert_eq(f[2].involved[0].pairs, 6);
    /* n0 & n1 collide in 20 pairs of "5", 2 of the others are n1 & n2. */
    cr_assert_eq(f[0].involved[0].node_a, 0);
    cr_assert_eq(f[0].involved[0].node_b, 1);
    cr_assert_eq(f[0].involved[0].pairs, 20);
    cr_assert_eq(f[0].involved[1].pairs, 2);
    cJSON *j = diag_finding_json(d, &f[0]);
    cJSON *ev = cJSON_GetObjectItem(j, "evidence");
    cr_assert_eq(cJSON_GetObjectItem(ev, "ids-not-classified")->valuedouble, 1);
    cr_assert(cJSON_IsArray(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "example"), "ops")));
    cr_assert_str_eq(cJSON_GetObjectItem(j, "class")->valuestring, "across-nodes");
    cr_assert_eq(cJSON_GetObjectItem(j, "count")->valuedouble, 3);
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(j, "cause")));
    cJSON_Delete(j);
    diag_free(d);
    ASSERT_NO_LEAKS();
}

Test(diagnose, an_id_returned_by_every_op_is_counted_without_enumerating_pairs)
{
    /* 200,000 ops of one ID on 3 nodes: 2e10 pairs, counted from group sizes. */
    struct diag *d = new_diag(3, 200000);
    size_t n = 200000;
    struct diag_op *ops = malloc(n * sizeof(*ops));
    for (size_t i = 0; i < n; i++)
        ops[i] = op((uint32_t)(i % 3), 0, (double)i * 1e-5);
    diag_add_id(d, "0", ops, n);
    const struct diag_finding *f;
    size_t k = diag_finish(d, &f);
    cr_assert_eq(k, 2);
    uint64_t within = 0, total = (uint64_t)n * (n - 1) / 2;
    for (uint32_t node = 0; node < 3; node++) {
        uint64_t m = n / 3 + (node < n % 3);
        within += m * (m - 1) / 2;
    }
    cr_assert_eq(f[0].pairs + f[1].pairs, total);
    cr_assert_eq(f[0].cls == DIAG_WITHIN_PROCESS ? f[0].pairs : f[1].pairs, within);
    free(ops);
    diag_free(d);
    ASSERT_NO_LEAKS();
}

Test(diagnose, a_long_id_is_truncated_in_the_example)
{
    struct diag *d = new_diag(2, 10);
    char id[400];
    memset(id, 'x', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    struct diag_op ops[] = {op(0, 0, 1.0), op(1, 0, 1.0)};
    diag_add_id(d, id, ops, 2);
    const struct diag_finding *f = only(d, DIAG_ACROSS_NODES);
    cr_assert_lt(strlen(f->id), sizeof(f->id));
    cr_assert(strstr(f->id, "..."));
    diag_free(d);
    ASSERT_NO_LEAKS();
}

Test(diagnose, one_plain_restart_that_repeats_ids_makes_it_state_lost)
{
    /* node-counter under chaos: restarts into the past repeat IDs, but so does one restart with
     * the clock as it was: the clock is not needed, the counter is what was lost. */
    struct diag *d = new_diag(5, 100000);
    restart(1, 1, 1.7, RESTART_CLOCK_NOW);
    restart(2, 1, 2.7, RESTART_CLOCK_REPLAY);
    clock_seg(2, 2.7, -2700, 1.0, "");
    for (int i = 0; i < 50; i++) {
        struct diag_op ops[] = {op(2, 0, 0.01 * i), op(2, 1, 2.8 + 0.01 * i)};
        char id[24];
        snprintf(id, sizeof(id), "\"n2-%d\"", i);
        diag_add_id(d, id, ops, 2);
    }
    struct diag_op ops[] = {op(1, 0, 0.5), op(1, 1, 1.8)};
    diag_add_id(d, "\"n1-9\"", ops, 2);
    const struct diag_finding *f = only(d, DIAG_ACROSS_RESTARTS);
    cr_assert_eq(f->reasons[DIAG_R_RESTART_PAST], 50);
    cr_assert_eq(f->reasons[DIAG_R_STATE_LOST], 1);
    cr_assert_eq(f->reason, DIAG_R_STATE_LOST);
    /* The example shows the plain restart. */
    cr_assert_eq(f->b.node, 1);
    cr_assert_eq(f->start_b.mode, RESTART_CLOCK_NOW);
    cr_assert(strstr(f->cause, "restarts into the past did the same"), "cause: %s", f->cause);
    diag_free(d);
    ASSERT_NO_LEAKS();
}

Test(diagnose, other_evidence_is_mentioned_with_its_count)
{
    struct diag *d = new_diag(1, 100);
    clock_seg(0, 5.0, -3000, 1.0, "clock-bump -3000 ms at 5.000 s");
    for (int i = 0; i < 9; i++) {
        struct diag_op ops[] = {op(0, 0, 0.1 * i), op(0, 0, 0.1 * i + 0.0001)};
        char id[16];
        snprintf(id, sizeof(id), "%d", i);
        diag_add_id(d, id, ops, 2);
    }
    struct diag_op back[] = {op(0, 0, 2.5), op(0, 0, 5.5)};
    diag_add_id(d, "99", back, 2);
    const struct diag_finding *f = only(d, DIAG_WITHIN_PROCESS);
    cr_assert_eq(f->reason, DIAG_R_MOMENT);
    cr_assert(strstr(f->cause, "Also: 1 of 10 pairs examined after the clock went back."),
              "cause: %s", f->cause);
    diag_free(d);
    ASSERT_NO_LEAKS();
}
