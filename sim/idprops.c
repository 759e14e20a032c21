/*
 * idprops.c: ID order and shape (see idprops.h).
 *
 * A "line" is the running maximum of IDs over time: entries (bucket, maximum at the end of that
 * bucket) with strictly increasing buckets and maxima, the encodings in an arena. The current
 * bucket's maximum is held apart (`cur`) until a later bucket arrives, so an ID that raises the
 * maximum several times within one millisecond costs a copy, not an entry. The maximum before a
 * bucket is found by walking back from the end (one step, usually: an op's invoke is a moment
 * before its completion) or by binary search past 16 steps; the first entry above an ID, for
 * the size of a decrease, by binary search, since the maxima increase along the line.
 * Depends on: canon, alloc, util, cJSON. Used by: check, report.
 */
#include "idprops.h"
#include "canon.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ==== Lines of running maxima ==== */

struct entry {
    int64_t bucket;
    size_t off; /* in the arena */
    uint32_t len;
};

struct line {
    struct entry *e;
    size_t len, cap, max; /* max: entries kept at most */
    uint8_t *arena;
    size_t arena_len, arena_cap;
    bool has_cur;
    int64_t cur_bucket;
    uint8_t *cur; /* the current bucket's maximum */
    size_t cur_len, cur_cap;
    bool thinned; /* entries were dropped to stay within max */
};

static void line_init(struct line *l, size_t max)
{
    memset(l, 0, sizeof(*l));
    l->max = max;
}

static void line_fini(struct line *l)
{
    free(l->e);
    free(l->arena);
    free(l->cur);
    memset(l, 0, sizeof(*l));
}

static void line_reset(struct line *l)
{
    l->len = l->arena_len = 0;
    l->has_cur = false;
    l->thinned = false;
}

static const uint8_t *entry_enc(const struct line *l, const struct entry *e)
{
    return l->arena + e->off;
}

/* Drops every other entry (the later of each pair stays) and compacts the arena. */
static void line_thin(struct line *l)
{
    size_t k = 0, at = 0;
    for (size_t i = 1; i < l->len; i += 2) {
        struct entry e = l->e[i];
        memmove(l->arena + at, l->arena + e.off, e.len);
        e.off = at;
        at += e.len;
        l->e[k++] = e;
    }
    l->len = k;
    l->arena_len = at;
    l->thinned = true;
}

static void line_commit(struct line *l)
{
    if (!l->has_cur)
        return;
    if (l->len == l->max)
        line_thin(l);
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->e = xrealloc(l->e, l->cap * sizeof(*l->e));
    }
    if (l->arena_len + l->cur_len > l->arena_cap) {
        l->arena_cap = EDDY_MAX(l->arena_cap * 2, l->arena_len + l->cur_len + 1024);
        l->arena = xrealloc(l->arena, l->arena_cap);
    }
    memcpy(l->arena + l->arena_len, l->cur, l->cur_len);
    l->e[l->len++] = (struct entry){l->cur_bucket, l->arena_len, (uint32_t)l->cur_len};
    l->arena_len += l->cur_len;
    l->has_cur = false;
}

/* The running maximum so far (NULL when empty). */
static const uint8_t *line_top(const struct line *l, size_t *n)
{
    if (l->has_cur) {
        *n = l->cur_len;
        return l->cur;
    }
    if (l->len == 0)
        return NULL;
    *n = l->e[l->len - 1].len;
    return entry_enc(l, &l->e[l->len - 1]);
}

/* The maximum of the buckets before `bucket` (NULL when none). */
static const uint8_t *line_before(const struct line *l, int64_t bucket, size_t *n)
{
    if (l->has_cur && l->cur_bucket < bucket) {
        *n = l->cur_len;
        return l->cur;
    }
    size_t i = l->len, steps = 0;
    while (i > 0 && l->e[i - 1].bucket >= bucket && ++steps < 16)
        i--;
    if (i > 0 && l->e[i - 1].bucket >= bucket) {
        size_t lo = 0, hi = i;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (l->e[mid].bucket < bucket)
                lo = mid + 1;
            else
                hi = mid;
        }
        i = lo;
    }
    if (i == 0)
        return NULL;
    *n = l->e[i - 1].len;
    return entry_enc(l, &l->e[i - 1]);
}

