/*
 * net.h: the simulated network between nodes: latency, partitions, loss, duplication.
 *
 * Pure: it decides and queues, the caller delivers. A message from one node to another is given
 * to net_send(), which draws its fate (lost, or delivered once or twice, each copy with its own
 * latency) and queues the copies for their receiver. Receivers behave as Maelstrom's do: each
 * takes its earliest message (by deadline, then send order), checks the partition then, and
 * sleeps until the message is due; what arrives meanwhile waits behind it, client requests
 * included (net_receiver_busy() says when a client request must queue; net_send_client() queues
 * it, with no latency and never partitioned). net_pop_due() hands back what is due.
 * Latency, loss and duplication draws come from a counter-based generator keyed by (seed, src,
 * dest, n-th message on that link), so the same seed gives every link the same draws whatever
 * the interleaving of other links.
 * Depends on: grudge, prng, alloc. Used by: run, nemesis.
 */
#ifndef EDDY_SIM_NET_H
#define EDDY_SIM_NET_H

#include "config.h"
#include "grudge.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_QUEUE_MAX (1u << 20)         /* messages in flight */
#define NET_SRC_CLIENT UINT32_MAX        /* net_msg.src of a message from a client */
#define NET_QUEUE_BYTES_MAX (256u << 20) /* bytes in flight */

struct net_opts {
    uint32_t node_count;
    double latency_ms; /* mean */
    enum latency_dist dist;
    uint64_t seed;
};

struct net_stats {
    uint64_t lost;        /* dropped by the loss fault */
    uint64_t duplicated;  /* extra copies made by the duplication fault */
    uint64_t partitioned; /* dropped at delivery by a partition */
    uint64_t overflowed;  /* dropped because the in-flight queue was full */
    uint64_t delivered;
};

/* A copy on its way; the caller owns `line` once popped (free() it). */
struct net_msg {
    int64_t deliver_at_ns;
    uint64_t seq;
    uint32_t src, dest; /* node indices; src is NET_SRC_CLIENT for a client's message */
    uint64_t net_id;    /* Maelstrom's message id, shared by duplicates */
    uint32_t tag;       /* the caller's, carried along (the Lamport diagram's record) */
    char *line;         /* the full line to write to dest's stdin, newline included */
    size_t len;
};

struct net;

struct net *net_new(const struct net_opts *o);
void net_free(struct net *n);

/* The grudge now in force (the caller changes it through this pointer). */
struct grudge *net_grudge(struct net *n);

/* Fault knobs, in parts per million of messages. */
void net_set_loss(struct net *n, uint32_t loss_ppm);
void net_set_duplicate(struct net *n, uint32_t dup_ppm);
uint32_t net_loss_ppm(const struct net *n);
uint32_t net_duplicate_ppm(const struct net *n);

/* Queues a node-to-node message sent at now_ns. Takes ownership of `line` (malloc'd). Returns
 * the number of copies queued (0 when lost or when the queue is full). */
unsigned net_send(struct net *n, int64_t now_ns, uint32_t src, uint32_t dest, uint64_t net_id,
                  uint32_t tag, char *line, size_t len);

/* Queues a client's message (or one whose src is a client) for node dest, sent at now_ns: no
 * latency, no loss, never partitioned. Takes ownership of `line`. Returns 1, or 0 when the
 * queue is full. For a receiver that is busy; an idle one may be written to directly. */
unsigned net_send_client(struct net *n, int64_t now_ns, uint32_t dest, uint64_t net_id,
                         uint32_t tag, char *line, size_t len);

/* Zero-latency shortcut: true when a message sent now on src->dest would be delivered
 * immediately, exactly once, with no draw needed (no latency, no loss, no duplication, every
 * receiver idle). The caller may then deliver it in place without a copy, after checking
 * net_partitioned(). */
bool net_is_direct(const struct net *n);

/* Is dest dropping messages from src right now? Never for NET_SRC_CLIENT. */
bool net_partitioned(const struct net *n, uint32_t src, uint32_t dest);

/* Does dest's receiver hold a message it waits to deliver? Then anything sent to dest now,
 * a client's request included, must queue behind it (net_send_client). */
bool net_receiver_busy(const struct net *n, uint32_t dest);

/* Pops the next copy due at or before now_ns into *m: 1 when one was due, 0 otherwise. The
 * receiver then takes its next message; copies the partition cuts when they are taken are
 * counted (stats.partitioned), freed and never returned. */
int net_pop_due(struct net *n, int64_t now_ns, struct net_msg *m);

/* When the next copy is due, or INT64_MAX when nothing is in flight. */
int64_t net_next_due(const struct net *n);

/* Counts a delivery made through the direct path (for the stats). */
void net_count_direct(struct net *n, bool partitioned);

const struct net_stats *net_stats(const struct net *n);
size_t net_in_flight(const struct net *n);

#endif /* EDDY_SIM_NET_H */
