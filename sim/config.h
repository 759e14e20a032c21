/*
 * config.h: everything one `eddy test` run is told, as one value struct.
 *
 * The command line (cli.c) and scenario files (scenario.c) both fill a struct config; the
 * command line wins where both speak. Defaults are Maelstrom's (reference §3) unless a field
 * says it is an eddy extension.
 * Depends on: nothing. Used by: cli, scenario, run, report.
 */
#ifndef EDDY_SIM_CONFIG_H
#define EDDY_SIM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum workload_kind {
    WORKLOAD_NONE = 0,
    WORKLOAD_ECHO,
    WORKLOAD_UNIQUE_IDS,
};

enum latency_dist {
    LATENCY_CONSTANT = 0,
    LATENCY_UNIFORM,
    LATENCY_EXPONENTIAL,
};

enum availability_kind {
    AVAILABILITY_NONE = 0, /* Maelstrom's default: always valid */
    AVAILABILITY_TOTAL,    /* every op must be ok */
    AVAILABILITY_FRACTION, /* at least `availability` of ops must be ok */
};

/* Fault kinds, as bits of config.nemesis. */
#define FAULT_MAP(XX)                                                                              \
    XX(PARTITION, "partition")                                                                     \
    XX(CLOCK, "clock")                                                                             \
    XX(KILL, "kill")                                                                               \
    XX(PAUSE, "pause")                                                                             \
    XX(LOSS, "loss")                                                                               \
    XX(DUPLICATE, "duplicate")

enum fault_kind {
#define XX(e, name) FAULT_##e,
    FAULT_MAP(XX)
#undef XX
        FAULT_KIND_COUNT,
};

/* How clock faults reach a node (--clock-via, an eddy extension). */
enum clock_via {
    CLOCK_VIA_AUTO = 0, /* per node: the preload library where it works, else system calls */
    CLOCK_VIA_PRELOAD,  /* libeddyclock.so only (LD_PRELOAD) */
    CLOCK_VIA_SYSCALL,  /* seccomp notification with the vDSO hidden, for every node */
    CLOCK_VIA_VDSO,     /* seccomp notification with eddy's vDSO in place of the kernel's */
};

#define NODES_MAX 4096u                     /* most nodes in one run */
#define CONCURRENCY_MAX 100000u             /* most workers */
#define NODE_ARGS_MAX 64u                   /* most arguments passed to the node */
#define NODES_MAX 4096u                     /* most nodes in one run */
#define CONCURRENCY_MAX 100000u             /* most workers */
#define NODE_ARGS_MAX 64u                   /* most arguments passed to the node */
#define CHECKER_MEMORY_MIN (2ull << 20)     /* --checker-memory: the ID set's smallest budget */
#define CHECKER_MEMORY_DEFAULT (1ull << 30) /* ...and its default */
#define HISTORY_MAX_DEFAULT (1ull << 30)    /* --history-max: history.jsonl's budget */

struct config {
    enum workload_kind workload;          /* -w; required (Maelstrom's lin-kv default is refused) */
    const char *bin;                      /* --bin, as given */
    const char *node_args[NODE_ARGS_MAX]; /* arguments for the node binary */
    unsigned node_arg_count;
    char **node_names; /* owned; n0..n(N-1), or n1..n5 by default */
    uint32_t node_count;
    double time_limit_s;       /* --time-limit, default 60 (eddy accepts fractions) */
    double rate;               /* --rate, ops/s, default 5; 0 = no ops */
    bool rate_max;             /* --rate max (extension): as fast as nodes answer */
    uint32_t concurrency;      /* --concurrency resolved: workers */
    char concurrency_text[24]; /* as given, e.g. "1n" */
    double latency_ms;         /* --latency, mean inter-node latency */
    enum latency_dist latency_dist;
    unsigned nemesis;          /* bit (1 << FAULT_x) per fault kind */
    double nemesis_interval_s; /* --nemesis-interval, default 10 */
    enum availability_kind availability;
    double availability_min; /* for AVAILABILITY_FRACTION */
    bool log_stderr, log_net_send, log_net_recv;
    uint64_t seed; /* --seed (extension); random when not given */
    bool seed_given;
    const char *store;        /* --store (extension), default "store" */
    const char *scenario;     /* --scenario FILE (extension) */
    const char *junit;        /* --junit FILE (extension) */
    bool history;             /* write history.jsonl (default); --no-history turns off */
    uint64_t checker_memory;  /* --checker-memory (extension): the ID set's budget, bytes */
    uint64_t history_max;     /* --history-max (extension): history.jsonl's budget, 0 none */
    double client_timeout_ms; /* 5000, Maelstrom's client timeout */
    double init_timeout_ms;   /* 10000, Maelstrom's init timeout */
    bool progress;            /* live progress line when stderr is a terminal */
    bool fail_fast;           /* --fail-fast (extension): end the run at the first anomaly */
    unsigned expect;          /* scenario's expectation: 0 none, 1 valid, 2 invalid */
    bool strict;              /* --strict (extension): protocol violations fail the run */
    uint32_t test_count;      /* --test-count: runs of the test, default 1 */
    const char *notes[16];    /* notes about options given but ignored (static strings) */
    unsigned note_count;
    /* Scenario-only fault settings (eddy extensions). */
    unsigned partition_shapes;        /* bits (1 << SHAPE_x); 0 = Maelstrom's four */
    unsigned restart_modes;           /* bits (1 << RESTART_CLOCK_x); 0 = restart with the clock */
    double weights[FAULT_KIND_COUNT]; /* a weighted random stream, 0 = none */
    double weighted_interval_s, weighted_from_s, weighted_until_s;
    bool clock_monotonic;        /* clock faults also move CLOCK_MONOTONIC */
    enum clock_via clock_via;    /* --clock-via and "clock-via" (extension), default auto */
    bool allow_unapplied_faults; /* --allow-unapplied-faults (extension): a fault kind that
                                    could not reach a node leaves the verdict alone */
    char **owned;                /* strings the config owns (a scenario's bin and args) */
    size_t owned_len;
};

/* Fills `c` with the defaults (no allocation). */
void config_defaults(struct config *c);

/* Frees what the config owns (node names). */
void config_fini(struct config *c);

/* Replaces the node list with n0..n(count-1). */
void config_set_node_count(struct config *c, uint32_t count);

/* Replaces the node list with `names` (count of them), taking ownership of the array and of
 * every string in it. */
void config_set_node_names(struct config *c, char **names, uint32_t count);

const char *fault_kind_name(enum fault_kind k);
int fault_kind_parse(const char *name, size_t len, enum fault_kind *out);

const char *workload_name(enum workload_kind w);

const char *clock_via_name(enum clock_via v);
/* 0 with *out set, or -EINVAL for a name other than auto, preload, syscall, vdso. */
int clock_via_parse(const char *name, enum clock_via *out);

#endif /* EDDY_SIM_CONFIG_H */
