/*
 * test_scenario.c: scenario files (scenario.h): every field, every error message, the fault
 * events, and scenario_resolve's node names and time-limit rules.
 *
 * Every error must read "NAME:LINE:COL: reason" and name the field. The error table gives, for
 * each bad input, the text the error must point at (its first occurrence), so the expected line
 * and column are computed from the input rather than typed by hand, and the field name that the
 * reason must quote.
 * Depends on: scenario, cli, config, nemesis, unitkit.h.
 */
#include "unitkit.h"
#include "cli.h"
#include "eddy/alloc.h"
#include "eddy/util.h"
#include "config.h"
#include "nemesis.h"
#include "scenario.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME "test.json"

struct loaded {
    struct config c;
    int rc;
    char err[512];
};

static void load(struct loaded *l, const char *text)
{
    config_defaults(&l->c);
    l->err[0] = '\0';
    l->rc = scenario_load_text(text, strlen(text), NAME, &l->c, l->err, sizeof(l->err));
}

static void expect_ok(const struct loaded *l)
{
    cr_assert_eq(l->rc, 0, "rc %d: %s", l->rc, l->err);
}

/* Line and column (1-based, in bytes) of `at` in text. */
static void line_col(const char *text, const char *at, unsigned *line, unsigned *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* ==== Every field ==== */

Test(scenario, every_field_sets_the_config)
{
    struct loaded l;
    load(&l, "{\n"
             "  \"name\": \"all\", \"description\": \"d\", \"comment\": \"c\",\n"
             "  \"workload\": \"unique-ids\",\n"
             "  \"bin\": \"/bin/n\\u006fde\",\n"
             "  \"args\": [\"--ids\", \"counter\"],\n"
             "  \"node-count\": 4,\n"
             "  \"time-limit\": 12.5,\n"
             "  \"rate\": \"max\",\n"
             "  \"concurrency\": \"3n\",\n"
             "  \"latency\": 2.5,\n"
             "  \"latency-dist\": \"uniform\",\n"
             "  \"availability\": 0.75,\n"
             "  \"nemesis\": [\"partition\", \"clock\"],\n"
             "  \"nemesis-interval\": 0.25,\n"
             "  \"seed\": 42,\n"
             "  \"partition-shapes\": \"one-way, bridge\",\n"
             "  \"restart-clock\": [\"behind\", \"replay\"],\n"
             "  \"clock-monotonic\": true,\n"
             "  \"log-stderr\": true,\n"
             "  \"checker-memory\": \"64M\",\n"
             "  \"history-max\": \"2G\",\n"
             "  \"expect\": \"invalid\",\n"
             "  \"random\": {\"interval\": 0.5, \"from\": 2, \"until\": 9,\n"
             "             \"weights\": {\"kill\": 2, \"loss\": 0.5}},\n"
             "  \"faults\": []\n"
             "}\n");
    expect_ok(&l);
    struct config *c = &l.c;
    cr_expect_eq(c->workload, WORKLOAD_UNIQUE_IDS);
    cr_expect_str_eq(c->bin, "/bin/node");
    cr_assert_eq(c->node_arg_count, 2);
    cr_expect_str_eq(c->node_args[0], "--ids");
    cr_expect_str_eq(c->node_args[1], "counter");
    cr_assert_eq(c->node_count, 4);
    cr_expect_str_eq(c->node_names[0], "n0");
    cr_expect_str_eq(c->node_names[3], "n3");
    cr_expect_eq(c->time_limit_s, 12.5);
    cr_expect(c->rate_max);
    cr_expect_str_eq(c->concurrency_text, "3n");
    cr_expect_eq(c->latency_ms, 2.5);
    cr_expect_eq(c->latency_dist, LATENCY_UNIFORM);
    cr_expect_eq(c->availability, AVAILABILITY_FRACTION);
    cr_expect_eq(c->availability_min, 0.75);
    cr_expect_eq(c->nemesis, (1u << FAULT_PARTITION) | (1u << FAULT_CLOCK));
    cr_expect_eq(c->nemesis_interval_s, 0.25);
    cr_expect(c->seed_given);
    cr_expect_eq(c->seed, 42);
    cr_expect_eq(c->partition_shapes, (1u << SHAPE_ONE_WAY) | (1u << SHAPE_BRIDGE));
    cr_expect_eq(c->restart_modes, (1u << RESTART_CLOCK_BEHIND) | (1u << RESTART_CLOCK_REPLAY));
    cr_expect(c->clock_monotonic);
    cr_expect(c->log_stderr);
    cr_expect_eq(c->checker_memory, 64u << 20);
    cr_expect_eq(c->history_max, 2ull << 30);
    cr_expect_eq(c->expect, 2);
    cr_expect_eq(c->weighted_interval_s, 0.5);
    cr_expect_eq(c->weighted_from_s, 2);
    cr_expect_eq(c->weighted_until_s, 9);
    cr_expect_eq(c->weights[FAULT_KILL], 2);
    cr_expect_eq(c->weights[FAULT_LOSS], 0.5);
    cr_expect_eq(c->weights[FAULT_PARTITION], 0);
    cr_expect_eq(scenario_events()->len, 0);
    scenario_reset();
    config_fini(c);
}

Test(scenario, alternative_forms_of_values)
{
    struct loaded l;
    load(&l, "{\"workload\": \"echo\", \"nodes\": \"a, b\", \"rate\": 250, \"concurrency\": 7,"
             " \"availability\": \"total\", \"nemesis\": \"kill,pause\", \"expect\": \"valid\","
             " \"latency-dist\": \"exponential\", \"clock-monotonic\": false}");
    expect_ok(&l);
    cr_assert_eq(l.c.node_count, 2);
    cr_expect_str_eq(l.c.node_names[0], "a");
    cr_expect_str_eq(l.c.node_names[1], "b");
    cr_expect_eq(l.c.rate, 250);
    cr_expect(!l.c.rate_max);
    cr_expect_str_eq(l.c.concurrency_text, "7");
    cr_expect_eq(l.c.availability, AVAILABILITY_TOTAL);
    cr_expect_eq(l.c.nemesis, (1u << FAULT_KILL) | (1u << FAULT_PAUSE));
    cr_expect_eq(l.c.expect, 1);
    cr_expect_eq(l.c.latency_dist, LATENCY_EXPONENTIAL);
    cr_expect(!l.c.clock_monotonic);
    config_fini(&l.c);

    load(&l, "{\"nodes\": [\"x\", \"y\", \"z\"], \"node-count\": 2}");
    expect_ok(&l);
    cr_expect_eq(l.c.node_count, 2, "the later field wins");
    cr_expect_str_eq(l.c.node_names[1], "n1");
    config_fini(&l.c);
}

Test(scenario, an_empty_object_changes_nothing)
{
    struct loaded l;
    load(&l, "  {}  \n");
    expect_ok(&l);
    struct config d;
    config_defaults(&d);
    cr_expect_eq(l.c.time_limit_s, d.time_limit_s);
    cr_expect_eq(l.c.rate, d.rate);
    cr_expect_eq(l.c.workload, WORKLOAD_NONE);
    cr_expect_eq(l.c.node_count, 0);
    config_fini(&l.c);
}

/* ==== Fault events ==== */

Test(scenario, fault_events_keep_every_field)
{
    struct loaded l;
    load(&l,
         "{\"faults\": [\n"
         "  {\"at\": 1, \"f\": \"start-partition\", \"shape\": \"majorities-ring\"},\n"
         "  {\"at\": 2, \"f\": \"stop-partition\"},\n"
         "  {\"at\": 3, \"f\": \"clock-strobe\", \"targets\": \"minority\", \"delta-ms\": 50,"
         " \"period-ms\": 4, \"duration\": 2},\n"
         "  {\"at\": 4, \"f\": \"clock-set\", \"nodes\": [\"n1\", \"n3\"], \"offset-ms\": -9},\n"
         "  {\"at\": 5, \"f\": \"clock-drift\", \"targets\": \"all\", \"rate\": 0},\n"
         "  {\"at\": 6, \"f\": \"start-loss\", \"probability\": 0.25},\n"
         "  {\"at\": 7, \"f\": \"start\", \"restart-clock\": \"behind\", \"behind-ms\": 1500},\n"
         "  {\"at\": 8, \"f\": \"start-partition\", \"nodes\": \"n0,n2\"}\n"
         "]}");
    expect_ok(&l);
    struct nemesis_plan *p = scenario_events();
    cr_assert_eq(p->len, 8);
    const struct fault_event *e = p->events;
    cr_expect_eq(e[0].at_s, 1);
    cr_expect_eq(e[0].action, ACT_PARTITION);
    cr_expect_eq(e[0].shape, SHAPE_MAJORITIES_RING);
    cr_expect(e[0].shape_given);
    cr_expect_eq(e[0].line, 2, "events remember their line");
    cr_expect_eq(e[0].column, 3);
    cr_expect_eq(e[1].action, ACT_HEAL);
    cr_expect_eq(e[1].target, TARGET_NONE);
    cr_expect_eq(e[2].action, ACT_CLOCK_STROBE);
    cr_expect_eq(e[2].target, TARGET_MINORITY);
    cr_expect_eq(e[2].delta_ms, 50);
    cr_expect_eq(e[2].period_ms, 4);
    cr_expect_eq(e[2].duration_s, 2);
    cr_expect_eq(e[3].action, ACT_CLOCK_SET);
    cr_expect_eq(e[3].target, TARGET_LIST);
    cr_expect_str_eq(e[3].target_names, "n1,n3");
    cr_expect_eq(e[3].delta_ms, -9, "offset-ms is the set's offset");
    cr_expect_eq(e[4].action, ACT_CLOCK_DRIFT);
    cr_expect_eq(e[4].rate, 0);
    cr_expect_eq(e[4].target, TARGET_ALL);
    cr_expect_eq(e[5].action, ACT_LOSS);
    cr_expect_eq(e[5].probability, 0.25);
    cr_expect_eq(e[6].action, ACT_RESTART);
    cr_expect_eq(e[6].restart, RESTART_CLOCK_BEHIND);
    cr_expect_eq(e[6].behind_ms, 1500);
    cr_expect_eq(e[7].target, TARGET_LIST);
    cr_expect_str_eq(e[7].target_names, "n0,n2");
    for (size_t i = 0; i < p->len; i++)
        cr_expect_eq(e[i].order, i, "insertion order recorded");
    scenario_reset();
    cr_expect_eq(scenario_events()->len, 0);
    config_fini(&l.c);
    ASSERT_NO_LEAKS();
}

Test(scenario, a_new_load_replaces_the_previous_events)
{
    struct loaded l;
    load(&l, "{\"faults\": [{\"at\": 1, \"f\": \"stop-partition\"},"
             " {\"at\": 2, \"f\": \"stop-partition\"}]}");
    expect_ok(&l);
    cr_expect_eq(scenario_events()->len, 2);
    config_fini(&l.c);
    load(&l, "{\"faults\": [{\"at\": 3, \"f\": \"kill\", \"targets\": \"one\"}]}");
    expect_ok(&l);
    cr_assert_eq(scenario_events()->len, 1);
    cr_expect_eq(scenario_events()->events[0].at_s, 3);
    scenario_reset();
    config_fini(&l.c);
    ASSERT_NO_LEAKS();
}

Test(scenario, repeated_event_keys_last_one_wins)
{
    struct loaded l;
    load(&l, "{\"faults\": [{\"at\": 1, \"f\": \"kill\", \"nodes\": [\"n1\"],"
             " \"nodes\": [\"n2\"]}]}");
    expect_ok(&l);
    cr_assert_eq(scenario_events()->len, 1);
    cr_expect_str_eq(scenario_events()->events[0].target_names, "n2");
    scenario_reset();
    config_fini(&l.c);
    ASSERT_NO_LEAKS(); /* the first list's names must not leak */
}

/* ==== Errors: NAME:LINE:COL and the field ==== */

struct bad_case {
    char text[176];  /* the scenario */
    char needle[24]; /* where the error must point: the first occurrence of this text */
    char field[24];  /* the field the reason must name, in quotes */
};

/* The error table; one loop runs it (one process instead of one per case, which keeps the suite
 * fast under ASan). Every failing case is reported with its input. */
static const struct bad_case bad_cases[] = {
    {"{\"workload\": \"lin-kv\"}", "\"lin-kv\"", "workload"},
    {"{\"workload\": true}", "true", "workload"},
    {"{\"bin\": 5}", "5", "bin"},
    {"{\"args\": \"x\"}", "\"x\"", "args"},
    {"{\"args\": [\"a\", 1]}", "1", "args"},
    {"{\"node-count\": 0}", "0", "node-count"},
    {"{\"node-count\": 2.5}", "2.5", "node-count"},
    {"{\"node-count\": \"3\"}", "\"3\"", "node-count"},
    {"{\"node-count\": 4097}", "4097", "node-count"},
    {"{\"nodes\": []}", "[]", "nodes"},
    {"{\"nodes\": [\"a\", \"a\"]}", "\"a\"]", "nodes"},
    {"{\"nodes\": [\"a\", \"\"]}", "\"\"", "nodes"},
    {"{\"nodes\": [1]}", "1", "nodes"},
    {"{\"nodes\": 3}", "3", "nodes"},
    {"{\"rate\": -1}", "-1", "rate"},
    {"{\"rate\": \"fast\"}", "\"fast\"", "rate"},
    {"{\"rate\": true}", "true", "rate"},
    {"{\"concurrency\": \"n\"}", "\"n\"", "concurrency"},
    {"{\"concurrency\": 1.5}", "1.5", "concurrency"},
    {"{\"latency-dist\": \"normal\"}", "\"normal\"", "latency-dist"},
    {"{\"availability\": 2}", "2", "availability"},
    {"{\"availability\": \"most\"}", "\"most\"", "availability"},
    {"{\"time-limit\": 0}", "0", "time-limit"},
    {"{\"time-limit\": \"10\"}", "\"10\"", "time-limit"},
    {"{\"time-limit\": 1e999}", "1e999", "time-limit"},
    {"{\"latency\": -1}", "-1", "latency"},
    {"{\"nemesis\": \"partition,flood\"}", "\"partition", "nemesis"},
    {"{\"nemesis\": [\"partition\", \"flood\"]}", "\"flood\"", "nemesis"},
    {"{\"nemesis\": 5}", "5", "nemesis"},
    {"{\"nemesis-interval\": 0}", "0", "nemesis-interval"},
    {"{\"seed\": -1}", "-1", "seed"},
    {"{\"seed\": 1.5}", "1.5", "seed"},
    {"{\"seed\": 1e20}", "1e20", "seed"},
    {"{\"partition-shapes\": [\"ring\"]}", "\"ring\"", "partition-shapes"},
    {"{\"restart-clock\": [\"later\"]}", "\"later\"", "restart-clock"},
    {"{\"clock-monotonic\": 1}", "1", "clock-monotonic"},
    {"{\"log-stderr\": \"yes\"}", "\"yes\"", "log-stderr"},
    {"{\"expect\": \"maybe\"}", "\"maybe\"", "expect"},
    {"{\"checker-memory\": \"1M\"}", "\"1M\"", "checker-memory"},
    {"{\"checker-memory\": \"lots\"}", "\"lots\"", "checker-memory"},
    {"{\"history-max\": \"-1\"}", "\"-1\"", "history-max"},
    {"{\"name\": 5}", "5", "name"},
    {"{\"time_limit\": 10}", "\"time_limit\"", "time_limit"},
    {"{\"rate\": 5,\n \"Rate\": 6}", "\"Rate\"", "Rate"},
    {"{\"faults\": {}}", "{}", "faults"},
    {"{\"random\": []}", "[]", "random"},
    {"{\"random\": {\"weights\": {\"flood\": 1}}}", "\"flood\"", "weights"},
    {"{\"random\": {\"weights\": {\"clock\": -1}}}", "-1", "weights"},
    {"{\"random\": {\"weights\": {\"clock\": 0}}}", "{\"weights\"", "weights"},
    {"{\"random\": {\"weights\": {\"clock\": \"1\"}}}", "\"1\"", "weights"},
    {"{\"random\": {\"interval\": 0, \"weights\": {\"clock\": 1}}}", "0,", "interval"},
    {"{\"random\": {\"from\": \"x\", \"weights\": {\"clock\": 1}}}", "\"x\"", "from"},
    {"{\"random\": {\"until\": \"x\", \"weights\": {\"clock\": 1}}}", "\"x\"", "until"},
    {"{\"random\": {\"bogus\": 1}}", "\"bogus\"", "bogus"},
    {"{\"random\": {\"weights\": 3}}", "3", "weights"},
    /* Fault events. */
    {"{\"faults\": [\n  {\"f\": \"kill\", \"targets\": \"one\"}\n]}", "{\"f\"", "at"},
    {"{\"faults\": [{\"at\": -1, \"f\": \"kill\", \"targets\": \"one\"}]}", "-1", "at"},
    {"{\"faults\": [{\"at\": \"1\", \"f\": \"kill\"}]}", "\"1\"", "at"},
    {"{\"faults\": [\n\n    {\"at\": 1}]}", "{\"at\"", "f"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"explode\"}]}", "\"explode\"", "f"},
    {"{\"faults\": [{\"at\": 1, \"f\": 5}]}", "5}", "f"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"kill\"}]}", "{\"at\"", "targets"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"pause\"}]}", "{\"at\"", "targets"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"clock-bump\", \"delta-ms\": 5}]}", "{\"at\"", "targets"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"kill\", \"targets\": \"some\"}]}", "\"some\"", "targets"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"start-partition\"}]}", "{\"at\"", "shape"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"start-partition\", \"shape\": \"ring\"}]}", "\"ring\"",
     "shape"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"clock-strobe\", \"targets\": \"all\"}]}", "{\"at\"",
     "period-ms"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"clock-strobe\", \"targets\": \"all\", "
     "\"period-ms\": 0}]}",
     "0}", "period-ms"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"clock-bump\", \"targets\": \"all\", "
     "\"delta-ms\": 1e300}]}",
     "1e300", "delta-ms"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"clock-set\", \"targets\": \"all\", "
     "\"offset-ms\": -9.1e12}]}",
     "-9.1e12", "offset-ms"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"clock-strobe\", \"targets\": \"all\", "
     "\"delta-ms\": 1, \"period-ms\": 1e19}]}",
     "1e19", "period-ms"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"start\", \"restart-clock\": \"behind\", "
     "\"behind-ms\": 1e300}]}",
     "1e300", "behind-ms"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"start-loss\"}]}", "{\"at\"", "probability"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"start-duplicate\"}]}", "{\"at\"", "probability"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"start-loss\", \"probability\": 2}]}", "2}", "probability"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"clock-drift\", \"targets\": \"one\", \"rate\": "
     "2000}]}",
     "2000", "rate"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"start\", \"restart-clock\": \"behind\"}]}", "{\"at\"",
     "behind-ms"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"start\", \"behind-ms\": -1}]}", "-1", "behind-ms"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"start\", \"restart-clock\": \"later\"}]}", "\"later\"",
     "restart-clock"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"kill\", \"targets\": \"one\", \"colour\": 1}]}",
     "\"colour\"", "colour"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"kill\", \"nodes\": []}]}", "[]", "nodes"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"kill\", \"nodes\": [\"n1\", \"n1\"]}]}", "\"n1\"]",
     "nodes"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"kill\", \"nodes\": 1}]}", "1}", "nodes"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"clock-bump\", \"targets\": \"one\", \"delta-ms\": "
     "\"x\"}]}",
     "\"x\"", "delta-ms"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"clock-set\", \"targets\": \"one\", \"offset-ms\": "
     "\"x\"}]}",
     "\"x\"", "offset-ms"},
    {"{\"faults\": [{\"at\": 1, \"f\": \"clock-strobe\", \"targets\": \"one\", "
     "\"duration\": \"x\"}]}",
     "\"x\"", "duration"},
};

/* Loads one bad case and checks its message. */
static void expect_error(const struct bad_case *b)
{
    struct loaded l;
    load(&l, b->text);
    cr_expect_eq(l.rc, -EINVAL, "accepted: %s", b->text);
    const char *at = strstr(b->text, b->needle);
    cr_assert(at != NULL, "bad test case: '%s' not in %s", b->needle, b->text);
    unsigned line, col;
    line_col(b->text, at, &line, &col);
    char want[64];
    snprintf(want, sizeof(want), NAME ":%u:%u: ", line, col);
    cr_expect(strncmp(l.err, want, strlen(want)) == 0, "%s\n  error \"%s\"\n  should start \"%s\"",
              b->text, l.err, want);
    char quoted[32];
    snprintf(quoted, sizeof(quoted), "\"%s\"", b->field);
    cr_expect(strstr(l.err, quoted) != NULL, "%s\n  error \"%s\" does not name %s", b->text, l.err,
              quoted);
    cr_expect(strchr(l.err, '\n') == NULL, "one line: \"%s\"", l.err);
    scenario_reset();
    config_fini(&l.c);
}

Test(scenario, every_error_has_its_position_and_names_the_field)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
        expect_error(&bad_cases[i]);
}

