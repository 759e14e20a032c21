/*
 * scenario.c: scenario files (see scenario.h).
 *
 * Parsed with eddy's own slice scanner rather than cJSON, because every error must say where it
 * is: a slice's pointer gives the line and column for free. The file is validated as JSON first,
 * then field by field; an unknown field is an error, not a silent skip, so a typo such as
 * "time_limit" cannot quietly leave the default in place.
 * Depends on: config, cli, nemesis, grudge, json, alloc. Used by: cli, main, matrix.
 */
#include "scenario.h"
#include "cli.h"
#include "grudge.h"
#include "eddy/alloc.h"
#include "eddy/json.h"
#include "eddy/util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct nemesis_plan events;
static double scenario_limit_s; /* the time limit as the scenario itself left it */
static char *scenario_name;     /* the file's name, for scenario_resolve's messages */

struct nemesis_plan *scenario_events(void)
{
    return &events;
}

void scenario_reset(void)
{
    nemesis_plan_fini(&events);
    free(scenario_name);
    scenario_name = NULL;
}

/* ==== Positions and errors ==== */

struct ctx {
    const char *text;
    const char *name;
    char *err;
    size_t elen;
    char *owned; /* the file's bytes, kept alive for config strings that point into them */
    /* The last position computed: fields and events are met in file order, so each position
     * is counted on from the previous one, and the whole parse stays linear in the file. */
    const char *mark;
    unsigned mark_line, mark_col;
    uint32_t node_count; /* "node-count", applied once at the end (0: none, or "nodes" came
                            later): a file repeating it must not build 4,096 names each time */
};

static void position(struct ctx *x, const char *at, unsigned *line, unsigned *col)
{
    if (!x->mark || at < x->mark) {
        x->mark = x->text;
        x->mark_line = 1;
        x->mark_col = 1;
    }
    for (const char *p = x->mark; p < at; p++) {
        if (*p == '\n') {
            x->mark_line++;
            x->mark_col = 1;
        } else {
            x->mark_col++;
        }
    }
    x->mark = at;
    *line = x->mark_line;
    *col = x->mark_col;
}

