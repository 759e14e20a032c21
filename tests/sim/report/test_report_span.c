/*
 * test_report_span.c: fault periods from the fault log, as the plots shade them.
 *
 * Each test feeds a fault log written the way run.c words it ("kill n2 (SIGKILL ...)",
 * "restart n2 (incarnation 1)", "pause n1: down") and checks the spans: which lane, which
 * kind, from when to when, and whether the event was applied.
 * Depends on: report_span.
 */
#include "report_span.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define ASSERT_NO_LEAKS() cr_assert(__lsan_do_recoverable_leak_check() == 0, "memory leaked")
#else
#define ASSERT_NO_LEAKS() ((void)0)
#endif

static const char *const lanes[] = {"n0", "n1", "n2"};
#define SHARED 3

/* The events of the current test: spans borrow their "f" and "detail" strings. */
static cJSON *events;

/* Builds spans from a JSON array of events over the lanes n0..n2, with the axis ending at 10 s. */
static void build(struct span_list *l, const char *events_json)
{
    events = cJSON_Parse(events_json);
    cr_assert_not_null(events, "bad test JSON: %s", events_json);
    span_list_build(l, events, lanes, 3, 10.0);
}

static void teardown(void)
{
    cJSON_Delete(events);
    events = NULL;
}

TestSuite(report_span, .fini = teardown);

static void expect_span(const struct span *s, enum span_kind kind, uint32_t lane, double t0,
                        double t1, bool instant, bool applied, bool open)
{
    cr_expect_eq(s->kind, kind, "kind %s, want %s", span_kind_name(s->kind), span_kind_name(kind));
    cr_expect_eq(s->lane, lane, "lane %u, want %u", s->lane, lane);
    cr_expect_float_eq(s->t0_s, t0, 1e-9, "t0 %f, want %f", s->t0_s, t0);
    cr_expect_float_eq(s->t1_s, t1, 1e-9, "t1 %f, want %f", s->t1_s, t1);
    cr_expect_eq(s->instant, instant);
    cr_expect_eq(s->applied, applied);
    cr_expect_eq(s->open, open);
}

#define EV(t_ns, f, kind, applied, detail)                                                         \
    "{\"time\":" #t_ns ",\"f\":\"" f "\",\"kind\":\"" kind "\",\"applied\":" #applied              \
    ",\"detail\":\"" detail "\"}"

Test(report_span, kill_and_restart_pair_per_node)
{
    struct span_list l;
    build(&l,
          "[" EV(1000000000, "kill", "kill", true, "kill n1 (SIGKILL to its process group)") "," EV(
              1500000000, "kill", "kill", true,
              "kill n2 (SIGKILL to its process group)") "," EV(2000000000, "start", "kill", true,
                                                               "restart n2 (incarnation "
                                                               "1)") "," EV(3000000000, "start",
                                                                            "kill", true,
                                                                            "restart n1 "
                                                                            "(incarnation"
                                                                            " 1)") "]");
    cr_assert_eq(l.len, 2);
    expect_span(&l.v[0], SPAN_KILL, 1, 1.0, 3.0, false, true, false);
    expect_span(&l.v[1], SPAN_KILL, 2, 1.5, 2.0, false, true, false);
    cr_expect_eq(l.kinds, 1u << SPAN_KILL);
    cr_expect_not(l.any_not_applied);
    cr_expect_str_eq(l.v[0].detail, "kill n1 (SIGKILL to its process group)");
    cr_expect_str_eq(l.v[1].f, "kill");
    span_list_fini(&l);
    ASSERT_NO_LEAKS();
}

Test(report_span, a_fault_never_ended_runs_to_the_end)
{
    struct span_list l;
    build(&l, "[" EV(4000000000, "pause", "pause", true, "pause n0 (SIGSTOP)") "]");
    cr_assert_eq(l.len, 1);
    expect_span(&l.v[0], SPAN_PAUSE, 0, 4.0, 10.0, false, true, true);
    span_list_fini(&l);
}

Test(report_span, events_not_applied_are_instants)
{
    struct span_list l;
    build(&l, "[" EV(1000000000, "pause", "pause", false, "pause n1: down") "," EV(
                  2000000000, "kill", "kill", false, "kill n2: already down") "]");
    cr_assert_eq(l.len, 2);
    expect_span(&l.v[0], SPAN_PAUSE, 1, 1.0, 1.0, true, false, false);
    expect_span(&l.v[1], SPAN_KILL, 2, 2.0, 2.0, true, false, false);
    cr_expect(l.any_not_applied);
    span_list_fini(&l);
}

Test(report_span, restart_of_nothing_and_resume_of_nothing_end_nothing)
{
    struct span_list l;
    build(&l,
          "[" EV(1000000000, "pause", "pause", true, "pause n0 (SIGSTOP)") "," EV(
              2000000000, "resume", "pause", true,
              "resume: no node was paused") "," EV(3000000000, "start", "kill", true,
                                                   "start: no node was down") "," EV(5000000000,
                                                                                     "resume",
                                                                                     "pause", true,
                                                                                     "resume "
                                                                                     "n0 "
                                                                                     "(SIGCONT"
                                                                                     ")") "]");
    cr_assert_eq(l.len, 1);
    expect_span(&l.v[0], SPAN_PAUSE, 0, 1.0, 5.0, false, true, false);
    span_list_fini(&l);
}