Test(scenario, a_fault_that_is_not_an_object_is_refused)
{
    /* parse_event() returns before it initialises the event, and parse_faults() then frees the
     * event's (uninitialised) target_names. */
    struct loaded l;
    load(&l, "{\"faults\": [1]}");
    cr_expect_eq(l.rc, -EINVAL);
    cr_expect(strncmp(l.err, NAME ":1:13: ", strlen(NAME ":1:13: ")) == 0, "error: %s", l.err);
    cr_expect(strstr(l.err, "\"faults\"") != NULL, "error: %s", l.err);
    config_fini(&l.c);
    load(&l, "{\"faults\": [{\"at\": 1, \"f\": \"stop-partition\"}, \"kill\"]}");
    cr_expect_eq(l.rc, -EINVAL);
    scenario_reset();
    config_fini(&l.c);
}

Test(scenario, the_nodes_field_leaks_nothing)
{
    struct loaded l;
    load(&l, "{\"nodes\": [\"a\", \"b\"]}");
    expect_ok(&l);
    cr_expect_eq(l.c.node_count, 2);
    config_fini(&l.c);
    ASSERT_NO_LEAKS(); /* the empty list that replaced the old names must be freed too */
}

Test(scenario, description_and_comment_errors_name_their_own_field)
{
    /* "name", "description" and "comment" share one check, whose message always says "name". */
    struct loaded l;
    load(&l, "{\"description\": 5}");
    cr_assert_eq(l.rc, -EINVAL);
    cr_expect(strstr(l.err, "\"description\"") != NULL, "error \"%s\" does not name description",
              l.err);
    config_fini(&l.c);
    load(&l, "{\"comment\": [\"a\"]}");
    cr_assert_eq(l.rc, -EINVAL);
    cr_expect(strstr(l.err, "\"comment\"") != NULL, "error \"%s\" does not name comment", l.err);
    config_fini(&l.c);
}