EDDY_PRINTF(3, 4) static int fail(struct ctx *x, const char *at, const char *fmt, ...)
{
    unsigned line, col;
    position(x, at, &line, &col);
    int n = snprintf(x->err, x->elen, "%s:%u:%u: ", x->name, line, col);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < x->elen)
        vsnprintf(x->err + n, x->elen - (size_t)n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* ==== Values ==== */

/* A decoded string. When `c` is given the config owns it (freed by config_fini); otherwise the
 * caller frees it. */
static char *str_value(struct config *c, const struct json_val *v)
{
    char *out = xmalloc(v->len);
    ssize_t n = json_str_decode(v, out, v->len);
    ASSERT(n >= 0);
    out[n] = '\0';
    if (c) {
        c->owned = xrealloc(c->owned, (c->owned_len + 1) * sizeof(*c->owned));
        c->owned[c->owned_len++] = out;
    }
    return out;
}

static int get_number(struct ctx *x, const struct json_val *v, const char *field, double *out)
{
    if (v->type != JSON_NUMBER)
        return fail(x, v->p, "\"%s\" must be a number", field);
    char tmp[64];
    if (v->len >= sizeof(tmp))
        return fail(x, v->p, "\"%s\": number too long", field);
    memcpy(tmp, v->p, v->len);
    tmp[v->len] = '\0';
    *out = strtod(tmp, NULL);
    if (!isfinite(*out))
        return fail(x, v->p, "\"%s\" is out of range", field);
    return 0;
}

/* A clock amount in milliseconds, within what 64-bit nanoseconds hold (about 285 years either
 * way): 1e300 would otherwise wrap around in the conversion and be applied as something else. */
static int get_clock_ms(struct ctx *x, const struct json_val *v, const char *field, double *out)
{
    int rc = get_number(x, v, field, out);
    if (rc == 0 && fabs(*out) > SCENARIO_CLOCK_MS_MAX)
        return fail(x, v->p, "\"%s\" must be within +-%.0e ms (about 285 years)", field,
                    SCENARIO_CLOCK_MS_MAX);
    return rc;
}

/* A string field the config keeps (c given), or one that is only checked (c NULL). */
static int get_string(struct ctx *x, struct config *c, const struct json_val *v, const char *field,
                      const char **out)
{
    if (v->type != JSON_STRING)
        return fail(x, v->p, "\"%s\" must be a string", field);
    if (c)
        *out = str_value(c, v);
    return 0;
}

static int get_bool(struct ctx *x, const struct json_val *v, const char *field, bool *out)
{
    if (v->type != JSON_TRUE && v->type != JSON_FALSE)
        return fail(x, v->p, "\"%s\" must be true or false", field);
    *out = v->type == JSON_TRUE;
    return 0;
}

/* A string or a number, as text for the flag parsers ("max", "total", "0.99", "3n"). */
static int get_scalar_text(struct ctx *x, const struct json_val *v, const char *field, char *out,
                           size_t cap)
{
    if (v->type == JSON_STRING) {
        ssize_t n = json_str_decode(v, out, cap - 1);
        if (n < 0)
            return fail(x, v->p, "\"%s\" is too long", field);
        out[n] = '\0';
        return 0;
    }
    if (v->type == JSON_NUMBER && v->len < cap) {
        memcpy(out, v->p, v->len);
        out[v->len] = '\0';
        return 0;
    }
    return fail(x, v->p, "\"%s\" must be a string or a number", field);
}

/* A list given as a JSON array of strings, or as one comma-separated string. Calls `each` per
 * item; `each` returns 0 or a negative errno (then the item is reported as bad). */
static int get_list(struct ctx *x, const struct json_val *v, const char *field,
                    int (*each)(void *ctx, const char *item), void *ctx, const char *expect)
{
    char item[256];
    if (v->type == JSON_STRING) {
        char all[1024];
        ssize_t n = json_str_decode(v, all, sizeof(all) - 1);
        if (n < 0)
            return fail(x, v->p, "\"%s\" is too long", field);
        all[n] = '\0';
        for (char *tok = strtok(all, ", "); tok; tok = strtok(NULL, ", "))
            if (each(ctx, tok) < 0)
                return fail(x, v->p, "\"%s\": '%s' is not one of %s", field, tok, expect);
        return 0;
    }
    if (v->type != JSON_ARRAY)
        return fail(x, v->p, "\"%s\" must be an array of strings or a comma-separated string",
                    field);
    struct json_iter it;
    struct json_val e;
    json_iter_init(&it, v);
    while (json_iter_next_elem(&it, &e)) {
        if (e.type != JSON_STRING)
            return fail(x, e.p, "\"%s\": every item must be a string", field);
        ssize_t n = json_str_decode(&e, item, sizeof(item) - 1);
        if (n < 0)
            return fail(x, e.p, "\"%s\": item too long", field);
        item[n] = '\0';
        if (each(ctx, item) < 0)
            return fail(x, e.p, "\"%s\": '%s' is not one of %s", field, item, expect);
    }
    return 0;
}

static int add_fault_kind(void *ctx, const char *item)
{
    enum fault_kind k;
    if (fault_kind_parse(item, strlen(item), &k) < 0)
        return -EINVAL;
    *(unsigned *)ctx |= 1u << k;
    return 0;
}

static int add_shape(void *ctx, const char *item)
{
    enum partition_shape sh;
    if (partition_shape_parse(item, &sh) < 0)
        return -EINVAL;
    *(unsigned *)ctx |= 1u << sh;
    return 0;
}

static int add_restart(void *ctx, const char *item)
{
    enum restart_clock r;
    if (restart_clock_parse(item, &r) < 0)
        return -EINVAL;
    *(unsigned *)ctx |= 1u << r;
    return 0;
}

/* ==== Name sets ==== */

/* Open addressing over an array of names (a slot holds index + 1), grown at half load, so that
 * checking a list for repeats and looking names up stay linear in the file. */
struct name_index {
    uint32_t *slot;
    uint32_t cap; /* a power of two, or 0 */
};

static uint32_t name_hash(const char *p)
{
    uint64_t h = 1469598103934665603ull;
    for (; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return (uint32_t)(h ^ h >> 32);
}

/* The index of `name` among names[], or -1. */
static int64_t name_index_find(const struct name_index *x, char *const *names, const char *name)
{
    if (!x->cap)
        return -1;
    for (uint32_t j = name_hash(name) & (x->cap - 1); x->slot[j]; j = (j + 1) & (x->cap - 1))
        if (strcmp(names[x->slot[j] - 1], name) == 0)
            return x->slot[j] - 1;
    return -1;
}

/* Indexes names[count - 1], the newest of count names. */
static void name_index_add(struct name_index *x, char *const *names, uint32_t count)
{
    if (2 * count > x->cap) {
        free(x->slot);
        x->cap = x->cap ? 2 * x->cap : 16;
        while (2 * count > x->cap)
            x->cap *= 2;
        x->slot = xcalloc(x->cap, sizeof(uint32_t));
        for (uint32_t i = 0; i + 1 < count; i++) {
            uint32_t j = name_hash(names[i]) & (x->cap - 1);
            while (x->slot[j])
                j = (j + 1) & (x->cap - 1);
            x->slot[j] = i + 1;
        }
    }
    uint32_t j = name_hash(names[count - 1]) & (x->cap - 1);
    while (x->slot[j])
        j = (j + 1) & (x->cap - 1);
    x->slot[j] = count;
}

struct names {
    char **v;
    uint32_t n, cap;
    struct name_index index;
};

static int add_name(void *ctx, const char *item)
{
    struct names *l = ctx;
    /* A comma would make a name impossible to tell apart in "n0,n1" lists. */
    if (!*item || strchr(item, ',') || l->n >= NODES_MAX)
        return -EINVAL;
    if (name_index_find(&l->index, l->v, item) >= 0)
        return -EINVAL;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->v = xrealloc(l->v, l->cap * sizeof(char *));
    }
    l->v[l->n++] = xstrdup(item);
    name_index_add(&l->index, l->v, l->n);
    return 0;
}

/* Frees the list; with `keep`, the names themselves stay (their owner took them). */
static void names_fini(struct names *l, bool keep)
{
    for (uint32_t i = 0; !keep && i < l->n; i++)
        free(l->v[i]);
    if (!keep)
        free(l->v);
    free(l->index.slot);
    memset(l, 0, sizeof(*l));
}

/* ==== Fault events ==== */

static bool key_is(const struct json_val *k, const char *name)
{
    return json_str_eq(k, name, strlen(name));
}

static int parse_event(struct ctx *x, const struct json_val *obj, struct fault_event *e)
{
    memset(e, 0, sizeof(*e));
    if (obj->type != JSON_OBJECT)
        return fail(x, obj->p, "every item of \"faults\" must be an object");
    e->at_s = -1;
    e->target = TARGET_NONE;
    e->rate = 1.0;
    e->shape = SHAPE_COUNT;
    e->restart = RESTART_CLOCK_NOW;
    bool have_f = false;
    unsigned line, col;
    position(x, obj->p, &line, &col);
    e->line = line;
    e->column = col;
    struct json_iter it;
    struct json_val k, v;
    json_iter_init(&it, obj);
    int rc = 0;
    while (rc == 0 && json_iter_next(&it, &k, &v)) {
        char text[256];
        if (key_is(&k, "at")) {
            rc = get_number(x, &v, "at", &e->at_s);
            if (rc == 0 && e->at_s < 0)
                rc = fail(x, v.p, "\"at\" must not be negative (seconds since the start)");
        } else if (key_is(&k, "f")) {
            rc = get_scalar_text(x, &v, "f", text, sizeof(text));
            bool found = false;
            for (int a = 0; rc == 0 && a < ACT_COUNT && !found; a++) {
                if (strcmp(text, fault_action_name((enum fault_action)a)) == 0) {
                    e->action = (enum fault_action)a;
                    found = true;
                }
            }
            if (rc == 0 && !found)
                rc = fail(x, v.p, "\"f\": unknown fault operation '%s'", text);
            have_f = true;
        } else if (key_is(&k, "targets")) {
            rc = get_scalar_text(x, &v, "targets", text, sizeof(text));
            if (rc == 0 && target_spec_parse(text, &e->target) < 0)
                rc = fail(x, v.p,
                          "\"targets\": '%s' is not one of one, minority, "
                          "minority-third, majority, all, random",
                          text);
        } else if (key_is(&k, "nodes")) {
            struct names l = {0};
            rc = get_list(x, &v, "nodes", add_name, &l, "distinct node names without commas");
            size_t total = 1;
            for (uint32_t i = 0; i < l.n; i++)
                total += strlen(l.v[i]) + 1;
            if (rc == 0 && l.n == 0)
                rc = fail(x, v.p, "\"nodes\" must name at least one node");
            if (rc == 0) {
                free(e->target_names); /* a repeated key: the last one wins */
                e->target_names = xcalloc(1, total);
                char *at = e->target_names;
                for (uint32_t i = 0; i < l.n; i++) {
                    size_t len = strlen(l.v[i]);
                    if (i)
                        *at++ = ',';
                    memcpy(at, l.v[i], len + 1);
                    at += len;
                }
                e->target = TARGET_LIST;
            }
            names_fini(&l, false);
        } else if (key_is(&k, "shape")) {
            rc = get_scalar_text(x, &v, "shape", text, sizeof(text));
            if (rc == 0 && partition_shape_parse(text, &e->shape) < 0)
                rc = fail(x, v.p,
                          "\"shape\": '%s' is not one of one, minority-third, majority, "
                          "majorities-ring, one-way, bridge",
                          text);
            e->shape_given = true;
        } else if (key_is(&k, "delta-ms")) {
            rc = get_clock_ms(x, &v, "delta-ms", &e->delta_ms);
        } else if (key_is(&k, "offset-ms")) {
            rc = get_clock_ms(x, &v, "offset-ms", &e->delta_ms);
        } else if (key_is(&k, "period-ms")) {
            rc = get_clock_ms(x, &v, "period-ms", &e->period_ms);
            if (rc == 0 && e->period_ms <= 0)
                rc = fail(x, v.p, "\"period-ms\" must be positive");
        } else if (key_is(&k, "duration")) {
            rc = get_number(x, &v, "duration", &e->duration_s);
            if (rc == 0 && e->duration_s < 0)
                rc = fail(x, v.p, "\"duration\" must not be negative (seconds)");
        } else if (key_is(&k, "rate")) {
            rc = get_number(x, &v, "rate", &e->rate);
            if (rc == 0 && (e->rate < 0 || e->rate > 1000))
                rc = fail(x, v.p, "\"rate\" must be from 0 (frozen) to 1000");
        } else if (key_is(&k, "probability")) {
            rc = get_number(x, &v, "probability", &e->probability);
            if (rc == 0 && (e->probability < 0 || e->probability > 1))
                rc = fail(x, v.p, "\"probability\" must be from 0 to 1");
        } else if (key_is(&k, "restart-clock")) {
            rc = get_scalar_text(x, &v, "restart-clock", text, sizeof(text));
            if (rc == 0 && restart_clock_parse(text, &e->restart) < 0)
                rc =
                    fail(x, v.p, "\"restart-clock\": '%s' is not one of now, behind, replay", text);
        } else if (key_is(&k, "behind-ms")) {
            rc = get_clock_ms(x, &v, "behind-ms", &e->behind_ms);
            if (rc == 0 && e->behind_ms < 0)
                rc = fail(x, v.p, "\"behind-ms\" must not be negative");
        } else {
            rc = fail(x, k.p, "unknown field %.*s in a fault event (see scenarios/README.md)",
                      (int)EDDY_MIN(k.len, 60u), k.p);
        }
    }
    if (rc < 0)
        return rc;
    if (e->at_s < 0)
        return fail(x, obj->p, "a fault event needs \"at\" (seconds since the start)");
    if (!have_f)
        return fail(x, obj->p, "a fault event needs \"f\" (for example \"start-partition\")");
    if (fault_action_targeted(e->action) && e->target == TARGET_NONE)
        return fail(x, obj->p, "\"%s\" needs \"targets\" or \"nodes\"",
                    fault_action_name(e->action));
    if (e->action == ACT_PARTITION && e->shape == SHAPE_COUNT && e->target != TARGET_LIST)
        return fail(x, obj->p, "\"start-partition\" needs \"shape\" or \"nodes\"");
    if (e->action == ACT_CLOCK_STROBE && e->period_ms <= 0)
        return fail(x, obj->p, "\"clock-strobe\" needs \"period-ms\"");
    if ((e->action == ACT_LOSS || e->action == ACT_DUPLICATE) && e->probability <= 0)
        return fail(x, obj->p, "\"%s\" needs \"probability\" above 0",
                    fault_action_name(e->action));
    if (e->action == ACT_RESTART && e->restart == RESTART_CLOCK_BEHIND && e->behind_ms <= 0)
        return fail(x, obj->p, "\"restart-clock\": \"behind\" needs \"behind-ms\" above 0");
    if (e->shape == SHAPE_COUNT)
        e->shape = SHAPE_MAJORITY; /* unused when the cut is an explicit node list */
    return 0;
}

static int parse_faults(struct ctx *x, const struct json_val *v)
{
    if (v->type != JSON_ARRAY)
        return fail(x, v->p, "\"faults\" must be an array of fault events");
    struct json_iter it;
    struct json_val e;
    json_iter_init(&it, v);
    for (uint32_t index = 0; json_iter_next_elem(&it, &e); index++) {
        struct fault_event ev;
        int rc = parse_event(x, &e, &ev);
        if (rc < 0) {
            free(ev.target_names);
            return rc;
        }
        ev.timeline = index + 1;
        if (!nemesis_plan_add(&events, &ev))
            return fail(x, e.p, "more than %u fault events", NEMESIS_EVENTS_MAX);
    }
    return 0;
}

static int parse_random(struct ctx *x, const struct json_val *v, struct config *c)
{
    if (v->type != JSON_OBJECT)
        return fail(x, v->p, "\"random\" must be an object");
    struct json_iter it;
    struct json_val k, val;
    json_iter_init(&it, v);
    bool any = false;
    while (json_iter_next(&it, &k, &val)) {
        int rc = 0;
        if (key_is(&k, "interval")) {
            rc = get_number(x, &val, "interval", &c->weighted_interval_s);
            if (rc == 0 && c->weighted_interval_s <= 0)
                rc = fail(x, val.p, "\"interval\" must be positive (seconds)");
        } else if (key_is(&k, "from")) {
            rc = get_number(x, &val, "from", &c->weighted_from_s);
            if (rc == 0 && c->weighted_from_s < 0)
                rc = fail(x, val.p, "\"from\" must not be negative (seconds)");
        } else if (key_is(&k, "until")) {
            rc = get_number(x, &val, "until", &c->weighted_until_s);
            if (rc == 0 && c->weighted_until_s <= 0)
                rc = fail(x, val.p, "\"until\" must be positive (seconds)");
        } else if (key_is(&k, "weights")) {
            if (val.type != JSON_OBJECT)
                return fail(x, val.p, "\"weights\" must be an object of fault kind to weight");
            struct json_iter wi;
            struct json_val wk, wv;
            json_iter_init(&wi, &val);
            while (json_iter_next(&wi, &wk, &wv)) {
                char name[64];
                ssize_t n = json_str_decode(&wk, name, sizeof(name) - 1);
                name[n < 0 ? 0 : n] = '\0';
                enum fault_kind fk;
                if (n < 0 || fault_kind_parse(name, (size_t)n, &fk) < 0)
                    return fail(x, wk.p, "\"weights\": unknown fault kind %.*s",
                                (int)EDDY_MIN(wk.len, 40u), wk.p);
                double w;
                if ((rc = get_number(x, &wv, "weights", &w)) < 0)
                    return rc;
                if (w < 0)
                    return fail(x, wv.p, "\"weights\": a weight must not be negative");
                c->weights[fk] = w;
                any |= w > 0;
            }
        } else {
            rc = fail(x, k.p, "unknown field %.*s in \"random\" (interval, from, until, weights)",
                      (int)EDDY_MIN(k.len, 60u), k.p);
        }
        if (rc < 0)
            return rc;
    }
    if (!any)
        return fail(x, v->p, "\"random\" needs \"weights\" with at least one positive weight");
    if (c->weighted_until_s > 0 && c->weighted_until_s <= c->weighted_from_s)
        return fail(x, v->p, "\"random\": \"until\" must be after \"from\"");
    return 0;
}

/* ==== Top level ==== */

static int apply_field(struct ctx *x, struct config *c, const struct json_val *k,
                       const struct json_val *v)
{
    char text[256];
    double d;
    int rc;
    static const char *const notes[] = {"name", "description", "comment"};
    for (size_t i = 0; i < ARRAY_LEN(notes); i++)
        if (key_is(k, notes[i]))
            return get_string(x, NULL, v, notes[i], NULL);
    if (key_is(k, "workload")) {
        if ((rc = get_scalar_text(x, v, "workload", text, sizeof(text))) < 0)
            return rc;
        return cli_set_workload(c, text) < 0
                   ? fail(x, v->p, "\"workload\": '%s' is not echo or unique-ids", text)
                   : 0;
    }
    if (key_is(k, "bin"))
        return get_string(x, c, v, "bin", &c->bin);
    if (key_is(k, "args")) {
        if (v->type != JSON_ARRAY)
            return fail(x, v->p, "\"args\" must be an array of strings");
        struct json_iter it;
        struct json_val e;
        json_iter_init(&it, v);
        while (json_iter_next_elem(&it, &e)) {
            if (e.type != JSON_STRING)
                return fail(x, e.p, "\"args\": every argument must be a string");
            if (c->node_arg_count >= NODE_ARGS_MAX)
                return fail(x, e.p, "\"args\": more than %u arguments", NODE_ARGS_MAX);
            c->node_args[c->node_arg_count++] = str_value(c, &e);
        }
        return 0;
    }
    if (key_is(k, "node-count")) {
        if ((rc = get_number(x, v, "node-count", &d)) < 0)
            return rc;
        if (d < 1 || d > NODES_MAX || d != floor(d))
            return fail(x, v->p, "\"node-count\" must be an integer from 1 to %u", NODES_MAX);
        x->node_count = (uint32_t)d;
        return 0;
    }
    if (key_is(k, "nodes")) {
        struct names l = {0};
        rc = get_list(x, v, "nodes", add_name, &l, "distinct non-empty names without commas");
        if (rc == 0 && l.n == 0)
            rc = fail(x, v->p, "\"nodes\" must name at least one node");
        if (rc < 0) {
            names_fini(&l, false);
            return rc;
        }
        config_set_node_names(c, l.v, l.n);
        names_fini(&l, true);
        x->node_count = 0; /* the later of "nodes" and "node-count" wins */
        return 0;
    }
    struct {
        const char *key;
        int (*set)(struct config *, const char *);
        const char *expect;
    } simple[] = {
        {"rate", cli_set_rate, "a non-negative number or \"max\""},
        {"concurrency", cli_set_concurrency, "an integer, optionally followed by n"},
        {"latency-dist", cli_set_latency_dist, "constant, uniform or exponential"},
        {"availability", cli_set_availability, "\"total\" or a number from 0 to 1"},
        {"checker-memory", cli_set_checker_memory, "a size of at least 2M, such as \"512M\""},
        {"history-max", cli_set_history_max, "a size such as \"512M\" (0: no limit)"},
    };
    for (size_t i = 0; i < ARRAY_LEN(simple); i++) {
        if (!key_is(k, simple[i].key))
            continue;
        if ((rc = get_scalar_text(x, v, simple[i].key, text, sizeof(text))) < 0)
            return rc;
        return simple[i].set(c, text) < 0 ? fail(x, v->p, "\"%s\" must be %s, got '%s'",
                                                 simple[i].key, simple[i].expect, text)
                                          : 0;
    }
    if (key_is(k, "time-limit")) {
        if ((rc = get_number(x, v, "time-limit", &d)) < 0)
            return rc;
        if (d <= 0)
            return fail(x, v->p, "\"time-limit\" must be a positive number of seconds");
        c->time_limit_s = d;
        return 0;
    }
    if (key_is(k, "latency")) {
        if ((rc = get_number(x, v, "latency", &d)) < 0)
            return rc;
        if (d < 0)
            return fail(x, v->p, "\"latency\" must not be negative (ms)");
        c->latency_ms = d;
        return 0;
    }
    if (key_is(k, "nemesis")) {
        unsigned mask = 0;
        if ((rc = get_list(x, v, "nemesis", add_fault_kind, &mask,
                           "partition, clock, kill, pause, loss, duplicate")) < 0)
            return rc;
        c->nemesis = mask;
        return 0;
    }
    if (key_is(k, "nemesis-interval")) {
        if ((rc = get_number(x, v, "nemesis-interval", &d)) < 0)
            return rc;
        if (d <= 0)
            return fail(x, v->p, "\"nemesis-interval\" must be positive (seconds)");
        c->nemesis_interval_s = d;
        return 0;
    }
    if (key_is(k, "seed")) {
        /* Read exactly: a double would round 2^53 + 1 to a different seed without a word. */
        int64_t seed;
        if (v->type != JSON_NUMBER || json_to_i64(v, &seed) < 0 || seed < 0 ||
            seed > (INT64_C(1) << 53))
            return fail(x, v->p, "\"seed\" must be an integer from 0 to 2^53");
        c->seed = (uint64_t)seed;
        c->seed_given = true;
        return 0;
    }
    if (key_is(k, "partition-shapes")) {
        unsigned mask = 0;
        if ((rc = get_list(x, v, "partition-shapes", add_shape, &mask,
                           "one, minority-third, majority, majorities-ring, one-way, bridge")) < 0)
            return rc;
        c->partition_shapes = mask;
        return 0;
    }
    if (key_is(k, "restart-clock")) {
        unsigned mask = 0;
        if ((rc = get_list(x, v, "restart-clock", add_restart, &mask, "now, behind, replay")) < 0)
            return rc;
        c->restart_modes = mask;
        return 0;
    }
    if (key_is(k, "clock-monotonic"))
        return get_bool(x, v, "clock-monotonic", &c->clock_monotonic);
    if (key_is(k, "strict"))
        return get_bool(x, v, "strict", &c->strict);
    if (key_is(k, "clock-via")) {
        if ((rc = get_scalar_text(x, v, "clock-via", text, sizeof(text))) < 0)
            return rc;
        if (clock_via_parse(text, &c->clock_via) < 0)
            return fail(x, v->p, "\"clock-via\" must be auto, preload, vdso or syscall, got '%s'",
                        text);
        return 0;
    }
    if (key_is(k, "log-stderr"))
        return get_bool(x, v, "log-stderr", &c->log_stderr);
    if (key_is(k, "expect")) {
        if ((rc = get_scalar_text(x, v, "expect", text, sizeof(text))) < 0)
            return rc;
        if (strcmp(text, "valid") == 0)
            c->expect = 1;
        else if (strcmp(text, "invalid") == 0)
            c->expect = 2;
        else
            return fail(x, v->p, "\"expect\" must be \"valid\" or \"invalid\", got '%s'", text);
        return 0;
    }
    if (key_is(k, "faults"))
        return parse_faults(x, v);
    if (key_is(k, "random"))
        return parse_random(x, v, c);
    return fail(x, k->p, "unknown field %.*s (see scenarios/README.md)", (int)EDDY_MIN(k->len, 60u),
                k->p);
}

int scenario_load_text(const char *text, size_t len, const char *name, struct config *c, char *err,
                       size_t elen)
{
    struct ctx x = {.text = text, .name = name, .err = err, .elen = elen};
    struct json_val top, k, v;
    struct json_err je = {0};
    scenario_reset();
    if (json_scan(text, len, true, &top, &je) < 0)
        return fail(&x, text + je.offset, "not valid JSON: %s", je.what);
    if (top.type != JSON_OBJECT)
        return fail(&x, top.p, "a scenario must be a JSON object");
    struct json_iter it;
    json_iter_init(&it, &top);
    while (json_iter_next(&it, &k, &v)) {
        int rc = apply_field(&x, c, &k, &v);
        if (rc < 0)
            return rc;
    }
    if (x.node_count)
        config_set_node_count(c, x.node_count);
    scenario_limit_s = c->time_limit_s;
    scenario_name = xstrdup(name);
    return 0;
}

int scenario_load_file(const char *path, struct config *c, char *err, size_t elen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, elen, "--scenario: cannot read %s: %s", path, strerror(errno));
        return -errno;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)SCENARIO_FILE_MAX) {
        snprintf(err, elen, "--scenario: %s is not a regular file of at most %u bytes", path,
                 SCENARIO_FILE_MAX);
        close(fd);
        return -EINVAL;
    }
    /* The text stays allocated: config strings (bin, args) may point into copies of it. */
    char *text = xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    text[got] = '\0';
    int rc = scenario_load_text(text, got, path, c, err, elen);
    free(text);
    return rc;
}

