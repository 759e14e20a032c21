/*
 * report.c: results.json, the summary, the progress line (see report.h).
 *
 * Each section reports one checker's verdict; verdict.c composes them into the run's, as
 * Maelstrom does (eddy's protocol checker counts only under --strict). Duplicated IDs are
 * reported by report_dups.c from the ID set's entries.
 * Depends on: sim, check, history, canon, verdict, contain, clockroute, utf8, cJSON. Used by: run.
 */
#include "report.h"
#include "clockroute.h"
#include "junit.h"
#include "report_diag.h"
#include "report_dups.h"
#include "report_html.h"
#include "idprops.h"
#include "idset.h"
#include "store.h"
#include "verdict.h"
#include "utf8.h"
#include "eddy/alloc.h"
#include "eddy/clockctl.h"
#include "eddy/json.h"
#include "eddy/util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ==== State kept during the run ==== */

void report_init(struct sim *s)
{
    s->clock_series = xcalloc(s->node_count ? s->node_count : 1, sizeof(*s->clock_series));
    s->incarnations = xcalloc(s->node_count ? s->node_count : 1, sizeof(*s->incarnations));
}

void report_fini(struct sim *s)
{
    for (uint32_t i = 0; s->clock_series && i < s->node_count; i++)
        free(s->clock_series[i].p);
    free(s->clock_series);
    s->clock_series = NULL;
    for (uint32_t i = 0; s->incarnations && i < s->node_count; i++)
        free(s->incarnations[i].p);
    free(s->incarnations);
    s->incarnations = NULL;
}

void report_clock_sample(struct sim *s, uint32_t node, int64_t t_ns, int64_t offset_ns)
{
    struct clock_series *c = &s->clock_series[node];
    if (c->len >= CLOCK_POINTS_MAX) {
        c->dropped++;
        return;
    }
    if (c->len == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        c->p = xrealloc(c->p, c->cap * sizeof(*c->p));
    }
    /* The clock's parameters too: the diagnosis computes any op's clock from them. */
    struct clock_point *p = &c->p[c->len++];
    *p = (struct clock_point){.t_ns = t_ns,
                              .offset_ns = offset_ns,
                              .real_ns = clockctl_real_now_ns(),
                              .incarnation = s->nodes[node].incarnation};
    if (s->nodes[node].clock && !clockctl_params_read(s->nodes[node].clock, &p->params))
        memset(&p->params, 0, sizeof(p->params));
}

void report_incarnation_start(struct sim *s, const struct sim_node *n, enum restart_clock mode,
                              double behind_ms, bool clock_applied)
{
    struct incarnation_log *l = &s->incarnations[n->index];
    /* Incarnations come one per kill, and kills are fault events: FAULT_LOG_MAX bounds them. */
    if (l->len >= FAULT_LOG_MAX)
        return;
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->p = xrealloc(l->p, l->cap * sizeof(*l->p));
    }
    l->p[l->len++] = (struct incarnation_start){
        .t_ns = s->now_ns, .mode = mode, .behind_ms = behind_ms, .clock_applied = clock_applied};
}

/* ==== Progress ==== */

static size_t faults_now(const struct sim *s, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    for (int k = 0; k < FAULT_KIND_COUNT; k++) {
        if (!(s->faults_active & (1u << k)))
            continue;
        int n = snprintf(out + at, cap - at, "%s%s", at ? "," : "",
                         fault_kind_name((enum fault_kind)k));
        if (n < 0 || (size_t)n >= cap - at)
            break;
        at += (size_t)n;
    }
    if (at == 0)
        at = (size_t)snprintf(out, cap, "none");
    return at;
}

void report_progress(struct sim *s, bool final)
{
    if (!s->progress_timer.cb || !ev_is_active(&s->progress_timer)) {
        if (final && s->progress_shown)
            fputs("\r\033[K", stderr);
        return;
    }
    if (final) {
        fputs("\r\033[K", stderr);
        return;
    }
    static uint64_t last_count;
    static int64_t last_ns;
    /* The loop's own counts: the checker's belong to its thread until the end. */
    const struct {
        uint64_t count, ok, fail, info;
    } *c = (const void *)&s->progress;
    double rate = 0;
    if (s->now_ns > last_ns && last_ns > 0)
        rate = (double)(c->count - last_count) * 1e9 / (double)(s->now_ns - last_ns);
    last_count = c->count;
    last_ns = s->now_ns;
    double t = s->init_done ? (double)s->now_ns / 1e9 : 0;
    double limit = s->cfg->time_limit_s;
    int width = 24, filled = (int)(width * EDDY_MIN(t / limit, 1.0));
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    char faults[128];
    faults_now(s, faults, sizeof(faults));
    fprintf(stderr,
            "\r\033[K[%s] %5.1f/%.0fs  ok %llu  fail %llu  info %llu  %8.0f ops/s  faults: %s", bar,
            t, limit, (unsigned long long)c->ok, (unsigned long long)c->fail,
            (unsigned long long)c->info, rate, s->init_done ? faults : "(init)");
    fflush(stderr);
    s->progress_shown = true;
}

/* ==== Helpers ==== */