Test(scenario, bad_json_reports_where)
{
    struct loaded l;
    load(&l, "{\n  \"rate\": 5,\n  \"time-limit\": }\n");
    cr_assert_eq(l.rc, -EINVAL);
    cr_expect(strncmp(l.err, NAME ":3:17: not valid JSON", strlen(NAME ":3:17: not valid JSON")) ==
                  0,
              "error: %s", l.err);
    config_fini(&l.c);

    load(&l, "{\"rate\": 5,}");
    cr_assert_eq(l.rc, -EINVAL);
    cr_expect(strncmp(l.err, NAME ":1:", strlen(NAME ":1:")) == 0, "error: %s", l.err);
    cr_expect(strstr(l.err, "not valid JSON") != NULL, "error: %s", l.err);
    config_fini(&l.c);

    load(&l, "");
    cr_expect_eq(l.rc, -EINVAL);
    cr_expect(strncmp(l.err, NAME ":1:1: ", strlen(NAME ":1:1: ")) == 0, "error: %s", l.err);
    config_fini(&l.c);

    load(&l, "{\"rate\": 5} {}");
    cr_expect_eq(l.rc, -EINVAL, "text after the object is refused");
    cr_expect(strncmp(l.err, NAME ":1:", strlen(NAME ":1:")) == 0, "error: %s", l.err);
    config_fini(&l.c);
}

