/*
 * check.h: Maelstrom's checkers for echo and unique-ids, fed op by op as the run goes.
 *
 * Nothing is re-read at the end: each completion updates the stats, the availability count, the
 * latency histograms and time buckets, and the workload checker (the exact ID set for
 * unique-ids, payload comparison for echo). Duplicates are remembered with every op that returned
 * them (up to CHECK_DUP_OPS_MAX ops; counts stay exact past that). The verdicts follow
 * Maelstrom's rules and result keys; report.c turns them into results.json.
 * Depends on: idset, idprops, canon, history, json. Used by: run, report.
 */
#ifndef EDDY_SIM_CHECK_H
#define EDDY_SIM_CHECK_H

#include "config.h"
#include "history.h"
#include "eddy/json.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHECK_DUP_OPS_MAX (1u << 20) /* ops of duplicated IDs kept in detail */
#define CHECK_ECHO_ERRORS_MAX 100    /* echo mismatches kept in detail */
#define CHECK_EXCEPTION_KINDS_MAX 16
#define CHECK_BUCKETS 240      /* time buckets for the plots */
#define CHECK_SAMPLES_MAX 4000 /* latency points kept for the scatter plot */
#define CHECK_HIST_BINS (64 * 32)

/* One completed op, as the checkers need it. */
struct check_op {
    enum op_type type; /* OP_OK, OP_FAIL or OP_INFO */
    enum op_f f;
    int64_t invoke_ns; /* since the test start */
    int64_t complete_ns;
    uint32_t node;
    uint32_t incarnation; /* of the node, 0 for its first process */
    uint32_t client;
    uint64_t process;
    uint64_t index; /* history index of the completion */
    uint64_t ref;   /* reference of the completion: its history offset, or its index */
    const struct json_val *value; /* ok generate: the ID; ok echo: the echoed value */
    int echo_n;                   /* echo: the N of "Please echo N" that was sent */
    const char *exception;        /* class name of an exception (a static string), or NULL */
    const char *exception_text;   /* what was wrong; checkq_push copies it */
};

/* One op that returned a duplicated ID. */
struct dup_op {
    uint64_t entry; /* which ID (idset entry) */
    uint64_t ref;   /* history reference */
    uint64_t process;
    int64_t time_ns;
    uint32_t node;
    uint32_t client;
    uint32_t incarnation;
    bool first; /* the first op to return the ID (details come from the history) */
};

struct dup_id {
    uint64_t entry;
    uint64_t count; /* ok ops that returned it */
    char *text;     /* the ID as JSON text (owned) */
};

struct latency_hist {
    uint64_t bins[CHECK_HIST_BINS];
    uint64_t count;
    int64_t max_ns;
};

struct time_bucket {
    uint32_t ok, fail, info;
    uint64_t latency_sum_us;
    uint32_t latency_max_us;
    struct latency_small {
        uint32_t bins[64];
    } lat;
};

struct sample {
    int64_t time_ns;
    int64_t latency_ns;
    uint32_t node;
    enum op_type type;
};

struct check {
    enum workload_kind workload;
    atomic_bool stop; /* set from another thread: check_finish() gives up at its next step */
    double bucket_ns; /* width of a time bucket */

    /* stats */
    uint64_t invokes;
    uint64_t count, ok, fail, info;

    /* unique-ids */
    struct idset *ids;
    struct idprops *props; /* ID order and shape, when check_track_id_properties asked */
    uint64_t acknowledged;
    uint64_t dup_ids;    /* distinct IDs seen more than once */
    uint64_t dup_extra;  /* ok ops beyond the first for some ID */
    struct dup_id *dups; /* distinct duplicated IDs */
    size_t dups_len, dups_cap;
    uint64_t *dup_map; /* entry -> index in dups + 1, open addressing */
    size_t dup_map_cap;
    struct dup_op *dup_ops; /* every op of a duplicated ID, up to CHECK_DUP_OPS_MAX */
    size_t dup_ops_len, dup_ops_cap;
    uint64_t dup_ops_dropped;
    uint8_t *range_lo, *range_hi; /* canonical encodings */
    size_t range_lo_len, range_hi_len;
    char *range_lo_text, *range_hi_text;
    bool incomparable;
    char incomparable_why[256];
    uint64_t too_long; /* IDs longer than the set accepts */

    /* echo */
    uint64_t echo_errors;
    char *echo_error_text[CHECK_ECHO_ERRORS_MAX];
    uint64_t echo_wrong; /* errors that were ok replies with the wrong payload */
    struct {
        uint32_t node, incarnation, client;
        uint64_t process;
        int64_t time_ns;
        char *text;     /* owned */
    } echo_wrong_first; /* the first of them */

    /* exceptions (malformed replies and the like) */
    struct {
        const char *name;
        uint64_t count;
        char *example;
    } exceptions[CHECK_EXCEPTION_KINDS_MAX];
    unsigned exception_kinds;

    /* perf */
    struct latency_hist lat_all, lat_ok;
    struct time_bucket buckets[CHECK_BUCKETS];
    struct sample samples[CHECK_SAMPLES_MAX];
    uint32_t samples_len;
    uint64_t samples_seen;
    uint64_t sample_rng;
};

void check_init(struct check *c, enum workload_kind w, double time_limit_s);
void check_fini(struct check *c);

/* unique-ids: also measure the IDs' order and shape (idprops.h) over node_count nodes. */
void check_track_id_properties(struct check *c, uint32_t node_count);

void check_invoke(struct check *c);

/* Records a completion. For an ok generate, `value` is the ID; its text is kept only if it turns
 * out to be duplicated. */
void check_complete(struct check *c, const struct check_op *op);

/* The end of the run's checking, after the last completion (on the checker's thread). Gives up
 * early when c->stop is set. */
void check_finish(struct check *c);

/* Latency quantile (0..1) from a histogram, in ns (1% precision). */
int64_t check_quantile(const struct latency_hist *h, double q);

/* Small-histogram quantile for a time bucket, in microseconds. */
uint32_t check_bucket_quantile(const struct time_bucket *b, double q);

#endif /* EDDY_SIM_CHECK_H */
