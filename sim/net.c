/*
 * net.c: the in-flight heap and the per-link draws of net.h.
 *
 * The heap is a plain binary min-heap on (deliver_at_ns, seq): O(log n) per message. The
 * per-link message counters are a dense n*n array of uint32 (4 MB at 1,000 nodes), allocated
 * only when a draw is actually needed (latency, loss or duplication configured), so a fault-free
 * zero-latency run pays nothing.
 * Depends on: grudge, prng, alloc. Used by: run.
 */
#include "net.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct net {
    struct net_opts opts;
    struct grudge grudge;
    uint32_t loss_ppm;
    uint32_t dup_ppm;
    uint32_t *link_seq; /* messages sent per link, for the counter-based draws */
    struct net_msg *heap;
    size_t len, cap;
    size_t bytes;
    uint64_t next_seq;
    struct net_stats stats;
};

struct net *net_new(const struct net_opts *o)
{
    struct net *n = xcalloc(1, sizeof(*n));
    n->opts = *o;
    grudge_init(&n->grudge, o->node_count);
    return n;
}

void net_free(struct net *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->len; i++)
        free(n->heap[i].line);
    free(n->heap);
    free(n->link_seq);
    grudge_fini(&n->grudge);
    free(n);
}

struct grudge *net_grudge(struct net *n)
{
    return &n->grudge;
}

void net_set_loss(struct net *n, uint32_t loss_ppm)
{
    n->loss_ppm = EDDY_MIN(loss_ppm, 1000000u);
}

void net_set_duplicate(struct net *n, uint32_t dup_ppm)
{
    n->dup_ppm = EDDY_MIN(dup_ppm, 1000000u);
}

uint32_t net_loss_ppm(const struct net *n)
{
    return n->loss_ppm;
}

uint32_t net_duplicate_ppm(const struct net *n)
{
    return n->dup_ppm;
}

bool net_is_direct(const struct net *n)
{
    return n->opts.latency_ms <= 0 && n->loss_ppm == 0 && n->dup_ppm == 0 && n->len == 0;
}

bool net_partitioned(const struct net *n, uint32_t src, uint32_t dest)
{
    return n->grudge.cuts && grudge_drops(&n->grudge, dest, src);
}

/* ==== Draws ==== */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The k-th draw for the m-th message on link src->dest: independent of every other link. */
static double link_unit(const struct net *n, uint32_t src, uint32_t dest, uint32_t m, unsigned k)
{
    uint64_t x = n->opts.seed ^ mix64(((uint64_t)src << 32 | dest) + 0x9E3779B97F4A7C15ull);
    x = mix64(x ^ ((uint64_t)m << 8 | k));
    return (double)(x >> 11) * 0x1.0p-53;
}

static double latency_draw(const struct net *n, uint32_t src, uint32_t dest, uint32_t m, unsigned k)
{
    double mean = n->opts.latency_ms;
    if (mean <= 0)
        return 0;
    double u = link_unit(n, src, dest, m, k);
    /* maelstrom src/maelstrom/net.clj: latency-dist draws from Incanter's (integer-distribution
     * 0 (* 2 mean)), whose draws are below its end, or (exponential-distribution (/ mean)), and
     * latency-for truncates every draw to whole milliseconds with (long ...). */
    switch (n->opts.dist) {
    case LATENCY_CONSTANT:
        return mean;
    case LATENCY_UNIFORM:
        return floor(u * ceil(2 * mean));
    case LATENCY_EXPONENTIAL:
        return floor(-mean * log(1.0 - u));
    }
    return mean;
}

/* ==== Heap ==== */

static bool before(const struct net_msg *a, const struct net_msg *b)
{
    return a->deliver_at_ns < b->deliver_at_ns ||
           (a->deliver_at_ns == b->deliver_at_ns && a->seq < b->seq);
}

static void heap_push(struct net *n, const struct net_msg *m)
{
    if (n->len == n->cap) {
        n->cap = n->cap ? n->cap * 2 : 256;
        n->heap = xrealloc(n->heap, n->cap * sizeof(*n->heap));
    }
    size_t i = n->len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(m, &n->heap[parent]))
            break;
        n->heap[i] = n->heap[parent];
        i = parent;
    }
    n->heap[i] = *m;
    n->bytes += m->len;
}