static cJSON *add_obj(cJSON *parent, const char *key)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(parent, key, o);
    return o;
}

static void add_num(cJSON *o, const char *key, double v)
{
    cJSON_AddItemToObject(o, key, cJSON_CreateNumber(v));
}

static void add_bool(cJSON *o, const char *key, bool v)
{
    cJSON_AddItemToObject(o, key, cJSON_CreateBool(v));
}

static void add_str(cJSON *o, const char *key, const char *v)
{
    cJSON_AddItemToObject(o, key, cJSON_CreateString(v));
}

static void add_valid(cJSON *o, enum verdict v)
{
    if (v == V_UNKNOWN)
        add_str(o, "valid?", "unknown");
    else
        add_bool(o, "valid?", v == V_TRUE);
}

/* Bytes as an exact JSON string: NUL bytes escaped rather than cut (cJSON strings are C
 * strings), ill-formed UTF-8 as U+FFFD. */
static cJSON *raw_bytes(const char *p, size_t n)
{
    char *fixed = xmalloc(utf8_repaired_max(n) + 1);
    size_t k = utf8_repair(fixed, p, n, false);
    char *text = xmalloc(json_escaped_max(k) + 1);
    text[json_escape(text, fixed, k)] = '\0';
    cJSON *r = cJSON_CreateRaw(text);
    free(text);
    free(fixed);
    return r;
}

/* Replaces ill-formed UTF-8 in one cJSON-owned string with U+FFFD. */
static char *repaired_string(char *str)
{
    size_t n = strlen(str);
    if (utf8_valid(str, n))
        return str;
    char *fixed = cJSON_malloc(utf8_repaired_max(n) + 1);
    fixed[utf8_repair(fixed, str, n, false)] = '\0';
    cJSON_free(str);
    return fixed;
}

/* Every string and key of the tree as well-formed UTF-8, so that each output made from it
 * (results.json, duplicates.jsonl, report.html, JUnit) is, whatever a node printed or a user
 * named. Most strings already are; this is the net under all of them. */
void report_repair_tree(cJSON *item)
{
    for (; item; item = item->next) {
        if (item->string && !(item->type & cJSON_StringIsConst))
            item->string = repaired_string(item->string);
        if ((cJSON_IsString(item) || cJSON_IsRaw(item)) && item->valuestring)
            item->valuestring = repaired_string(item->valuestring);
        report_repair_tree(item->child);
    }
}

/* ==== Sections ==== */

static enum verdict add_stats(cJSON *res, const struct check *c, const struct sim *s)
{
    cJSON *st = add_obj(res, "stats");
    /* Jepsen's stats: each :f is valid iff it has at least one ok. */
    enum verdict v = (c->count == 0 || c->ok > 0) ? V_TRUE : V_FALSE;
    add_valid(st, v);
    add_num(st, "count", (double)c->count);
    add_num(st, "ok-count", (double)c->ok);
    add_num(st, "fail-count", (double)c->fail);
    add_num(st, "info-count", (double)c->info);
    cJSON *by = add_obj(st, "by-f");
    if (c->count) {
        cJSON *f = add_obj(by, s->cfg->workload == WORKLOAD_ECHO ? "echo" : "generate");
        add_valid(f, v);
        add_num(f, "count", (double)c->count);
        add_num(f, "ok-count", (double)c->ok);
        add_num(f, "fail-count", (double)c->fail);
        add_num(f, "info-count", (double)c->info);
    }
    return v;
}

static enum verdict add_availability(cJSON *res, const struct check *c, const struct config *cfg)
{
    cJSON *a = add_obj(res, "availability");
    enum verdict v =
        verdict_availability(cfg->availability, cfg->availability_min, c->ok, c->invokes);
    add_valid(a, v);
    add_num(a, "ok-fraction", (double)verdict_ok_fraction(c->ok, c->invokes));
    return v;
}

static void add_net_part(cJSON *o, const char *key, uint64_t send, uint64_t recv, uint64_t msgs,
                         uint64_t invokes, bool per_op)
{
    cJSON *p = add_obj(o, key);
    add_num(p, "send-count", (double)send);
    add_num(p, "recv-count", (double)recv);
    add_num(p, "msg-count", (double)msgs);
    if (per_op && invokes)
        add_num(p, "msgs-per-op", (double)msgs / (double)invokes);
}

static void add_net(cJSON *res, const struct sim *s)
{
    cJSON *n = add_obj(res, "net");
    uint64_t inv = s->check->invokes;
    add_net_part(n, "all", s->net_all.send, s->net_all.recv, s->net_all.msgs, inv, true);
    add_net_part(n, "clients", s->net_clients.send, s->net_clients.recv, s->net_clients.msgs, inv,
                 false);
    add_net_part(n, "servers", s->net_servers.send, s->net_servers.recv, s->net_servers.msgs, inv,
                 true);
    add_bool(n, "valid?", true);
    const struct net_stats *ns = net_stats(s->net);
    cJSON *f = add_obj(n, "eddy-faults");
    add_num(f, "lost", (double)ns->lost);
    add_num(f, "duplicated", (double)ns->duplicated);
    add_num(f, "partitioned", (double)ns->partitioned);
    add_num(f, "overflowed", (double)ns->overflowed);
    add_num(f, "service-requests", (double)s->service_requests);
}