Test(scenario, a_scenario_must_be_an_object)
{
    struct loaded l;
    load(&l, "\n  [1, 2]");
    cr_assert_eq(l.rc, -EINVAL);
    cr_expect(strncmp(l.err, NAME ":2:3: ", strlen(NAME ":2:3: ")) == 0, "error: %s", l.err);
    cr_expect(strstr(l.err, "object") != NULL, "error: %s", l.err);
    config_fini(&l.c);
}

Test(scenario, seed_above_two_to_the_53_is_refused_not_rounded)
{
    /* 2^53 + 1 reads as the double 2^53, so the check "up to 2^53" passes and the run would use
     * a different seed than the file says. */
    struct loaded l;
    load(&l, "{\"seed\": 9007199254740993}");
    cr_expect(l.rc == -EINVAL || l.c.seed == UINT64_C(9007199254740993),
              "rc %d, seed %llu: the file's seed was silently changed", l.rc,
              (unsigned long long)l.c.seed);
    config_fini(&l.c);
    load(&l, "{\"seed\": 9007199254740992}");
    expect_ok(&l);
    cr_expect_eq(l.c.seed, UINT64_C(9007199254740992));
    config_fini(&l.c);
}

/* ==== scenario_resolve ==== */

static struct config resolved_config(uint32_t nodes, double time_limit_s)
{
    struct config c;
    config_defaults(&c);
    config_set_node_count(&c, nodes);
    c.time_limit_s = time_limit_s;
    return c;
}