static void heap_pop(struct net *n, struct net_msg *out)
{
    ASSERT(n->len > 0);
    *out = n->heap[0];
    n->bytes -= out->len;
    struct net_msg last = n->heap[--n->len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n->len)
            break;
        if (c + 1 < n->len && before(&n->heap[c + 1], &n->heap[c]))
            c++;
        if (!before(&n->heap[c], &last))
            break;
        n->heap[i] = n->heap[c];
        i = c;
    }
    if (n->len > 0)
        n->heap[i] = last;
}

/* ==== Sending and delivering ==== */

/* now + ms, saturating: a delay past the range of int64 nanoseconds (a --latency of 9.3e12 ms,
 * or an exponential draw far out in the tail) means never, not a wrapped-around "at once". */
static int64_t deliver_at(int64_t now_ns, double ms)
{
    double ns = ms * 1e6;
    int64_t at;
    if (!(ns < 9e18) || __builtin_add_overflow(now_ns, (int64_t)ns, &at))
        return INT64_MAX;
    return at;
}

unsigned net_send(struct net *n, int64_t now_ns, uint32_t src, uint32_t dest, uint64_t net_id,
                  uint32_t tag, char *line, size_t len)
{
    ASSERT(src < n->opts.node_count);
    ASSERT(dest < n->opts.node_count);
    if (!n->link_seq)
        n->link_seq = xcalloc((size_t)n->opts.node_count * n->opts.node_count, sizeof(uint32_t));
    uint32_t m = n->link_seq[(size_t)src * n->opts.node_count + dest]++;

    if (n->loss_ppm && link_unit(n, src, dest, m, 1) * 1e6 < n->loss_ppm) {
        n->stats.lost++;
        free(line);
        return 0;
    }
    unsigned copies = 1;
    if (n->dup_ppm && link_unit(n, src, dest, m, 2) * 1e6 < n->dup_ppm)
        copies = 2;
    if (n->len + copies > NET_QUEUE_MAX || n->bytes + copies * len > NET_QUEUE_BYTES_MAX) {
        n->stats.overflowed++;
        free(line);
        return 0;
    }
    for (unsigned c = 0; c < copies; c++) {
        double ms = latency_draw(n, src, dest, m, 3 + c);
        if (c == 1) {
            /* The duplicate trails by up to two mean latencies (at least 10 ms' worth), so it
             * can overtake later messages: duplication that also reorders. */
            double spread = EDDY_MAX(2 * n->opts.latency_ms, 10.0);
            ms += link_unit(n, src, dest, m, 5) * spread;
            n->stats.duplicated++;
        }
        struct net_msg msg = {
            .deliver_at_ns = deliver_at(now_ns, ms),
            .seq = n->next_seq++,
            .src = src,
            .dest = dest,
            .net_id = net_id,
            .tag = tag,
            .line = c == 0 ? line : xstrndup(line, len),
            .len = len,
        };
        heap_push(n, &msg);
    }
    return copies;
}

int net_pop_due(struct net *n, int64_t now_ns, struct net_msg *m)
{
    while (n->len > 0 && n->heap[0].deliver_at_ns <= now_ns) {
        heap_pop(n, m);
        if (net_partitioned(n, m->src, m->dest)) {
            n->stats.partitioned++;
            free(m->line);
            continue;
        }
        n->stats.delivered++;
        return 1;
    }
    return 0;
}

int64_t net_next_due(const struct net *n)
{
    return n->len ? n->heap[0].deliver_at_ns : INT64_MAX;
}

void net_count_direct(struct net *n, bool partitioned)
{
    if (partitioned)
        n->stats.partitioned++;
    else
        n->stats.delivered++;
}

const struct net_stats *net_stats(const struct net *n)
{
    return &n->stats;
}

size_t net_in_flight(const struct net *n)
{
    return n->len;
}