static void add_exceptions(cJSON *res, const struct check *c)
{
    cJSON *e = add_obj(res, "exceptions");
    add_bool(e, "valid?", true);
    if (!c->exception_kinds)
        return;
    cJSON *list = cJSON_CreateArray();
    cJSON_AddItemToObject(e, "exceptions", list);
    for (unsigned i = 0; i < c->exception_kinds; i++) {
        cJSON *x = cJSON_CreateObject();
        add_num(x, "count", (double)c->exceptions[i].count);
        /* Jepsen groups by the class of the exception (jepsen checker.clj unhandled-exceptions);
         * Maelstrom throws every one with slingshot's throw+, an ExceptionInfo whose :type
         * names the problem. */
        add_str(x, "class", "clojure.lang.ExceptionInfo");
        add_str(x, "type", c->exceptions[i].name);
        add_str(x, "example", c->exceptions[i].example);
        cJSON_AddItemToArray(list, x);
    }
}

/* The ID set: its memory against the budget, its disk, and why its answer may be incomplete. */
static void add_id_checker(cJSON *w, struct sim *s, struct buf *summary)
{
    struct check *c = s->check;
    cJSON *k = add_obj(w, "eddy-checker");
    add_num(k, "ids", (double)idset_count(c->ids));
    add_num(k, "bytes", (double)idset_bytes(c->ids));
    add_num(k, "bytes-max", (double)idset_bytes_max(c->ids));
    add_num(k, "memory-budget", (double)s->cfg->checker_memory);
    add_num(k, "scratch-bytes", (double)idset_scratch_bytes(c->ids));
    add_num(k, "disk-bytes", (double)idset_disk_bytes(c->ids));
    add_num(k, "runs-on-disk", (double)idset_runs(c->ids));
    add_num(k, "repeats-seen-while-running", (double)c->repeats);
    add_num(k, "ops-beyond-first", (double)c->dup_extra);
    if (c->spill_started_ns)
        add_num(k, "runs-from-s", (double)c->spill_started_ns / 1e9);
    char why[512];
    why[0] = '\0';
    if (idset_error(c->ids))
        snprintf(why, sizeof(why),
                 "the checker could not write its spill file in %s (%s): %llu IDs could not be "
                 "checked",
                 s->run_dir, strerror(-idset_error(c->ids)), (unsigned long long)c->unchecked);
    else if (!c->finished)
        snprintf(why, sizeof(why), "the final checks did not run (interrupted)");
    else if (c->finish_error == -ECANCELED)
        snprintf(why, sizeof(why),
                 "the final checks were interrupted: duplicates are those "
                 "found until then");
    else if (c->finish_error)
        snprintf(why, sizeof(why),
                 "the checker could not read back its spill file (%s): duplicates are those "
                 "found until then",
                 strerror(-c->finish_error));
    else if (c->finish_memory_only && idset_runs(c->ids))
        snprintf(why, sizeof(why),
                 "interrupted: the %llu runs of IDs on disk were not merged, "
                 "so repeats of IDs that went to disk were not looked for",
                 (unsigned long long)idset_runs(c->ids));
    if (why[0]) {
        add_str(k, "incomplete", why);
        buf_printf(summary, "Checker: incomplete: %s\n", why);
    }
}

static enum verdict add_workload(cJSON *res, struct sim *s, struct buf *summary,
                                 struct report_diag *rd)
{
    struct check *c = s->check;
    cJSON *w = add_obj(res, "workload");
    if (s->cfg->workload == WORKLOAD_ECHO) {
        enum verdict v = c->echo_errors ? V_FALSE : V_TRUE;
        add_valid(w, v);
        cJSON *errs = cJSON_CreateArray();
        cJSON_AddItemToObject(w, "errors", errs);
        for (uint64_t i = 0; i < c->echo_errors && i < CHECK_ECHO_ERRORS_MAX; i++)
            cJSON_AddItemToArray(errs, cJSON_CreateString(c->echo_error_text[i]));
        add_num(w, "error-count", (double)c->echo_errors);
        buf_printf(summary, "echo: %llu of %llu ops answered with the right payload\n",
                   (unsigned long long)(c->count - c->echo_errors), (unsigned long long)c->count);
        return v;
    }
    /* Jepsen's checker folds the range and the frequencies together: when two IDs cannot be
     * compared it throws before any duplicate is counted, so the answer is unknown even if
     * there are duplicates too (eddy still lists them). IDs that could not be checked (too
     * long, or a full disk under the checker's spill) make a valid run unknown; a duplicate
     * found is still a duplicate. */
    enum verdict v = c->incomparable ? V_UNKNOWN : c->dup_ids ? V_FALSE : V_TRUE;
    bool incomplete = c->too_long || c->unchecked || !c->finished || c->finish_error;
    if (incomplete)
        v = verdict_merge(v, V_UNKNOWN);
    add_valid(w, v);
    add_num(w, "attempted-count", (double)c->invokes);
    add_num(w, "acknowledged-count", (double)c->acknowledged);
    add_num(w, "duplicated-count", (double)c->dup_ids);
    if (c->incomparable) {
        add_str(w, "error", c->incomparable_why);
    } else if (c->range_lo_text) {
        cJSON *r = cJSON_CreateArray();
        cJSON_AddItemToArray(r, report_id_json(c->range_lo_text, strlen(c->range_lo_text)));
        cJSON_AddItemToArray(r, report_id_json(c->range_hi_text, strlen(c->range_hi_text)));
        cJSON_AddItemToObject(w, "range", r);
    }
    if (c->too_long)
        add_num(w, "ids-too-long-to-check", (double)c->too_long);
    add_id_checker(w, s, summary);
    buf_printf(summary, "unique-ids: %llu acknowledged of %llu attempted, %llu duplicated IDs%s\n",
               (unsigned long long)c->acknowledged, (unsigned long long)c->invokes,
               (unsigned long long)c->dup_ids,
               c->dup_ids ? " (each with its ops: duplicates.jsonl, report.html)" : "");
    report_dups_add(w, s, rd);
    if (c->props)
        cJSON_AddItemToObject(res, "id-properties",
                              idprops_json(c->props, (const char *const *)s->cfg->node_names));
    return v;
}

