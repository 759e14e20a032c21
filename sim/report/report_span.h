/*
 * report_span.h: fault periods for report.html, derived from results["faults"]["events"].
 *
 * The fault log is a list of instants ("kill n2", later "restart n2"); the plots need periods
 * per node and kind. A span runs from the event that starts a fault (start-partition, kill,
 * pause, start-loss, start-duplicate) to the one that ends it for the same lane; clock changes
 * and events that were not applied are instants. A lane is one node, found by name in the
 * event's detail text, or the shared "network / all nodes" lane when the detail names none.
 * Depends on: cJSON. Used by: report_html, report_plot.
 */
#ifndef EDDY_SIM_REPORT_SPAN_H
#define EDDY_SIM_REPORT_SPAN_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPAN_MAX 3000     /* spans kept; the rest are counted in `dropped` (bounds the page) */
#define SPAN_LANES_MAX 32 /* node lanes; further nodes' faults go to the shared lane */

enum span_kind {
    SPAN_PARTITION,
    SPAN_KILL,
    SPAN_PAUSE,
    SPAN_LOSS,
    SPAN_DUPLICATE,
    SPAN_CLOCK,
    SPAN_OTHER,
    SPAN_KIND_COUNT,
};

struct span {
    double t0_s, t1_s; /* seconds since the start; equal for an instant */
    enum span_kind kind;
    uint32_t lane;      /* index into the lane names; lane_count is the shared lane */
    uint32_t event;     /* index in faults.events of the event that started it */
    const char *f;      /* that event's "f" and "detail" (borrowed from the events array), */
    const char *detail; /* or NULL */
    bool applied;       /* false: an event logged as not applied (always an instant) */
    bool instant;       /* clock changes, unknown events and events not applied */
    bool open;          /* never ended: t1_s is the end of the time axis */
};

struct span_list {
    struct span *v; /* in the order their starting events were logged */
    size_t len, cap;
    size_t dropped;      /* spans past SPAN_MAX, not kept */
    uint32_t lane_count; /* node lanes; lane index lane_count is the shared lane */
    uint32_t kinds;      /* bit (1 << kind) for every kind with at least one span */
    bool any_not_applied;
};

/* The kind for a "kind" string of the fault log (SPAN_OTHER for unknown ones), and back. */
enum span_kind span_kind_parse(const char *name);
const char *span_kind_name(enum span_kind k);

/* Overwrites l with the spans of the events array (NULL or not an array: no
 * spans). lanes names lane_count <= SPAN_LANES_MAX nodes (borrowed, only during the call).
 * Spans still open at the end are closed at t_end_s (or at their start, if later). */
void span_list_build(struct span_list *l, const cJSON *events, const char *const *lanes,
                     uint32_t lane_count, double t_end_s);

/* Frees l's spans and zeroes it. */
void span_list_fini(struct span_list *l);

#endif /* EDDY_SIM_REPORT_SPAN_H */
