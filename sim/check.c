/*
 * check.c: the streaming checkers of check.h.
 *
 * unique-ids puts every acknowledged ID in the ID set (idset.c), which finds repeats while the
 * run goes and every duplicate at the end, and keeps the running lowest and highest by Clojure's
 * compare, whose failure is what makes Maelstrom's checker say :unknown. echo compares
 * each ok reply's echo field with the string that was sent, as JSON values. Latencies go into a
 * log-linear histogram (32 sub-bins per power of two: quantiles within about 3%) and into
 * CHECK_BUCKETS time buckets for the plots; a reservoir keeps a uniform sample of raw points.
 * Depends on: idset, idprops, spill, canon, history, json, alloc, utf8. Used by: run, report.
 */
#include "check.h"
#include "utf8.h"
#include "canon.h"
#include "idprops.h"
#include "idset.h"
#include "spill.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void check_init_with(struct check *c, enum workload_kind w, double time_limit_s,
                     const struct idset_opts *ids)
{
    memset(c, 0, sizeof(*c));
    c->workload = w;
    /* Buckets (keyed by invoke time) cover the time limit, with room to spare. */
    c->bucket_ns = (time_limit_s + 5.0) * 1e9 / CHECK_BUCKETS;
    c->sample_rng = 0x853C49E6748FEA9Bull;
    if (w == WORKLOAD_UNIQUE_IDS) {
        c->ids = idset_new(ids);
        c->ids_dir = ids && ids->dir ? xstrdup(ids->dir) : NULL;
    }
}

void check_init(struct check *c, enum workload_kind w, double time_limit_s)
{
    check_init_with(c, w, time_limit_s, NULL);
}

void check_track_id_properties(struct check *c, uint32_t node_count)
{
    if (c->workload == WORKLOAD_UNIQUE_IDS && !c->props)
        c->props = idprops_new(node_count);
}

void check_fini(struct check *c)
{
    idset_free(c->ids);
    idprops_free(c->props);
    spill_free(c->groups);
    free(c->ids_dir);
    free(c->dups);
    free(c->dup_ops);
    free(c->range_lo);
    free(c->range_hi);
    free(c->range_lo_text);
    free(c->range_hi_text);
    for (unsigned i = 0; i < CHECK_ECHO_ERRORS_MAX; i++)
        free(c->echo_error_text[i]);
    free(c->echo_wrong_first.text);
    for (unsigned i = 0; i < c->exception_kinds; i++)
        free(c->exceptions[i].example);
}

void check_invoke(struct check *c)
{
    c->invokes++;
}

/* ==== Latency ==== */

static unsigned hist_bin(int64_t ns)
{
    uint64_t v = ns > 0 ? (uint64_t)ns : 0;
    if (v < 32)
        return (unsigned)v;
    unsigned e = 63 - (unsigned)__builtin_clzll(v); /* >= 5 */
    unsigned sub = (unsigned)((v >> (e - 5)) & 31);
    unsigned bin = (e - 4) * 32 + sub;
    return EDDY_MIN(bin, (unsigned)CHECK_HIST_BINS - 1);
}

static int64_t hist_value(unsigned bin)
{
    if (bin < 32)
        return bin;
    unsigned e = bin / 32 + 4, sub = bin % 32;
    /* The middle of the bin. */
    return (int64_t)(((uint64_t)(32 + sub) << (e - 5)) + ((uint64_t)1 << (e - 5)) / 2);
}

static void hist_add(struct latency_hist *h, int64_t ns)
{
    h->bins[hist_bin(ns)]++;
    h->count++;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

int64_t check_quantile(const struct latency_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)(h->count - 1)) + 1, seen = 0;
    for (unsigned b = 0; b < CHECK_HIST_BINS; b++) {
        seen += h->bins[b];
        if (seen >= want)
            return EDDY_MIN(hist_value(b), h->max_ns);
    }
    return h->max_ns;
}

uint32_t check_bucket_quantile(const struct time_bucket *b, double q)
{
    uint64_t total = 0;
    for (int i = 0; i < 64; i++)
        total += b->lat.bins[i];
    if (!total)
        return 0;
    uint64_t want = (uint64_t)(q * (double)(total - 1)) + 1, seen = 0;
    for (int i = 0; i < 64; i++) {
        seen += b->lat.bins[i];
        if (seen >= want) {
            uint32_t mid = i == 0 ? 0 : (1u << (i - 1)) + (1u << (i - 1)) / 2;
            return EDDY_MIN(mid, b->latency_max_us);
        }
    }
    return b->latency_max_us;
}

