/*
 * report_span.c: fault periods from the fault log (see report_span.h).
 *
 * Nodes are found by splitting the detail into words at blanks and ":;,()" and comparing each
 * word with the lane names, because the details are prose ("kill n2 (SIGKILL ...)", "pause n1:
 * down", "majority: n0 drops n1 n2"). A node whose name holds one of those separators is never
 * found, and its faults land on the shared lane: a degraded picture, not a wrong one. A
 * "nodes" array in each event would make this exact (see the report in report_html.c).
 * Depends on: cJSON, alloc. Used by: report_html, report_plot.
 */
#include "report_span.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <math.h>
#include <string.h>

static const char *const kind_names[SPAN_KIND_COUNT] = {
    [SPAN_PARTITION] = "partition", [SPAN_KILL] = "kill",           [SPAN_PAUSE] = "pause",
    [SPAN_LOSS] = "loss",           [SPAN_DUPLICATE] = "duplicate", [SPAN_CLOCK] = "clock",
    [SPAN_OTHER] = "other",
};

enum span_kind span_kind_parse(const char *name)
{
    for (int k = 0; name && k < SPAN_OTHER; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return (enum span_kind)k;
    return SPAN_OTHER;
}

const char *span_kind_name(enum span_kind k)
{
    ASSERT(k < SPAN_KIND_COUNT);
    return kind_names[k];
}

/* The kind of an action name, for logs that lack "kind". */
static enum span_kind kind_of_action(const char *f)
{
    static const struct {
        const char *f;
        enum span_kind kind;
    } actions[] = {
        {"start-partition", SPAN_PARTITION},
        {"stop-partition", SPAN_PARTITION},
        {"kill", SPAN_KILL},
        {"start", SPAN_KILL},
        {"pause", SPAN_PAUSE},
        {"resume", SPAN_PAUSE},
        {"start-loss", SPAN_LOSS},
        {"stop-loss", SPAN_LOSS},
        {"start-duplicate", SPAN_DUPLICATE},
        {"stop-duplicate", SPAN_DUPLICATE},
    };
    for (size_t i = 0; f && i < ARRAY_LEN(actions); i++)
        if (strcmp(f, actions[i].f) == 0)
            return actions[i].kind;
    if (f && strncmp(f, "clock-", 6) == 0)
        return SPAN_CLOCK;
    return SPAN_OTHER;
}

/* ==== Building ==== */

struct builder {
    struct span_list *l;
    const char *f, *detail; /* of the event being read */
    const char *const *lanes;
    int32_t open[SPAN_KIND_COUNT][SPAN_LANES_MAX + 1]; /* span index, or -1 */
};

/* Bit i set for every lane i named by a word of detail. O(words x lanes), fine for <= 32. */
static uint64_t lanes_named(const struct builder *b, const char *detail)
{
    uint64_t mask = 0;
    const char *p = detail ? detail : "";
    while (*p) {
        size_t skip = strspn(p, " \t\n:;,()");
        p += skip;
        size_t n = strcspn(p, " \t\n:;,()");
        if (n == 0)
            break;
        for (uint32_t i = 0; i < b->l->lane_count; i++)
            if (strlen(b->lanes[i]) == n && memcmp(b->lanes[i], p, n) == 0)
                mask |= UINT64_C(1) << i;
        p += n;
    }
    return mask;
}

static int32_t add_span(struct builder *b, const struct span *s)
{
    struct span_list *l = b->l;
    if (l->len >= SPAN_MAX) {
        l->dropped++;
        return -1;
    }
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->len] = *s;
    l->kinds |= 1u << s->kind;
    l->any_not_applied |= !s->applied;
    return (int32_t)l->len++;
}

static void close_span(struct builder *b, enum span_kind k, uint32_t lane, double t_s)
{
    int32_t i = b->open[k][lane];
    if (i < 0)
        return;
    struct span *s = &b->l->v[i];
    s->t1_s = t_s > s->t0_s ? t_s : s->t0_s;
    b->open[k][lane] = -1;
}

static void close_kind(struct builder *b, enum span_kind k, double t_s)
{
    for (uint32_t lane = 0; lane <= b->l->lane_count; lane++)
        close_span(b, k, lane, t_s);
}

static void open_span(struct builder *b, enum span_kind k, uint32_t lane, double t_s, uint32_t ev)
{
    if (b->open[k][lane] >= 0)
        return; /* killing a node that is down extends nothing */
    struct span s = {.t0_s = t_s,
                     .t1_s = t_s,
                     .kind = k,
                     .lane = lane,
                     .event = ev,
                     .f = b->f,
                     .detail = b->detail,
                     .applied = true};
    b->open[k][lane] = add_span(b, &s);
}

enum lane_op {
    LANE_OPEN,
    LANE_CLOSE,
    LANE_INSTANT,
};

/* Opens, closes or marks an instant on every lane in mask, or on the shared lane when mask is
 * empty and `shared` says that such an event concerns all nodes. */