Test(scenario, resolve_turns_node_names_into_indices)
{
    struct loaded l;
    load(&l, "{\"nodes\": [\"alpha\", \"beta\", \"gamma\"], \"faults\": [\n"
             "  {\"at\": 1, \"f\": \"kill\", \"nodes\": [\"gamma\", \"alpha\"]},\n"
             "  {\"at\": 2, \"f\": \"start\"},\n"
             "  {\"at\": 3, \"f\": \"start-partition\", \"nodes\": \"beta\"}\n"
             "]}");
    expect_ok(&l);
    char err[256] = "";
    cr_assert_eq(scenario_resolve(&l.c, err, sizeof(err)), 0, "%s", err);
    struct nemesis_plan *p = scenario_events();
    cr_assert_eq(p->len, 3);
    cr_assert_eq(p->events[0].node_count, 2);
    cr_expect_eq(p->events[0].nodes[0], 2);
    cr_expect_eq(p->events[0].nodes[1], 0);
    cr_expect_eq(p->events[1].node_count, 0);
    cr_assert_eq(p->events[2].node_count, 1);
    cr_expect_eq(p->events[2].nodes[0], 1);
    scenario_reset();
    config_fini(&l.c);
}

Test(scenario, resolve_refuses_an_unknown_node)
{
    struct loaded l;
    load(&l, "{\"node-count\": 3, \"faults\": [\n"
             "  {\"at\": 1, \"f\": \"kill\", \"nodes\": [\"n1\"]},\n"
             "  {\"at\": 2, \"f\": \"pause\", \"nodes\": [\"n0\", \"n3\"]},\n"
             "  {\"at\": 3, \"f\": \"kill\", \"nodes\": [\"n2\"]}\n"
             "]}");
    expect_ok(&l);
    char err[256] = "";
    cr_expect_eq(scenario_resolve(&l.c, err, sizeof(err)), -EINVAL);
    cr_expect(strstr(err, "'n3'") != NULL, "error names the node: %s", err);
    cr_expect(strncmp(err, NAME ":3:3: ", strlen(NAME ":3:3: ")) == 0,
              "error names the event's position: %s", err);
    scenario_reset();
    config_fini(&l.c);
    ASSERT_NO_LEAKS(); /* the events after the bad one must be freed too */
}

