/*
 * diagnose.c: the classes of duplicated IDs and their likely causes (see diagnose.h).
 *
 * Pair counts are exact and cost O(k log k) for an ID returned k times: the ops are sorted by
 * (node, incarnation) and the pairs counted from the group sizes, never enumerated. The
 * evidence is examined on at most three pairs per op: each op against the nearest earlier op of
 * the same ID in each class (among the DIAG_SCAN_BACK before it). The nodes and incarnations
 * involved are counted in one small hash map per class.
 * Depends on: nemesis, alloc, util, cJSON. Used by: report_diag.
 */
#include "diagnose.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== A counting map: uint64 key -> count (count 0 marks an empty slot) ==== */

struct count_map {
    uint64_t *keys, *counts;
    size_t cap, len;
};

static size_t map_slot(uint64_t key, size_t cap)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

static void map_add(struct count_map *m, uint64_t key, uint64_t n)
{
    if (n == 0)
        return;
    if (m->cap == 0 || m->len * 2 >= m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        uint64_t *keys = xcalloc(cap, sizeof(*keys)), *counts = xcalloc(cap, sizeof(*counts));
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->counts[i])
                continue;
            size_t j = map_slot(m->keys[i], cap);
            while (counts[j])
                j = (j + 1) & (cap - 1);
            keys[j] = m->keys[i];
            counts[j] = m->counts[i];
        }
        free(m->keys);
        free(m->counts);
        m->keys = keys;
        m->counts = counts;
        m->cap = cap;
    }
    size_t j = map_slot(key, m->cap);
    while (m->counts[j] && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (!m->counts[j]) {
        m->keys[j] = key;
        m->len++;
    }
    m->counts[j] += n;
}

static void map_free(struct count_map *m)
{
    free(m->keys);
    free(m->counts);
    memset(m, 0, sizeof(*m));
}

/* Keys: within (node, inc); across-restarts (node, older inc, newer inc); across-nodes (a < b). */
#define INC_BITS 26
#define INC_MASK ((1ull << INC_BITS) - 1)

static uint64_t key_within(uint32_t node, uint32_t inc)
{
    return (uint64_t)node << 32 | inc;
}

static uint64_t key_restarts(uint32_t node, uint32_t inc_a, uint32_t inc_b)
{
    return (uint64_t)node << (2 * INC_BITS) | (EDDY_MIN((uint64_t)inc_a, INC_MASK) << INC_BITS) |
           EDDY_MIN((uint64_t)inc_b, INC_MASK);
}

static uint64_t key_nodes(uint32_t a, uint32_t b)
{
    return a < b ? (uint64_t)a << 32 | b : (uint64_t)b << 32 | a;
}

/* ==== State ==== */

/* The first pair seen of one class showing one reason. */
struct example {
    bool set;
    char id[160];
    struct diag_op a, b;
};

struct diag {
    struct diag_env env;
    struct diag_finding f[DIAG_CLASS_COUNT];
    struct example example[DIAG_CLASS_COUNT][DIAG_R_COUNT];
    uint64_t far[DIAG_CLASS_COUNT]; /* examined pairs more than DIAG_RARE_GAP_NS apart */
    struct count_map who[DIAG_CLASS_COUNT];
    uint64_t ids;            /* duplicated IDs added */
    uint64_t unclassified;   /* IDs with fewer than two known ops */
    struct diag_op *scratch; /* the current ID's known ops */
    size_t scratch_cap;
    struct diag_finding *out[DIAG_CLASS_COUNT];
    struct diag_finding sorted[DIAG_CLASS_COUNT];
    bool finished;
};

static const char *const class_names[] = {
    [DIAG_WITHIN_PROCESS] = "within-process",
    [DIAG_ACROSS_RESTARTS] = "across-restarts",
    [DIAG_ACROSS_NODES] = "across-nodes",
};

static const char *const reason_names[] = {
    [DIAG_R_CLOCK_BACK] = "clock-went-back",
    [DIAG_R_CLOCK_STILL] = "clock-stood-still",
    [DIAG_R_MOMENT] = "a-moment-apart",
    [DIAG_R_FAR] = "far-apart",
    [DIAG_R_RESTART_PAST] = "restart-into-the-past",
    [DIAG_R_STATE_LOST] = "state-lost",
    [DIAG_R_NO_NODE_ID] = "no-node-id",
    [DIAG_R_RARE] = "rare-random",
};