static const char *class_name(enum violation_class c)
{
    switch (c) {
    case VIOLATION_MUTE:
        return "mute";
    case VIOLATION_RPC:
        return "malformed-rpc-response";
    case VIOLATION_DROP:
        return "dropped-reply";
    case VIOLATION_WARNING:
        return "warning";
    }
    return "?";
}

static const char protocol_warning[] =
    "warnings only: Maelstrom's verdict does not count protocol violations (its exceptions "
    "checker is always valid); the ops they cost fail a run only through --availability or a "
    "checker they starve. --strict makes them fail the run.";

static enum verdict add_protocol(cJSON *res, const struct sim *s)
{
    cJSON *p = add_obj(res, "protocol");
    uint64_t bad = s->violation_counts[VIOLATION_MUTE] + s->violation_counts[VIOLATION_RPC] +
                   s->violation_counts[VIOLATION_DROP];
    enum verdict v = bad ? V_FALSE : V_TRUE;
    add_valid(p, v);
    add_bool(p, "strict", s->cfg->strict);
    if (bad && !s->cfg->strict)
        add_str(p, "warning", protocol_warning);
    add_num(p, "violation-count", (double)bad);
    add_num(p, "warning-count", (double)s->violation_counts[VIOLATION_WARNING]);
    cJSON *by = add_obj(p, "by-class");
    for (int k = 0; k <= VIOLATION_WARNING; k++)
        add_num(by, class_name((enum violation_class)k), (double)s->violation_counts[k]);
    cJSON *list = cJSON_CreateArray();
    cJSON_AddItemToObject(p, "violations", list);
    for (uint32_t i = 0; i < s->violations_kept; i++) {
        const struct violation *x = &s->violations[i];
        cJSON *o = cJSON_CreateObject();
        add_str(o, "node", s->nodes[x->node].name);
        add_num(o, "line-number", (double)x->line_no);
        add_num(o, "time", (double)x->time_ns);
        add_str(o, "class", class_name(x->cls));
        add_str(o, "reason", x->reason);
        cJSON_AddItemToObject(o, "line", raw_bytes(x->line, x->line_kept));
        add_num(o, "line-length", (double)x->line_len);
        add_str(o, "maelstrom", traffic_consequence(x->cls));
        add_bool(o, "before-init-ok", x->before_init_ok);
        if (x->diagnosis)
            add_str(o, "diagnosis", x->diagnosis);
        cJSON_AddItemToArray(list, o);
    }
    return v;
}

static void add_latency(cJSON *res, const struct sim *s)
{
    const struct check *c = s->check;
    cJSON *l = add_obj(res, "latency");
    static const double qs[] = {0.5, 0.9, 0.95, 0.99, 0.999, 1.0};
    static const char *const names[] = {"p50", "p90", "p95", "p99", "p999", "max"};
    cJSON *all = add_obj(l, "all-ms"), *ok = add_obj(l, "ok-ms");
    for (size_t i = 0; i < ARRAY_LEN(qs); i++) {
        add_num(all, names[i], (double)check_quantile(&c->lat_all, qs[i]) / 1e6);
        add_num(ok, names[i], (double)check_quantile(&c->lat_ok, qs[i]) / 1e6);
    }
    double secs = (double)s->client_ns / 1e9;
    add_num(l, "ops-per-second", secs > 0 ? (double)c->count / secs : 0);
}