static const char *sname(void)
{
    return scenario_name ? scenario_name : "scenario";
}

/* Resolves one event's node names into a fresh array through `index` (over c's node names);
 * 0 or -EINVAL with err filled. */
static int resolve_names(const struct config *c, const struct name_index *index,
                         const struct fault_event *e, uint32_t **out, uint32_t *count, char *err,
                         size_t elen)
{
    uint32_t listed = 1;
    for (const char *p = e->target_names; *p; p++)
        listed += *p == ',';
    uint32_t *nodes = xmalloc(listed * sizeof(uint32_t));
    uint32_t n = 0;
    char *names = xstrdup(e->target_names);
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(names, ",", &save); tok && rc == 0;
         tok = strtok_r(NULL, ",", &save)) {
        int64_t j = name_index_find(index, c->node_names, tok);
        if (j < 0) {
            snprintf(err, elen,
                     "%s:%u:%u: \"%s\" names node '%s', which is not among the run's nodes",
                     sname(), e->line, e->column, fault_action_name(e->action), tok);
            rc = -EINVAL;
        } else {
            ASSERT(n < listed);
            nodes[n++] = (uint32_t)j;
        }
    }
    free(names);
    if (rc < 0) {
        free(nodes);
        return rc;
    }
    *out = nodes;
    *count = n;
    return 0;
}