const char *diag_class_name(enum diag_class c)
{
    ASSERT(c < DIAG_CLASS_COUNT);
    return class_names[c];
}

const char *diag_reason_name(enum diag_reason r)
{
    ASSERT(r < DIAG_R_COUNT);
    return reason_names[r];
}

struct diag *diag_new(const struct diag_env *env)
{
    ASSERT(env->clock_at);
    ASSERT(env->start_of);
    struct diag *d = xcalloc(1, sizeof(*d));
    d->env = *env;
    for (int c = 0; c < DIAG_CLASS_COUNT; c++)
        d->f[c].cls = (enum diag_class)c;
    return d;
}

void diag_free(struct diag *d)
{
    if (!d)
        return;
    for (int c = 0; c < DIAG_CLASS_COUNT; c++)
        map_free(&d->who[c]);
    free(d->scratch);
    free(d);
}

/* ==== One ID ==== */

static int op_group_cmp(const void *a, const void *b)
{
    const struct diag_op *x = a, *y = b;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    if (x->incarnation != y->incarnation)
        return x->incarnation < y->incarnation ? -1 : 1;
    return (x->time_ns > y->time_ns) - (x->time_ns < y->time_ns);
}

static int op_time_cmp(const void *a, const void *b)
{
    const struct diag_op *x = a, *y = b;
    if (x->time_ns != y->time_ns)
        return x->time_ns < y->time_ns ? -1 : 1;
    return op_group_cmp(a, b);
}

static uint64_t choose2(uint64_t n)
{
    return n * (n - (n > 0)) / 2;
}

/* Exact pair counts of one ID (ops sorted by node, incarnation, time) into pairs[], and the
 * nodes and incarnations involved into the maps. Detail maps skip IDs returned by more than 64
 * groups (only the counts are exact then). */
static void count_pairs(struct diag *d, const struct diag_op *ops, size_t n, uint64_t *pairs)
{
    uint64_t node_sizes[64];
    uint32_t node_ids[64];
    size_t nodes = 0;
    uint64_t same_node = 0;
    for (size_t i = 0; i < n;) {
        /* One node: its incarnation groups. */
        size_t j = i;
        uint64_t inc_sizes[64];
        uint32_t inc_ids[64];
        size_t incs = 0;
        uint64_t within = 0;
        while (j < n && ops[j].node == ops[i].node) {
            size_t k = j;
            while (k < n && ops[k].node == ops[j].node && ops[k].incarnation == ops[j].incarnation)
                k++;
            uint64_t m = k - j;
            within += choose2(m);
            map_add(&d->who[DIAG_WITHIN_PROCESS], key_within(ops[j].node, ops[j].incarnation),
                    choose2(m));
            if (incs < 64) {
                inc_sizes[incs] = m;
                inc_ids[incs++] = ops[j].incarnation;
            }
            j = k;
        }
        uint64_t total = j - i;
        pairs[DIAG_WITHIN_PROCESS] += within;
        pairs[DIAG_ACROSS_RESTARTS] += choose2(total) - within;
        for (size_t a = 0; a < incs; a++)
            for (size_t b = a + 1; b < incs; b++)
                map_add(&d->who[DIAG_ACROSS_RESTARTS],
                        key_restarts(ops[i].node, inc_ids[a], inc_ids[b]),
                        inc_sizes[a] * inc_sizes[b]);
        same_node += choose2(total);
        if (nodes < 64) {
            node_sizes[nodes] = total;
            node_ids[nodes++] = ops[i].node;
        }
        i = j;
    }
    pairs[DIAG_ACROSS_NODES] += choose2(n) - same_node;
    for (size_t a = 0; a < nodes; a++)
        for (size_t b = a + 1; b < nodes; b++)
            map_add(&d->who[DIAG_ACROSS_NODES], key_nodes(node_ids[a], node_ids[b]),
                    node_sizes[a] * node_sizes[b]);
}

