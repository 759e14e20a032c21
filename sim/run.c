/*
 * run.c: one `eddy test` run, from spawning the nodes to the exit status.
 *
 * Phases, as in Maelstrom: start every node and send it init (10 s to answer); open the idle
 * setup clients; run the client phase for --time-limit while the nemesis applies its plan; stop
 * issuing ops, heal every fault and let the ops in flight finish (each times out after 5 s); make
 * sure no node exited on its own; kill them all; check and write the results. A node that exits
 * by itself or fails init ends the run at once with exit 255 and its last lines, which is what
 * Maelstrom reports at teardown. One libev loop drives everything; node stdin queues are flushed
 * once per loop iteration from an ev_prepare watcher, so a burst of messages to a node costs one
 * write(2). The faults themselves live in faults.c.
 * Depends on: sim, traffic, faults, clockroute, proc, contain, net, nemesis, checkq, history,
 * report, clockctl, utf8, libev.
 * Used by: main.
 */
#include "run.h"
#include "clockroute.h"
#include "report.h"
#include "sim.h"
#include "contain.h"
#include "store.h"
#include "utf8.h"
#include "eddy/alloc.h"
#include "eddy/clockctl.h"
#include "eddy/json.h"
#include "eddy/util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STREAM_WORKLOAD 1
#define STREAM_NEMESIS_APPLY 2
#define TEARDOWN_WAIT_S 5.0
#define FAIL_FAST_POLL_S 0.01  /* how often --fail-fast asks the checker thread */
#define FAIL_FAST_GRACE_S 0.25 /* then how long ops in flight get before they become info */

/* ==== Time ==== */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sim_clock_ns(struct sim *s)
{
    return mono_ns() - s->mono_origin_ns;
}

void sim_update_now(struct sim *s)
{
    s->now_ns = sim_clock_ns(s);
}

/* ==== Crashes and the end ==== */

static void teardown(struct sim *s);

void sim_crash(struct sim *s, const char *fmt, ...)
{
    if (s->exit_code)
        return; /* the first reason is the one that matters */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->crash, sizeof(s->crash), fmt, ap);
    va_end(ap);
    s->crash[utf8_prefix(s->crash, strlen(s->crash), sizeof(s->crash) - 1)] = '\0';
    s->exit_code = 255;
    teardown(s);
}

static void stop_generating(struct sim *s)
{
    if (!s->stopping && s->init_done) {
        sim_update_now(s);
        s->client_ns = EDDY_MIN(s->now_ns, s->limit_ns);
    }
    s->stopping = true;
    ev_timer_stop(s->loop, &s->op_timer);
    ev_timer_stop(s->loop, &s->nemesis_timer);
    ev_timer_stop(s->loop, &s->limit_timer);
}

void sim_maybe_finish(struct sim *s)
{
    if (s->stopping && !s->finished && s->in_flight == 0 && s->exit_code == 0) {
        /* Only now does the nemesis heal what it broke: echo and unique-ids have no final
         * generator (maelstrom core.clj), so Jepsen tears the nemesis down after the client
         * phase, once every op in flight has completed (jepsen core.clj,
         * with-client+nemesis-setup-teardown). */
        faults_heal_all(s);
        teardown(s);
    }
}

/* ==== --fail-fast ==== */

void sim_fail_fast(struct sim *s, const char *fmt, ...)
{
    if (!s->cfg->fail_fast || s->fail_fast_ns >= 0 || !s->generating || s->stopping || s->finished)
        return;
    s->fail_fast_ns = s->now_ns;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->fail_fast_what, sizeof(s->fail_fast_what), fmt, ap);
    va_end(ap);
    fprintf(stderr, "eddy: --fail-fast: %s at %.3f s: ending the run\n", s->fail_fast_what,
            (double)s->now_ns / 1e9);
    /* As at the time limit: no new ops, every fault healed. The ops in flight get a short
     * grace instead of their 5 s timeout, so that the run ends within a second; the caller
     * may be in the middle of a node's line, so the end itself comes from the timer. */
    stop_generating(s);
    faults_heal_all(s);
    ev_timer_stop(s->loop, &s->fail_fast_timer);
    ev_timer_set(&s->fail_fast_timer, FAIL_FAST_GRACE_S, 0);
    ev_timer_start(s->loop, &s->fail_fast_timer);
}