/* The first bucket whose maximum is above (enc, n), among those before `bucket`. */
static int64_t line_first_above(const struct line *l, const uint8_t *enc, size_t n, int64_t bucket)
{
    size_t lo = 0, hi = l->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct entry *e = &l->e[mid];
        int c = canon_compare(entry_enc(l, e), e->len, enc, n);
        if (c == 1 || e->bucket >= bucket)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo < l->len && l->e[lo].bucket < bucket)
        return l->e[lo].bucket;
    return l->has_cur && l->cur_bucket < bucket ? l->cur_bucket : bucket;
}

/* Raises the maximum with (enc, n) completed in `bucket`, if it is larger. */
static void line_push(struct line *l, const uint8_t *enc, size_t n, int64_t bucket, int top_cmp)
{
    if (top_cmp != 1)
        return;
    if (l->has_cur && l->cur_bucket != bucket)
        line_commit(l);
    if (n > l->cur_cap) {
        l->cur_cap = EDDY_MAX(n, (size_t)64);
        l->cur = xrealloc(l->cur, l->cur_cap);
    }
    memcpy(l->cur, enc, n);
    l->cur_len = n;
    l->cur_bucket = bucket;
    l->has_cur = true;
}

/* ==== Per op ==== */

struct inc_stats {
    uint32_t node, incarnation;
    uint64_t ops, decreases, incomparable;
    int64_t largest_ns; /* largest decrease, as a time */
};

struct decreases {
    uint64_t ops, decreases, incomparable;
    int64_t largest_ns;
};

struct node_state {
    struct line line;
    struct inc_stats cur;
    bool active;
};

struct idprops {
    uint32_t node_count;
    struct node_state *nodes;
    struct line all;
    struct decreases across;
    struct inc_stats *incs; /* finished incarnations, up to IDPROPS_INCARNATIONS_MAX */
    size_t incs_len, incs_cap;
    uint64_t incs_total, incs_increasing, incs_not_listed;
    struct decreases within;
    bool within_thinned;
    uint64_t types[8];
    uint64_t len_bins[IDPROPS_LEN_BINS];
    size_t len_min, len_max;
    uint64_t count;
};

static const char *const type_names[8] = {"null",   "boolean", "integer", "float",
                                          "string", "array",   "object",  "other"};

static unsigned type_of(const uint8_t *enc, size_t n)
{
    switch (n ? enc[0] : 0) {
    case 'n':
        return 0;
    case 'f':
    case 't':
        return 1;
    case 'i':
        return 2;
    case 'd':
        return 3;
    case 's':
        return 4;
    case 'a':
        return 5;
    case 'o':
        return 6;
    default:
        return 7;
    }
}

struct idprops *idprops_new(uint32_t node_count)
{
    struct idprops *p = xcalloc(1, sizeof(*p));
    p->node_count = node_count;
    p->nodes = xcalloc(node_count ? node_count : 1, sizeof(*p->nodes));
    for (uint32_t i = 0; i < node_count; i++)
        line_init(&p->nodes[i].line, IDPROPS_NODE_LINE_MAX);
    line_init(&p->all, IDPROPS_LINE_MAX);
    p->len_min = SIZE_MAX;
    return p;
}

void idprops_free(struct idprops *p)
{
    if (!p)
        return;
    for (uint32_t i = 0; i < p->node_count; i++)
        line_fini(&p->nodes[i].line);
    free(p->nodes);
    line_fini(&p->all);
    free(p->incs);
    free(p);
}

