/*
 * diagnose.h: why a unique-ids run failed, in classes a person can act on.
 *
 * The ops that returned each duplicated ID are compared pairwise and every pair falls in one
 * class: within-process (one incarnation of one node returned the ID twice), across-restarts
 * (two incarnations of one node) or across-nodes (two node ids). For each class the module
 * counts the IDs and pairs, names the nodes and incarnations involved, keeps the first example
 * with both ops and what their clocks were doing, and picks a one-sentence likely cause from the
 * evidence: the clock offsets at each op, the restart's clock mode, how far apart in time the
 * two ops were, and which node positions collide. Pure: clocks and incarnations come through
 * callbacks, so the classification is tested on hand-made histories.
 * Depends on: nemesis (restart modes), alloc, cJSON. Used by: report_diag.
 */
#ifndef EDDY_SIM_DIAGNOSE_H
#define EDDY_SIM_DIAGNOSE_H

#include "nemesis.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIAG_INVOLVED_MAX 6        /* node (pairs) listed per class */
#define DIAG_SCAN_BACK 64          /* earlier ops of the same ID a pair is looked for among */
#define DIAG_CLOSE_NS 2000000      /* two ops within 2 ms of each other are "a moment apart" */
#define DIAG_FAR_NS 1000000000     /* two ops more than 1 s apart are "far apart" */
#define DIAG_RARE_GAP_NS 100000000 /* rare collisions this far apart look random */

enum diag_class {
    DIAG_WITHIN_PROCESS,
    DIAG_ACROSS_RESTARTS,
    DIAG_ACROSS_NODES,
    DIAG_CLASS_COUNT,
};

/* What one pair of ops shows: the evidence behind a class's cause. */
enum diag_reason {
    DIAG_R_CLOCK_BACK,   /* the later op's clock read earlier than the first's */
    DIAG_R_CLOCK_STILL,  /* the clock stood still (frozen, or did not advance between them) */
    DIAG_R_MOMENT,       /* within DIAG_CLOSE_NS of each other, the clock moving normally */
    DIAG_R_FAR,          /* far apart, the clock moving forward (a wrap, or random IDs) */
    DIAG_R_RESTART_PAST, /* the restart set the new process's clock back (behind, replay) */
    DIAG_R_STATE_LOST,   /* a new incarnation repeated an old one's ID, its clock forward */
    DIAG_R_NO_NODE_ID,   /* different nodes, nothing in the ID tells them apart */
    DIAG_R_RARE,         /* rare and far apart: random IDs colliding (the birthday bound) */
    DIAG_R_COUNT,
};

/* One op that returned a duplicated ID. */
struct diag_op {
    uint32_t node;        /* index in the run's node list */
    uint32_t incarnation; /* 0 for the node's first process */
    uint32_t client;      /* cN */
    uint64_t process;     /* Jepsen's process number */
    int64_t time_ns;      /* completion, since the start of the client phase */
    bool known;           /* false when its details were lost (no history): skipped */
};

/* A node's clock at one moment, as eddy set it. */
struct diag_clock {
    bool controlled;          /* eddy controls this node's clock (false: real time, offset 0) */
    int64_t offset_ns;        /* fake minus real */
    double rate;              /* 1 real time, 0 frozen */
    int64_t strobe_delta_ns;  /* strobe in force: the flip's size ... */
    int64_t strobe_period_ns; /* ... and half-cycle; 0 = no strobe */
    char faults[200];         /* the clock faults in force on the node, "" for none */
};

/* How an incarnation started. */
struct diag_start {
    bool restart;            /* false for incarnation 0 */
    int64_t time_ns;         /* when it was started */
    enum restart_clock mode; /* the restart's clock mode */
    double behind_ms;        /* RESTART_CLOCK_BEHIND */
    bool clock_applied;      /* the mode was applied (false: no clock control) */
};

struct diag_env {
    uint32_t node_count;
    const char *const *node_names;
    uint64_t acknowledged; /* ok generate ops, for the rarity of collisions */
    /* The node's clock at time_ns (since the client phase started); out->faults is filled only
     * when `describe` (for examples: the numbers are needed for every pair examined). */
    void (*clock_at)(void *ctx, uint32_t node, int64_t time_ns, bool describe,
                     struct diag_clock *out);
    /* How incarnation `incarnation` of `node` started. */
    void (*start_of)(void *ctx, uint32_t node, uint32_t incarnation, struct diag_start *out);
    void *ctx;
};

/* One class's findings. */
struct diag_finding {
    enum diag_class cls;
    uint64_t ids;   /* duplicated IDs with at least one pair of this class */
    uint64_t pairs; /* pairs of ops of this class */
    struct {
        uint32_t node_a, node_b; /* across-nodes: the two nodes; else node_a only */
        uint32_t inc_a, inc_b;   /* within: inc_a; across-restarts: both */
        uint64_t pairs;
    } involved[DIAG_INVOLVED_MAX];
    unsigned involved_len;
    uint64_t involved_more; /* further entries not listed */
    char id[160];           /* the first example's ID, as JSON text (truncated) */
    struct diag_op a, b;    /* its two ops, a before b */
    struct diag_clock clock_a, clock_b;
    struct diag_start start_a, start_b;
    uint64_t reasons[DIAG_R_COUNT]; /* pairs examined, by what they show */
    enum diag_reason reason;        /* the dominant one */
    unsigned node_bits;             /* across-nodes: only this many low bits tell nodes apart */
    char cause[400];                /* one sentence */
};

struct diag;

/* A diagnosis over env (copied; the callbacks and names must outlive d). Free with diag_free. */
struct diag *diag_new(const struct diag_env *env);
void diag_free(struct diag *d);

/* Adds one duplicated ID (its JSON text) with the ops that returned it. ops may be reordered.
 * Ops with known == false are ignored. */
void diag_add_id(struct diag *d, const char *id_text, struct diag_op *ops, size_t n);

/* Finishes the diagnosis: the classes found, largest (by IDs) first, into *out (owned by d,
 * valid until diag_free). Returns their number. Call once, after the last diag_add_id. */
size_t diag_finish(struct diag *d, const struct diag_finding **out);

const char *diag_class_name(enum diag_class c);
const char *diag_reason_name(enum diag_reason r);

/* The finding as an object of results.json's "diagnosis" list: class, count, pairs, involved,
 * example (both ops with their clocks and starts), cause, evidence. Caller owns the result. */
cJSON *diag_finding_json(const struct diag *d, const struct diag_finding *f);

/* Two lines for the summary (the class, count, who and cause; then the first example), each
 * ending in '\n', into out (NUL-terminated, truncated to cap). */
void diag_finding_text(const struct diag *d, const struct diag_finding *f, char *out, size_t cap);

#endif /* EDDY_SIM_DIAGNOSE_H */