static void perf_add(struct check *c, const struct check_op *op)
{
    int64_t lat = op->complete_ns - op->invoke_ns;
    hist_add(&c->lat_all, lat);
    if (op->type == OP_OK)
        hist_add(&c->lat_ok, lat);
    /* Buckets are keyed by invoke time, like the samples: an op that timed out is drawn where
     * it started, next to its own point, not 5 s later. */
    double at = (double)op->invoke_ns / c->bucket_ns;
    unsigned k = at < 0 ? 0 : (unsigned)EDDY_MIN(at, (double)(CHECK_BUCKETS - 1));
    struct time_bucket *b = &c->buckets[k];
    uint64_t us = (uint64_t)(lat > 0 ? lat : 0) / 1000;
    b->ok += op->type == OP_OK;
    b->fail += op->type == OP_FAIL;
    b->info += op->type == OP_INFO;
    b->latency_sum_us += us;
    if (us > b->latency_max_us)
        b->latency_max_us = (uint32_t)EDDY_MIN(us, (uint64_t)UINT32_MAX);
    unsigned lb = us ? 64 - (unsigned)__builtin_clzll(us) : 0;
    b->lat.bins[EDDY_MIN(lb, 63u)]++;

    /* Reservoir sampling (Algorithm R) with a private xorshift: a uniform sample of points. */
    c->samples_seen++;
    size_t slot = c->samples_len;
    if (c->samples_len >= CHECK_SAMPLES_MAX) {
        c->sample_rng ^= c->sample_rng << 13;
        c->sample_rng ^= c->sample_rng >> 7;
        c->sample_rng ^= c->sample_rng << 17;
        slot = (size_t)(c->sample_rng % c->samples_seen);
        if (slot >= CHECK_SAMPLES_MAX)
            return;
    } else {
        c->samples_len++;
    }
    c->samples[slot] = (struct sample){
        .time_ns = op->invoke_ns, .latency_ns = lat, .node = op->node, .type = op->type};
}

/* ==== Exceptions ==== */

static void exception_add(struct check *c, const char *name, const char *text)
{
    for (unsigned i = 0; i < c->exception_kinds; i++) {
        if (strcmp(c->exceptions[i].name, name) == 0) {
            c->exceptions[i].count++;
            return;
        }
    }
    if (c->exception_kinds == CHECK_EXCEPTION_KINDS_MAX)
        return;
    unsigned i = c->exception_kinds++;
    c->exceptions[i].name = name;
    c->exceptions[i].count = 1;
    c->exceptions[i].example = xstrdup(text ? text : "");
}

/* ==== unique-ids ==== */

static char *value_text(const struct json_val *v)
{
    return xstrndup(v->p, v->len);
}

static void dup_op_add(struct check *c, const struct dup_op *d)
{
    if (c->dup_ops_len == CHECK_DUP_OPS_MAX) {
        c->dup_ops_dropped++;
        return;
    }
    if (c->dup_ops_len == c->dup_ops_cap) {
        c->dup_ops_cap = c->dup_ops_cap ? c->dup_ops_cap * 2 : 256;
        c->dup_ops = xrealloc(c->dup_ops, c->dup_ops_cap * sizeof(*c->dup_ops));
    }
    c->dup_ops[c->dup_ops_len++] = *d;
}

static void range_set(uint8_t **enc, size_t *enc_len, char **text, const uint8_t *e, size_t n,
                      const struct json_val *v)
{
    *enc = xrealloc(*enc, n ? n : 1);
    memcpy(*enc, e, n);
    *enc_len = n;
    free(*text);
    *text = value_text(v);
}

static void range_update(struct check *c, const struct json_val *v, const uint8_t *e, size_t n)
{
    if (!c->range_lo) {
        range_set(&c->range_lo, &c->range_lo_len, &c->range_lo_text, e, n, v);
        range_set(&c->range_hi, &c->range_hi_len, &c->range_hi_text, e, n, v);
        return;
    }
    if (c->incomparable)
        return;
    int lo = canon_compare(e, n, c->range_lo, c->range_lo_len);
    int hi = canon_compare(e, n, c->range_hi, c->range_hi_len);
    if (lo == CANON_INCOMPARABLE || hi == CANON_INCOMPARABLE) {
        const uint8_t *other = lo == CANON_INCOMPARABLE ? c->range_lo : c->range_hi;
        size_t olen = lo == CANON_INCOMPARABLE ? c->range_lo_len : c->range_hi_len;
        const char *otext = lo == CANON_INCOMPARABLE ? c->range_lo_text : c->range_hi_text;
        c->incomparable = true;
        snprintf(c->incomparable_why, sizeof(c->incomparable_why),
                 "IDs %.*s (%s) and %.80s (%s) cannot be compared, so Maelstrom's checker throws "
                 "and the result is unknown; use one JSON type for every ID",
                 (int)EDDY_MIN(v->len, (size_t)80), v->p, canon_type_name(e, n), otext,
                 canon_type_name(other, olen));
        return;
    }
    if (lo < 0)
        range_set(&c->range_lo, &c->range_lo_len, &c->range_lo_text, e, n, v);
    if (hi > 0)
        range_set(&c->range_hi, &c->range_hi_len, &c->range_hi_text, e, n, v);
}