static enum diag_class pair_class(const struct diag_op *x, const struct diag_op *y)
{
    if (x->node != y->node)
        return DIAG_ACROSS_NODES;
    return x->incarnation == y->incarnation ? DIAG_WITHIN_PROCESS : DIAG_ACROSS_RESTARTS;
}

/* What the pair x (earlier) and y shows. */
static enum diag_reason pair_reason(struct diag *d, enum diag_class cls, const struct diag_op *x,
                                    const struct diag_op *y)
{
    struct diag_clock cx, cy;
    d->env.clock_at(d->env.ctx, x->node, x->time_ns, false, &cx);
    d->env.clock_at(d->env.ctx, y->node, y->time_ns, false, &cy);
    int64_t gap = y->time_ns - x->time_ns;
    /* How far the later op's clock read past the earlier's: an ID built from the clock can
     * repeat only when this is within a tick or below zero. */
    int64_t dfake = (y->time_ns + cy.offset_ns) - (x->time_ns + cx.offset_ns);
    /* The clock was set back between them (a bump, a strobe, a set, a replay). */
    bool set_back = cy.offset_ns < cx.offset_ns - 1000000 && dfake < 1000000;
    switch (cls) {
    case DIAG_WITHIN_PROCESS:
        if (cy.controlled && cy.rate == 0)
            return DIAG_R_CLOCK_STILL;
        if (set_back)
            return DIAG_R_CLOCK_BACK;
        if (gap > DIAG_CLOSE_NS && dfake < 1000000)
            return DIAG_R_CLOCK_STILL; /* slowed almost to a stop */
        return gap <= DIAG_CLOSE_NS ? DIAG_R_MOMENT : DIAG_R_FAR;
    case DIAG_ACROSS_RESTARTS: {
        struct diag_start st;
        d->env.start_of(d->env.ctx, y->node, y->incarnation, &st);
        if (st.restart && st.mode != RESTART_CLOCK_NOW && st.clock_applied)
            return DIAG_R_RESTART_PAST;
        return set_back ? DIAG_R_CLOCK_BACK : DIAG_R_STATE_LOST;
    }
    case DIAG_ACROSS_NODES:
    case DIAG_CLASS_COUNT:
        break;
    }
    return DIAG_R_NO_NODE_ID;
}

static void set_example(struct example *e, const char *id_text, const struct diag_op *x,
                        const struct diag_op *y)
{
    size_t len = strlen(id_text);
    if (len >= sizeof(e->id)) {
        memcpy(e->id, id_text, sizeof(e->id) - 4);
        memcpy(e->id + sizeof(e->id) - 4, "...", 4);
    } else {
        memcpy(e->id, id_text, len + 1);
    }
    e->a = *x;
    e->b = *y;
    e->set = true;
}

/* The finding's example: the first pair that shows its reason, with its clocks and starts. */
static void use_example(struct diag *d, struct diag_finding *f)
{
    const struct example *e = &d->example[f->cls][f->reason];
    for (int r = 0; !e->set && r < DIAG_R_COUNT; r++)
        e = &d->example[f->cls][r]; /* DIAG_R_RARE is decided at the end: any pair shows it */
    ASSERT(e->set);
    memcpy(f->id, e->id, sizeof(f->id));
    f->a = e->a;
    f->b = e->b;
    d->env.clock_at(d->env.ctx, f->a.node, f->a.time_ns, true, &f->clock_a);
    d->env.clock_at(d->env.ctx, f->b.node, f->b.time_ns, true, &f->clock_b);
    d->env.start_of(d->env.ctx, f->a.node, f->a.incarnation, &f->start_a);
    d->env.start_of(d->env.ctx, f->b.node, f->b.incarnation, &f->start_b);
}

