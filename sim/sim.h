/*
 * sim.h: the state of one `eddy test` run, shared by the files of its I/O shell.
 *
 * run.c owns the life cycle (spawn, init, the client phase, teardown), the timers and the fault
 * applications; traffic.c owns what flows: node output lines, routing, clients and workers,
 * ops and their completions. Both see this struct; nothing outside sim/ does.
 * Depends on: config, proc, net, nemesis, check, history, clockctl. Used by: run, traffic,
 * report, main.
 */
#ifndef EDDY_SIM_SIM_H
#define EDDY_SIM_SIM_H

#include "check.h"
#include "checkq.h"
#include "config.h"
#include "contain.h"
#include "history.h"
#include "nemesis.h"
#include "net.h"
#include "proc.h"
#include "eddy/buf.h"
#include "eddy/clockctl.h"
#include "eddy/msg.h"
#include "eddy/prng.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

struct clockctl;
struct clockroute_node;
struct clocksrv;
struct vdsomap_image;

#define VIOLATIONS_KEPT 100 /* protocol violations kept in detail */
#define FAULT_LOG_MAX 100000
#define MESSAGES_KEPT 400 /* first messages kept for the Lamport diagram */

/* How Maelstrom would react to a bad line, which decides how eddy does. */
enum violation_class {
    VIOLATION_MUTE,    /* Maelstrom's stdout reader throws and never reads the node again */
    VIOLATION_RPC,     /* the client throws malformed-rpc-response: the op becomes info */
    VIOLATION_DROP,    /* the client discards the reply silently: the op times out */
    VIOLATION_WARNING, /* accepted by Maelstrom, but almost certainly a mistake */
};

struct violation {
    uint32_t node;
    enum violation_class cls;
    uint64_t line_no; /* line number on the node's stdout */
    int64_t time_ns;
    bool before_init_ok;   /* the node had not answered init yet when it wrote the line */
    const char *diagnosis; /* static text: what probably happened, in plain words, or NULL */
    char reason[256];
    char line[512];   /* the line, cut to a character boundary */
    size_t line_kept; /* bytes of it in line[] (NUL bytes included) */
    size_t line_len;  /* its full length */
};

struct sim_node {
    struct proc proc;
    uint32_t index;
    const char *name;
    char *name_json;         /* the name as a JSON string, quotes included */
    uint64_t lines_repaired; /* stdout lines with malformed UTF-8, read as Maelstrom reads them */
    size_t name_json_len;
    bool initialised;     /* init_ok received from the current incarnation */
    bool init_pending;    /* the current incarnation was sent init and has not answered it yet */
    bool muted;           /* Maelstrom would have stopped reading it */
    bool down;            /* killed by eddy's nemesis, not yet restarted */
    bool held;            /* restarted, init_ok not yet received: everything else waits in down_q */
    bool restart_pending; /* a restart waits for the killed process to be reaped */
    enum restart_clock restart_mode; /* ...and how it sets the new process's clock */
    double restart_behind_ms;
    uint32_t restart_timeline; /* the scenario event that asked for it, or 0 */
    bool paused;
    bool exited;              /* exited without being killed by eddy */
    bool stdout_closed_alive; /* closed its stdout but was still running at the end */
    int exit_status;
    uint32_t incarnation; /* 0 for the first process */
    uint32_t init_client; /* client that sent the current incarnation's init */
    int64_t init_deadline_ns;
    uint64_t muted_lines; /* lines ignored after muting */
    uint64_t violations;
    uint64_t late_replies; /* replies to requests whose clients had given up */
    uint64_t stdin_drops;  /* messages eddy could not queue (node not reading, or down) */
    int64_t start_fake_ns; /* wall clock the current incarnation started with (clock faults) */
    struct buf down_q;     /* messages waiting while the node is down or held (in order) */
    struct clockctl *clock;
    bool clock_loaded;             /* the node's process mapped its clock control block */
    struct clockroute_node *route; /* how clock faults reach it (clockroute.h) */
    pid_t pids[16];                /* the last process ids of its incarnations */
    uint32_t pid_count;            /* incarnations started */
    uint64_t ops;                  /* ops sent to it */
    uint64_t oks;
};

struct client {
    uint32_t node;
    int32_t worker; /* -1 for init and setup clients */
    bool open;
    int64_t last_msg_id; /* msg_ids are 1, 2, 3, ... per client */
    int64_t awaiting;    /* msg_id of the outstanding request, 0 when idle */
};

struct worker {
    uint32_t index;
    uint32_t node;
    uint64_t process; /* Jepsen's process number: index, + concurrency after each crash */
    int64_t client;   /* cN in use, -1 before the first op */
    bool reopen;      /* the process changed: close the client and open another at next op */
    bool busy;
    uint32_t free_pos; /* position in the free list when idle */
    /* The op in flight. */
    enum op_f f;
    int echo_n;
    int64_t invoke_ns;
    int64_t deadline_ns;
    struct worker *prev, *next; /* the timeout FIFO */
};