static void add_faults(cJSON *res, const struct sim *s)
{
    cJSON *f = add_obj(res, "faults");
    cJSON *kinds = cJSON_CreateArray();
    for (int k = 0; k < FAULT_KIND_COUNT; k++)
        if (s->cfg->nemesis & (1u << k))
            cJSON_AddItemToArray(kinds, cJSON_CreateString(fault_kind_name((enum fault_kind)k)));
    cJSON_AddItemToObject(f, "random", kinds);
    add_num(f, "interval", s->cfg->nemesis_interval_s);
    add_num(f, "planned", (double)s->plan.len);
    if (s->plan.truncated)
        add_str(f, "warning", "the fault plan reached its limit; later events were dropped");
    uint64_t applied = 0, refused = 0;
    cJSON *ev = cJSON_CreateArray();
    cJSON_AddItemToObject(f, "events", ev);
    for (size_t i = 0; i < s->fault_log_len; i++) {
        const struct fault_record *r = &s->fault_log[i];
        applied += r->applied;
        refused += !r->applied;
        cJSON *o = cJSON_CreateObject();
        add_num(o, "time", (double)r->time_ns);
        add_str(o, "f", fault_action_name(r->action));
        add_str(o, "kind", fault_kind_name(fault_action_kind(r->action)));
        add_bool(o, "applied", r->applied);
        add_str(o, "detail", r->detail);
        if (r->timeline)
            add_num(o, "timeline", (double)(r->timeline - 1));
        cJSON_AddItemToArray(ev, o);
    }
    add_num(f, "applied-count", (double)applied);
    add_num(f, "not-applied-count", (double)refused);
    cJSON *clk = add_obj(f, "clocks");
    for (uint32_t i = 0; i < s->node_count; i++) {
        const struct sim_node *n = &s->nodes[i];
        if (!n->clock && !s->clock_needed)
            continue;
        cJSON *o = add_obj(clk, n->name);
        add_bool(o, "controlled", n->clock != NULL);
        add_bool(o, "library-loaded", n->clock_loaded);
        /* Reads faked through either route: the library counts its own, eddy the trapped. */
        add_num(o, "reads",
                n->clock ? (double)(clockctl_reads(n->clock) + clockroute_trapped_reads(n)) : 0);
        clockroute_json(n, o);
        cJSON *pts = cJSON_CreateArray();
        cJSON_AddItemToObject(o, "offsets", pts);
        const struct clock_series *c = &s->clock_series[i];
        if (c->dropped)
            add_num(o, "offsets-not-kept", (double)c->dropped);
        for (size_t k = 0; k < c->len; k++) {
            cJSON *pt = cJSON_CreateArray();
            cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)c->p[k].t_ns / 1e9));
            cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)c->p[k].offset_ns / 1e6));
            cJSON_AddItemToArray(pts, pt);
        }
    }
}

static void add_nodes(cJSON *res, const struct sim *s)
{
    cJSON *o = add_obj(res, "nodes");
    for (uint32_t i = 0; i < s->node_count; i++) {
        const struct sim_node *n = &s->nodes[i];
        cJSON *x = add_obj(o, n->name);
        add_num(x, "ops", (double)n->ops);
        add_num(x, "ok", (double)n->oks);
        add_num(x, "incarnations", n->incarnation + 1);
        add_num(x, "violations", (double)n->violations);
        add_bool(x, "muted", n->muted);
        add_num(x, "lines-ignored-after-mute", (double)n->muted_lines);
        add_num(x, "late-replies", (double)n->late_replies);
        add_num(x, "messages-not-delivered", (double)n->stdin_drops);
        add_num(x, "stdout-lines", (double)n->proc.stdout_lines);
        if (n->lines_repaired)
            add_num(x, "stdout-lines-not-utf8", (double)n->lines_repaired);
        add_bool(x, "stdout-closed", n->stdout_closed_alive);
        add_num(x, "stdin-dropped", (double)n->proc.stdin_dropped);
        add_bool(x, "log-truncated", n->proc.log_truncated);
        if (n->proc.cut_count) {
            /* Unterminated last lines of incarnations eddy killed: its own doing, no violation. */
            cJSON *cut = add_obj(x, "stdout-cut-by-kill");
            add_num(cut, "count", (double)n->proc.cut_count);
            add_num(cut, "bytes", (double)n->proc.cut_bytes);
            size_t kept = utf8_prefix(n->proc.cut_last, n->proc.cut_last_len, PROC_CUT_KEPT);
            cJSON_AddItemToObject(cut, "last", raw_bytes(n->proc.cut_last, kept));
        }
        if (n->exited)
            add_num(x, "exit-status", n->exit_status);
        cJSON *pids = cJSON_CreateArray();
        uint32_t kept = EDDY_MIN(n->pid_count, (uint32_t)ARRAY_LEN(n->pids));
        for (uint32_t k = 0; k < kept; k++) {
            uint32_t at = (n->pid_count - kept + k) % ARRAY_LEN(n->pids);
            cJSON_AddItemToArray(pids, cJSON_CreateNumber(n->pids[at]));
        }
        cJSON_AddItemToObject(x, "pids", pids);
    }
}

