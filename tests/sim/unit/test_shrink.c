/*
 * test_shrink.c: the pure part of `eddy shrink` (shrink.h): fault units, ddmin, and the
 * explicit scenario a candidate is written as.
 *
 * Units are built from hand-made plans; ddmin runs against predicates whose culprits are known
 * (one unit, two units that only fail together), counting its tests; the scenario is read back
 * by the scenario parser, as `eddy test --scenario` reads it.
 * Depends on: shrink, nemesis, scenario, cli, unitkit.h.
 */
#include "unitkit.h"
#include "scenario.h"
#include "shrink.h"
#include "eddy/alloc.h"

#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

static void add(struct nemesis_plan *p, double at, enum fault_action a, int node)
{
    struct fault_event e = {.at_s = at, .action = a, .target = TARGET_NONE};
    if (node >= 0) {
        e.nodes = xmalloc(sizeof(uint32_t));
        e.nodes[0] = (uint32_t)node;
        e.node_count = 1;
        e.target = TARGET_LIST;
    }
    e.order = (uint32_t)p->len;
    cr_assert(nemesis_plan_add(p, &e));
}

/* ==== Units ==== */

Test(shrink, faults_pair_with_the_events_that_end_them)
{
    struct nemesis_plan p;
    nemesis_plan_init(&p);
    add(&p, 1, ACT_PARTITION, 0);  /* 0 */
    add(&p, 2, ACT_HEAL, -1);      /* 1 */
    add(&p, 3, ACT_KILL, 1);       /* 2 */
    add(&p, 4, ACT_RESTART, -1);   /* 3 */
    add(&p, 5, ACT_CLOCK_BUMP, 2); /* 4 */
    add(&p, 6, ACT_PAUSE, 0);      /* 5 */
    add(&p, 7, ACT_RESUME, -1);    /* 6 */
    add(&p, 8, ACT_LOSS_STOP, -1); /* 7: ends nothing */
    struct shrink_units u;
    shrink_units_build(&u, &p);
    cr_assert_eq(u.len, 4);
    size_t want_start[] = {0, 2, 4, 5}, want_stop[] = {1, 3, SIZE_MAX, 6};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(u.start[i], want_start[i], "unit %zu", i);
        cr_assert_eq(u.stop[i], want_stop[i], "unit %zu", i);
    }
    size_t units[] = {2, 1}, ev[8];
    size_t n = shrink_units_events(&u, units, 2, p.len, ev);
    cr_assert_eq(n, 3);
    cr_assert(ev[0] == 2 && ev[1] == 3 && ev[2] == 4);
    shrink_units_fini(&u);
    nemesis_plan_fini(&p);
    ASSERT_NO_LEAKS();
}

Test(shrink, an_end_shared_by_two_faults_stays_while_either_does)
{
    struct nemesis_plan p;
    nemesis_plan_init(&p);
    add(&p, 1, ACT_KILL, 0);
    add(&p, 2, ACT_KILL, 1);
    add(&p, 3, ACT_RESTART, -1); /* restarts both */
    struct shrink_units u;
    shrink_units_build(&u, &p);
    cr_assert_eq(u.len, 2);
    size_t one[] = {1}, ev[3];
    size_t n = shrink_units_events(&u, one, 1, p.len, ev);
    cr_assert_eq(n, 2);
    cr_assert(ev[0] == 1 && ev[1] == 2);
    size_t both[] = {0, 1};
    cr_assert_eq(shrink_units_events(&u, both, 2, p.len, ev), 3);
    cr_assert_eq(shrink_units_events(&u, NULL, 0, p.len, ev), 0);
    shrink_units_fini(&u);
    nemesis_plan_fini(&p);
    ASSERT_NO_LEAKS();
}

/* ==== ddmin ==== */

struct culprits {
    size_t want[4];
    size_t nwant;
    int tests;
    int stop_after; /* -1 after that many tests; 0 = never */
};

static int fails_if_all_present(void *ctx, const size_t *units, size_t n)
{
    struct culprits *c = ctx;
    c->tests++;
    if (c->stop_after && c->tests > c->stop_after)
        return -1;
    for (size_t w = 0; w < c->nwant; w++) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = units[i] == c->want[w];
        if (!found)
            return 0;
    }
    return 1;
}