void diag_add_id(struct diag *d, const char *id_text, struct diag_op *ops, size_t n)
{
    ASSERT(!d->finished);
    d->ids++;
    size_t k = 0;
    if (n > d->scratch_cap) {
        d->scratch_cap = n;
        d->scratch = xrealloc(d->scratch, n * sizeof(*d->scratch));
    }
    for (size_t i = 0; i < n; i++)
        if (ops[i].known)
            d->scratch[k++] = ops[i];
    if (k < 2) {
        d->unclassified++;
        return;
    }
    struct diag_op *o = d->scratch;
    uint64_t pairs[DIAG_CLASS_COUNT] = {0};
    qsort(o, k, sizeof(*o), op_group_cmp);
    count_pairs(d, o, k, pairs);
    for (int c = 0; c < DIAG_CLASS_COUNT; c++) {
        d->f[c].pairs += pairs[c];
        d->f[c].ids += pairs[c] > 0;
    }
    /* The evidence: each op against the nearest earlier op of each class. */
    qsort(o, k, sizeof(*o), op_time_cmp);
    for (size_t j = 1; j < k; j++) {
        bool seen[DIAG_CLASS_COUNT] = {false};
        size_t stop = j > DIAG_SCAN_BACK ? j - DIAG_SCAN_BACK : 0;
        for (size_t i = j; i-- > stop;) {
            enum diag_class c = pair_class(&o[i], &o[j]);
            if (seen[c])
                continue;
            seen[c] = true;
            enum diag_reason r = pair_reason(d, c, &o[i], &o[j]);
            d->f[c].reasons[r]++;
            d->far[c] += o[j].time_ns - o[i].time_ns > DIAG_RARE_GAP_NS;
            if (!d->example[c][r].set)
                set_example(&d->example[c][r], id_text, &o[i], &o[j]);
            if (seen[0] && seen[1] && seen[2])
                break;
        }
    }
}

/* ==== Finishing: who, the dominant reason, the sentence ==== */

struct who_entry {
    uint64_t key, count;
};

static int who_cmp(const void *a, const void *b)
{
    const struct who_entry *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return (x->key > y->key) - (x->key < y->key);
}

static void fill_involved(struct diag *d, struct diag_finding *f)
{
    struct count_map *m = &d->who[f->cls];
    struct who_entry *e = xmalloc((m->len ? m->len : 1) * sizeof(*e));
    size_t n = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->counts[i])
            e[n++] = (struct who_entry){m->keys[i], m->counts[i]};
    qsort(e, n, sizeof(*e), who_cmp);
    f->involved_len = (unsigned)EDDY_MIN(n, (size_t)DIAG_INVOLVED_MAX);
    f->involved_more = n - f->involved_len;
    for (unsigned i = 0; i < f->involved_len; i++) {
        uint64_t k = e[i].key;
        f->involved[i].pairs = e[i].count;
        switch (f->cls) {
        case DIAG_WITHIN_PROCESS:
            f->involved[i].node_a = f->involved[i].node_b = (uint32_t)(k >> 32);
            f->involved[i].inc_a = f->involved[i].inc_b = (uint32_t)k;
            break;
        case DIAG_ACROSS_RESTARTS:
            f->involved[i].node_a = f->involved[i].node_b = (uint32_t)(k >> (2 * INC_BITS));
            f->involved[i].inc_a = (uint32_t)(k >> INC_BITS & INC_MASK);
            f->involved[i].inc_b = (uint32_t)(k & INC_MASK);
            break;
        default:
            f->involved[i].node_a = (uint32_t)(k >> 32);
            f->involved[i].node_b = (uint32_t)k;
            break;
        }
    }
    free(e);
}

/* Across nodes: the most low bits of the node's position in which every colliding pair agrees,
 * when that explains the collisions exactly (every pair of nodes that agrees in them collided,
 * checked up to 256 nodes) and some pairs disagree in them. 0 when no such number exists. */
static unsigned node_bits(struct diag *d)
{
    const struct count_map *m = &d->who[DIAG_ACROSS_NODES];
    uint32_t n = d->env.node_count;
    if (m->len == 0 || n < 3 || n > 256)
        return 0;
    uint64_t diff = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->counts[i])
            diff |= (m->keys[i] >> 32) ^ (m->keys[i] & 0xFFFFFFFFu);
    if (diff == 0)
        return 0;
    unsigned b = (unsigned)__builtin_ctzll(diff);
    if (b == 0 || (1u << b) >= n)
        return 0;
    /* Every pair that agrees in the low b bits must have collided. */
    uint64_t want = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++)
            want += ((i ^ j) & ((1u << b) - 1)) == 0;
    return want == m->len ? b : 0;
}