struct clock_point {
    int64_t t_ns;                  /* since the test start */
    int64_t offset_ns;             /* the node's fake clock minus the real one */
    int64_t real_ns;               /* CLOCK_REALTIME at the sample, for the clock between samples */
    struct clockctl_params params; /* the clock as set then (zero when not controlled) */
    uint32_t incarnation;          /* the node's incarnation at the sample */
};

struct clock_series {
    struct clock_point *p;
    size_t len, cap;
    uint64_t dropped; /* samples past CLOCK_POINTS_MAX, counted */
};

#define CLOCK_POINTS_MAX 20000 /* per node */

/* How one incarnation of a node was started, for the diagnosis (report_diag.c). */
struct incarnation_start {
    int64_t t_ns; /* since the test start */
    enum restart_clock mode;
    double behind_ms;
    bool clock_applied; /* the mode's clock was set (always true for RESTART_CLOCK_NOW) */
};

struct incarnation_log {
    struct incarnation_start *p; /* incarnations 1, 2, ... (0 is the first process) */
    size_t len, cap;
};

/* Completions as the event loop counts them (the checker's counts are its thread's). */
struct progress_counts {
    uint64_t count, ok, fail, info;
};

struct fault_record {
    int64_t time_ns;
    enum fault_action action;
    bool applied;
    uint32_t timeline; /* the scenario event it came from, as fault_event.timeline (0: none) */
    bool unreached;    /* not applied because this kind of fault cannot reach the node at all */
    int32_t node;      /* the node an unreached fault was for, else -1 */
    char detail[240];
};

struct sim {
    struct config *cfg;
    struct ev_loop *loop;
    struct prng workload_rng; /* stagger gaps, worker choice, echo payloads */
    struct prng nemesis_rng;  /* choices made when events fire */
    int64_t mono_origin_ns;   /* CLOCK_MONOTONIC at the test's time 0 */
    int64_t now_ns;           /* cached "now", since the origin */
    int64_t limit_ns;         /* time limit, since the origin */

    struct sim_node *nodes;
    uint32_t node_count;
    uint32_t *node_map; /* open addressing: node index + 1, keyed by name hash */
    uint32_t node_map_cap;
    bool client_named_nodes; /* some node is named like a client (c12) */
    struct client *clients;  /* indexed by N of cN */
    uint32_t client_count, client_cap;
    struct worker *workers;
    uint32_t worker_count;
    uint32_t *free_workers; /* indices of idle workers */
    uint32_t free_count;
    uint32_t next_thread; /* Jepsen's rotation over workers and the nemesis (unique-ids) */
    struct worker *timeouts_head, *timeouts_tail;
    uint64_t in_flight;

    struct net *net;
    uint64_t next_net_id;
    struct {
        uint64_t send, recv, msgs;
    } net_all, net_clients, net_servers;
    uint64_t service_requests; /* messages to Maelstrom services eddy does not simulate */

    struct history hist;
    struct check *check; /* written by the checker thread until checkq_finish */
    struct checkq *checkq;
    struct progress_counts progress;  /* the loop's own counts, for the progress bar */
    struct checkq_stats checkq_stats; /* filled when the checker is done */
    bool reading_paused;              /* node output is not read: the checker's queue is full */
    uint64_t backpressure_pauses;
    int64_t backpressure_since_ns, backpressure_ns; /* when the pause began; paused in all */
    bool draining;      /* the nodes are gone and the checker is finishing */
    struct buf scratch; /* formatting request lines */

    /* Phases. */
    bool init_done;
    bool generating; /* the client phase is running */
    bool stopping;   /* time limit passed: no new ops */
    bool finished;
    bool op_pending; /* rate-limited: an op is due but no worker was free */
    int64_t next_op_ns;
    int exit_code;    /* set when the run breaks (255) or is interrupted */
    char crash[2048]; /* why the run broke, for the summary */
    bool interrupted;
    int interrupt_signal;

    /* Faults. */
    struct nemesis_plan plan;
    size_t plan_next;
    unsigned faults_active; /* bit per fault kind in force now */
    char partition_desc[512];
    struct fault_record *fault_log;
    size_t fault_log_len;
    /* The timeline index of the event being applied, for its records. */
    uint32_t fault_timeline;
    char clock_dir[256];   /* private directory of the clock control blocks */
    const char *clock_lib; /* path of libeddyclock.so, NULL when clock faults are off */
    bool clock_needed;
    struct clock_series *clock_series;                /* per node */
    struct incarnation_log *incarnations;             /* per node: how each restart set the clock */
    uint64_t notok_by_faults[1u << FAULT_KIND_COUNT]; /* ops not ok, by the kinds in force */
    struct clocksrv *clocksrv;        /* answers trapped clock calls (clockroute.c) */
    struct vdsomap_image *vdso_image; /* eddy's vDSO, or NULL (vdso_missing: why) */
    char vdso_missing[160];