static void unique_ids_ok(struct check *c, const struct check_op *op)
{
    uint64_t entry;
    int rc = idset_add(c->ids, op->value,
                       &(struct idset_op){.ref = op->ref,
                                          .index = op->index,
                                          .process = op->process,
                                          .time_ns = op->complete_ns,
                                          .node = op->node,
                                          .client = op->client,
                                          .incarnation = op->incarnation},
                       &entry);
    if (rc == -E2BIG) {
        c->too_long++;
        return;
    }
    if (rc < 0) {
        c->unchecked++; /* a spill write failed: idset_error() says why */
        return;
    }
    c->acknowledged++;
    /* When the set began to spill, within 4,096 IDs (for the benchmark's throughput in memory
     * against throughput while spilling). */
    if (!c->spill_started_ns && (c->acknowledged & 0xFFF) == 0 && idset_runs(c->ids))
        c->spill_started_ns = op->complete_ns;
    size_t n;
    const uint8_t *e = idset_last_encoding(c->ids, &n);
    range_update(c, op->value, e, n);
    if (c->props)
        idprops_add(c->props, e, n, op->value->len, op->node, op->incarnation, op->invoke_ns,
                    op->complete_ns);
    if (rc == 0)
        return;
    c->repeats++;
    dup_op_add(c, &(struct dup_op){.entry = entry,
                                   .ref = op->ref,
                                   .index = op->index,
                                   .process = op->process,
                                   .time_ns = op->complete_ns,
                                   .node = op->node,
                                   .client = op->client,
                                   .incarnation = op->incarnation});
}

/* ==== unique-ids: the end ==== */

/* The most frequent first; of equal counts, the first returned. */
static bool more_frequent(const struct dup_id *a, const struct dup_id *b)
{
    return a->count != b->count ? a->count > b->count : a->first < b->first;
}

/* Heaps of dup_ids: `top` keeps its least frequent at [0] (to be replaced), `dups` its last
 * returned at [0]. */
static bool top_before(const struct dup_id *a, const struct dup_id *b)
{
    return more_frequent(b, a);
}

static bool listed_before(const struct dup_id *a, const struct dup_id *b)
{
    return a->first > b->first;
}

static void heap_down(struct dup_id *h, size_t n, size_t i,
                      bool (*before)(const struct dup_id *, const struct dup_id *))
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && before(&h[c + 1], &h[c]))
            c++;
        if (!before(&h[c], &h[i]))
            return;
        struct dup_id t = h[i];
        h[i] = h[c];
        h[c] = t;
        i = c;
    }
}

