/*
 * nemesis.c: fault schedules (see nemesis.h).
 *
 * Every random draw comes from a stream derived from (seed, fault kind), so enabling one more
 * fault kind does not change when the others happen. Targets are resolved here, at planning
 * time, except for "start" (restart) and "resume", which always act on whatever is down or
 * paused when they fire.
 * Depends on: grudge, prng, config, alloc. Used by: run, scenario.
 */
#include "nemesis.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Stream ids: far from the workload's and the net's. */
#define STREAM_NEMESIS 0x4E454D00u

static const char *const action_names[] = {
#define XX(e, name, kind) name,
    FAULT_ACTION_MAP(XX)
#undef XX
};

static const enum fault_kind action_kinds[] = {
#define XX(e, name, kind) kind,
    FAULT_ACTION_MAP(XX)
#undef XX
};

static const char *const spec_names[] = {
#define XX(e, name) name,
    TARGET_SPEC_MAP(XX)
#undef XX
};

const char *fault_action_name(enum fault_action a)
{
    ASSERT(a < ACT_COUNT);
    return action_names[a];
}

enum fault_kind fault_action_kind(enum fault_action a)
{
    ASSERT(a < ACT_COUNT);
    return action_kinds[a];
}

const char *target_spec_name(enum target_spec t)
{
    if (t == TARGET_LIST)
        return "list";
    if (t == TARGET_NONE)
        return "none";
    return spec_names[t];
}

int target_spec_parse(const char *name, enum target_spec *out)
{
    for (int t = 0; t < (int)ARRAY_LEN(spec_names); t++) {
        if (strcmp(name, spec_names[t]) == 0) {
            *out = (enum target_spec)t;
            return 0;
        }
    }
    return -EINVAL;
}

const char *restart_clock_name(enum restart_clock r)
{
    switch (r) {
    case RESTART_CLOCK_NOW:
        return "now";
    case RESTART_CLOCK_BEHIND:
        return "behind";
    case RESTART_CLOCK_REPLAY:
        return "replay";
    }
    return "?";
}

int restart_clock_parse(const char *name, enum restart_clock *out)
{
    for (int r = 0; r <= RESTART_CLOCK_REPLAY; r++) {
        if (strcmp(name, restart_clock_name((enum restart_clock)r)) == 0) {
            *out = (enum restart_clock)r;
            return 0;
        }
    }
    return -EINVAL;
}

/* ==== The plan ==== */

void nemesis_plan_init(struct nemesis_plan *p)
{
    memset(p, 0, sizeof(*p));
}

void nemesis_plan_fini(struct nemesis_plan *p)
{
    for (size_t i = 0; i < p->len; i++) {
        free(p->events[i].nodes);
        free(p->events[i].target_names);
    }
    free(p->events);
    memset(p, 0, sizeof(*p));
}

bool nemesis_plan_add(struct nemesis_plan *p, const struct fault_event *e)
{
    if (p->len >= NEMESIS_EVENTS_MAX) {
        free(e->nodes);
        free(e->target_names);
        p->truncated = true;
        return false;
    }
    if (p->len == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->events = xrealloc(p->events, p->cap * sizeof(*p->events));
    }
    p->events[p->len] = *e;
    p->events[p->len].order = (uint32_t)p->len;
    p->len++;
    return true;
}

bool fault_action_targeted(enum fault_action a)
{
    return fault_action_kind(a) == FAULT_CLOCK || a == ACT_KILL || a == ACT_PAUSE;
}

uint32_t nemesis_target_count(enum target_spec spec, uint32_t n)
{
    switch (spec) {
    case TARGET_ONE:
        return EDDY_MIN(1u, n);
    case TARGET_MINORITY:
        return n / 2; /* one less than a majority */
    case TARGET_MINORITY_THIRD:
        return n ? (n - 1) / 3 : 0;
    case TARGET_MAJORITY:
        return EDDY_MIN(n / 2 + 1, n);
    case TARGET_ALL:
        return n;
    case TARGET_RANDOM:
        return n ? 1 : 0; /* at least */
    case TARGET_LIST:
    case TARGET_NONE:
        break;
    }
    return 0;
}