static void clock_words(const struct diag_finding *f, char *out, size_t cap)
{
    int64_t back = f->clock_a.offset_ns - f->clock_b.offset_ns;
    if (back > 0)
        snprintf(out, cap, "by %.0f ms", (double)back / 1e6);
    else
        snprintf(out, cap, "a fault");
}

static void write_cause(struct diag *d, struct diag_finding *f)
{
    char w[64], names[96];
    const char *const *nm = d->env.node_names;
    switch (f->reason) {
    case DIAG_R_CLOCK_BACK:
        clock_words(f, w, sizeof(w));
        if (f->cls == DIAG_WITHIN_PROCESS)
            snprintf(f->cause, sizeof(f->cause),
                     "One process returned the same ID again after its clock went back (%s): "
                     "the ID is built from the clock, and a clock that repeats repeats it.",
                     w);
        else
            snprintf(f->cause, sizeof(f->cause),
                     "A restarted process's clock was behind its previous incarnation's (%s) and "
                     "it reissued that incarnation's IDs: the state that kept IDs moving forward "
                     "was lost on restart, and the clock could not make up for it.",
                     w);
        return;
    case DIAG_R_CLOCK_STILL:
        snprintf(f->cause, sizeof(f->cause),
                 "One process returned the same ID twice while its clock stood still: the ID "
                 "comes from the clock, and a clock that does not advance repeats it.");
        return;
    case DIAG_R_MOMENT:
        snprintf(f->cause, sizeof(f->cause),
                 "One process gave the same ID to two requests a moment apart (within %d ms), "
                 "its clock running normally: a counter or clock read and advanced without a "
                 "lock by concurrent requests, or more than one ID per clock tick.",
                 DIAG_CLOSE_NS / 1000000);
        return;
    case DIAG_R_FAR:
        snprintf(f->cause, sizeof(f->cause),
                 "One process returned an ID again long after the first time, its clock moving "
                 "forward: a counter that wrapped around, or random IDs colliding.");
        return;
    case DIAG_R_RESTART_PAST:
        if (f->start_b.mode == RESTART_CLOCK_REPLAY)
            snprintf(w, sizeof(w), "replay: to the clock incarnation %u started with",
                     f->b.incarnation ? f->b.incarnation - 1 : 0);
        else
            snprintf(w, sizeof(w), "behind: %.0f ms before incarnation %u's start",
                     f->start_b.behind_ms, f->b.incarnation ? f->b.incarnation - 1 : 0);
        snprintf(f->cause, sizeof(f->cause),
                 "A restart set the new process's clock back (%s) and it reissued IDs its "
                 "previous incarnation had given: the ID depends on the clock, and the state that "
                 "kept it moving forward died with the process.",
                 w);
        return;
    case DIAG_R_STATE_LOST:
        snprintf(f->cause, sizeof(f->cause),
                 "State lost on restart: a new process reissued IDs its previous incarnation had "
                 "given although its clock had not gone back%s: a counter or sequence that starts "
                 "from its first value again in every process.",
                 f->reasons[DIAG_R_RESTART_PAST] ? " (restarts into the past did the same)" : "");
        return;
    case DIAG_R_NO_NODE_ID:
        if (f->node_bits) {
            uint32_t a = f->involved[0].node_a, b = f->involved[0].node_b;
            snprintf(names, sizeof(names), "%.40s & %.40s", nm[a], nm[b]);
            snprintf(f->cause, sizeof(f->cause),
                     "Only nodes whose positions agree in their low %u bits (%s) returned the "
                     "same IDs: the ID keeps too little of the node id (%u bits for %u nodes).",
                     f->node_bits, names, f->node_bits, d->env.node_count);
        } else {
            snprintf(f->cause, sizeof(f->cause),
                     "Different nodes returned the same IDs: the node id is not in the ID, so "
                     "nodes that count or read the clock alike issue the same values.");
        }
        return;
    case DIAG_R_RARE:
        snprintf(f->cause, sizeof(f->cause),
                 "A few IDs (%" PRIu64 " of %" PRIu64
                 " acknowledged) came back far apart in time with nothing in common: random IDs "
                 "with too few bits, colliding by the birthday bound.",
                 d->ids, d->env.acknowledged);
        return;
    case DIAG_R_COUNT:
        break;
    }
    ASSERT(!"no reason");
}

