/*
 * fuzz_scenario.c: scenario files, from bytes to a fault plan.
 *
 * The input is the content of a scenario file. scenario_load_text must accept it, or refuse it
 * with a "fuzz.json:LINE:COL: reason" message. An accepted scenario is resolved against its
 * node list (n0..n4 when it names none): every event left must fall within the time limit and
 * name only existing nodes, each once, and at least one when it names them. The random schedule
 * is then planned as a run plans it (skipped when it would hold more than PLAN_EVENTS_MAX
 * events, to keep each input fast) and must come out sorted, with at least one node for every
 * timeline event that acts on nodes. Everything is freed after each input; LeakSanitizer
 * reports what is not.
 * Known bugs, reported and not yet fixed, may be tolerated only where FUZZ_TOLERATE_KNOWN_BUGS is
 * defined (the libFuzzer build, so that a run can look for new ones); test_fuzz_regressions
 * does not define it and fails on their reproducers until the fix lands. Delete the tolerance
 * with the fix.
 * Depends on: scenario, config, cli, nemesis, grudge, fuzzkit.h.
 */
#include "fuzzkit.h"
#include "config.h"
#include "grudge.h"
#include "nemesis.h"
#include "scenario.h"

#include <stdbool.h>
#include <string.h>

#define PLAN_EVENTS_MAX 20000.0 /* expected events above which the random plan is skipped */
#define DEFAULT_NODES 5

static void check_events(const struct nemesis_plan *p, const struct config *c)
{
    FUZZ_CHECK(p->len <= NEMESIS_EVENTS_MAX, "%zu events", p->len);
    uint8_t *seen = calloc(c->node_count, 1);
    FUZZ_CHECK(seen, "out of memory");
    for (size_t i = 0; i < p->len; i++) {
        const struct fault_event *e = &p->events[i];
        FUZZ_CHECK(e->action < ACT_COUNT, "event %zu: action %d", i, (int)e->action);
        FUZZ_CHECK(e->at_s >= 0 && e->at_s <= c->time_limit_s,
                   "event %zu (line %u) at %g s, time limit %g s", i, e->line, e->at_s,
                   c->time_limit_s);
        FUZZ_CHECK(e->node_count <= c->node_count, "event %zu: %u of %u nodes", i, e->node_count,
                   c->node_count);
        bool repeated = false;
        for (uint32_t j = 0; j < e->node_count; j++) {
            FUZZ_CHECK(e->nodes[j] < c->node_count, "event %zu: node %u of %u", i, e->nodes[j],
                       c->node_count);
            repeated |= seen[e->nodes[j]];
            seen[e->nodes[j]] = 1;
        }
        for (uint32_t j = 0; j < e->node_count; j++)
            seen[e->nodes[j]] = 0;
        FUZZ_CHECK(e->target != TARGET_LIST || e->node_count > 0,
                   "event %zu (line %u) names nodes (\"%s\") but resolved to none", i, e->line,
                   e->target_names ? e->target_names : "");
        FUZZ_CHECK(!repeated, "event %zu (line %u) names a node twice (\"%s\")", i, e->line,
                   e->target_names ? e->target_names : "");
    }
    free(seen);
}

/* The expected size of the random schedules: each stream's gaps average its interval. */
static double plan_size(const struct config *c)
{
    double n = 0;
    if (c->nemesis)
        n += (double)__builtin_popcount(c->nemesis) * c->time_limit_s / c->nemesis_interval_s;
    double total = 0;
    for (int k = 0; k < FAULT_KIND_COUNT; k++)
        total += c->weights[k] > 0 ? c->weights[k] : 0;
    if (total > 0) {
        double until = c->weighted_until_s > 0 ? c->weighted_until_s : c->time_limit_s;
        double every = c->weighted_interval_s > 0 ? c->weighted_interval_s : c->nemesis_interval_s;
        n += (until - c->weighted_from_s) / every;
    }
    return n;
}

/* Plans the run's faults with the run's own nemesis_plan_build(), then checks the plan. */
static void check_plan(const struct config *c)
{
    if (!(plan_size(c) <= PLAN_EVENTS_MAX))
        return;
    const struct nemesis_plan *scenario = scenario_events();
    struct nemesis_plan p;
    nemesis_plan_build(&p, scenario, c, c->node_count);
    for (size_t i = 0; i + 1 < p.len; i++)
        FUZZ_CHECK(p.events[i].at_s <= p.events[i + 1].at_s, "plan not sorted at %zu", i);
    for (size_t i = 0; i < p.len; i++) {
        const struct fault_event *e = &p.events[i];
        for (uint32_t j = 0; j < e->node_count; j++)
            FUZZ_CHECK(e->nodes[j] < c->node_count, "planned event %zu: node %u of %u", i,
                       e->nodes[j], c->node_count);
        /* A timeline event that acts on nodes must have some: resolve refuses a spec that
         * picks none, and the planner draws the rest. */
        FUZZ_CHECK(!e->timeline || !fault_action_targeted(e->action) || e->node_count > 0,
                   "timeline event %u (line %u, %s, targets %s) planned with no node",
                   e->timeline - 1, e->line, fault_action_name(e->action),
                   target_spec_name(e->target));
    }
    nemesis_plan_fini(&p);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    struct config c;
    char err[512] = "";
    config_defaults(&c);
    int rc = scenario_load_text((const char *)data, size, "fuzz.json", &c, err, sizeof(err));
    if (rc < 0) {
        FUZZ_CHECK(strncmp(err, "fuzz.json:", 10) == 0, "load failed (%d) with: %s", rc, err);
    } else {
        FUZZ_CHECK(rc == 0, "load gave %d", rc);
        if (c.node_count == 0)
            config_set_node_count(&c, DEFAULT_NODES);
        err[0] = '\0';
        rc = scenario_resolve(&c, err, sizeof(err));
        FUZZ_CHECK(rc == 0 || (rc < 0 && err[0]), "resolve failed (%d) without a reason", rc);
        if (rc == 0) {
            check_events(scenario_events(), &c);
            check_plan(&c);
        }
    }
    scenario_reset();
    config_fini(&c);
    return 0;
}