uint32_t nemesis_pick_targets(enum target_spec spec, uint32_t n, struct prng *r, uint32_t *out)
{
    if (n == 0)
        return 0;
    if (spec == TARGET_RANDOM) {
        /* A random non-empty subset, as Jepsen's nil node spec. */
        uint32_t k = 0;
        for (uint32_t i = 0; i < n; i++)
            if (prng_next(r) & 1)
                out[k++] = i;
        if (k == 0)
            out[k++] = (uint32_t)prng_below(r, n);
        return k;
    }
    if (spec == TARGET_LIST || spec == TARGET_NONE)
        return 0;
    uint32_t k = nemesis_target_count(spec, n);
    for (uint32_t i = 0; i < n; i++)
        out[i] = i;
    prng_shuffle_u32(r, out, n);
    /* Sorted targets read better in results. */
    for (uint32_t i = 1; i < k; i++)
        for (uint32_t j = i; j > 0 && out[j - 1] > out[j]; j--) {
            uint32_t t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return k;
}

static void set_targets(struct fault_event *e, enum target_spec spec, uint32_t n, struct prng *r)
{
    uint32_t *tmp = xmalloc((n ? n : 1) * sizeof(uint32_t));
    e->target = spec;
    e->node_count = nemesis_pick_targets(spec, n, r, tmp);
    e->nodes = tmp;
}

/* ==== Drawing events ==== */

static double gap(struct prng *r, double interval_s)
{
    return prng_unit(r) * 2 * interval_s;
}

static unsigned pick_bit(struct prng *r, unsigned mask, unsigned fallback)
{
    unsigned count = (unsigned)__builtin_popcount(mask);
    if (count == 0)
        return fallback;
    unsigned k = (unsigned)prng_below(r, count);
    for (unsigned b = 0; b < 32; b++)
        if ((mask >> b & 1) && k-- == 0)
            return b;
    return fallback;
}

static const enum target_spec kill_specs[] = {TARGET_ONE, TARGET_MINORITY, TARGET_MAJORITY,
                                              TARGET_ALL, TARGET_RANDOM};

/* Jepsen's clock magnitudes: bump +-1.5^(6+U[0,25)) ms; strobe delta 2^(2+U[0,16)) ms, period
 * 2^U[0,10) ms, for U[0,32) s. Drift is eddy's: frozen, slow or fast. */
static void draw_clock(struct fault_event *e, const struct nemesis_opts *o, struct prng *r)
{
    uint64_t k = prng_below(r, 7);
    set_targets(e, TARGET_RANDOM, o->node_count, r);
    if (k < 3) {
        e->action = ACT_CLOCK_BUMP;
        e->delta_ms = pow(1.5, 6 + prng_unit(r) * 25) * (prng_next(r) & 1 ? 1 : -1);
    } else if (k < 5) {
        e->action = ACT_CLOCK_STROBE;
        e->delta_ms = pow(2, 2 + prng_unit(r) * 16);
        e->period_ms = pow(2, prng_unit(r) * 10);
        e->duration_s = prng_unit(r) * 32;
    } else if (k < 6) {
        e->action = ACT_CLOCK_DRIFT;
        uint64_t d = prng_below(r, 3);
        e->rate = d == 0 ? 0.0 : d == 1 ? 0.5 + 0.4 * prng_unit(r) : 1.1 + 0.9 * prng_unit(r);
    } else {
        e->action = ACT_CLOCK_RESET;
    }
}

static void draw_start(struct fault_event *e, enum fault_kind kind, const struct nemesis_opts *o,
                       struct prng *r)
{
    switch (kind) {
    case FAULT_PARTITION:
        e->action = ACT_PARTITION;
        e->target = TARGET_NONE;
        e->shape = (enum partition_shape)pick_bit(r, o->shapes, SHAPE_MAJORITY);
        break;
    case FAULT_KILL:
        e->action = ACT_KILL;
        set_targets(e, kill_specs[prng_below(r, ARRAY_LEN(kill_specs))], o->node_count, r);
        break;
    case FAULT_PAUSE:
        e->action = ACT_PAUSE;
        set_targets(e, kill_specs[prng_below(r, ARRAY_LEN(kill_specs))], o->node_count, r);
        break;
    case FAULT_LOSS:
        e->action = ACT_LOSS;
        e->target = TARGET_NONE;
        e->probability = 0.1 + 0.4 * prng_unit(r);
        break;
    case FAULT_DUPLICATE:
        e->action = ACT_DUPLICATE;
        e->target = TARGET_NONE;
        e->probability = 0.1 + 0.4 * prng_unit(r);
        break;
    case FAULT_CLOCK:
    case FAULT_KIND_COUNT:
        ASSERT(!"not a start/stop fault");
    }
}

static void draw_stop(struct fault_event *e, enum fault_kind kind, const struct nemesis_opts *o,
                      struct prng *r)
{
    e->target = TARGET_NONE;
    switch (kind) {
    case FAULT_PARTITION:
        e->action = ACT_HEAL;
        break;
    case FAULT_KILL:
        e->action = ACT_RESTART;
        e->restart = (enum restart_clock)pick_bit(r, o->restart_modes, RESTART_CLOCK_NOW);
        e->behind_ms = pow(1.5, 6 + prng_unit(r) * 25);
        break;
    case FAULT_PAUSE:
        e->action = ACT_RESUME;
        break;
    case FAULT_LOSS:
        e->action = ACT_LOSS_STOP;
        break;
    case FAULT_DUPLICATE:
        e->action = ACT_DUPLICATE_STOP;
        break;
    case FAULT_CLOCK:
    case FAULT_KIND_COUNT:
        ASSERT(!"not a start/stop fault");
    }
}

static void stream_kind(struct nemesis_plan *p, enum fault_kind kind, const struct nemesis_opts *o)
{
    struct prng r;
    prng_seed(&r, o->seed, STREAM_NEMESIS + (uint64_t)kind);
    bool start = true;
    for (double t = 0; t < o->time_limit_s; t += gap(&r, o->interval_s)) {
        struct fault_event e = {.at_s = t};
        if (kind == FAULT_CLOCK)
            draw_clock(&e, o, &r);
        else if (start)
            draw_start(&e, kind, o, &r);
        else
            draw_stop(&e, kind, o, &r);
        start = !start;
        if (!nemesis_plan_add(p, &e))
            return;
    }
}

static void stream_weighted(struct nemesis_plan *p, const struct nemesis_opts *o)
{
    double total = 0;
    for (int k = 0; k < FAULT_KIND_COUNT; k++)
        total += o->weights[k] > 0 ? o->weights[k] : 0;
    if (total <= 0)
        return;
    struct prng r;
    prng_seed(&r, o->seed, STREAM_NEMESIS + 0x100);
    bool active[FAULT_KIND_COUNT] = {false};
    double until = o->weighted_until_s > 0 ? o->weighted_until_s : o->time_limit_s;
    double interval = o->weighted_interval_s > 0 ? o->weighted_interval_s : o->interval_s;
    for (double t = o->weighted_from_s; t < until; t += gap(&r, interval)) {
        double x = prng_unit(&r) * total;
        int kind = 0;
        for (; kind < FAULT_KIND_COUNT - 1; kind++) {
            double w = o->weights[kind] > 0 ? o->weights[kind] : 0;
            if (x < w)
                break;
            x -= w;
        }
        while (o->weights[kind] <= 0)
            kind--; /* rounding at the very top: fall back to the last weighted kind */
        struct fault_event e = {.at_s = t};
        if (kind == FAULT_CLOCK)
            draw_clock(&e, o, &r);
        else if (!active[kind])
            draw_start(&e, (enum fault_kind)kind, o, &r);
        else
            draw_stop(&e, (enum fault_kind)kind, o, &r);
        active[kind] = !active[kind];
        if (!nemesis_plan_add(p, &e))
            return;
    }
}

static int event_cmp(const void *a, const void *b)
{
    const struct fault_event *x = a, *y = b;
    if (x->at_s != y->at_s)
        return x->at_s < y->at_s ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

void nemesis_plan_random(struct nemesis_plan *p, const struct nemesis_opts *o)
{
    for (int k = 0; k < FAULT_KIND_COUNT; k++)
        if (o->kinds & (1u << k))
            stream_kind(p, (enum fault_kind)k, o);
    stream_weighted(p, o);
    /* Ties keep insertion order (scenario events before random ones at the same time). */
    if (p->len > 1)
        qsort(p->events, p->len, sizeof(*p->events), event_cmp);
}

void nemesis_plan_build(struct nemesis_plan *p, const struct nemesis_plan *scenario,
                        const struct config *c, uint32_t node_count)
{
    nemesis_plan_init(p);
    /* A scenario's "targets" are drawn here, from a stream of their own, in timeline order: the
     * same seed gives the same nodes, whatever random schedules are enabled. */
    struct prng targets;
    prng_seed(&targets, c->seed, STREAM_NEMESIS + 0x200);
    for (size_t i = 0; scenario && i < scenario->len; i++) {
        const struct fault_event *from = &scenario->events[i];
        struct fault_event e = *from;
        e.nodes = NULL;
        e.target_names = NULL; /* resolved already; the scenario keeps its own copy */
        if (from->target == TARGET_LIST || from->target == TARGET_NONE) {
            if (e.node_count) {
                e.nodes = xmalloc(e.node_count * sizeof(uint32_t));
                memcpy(e.nodes, from->nodes, e.node_count * sizeof(uint32_t));
            }
        } else {
            set_targets(&e, from->target, node_count, &targets);
        }
        nemesis_plan_add(p, &e);
    }
    struct nemesis_opts o = {
        .node_count = node_count,
        .time_limit_s = c->time_limit_s,
        .interval_s = c->nemesis_interval_s,
        .kinds = c->nemesis,
        .shapes = c->partition_shapes ? c->partition_shapes : SHAPES_MAELSTROM,
        .restart_modes = c->restart_modes ? c->restart_modes : 1u << RESTART_CLOCK_NOW,
        .seed = c->seed,
        .weighted_interval_s = c->weighted_interval_s,
        .weighted_from_s = c->weighted_from_s,
        .weighted_until_s = c->weighted_until_s,
    };
    memcpy(o.weights, c->weights, sizeof(o.weights));
    nemesis_plan_random(p, &o);
}
