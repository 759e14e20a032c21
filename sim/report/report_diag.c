/*
 * report_diag.c: the diagnosis of a run, from its state (see report_diag.h).
 *
 * A node's clock at any moment is computed, not sampled: each clock sample keeps the
 * parameters eddy gave the node's control block (anchor, rate, strobe), and the fake time at a
 * later real time follows from them exactly (clockctl_fake_ns), drift and strobe included. The
 * clock faults in force are read off the same samples, as the changes since the clock was last
 * reset. Every op of a duplicated ID comes with its node's incarnation: the first op of each of
 * the ID set's entries is kept with the entry, the repeats by the checker.
 * Depends on: sim, check, diagnose, clockctl, buf, cJSON. Used by: report.
 */
#include "report_diag.h"
#include "utf8.h"
#include "diagnose.h"
#include "eddy/alloc.h"
#include "eddy/clockctl.h"
#include "eddy/util.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct report_diag {
    struct sim *s;
    struct diag *d;
    struct diag_op *ops; /* the current ID's */
    size_t ops_len, ops_cap;
    int64_t first_dup_ns; /* when the first duplicate was returned, or -1 */
};

/* ==== Clocks and starts, for diagnose.c ==== */

static bool params_default(const struct clockctl_params *p)
{
    return p->rate == 1.0 && p->strobe_period_ns == 0 && p->anchor_fake_ns == p->anchor_real_ns;
}

/* How many of n records (stride bytes apart, sorted by the int64 time at byte `at` of each)
 * are at or before t: a binary search over the clock samples or the restarts. */