Test(report_span, partition_covers_every_node_named_and_a_new_one_replaces_it)
{
    struct span_list l;
    build(
        &l,
        "[" EV(
            1000000000, "start-partition", "partition", true,
            "majority: n0 drops n2; n1 drops n2; n2 drops n0 n1") "," EV(2000000000,
                                                                         "start-partition",
                                                                         "partition", true,
                                                                         "one: n0 drops n1; n1 "
                                                                         "drops n0") "," EV(3000000000,
                                                                                            "stop-"
                                                                                            "partit"
                                                                                            "ion",
                                                                                            "partit"
                                                                                            "ion",
                                                                                            true,
                                                                                            "networ"
                                                                                            "k "
                                                                                            "heale"
                                                                                            "d") "]");
    cr_assert_eq(l.len, 5);
    expect_span(&l.v[0], SPAN_PARTITION, 0, 1.0, 2.0, false, true, false);
    expect_span(&l.v[1], SPAN_PARTITION, 1, 1.0, 2.0, false, true, false);
    expect_span(&l.v[2], SPAN_PARTITION, 2, 1.0, 2.0, false, true, false);
    expect_span(&l.v[3], SPAN_PARTITION, 0, 2.0, 3.0, false, true, false);
    expect_span(&l.v[4], SPAN_PARTITION, 1, 2.0, 3.0, false, true, false);
    span_list_fini(&l);
}

Test(report_span, loss_and_duplication_are_network_wide)
{
    struct span_list l;
    build(&l,
          "[" EV(1000000000, "start-loss", "loss", true, "inter-node message loss 43.1%") "," EV(
              1500000000, "start-duplicate", "duplicate", true,
              "duplication 20.0%") "," EV(2000000000, "start-loss", "loss", true,
                                          "inter-node message loss 10.0%") "," EV(3000000000,
                                                                                  "stop-loss",
                                                                                  "loss", true,
                                                                                  "inter-node "
                                                                                  "message loss "
                                                                                  "0.0%") "]");
    cr_assert_eq(l.len, 3);
    expect_span(&l.v[0], SPAN_LOSS, SHARED, 1.0, 2.0, false, true, false);
    expect_span(&l.v[1], SPAN_DUPLICATE, SHARED, 1.5, 10.0, false, true, true);
    expect_span(&l.v[2], SPAN_LOSS, SHARED, 2.0, 3.0, false, true, false);
    span_list_fini(&l);
}

Test(report_span, clock_changes_are_instants_on_their_node_or_on_all)
{
    struct span_list l;
    build(
        &l,
        "[" EV(1000000000, "clock-bump", "clock", true, "clock-bump n2: delta 1.0 ms, period 0.000 ms, rate 1.000; offset now 1.0 ms") "," EV(
            2000000000, "clock-reset", "clock", true, "every clock reset to the real time") "]");
    cr_assert_eq(l.len, 2);
    expect_span(&l.v[0], SPAN_CLOCK, 2, 1.0, 1.0, true, true, false);
    expect_span(&l.v[1], SPAN_CLOCK, SHARED, 2.0, 2.0, true, true, false);
    span_list_fini(&l);
}

Test(report_span, unknown_names_and_kinds_fall_back_to_the_shared_lane)
{
    struct span_list l;
    /* "n10" is not a lane (nor is "n1" a prefix match); a missing kind comes from "f". */
    build(&l, "[" EV(1000000000, "kill", "kill", true,
                     "kill n10 (SIGKILL)") ",{\"time\":2000000000,\"f\":\"pause\",\"applied\":true,"
                                           "\"detail\":\"pause n1\"}"
                                           "," EV(3000000000, "frobnicate", "weather", true,
                                                  "rain on n0") "]");
    cr_assert_eq(l.len, 3);
    expect_span(&l.v[0], SPAN_KILL, SHARED, 1.0, 10.0, false, true, true);
    expect_span(&l.v[1], SPAN_PAUSE, 1, 2.0, 10.0, false, true, true);
    expect_span(&l.v[2], SPAN_OTHER, 0, 3.0, 3.0, true, true, false);
    span_list_fini(&l);
}

Test(report_span, malformed_events_are_skipped_or_read_with_defaults)
{
    struct span_list l;
    build(&l, "[1,\"x\",null,{},{\"f\":\"kill\",\"kind\":\"kill\",\"detail\":\"kill n0\"}]");
    /* {} is an instant of kind "other" at 0; the kill has no time (0) and no "applied". */
    cr_assert_eq(l.len, 2);
    expect_span(&l.v[0], SPAN_OTHER, SHARED, 0, 0, true, true, false);
    expect_span(&l.v[1], SPAN_KILL, 0, 0, 10.0, false, true, true);
    cr_expect_eq(l.v[1].event, 4);
    span_list_fini(&l);
    span_list_build(&l, NULL, lanes, 3, 1.0);
    cr_expect_eq(l.len, 0);
    span_list_fini(&l);
    span_list_fini(NULL);
}

Test(report_span, stops_at_span_max_and_counts_the_rest)
{
    events = cJSON_CreateArray();
    for (int i = 0; i < SPAN_MAX + 10; i++) {
        char e[160];
        snprintf(e, sizeof(e),
                 "{\"time\":%d,\"f\":\"clock-bump\",\"kind\":\"clock\",\"applied\":true,"
                 "\"detail\":\"clock-bump n1: delta\"}",
                 i);
        cJSON_AddItemToArray(events, cJSON_Parse(e));
    }
    struct span_list l;
    span_list_build(&l, events, lanes, 3, 1.0);
    cr_expect_eq(l.len, SPAN_MAX);
    cr_expect_eq(l.dropped, 10);
    span_list_fini(&l);
    ASSERT_NO_LEAKS();
}