static void inc_close(struct idprops *p, struct node_state *ns)
{
    if (!ns->active)
        return;
    p->incs_total++;
    p->incs_increasing += ns->cur.decreases == 0;
    p->within_thinned |= ns->line.thinned;
    if (p->incs_len < IDPROPS_INCARNATIONS_MAX) {
        if (p->incs_len == p->incs_cap) {
            p->incs_cap = p->incs_cap ? p->incs_cap * 2 : 16;
            p->incs = xrealloc(p->incs, p->incs_cap * sizeof(*p->incs));
        }
        p->incs[p->incs_len++] = ns->cur;
    } else {
        p->incs_not_listed++;
    }
    ns->active = false;
}

/* Judges one op against a line: a decrease when below the maximum before its invoke. */
static void judge(struct line *l, struct decreases *d, uint64_t *dec, int64_t *largest,
                  uint64_t *incomparable, const uint8_t *enc, size_t n, int64_t invoke_ns,
                  int64_t complete_ns)
{
    int64_t ib = invoke_ns / IDPROPS_BUCKET_NS;
    size_t tn;
    const uint8_t *top = line_top(l, &tn);
    int top_cmp = top ? canon_compare(enc, n, top, tn) : 1;
    if (top_cmp == CANON_INCOMPARABLE) {
        (*incomparable)++;
        d->incomparable++;
        return;
    }
    if (top_cmp != 1) {
        /* Not above everything so far: compare with what completed before the invoke. */
        size_t bn;
        const uint8_t *before = line_before(l, ib, &bn);
        int c = before ? canon_compare(enc, n, before, bn) : 1;
        if (c == -1) {
            int64_t first = line_first_above(l, enc, n, ib);
            /* The larger ID completed in bucket `first`: at least this long before the invoke. */
            int64_t stray = invoke_ns - (first + 1) * IDPROPS_BUCKET_NS;
            stray = stray > 0 ? stray : 0;
            (*dec)++;
            d->decreases++;
            if (stray > *largest)
                *largest = stray;
            if (stray > d->largest_ns)
                d->largest_ns = stray;
        }
    }
    line_push(l, enc, n, complete_ns / IDPROPS_BUCKET_NS, top_cmp);
}

void idprops_add(struct idprops *p, const uint8_t *enc, size_t n, size_t text_len, uint32_t node,
                 uint32_t incarnation, int64_t invoke_ns, int64_t complete_ns)
{
    ASSERT(node < p->node_count);
    p->count++;
    p->types[type_of(enc, n)]++;
    p->len_bins[EDDY_MIN(text_len, (size_t)IDPROPS_LEN_BINS - 1)]++;
    p->len_min = EDDY_MIN(p->len_min, text_len);
    p->len_max = EDDY_MAX(p->len_max, text_len);

    struct node_state *ns = &p->nodes[node];
    if (!ns->active || ns->cur.incarnation != incarnation) {
        inc_close(p, ns);
        line_reset(&ns->line);
        ns->cur = (struct inc_stats){.node = node, .incarnation = incarnation};
        ns->active = true;
    }
    ns->cur.ops++;
    p->within.ops++;
    judge(&ns->line, &p->within, &ns->cur.decreases, &ns->cur.largest_ns, &ns->cur.incomparable,
          enc, n, invoke_ns, complete_ns);
    uint64_t dec = 0, inc = 0;
    int64_t largest = 0;
    p->across.ops++;
    judge(&p->all, &p->across, &dec, &largest, &inc, enc, n, invoke_ns, complete_ns);
}

/* ==== Output ==== */

static size_t len_quantile(const struct idprops *p, double q)
{
    uint64_t want = (uint64_t)(q * (double)(p->count - 1)) + 1, seen = 0;
    for (size_t i = 0; i < IDPROPS_LEN_BINS; i++) {
        seen += p->len_bins[i];
        if (seen >= want)
            return i;
    }
    return p->len_max;
}