static size_t count_until(const void *base, size_t n, size_t stride, size_t at, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t x;
        memcpy(&x, (const char *)base + mid * stride + at, sizeof(x));
        if (x <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The last sample at or before t, or NULL. */
static const struct clock_point *sample_at(const struct clock_series *cs, int64_t t, size_t *ix)
{
    size_t lo = count_until(cs->p, cs->len, sizeof(*cs->p), offsetof(struct clock_point, t_ns), t);
    if (lo == 0)
        return NULL;
    *ix = lo - 1;
    return &cs->p[lo - 1];
}

#define CHANGES_MAX 6

/* What changed between two samples, in words ("" when nothing a reader needs). A reset clears
 * the list (nothing is in force after it): *reset says so. */
static void change_words(const struct clock_point *prev, const struct clock_point *p, char *out,
                         size_t cap, bool *reset)
{
    const struct clockctl_params *a = &prev->params, *b = &p->params;
    double t = (double)p->t_ns / 1e9;
    int64_t jump = clockctl_base_ns(b, p->real_ns) - clockctl_base_ns(a, p->real_ns);
    *reset = false;
    out[0] = '\0';
    if (p->incarnation != prev->incarnation) {
        if (jump > 500000 || jump < -500000)
            snprintf(out, cap, "restart clock %+.0f ms at %.3f s", (double)jump / 1e6, t);
        return;
    }
    if (params_default(b)) {
        *reset = !params_default(a);
        return;
    }
    size_t at = 0;
    if (a->rate != b->rate)
        at += (size_t)snprintf(out + at, cap - at,
                               b->rate == 0 ? "frozen at %.3f s" : "drift x%.3g at %.3f s",
                               b->rate == 0 ? t : b->rate, t);
    if (at < cap &&
        (a->strobe_period_ns != b->strobe_period_ns || a->strobe_delta_ns != b->strobe_delta_ns)) {
        if (b->strobe_period_ns)
            at += (size_t)snprintf(out + at, cap - at, "%sstrobe %+.0f ms every %.0f ms at %.3f s",
                                   at ? ", " : "", (double)b->strobe_delta_ns / 1e6,
                                   (double)b->strobe_period_ns / 1e6, t);
        else
            at += (size_t)snprintf(out + at, cap - at, "%sstrobe off at %.3f s", at ? ", " : "", t);
    }
    if (at < cap && (jump > 500000 || jump < -500000))
        snprintf(out + at, cap - at, "%sjump %+.0f ms at %.3f s", at ? ", " : "",
                 (double)jump / 1e6, t);
}

static void describe_faults(const struct clock_series *cs, size_t upto, char *out, size_t cap)
{
    char changes[CHANGES_MAX][80];
    size_t n = 0, dropped = 0;
    static const struct clock_point none = {.params = {.rate = 1.0}};
    for (size_t i = 0; i <= upto; i++) {
        const struct clock_point *prev = i ? &cs->p[i - 1] : &none;
        bool reset;
        char w[80];
        change_words(prev, &cs->p[i], w, sizeof(w), &reset);
        if (reset) {
            n = dropped = 0;
            continue;
        }
        if (!w[0])
            continue;
        if (n == CHANGES_MAX) {
            memmove(changes, changes + 1, sizeof(changes[0]) * (CHANGES_MAX - 1));
            n--;
            dropped++;
        }
        memcpy(changes[n++], w, sizeof(w));
    }
    size_t at = 0;
    out[0] = '\0';
    if (dropped)
        at += (size_t)snprintf(out, cap, "...; ");
    for (size_t i = 0; i < n && at < cap; i++)
        at += (size_t)snprintf(out + at, cap - at, "%s%s", i ? "; " : "", changes[i]);
}

static void clock_at(void *ctx, uint32_t node, int64_t t, bool describe, struct diag_clock *out)
{
    const struct report_diag *r = ctx;
    const struct sim *s = r->s;
    memset(out, 0, sizeof(*out));
    out->rate = 1.0;
    const struct clock_series *cs = &s->clock_series[node];
    size_t ix;
    const struct clock_point *p = sample_at(cs, t, &ix);
    if (!s->nodes[node].clock || !p)
        return;
    out->controlled = true;
    if (p->params.rate == 0 && p->params.anchor_real_ns == 0 && p->params.anchor_fake_ns == 0) {
        out->offset_ns = p->offset_ns; /* the parameters could not be read */
        return;
    }
    int64_t real = p->real_ns + (t - p->t_ns);
    out->offset_ns = clockctl_fake_ns(&p->params, real) - real;
    out->rate = p->params.rate;
    out->strobe_delta_ns = p->params.strobe_delta_ns;
    out->strobe_period_ns = p->params.strobe_period_ns;
    if (describe)
        describe_faults(cs, ix, out->faults, sizeof(out->faults));
}

static void start_of(void *ctx, uint32_t node, uint32_t inc, struct diag_start *out)
{
    const struct report_diag *r = ctx;
    const struct incarnation_log *l = &r->s->incarnations[node];
    memset(out, 0, sizeof(*out));
    if (inc == 0 || inc > l->len)
        return;
    const struct incarnation_start *st = &l->p[inc - 1];
    *out = (struct diag_start){.restart = true,
                               .time_ns = st->t_ns,
                               .mode = st->mode,
                               .behind_ms = st->behind_ms,
                               .clock_applied = st->clock_applied};
}

/* ==== Set-up ==== */

struct report_diag *report_diag_new(struct sim *s)
{
    struct report_diag *r = xcalloc(1, sizeof(*r));
    r->s = s;
    r->first_dup_ns = -1;
    r->d = diag_new(&(struct diag_env){.node_count = s->node_count,
                                       .node_names = (const char *const *)s->cfg->node_names,
                                       .acknowledged = s->check->acknowledged,
                                       .clock_at = clock_at,
                                       .start_of = start_of,
                                       .ctx = r});
    return r;
}

void report_diag_free(struct report_diag *r)
{
    if (!r)
        return;
    diag_free(r->d);
    free(r->ops);
    free(r);
}

/* ==== Duplicated IDs ==== */

void report_diag_op(struct report_diag *r, const struct dup_op *d)
{
    if (r->ops_len == r->ops_cap) {
        r->ops_cap = r->ops_cap ? r->ops_cap * 2 : 16;
        r->ops = xrealloc(r->ops, r->ops_cap * sizeof(*r->ops));
    }
    r->ops[r->ops_len++] = (struct diag_op){.node = d->node,
                                            .incarnation = d->incarnation,
                                            .client = d->client,
                                            .process = d->process,
                                            .time_ns = d->time_ns,
                                            .known = true};
}

void report_diag_id(struct report_diag *r, const char *id_text)
{
    /* The ID became a duplicate when its second op completed. */
    int64_t t1 = INT64_MAX, t2 = INT64_MAX;
    for (size_t i = 0; i < r->ops_len; i++) {
        if (!r->ops[i].known)
            continue;
        int64_t t = r->ops[i].time_ns;
        if (t < t1) {
            t2 = t1;
            t1 = t;
        } else if (t < t2) {
            t2 = t;
        }
    }
    if (t2 != INT64_MAX && (r->first_dup_ns < 0 || t2 < r->first_dup_ns))
        r->first_dup_ns = t2;
    diag_add_id(r->d, id_text, r->ops, r->ops_len);
    r->ops_len = 0;
}

/* ==== The other failures ==== */

/* The summary's lines, bounded: a finding that finds no room is counted instead. */
struct lines {
    struct buf *b;
    unsigned used, skipped;
};

static bool room(struct lines *l, unsigned n)
{
    if (l->used + n > REPORT_DIAG_LINES_MAX) {
        l->skipped++;
        return false;
    }
    l->used += n;
    return true;
}

static void mask_words(unsigned mask, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    for (int k = 0; k < FAULT_KIND_COUNT && at < cap; k++)
        if (mask & (1u << k))
            at += (size_t)snprintf(out + at, cap - at, "%s%s", at ? "+" : "",
                                   fault_kind_name((enum fault_kind)k));
    if (!at)
        snprintf(out, cap, "no fault");
}

/* Ops that were not ok: per node (top few) and by the faults in force, into o; the largest
 * node and fault set into *node / *mask. Returns the total. */
static uint64_t notok_json(const struct sim *s, cJSON *o, uint32_t *node, unsigned *mask)
{
    uint64_t total = 0, best = 0;
    *node = 0;
    *mask = 0;
    cJSON *who = cJSON_AddArrayToObject(o, "involved");
    /* Top nodes: a selection of at most five, O(5N). */
    bool *taken = xcalloc(s->node_count ? s->node_count : 1, sizeof(bool));
    for (int round = 0; round < 5; round++) {
        uint64_t top = 0;
        uint32_t at = 0;
        for (uint32_t i = 0; i < s->node_count; i++) {
            uint64_t bad = s->nodes[i].ops - s->nodes[i].oks;
            if (!taken[i] && bad > top) {
                top = bad;
                at = i;
            }
        }
        if (!top)
            break;
        taken[at] = true;
        if (round == 0)
            *node = at;
        cJSON *w = cJSON_CreateObject();
        cJSON_AddStringToObject(w, "node", s->nodes[at].name);
        cJSON_AddNumberToObject(w, "ops-not-ok", (double)top);
        cJSON_AddNumberToObject(w, "incarnations", s->nodes[at].incarnation + 1);
        cJSON_AddItemToArray(who, w);
    }
    free(taken);
    cJSON *during = cJSON_AddArrayToObject(o, "during");
    for (unsigned m = 0; m < ARRAY_LEN(s->notok_by_faults); m++) {
        uint64_t n = s->notok_by_faults[m];
        total += n;
        if (!n)
            continue;
        if (n > best) {
            best = n;
            *mask = m;
        }
        cJSON *x = cJSON_CreateObject();
        cJSON *kinds = cJSON_AddArrayToObject(x, "faults");
        for (int k = 0; k < FAULT_KIND_COUNT; k++)
            if (m & (1u << k))
                cJSON_AddItemToArray(kinds,
                                     cJSON_CreateString(fault_kind_name((enum fault_kind)k)));
        cJSON_AddNumberToObject(x, "ops-not-ok", (double)n);
        cJSON_AddItemToArray(during, x);
    }
    return total;
}

static cJSON *finding(cJSON *list, const char *cls, uint64_t count)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "class", cls);
    cJSON_AddNumberToObject(o, "count", (double)count);
    cJSON_AddItemToArray(list, o);
    return o;
}