    /* Protocol conformance. */
    struct violation violations[VIOLATIONS_KEPT];
    uint32_t violations_kept;
    uint64_t violation_counts[4];

    /* First messages, for the Lamport diagram. */
    struct {
        int64_t send_ns, recv_ns;
        uint32_t src, dest; /* endpoint ids: nodes 0..N-1, clients N + k */
        char type[24];
        bool dropped;
    } messages[MESSAGES_KEPT];
    uint32_t messages_len;

    /* Watchers. */
    ev_prepare flush_w;
    ev_timer op_timer;
    ev_timer timeout_timer;
    ev_timer net_timer;
    ev_timer nemesis_timer;
    ev_timer limit_timer;
    ev_timer init_timer;
    ev_timer progress_timer;
    ev_timer teardown_timer;
    ev_timer fail_fast_timer; /* --fail-fast: polls the checker, then the grace for ops */
    ev_signal sigint_w, sigterm_w;
    ev_async checker_w; /* the checker has room again, or is done */

    /* --fail-fast */
    int64_t fail_fast_ns;     /* when the first anomaly was seen, -1 before */
    char fail_fast_what[160]; /* what it was */

    /* Output. */
    char run_dir[1024];
    bool progress_shown;
    int64_t wall_start_ns; /* CLOCK_REALTIME at the start, for the store name */
    char *command_line;
    int64_t init_ns;   /* from the first spawn to the last init_ok */
    int64_t client_ns; /* how long the client phase lasted: the time limit, or less
                          when the run was interrupted or broke */
    /* Killing and reaping what the nodes left behind (contain.h). */
    struct contain_result descendants;
};

/* True while what is sent to the node must wait in its down_q: it is down, or it was restarted
 * and has not answered init_ok yet (a restarted node gets init and nothing else until then). */
static inline bool sim_node_holding(const struct sim_node *n)
{
    return n->down || n->held;
}

/* traffic.c */
void traffic_build_node_map(struct sim *s);
void traffic_release_held(struct sim *s, struct sim_node *n);
const char *traffic_consequence(enum violation_class cls);
void traffic_node_line(struct proc *p, const char *line, size_t len);
void traffic_issue_ops(struct sim *s);
void traffic_expire(struct sim *s);
void traffic_worker_free(struct sim *s, struct worker *w);
int64_t traffic_open_client(struct sim *s, uint32_t node, int32_t worker);
void traffic_send_init(struct sim *s, struct sim_node *n);
void traffic_deliver_due(struct sim *s);
void traffic_violation(struct sim *s, struct sim_node *n, enum violation_class cls,
                       const char *line, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void traffic_fail_node_ops(struct sim *s, uint32_t node, const char *why);
void traffic_abandon_ops(struct sim *s, const char *why);
void traffic_thread_turn(struct sim *s);
void traffic_defer_timeouts(struct sim *s, int64_t by_ns);

/* report.c */
void report_clock_sample(struct sim *s, uint32_t node, int64_t t_ns, int64_t offset_ns);
void report_incarnation_start(struct sim *s, const struct sim_node *n, enum restart_clock mode,
                              double behind_ms, bool clock_applied);

/* faults.c */
void faults_log(struct sim *s, enum fault_action a, bool applied, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A fault not applied because its kind cannot reach node (not because of the moment, such as a
 * node already down): the verdict becomes unknown unless --allow-unapplied-faults. */
void faults_log_unreached(struct sim *s, enum fault_action a, uint32_t node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void faults_clock_sample(struct sim *s, struct sim_node *n);
/* The faults not applied because their kind could not reach a node: how many, and in reason a
 * sentence per kind naming the nodes and the first cause ("" when none). */
size_t faults_unreached(const struct sim *s, char *reason, size_t cap);
void faults_arm(struct sim *s);
void faults_nemesis_cb(struct ev_loop *loop, ev_timer *w, int revents);
void faults_heal_all(struct sim *s);
void faults_setup_clock(struct sim *s);
void faults_cleanup_clock(struct sim *s);
void faults_restart_reaped(struct sim *s, struct sim_node *n);

/* run.c */
void sim_spawn_node(struct sim *s, struct sim_node *n);
int64_t sim_clock_ns(struct sim *s);
void sim_update_now(struct sim *s);
void sim_crash(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_arm_net_timer(struct sim *s);
void sim_node_initialised(struct sim *s, struct sim_node *n);
void sim_maybe_finish(struct sim *s);
void sim_fail_fast(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_backpressure(struct sim *s);

#endif /* EDDY_SIM_SIM_H */