Test(scenario, resolve_refuses_a_target_spec_that_picks_no_node)
{
    struct loaded l;
    load(&l, "{\"node-count\": 3, \"faults\": [\n"
             "  {\"at\": 1, \"f\": \"kill\", \"targets\": \"majority\"},\n"
             "   {\"at\": 2, \"f\": \"clock-reset\", \"targets\": \"minority-third\"}\n"
             "]}");
    expect_ok(&l);
    char err[256] = "";
    cr_expect_eq(scenario_resolve(&l.c, err, sizeof(err)), -EINVAL);
    cr_expect(strncmp(err, NAME ":3:4: ", strlen(NAME ":3:4: ")) == 0, "position: %s", err);
    cr_expect(strstr(err, "minority-third") && strstr(err, "among 3"), "reason: %s", err);
    scenario_reset();
    config_fini(&l.c);

    /* The same spec on four nodes picks one, and resolve leaves specs to the planner. */
    load(&l, "{\"node-count\": 4, \"faults\": [\n"
             "  {\"at\": 1, \"f\": \"kill\", \"targets\": \"minority-third\"},\n"
             "  {\"at\": 2, \"f\": \"start\"}\n"
             "]}");
    expect_ok(&l);
    cr_assert_eq(scenario_resolve(&l.c, err, sizeof(err)), 0, "%s", err);
    struct nemesis_plan *p = scenario_events();
    cr_assert_eq(p->len, 2);
    cr_expect_eq(p->events[0].target, TARGET_MINORITY_THIRD);
    cr_expect_eq(p->events[0].timeline, 1, "1 + the index in \"faults\"");
    cr_expect_eq(p->events[1].timeline, 2);
    scenario_reset();
    config_fini(&l.c);
    ASSERT_NO_LEAKS();
}

Test(scenario, resolve_refuses_events_after_the_scenarios_own_limit)
{
    struct loaded l;
    load(&l, "{\"time-limit\": 10, \"faults\": [\n"
             "  {\"at\": 10, \"f\": \"stop-partition\"},\n"
             "  {\"at\": 10.5, \"f\": \"stop-partition\"}\n"
             "]}");
    expect_ok(&l);
    char err[256] = "";
    cr_expect_eq(scenario_resolve(&l.c, err, sizeof(err)), -EINVAL);
    cr_expect(strncmp(err, NAME ":3:3: ", strlen(NAME ":3:3: ")) == 0, "error names the event: %s",
              err);
    cr_expect(strstr(err, "time limit") != NULL, "error: %s", err);
    scenario_reset();
    config_fini(&l.c);

    /* Without "time-limit" the scenario's limit is the default, 60 s. */
    load(&l, "{\"faults\": [{\"at\": 61, \"f\": \"stop-partition\"}]}");
    expect_ok(&l);
    cr_expect_eq(scenario_resolve(&l.c, err, sizeof(err)), -EINVAL);
    scenario_reset();
    config_fini(&l.c);
}

