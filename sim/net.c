/*
 * net.c: the receivers, the in-flight queues and the per-link draws of net.h.
 *
 * Each node has a receiver shaped like Maelstrom's (maelstrom src/maelstrom/net.clj recv!, one
 * thread per node in process.clj): its messages wait in a queue of their own ordered by
 * (deadline, seq); the receiver takes the earliest, drops it if the partition cuts its src,
 * otherwise sleeps until its deadline and delivers it, then takes the next. So a message that
 * arrives while the receiver sleeps on a later one waits behind it (head-of-line), and the
 * partition check happens when a message is taken, not when it is due. The messages taken,
 * at most one per receiver, sit in a binary min-heap on (deliver_at_ns, seq): O(log n) each.
 * The per-link message counters are a dense n*n array of uint32 (4 MB at 1,000 nodes),
 * allocated only when a draw is actually needed (latency, loss or duplication configured), so
 * a fault-free zero-latency run pays nothing.
 * Depends on: grudge, prng, alloc. Used by: run.
 */
#include "net.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A binary min-heap of messages on (deliver_at_ns, seq). */
struct msg_heap {
    struct net_msg *m;
    size_t len, cap;
};

/* One node's receiver: the messages not yet taken, and whether it holds one (sleeping until it
 * is due, the message then being in the net's heap). */
struct receiver {
    struct msg_heap queue;
    bool taken;
};

struct net {
    struct net_opts opts;
    struct grudge grudge;
    uint32_t loss_ppm;
    uint32_t dup_ppm;
    uint32_t *link_seq;  /* messages sent per link, for the counter-based draws */
    struct receiver *rx; /* per node */
    struct msg_heap due; /* the messages taken, by delivery time */
    size_t len;          /* messages in flight, queued or taken */
    size_t bytes;
    uint64_t next_seq;
    struct net_stats stats;
};

struct net *net_new(const struct net_opts *o)
{
    struct net *n = xcalloc(1, sizeof(*n));
    n->opts = *o;
    grudge_init(&n->grudge, o->node_count);
    n->rx = xcalloc(o->node_count ? o->node_count : 1, sizeof(*n->rx));
    return n;
}

static void heap_free(struct msg_heap *h)
{
    for (size_t i = 0; i < h->len; i++)
        free(h->m[i].line);
    free(h->m);
}

void net_free(struct net *n)
{
    if (!n)
        return;
    for (uint32_t i = 0; i < n->opts.node_count; i++)
        heap_free(&n->rx[i].queue);
    free(n->rx);
    heap_free(&n->due);
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
    /* Grudges name nodes only: clients and services are never partitioned. */
    return src != NET_SRC_CLIENT && n->grudge.cuts && grudge_drops(&n->grudge, dest, src);
}

bool net_receiver_busy(const struct net *n, uint32_t dest)
{
    ASSERT(dest < n->opts.node_count);
    return n->rx[dest].taken;
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

static void heap_push(struct msg_heap *h, const struct net_msg *m)
{
    if (h->len == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 16;
        h->m = xrealloc(h->m, h->cap * sizeof(*h->m));
    }
    size_t i = h->len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(m, &h->m[parent]))
            break;
        h->m[i] = h->m[parent];
        i = parent;
    }
    h->m[i] = *m;
}

static void heap_pop(struct msg_heap *h, struct net_msg *out)
{
    ASSERT(h->len > 0);
    *out = h->m[0];
    struct net_msg last = h->m[--h->len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->len)
            break;
        if (c + 1 < h->len && before(&h->m[c + 1], &h->m[c]))
            c++;
        if (!before(&h->m[c], &last))
            break;
        h->m[i] = h->m[c];
        i = c;
    }
    if (h->len > 0)
        h->m[i] = last;
}

/* ==== Receivers ==== */

/* The receiver of dest takes its next message at time t_ns, as Maelstrom's recv! polls: the
 * earliest queued message is dropped if the partition cuts its src (the receiver then polls
 * again), or else taken, to be delivered when it is due (at once if it is due already). */