static void fail_fast_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct sim *s = container_of(w, struct sim, fail_fast_timer);
    sim_update_now(s);
    if (s->fail_fast_ns < 0) {
        /* Polling: the checker thread finds duplicates and echo errors. */
        checkq_kick(s->checkq);
        if (checkq_anomaly(s->checkq))
            sim_fail_fast(s, "%s",
                          s->cfg->workload == WORKLOAD_ECHO ? "the first echo error"
                                                            : "the first duplicated ID");
        return;
    }
    ev_timer_stop(loop, w);
    traffic_abandon_ops(s, "the run ended at its first anomaly (--fail-fast)");
    sim_maybe_finish(s);
}

/* ==== Nodes ==== */

static const char *resolved_bin; /* --bin made absolute, as Maelstrom canonicalises it */

static void node_exit_cb(struct proc *p, int status)
{
    struct sim *s = p->ctx;
    struct sim_node *n = &s->nodes[p->index];
    sim_update_now(s);
    proc_release(p);
    if (n->down && n->restart_pending && !s->finished) {
        faults_restart_reaped(s, n); /* its restart came before the kill was reaped */
        return;
    }
    if (n->down || s->finished)
        return; /* killed by eddy */
    n->exited = true;
    n->exit_status = status;
    if (p->exec_errno) {
        sim_crash(s, "cannot run %s for %s: %s", resolved_bin, n->name, strerror(p->exec_errno));
        return;
    }
    char desc[64];
    if (WIFEXITED(status))
        snprintf(desc, sizeof(desc), "exit status %d", WEXITSTATUS(status));
    else
        snprintf(desc, sizeof(desc), "signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    struct buf last;
    buf_init(&last, 64 << 10);
    proc_describe_last_lines(p, &last);
    sim_crash(s,
              "Node %s crashed with %s%s. Maelstrom reports this when it tears the node down and "
              "the test crashes. Before crashing, it wrote:\n%.*s",
              n->name, desc, n->initialised ? "" : " before answering init", (int)buf_len(&last),
              buf_peek(&last));
    buf_fini(&last);
}

static void node_err_cb(struct proc *p, const char *line, size_t len)
{
    struct sim *s = p->ctx;
    if (s->cfg->log_stderr)
        fprintf(stderr, "%s: %.*s\n", s->nodes[p->index].name, (int)len, line);
}

void sim_spawn_node(struct sim *s, struct sim_node *n)
{
    const char *argv[NODE_ARGS_MAX + 2];
    argv[0] = resolved_bin;
    for (unsigned i = 0; i < s->cfg->node_arg_count; i++)
        argv[i + 1] = s->cfg->node_args[i];
    argv[s->cfg->node_arg_count + 1] = NULL;
    char log_path[1300];
    store_node_log_path(s, n, log_path, sizeof(log_path));
    char envbuf[2048];
    const char *tmp = getenv("TMPDIR");
    if (n->clock) {
        clockctl_mark_unloaded(n->clock);
        n->start_fake_ns = clockctl_fake_at(n->clock, clockctl_real_now_ns());
    }
    n->clock_loaded = false;
    char err[512];
    struct proc_spawn_opts o = {
        .path = resolved_bin,
        .argv = argv,
        .cwd = tmp && *tmp ? tmp : "/tmp",
        .log_path = log_path,
        .pipe_bytes = s->node_count <= 16 ? (1u << 20) : 0,
    };
    clockroute_spawn_opts(s, n, &o, envbuf, sizeof(envbuf));
    int rc = proc_spawn(&n->proc, s->loop, &o, err, sizeof(err));
    if (rc < 0) {
        sim_crash(s, "%s", err);
        return;
    }
    n->pids[n->pid_count++ % ARRAY_LEN(n->pids)] = n->proc.pid;
}

void sim_node_initialised(struct sim *s, struct sim_node *n)
{
    n->initialised = true;
    n->init_pending = false;
    s->clients[n->init_client].open = false; /* Maelstrom closes the init client at once */
    if (n->held)
        traffic_release_held(s, n);
    if (n->clock) {
        char why[CLOCKROUTE_WHY_MAX + 64];
        n->clock_loaded = clockctl_loaded(n->clock, NULL);
        if (s->init_done && !clockroute_reaches(s, n, why, sizeof(why)))
            faults_log_unreached(s, ACT_RESTART, n->index,
                                 "%s restarted, but clock faults cannot reach it: %s", n->name,
                                 why);
        if (s->init_done)
            faults_clock_sample(s, n); /* the first samples come when the client phase starts */
    }
    if (s->init_done)
        return;
    for (uint32_t i = 0; i < s->node_count; i++)
        if (!s->nodes[i].initialised)
            return;
    /* Every node answered: Jepsen's setup clients come next, one per node, idle, and open
     * until the end of the run (jepsen core.clj closes them in with-client+nemesis-setup-
     * teardown's finally), then the client phase, whose clock starts now. */
    for (uint32_t i = 0; i < s->node_count; i++)
        traffic_open_client(s, i, -1);
    s->init_done = true;
    ev_timer_stop(s->loop, &s->init_timer);
    int64_t shift = s->now_ns;
    s->init_ns = shift;
    s->mono_origin_ns += shift;
    s->now_ns = 0;
    for (uint32_t i = 0; i < s->node_count; i++)
        s->nodes[i].init_deadline_ns -= shift;
    s->generating = true;
    s->limit_ns = (int64_t)(s->cfg->time_limit_s * 1e9);
    ev_timer_set(&s->limit_timer, s->cfg->time_limit_s, 0);
    ev_timer_start(s->loop, &s->limit_timer);
    if (s->cfg->fail_fast) {
        ev_timer_set(&s->fail_fast_timer, FAIL_FAST_POLL_S, FAIL_FAST_POLL_S);
        ev_timer_start(s->loop, &s->fail_fast_timer);
    }
    for (uint32_t i = 0; i < s->node_count; i++)
        faults_clock_sample(s, &s->nodes[i]);
    faults_arm(s);
    if (s->cfg->rate_max || s->cfg->rate > 0)
        traffic_issue_ops(s);
}

/* ==== Back-pressure from the checker ==== */

/* The checker's queue is full: stop reading node output until it has room, so that a node
 * which outpaces the checker is slowed down instead of growing eddy's memory. The loop keeps
 * serving timers and signals meanwhile. */
void sim_backpressure(struct sim *s)
{
    if (s->reading_paused || s->draining)
        return;
    s->reading_paused = true;
    s->backpressure_pauses++;
    s->backpressure_since_ns = sim_clock_ns(s);
    for (uint32_t i = 0; i < s->node_count; i++)
        proc_stdout_pause(&s->nodes[i].proc, true);
}

static void resume_reading(struct sim *s)
{
    int64_t paused = sim_clock_ns(s) - s->backpressure_since_ns;
    s->reading_paused = false;
    s->backpressure_ns += paused;
    for (uint32_t i = 0; i < s->node_count; i++)
        proc_stdout_pause(&s->nodes[i].proc, false);
    traffic_defer_timeouts(s, paused);
}

/* On the checker's thread: wake the loop. */
static void checker_event_cb(void *ctx)
{
    struct sim *s = ctx;
    ev_async_send(s->loop, &s->checker_w);
}

static void checker_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    struct sim *s = container_of(w, struct sim, checker_w);
    sim_update_now(s);
    if (s->reading_paused && !checkq_full(s->checkq)) {
        resume_reading(s);
        traffic_expire(s); /* re-arms the timeout timer for the deferred deadlines */
        sim_maybe_finish(s);
    }
    if (s->draining && checkq_done(s->checkq))
        ev_break(loop, EVBREAK_ALL);
}

