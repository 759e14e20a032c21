/*
 * ids.h: eddy-node's ID strategies: the default one, which stays unique under every fault the
 * simulator injects, and deliberately naive ones that each break under a known fault.
 *
 * The default ("eddy") is a string of fixed-width Crockford base32 fields, then the node id:
 *
 *     TTTTTTTTTT IIIIIIIIIIIII SSSS - node        e.g. "01M84W6H7521D2454G81JK10000-n0"
 *     48-bit ms  64-bit random 20-bit sequence
 *
 * T is a logical millisecond clock, max(wall clock, last T): it never goes back, so a clock
 * stepping backwards or standing still only makes the sequence S advance. When S runs out within
 * one millisecond, T borrows the next millisecond instead of waiting. I is drawn from
 * getrandom(2) once per process (and again after fork), so a restart, even one whose clock
 * replays the previous incarnation's exactly, and a second process with the same node id get a
 * different I. Uniqueness never depends on the clock or the network; the clock is only there so
 * that IDs sort by creation time.
 * Depends on: nothing but libc. Used by: node, tests.
 */
#ifndef EDDY_IDS_H
#define EDDY_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The strategies, selectable at start (--ids NAME or EDDY_IDS=NAME). */
#define EDDY_IDS_MAP(XX)                                                                           \
    XX(EDDY, "eddy", "default: logical ms + 64 random bits per process + sequence + node id")      \
    XX(COUNTER, "counter", "naive: a per-process counter from 1 (integer)")                        \
    XX(TIMESTAMP, "timestamp", "naive: the wall clock in ms (integer)")                            \
    XX(NODE_COUNTER, "node-counter", "naive: node id and a per-process counter")                   \
    XX(NODE_COUNTER_TIME, "node-counter-time",                                                     \
       "naive: node id, wall clock seconds and a per-process counter")                             \
    XX(SNOWFLAKE, "snowflake",                                                                     \
       "naive: Twitter Snowflake (ms, node index, sequence) with no backwards-clock guard")        \
    XX(RANDOM32, "random32", "naive: 32 random bits (integer)")                                    \
    XX(UUID4, "uuid4", "RFC 9562 UUIDv4 (122 random bits)")                                        \
    XX(UUID7, "uuid7", "RFC 9562 UUIDv7 (48-bit ms + 74 random bits)")

enum ids_kind {
#define XX(e, name, doc) IDS_##e,
    EDDY_IDS_MAP(XX)
#undef XX
        IDS_KIND_COUNT,
};

/* Longest node id accepted, in bytes of its JSON string text (escapes included). */
#define IDS_NODE_MAX 256
/* Largest ID text ids_next() writes (JSON, quotes included). */
#define IDS_TEXT_MAX (48 + IDS_NODE_MAX)

/* Reads the wall clock in nanoseconds since the Unix epoch. Tests inject time through this. */
typedef int64_t ids_clock_fn(void *ctx);

struct ids_opts {
    enum ids_kind kind;
    const char *node;    /* node id as JSON string text without the quotes, escapes kept */
    size_t node_len;     /* <= IDS_NODE_MAX */
    uint32_t node_index; /* position of the node in init's node_ids (Snowflake's worker id) */
    ids_clock_fn *clock; /* NULL: clock_gettime(CLOCK_REALTIME) */
    void *clock_ctx;
};

struct ids {
    enum ids_kind kind;
    char node[IDS_NODE_MAX];
    size_t node_len;
    uint32_t node_index;
    ids_clock_fn *clock;
    void *clock_ctx;
    unsigned fork_gen;    /* ids_fork_generation() when the random state was drawn */
    uint64_t incarnation; /* 64 random bits, fresh per process */
    char inc_text[13];    /* incarnation in base32, cached */
    int64_t last_ms;      /* logical (eddy) or raw (snowflake) ms of the last ID */
    char ms_text[10];     /* last_ms in base32, cached (eddy) */
    uint32_t seq;         /* sequence within last_ms */
    uint64_t counter;     /* per-process counter (counter, node-counter*) */
    uint64_t borrowed_ms; /* ms the logical clock moved ahead of the wall clock (eddy) */
    uint64_t rerolled;    /* times the incarnation was redrawn after exhausting T (eddy) */
    uint8_t rnd[512];     /* getrandom(2) bytes not yet used */
    size_t rnd_at;        /* next unused byte of rnd */
};

/* Parses a strategy name. 0, or -EINVAL for an unknown name. */
int ids_kind_parse(const char *name, enum ids_kind *out);
const char *ids_kind_name(enum ids_kind kind);
const char *ids_kind_doc(enum ids_kind kind);

/* Sets up `g` for one process. Draws the incarnation with getrandom(2). */
void ids_init(struct ids *g, const struct ids_opts *o);

/* Writes the next ID as JSON text into out (IDS_TEXT_MAX bytes) and returns its length. Never
 * fails, never blocks. */
size_t ids_next(struct ids *g, char *out);

/* Counts forks seen by this process (bumped in the child by a pthread_atfork handler). A
 * generator whose fork_gen differs redraws its random state before its next ID, so a forked
 * child never repeats its parent's incarnation. */
unsigned ids_fork_generation(void);

#endif /* EDDY_IDS_H */