/* Other evidence worth a mention: a reason seen in at least 5% of the pairs examined. */
static void add_also(struct diag_finding *f)
{
    static const char *const words[] = {
        [DIAG_R_CLOCK_BACK] = "after the clock went back",
        [DIAG_R_CLOCK_STILL] = "while the clock stood still",
        [DIAG_R_MOMENT] = "a moment apart",
        [DIAG_R_FAR] = "far apart in time",
        [DIAG_R_RESTART_PAST] = "after restarts into the past",
        [DIAG_R_STATE_LOST] = "after restarts with the clock as it was",
        [DIAG_R_NO_NODE_ID] = "between nodes",
        [DIAG_R_RARE] = "rarely",
    };
    uint64_t examined = 0;
    for (int r = 0; r < DIAG_R_COUNT; r++)
        examined += f->reasons[r];
    size_t at = strlen(f->cause);
    bool first = true;
    for (int r = 0; r < DIAG_R_COUNT; r++) {
        if (r == (int)f->reason || f->reasons[r] * 20 < examined || !f->reasons[r])
            continue;
        if (f->reason == DIAG_R_STATE_LOST && r == DIAG_R_RESTART_PAST)
            continue; /* already said */
        int k = snprintf(f->cause + at, sizeof(f->cause) - at,
                         "%s %" PRIu64 " of %" PRIu64 " pairs examined %s", first ? " Also:" : ";",
                         f->reasons[r], examined, words[r]);
        if (k < 0 || (size_t)k >= sizeof(f->cause) - at) {
            f->cause[at] = '\0';
            return;
        }
        at += (size_t)k;
        first = false;
    }
    if (!first && at + 1 < sizeof(f->cause)) {
        f->cause[at++] = '.';
        f->cause[at] = '\0';
    }
}

static int finding_cmp(const void *a, const void *b)
{
    const struct diag_finding *x = a, *y = b;
    if (x->ids != y->ids)
        return x->ids < y->ids ? 1 : -1;
    if (x->pairs != y->pairs)
        return x->pairs < y->pairs ? 1 : -1;
    return (int)x->cls - (int)y->cls;
}

size_t diag_finish(struct diag *d, const struct diag_finding **out)
{
    ASSERT(!d->finished);
    d->finished = true;
    /* Rare collisions, far apart: what random IDs with too few bits look like. */
    bool rare = d->env.acknowledged > 0 && d->ids * 1000 < d->env.acknowledged;
    size_t n = 0;
    for (int c = 0; c < DIAG_CLASS_COUNT; c++) {
        struct diag_finding *f = &d->f[c];
        if (f->pairs == 0)
            continue;
        fill_involved(d, f);
        uint64_t examined = 0, best = 0;
        f->reason = c == DIAG_ACROSS_NODES ? DIAG_R_NO_NODE_ID : DIAG_R_STATE_LOST;
        for (int r = 0; r < DIAG_R_COUNT; r++) {
            examined += f->reasons[r];
            if (f->reasons[r] > best) {
                best = f->reasons[r];
                f->reason = (enum diag_reason)r;
            }
        }
        /* A restart with its clock as it was that repeats IDs shows the state alone is lost,
         * whatever the restarts into the past add: that is the cause to fix. */
        if (c == DIAG_ACROSS_RESTARTS && f->reasons[DIAG_R_STATE_LOST])
            f->reason = DIAG_R_STATE_LOST;
        bool clocky = f->reason == DIAG_R_CLOCK_BACK || f->reason == DIAG_R_CLOCK_STILL ||
                      f->reason == DIAG_R_RESTART_PAST;
        /* Not across restarts: a counter that starts again collides far from the first
         * incarnation's op however few IDs it repeats before the run ends. */
        if (rare && !clocky && c != DIAG_ACROSS_RESTARTS && d->far[c] * 2 > examined)
            f->reason = DIAG_R_RARE;
        if (c == DIAG_ACROSS_NODES && f->reason == DIAG_R_NO_NODE_ID)
            f->node_bits = node_bits(d);
        use_example(d, f);
        write_cause(d, f);
        if (f->reason != DIAG_R_RARE)
            add_also(f);
        d->sorted[n++] = *f;
    }
    qsort(d->sorted, n, sizeof(d->sorted[0]), finding_cmp);
    *out = d->sorted;
    return n;
}

