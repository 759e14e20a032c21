/*
 * grudge.h: who drops messages from whom, and the partition shapes that produce it.
 *
 * A grudge is Jepsen's word: for each receiver, the set of senders whose messages it drops.
 * Partitions in Maelstrom are receiver-side drops between nodes only, so one-way cuts and
 * non-transitive shapes (the majorities ring, the bridge) are as easy as symmetric halves. The
 * shapes are Maelstrom's four plus eddy's one-way and bridge; each is drawn from a PRNG stream,
 * so the same seed gives the same cuts.
 * Depends on: prng. Used by: net, nemesis.
 */
#ifndef EDDY_SIM_GRUDGE_H
#define EDDY_SIM_GRUDGE_H

#include "eddy/prng.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARTITION_SHAPE_MAP(XX)                                                                    \
    XX(ONE, "one")                                                                                 \
    XX(MINORITY_THIRD, "minority-third")                                                           \
    XX(MAJORITY, "majority")                                                                       \
    XX(MAJORITIES_RING, "majorities-ring")                                                         \
    XX(ONE_WAY, "one-way")                                                                         \
    XX(BRIDGE, "bridge")

enum partition_shape {
#define XX(e, name) SHAPE_##e,
    PARTITION_SHAPE_MAP(XX)
#undef XX
        SHAPE_COUNT,
};

/* Maelstrom's partition-specs: the shapes `--nemesis partition` picks from. */
#define SHAPES_MAELSTROM                                                                           \
    ((1u << SHAPE_ONE) | (1u << SHAPE_MINORITY_THIRD) | (1u << SHAPE_MAJORITY) |                   \
     (1u << SHAPE_MAJORITIES_RING))

struct grudge {
    uint32_t n;     /* nodes */
    uint64_t *bits; /* n*n bits, receiver-major: bit (dest*n + src) set = dest drops src */
    uint32_t cuts;  /* set bits */
};

void grudge_init(struct grudge *g, uint32_t n);
void grudge_fini(struct grudge *g);
void grudge_clear(struct grudge *g);

void grudge_drop(struct grudge *g, uint32_t dest, uint32_t src);

static inline bool grudge_drops(const struct grudge *g, uint32_t dest, uint32_t src)
{
    size_t bit = (size_t)dest * g->n + src;
    return (g->bits[bit >> 6] >> (bit & 63)) & 1;
}

/* Replaces g with a fresh cut of the given shape. Shapes that cannot cut n nodes (the ring for
 * n <= 2, minority-third for n <= 3) leave g empty, as in Maelstrom. */
void grudge_make(struct grudge *g, enum partition_shape shape, struct prng *r);

/* Cuts every link from any node of `from` to any node of `to` (one direction). */
void grudge_cut_oneway(struct grudge *g, const uint32_t *from, uint32_t nfrom, const uint32_t *to,
                       uint32_t nto);

const char *partition_shape_name(enum partition_shape s);
int partition_shape_parse(const char *name, enum partition_shape *out);

/* Writes a readable description ("n1 drops n0 n2; n2 drops n1") of at most cap bytes. Returns
 * the length (truncated with "..." when needed). */
size_t grudge_describe(const struct grudge *g, char *const *names, char *out, size_t cap);

#endif /* EDDY_SIM_GRUDGE_H */