static void receiver_take(struct net *n, uint32_t dest, int64_t t_ns)
{
    struct receiver *r = &n->rx[dest];
    r->taken = false;
    struct net_msg m;
    while (r->queue.len > 0) {
        heap_pop(&r->queue, &m);
        if (net_partitioned(n, m.src, dest)) {
            n->stats.partitioned++;
            n->len--;
            n->bytes -= m.len;
            free(m.line);
            continue;
        }
        if (m.deliver_at_ns < t_ns)
            m.deliver_at_ns = t_ns;
        heap_push(&n->due, &m);
        r->taken = true;
        return;
    }
}

/* Queues one copy for its receiver, which takes it at once if it was idle. */
static void enqueue(struct net *n, int64_t now_ns, const struct net_msg *m)
{
    n->len++;
    n->bytes += m->len;
    heap_push(&n->rx[m->dest].queue, m);
    if (!n->rx[m->dest].taken)
        receiver_take(n, m->dest, now_ns);
}

static bool over_limits(struct net *n, unsigned copies, size_t len)
{
    if (n->len + copies > NET_QUEUE_MAX || n->bytes + copies * len > NET_QUEUE_BYTES_MAX) {
        n->stats.overflowed++;
        return true;
    }
    return false;
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
    if (over_limits(n, copies, len)) {
        free(line);
        return 0;
    }
    /* The duplicate's line is copied first: the receiver may take and drop the first copy as
     * soon as it is queued (a partition), freeing its line. */
    char *lines[2] = {line, copies == 2 ? xstrndup(line, len) : NULL};
    for (unsigned c = 0; c < copies; c++) {
        double ms = latency_draw(n, src, dest, m, 3 + c);
        if (c == 1) {
            /* The duplicate trails by up to two mean latencies (at least 10 ms' worth), so it
             * can overtake later messages: duplication that also reorders. */
            double spread = EDDY_MAX(2 * n->opts.latency_ms, 10.0);
            ms += link_unit(n, src, dest, m, 5) * spread;
            n->stats.duplicated++;
        }
        enqueue(n, now_ns,
                &(struct net_msg){
                    .deliver_at_ns = deliver_at(now_ns, ms),
                    .seq = n->next_seq++,
                    .src = src,
                    .dest = dest,
                    .net_id = net_id,
                    .tag = tag,
                    .line = lines[c],
                    .len = len,
                });
    }
    return copies;
}

unsigned net_send_client(struct net *n, int64_t now_ns, uint32_t dest, uint64_t net_id,
                         uint32_t tag, char *line, size_t len)
{
    ASSERT(dest < n->opts.node_count);
    /* maelstrom net.clj latency-for: no latency for a message that involves a client; no
     * loss either, as Maelstrom's loss applies to the nodes' network only. */
    if (over_limits(n, 1, len)) {
        free(line);
        return 0;
    }
    enqueue(n, now_ns,
            &(struct net_msg){
                .deliver_at_ns = now_ns,
                .seq = n->next_seq++,
                .src = NET_SRC_CLIENT,
                .dest = dest,
                .net_id = net_id,
                .tag = tag,
                .line = line,
                .len = len,
            });
    return 1;
}

int net_pop_due(struct net *n, int64_t now_ns, struct net_msg *m)
{
    if (n->due.len == 0 || n->due.m[0].deliver_at_ns > now_ns)
        return 0;
    heap_pop(&n->due, m);
    n->len--;
    n->bytes -= m->len;
    n->stats.delivered++;
    /* Having delivered, the receiver polls again at once (at the delivery's time). */
    receiver_take(n, m->dest, m->deliver_at_ns);
    return 1;
}

int64_t net_next_due(const struct net *n)
{
    return n->due.len ? n->due.m[0].deliver_at_ns : INT64_MAX;
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