cJSON *idprops_json(const struct idprops *p, const char *const *node_names)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "ids", (double)p->count);
    cJSON *types = cJSON_AddObjectToObject(o, "types");
    for (int i = 0; i < 8; i++)
        if (p->types[i])
            cJSON_AddNumberToObject(types, type_names[i], (double)p->types[i]);
    cJSON *len = cJSON_AddObjectToObject(o, "length-bytes");
    if (p->count) {
        cJSON_AddNumberToObject(len, "min", (double)p->len_min);
        cJSON_AddNumberToObject(len, "median", (double)len_quantile(p, 0.5));
        cJSON_AddNumberToObject(len, "max", (double)p->len_max);
    }

    /* Incarnations still running count as finished here (p is const: copy their stats). */
    uint64_t total = p->incs_total, increasing = p->incs_increasing;
    bool thinned = p->within_thinned;
    for (uint32_t i = 0; i < p->node_count; i++) {
        if (!p->nodes[i].active)
            continue;
        total++;
        increasing += p->nodes[i].cur.decreases == 0;
        thinned |= p->nodes[i].line.thinned;
    }
    cJSON *w = cJSON_AddObjectToObject(o, "within-incarnations");
    cJSON_AddNumberToObject(w, "incarnations", (double)total);
    cJSON_AddNumberToObject(w, "increasing", (double)increasing);
    cJSON_AddBoolToObject(w, "all-increasing", total == increasing);
    cJSON_AddNumberToObject(w, "ops", (double)p->within.ops);
    cJSON_AddNumberToObject(w, "decreases", (double)p->within.decreases);
    cJSON_AddNumberToObject(w, "largest-decrease-ms", (double)p->within.largest_ns / 1e6);
    if (p->within.incomparable)
        cJSON_AddNumberToObject(w, "incomparable", (double)p->within.incomparable);
    if (thinned)
        cJSON_AddBoolToObject(w, "lower-bounds", true);
    cJSON *per = cJSON_AddArrayToObject(w, "per-incarnation");
    size_t listed = 0;
    for (size_t k = 0; k <= p->incs_len + p->node_count; k++) {
        const struct inc_stats *s = NULL;
        if (k < p->incs_len)
            s = &p->incs[k];
        else if (k - p->incs_len < p->node_count && p->nodes[k - p->incs_len].active)
            s = &p->nodes[k - p->incs_len].cur;
        if (!s || listed >= IDPROPS_INCARNATIONS_MAX)
            continue;
        listed++;
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "node", node_names[s->node]);
        cJSON_AddNumberToObject(x, "incarnation", s->incarnation);
        cJSON_AddNumberToObject(x, "ops", (double)s->ops);
        cJSON_AddBoolToObject(x, "increasing", s->decreases == 0);
        cJSON_AddNumberToObject(x, "decreases", (double)s->decreases);
        cJSON_AddNumberToObject(x, "largest-decrease-ms", (double)s->largest_ns / 1e6);
        cJSON_AddItemToArray(per, x);
    }
    if (total > listed)
        cJSON_AddNumberToObject(w, "incarnations-not-listed", (double)(total - listed));

    cJSON *a = cJSON_AddObjectToObject(o, "across-nodes");
    cJSON_AddNumberToObject(a, "ops", (double)p->across.ops);
    cJSON_AddNumberToObject(a, "out-of-real-time-order", (double)p->across.decreases);
    cJSON_AddNumberToObject(a, "largest-stray-ms", (double)p->across.largest_ns / 1e6);
    if (p->across.incomparable)
        cJSON_AddNumberToObject(a, "incomparable", (double)p->across.incomparable);
    if (p->all.thinned)
        cJSON_AddBoolToObject(a, "lower-bounds", true);
    cJSON_AddStringToObject(
        o, "note",
        "An op is out of order when its ID is below the largest ID of the ops (of its "
        "incarnation, or of any node) that completed before it was invoked; a stray or decrease "
        "is how long before its invoke the first larger ID completed. Concurrent ops are never "
        "compared.");
    return o;
}