static void add_plot(cJSON *res, const struct sim *s)
{
    const struct check *c = s->check;
    cJSON *p = add_obj(res, "plot");
    add_num(p, "bucket-seconds", c->bucket_ns / 1e9);
    cJSON *b = cJSON_CreateArray();
    cJSON_AddItemToObject(p, "buckets", b);
    for (int i = 0; i < CHECK_BUCKETS; i++) {
        const struct time_bucket *t = &c->buckets[i];
        if (!t->ok && !t->fail && !t->info)
            continue;
        cJSON *x = cJSON_CreateObject();
        add_num(x, "t", i * c->bucket_ns / 1e9);
        add_num(x, "ok", t->ok);
        add_num(x, "fail", t->fail);
        add_num(x, "info", t->info);
        add_num(x, "p50-ms", check_bucket_quantile(t, 0.5) / 1e3);
        add_num(x, "p99-ms", check_bucket_quantile(t, 0.99) / 1e3);
        add_num(x, "max-ms", t->latency_max_us / 1e3);
        cJSON_AddItemToArray(b, x);
    }
    cJSON *sm = cJSON_CreateArray();
    cJSON_AddItemToObject(p, "samples", sm);
    for (uint32_t i = 0; i < c->samples_len; i++) {
        const struct sample *x = &c->samples[i];
        cJSON *pt = cJSON_CreateArray();
        cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)x->time_ns / 1e9));
        cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)x->latency_ns / 1e6));
        cJSON_AddItemToArray(pt, cJSON_CreateString(op_type_name(x->type)));
        cJSON_AddItemToArray(pt, cJSON_CreateString(s->nodes[x->node].name));
        cJSON_AddItemToArray(sm, pt);
    }
    cJSON *msgs = cJSON_CreateArray();
    cJSON_AddItemToObject(p, "messages", msgs);
    for (uint32_t i = 0; i < s->messages_len; i++) {
        cJSON *m = cJSON_CreateObject();
        char name[32];
        uint32_t src = s->messages[i].src, dest = s->messages[i].dest;
        if (src < s->node_count)
            add_str(m, "from", s->nodes[src].name);
        else
            add_str(m, "from", (snprintf(name, sizeof(name), "c%u", src - s->node_count), name));
        if (dest < s->node_count)
            add_str(m, "to", s->nodes[dest].name);
        else
            add_str(m, "to", (snprintf(name, sizeof(name), "c%u", dest - s->node_count), name));
        add_num(m, "send", (double)s->messages[i].send_ns / 1e9);
        if (s->messages[i].recv_ns >= 0)
            add_num(m, "recv", (double)s->messages[i].recv_ns / 1e9);
        add_str(m, "type", s->messages[i].type);
        add_bool(m, "dropped", s->messages[i].dropped);
        cJSON_AddItemToArray(msgs, m);
    }
}

/* The checker's queue: how full it got, and the back-pressure it put on the nodes. */
static void add_checker(cJSON *e, const struct sim *s)
{
    cJSON *k = add_obj(e, "checker");
    add_num(k, "queue-bytes-max", (double)s->checkq_stats.bytes_max);
    add_num(k, "queue-overflowed", (double)s->checkq_stats.overflowed);
    add_num(k, "backpressure-pauses", (double)s->backpressure_pauses);
    add_num(k, "backpressure-s", (double)s->backpressure_ns / 1e9);
    if (s->checkq_stats.unchecked)
        add_num(k, "ops-not-checked", (double)s->checkq_stats.unchecked);
}

static void add_config(cJSON *res, const struct sim *s)
{
    const struct config *c = s->cfg;
    cJSON *e = add_obj(res, "eddy");
    add_str(e, "version", EDDY_VERSION);
    add_str(e, "command", s->command_line);
    add_str(e, "run-dir", s->run_dir);
    add_str(e, "bin", c->bin);
    add_str(e, "workload", workload_name(c->workload));
    add_num(e, "node-count", s->node_count);
    add_num(e, "concurrency", c->concurrency);
    add_num(e, "time-limit", c->time_limit_s);
    if (c->rate_max)
        add_str(e, "rate", "max");
    else
        add_num(e, "rate", c->rate);
    add_num(e, "latency", c->latency_ms);
    add_bool(e, "history", c->history);
    add_num(e, "orphans-killed", s->descendants.reaped);
    cJSON *d = add_obj(e, "descendants");
    if (contain_cgroup())
        add_str(d, "cgroup", contain_cgroup());
    else
        add_str(d, "no-cgroup", contain_why_not());
    add_num(d, "reaped", s->descendants.reaped);
    add_num(d, "left", s->descendants.left);
    add_num(d, "seconds", s->descendants.seconds);
    add_num(e, "init-ms", (double)s->init_ns / 1e6);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        add_num(e, "max-rss-kb", (double)ru.ru_maxrss);
        /* eddy's own CPU, all its threads, not the nodes': what benchmarks compare per op. */
        add_num(e, "cpu-user-s", (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6);
        add_num(e, "cpu-system-s", (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    }
    if (s->hist.error) {
        char msg[256];
        snprintf(msg, sizeof(msg), "history.jsonl is incomplete: %s; %llu lines were not written",
                 strerror(s->hist.error), (unsigned long long)s->hist.lost);
        add_str(e, "history-error", msg);
    }
    if (proc_logs_full())
        add_str(e, "node-logs-limit",
                "the node logs together reached their size limit; each "
                "log stopped there (see nodes' log-truncated)");
    if (s->hist.over_max) {
        cJSON *h = add_obj(e, "history-limit");
        add_num(h, "max-bytes", (double)s->hist.max_bytes);
        add_num(h, "lines-not-written", (double)s->hist.over_max);
    }
    if (c->scenario)
        add_str(e, "scenario", c->scenario);
    add_checker(e, s);
}

/* ==== The whole map ==== */

static int write_file_atomic(const char *path, const char *text, char *err, size_t elen)
{
    char tmp[1300];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, elen, "cannot write %s: %s", tmp, strerror(errno));
        return -errno;
    }
    size_t len = strlen(text), at = 0;
    while (at < len) {
        ssize_t n = write(fd, text + at, len - at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, elen, "cannot write %s: %s", path, n < 0 ? strerror(errno) : "disk full");
            close(fd);
            unlink(tmp);
            return -EIO;
        }
        at += (size_t)n;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        snprintf(err, elen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -EIO;
    }
    return 0;
}

