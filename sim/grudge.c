/*
 * grudge.c: partition shapes (see grudge.h).
 *
 * The shapes follow Jepsen's definitions as Maelstrom uses them: `one` isolates a random node,
 * `minority-third` cuts floor((n-1)/3) random nodes from the rest, `majority` bisects a shuffled
 * list (smaller half first), and `majorities-ring` gives every node a majority that no other node
 * shares: exact windows over a shuffled ring for n <= 5 (for n = 3 a directed cycle of one-way
 * drops), random distinct majorities above. eddy adds `one-way` (one half stops hearing the
 * other, not the reverse) and Jepsen's `bridge` (two halves joined by one node that hears both).
 * Depends on: prng, alloc. Used by: net, nemesis.
 */
#include "grudge.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const shape_names[] = {
#define XX(e, name) name,
    PARTITION_SHAPE_MAP(XX)
#undef XX
};

const char *partition_shape_name(enum partition_shape s)
{
    ASSERT(s < SHAPE_COUNT);
    return shape_names[s];
}

int partition_shape_parse(const char *name, enum partition_shape *out)
{
    for (int s = 0; s < SHAPE_COUNT; s++) {
        if (strcmp(name, shape_names[s]) == 0) {
            *out = (enum partition_shape)s;
            return 0;
        }
    }
    return -EINVAL;
}

static size_t words(uint32_t n)
{
    return ((size_t)n * n + 63) / 64;
}

void grudge_init(struct grudge *g, uint32_t n)
{
    g->n = n;
    g->bits = xcalloc(words(n) ? words(n) : 1, sizeof(uint64_t));
    g->cuts = 0;
}

void grudge_fini(struct grudge *g)
{
    free(g->bits);
    g->bits = NULL;
}

void grudge_clear(struct grudge *g)
{
    memset(g->bits, 0, words(g->n) * sizeof(uint64_t));
    g->cuts = 0;
}

void grudge_drop(struct grudge *g, uint32_t dest, uint32_t src)
{
    ASSERT(dest < g->n);
    ASSERT(src < g->n);
    if (dest == src || grudge_drops(g, dest, src))
        return;
    size_t bit = (size_t)dest * g->n + src;
    g->bits[bit >> 6] |= 1ull << (bit & 63);
    g->cuts++;
}

void grudge_cut_oneway(struct grudge *g, const uint32_t *from, uint32_t nfrom, const uint32_t *to,
                       uint32_t nto)
{
    for (uint32_t i = 0; i < nto; i++)
        for (uint32_t j = 0; j < nfrom; j++)
            grudge_drop(g, to[i], from[j]);
}

/* Both directions between two components: Jepsen's complete-grudge of two parts. */
static void cut_both(struct grudge *g, const uint32_t *a, uint32_t na, const uint32_t *b,
                     uint32_t nb)
{
    grudge_cut_oneway(g, a, na, b, nb);
    grudge_cut_oneway(g, b, nb, a, na);
}

static uint32_t *shuffled(uint32_t n, struct prng *r)
{
    uint32_t *v = xmalloc(n * sizeof(uint32_t));
    for (uint32_t i = 0; i < n; i++)
        v[i] = i;
    prng_shuffle_u32(r, v, n);
    return v;
}

/* Each node drops everyone outside its own majority window of a shuffled ring. */
static void ring_perfect(struct grudge *g, const uint32_t *order, uint32_t n)
{
    uint32_t m = n / 2 + 1;
    for (uint32_t w = 0; w < n; w++) {
        uint32_t owner = order[(w + m / 2) % n]; /* the window's middle node */
        for (uint32_t k = 0; k < n; k++) {
            bool inside = false;
            for (uint32_t j = 0; j < m && !inside; j++)
                inside = order[(w + j) % n] == k;
            if (!inside)
                grudge_drop(g, owner, k);
        }
    }
}