#define HOLD_CHECKER_ENV "EDDY_TEST_HOLD_CHECKER" /* for tests: see drain_checker */

/* After the nodes are gone: the checker finishes what is queued and the end-of-run checks while
 * the loop serves signals, so that an interrupt still leaves results.json. */
static void drain_checker(struct sim *s)
{
    /* A test hook: the checker stops here, as if the end-of-run checks of a long run kept it
     * busy, so that a test can interrupt eddy while it waits for them. */
    if (getenv(HOLD_CHECKER_ENV))
        checkq_hold(s->checkq, true);
    if (s->reading_paused) {
        s->reading_paused = false;
        s->backpressure_ns += sim_clock_ns(s) - s->backpressure_since_ns;
    }
    s->draining = true;
    /* An interrupted run looks for duplicates among the IDs in memory only: quick, whatever was
     * spilled to disk. */
    s->check->finish_memory_only = s->interrupted;
    checkq_close(s->checkq);
    while (!checkq_done(s->checkq))
        ev_run(s->loop, EVRUN_ONCE);
}

/* ==== Watchers ==== */

static void flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    proc_flush_dirty();
}

static void op_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct sim *s = container_of(w, struct sim, op_timer);
    sim_update_now(s);
    traffic_issue_ops(s);
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct sim *s = container_of(w, struct sim, timeout_timer);
    sim_update_now(s);
    if (s->reading_paused)
        return; /* the deadlines move when reading resumes, which re-arms this timer */
    traffic_expire(s);
    sim_maybe_finish(s);
}

