/*
 * nemesis.h: when each fault starts and stops, decided before the run begins.
 *
 * Pure and seeded: nemesis_plan() turns the configuration (fault kinds, interval, scenario
 * timeline and weighted random schedules) into a sorted list of events with their targets and
 * parameters already drawn, so the same seed gives the same fault schedule whatever the nodes
 * do. The runner (run.c) applies events as their time comes and records what it actually did.
 * Random schedules follow Maelstrom's nemesis: for each fault kind an alternating start/stop
 * stream whose gaps are uniform in [0, 2 x interval), the first start at time 0. Clock faults
 * are a stream of Jepsen's clock operations (bump, strobe, reset, and eddy's drift) on random
 * nodes, with Jepsen's magnitudes.
 * Depends on: grudge, prng, config. Used by: run, scenario.
 */
#ifndef EDDY_SIM_NEMESIS_H
#define EDDY_SIM_NEMESIS_H

#include "config.h"
#include "grudge.h"
#include "eddy/prng.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NEMESIS_EVENTS_MAX 100000u

#define FAULT_ACTION_MAP(XX)                                                                       \
    XX(PARTITION, "start-partition", FAULT_PARTITION)                                              \
    XX(HEAL, "stop-partition", FAULT_PARTITION)                                                    \
    XX(CLOCK_BUMP, "clock-bump", FAULT_CLOCK)                                                      \
    XX(CLOCK_STROBE, "clock-strobe", FAULT_CLOCK)                                                  \
    XX(CLOCK_DRIFT, "clock-drift", FAULT_CLOCK)                                                    \
    XX(CLOCK_SET, "clock-set", FAULT_CLOCK)                                                        \
    XX(CLOCK_RESET, "clock-reset", FAULT_CLOCK)                                                    \
    XX(KILL, "kill", FAULT_KILL)                                                                   \
    XX(RESTART, "start", FAULT_KILL)                                                               \
    XX(PAUSE, "pause", FAULT_PAUSE)                                                                \
    XX(RESUME, "resume", FAULT_PAUSE)                                                              \
    XX(LOSS, "start-loss", FAULT_LOSS)                                                             \
    XX(LOSS_STOP, "stop-loss", FAULT_LOSS)                                                         \
    XX(DUPLICATE, "start-duplicate", FAULT_DUPLICATE)                                              \
    XX(DUPLICATE_STOP, "stop-duplicate", FAULT_DUPLICATE)

enum fault_action {
#define XX(e, name, kind) ACT_##e,
    FAULT_ACTION_MAP(XX)
#undef XX
        ACT_COUNT,
};

/* Which nodes an event hits, as Jepsen's node specs. */
#define TARGET_SPEC_MAP(XX)                                                                        \
    XX(ONE, "one")                                                                                 \
    XX(MINORITY, "minority")                                                                       \
    XX(MINORITY_THIRD, "minority-third")                                                           \
    XX(MAJORITY, "majority")                                                                       \
    XX(ALL, "all")                                                                                 \
    XX(RANDOM, "random")

enum target_spec {
#define XX(e, name) TARGET_##e,
    TARGET_SPEC_MAP(XX)
#undef XX
        TARGET_LIST, /* explicit node names */
    TARGET_NONE,     /* the event needs no target (heal, loss) */
};

/* How a killed node's clock starts again. */
enum restart_clock {
    RESTART_CLOCK_NOW,    /* the real time (or its current fault) */
    RESTART_CLOCK_BEHIND, /* behind everything the node issued before, by behind_ms */
    RESTART_CLOCK_REPLAY, /* exactly the clock its previous incarnation started with */
};

struct fault_event {
    double at_s; /* since the start of the test */
    enum fault_action action;
    enum target_spec target; /* how the targets were chosen */
    uint32_t *nodes;         /* owned: the target node indices */
    uint32_t node_count;
    enum partition_shape shape; /* ACT_PARTITION */
    bool shape_given;           /* a scenario fixed the shape */
    double delta_ms;            /* bump, strobe, set (offset) */
    double period_ms;           /* strobe */
    double duration_s;          /* strobe: how long it lasts, 0 = until the next clock event */
    double rate;                /* drift: clock speed (1 = real time, 0 = frozen) */
    double probability;         /* loss, duplicate: fraction of messages */
    enum restart_clock restart; /* ACT_RESTART */
    double behind_ms;           /* RESTART_CLOCK_BEHIND */
    uint32_t order;             /* insertion order, to keep the sort stable */
    char *target_names;         /* owned: a scenario's node names (comma-separated) until
                                   scenario_resolve turns them into nodes */
    unsigned line, column;      /* where a scenario defined the event, for messages */
    uint32_t timeline;          /* 1 + its index in the scenario's "faults"; 0: a random event */
};

/* Parameters of the random schedules. */
struct nemesis_opts {
    uint32_t node_count;
    double time_limit_s;
    double interval_s;
    unsigned kinds;         /* bits (1 << FAULT_x) with a random schedule of their own */
    unsigned shapes;        /* bits (1 << SHAPE_x) partitions pick from */
    unsigned restart_modes; /* bits (1 << RESTART_CLOCK_x) restarts pick from */
    uint64_t seed;
    /* A weighted single stream (a scenario's "random" block): weights per kind, 0 = absent. */
    double weights[FAULT_KIND_COUNT];
    double weighted_interval_s;
    double weighted_from_s, weighted_until_s;
};

struct nemesis_plan {
    struct fault_event *events;
    size_t len, cap;
    bool truncated; /* NEMESIS_EVENTS_MAX was reached; later events were dropped */
};

void nemesis_plan_init(struct nemesis_plan *p);
void nemesis_plan_fini(struct nemesis_plan *p);

/* Adds an event (copied; its node list is taken over). False (and the event's node list freed,
 * and p->truncated set) when the plan already holds NEMESIS_EVENTS_MAX events. */
bool nemesis_plan_add(struct nemesis_plan *p, const struct fault_event *e);

/* Draws the random schedules of `o` into p, then sorts every event by time (stable, so a
 * scenario's events at equal times keep their order). */
void nemesis_plan_random(struct nemesis_plan *p, const struct nemesis_opts *o);

/* A run's whole plan into p (initialised here): copies of `scenario`'s events (NULL: none),
 * their target specs ("targets": one, majority, random...) drawn from the seed, in timeline
 * order, from a stream of their own; then the random schedules that config c asks for, sorted
 * by time. */
void nemesis_plan_build(struct nemesis_plan *p, const struct nemesis_plan *scenario,
                        const struct config *c, uint32_t node_count);

/* Resolves a target spec to node indices with r. Returns the count written into out (which holds
 * node_count entries); 0 only when the spec names no node of node_count (minority of 1,
 * minority-third of 3 or fewer; see nemesis_target_count). */
uint32_t nemesis_pick_targets(enum target_spec spec, uint32_t node_count, struct prng *r,
                              uint32_t *out);

/* How many nodes a spec other than random picks among node_count (random: at least 1). */
uint32_t nemesis_target_count(enum target_spec spec, uint32_t node_count);

/* True for the actions that act on target nodes (clock faults, kill, pause). */
bool fault_action_targeted(enum fault_action a);

const char *fault_action_name(enum fault_action a);
enum fault_kind fault_action_kind(enum fault_action a);
const char *target_spec_name(enum target_spec t);
int target_spec_parse(const char *name, enum target_spec *out);
const char *restart_clock_name(enum restart_clock r);
int restart_clock_parse(const char *name, enum restart_clock *out);

#endif /* EDDY_SIM_NEMESIS_H */