/* Where the not-ok ops were, in a sentence's words. */
static void notok_words(const struct sim *s, uint64_t total, uint32_t node, unsigned mask,
                        char *out, size_t cap)
{
    char kinds[80];
    mask_words(mask, kinds, sizeof(kinds));
    uint64_t on_node = s->nodes[node].ops - s->nodes[node].oks;
    snprintf(out, cap,
             "%" PRIu64 " op%s not ok, %" PRIu64 " of them on %.60s; %" PRIu64
             " while %s was in force",
             total, total == 1 ? " was" : "s were", on_node, s->nodes[node].name,
             s->notok_by_faults[mask], kinds);
}

static void add_echo(struct report_diag *r, cJSON *list, struct lines *lines)
{
    const struct sim *s = r->s;
    const struct check *c = s->check;
    if (c->workload != WORKLOAD_ECHO || c->echo_errors == 0)
        return;
    if (c->echo_wrong) {
        cJSON *o = finding(list, "echo-wrong-payload", c->echo_wrong);
        cJSON *ex = cJSON_AddObjectToObject(o, "example");
        const uint32_t nd = c->echo_wrong_first.node;
        cJSON_AddStringToObject(ex, "node", s->nodes[nd].name);
        cJSON_AddNumberToObject(ex, "incarnation", c->echo_wrong_first.incarnation);
        cJSON_AddNumberToObject(ex, "process", (double)c->echo_wrong_first.process);
        cJSON_AddNumberToObject(ex, "time", (double)c->echo_wrong_first.time_ns / 1e9);
        cJSON_AddStringToObject(ex, "error", c->echo_wrong_first.text);
        char cause[512];
        snprintf(cause, sizeof(cause),
                 "%.60s (and maybe others) replied with an echo that is not the one it was sent: "
                 "echo_ok must copy the request's echo value exactly, same type and text.",
                 s->nodes[nd].name);
        cJSON_AddStringToObject(o, "cause", cause);
        if (room(lines, 1))
            buf_printf(lines->b, "  echo-wrong-payload: %" PRIu64 ". %s\n", c->echo_wrong, cause);
    }
    uint64_t notok = c->echo_errors - c->echo_wrong;
    if (notok) {
        cJSON *o = finding(list, "echo-not-ok", notok);
        uint32_t node;
        unsigned mask;
        uint64_t total = notok_json(s, o, &node, &mask);
        char where[300], cause[600];
        notok_words(s, total, node, mask, where, sizeof(where));
        snprintf(cause, sizeof(cause),
                 "Echo ops that timed out or failed count as errors, as in Maelstrom's checker: "
                 "%s.",
                 where);
        cJSON_AddStringToObject(o, "cause", cause);
        if (room(lines, 1))
            buf_printf(lines->b, "  echo-not-ok: %" PRIu64 ". %s\n", notok, cause);
    }
}