void sim_arm_net_timer(struct sim *s)
{
    int64_t due = net_next_due(s->net);
    if (due == INT64_MAX)
        return;
    double at = (double)(due - s->now_ns) / 1e9;
    if (ev_is_active(&s->net_timer) && ev_timer_remaining(s->loop, &s->net_timer) <= at)
        return;
    ev_timer_stop(s->loop, &s->net_timer);
    ev_timer_set(&s->net_timer, at > 0 ? at : 0, 0);
    ev_timer_start(s->loop, &s->net_timer);
}

static void net_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct sim *s = container_of(w, struct sim, net_timer);
    sim_update_now(s);
    traffic_deliver_due(s);
    sim_arm_net_timer(s);
}

static void limit_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct sim *s = container_of(w, struct sim, limit_timer);
    sim_update_now(s);
    stop_generating(s);
    sim_maybe_finish(s);
}

static void init_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct sim *s = container_of(w, struct sim, init_timer);
    sim_update_now(s);
    for (uint32_t i = 0; i < s->node_count; i++) {
        struct sim_node *n = &s->nodes[i];
        if (!n->initialised && !n->down && n->proc.running && n->init_deadline_ns <= s->now_ns) {
            sim_crash(s,
                      "Expected node %s to respond to an init message, but node did not "
                      "respond (within %.0f ms).",
                      n->name, s->cfg->init_timeout_ms);
            return;
        }
    }
}

static void progress_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct sim *s = container_of(w, struct sim, progress_timer);
    sim_update_now(s);
    report_progress(s, false);
}

static void teardown_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    /* Nodes that did not die within TEARDOWN_WAIT_S of SIGKILL (stuck in the kernel): give up
     * waiting for them; their process groups were signalled and PDEATHSIG covers the rest. */
    ev_break(loop, EVBREAK_ALL);
}

static bool all_reaped(const struct sim *s)
{
    for (uint32_t i = 0; i < s->node_count; i++)
        if (s->nodes[i].proc.running)
            return false;
    return true;
}

static void reap_check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
    struct sim *s = w->data;
    if (s->finished && all_reaped(s))
        ev_break(loop, EVBREAK_ALL);
}

static ev_check reap_check;

