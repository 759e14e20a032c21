/*
 * shrink.c: fault units, ddmin and explicit scenarios for `eddy shrink` (see shrink.h).
 *
 * ddmin follows Zeller and Hildebrandt (2002): split the units into `gran` chunks; if one chunk
 * alone still fails, keep it and start again at two chunks; else if removing one chunk still
 * fails, keep the rest and use one chunk fewer; else double the granularity, until chunks are
 * single units. The cost is at most O(n^2) tests in theory and about 2 log2(n) for one culprit.
 * Depends on: nemesis, config, grudge, alloc, cJSON. Used by: shrink_main.
 */
#include "shrink.h"
#include "grudge.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== Units ==== */

/* The kind whose faults an ending event ends, or -1 for events that begin or stand alone. */
static int ends_kind(enum fault_action a)
{
    switch (a) {
    case ACT_HEAL:
    case ACT_RESTART:
    case ACT_RESUME:
    case ACT_LOSS_STOP:
    case ACT_DUPLICATE_STOP:
        return (int)fault_action_kind(a);
    default:
        return -1;
    }
}

static bool begins(enum fault_action a)
{
    return a == ACT_PARTITION || a == ACT_KILL || a == ACT_PAUSE || a == ACT_LOSS ||
           a == ACT_DUPLICATE;
}

void shrink_units_build(struct shrink_units *u, const struct nemesis_plan *plan)
{
    memset(u, 0, sizeof(*u));
    size_t cap = plan->len ? plan->len : 1;
    u->start = xmalloc(cap * sizeof(*u->start));
    u->stop = xmalloc(cap * sizeof(*u->stop));
    /* Units still open per fault kind: a list threaded through `next`. */
    size_t *next = xmalloc(cap * sizeof(*next));
    size_t open[FAULT_KIND_COUNT];
    for (int k = 0; k < FAULT_KIND_COUNT; k++)
        open[k] = SIZE_MAX;
    for (size_t i = 0; i < plan->len; i++) {
        enum fault_action a = plan->events[i].action;
        int ends = ends_kind(a);
        if (ends >= 0) {
            /* Ends every open unit of its kind; ends nothing: does nothing, left out. */
            for (size_t x = open[ends]; x != SIZE_MAX; x = next[x])
                u->stop[x] = i;
            open[ends] = SIZE_MAX;
            continue;
        }
        size_t x = u->len++;
        u->start[x] = i;
        u->stop[x] = SIZE_MAX;
        if (begins(a)) {
            int k = (int)fault_action_kind(a);
            next[x] = open[k];
            open[k] = x;
        }
    }
    free(next);
}

void shrink_units_fini(struct shrink_units *u)
{
    free(u->start);
    free(u->stop);
    memset(u, 0, sizeof(*u));
}

size_t shrink_units_events(const struct shrink_units *u, const size_t *units, size_t n,
                           size_t plan_len, size_t *out)
{
    /* Marks, then collects in plan order: sorted, and an ending event shared by several units
     * written once (out holds plan_len, not 2n). */
    bool *in = xcalloc(plan_len ? plan_len : 1, sizeof(*in));
    for (size_t i = 0; i < n; i++) {
        ASSERT(units[i] < u->len);
        ASSERT(u->start[units[i]] < plan_len);
        in[u->start[units[i]]] = true;
        if (u->stop[units[i]] != SIZE_MAX)
            in[u->stop[units[i]]] = true;
    }
    size_t k = 0;
    for (size_t i = 0; i < plan_len; i++)
        if (in[i])
            out[k++] = i;
    free(in);
    return k;
}

/* ==== ddmin ==== */

int shrink_ddmin(size_t *units, size_t *n_io, shrink_test_fn *test, void *ctx)
{
    size_t n = *n_io, gran = 2;
    size_t *tmp = xmalloc((n ? n : 1) * sizeof(*tmp));
    int rc = 0;
    while (n >= 2) {
        size_t chunk = (n + gran - 1) / gran;
        bool reduced = false;
        for (size_t i = 0; i < gran && !reduced; i++) {
            size_t lo = i * chunk, hi = EDDY_MIN(n, lo + chunk);
            if (lo >= hi)
                break;
            int r = test(ctx, units + lo, hi - lo);
            if (r < 0) {
                rc = -1;
                goto out;
            }
            if (r == 1) {
                memmove(units, units + lo, (hi - lo) * sizeof(*units));
                n = hi - lo;
                gran = 2;
                reduced = true;
            }
        }
        /* With two chunks, each complement is the other chunk: already tested. */
        for (size_t i = 0; i < gran && !reduced && gran > 2; i++) {
            size_t lo = i * chunk, hi = EDDY_MIN(n, lo + chunk);
            if (lo >= hi)
                break;
            size_t m = 0;
            for (size_t j = 0; j < n; j++)
                if (j < lo || j >= hi)
                    tmp[m++] = units[j];
            int r = test(ctx, tmp, m);
            if (r < 0) {
                rc = -1;
                goto out;
            }
            if (r == 1) {
                memcpy(units, tmp, m * sizeof(*units));
                n = m;
                gran = EDDY_MAX(gran - 1, (size_t)2);
                reduced = true;
            }
        }
        if (!reduced) {
            if (gran >= n)
                break;
            gran = EDDY_MIN(gran * 2, n);
        }
    }
out:
    *n_io = n;
    free(tmp);
    return rc;
}

/* ==== Scenarios ==== */