/* ==== Output ==== */

static void start_words(const struct diag_start *s, char *out, size_t cap)
{
    if (!s->restart)
        snprintf(out, cap, "the node's first process");
    else if (s->mode == RESTART_CLOCK_NOW)
        snprintf(out, cap, "restarted at %.3f s, clock as it was", (double)s->time_ns / 1e9);
    else if (!s->clock_applied)
        snprintf(out, cap, "restarted at %.3f s, clock %s not applied", (double)s->time_ns / 1e9,
                 restart_clock_name(s->mode));
    else if (s->mode == RESTART_CLOCK_REPLAY)
        snprintf(out, cap,
                 "restarted at %.3f s, clock replay (set back to its predecessor's start)",
                 (double)s->time_ns / 1e9);
    else
        snprintf(out, cap,
                 "restarted at %.3f s, clock behind (%.0f ms before its predecessor's "
                 "start)",
                 (double)s->time_ns / 1e9, s->behind_ms);
}

static cJSON *op_json(const struct diag *d, const struct diag_op *o, const struct diag_clock *c,
                      const struct diag_start *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "node", d->env.node_names[o->node]);
    cJSON_AddNumberToObject(j, "incarnation", o->incarnation);
    char client[24];
    snprintf(client, sizeof(client), "c%u", o->client);
    cJSON_AddStringToObject(j, "client", client);
    cJSON_AddNumberToObject(j, "process", (double)o->process);
    cJSON_AddNumberToObject(j, "time", (double)o->time_ns / 1e9);
    cJSON_AddNumberToObject(j, "clock-offset-ms", (double)c->offset_ns / 1e6);
    cJSON_AddNumberToObject(j, "clock-rate", c->rate);
    if (c->strobe_period_ns) {
        cJSON *st = cJSON_AddObjectToObject(j, "clock-strobe");
        cJSON_AddNumberToObject(st, "delta-ms", (double)c->strobe_delta_ns / 1e6);
        cJSON_AddNumberToObject(st, "period-ms", (double)c->strobe_period_ns / 1e6);
    }
    cJSON_AddStringToObject(j, "clock-faults", c->faults);
    char w[160];
    start_words(s, w, sizeof(w));
    cJSON_AddStringToObject(j, "started", w);
    if (s->restart)
        cJSON_AddStringToObject(j, "restart-clock", restart_clock_name(s->mode));
    return j;
}

static void involved_words(const struct diag *d, const struct diag_finding *f, unsigned i,
                           char *out, size_t cap)
{
    const char *const *nm = d->env.node_names;
    switch (f->cls) {
    case DIAG_WITHIN_PROCESS:
        snprintf(out, cap, "%.60s#%u", nm[f->involved[i].node_a], f->involved[i].inc_a);
        return;
    case DIAG_ACROSS_RESTARTS:
        snprintf(out, cap, "%.60s#%u/#%u", nm[f->involved[i].node_a], f->involved[i].inc_a,
                 f->involved[i].inc_b);
        return;
    default:
        snprintf(out, cap, "%.60s & %.60s", nm[f->involved[i].node_a], nm[f->involved[i].node_b]);
        return;
    }
}