Test(scenario, resolve_keeps_an_event_at_the_limit)
{
    struct loaded l;
    load(&l, "{\"time-limit\": 10, \"faults\": [{\"at\": 10, \"f\": \"stop-partition\"}]}");
    expect_ok(&l);
    char err[256] = "";
    cr_expect_eq(scenario_resolve(&l.c, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(scenario_events()->len, 1);
    scenario_reset();
    config_fini(&l.c);
}

Test(scenario, a_shorter_time_limit_drops_later_events)
{
    struct loaded l;
    load(&l, "{\"time-limit\": 30, \"node-count\": 3, \"faults\": [\n"
             "  {\"at\": 1, \"f\": \"kill\", \"nodes\": [\"n0\"]},\n"
             "  {\"at\": 12, \"f\": \"kill\", \"nodes\": [\"n1\"]},\n"
             "  {\"at\": 5, \"f\": \"kill\", \"nodes\": [\"n2\"]},\n"
             "  {\"at\": 25, \"f\": \"start\"}\n"
             "]}");
    expect_ok(&l);
    struct config c = resolved_config(3, 10); /* as --time-limit 10 leaves it */
    char err[256] = "";
    cr_assert_eq(scenario_resolve(&c, err, sizeof(err)), 0, "%s", err);
    struct nemesis_plan *p = scenario_events();
    cr_assert_eq(p->len, 2);
    cr_expect_eq(p->events[0].at_s, 1);
    cr_expect_eq(p->events[0].nodes[0], 0);
    cr_expect_eq(p->events[1].at_s, 5);
    cr_expect_eq(p->events[1].nodes[0], 2);
    scenario_reset();
    config_fini(&c);
    config_fini(&l.c);
    ASSERT_NO_LEAKS();
}

Test(scenario, a_longer_time_limit_keeps_every_event)
{
    struct loaded l;
    load(&l, "{\"time-limit\": 10, \"faults\": [{\"at\": 9, \"f\": \"stop-partition\"}]}");
    expect_ok(&l);
    struct config c = resolved_config(5, 100);
    char err[256] = "";
    cr_expect_eq(scenario_resolve(&c, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(scenario_events()->len, 1);
    scenario_reset();
    config_fini(&c);
    config_fini(&l.c);
}

Test(scenario, resolve_error_after_a_dropped_event_leaves_no_dangling_pointer)
{
    /* The first event would be dropped by --time-limit 3; the second is past the scenario's own
     * limit, so resolve fails. Whatever resolve leaves in the plan must be owned exactly once:
     * scenario_reset() frees it all, with no double free (glibc aborts) and no leak. */
    struct loaded l;
    load(&l, "{\"time-limit\": 10, \"node-count\": 2, \"faults\": [\n"
             "  {\"at\": 5, \"f\": \"kill\", \"nodes\": [\"n1\"]},\n"
             "  {\"at\": 20, \"f\": \"start\"}\n"
             "]}");
    expect_ok(&l);
    struct config c = resolved_config(2, 3);
    char err[256] = "";
    cr_expect_eq(scenario_resolve(&c, err, sizeof(err)), -EINVAL);
    cr_expect(strstr(err, NAME ":3:3: ") != NULL, "error names the late event: %s", err);
    /* The checks come before any change, so the plan is left whole. */
    cr_expect_eq(scenario_events()->len, 2);
    scenario_reset();
    config_fini(&c);
    config_fini(&l.c);
    ASSERT_NO_LEAKS();
}

/* ==== Cost: linear in the file ==== */

/* A text buffer that fills up to the scenario size limit: text_add refuses what would leave
 * less than 256 bytes, which text_close then uses to close the JSON. */
struct text {
    char *p;
    size_t len;
};

EDDY_PRINTF(2, 3) static bool text_add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->p + t->len, SCENARIO_FILE_MAX - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n + 256 >= SCENARIO_FILE_MAX - t->len)
        return false;
    t->len += (size_t)n;
    return true;
}

static void text_close(struct text *t, const char *end)
{
    size_t n = strlen(end);
    cr_assert_lt(t->len + n, SCENARIO_FILE_MAX);
    memcpy(t->p + t->len, end, n);
    t->len += n;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Loads and resolves the text; the CPU seconds it took. */
static double load_and_resolve(const char *what, struct text *t)
{
    double t0 = cpu_s();
    struct config c;
    config_defaults(&c);
    char err[512] = "";
    int rc = scenario_load_text(t->p, t->len, NAME, &c, err, sizeof(err));
    cr_expect_eq(rc, 0, "%s: %s", what, err);
    if (rc == 0)
        cr_expect_eq(scenario_resolve(&c, err, sizeof(err)), 0, "%s: %s", what, err);
    double spent = cpu_s() - t0;
    scenario_reset();
    config_fini(&c);
    return spent;
}

/* Files at the size limit, each shaped to make a per-item rescan or a per-item list scan cost
 * quadratic time: a position counted from the start of the file for every event, node lists
 * checked for repeats and looked up name by name, a "node-count" that builds 4,096 names each
 * time it appears. Linear parsing takes a few tens of milliseconds for each; the bound is
 * generous (sanitizers, a loaded machine) and only catches the quadratic cost, which takes
 * seconds. */
Test(scenario, parsing_is_linear_in_the_file, .timeout = 120)
{
    struct text t = {.p = xmalloc(SCENARIO_FILE_MAX)};
    const double bound_s = 1.0;

    t.len = 0;
    text_add(&t, "{\"node-count\": 5, \"time-limit\": 60, \"faults\": [\n");
    for (unsigned i = 0;; i++)
        if (!text_add(&t, "{\"at\": %u.%03u, \"f\": \"kill\", \"nodes\": [\"n%u\"]},\n", i / 1000,
                      i % 1000, i % 5))
            break;
    text_close(&t, "{\"at\": 0, \"f\": \"start\"}]}");
    double spent = load_and_resolve("events", &t);
    cr_expect_lt(spent, bound_s, "%zu bytes of events: %.3f s of CPU", t.len, spent);

    /* 4,096 nodes named in reverse, and lists of all of them. */
    t.len = 0;
    text_add(&t, "{\"nodes\": [");
    for (unsigned i = 0; i < NODES_MAX; i++)
        text_add(&t, "%s\"n%u\"", i ? "," : "", NODES_MAX - 1 - i);
    text_add(&t, "], \"faults\": [\n");
    for (bool more = true; more;) {
        size_t at = t.len;
        more = text_add(&t, "{\"at\": 1, \"f\": \"pause\", \"nodes\": [");
        for (unsigned i = 0; more && i < NODES_MAX; i++)
            more = text_add(&t, "%s\"n%u\"", i ? "," : "", i);
        more = more && text_add(&t, "]},\n");
        if (!more)
            t.len = at;
    }
    text_close(&t, "{\"at\": 2, \"f\": \"resume\"}]}");
    spent = load_and_resolve("node lists", &t);
    cr_expect_lt(spent, bound_s, "%zu bytes of node lists: %.3f s of CPU", t.len, spent);

    t.len = 0;
    text_add(&t, "{");
    while (text_add(&t, "\"node-count\": 4096, "))
        ;
    text_close(&t, "\"workload\": \"echo\"}");
    spent = load_and_resolve("node-count", &t);
    cr_expect_lt(spent, bound_s, "%zu bytes of node-count: %.3f s of CPU", t.len, spent);

    free(t.p);
}

Test(scenario, clock_amounts_up_to_the_nanosecond_range_are_kept)
{
    struct loaded l;
    load(&l, "{\"faults\": [{\"at\": 1, \"f\": \"clock-bump\", \"targets\": \"all\", "
             "\"delta-ms\": -9e12}]}");
    expect_ok(&l);
    cr_expect_eq(scenario_events()->events[0].delta_ms, -9e12);
    cr_expect_lt(fabs(SCENARIO_CLOCK_MS_MAX * 1e6), 9.2233e18, "converts to int64 nanoseconds");
    config_fini(&l.c);
    scenario_reset();
}

Test(scenario, the_later_of_nodes_and_node_count_wins)
{
    struct loaded l;
    load(&l, "{\"node-count\": 2, \"nodes\": [\"a\", \"b\", \"c\"]}");
    expect_ok(&l);
    cr_assert_eq(l.c.node_count, 3);
    cr_expect_str_eq(l.c.node_names[2], "c");
    config_fini(&l.c);
    load(&l, "{\"nodes\": [\"a\", \"b\", \"c\"], \"node-count\": 2, \"node-count\": 4}");
    expect_ok(&l);
    cr_assert_eq(l.c.node_count, 4);
    cr_expect_str_eq(l.c.node_names[3], "n3");
    config_fini(&l.c);
    scenario_reset();
}

/* ==== Files ==== */

Test(scenario, load_file_reads_and_names_the_file)
{
    char dir[256], path[512];
    tmp_dir_make(dir, sizeof(dir));
    write_file(dir, "ok.json", "{\"rate\": 9, \"bin\": \"./b\"}", path, sizeof(path));
    struct config c;
    config_defaults(&c);
    char err[512] = "";
    cr_expect_eq(scenario_load_file(path, &c, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(c.rate, 9);
    cr_expect_str_eq(c.bin, "./b", "strings outlive the file's text");

    write_file(dir, "bad.json", "{\n\"rate\": -2}", path, sizeof(path));
    cr_expect_eq(scenario_load_file(path, &c, err, sizeof(err)), -EINVAL);
    char want[600];
    snprintf(want, sizeof(want), "%s:2:9: ", path);
    cr_expect(strncmp(err, want, strlen(want)) == 0, "error \"%s\", want prefix \"%s\"", err, want);

    cr_expect_lt(scenario_load_file(dir, &c, err, sizeof(err)), 0, "a directory");
    cr_expect(strstr(err, dir) != NULL, "error names the path: %s", err);

    snprintf(path, sizeof(path), "%s/missing.json", dir);
    cr_expect_eq(scenario_load_file(path, &c, err, sizeof(err)), -ENOENT);
    cr_expect(strstr(err, "missing.json") != NULL, "error names the file: %s", err);

    char *big = malloc(SCENARIO_FILE_MAX + 16);
    memset(big, ' ', SCENARIO_FILE_MAX + 15);
    big[0] = '{';
    big[SCENARIO_FILE_MAX + 14] = '}';
    big[SCENARIO_FILE_MAX + 15] = '\0';
    write_file(dir, "big.json", big, path, sizeof(path));
    free(big);
    cr_expect_eq(scenario_load_file(path, &c, err, sizeof(err)), -EINVAL, "over the size limit");
    cr_expect(strstr(err, "big.json") != NULL, "error names the file: %s", err);

    scenario_reset();
    config_fini(&c);
    tmp_dir_remove(dir);
}

Test(scenario, shipped_scenarios_load_and_resolve)
{
    static const char names[][32] = {"chaos.json",
                                     "clock-skew.json",
                                     "fly-io-challenge-1.json",
                                     "fly-io-challenge-2.json",
                                     "kill-restart.json",
                                     "partitions.json",
                                     "pause.json",
                                     "restart-into-the-past.json"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/scenarios/%s", EDDY_SOURCE_DIR, names[i]);
        if (access(path, R_OK) != 0)
            continue; /* scenarios come and go; the ones present must load */
        struct config c;
        config_defaults(&c);
        char err[512] = "";
        cr_expect_eq(scenario_load_file(path, &c, err, sizeof(err)), 0, "%s: %s", names[i], err);
        if (c.node_count == 0)
            config_set_node_count(&c, 5);
        cr_expect_eq(scenario_resolve(&c, err, sizeof(err)), 0, "%s: %s", names[i], err);
        scenario_reset();
        config_fini(&c);
    }
}