void shrink_knobs_of(const struct config *c, struct shrink_knobs *k)
{
    memset(k, 0, sizeof(*k));
    k->time_limit_s = c->time_limit_s;
    k->node_count = c->node_count;
    k->rate = c->rate;
    k->rate_max = c->rate_max;
    snprintf(k->concurrency, sizeof(k->concurrency), "%s", c->concurrency_text);
}

uint32_t shrink_nodes_needed(const struct nemesis_plan *plan, const size_t *events, size_t n)
{
    uint32_t need = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fault_event *e = &plan->events[events[i]];
        for (uint32_t j = 0; j < e->node_count; j++)
            need = EDDY_MAX(need, e->nodes[j] + 1);
    }
    return need;
}

static cJSON *event_json(const struct config *c, const struct fault_event *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "at", round(e->at_s * 1e6) / 1e6);
    cJSON_AddStringToObject(o, "f", fault_action_name(e->action));
    bool listed = e->node_count > 0;
    switch (e->action) {
    case ACT_PARTITION:
        /* A cut between listed nodes and the rest is exact; a shape is drawn again when it
         * fires (the same seed, but the draws before it may differ once events are gone). */
        listed = e->target == TARGET_LIST && e->node_count > 0;
        if (!listed || e->shape == SHAPE_ONE_WAY)
            cJSON_AddStringToObject(o, "shape", partition_shape_name(e->shape));
        break;
    case ACT_CLOCK_BUMP:
        cJSON_AddNumberToObject(o, "delta-ms", e->delta_ms);
        break;
    case ACT_CLOCK_STROBE:
        cJSON_AddNumberToObject(o, "delta-ms", e->delta_ms);
        cJSON_AddNumberToObject(o, "period-ms", e->period_ms);
        if (e->duration_s > 0)
            cJSON_AddNumberToObject(o, "duration", e->duration_s);
        break;
    case ACT_CLOCK_DRIFT:
        cJSON_AddNumberToObject(o, "rate", e->rate);
        break;
    case ACT_CLOCK_SET:
        cJSON_AddNumberToObject(o, "offset-ms", e->delta_ms);
        break;
    case ACT_RESTART:
        cJSON_AddStringToObject(o, "restart-clock", restart_clock_name(e->restart));
        if (e->restart == RESTART_CLOCK_BEHIND)
            cJSON_AddNumberToObject(o, "behind-ms", e->behind_ms);
        break;
    case ACT_LOSS:
    case ACT_DUPLICATE:
        cJSON_AddNumberToObject(o, "probability", e->probability);
        break;
    default:
        break;
    }
    if (listed) {
        cJSON *names = cJSON_AddArrayToObject(o, "nodes");
        for (uint32_t j = 0; j < e->node_count; j++)
            cJSON_AddItemToArray(names, cJSON_CreateString(c->node_names[e->nodes[j]]));
    }
    return o;
}

static bool default_names(const struct config *c, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        char want[16];
        snprintf(want, sizeof(want), "n%u", i);
        if (strcmp(c->node_names[i], want) != 0)
            return false;
    }
    return true;
}

cJSON *shrink_scenario(const struct config *c, const char *bin_abs, const struct shrink_knobs *k,
                       const struct nemesis_plan *plan, const size_t *events, size_t n,
                       const char *description)
{
    ASSERT(k->node_count >= 1);
    ASSERT(k->node_count <= c->node_count);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", "minimal");
    if (description)
        cJSON_AddStringToObject(o, "description", description);
    cJSON_AddStringToObject(o, "workload", workload_name(c->workload));
    cJSON_AddStringToObject(o, "bin", bin_abs);
    cJSON *args = cJSON_AddArrayToObject(o, "args");
    for (unsigned i = 0; i < c->node_arg_count; i++)
        cJSON_AddItemToArray(args, cJSON_CreateString(c->node_args[i]));
    if (default_names(c, k->node_count)) {
        cJSON_AddNumberToObject(o, "node-count", k->node_count);
    } else {
        cJSON *names = cJSON_AddArrayToObject(o, "nodes");
        for (uint32_t i = 0; i < k->node_count; i++)
            cJSON_AddItemToArray(names, cJSON_CreateString(c->node_names[i]));
    }
    cJSON_AddNumberToObject(o, "time-limit", k->time_limit_s);
    if (k->rate_max)
        cJSON_AddStringToObject(o, "rate", "max");
    else
        cJSON_AddNumberToObject(o, "rate", k->rate);
    cJSON_AddStringToObject(o, "concurrency", k->concurrency);
    cJSON_AddNumberToObject(o, "latency", c->latency_ms);
    static const char *const dists[] = {"constant", "uniform", "exponential"};
    cJSON_AddStringToObject(o, "latency-dist", dists[c->latency_dist]);
    if (c->availability == AVAILABILITY_TOTAL)
        cJSON_AddStringToObject(o, "availability", "total");
    else if (c->availability == AVAILABILITY_FRACTION)
        cJSON_AddNumberToObject(o, "availability", c->availability_min);
    cJSON_AddNumberToObject(o, "seed", (double)c->seed);
    if (c->clock_monotonic)
        cJSON_AddBoolToObject(o, "clock-monotonic", true);
    cJSON *faults = cJSON_AddArrayToObject(o, "faults");
    for (size_t i = 0; i < n; i++) {
        const struct fault_event *e = &plan->events[events[i]];
        if (e->at_s > k->time_limit_s)
            continue;
        bool fits = true;
        for (uint32_t j = 0; j < e->node_count; j++)
            fits &= e->nodes[j] < k->node_count;
        ASSERT(fits || (e->action == ACT_PARTITION && e->target != TARGET_LIST));
        cJSON_AddItemToArray(faults, event_json(c, e));
    }
    return o;
}