int report_write(struct sim *s)
{
    struct check *c = s->check;
    struct buf summary;
    buf_init(&summary, 1u << 20);
    cJSON *res = cJSON_CreateObject();

    cJSON *perf = add_obj(res, "perf");
    add_obj(perf, "latency-graph");
    add_bool(cJSON_GetObjectItem(perf, "latency-graph"), "valid?", true);
    add_obj(perf, "rate-graph");
    add_bool(cJSON_GetObjectItem(perf, "rate-graph"), "valid?", true);
    add_bool(perf, "valid?", true);
    add_bool(add_obj(res, "timeline"), "valid?", true);
    add_exceptions(res, c);
    /* Every checker below reports its own verdict; verdict_compose decides the run's. perf,
     * timeline, exceptions and net are always valid, as in Maelstrom. */
    struct verdict_input in = {.strict = s->cfg->strict,
                               .broke = s->exit_code == 255 || s->interrupted};
    in.part[VERDICT_STATS] = add_stats(res, c, s);
    in.part[VERDICT_AVAILABILITY] = add_availability(res, c, s->cfg);
    add_net(res, s);
    struct buf wsum, dsum;
    buf_init(&wsum, 1u << 20);
    buf_init(&dsum, 1u << 20);
    struct report_diag *rd = report_diag_new(s);
    in.part[VERDICT_WORKLOAD] = add_workload(res, s, &wsum, rd);
    in.part[VERDICT_PROTOCOL] = add_protocol(res, s);
    report_diag_finish(rd, res, &dsum);
    report_diag_free(rd);
    /* A run that could not inject a kind of fault it was asked for proves nothing about it. */
    char unreached[1024];
    size_t unreached_count = faults_unreached(s, unreached, sizeof(unreached));
    in.unreached = unreached_count && !s->cfg->allow_unapplied_faults;
    enum verdict v = verdict_compose(&in);
    add_valid(res, v);

    add_num(res, "seed", (double)s->cfg->seed);
    add_latency(res, s);
    add_faults(res, s);
    if (unreached_count) {
        cJSON *f = cJSON_GetObjectItemCaseSensitive(res, "faults");
        add_num(f, "unreached-count", (double)unreached_count);
        add_str(f, "unreached", unreached);
        add_bool(f, "unreached-allowed", s->cfg->allow_unapplied_faults);
    }
    add_nodes(res, s);
    add_config(res, s);
    add_plot(res, s);
    if (s->exit_code == 255)
        add_str(res, "error", s->crash);
    if (s->interrupted) {
        add_bool(res, "interrupted", true);
        add_str(res, "interrupted-by", strsignal(s->interrupt_signal));
    }
    if (s->fail_fast_ns >= 0) {
        cJSON *ff = add_obj(res, "fail-fast");
        add_num(ff, "time", (double)s->fail_fast_ns / 1e9);
        add_str(ff, "what", s->fail_fast_what);
    }

    report_repair_tree(res);
    char *text = cJSON_Print(res);
    char err[512];
    bool results_ok = write_file_atomic(store_path(s, "results.json"), text, err, sizeof(err)) == 0;
    cJSON_free(text);
    if (!results_ok)
        fprintf(stderr, "eddy: %s\n", err);
    if (report_html_write(res, store_path(s, "report.html"), err, sizeof(err)) < 0)
        fprintf(stderr, "eddy: %s\n", err);
    if (s->cfg->junit && junit_write(res, s->cfg->junit, err, sizeof(err)) < 0)
        fprintf(stderr, "eddy: %s\n", err);

    /* The summary, Maelstrom's verdict line last. */
    if (s->exit_code == 255)
        printf("\neddy: the run broke: %s\n", s->crash);
    if (s->interrupted)
        printf("\neddy: interrupted by %s: the results below are partial\n",
               strsignal(s->interrupt_signal));
    printf("\nRun: %s\n", s->run_dir);
    if (s->fail_fast_ns >= 0)
        printf("Fail-fast: the run ended at %.3f s of %g, at %s\n", (double)s->fail_fast_ns / 1e9,
               s->cfg->time_limit_s, s->fail_fast_what);
    /* What went wrong comes first, bounded (REPORT_DIAG_LINES_MAX): the details are in
     * results.json "diagnosis", report.html and duplicates.jsonl. */
    if (buf_len(&dsum)) {
        printf("Diagnosis:\n");
        fwrite(buf_peek(&dsum), 1, buf_len(&dsum), stdout);
    }
    printf("Ops: %llu (ok %llu, fail %llu, info %llu) in %.1f s; latency p50 %.3f ms, p99 %.3f "
           "ms, max %.3f ms\n",
           (unsigned long long)c->count, (unsigned long long)c->ok, (unsigned long long)c->fail,
           (unsigned long long)c->info, (double)s->client_ns / 1e9,
           (double)check_quantile(&c->lat_all, 0.5) / 1e6,
           (double)check_quantile(&c->lat_all, 0.99) / 1e6, (double)c->lat_all.max_ns / 1e6);
    printf("Rate: %.1f ops/s; net %llu messages, %.4f per op\n",
           s->client_ns > 0 ? (double)c->count / ((double)s->client_ns / 1e9) : 0,
           (unsigned long long)s->net_all.msgs,
           c->invokes ? (double)s->net_all.msgs / (double)c->invokes : 0);
    uint64_t applied = 0, refused = 0;
    for (size_t i = 0; i < s->fault_log_len; i++) {
        applied += s->fault_log[i].applied;
        refused += !s->fault_log[i].applied;
    }
    if (s->fault_log_len)
        printf("Faults: %llu applied, %llu could not be applied (see results.json faults)\n",
               (unsigned long long)applied, (unsigned long long)refused);
    uint64_t cut = 0;
    for (uint32_t i = 0; i < s->node_count; i++)
        cut += s->nodes[i].proc.cut_count;
    if (cut)
        printf("Stdout: %llu unterminated last lines cut by eddy's SIGKILL (not violations; "
               "results.json nodes.*.stdout-cut-by-kill)\n",
               (unsigned long long)cut);
    clockroute_summary(s, stdout);
    if (s->service_requests)
        printf("Services: %llu messages to Maelstrom services, which eddy does not simulate "
               "(answered with error 10)\n",
               (unsigned long long)s->service_requests);
    fwrite(buf_peek(&wsum), 1, buf_len(&wsum), stdout);
    uint64_t bad = s->violation_counts[VIOLATION_MUTE] + s->violation_counts[VIOLATION_RPC] +
                   s->violation_counts[VIOLATION_DROP];
    if (bad || s->violation_counts[VIOLATION_WARNING]) {
        printf("Protocol: %llu violations, %llu warnings%s (each: results.json protocol, "
               "report.html)\n",
               (unsigned long long)bad, (unsigned long long)s->violation_counts[VIOLATION_WARNING],
               !bad             ? ""
               : s->cfg->strict ? "; --strict: the violations fail the run"
                                : "; not counted in the verdict, as in Maelstrom; --strict "
                                  "counts them");
    } else {
        printf("Protocol: no violations\n");
    }
    cJSON *avail = cJSON_GetObjectItem(res, "availability");
    printf("Availability: ok-fraction %.6f (%s)\n",
           cJSON_GetObjectItem(avail, "ok-fraction")->valuedouble,
           s->cfg->availability == AVAILABILITY_NONE            ? "not checked"
           : cJSON_IsTrue(cJSON_GetObjectItem(avail, "valid?")) ? "as required"
                                                                : "below what was required");
    if (s->hist.error)
        printf("History: incomplete (%s); %llu lines not written\n", strerror(s->hist.error),
               (unsigned long long)s->hist.lost);
    if (proc_logs_full())
        printf("Node logs: each stopped where they reached their size limit together\n");
    if (s->hist.over_max)
        printf("History: stopped at its size limit (--history-max, %llu bytes); %llu lines not "
               "written\n",
               (unsigned long long)s->hist.max_bytes, (unsigned long long)s->hist.over_max);
    if (s->backpressure_pauses)
        printf("Checker: it fell behind the nodes, so their output was not read %llu times, "
               "%.1f s in all (back-pressure: the nodes were slowed down, not their ops)\n",
               (unsigned long long)s->backpressure_pauses, (double)s->backpressure_ns / 1e9);
    if (s->checkq_stats.unchecked)
        printf("Checker: %llu ops were not checked (interrupted)\n",
               (unsigned long long)s->checkq_stats.unchecked);
    if (v != V_TRUE)
        printf("Reproduce: %s\n", s->command_line);
    if (unreached_count && !s->cfg->allow_unapplied_faults)
        printf("\n%s (%s)\n", verdict_line(v), unreached);
    else if (unreached_count)
        printf("\n%s (%zu fault%s not applied, allowed: %s)\n", verdict_line(v), unreached_count,
               unreached_count == 1 ? "" : "s", unreached);
    else
        printf("\n%s\n", verdict_line(v));
    fflush(stdout);

    cJSON_Delete(res);
    buf_fini(&summary);
    buf_fini(&wsum);
    buf_fini(&dsum);
    if (s->interrupted)
        return 128 + s->interrupt_signal;
    if (s->exit_code)
        return s->exit_code;
    return verdict_exit_status(v);
}