static void teardown(struct sim *s)
{
    if (s->finished)
        return;
    s->finished = true;
    s->generating = false;
    stop_generating(s);
    ev_timer_stop(s->loop, &s->init_timer);
    ev_timer_stop(s->loop, &s->timeout_timer);
    ev_timer_stop(s->loop, &s->net_timer);
    ev_timer_stop(s->loop, &s->progress_timer);
    ev_timer_stop(s->loop, &s->fail_fast_timer);
    /* Maelstrom kills nodes with SIGKILL and never closes their stdin first. */
    for (uint32_t i = 0; i < s->node_count; i++) {
        struct sim_node *n = &s->nodes[i];
        n->stdout_closed_alive = n->proc.running && n->proc.stdout_eof;
        if (n->proc.running) {
            proc_signal(&n->proc, SIGKILL);
            proc_signal(&n->proc, SIGCONT);
        }
    }
    ev_timer_set(&s->teardown_timer, TEARDOWN_WAIT_S, 0);
    ev_timer_start(s->loop, &s->teardown_timer);
    reap_check.data = s;
    ev_check_init(&reap_check, reap_check_cb);
    ev_check_start(s->loop, &reap_check);
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct sim *s = w->data;
    if (s->interrupted) {
        /* A second interrupt: stop now, still without orphans. */
        proc_kill_all_emergency();
        _exit(128 + w->signum);
    }
    s->interrupted = true;
    s->interrupt_signal = w->signum;
    fprintf(stderr,
            "\neddy: %s: stopping the nodes and writing the results (again to quit "
            "at once)\n",
            strsignal(w->signum));
    sim_update_now(s);
    /* During the final checks (which can take a while after a long run), the checker stops
     * where it is; before, it finishes quickly on its own (see drain_checker). */
    if (s->draining)
        checkq_abort(s->checkq);
    teardown(s);
}

/* ==== Set-up ==== */

static int resolve_bin(const char *bin, char *out, size_t cap, char *err, size_t elen)
{
    /* Maelstrom canonicalises --bin against its working directory; it does not search PATH. */
    char *real = realpath(bin, NULL);
    if (!real) {
        snprintf(err, elen, "cannot run --bin %s: %s", bin, strerror(errno));
        return -errno;
    }
    struct stat st;
    if (stat(real, &st) < 0 || !S_ISREG(st.st_mode) || access(real, X_OK) < 0) {
        snprintf(err, elen, "cannot run --bin %s: %s", bin,
                 stat(real, &st) == 0 && !S_ISREG(st.st_mode) ? "not a regular file"
                                                              : "not executable");
        free(real);
        return -EACCES;
    }
    snprintf(out, cap, "%s", real);
    free(real);
    return 0;
}

static uint64_t random_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
        seed = (uint64_t)mono_ns();
    return seed % 1000000000000ull; /* short enough to type */
}

_Static_assert(CHECKER_MEMORY_MIN == IDSET_MEMORY_MIN, "one smallest budget");
_Static_assert(CHECKER_MEMORY_DEFAULT == IDSET_MEMORY_DEFAULT, "one default budget");

/* Test hooks: fingerprints of fewer bits, or of the first bytes of each ID only, make
 * different IDs share one, so that end-to-end tests reach the comparisons that tell them
 * apart. */
#define FINGERPRINT_BITS_ENV "EDDY_TEST_FINGERPRINT_BITS"
#define FINGERPRINT_PREFIX_ENV "EDDY_TEST_FINGERPRINT_PREFIX"

static unsigned test_fingerprint_bits(void)
{
    const char *v = getenv(FINGERPRINT_BITS_ENV);
    long bits = v ? strtol(v, NULL, 10) : 0;
    return bits >= 8 && bits <= 64 ? (unsigned)bits : 0;
}

static size_t test_fingerprint_prefix(void)
{
    const char *v = getenv(FINGERPRINT_PREFIX_ENV);
    long n = v ? strtol(v, NULL, 10) : 0;
    return n > 0 ? (size_t)n : 0;
}