/* Above five nodes: a random majority for each node, containing itself, all distinct. */
static void ring_stochastic(struct grudge *g, uint32_t n, struct prng *r)
{
    uint32_t m = n / 2 + 1;
    uint64_t *seen = xcalloc(n, sizeof(uint64_t)); /* a fingerprint of each node's majority */
    uint32_t *pick = xmalloc(n * sizeof(uint32_t));
    uint8_t *in = xmalloc(n);
    for (uint32_t node = 0; node < n; node++) {
        for (int attempt = 0; attempt < 64; attempt++) {
            for (uint32_t i = 0; i < n; i++)
                pick[i] = i;
            prng_shuffle_u32(r, pick, n);
            memset(in, 0, n);
            in[node] = 1;
            for (uint32_t i = 0, got = 1; got < m; i++) {
                if (!in[pick[i]]) {
                    in[pick[i]] = 1;
                    got++;
                }
            }
            uint64_t fp = 1469598103934665603ull;
            for (uint32_t i = 0; i < n; i++)
                fp = (fp ^ in[i]) * 1099511628211ull;
            bool dup = false;
            for (uint32_t j = 0; j < node && !dup; j++)
                dup = seen[j] == fp;
            if (!dup || attempt == 63) {
                seen[node] = fp;
                break;
            }
        }
        for (uint32_t k = 0; k < n; k++)
            if (!in[k])
                grudge_drop(g, node, k);
    }
    free(seen);
    free(pick);
    free(in);
}

void grudge_make(struct grudge *g, enum partition_shape shape, struct prng *r)
{
    uint32_t n = g->n;
    grudge_clear(g);
    uint32_t *v = shuffled(n, r);
    switch (shape) {
    case SHAPE_ONE:
        if (n >= 2)
            cut_both(g, v, 1, v + 1, n - 1);
        break;
    case SHAPE_MINORITY_THIRD: {
        uint32_t k = (n - 1) / 3;
        if (k > 0)
            cut_both(g, v, k, v + k, n - k);
        break;
    }
    case SHAPE_MAJORITY:
        if (n >= 2)
            cut_both(g, v, n / 2, v + n / 2, n - n / 2);
        break;
    case SHAPE_MAJORITIES_RING:
        if (n <= 2)
            break;
        if (n <= 5)
            ring_perfect(g, v, n);
        else
            ring_stochastic(g, n, r);
        break;
    case SHAPE_ONE_WAY:
        /* The second half stops hearing the first; the first still hears the second. */
        if (n >= 2)
            grudge_cut_oneway(g, v, n / 2, v + n / 2, n - n / 2);
        break;
    case SHAPE_BRIDGE: {
        /* Bisect; the first node of the larger half keeps talking to everyone. */
        if (n < 3)
            break;
        uint32_t half = n / 2;
        cut_both(g, v, half, v + half + 1, n - half - 1);
        break;
    }
    case SHAPE_COUNT:
        ASSERT(!"bad shape");
    }
    free(v);
}

size_t grudge_describe(const struct grudge *g, char *const *names, char *out, size_t cap)
{
    ASSERT(cap >= 4);
    size_t at = 0;
    bool truncated = false;
    out[0] = '\0';
    if (g->cuts == 0) {
        int k = snprintf(out, cap, "none");
        return (size_t)k < cap ? (size_t)k : cap - 1;
    }
    for (uint32_t d = 0; d < g->n && !truncated; d++) {
        bool any = false;
        for (uint32_t s = 0; s < g->n && !truncated; s++) {
            if (!grudge_drops(g, d, s))
                continue;
            int k = any ? snprintf(out + at, cap - at, " %s", names[s])
                        : snprintf(out + at, cap - at, "%s%s drops %s", at ? "; " : "", names[d],
                                   names[s]);
            if (k < 0 || (size_t)k >= cap - at - 4) {
                truncated = true;
                break;
            }
            at += (size_t)k;
            any = true;
        }
    }
    if (truncated) {
        memcpy(out + at, "...", 4);
        at += 3;
    }
    return at;
}