static void on_lanes(struct builder *b, enum lane_op op, enum span_kind k, uint64_t mask,
                     bool shared, double t_s, uint32_t ev, bool applied)
{
    uint32_t n = b->l->lane_count;
    if (!mask && !shared)
        return;
    if (!mask)
        mask = UINT64_C(1) << n;
    for (uint32_t lane = 0; lane <= n; lane++) {
        if (!(mask & (UINT64_C(1) << lane)))
            continue;
        if (op == LANE_OPEN) {
            open_span(b, k, lane, t_s, ev);
        } else if (op == LANE_CLOSE) {
            close_span(b, k, lane, t_s);
        } else {
            struct span s = {.t0_s = t_s,
                             .t1_s = t_s,
                             .kind = k,
                             .lane = lane,
                             .event = ev,
                             .f = b->f,
                             .detail = b->detail,
                             .applied = applied,
                             .instant = true};
            add_span(b, &s);
        }
    }
}

static void on_event(struct builder *b, const cJSON *e, uint32_t ev)
{
    const cJSON *tj = cJSON_GetObjectItemCaseSensitive(e, "time");
    const cJSON *fj = cJSON_GetObjectItemCaseSensitive(e, "f");
    const cJSON *kj = cJSON_GetObjectItemCaseSensitive(e, "kind");
    const cJSON *dj = cJSON_GetObjectItemCaseSensitive(e, "detail");
    const char *f = cJSON_IsString(fj) ? fj->valuestring : "";
    double t_s = cJSON_IsNumber(tj) && isfinite(tj->valuedouble) ? tj->valuedouble / 1e9 : 0;
    enum span_kind k = cJSON_IsString(kj) ? span_kind_parse(kj->valuestring) : kind_of_action(f);
    b->f = cJSON_IsString(fj) ? fj->valuestring : NULL;
    b->detail = cJSON_IsString(dj) ? dj->valuestring : NULL;
    uint64_t mask = lanes_named(b, b->detail);
    if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(e, "applied"))) {
        on_lanes(b, LANE_INSTANT, k, mask, true, t_s, ev, false);
        return;
    }
    switch (k) {
    case SPAN_PARTITION:
        /* A new partition replaces the old one, so both start and stop end every open span. */
        close_kind(b, k, t_s);
        if (strcmp(f, "stop-partition") != 0)
            on_lanes(b, LANE_OPEN, k, mask, true, t_s, ev, true);
        break;
    case SPAN_KILL:
        /* "start: no node was down" names no node and ends nothing. */
        on_lanes(b, strcmp(f, "kill") == 0 ? LANE_OPEN : LANE_CLOSE, k, mask,
                 strcmp(f, "kill") == 0, t_s, ev, true);
        break;
    case SPAN_PAUSE:
        on_lanes(b, strcmp(f, "pause") == 0 ? LANE_OPEN : LANE_CLOSE, k, mask,
                 strcmp(f, "pause") == 0, t_s, ev, true);
        break;
    case SPAN_LOSS:
    case SPAN_DUPLICATE:
        /* Network-wide, and a new rate replaces the old one. */
        close_kind(b, k, t_s);
        if (strncmp(f, "stop", 4) != 0)
            on_lanes(b, LANE_OPEN, k, 0, true, t_s, ev, true);
        break;
    case SPAN_CLOCK:
    case SPAN_OTHER:
    case SPAN_KIND_COUNT:
        on_lanes(b, LANE_INSTANT, k == SPAN_KIND_COUNT ? SPAN_OTHER : k, mask, true, t_s, ev, true);
        break;
    }
}

void span_list_build(struct span_list *l, const cJSON *events, const char *const *lanes,
                     uint32_t lane_count, double t_end_s)
{
    ASSERT(l);
    ASSERT(lane_count <= SPAN_LANES_MAX);
    memset(l, 0, sizeof(*l));
    l->lane_count = lane_count;
    struct builder b = {.l = l, .lanes = lanes};
    for (int k = 0; k < SPAN_KIND_COUNT; k++)
        for (uint32_t i = 0; i <= SPAN_LANES_MAX; i++)
            b.open[k][i] = -1;
    uint32_t ev = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, (cJSON_IsArray(events) ? events : NULL))
    {
        if (cJSON_IsObject(e))
            on_event(&b, e, ev);
        ev++;
    }
    for (int k = 0; k < SPAN_KIND_COUNT; k++) {
        for (uint32_t i = 0; i <= lane_count; i++) {
            int32_t s = b.open[k][i];
            if (s < 0)
                continue;
            l->v[s].t1_s = t_end_s > l->v[s].t0_s ? t_end_s : l->v[s].t0_s;
            l->v[s].open = true;
        }
    }
}

void span_list_fini(struct span_list *l)
{
    if (!l)
        return;
    free(l->v);
    memset(l, 0, sizeof(*l));
}