int scenario_resolve(const struct config *c, char *err, size_t elen)
{
    /* First check everything, changing nothing: an error leaves the events as they were, all
     * still owned by the plan. */
    for (size_t i = 0; i < events.len; i++) {
        const struct fault_event *e = &events.events[i];
        if (e->at_s > scenario_limit_s) {
            snprintf(err, elen,
                     "%s:%u:%u: \"%s\" at %.3f s is after the scenario's time limit (%.3f s)",
                     sname(), e->line, e->column, fault_action_name(e->action), e->at_s,
                     scenario_limit_s);
            return -EINVAL;
        }
        /* A spec is drawn when the run is planned (nemesis_plan_build); one that can name no
         * node at this node count would be an event that silently does nothing. */
        if (e->target != TARGET_LIST && e->target != TARGET_NONE &&
            nemesis_target_count(e->target, c->node_count) == 0) {
            snprintf(err, elen,
                     "%s:%u:%u: \"%s\": \"targets\": '%s' picks no node among %u; name the "
                     "nodes instead (\"nodes\")",
                     sname(), e->line, e->column, fault_action_name(e->action),
                     target_spec_name(e->target), c->node_count);
            return -EINVAL;
        }
    }
    struct name_index index = {0};
    for (uint32_t i = 0; i < c->node_count; i++)
        name_index_add(&index, c->node_names, i + 1);
    size_t kept = 0, dropped = 0;
    for (size_t i = 0; i < events.len; i++) {
        struct fault_event e = events.events[i];
        if (e.at_s > c->time_limit_s) {
            /* --time-limit shortened the scenario: its later events cannot happen. */
            free(e.nodes);
            free(e.target_names);
            dropped++;
            continue;
        }
        if (e.target_names) {
            uint32_t *nodes, count;
            if (resolve_names(c, &index, &e, &nodes, &count, err, elen) < 0) {
                /* Keep the rest owned, so that scenario_reset frees each exactly once. */
                for (size_t j = i; j < events.len; j++)
                    events.events[kept++] = events.events[j];
                events.len = kept;
                free(index.slot);
                return -EINVAL;
            }
            free(e.nodes);
            e.nodes = nodes;
            e.node_count = count;
        }
        events.events[kept++] = e;
    }
    events.len = kept;
    free(index.slot);
    if (dropped)
        fprintf(stderr, "eddy: --time-limit %.3f leaves out %zu of the scenario's fault events\n",
                c->time_limit_s, dropped);
    return 0;
}
