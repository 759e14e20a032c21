/*
 * verdict.h: the run's verdict, composed in one place.
 *
 * By default `valid?` is exactly Maelstrom's: Jepsen's compose over the checkers Maelstrom
 * names (perf, timeline, exceptions, stats, availability, net, workload), where false beats
 * unknown beats true. eddy's protocol checker is reported beside them and counts only when the
 * run is strict (--strict, or "strict": true in a scenario). A run that broke or was interrupted,
 * or could not inject a kind of fault it was asked for, is unknown, whatever its checkers say.
 * Pure: no I/O. Depends on: config. Used by: report, main.
 */
#ifndef EDDY_SIM_VERDICT_H
#define EDDY_SIM_VERDICT_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>

/* In increasing weight, as Jepsen's valid-priorities: true 0, unknown 0.5, false 1. */
enum verdict {
    V_TRUE,
    V_UNKNOWN,
    V_FALSE,
};

/* The checkers, as keys of results.json. The first seven are Maelstrom's compose. */
#define VERDICT_PART_MAP(XX)                                                                       \
    XX(PERF, "perf")                                                                               \
    XX(TIMELINE, "timeline")                                                                       \
    XX(EXCEPTIONS, "exceptions")                                                                   \
    XX(STATS, "stats")                                                                             \
    XX(AVAILABILITY, "availability")                                                               \
    XX(NET, "net")                                                                                 \
    XX(WORKLOAD, "workload")                                                                       \
    XX(PROTOCOL, "protocol")

enum verdict_part {
#define XX(e, name) VERDICT_##e,
    VERDICT_PART_MAP(XX)
#undef XX
        VERDICT_PART_COUNT,
};

struct verdict_input {
    enum verdict part[VERDICT_PART_COUNT]; /* each checker's own verdict */
    bool strict;                           /* protocol violations fail the run */
    bool broke;                            /* the run broke (exit 255) or was interrupted */
    bool unreached; /* a fault kind asked for could not reach some node, and that is not allowed
                       (--allow-unapplied-faults): the run proves nothing about it */
};

/* The heavier of two verdicts (Jepsen's merge-valid). */
enum verdict verdict_merge(enum verdict a, enum verdict b);

/* Whether a checker's verdict takes part in the run's. */
bool verdict_counts(enum verdict_part p, bool strict);

/* The run's verdict. */
enum verdict verdict_compose(const struct verdict_input *in);

/* Maelstrom's availability checker: the ok fraction of all invoked ops as a single-precision
 * float (1 when nothing was invoked), and whether it meets --availability. Above 2^25 ops one
 * op that is not ok can round the fraction to 1, which then passes `total`, as in Maelstrom. */
float verdict_ok_fraction(uint64_t ok, uint64_t invokes);
enum verdict verdict_availability(enum availability_kind kind, double min, uint64_t ok,
                                  uint64_t invokes);

/* The checker's key in results.json. */
const char *verdict_part_name(enum verdict_part p);

/* Jepsen's last line for a verdict ("Everything looks good! ..."). */
const char *verdict_line(enum verdict v);

/* Jepsen's exit status for a verdict: 0 valid, 1 invalid, 2 unknown. */
int verdict_exit_status(enum verdict v);

/* The worse of two exit statuses of eddy test, for --test-count: a run that broke (255) or was
 * interrupted weighs most, then invalid (1), unknown (2), valid (0). */
int verdict_worse_status(int a, int b);

#endif /* EDDY_SIM_VERDICT_H */