static void add_availability(struct report_diag *r, cJSON *list, struct lines *lines)
{
    const struct sim *s = r->s;
    const struct check *c = s->check;
    const struct config *cfg = s->cfg;
    double frac = c->invokes ? (double)c->ok / (double)c->invokes : 1.0;
    bool bad = (cfg->availability == AVAILABILITY_TOTAL && c->ok != c->invokes) ||
               (cfg->availability == AVAILABILITY_FRACTION && frac < cfg->availability_min);
    if (!bad)
        return;
    cJSON *o = finding(list, "availability", c->invokes - c->ok);
    uint32_t node;
    unsigned mask;
    uint64_t total = notok_json(s, o, &node, &mask);
    char need[32], where[300], cause[600];
    if (cfg->availability == AVAILABILITY_TOTAL)
        snprintf(need, sizeof(need), "1 (total)");
    else
        snprintf(need, sizeof(need), "%g", cfg->availability_min);
    notok_words(s, total, node, mask, where, sizeof(where));
    snprintf(cause, sizeof(cause), "ok-fraction %.6f is below the required %s: %s.", frac, need,
             where);
    cJSON_AddStringToObject(o, "cause", cause);
    if (room(lines, 1))
        buf_printf(lines->b, "  availability: %" PRIu64 " ops not ok. %s\n", c->invokes - c->ok,
                   cause);
}

static const char *const violation_classes[] = {
    [VIOLATION_MUTE] = "protocol-mute",
    [VIOLATION_RPC] = "protocol-malformed-rpc-response",
    [VIOLATION_DROP] = "protocol-dropped-reply",
    [VIOLATION_WARNING] = "protocol-warning",
};

