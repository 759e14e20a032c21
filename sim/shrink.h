/*
 * shrink.h: the pure part of `eddy shrink`: a run's resolved fault timeline as removable units,
 * delta debugging over them, and the explicit scenario file a candidate run is made from.
 *
 * A unit is what can be dropped as one: a fault that starts and the event that ends it (a
 * partition and its heal, a kill and the restart after it, a pause and its resume, loss or
 * duplication and their stop), or one clock operation. An ending event that ends several units
 * (a heal, a restart of every node that is down) is kept while any of them is. Ending events that
 * end nothing do nothing, and are left out. shrink_ddmin() is Zeller's ddmin: it finds a subset
 * of units that still fails and from which no single chunk can be removed, testing subsets and
 * complements through a callback (the command runs eddy there).
 * Depends on: nemesis, config, grudge, alloc, cJSON. Used by: shrink_main.
 */
#ifndef EDDY_SIM_SHRINK_H
#define EDDY_SIM_SHRINK_H

#include "config.h"
#include "nemesis.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shrink_units {
    size_t *start; /* per unit: the event (index in the plan) that begins it */
    size_t *stop;  /* per unit: the event that ends it, or SIZE_MAX */
    size_t len;
};

/* The units of plan's events (sorted by time, as nemesis_plan_build leaves them). */
void shrink_units_build(struct shrink_units *u, const struct nemesis_plan *plan);
void shrink_units_fini(struct shrink_units *u);

/* The events of the units listed in `units` (n of them), as sorted plan indices, into out (room
 * for the plan's length). Returns their number. */
size_t shrink_units_events(const struct shrink_units *u, const size_t *units, size_t n,
                           size_t plan_len, size_t *out);

/* Whether a candidate still fails: 1 yes, 0 no, -1 stop searching (out of budget). */
typedef int shrink_test_fn(void *ctx, const size_t *units, size_t n);

/* Reduces units[0..*n) in place to a subset that still fails and is 1-minimal as far as the
 * search went. The full set must fail already (it is not tested again). Returns 0, or -1 when
 * the test asked to stop (units then holds the smallest failing subset found so far). */
int shrink_ddmin(size_t *units, size_t *n, shrink_test_fn *test, void *ctx);

/* What a candidate run changes from the original configuration. */
struct shrink_knobs {
    double time_limit_s;
    uint32_t node_count; /* the first node_count of the original nodes */
    double rate;
    bool rate_max;
    char concurrency[24]; /* as --concurrency takes it: "N" or "Nn" */
};

/* The knobs of configuration c as it is. */
void shrink_knobs_of(const struct config *c, struct shrink_knobs *k);

/* An explicit scenario: every setting of c (bin replaced by bin_abs), changed by k, with the
 * listed plan events as its timeline (events past k's time limit left out), no random schedule,
 * and c's seed. Caller owns the result. */
cJSON *shrink_scenario(const struct config *c, const char *bin_abs, const struct shrink_knobs *k,
                       const struct nemesis_plan *plan, const size_t *events, size_t n,
                       const char *description);

/* The largest node index the listed events name, +1 (0 when they name none). */
uint32_t shrink_nodes_needed(const struct nemesis_plan *plan, const size_t *events, size_t n);

#endif /* EDDY_SIM_SHRINK_H */