Test(shrink, ddmin_finds_one_culprit_among_forty_in_few_tests)
{
    size_t units[40];
    for (size_t i = 0; i < 40; i++)
        units[i] = i;
    struct culprits c = {.want = {17}, .nwant = 1};
    size_t n = 40;
    cr_assert_eq(shrink_ddmin(units, &n, fails_if_all_present, &c), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(units[0], 17);
    /* Halving: two tests per level at most, six levels. */
    cr_assert_leq(c.tests, 12, "%d tests", c.tests);
}

Test(shrink, ddmin_keeps_two_units_that_fail_only_together)
{
    size_t units[32];
    for (size_t i = 0; i < 32; i++)
        units[i] = i;
    struct culprits c = {.want = {3, 30}, .nwant = 2};
    size_t n = 32;
    cr_assert_eq(shrink_ddmin(units, &n, fails_if_all_present, &c), 0);
    cr_assert_eq(n, 2);
    cr_assert((units[0] == 3 && units[1] == 30) || (units[0] == 30 && units[1] == 3));
}

Test(shrink, ddmin_stops_when_told_and_keeps_what_it_found)
{
    size_t units[16];
    for (size_t i = 0; i < 16; i++)
        units[i] = i;
    struct culprits c = {.want = {9}, .nwant = 1, .stop_after = 2};
    size_t n = 16;
    cr_assert_eq(shrink_ddmin(units, &n, fails_if_all_present, &c), -1);
    bool has = false;
    for (size_t i = 0; i < n; i++)
        has |= units[i] == 9;
    cr_assert(has && n < 16, "a smaller failing set, culprit kept: n %zu", n);
}

/* ==== Scenarios ==== */

Test(shrink, the_scenario_reads_back_as_eddy_test_reads_it)
{
    struct config c;
    config_defaults(&c);
    c.workload = WORKLOAD_UNIQUE_IDS;
    c.bin = "/bin/true";
    c.node_args[0] = "--ids";
    c.node_args[1] = "counter";
    c.node_arg_count = 2;
    config_set_node_count(&c, 5);
    c.time_limit_s = 30;
    c.rate = 20000;
    snprintf(c.concurrency_text, sizeof(c.concurrency_text), "10n");
    c.seed = 12345;
    c.seed_given = true;
    struct nemesis_plan p;
    nemesis_plan_init(&p);
    add(&p, 1.5, ACT_KILL, 2);
    add(&p, 1.7, ACT_RESTART, -1);
    p.events[1].restart = RESTART_CLOCK_BEHIND;
    p.events[1].behind_ms = 2000;
    add(&p, 2.0, ACT_CLOCK_STROBE, 1);
    p.events[2].delta_ms = -200;
    p.events[2].period_ms = 50;
    add(&p, 9.0, ACT_CLOCK_BUMP, 0); /* past the cut time limit below: left out */
    struct shrink_knobs k;
    shrink_knobs_of(&c, &k);
    k.time_limit_s = 3.2;
    k.node_count = 3;
    k.rate = 500;
    snprintf(k.concurrency, sizeof(k.concurrency), "2n");
    size_t ev[] = {0, 1, 2, 3};
    cJSON *j = shrink_scenario(&c, "/bin/true", &k, &p, ev, 4, "test");
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);

    struct config r;
    config_defaults(&r);
    char err[512];
    int rc = scenario_load_text(text, strlen(text), "minimal.json", &r, err, sizeof(err));
    cr_assert_eq(rc, 0, "%s\n%s", err, text);
    cr_assert_eq(scenario_resolve(&r, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(r.node_count, 3);
    cr_assert_eq(r.time_limit_s, 3.2);
    cr_assert_eq(r.rate, 500);
    cr_assert_str_eq(r.concurrency_text, "2n");
    cr_assert_eq(r.seed, 12345);
    cr_assert_eq(r.node_arg_count, 2);
    cr_assert_str_eq(r.node_args[1], "counter");
    cr_assert_eq(r.nemesis, 0, "no random schedule");
    const struct nemesis_plan *back = scenario_events();
    cr_assert_eq(back->len, 3);
    cr_assert_eq(back->events[0].action, ACT_KILL);
    cr_assert_eq(back->events[0].nodes[0], 2);
    cr_assert_eq(back->events[1].restart, RESTART_CLOCK_BEHIND);
    cr_assert_eq(back->events[1].behind_ms, 2000);
    cr_assert_eq(back->events[2].period_ms, 50);
    cr_assert_eq(back->events[2].delta_ms, -200);
    cr_assert_eq(shrink_nodes_needed(&p, ev, 3), 3);
    cJSON_free(text);
    scenario_reset();
    config_fini(&r);
    config_fini(&c);
    nemesis_plan_fini(&p);
    ASSERT_NO_LEAKS();
}