static void add_protocol(struct report_diag *r, cJSON *list, struct lines *lines, bool warnings)
{
    const struct sim *s = r->s;
    for (int k = 0; k <= VIOLATION_WARNING; k++) {
        if ((k == VIOLATION_WARNING) != warnings || s->violation_counts[k] == 0)
            continue;
        cJSON *o = finding(list, violation_classes[k], s->violation_counts[k]);
        const struct violation *v = NULL;
        for (uint32_t i = 0; i < s->violations_kept && !v; i++)
            if (s->violations[i].cls == (enum violation_class)k)
                v = &s->violations[i];
        const char *then = traffic_consequence((enum violation_class)k);
        cJSON_AddStringToObject(o, "maelstrom", then);
        if (!v) {
            cJSON_AddStringToObject(o, "cause", then);
            continue;
        }
        cJSON *ex = cJSON_AddObjectToObject(o, "example");
        cJSON_AddStringToObject(ex, "node", s->nodes[v->node].name);
        cJSON_AddNumberToObject(ex, "line-number", (double)v->line_no);
        cJSON_AddNumberToObject(ex, "time", (double)v->time_ns / 1e9);
        cJSON_AddStringToObject(ex, "line", v->line);
        cJSON_AddStringToObject(ex, "reason", v->reason);
        char cause[800];
        snprintf(cause, sizeof(cause), "%s (first: %.60s, stdout line %" PRIu64 ")%s%s. %s.",
                 v->reason, s->nodes[v->node].name, v->line_no, v->diagnosis ? "; " : "",
                 v->diagnosis ? v->diagnosis : "", then);
        cJSON_AddStringToObject(o, "cause", cause);
        if (room(lines, 2)) {
            /* For a terminal: well-formed, NUL bytes shown as U+FFFD, cut between characters. */
            char shown[utf8_repaired_max(sizeof(v->line))];
            size_t n = utf8_repair(shown, v->line, utf8_prefix(v->line, v->line_kept, 160), true);
            buf_printf(lines->b, "  %s: %" PRIu64 ". %s\n    line: %.*s%s\n", violation_classes[k],
                       s->violation_counts[k], cause, (int)n, shown,
                       v->line_len > 160 ? "..." : "");
        }
    }
}

static void add_unknown(struct report_diag *r, cJSON *list, struct lines *lines)
{
    const struct check *c = r->s->check;
    if (c->workload != WORKLOAD_UNIQUE_IDS)
        return;
    if (c->incomparable) {
        cJSON *o = finding(list, "incomparable-ids", 1);
        cJSON_AddStringToObject(o, "cause", c->incomparable_why);
        if (room(lines, 1))
            buf_printf(lines->b, "  incomparable-ids: %s\n", c->incomparable_why);
    }
    if (c->too_long) {
        cJSON *o = finding(list, "ids-too-long", c->too_long);
        cJSON_AddStringToObject(o, "cause",
                                "Some IDs are longer than eddy's checker keeps, so it cannot say "
                                "whether they repeat: the verdict is unknown.");
    }
}

/* ==== All of it ==== */

void report_diag_finish(struct report_diag *r, cJSON *res, struct buf *summary)
{
    struct sim *s = r->s;
    cJSON *list = cJSON_AddArrayToObject(res, "diagnosis");
    struct lines lines = {.b = summary};
    const struct diag_finding *f;
    size_t n = diag_finish(r->d, &f);
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(list, diag_finding_json(r->d, &f[i]));
        if (room(&lines, 2)) {
            char text[2048];
            diag_finding_text(r->d, &f[i], text, sizeof(text));
            buf_printf(summary, "%s", text);
        }
    }
    add_echo(r, list, &lines);
    add_availability(r, list, &lines);
    add_protocol(r, list, &lines, false);
    add_unknown(r, list, &lines);
    add_protocol(r, list, &lines, true);
    if (lines.skipped)
        buf_printf(summary, "  ... and %u more (results.json \"diagnosis\", report.html)\n",
                   lines.skipped);

    /* The first anomaly: what --fail-fast stops at and `eddy shrink` cuts the time limit to. */
    int64_t first = r->first_dup_ns;
    const char *what = "duplicate";
    if (s->check->echo_wrong && (first < 0 || s->check->echo_wrong_first.time_ns < first)) {
        first = s->check->echo_wrong_first.time_ns;
        what = "echo-wrong-payload";
    }
    for (uint32_t i = 0; i < s->violations_kept; i++) {
        const struct violation *v = &s->violations[i];
        if (v->cls != VIOLATION_WARNING && s->cfg->strict && (first < 0 || v->time_ns < first)) {
            first = v->time_ns;
            what = violation_classes[v->cls];
        }
    }
    if (first >= 0) {
        cJSON *fa = cJSON_AddObjectToObject(res, "first-anomaly");
        cJSON_AddNumberToObject(fa, "time", (double)first / 1e9);
        cJSON_AddStringToObject(fa, "class", what);
    }
}