static void heap_up(struct dup_id *h, size_t i,
                    bool (*before)(const struct dup_id *, const struct dup_id *))
{
    while (i > 0 && before(&h[i], &h[(i - 1) / 2])) {
        struct dup_id t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

/* Keeps d if it is among the first CHECK_DUPS_LISTED returned; its entries go to the groups
 * spill (an evicted one's stay there, unread). */
static void listed_offer(struct check *c, struct dup_id d, const struct idset_dup *x)
{
    if (c->dups_len == CHECK_DUPS_LISTED && d.first > c->dups[0].first)
        return;
    if (spill_append(c->groups, x->entries, x->nentries * sizeof(*x->entries), &d.group_at) < 0)
        return; /* counted, not listed: report.c says the list is incomplete */
    if (c->dups_len < CHECK_DUPS_LISTED) {
        if (c->dups_len == c->dups_cap) {
            c->dups_cap = c->dups_cap ? 2 * c->dups_cap : 256;
            c->dups = xrealloc(c->dups, c->dups_cap * sizeof(*c->dups));
        }
        c->dups[c->dups_len] = d;
        heap_up(c->dups, c->dups_len++, listed_before);
    } else {
        c->dups[0] = d;
        heap_down(c->dups, c->dups_len, 0, listed_before);
    }
}

static void top_offer(struct check *c, struct dup_id d)
{
    if (c->top_len < CHECK_DUPS_TOP) {
        c->top[c->top_len] = d;
        heap_up(c->top, c->top_len++, top_before);
    } else if (more_frequent(&d, &c->top[0])) {
        c->top[0] = d;
        heap_down(c->top, c->top_len, 0, top_before);
    }
}

static void dup_found(void *ctx, const struct idset_dup *x)
{
    struct check *c = ctx;
    c->dup_ids++;
    c->dup_extra += x->count - 1;
    struct dup_id d = {
        .first = x->entries[0].entry, .count = x->count, .nentries = (uint32_t)x->nentries};
    top_offer(c, d);
    listed_offer(c, d, x);
}

static int dup_first_cmp(const void *a, const void *b)
{
    const struct dup_id *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

static int dup_top_cmp(const void *a, const void *b)
{
    return more_frequent(a, b) ? -1 : more_frequent(b, a) ? 1 : 0;
}

static int dup_op_cmp(const void *a, const void *b)
{
    const struct dup_op *x = a, *y = b;
    if (x->entry != y->entry)
        return x->entry < y->entry ? -1 : 1;
    return (x->time_ns > y->time_ns) - (x->time_ns < y->time_ns);
}

void check_finish(struct check *c)
{
    if (c->workload != WORKLOAD_UNIQUE_IDS || c->finished)
        return;
    c->finished = true;
    c->groups = spill_new(c->ids_dir, 1);
    c->finish_error = idset_finish(c->ids, dup_found, c, &c->stop, c->finish_memory_only);
    /* qsort's pointer must not be NULL even for nothing (the arrays are allocated lazily). */
    if (c->dups_len)
        qsort(c->dups, c->dups_len, sizeof(*c->dups), dup_first_cmp);
    if (c->top_len)
        qsort(c->top, c->top_len, sizeof(*c->top), dup_top_cmp);
    if (c->dup_ops_len)
        qsort(c->dup_ops, c->dup_ops_len, sizeof(*c->dup_ops), dup_op_cmp);
}

int check_dup_entries(struct check *c, const struct dup_id *d, struct idset_entry_count *out,
                      size_t max)
{
    size_t n = EDDY_MIN((size_t)d->nentries, max);
    int rc = spill_read(c->groups, d->group_at, out, n * sizeof(*out));
    return rc < 0 ? rc : (int)d->nentries;
}

int check_entry_text(struct check *c, uint64_t entry, struct buf *out)
{
    struct buf enc;
    buf_init(&enc, IDSET_VALUE_MAX + 16);
    int rc = idset_entry(c->ids, entry, &enc, NULL);
    if (rc == 0)
        rc = canon_to_json((const uint8_t *)buf_peek(&enc), buf_len(&enc), out);
    buf_fini(&enc);
    return rc;
}

/* ==== echo ==== */

static void echo_ok(struct check *c, const struct check_op *op)
{
    char want[32];
    int n = snprintf(want, sizeof(want), "Please echo %d", op->echo_n);
    const struct json_val *v = op->value;
    bool same = v && v->type == JSON_STRING && json_str_eq(v, want, (size_t)n);
    if (same)
        return;
    char text[512];
    snprintf(text, sizeof(text), "Expected a message with :echo \"%s\" but received %.*s", want,
             v ? (int)utf8_prefix(v->p, v->len, 400) : 4, v ? v->p : "null");
    if (c->echo_errors < CHECK_ECHO_ERRORS_MAX)
        c->echo_error_text[c->echo_errors] = xstrdup(text);
    if (c->echo_wrong++ == 0) {
        c->echo_wrong_first.node = op->node;
        c->echo_wrong_first.incarnation = op->incarnation;
        c->echo_wrong_first.client = op->client;
        c->echo_wrong_first.process = op->process;
        c->echo_wrong_first.time_ns = op->complete_ns;
        c->echo_wrong_first.text = xstrdup(text);
    }
    c->echo_errors++;
}

void check_complete(struct check *c, const struct check_op *op)
{
    c->count++;
    c->ok += op->type == OP_OK;
    c->fail += op->type == OP_FAIL;
    c->info += op->type == OP_INFO;
    perf_add(c, op);
    if (op->exception)
        exception_add(c, op->exception, op->exception_text);
    if (c->workload == WORKLOAD_UNIQUE_IDS) {
        if (op->type == OP_OK)
            unique_ids_ok(c, op);
        return;
    }
    /* Maelstrom's echo checker compares every invoke with its completion, so a failed or timed
     * out echo is an error too: its completion carries no echo at all. */
    if (op->type == OP_OK) {
        echo_ok(c, op);
    } else {
        if (c->echo_errors < CHECK_ECHO_ERRORS_MAX) {
            char text[128];
            snprintf(text, sizeof(text),
                     "Expected a message with :echo \"Please echo %d\" but the op was %s",
                     op->echo_n, op_type_name(op->type));
            c->echo_error_text[c->echo_errors] = xstrdup(text);
        }
        c->echo_errors++;
    }
}