cJSON *diag_finding_json(const struct diag *d, const struct diag_finding *f)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "class", diag_class_name(f->cls));
    cJSON_AddNumberToObject(j, "count", (double)f->ids);
    cJSON_AddNumberToObject(j, "pairs", (double)f->pairs);
    cJSON *who = cJSON_AddArrayToObject(j, "involved");
    for (unsigned i = 0; i < f->involved_len; i++) {
        cJSON *w = cJSON_CreateObject();
        const char *const *nm = d->env.node_names;
        if (f->cls == DIAG_ACROSS_NODES) {
            cJSON *pair = cJSON_AddArrayToObject(w, "nodes");
            cJSON_AddItemToArray(pair, cJSON_CreateString(nm[f->involved[i].node_a]));
            cJSON_AddItemToArray(pair, cJSON_CreateString(nm[f->involved[i].node_b]));
        } else {
            cJSON_AddStringToObject(w, "node", nm[f->involved[i].node_a]);
            cJSON *incs = cJSON_AddArrayToObject(w, "incarnations");
            cJSON_AddItemToArray(incs, cJSON_CreateNumber(f->involved[i].inc_a));
            if (f->cls == DIAG_ACROSS_RESTARTS)
                cJSON_AddItemToArray(incs, cJSON_CreateNumber(f->involved[i].inc_b));
        }
        cJSON_AddNumberToObject(w, "pairs", (double)f->involved[i].pairs);
        cJSON_AddItemToArray(who, w);
    }
    if (f->involved_more)
        cJSON_AddNumberToObject(j, "involved-not-listed", (double)f->involved_more);
    cJSON *ex = cJSON_AddObjectToObject(j, "example");
    cJSON_AddStringToObject(ex, "id", f->id);
    cJSON *ops = cJSON_AddArrayToObject(ex, "ops");
    cJSON_AddItemToArray(ops, op_json(d, &f->a, &f->clock_a, &f->start_a));
    cJSON_AddItemToArray(ops, op_json(d, &f->b, &f->clock_b, &f->start_b));
    cJSON_AddStringToObject(j, "cause", f->cause);
    cJSON *ev = cJSON_AddObjectToObject(j, "evidence");
    cJSON_AddStringToObject(ev, "dominant", diag_reason_name(f->reason));
    for (int r = 0; r < DIAG_R_COUNT; r++)
        if (f->reasons[r])
            cJSON_AddNumberToObject(ev, diag_reason_name((enum diag_reason)r),
                                    (double)f->reasons[r]);
    if (f->node_bits)
        cJSON_AddNumberToObject(ev, "node-bits", f->node_bits);
    if (d->unclassified)
        cJSON_AddNumberToObject(ev, "ids-not-classified", (double)d->unclassified);
    return j;
}

static void op_words(const struct diag *d, const struct diag_op *o, const struct diag_clock *c,
                     const struct diag_start *s, char *out, size_t cap)
{
    int n =
        snprintf(out, cap, "%.60s#%u to c%u at %.6f s, clock %+.0f ms", d->env.node_names[o->node],
                 o->incarnation, o->client, (double)o->time_ns / 1e9, (double)c->offset_ns / 1e6);
    if (n < 0 || (size_t)n >= cap)
        return;
    if (c->controlled && c->rate != 1.0)
        n +=
            snprintf(out + n, cap - (size_t)n, c->rate == 0 ? " frozen" : " at rate %.3g", c->rate);
    if (n >= 0 && (size_t)n < cap && c->strobe_period_ns)
        n += snprintf(out + n, cap - (size_t)n, " strobing");
    if (n >= 0 && (size_t)n < cap && s->restart)
        snprintf(out + n, cap - (size_t)n, ", restart %s", restart_clock_name(s->mode));
}

void diag_finding_text(const struct diag *d, const struct diag_finding *f, char *out, size_t cap)
{
    char who[300] = "", one[140];
    size_t at = 0;
    for (unsigned i = 0; i < f->involved_len && i < 3; i++) {
        involved_words(d, f, i, one, sizeof(one));
        int k = snprintf(who + at, sizeof(who) - at, "%s%s", i ? ", " : "", one);
        if (k < 0 || (size_t)k >= sizeof(who) - at)
            break;
        at += (size_t)k;
    }
    if (f->involved_len > 3 || f->involved_more)
        snprintf(who + at, sizeof(who) - at, ", ...");
    char a[200], b[200];
    op_words(d, &f->a, &f->clock_a, &f->start_a, a, sizeof(a));
    op_words(d, &f->b, &f->clock_b, &f->start_b, b, sizeof(b));
    snprintf(out, cap,
             "  %s: %" PRIu64 " ID%s (%s). %s\n"
             "    e.g. %.80s: %s; %s\n",
             diag_class_name(f->cls), f->ids, f->ids == 1 ? "" : "s", who, f->cause, f->id, a, b);
}