static void sim_free(struct sim *s)
{
    for (uint32_t i = 0; s->nodes && i < s->node_count; i++) {
        proc_release(&s->nodes[i].proc);
        proc_fini(&s->nodes[i].proc);
        buf_fini(&s->nodes[i].down_q);
        free(s->nodes[i].name_json);
    }
    clockroute_fini(s);
    faults_cleanup_clock(s);
    free(s->nodes);
    free(s->node_map);
    free(s->clients);
    free(s->workers);
    free(s->free_workers);
    net_free(s->net);
    checkq_finish(s->checkq, NULL);
    if (s->check)
        check_fini(s->check);
    free(s->check);
    nemesis_plan_fini(&s->plan);
    free(s->fault_log);
    buf_fini(&s->scratch);
    report_fini(s);
    free(s->command_line);
}

int sim_run(struct config *cfg, const struct nemesis_plan *scenario_events, const char *cmdline)
{
    static char bin[PATH_MAX];
    char err[1024];
    if (resolve_bin(cfg->bin, bin, sizeof(bin), err, sizeof(err)) < 0) {
        fprintf(stderr, "eddy: %s\n", err);
        return 255;
    }
    resolved_bin = bin;
    if (proc_reserve_fds(cfg->node_count, err, sizeof(err)) < 0) {
        fprintf(stderr, "eddy: --node-count: %s\n", err);
        return 254;
    }
    if (!cfg->seed_given)
        cfg->seed = random_seed();

    contain_setup();
    struct sim *s = xcalloc(1, sizeof(*s));
    s->cfg = cfg;
    s->command_line = xstrdup(cmdline);
    s->loop = EV_DEFAULT;
    s->node_count = cfg->node_count;
    s->mono_origin_ns = mono_ns();
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    s->wall_start_ns = (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec;
    prng_seed(&s->workload_rng, cfg->seed, STREAM_WORKLOAD);
    prng_seed(&s->nemesis_rng, cfg->seed, STREAM_NEMESIS_APPLY);
    buf_init(&s->scratch, 1u << 20);
    s->fault_log = xcalloc(FAULT_LOG_MAX, sizeof(*s->fault_log));
    snprintf(s->partition_desc, sizeof(s->partition_desc), "none");
    printf("eddy: seed %llu\n", (unsigned long long)cfg->seed);
    fflush(stdout);

    if (store_prepare(s, err, sizeof(err)) < 0) {
        fprintf(stderr, "eddy: %s\n", err);
        sim_free(s);
        free(s);
        return 254;
    }

    s->nodes = xcalloc(s->node_count, sizeof(*s->nodes));
    for (uint32_t i = 0; i < s->node_count; i++) {
        struct sim_node *n = &s->nodes[i];
        n->index = i;
        n->name = cfg->node_names[i];
        size_t len = strlen(n->name);
        n->name_json = xmalloc(json_escaped_max(len));
        n->name_json_len = json_escape(n->name_json, n->name, len);
        proc_init(&n->proc, i, n->name, s, traffic_node_line, node_exit_cb, node_err_cb);
        buf_init(&n->down_q, PROC_STDIN_MAX);
    }
    traffic_build_node_map(s);
    s->net = net_new(&(struct net_opts){.node_count = s->node_count,
                                        .latency_ms = cfg->latency_ms,
                                        .dist = cfg->latency_dist,
                                        .seed = cfg->seed});
    s->check = xmalloc(sizeof(*s->check));
    check_init_with(s->check, cfg->workload, cfg->time_limit_s,
                    &(struct idset_opts){.dir = s->run_dir,
                                         .memory_max = cfg->checker_memory,
                                         .fingerprint_bits = test_fingerprint_bits(),
                                         .fingerprint_prefix = test_fingerprint_prefix()});
    check_track_id_properties(s->check, s->node_count);
    s->checkq = checkq_new(s->check, checker_event_cb, s);
    report_init(s);

    /* Workers: worker i always talks to node i mod N. */
    s->worker_count = cfg->concurrency;
    s->workers = xcalloc(s->worker_count ? s->worker_count : 1, sizeof(*s->workers));
    s->free_workers = xcalloc(s->worker_count ? s->worker_count : 1, sizeof(uint32_t));
    for (uint32_t i = 0; i < s->worker_count; i++) {
        s->workers[i] = (struct worker){
            .index = i, .node = i % s->node_count, .process = i, .client = -1, .free_pos = i};
        s->free_workers[i] = i;
    }
    s->free_count = s->worker_count;

    /* The fault plan: the scenario's timeline plus the random schedules. */
    nemesis_plan_build(&s->plan, scenario_events, s->cfg, s->node_count);
    for (size_t i = 0; i < s->plan.len; i++) {
        enum fault_action a = s->plan.events[i].action;
        s->clock_needed |= fault_action_kind(a) == FAULT_CLOCK ||
                           (a == ACT_RESTART && s->plan.events[i].restart != RESTART_CLOCK_NOW);
    }
    if (s->clock_needed) {
        faults_setup_clock(s);
        clockroute_setup(s, resolved_bin);
    }

    int hrc = history_open(&s->hist, cfg->history ? store_path(s, "history.jsonl") : NULL);
    if (cfg->history)
        history_set_max(&s->hist, cfg->history_max);
    if (hrc < 0) {
        fprintf(stderr, "eddy: cannot write %s: %s\n", store_path(s, "history.jsonl"),
                strerror(s->hist.error));
        sim_free(s);
        free(s);
        return 254;
    }

    ev_prepare_init(&s->flush_w, flush_cb);
    ev_prepare_start(s->loop, &s->flush_w);
    ev_init(&s->op_timer, op_cb);
    ev_init(&s->timeout_timer, timeout_cb);
    ev_init(&s->net_timer, net_cb);
    ev_init(&s->nemesis_timer, faults_nemesis_cb);
    ev_init(&s->limit_timer, limit_cb);
    ev_init(&s->teardown_timer, teardown_cb);
    ev_init(&s->fail_fast_timer, fail_fast_cb);
    s->fail_fast_ns = -1;
    ev_timer_init(&s->init_timer, init_cb, 0.05, 0.05);
    ev_timer_start(s->loop, &s->init_timer);
    ev_signal_init(&s->sigint_w, signal_cb, SIGINT);
    ev_signal_init(&s->sigterm_w, signal_cb, SIGTERM);
    s->sigint_w.data = s->sigterm_w.data = s;
    ev_signal_start(s->loop, &s->sigint_w);
    ev_signal_start(s->loop, &s->sigterm_w);
    ev_async_init(&s->checker_w, checker_cb);
    ev_async_start(s->loop, &s->checker_w);
    if (cfg->progress && isatty(STDERR_FILENO)) {
        ev_timer_init(&s->progress_timer, progress_cb, 0.25, 0.25);
        ev_timer_start(s->loop, &s->progress_timer);
    }

    for (uint32_t i = 0; i < s->node_count && !s->exit_code; i++)
        sim_spawn_node(s, &s->nodes[i]);
    for (uint32_t i = 0; i < s->node_count && !s->exit_code; i++)
        traffic_send_init(s, &s->nodes[i]);

    ev_run(s->loop, 0);

    ev_check_stop(s->loop, &reap_check);
    ev_prepare_stop(s->loop, &s->flush_w);
    ev_timer_stop(s->loop, &s->teardown_timer);
    ev_timer_stop(s->loop, &s->init_timer);
    ev_timer_stop(s->loop, &s->fail_fast_timer);
    if (!all_reaped(s))
        proc_kill_all_emergency();
    contain_kill_all(CONTAIN_KILL_WAIT_S, &s->descendants);
    clockroute_stop(s);
    report_progress(s, true);
    drain_checker(s);
    ev_signal_stop(s->loop, &s->sigint_w);
    ev_signal_stop(s->loop, &s->sigterm_w);
    ev_async_stop(s->loop, &s->checker_w);
    checkq_finish(s->checkq, &s->checkq_stats);
    s->checkq = NULL;
    history_close(&s->hist);
    int code = report_write(s);
    sim_free(s);
    free(s);
    return code;
}
