/*
 * check.h: Maelstrom's checkers for echo and unique-ids, fed op by op as the run goes.
 *
 * Each completion updates the stats, the availability count, the latency histograms and time
 * buckets, and the workload checker (the ID set for unique-ids, payload comparison for echo).
 * check_finish() then settles unique-ids: the ID set merges what it spilled to disk and reports
 * every ID returned more than once, exactly, with its count. The first CHECK_DUPS_LISTED of
 * them (by when they were first returned) are kept in detail with the ID set's entries that
 * hold their ops, the CHECK_DUPS_TOP most frequent for Maelstrom's `duplicated` map, and the ops
 * of repeats seen while running up to CHECK_DUP_OPS_MAX; every count stays exact past those
 * bounds. The verdicts follow Maelstrom's rules and result keys; report.c turns them into
 * results.json.
 * Depends on: idset, idprops, spill, canon, history, json. Used by: run, report.
 */
#ifndef EDDY_SIM_CHECK_H
#define EDDY_SIM_CHECK_H

#include "config.h"
#include "history.h"
#include "idset.h"
#include "eddy/json.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHECK_DUP_OPS_MAX (1u << 20) /* ops of repeats kept in detail */
#define CHECK_DUPS_LISTED (1u << 20) /* duplicated IDs kept in detail */
#define CHECK_DUPS_TOP 48            /* the most frequent, for Maelstrom's `duplicated` map */
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

/* An op that returned an ID the set already held in memory (a repeat). The op that made the
 * entry is kept with the entry itself (idset_entry). */
struct dup_op {
    uint64_t entry; /* the ID set's entry it repeated */
    uint64_t ref;   /* history reference */
    uint64_t index; /* history index */
    uint64_t process;
    int64_t time_ns;
    uint32_t node;
    uint32_t client;
    uint32_t incarnation;
};

/* A duplicated ID kept in detail. */
struct dup_id {
    uint64_t first;    /* its first entry: where it was first returned */
    uint64_t count;    /* ok ops that returned it */
    uint64_t group_at; /* its entries and their counts, in the groups spill */
    uint32_t nentries;
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
    char *ids_dir;         /* where its spill files go (NULL: $TMPDIR) */
    uint64_t acknowledged;
    uint64_t repeats;         /* ok ops whose ID the set held in memory, while running */
    uint64_t unchecked;       /* ok ops whose ID could not be checked: the spill failed */
    int64_t spill_started_ns; /* completion time of an op soon after the first run went to disk */
    bool finished;            /* check_finish() ran (dup_ids and below are final) */
    bool finish_memory_only;  /* set before the end: skip the IDs spilled to disk */
    int finish_error;         /* idset_finish()'s error: the counts below are incomplete */
    uint64_t dup_ids;         /* distinct IDs seen more than once */
    uint64_t dup_extra;       /* ok ops beyond the first for some ID */
    struct dup_id *dups;      /* the first CHECK_DUPS_LISTED, by first entry */
    size_t dups_len, dups_cap;
    struct dup_id top[CHECK_DUPS_TOP]; /* the most frequent, most frequent first */
    size_t top_len;
    struct spill *groups;   /* entries of the listed duplicates */
    struct dup_op *dup_ops; /* ops of repeats, up to CHECK_DUP_OPS_MAX, by entry and time */
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

/* A checker; for unique-ids, its ID set (ids NULL: defaults, spilling to $TMPDIR). */
void check_init(struct check *c, enum workload_kind w, double time_limit_s);
void check_init_with(struct check *c, enum workload_kind w, double time_limit_s,
                     const struct idset_opts *ids);
void check_fini(struct check *c);

/* unique-ids: also measure the IDs' order and shape (idprops.h) over node_count nodes. */
void check_track_id_properties(struct check *c, uint32_t node_count);

void check_invoke(struct check *c);

/* Records a completion. For an ok generate, `value` is the ID; its text is kept only if it turns
 * out to be duplicated. */
void check_complete(struct check *c, const struct check_op *op);

/* The end of the run's checking, after the last completion (on the checker's thread): finds
 * every duplicated ID (only among the IDs in memory if c->finish_memory_only). Gives up early
 * when c->stop is set (finish_error -ECANCELED). */
void check_finish(struct check *c);

/* A listed duplicate's entries (up to max of them, by increasing entry) into out; returns how
 * many it has, or a negative errno. */
int check_dup_entries(struct check *c, const struct dup_id *d, struct idset_entry_count *out,
                      size_t max);

/* The ID of an entry as JSON text, appended to out. 0, or a negative errno. */
int check_entry_text(struct check *c, uint64_t entry, struct buf *out);

/* Latency quantile (0..1) from a histogram, in ns (1% precision). */
int64_t check_quantile(const struct latency_hist *h, double q);

/* Small-histogram quantile for a time bucket, in microseconds. */
uint32_t check_bucket_quantile(const struct time_bucket *b, double q);

#endif /* EDDY_SIM_CHECK_H */
