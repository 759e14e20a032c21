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
 * write(2).
 * Depends on: sim, traffic, proc, net, nemesis, check, history, report, clockctl, libev.
 * Used by: main.
 */
#include "run.h"
#include "report.h"
#include "sim.h"
#include "store.h"
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
    s->exit_code = 255;
    teardown(s);
}

static void stop_generating(struct sim *s)
{
    s->stopping = true;
    ev_timer_stop(s->loop, &s->op_timer);
    ev_timer_stop(s->loop, &s->nemesis_timer);
    ev_timer_stop(s->loop, &s->limit_timer);
}

void sim_maybe_finish(struct sim *s)
{
    if (s->stopping && !s->finished && s->in_flight == 0 && s->exit_code == 0)
        teardown(s);
}

/* ==== Faults ==== */

static void fault_log(struct sim *s, enum fault_action a, bool applied, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fault_log(struct sim *s, enum fault_action a, bool applied, const char *fmt, ...)
{
    if (s->fault_log_len >= FAULT_LOG_MAX)
        return;
    struct fault_record *r = &s->fault_log[s->fault_log_len++];
    r->time_ns = s->now_ns;
    r->action = a;
    r->applied = applied;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
    char value[600];
    size_t n = json_escape(value, r->detail, EDDY_MIN(strlen(r->detail), (size_t)90));
    if (!applied) {
        /* Say plainly in the history that nothing was injected. */
        char tmp[700];
        int k = snprintf(tmp, sizeof(tmp), "{\"applied\":false,\"detail\":%.*s}", (int)n, value);
        history_nemesis(&s->hist, s->now_ns, fault_action_name(a), tmp, (size_t)k);
        return;
    }
    history_nemesis(&s->hist, s->now_ns, fault_action_name(a), value, n);
}

static size_t node_list(const struct sim *s, const uint32_t *nodes, uint32_t count, char *out,
                        size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < count && at + 16 < cap; i++) {
        int k = snprintf(out + at, cap - at, "%s%s", i ? " " : "", s->nodes[nodes[i]].name);
        if (k < 0)
            break;
        at += (size_t)k;
    }
    return at;
}

/* Adds the per-node clock sample that the report draws as lines. */
static void clock_sample(struct sim *s, struct sim_node *n);

static bool clock_usable(struct sim *s, struct sim_node *n, char *why, size_t cap)
{
    if (!n->clock) {
        snprintf(why, cap, "%s: eddy could not set up clock control (%s)", n->name,
                 s->clock_lib ? "no control block" : "libeddyclock.so not found");
        return false;
    }
    if (n->down) {
        snprintf(why, cap, "%s is down", n->name);
        return false;
    }
    if (!n->clock_loaded) {
        pid_t pid = 0;
        n->clock_loaded = clockctl_loaded(n->clock, &pid);
    }
    if (!n->clock_loaded) {
        snprintf(why, cap,
                 "%s did not load libeddyclock.so (a static binary, or a runtime that reads the "
                 "clock without libc): its clock is untouched",
                 n->name);
        return false;
    }
    return true;
}

static void apply_clock(struct sim *s, const struct fault_event *e)
{
    int64_t now = clockctl_real_now_ns();
    for (uint32_t i = 0; i < e->node_count; i++) {
        struct sim_node *n = &s->nodes[e->nodes[i]];
        char why[300];
        if (!clock_usable(s, n, why, sizeof(why))) {
            fault_log(s, e->action, false, "%s not applied: %s", fault_action_name(e->action), why);
            continue;
        }
        int rc = 0;
        switch (e->action) {
        case ACT_CLOCK_BUMP:
            rc = clockctl_bump(n->clock, now, (int64_t)(e->delta_ms * 1e6));
            break;
        case ACT_CLOCK_STROBE:
            rc = clockctl_strobe(n->clock, now, (int64_t)(e->delta_ms * 1e6),
                                 (int64_t)(e->period_ms * 1e6));
            break;
        case ACT_CLOCK_DRIFT:
            rc = clockctl_drift(n->clock, now, e->rate);
            break;
        case ACT_CLOCK_SET:
            rc = clockctl_set_offset(n->clock, now, (int64_t)(e->delta_ms * 1e6));
            break;
        case ACT_CLOCK_RESET:
            clockctl_reset(n->clock, now);
            break;
        default:
            ASSERT(!"not a clock action");
        }
        if (rc < 0) {
            fault_log(s, e->action, false, "%s on %s refused: %s", fault_action_name(e->action),
                      n->name, strerror(-rc));
            continue;
        }
        s->faults_active |= 1u << FAULT_CLOCK;
        fault_log(s, e->action, true,
                  "%s %s: delta %.3f ms, period %.3f ms, rate %.3f; offset now %.3f ms",
                  fault_action_name(e->action), n->name, e->delta_ms, e->period_ms,
                  e->action == ACT_CLOCK_DRIFT ? e->rate : 1.0,
                  (double)clockctl_offset_at(n->clock, now) / 1e6);
        clock_sample(s, n);
    }
}

static void spawn_node(struct sim *s, struct sim_node *n);

static void apply_restart(struct sim *s, const struct fault_event *e)
{
    bool any = false;
    for (uint32_t i = 0; i < s->node_count; i++) {
        struct sim_node *n = &s->nodes[i];
        if (!n->down || n->proc.running)
            continue;
        any = true;
        int64_t now = clockctl_real_now_ns();
        char clock_note[160] = "";
        if (e->restart != RESTART_CLOCK_NOW) {
            char why[300];
            bool ok = n->clock != NULL;
            if (ok) {
                int64_t target = n->start_fake_ns;
                if (e->restart == RESTART_CLOCK_BEHIND)
                    target -= (int64_t)(e->behind_ms * 1e6);
                ok = clockctl_set_fake(n->clock, now, target > 0 ? target : 0) == 0;
                snprintf(clock_note, sizeof(clock_note), ", clock %s: starts %.3f s behind now",
                         restart_clock_name(e->restart),
                         (double)(now - clockctl_fake_at(n->clock, now)) / 1e9);
            } else {
                snprintf(why, sizeof(why), "no clock control for %s", n->name);
                fault_log(s, ACT_RESTART, false, "restart %s into the past not applied: %s",
                          n->name, why);
            }
        }
        n->down = false;
        n->incarnation++;
        spawn_node(s, n);
        if (n->proc.running) {
            traffic_send_init(s, n);
            /* Then what piled up while it was down, as Maelstrom keeps a dead node's queue. */
            if (proc_send(&n->proc, buf_peek(&n->down_q), buf_len(&n->down_q)) < 0)
                n->stdin_drops++;
            buf_clear(&n->down_q);
        }
        fault_log(s, ACT_RESTART, n->proc.running, "restart %s (incarnation %u)%s", n->name,
                  n->incarnation, clock_note);
    }
    if (!any)
        fault_log(s, e->action, true, "start: no node was down");
    bool still_down = false;
    for (uint32_t i = 0; i < s->node_count; i++)
        still_down |= s->nodes[i].down;
    if (!still_down)
        s->faults_active &= ~(1u << FAULT_KILL);
}

static void apply_event(struct sim *s, const struct fault_event *e)
{
    char names[400];
    node_list(s, e->nodes, e->node_count, names, sizeof(names));
    switch (e->action) {
    case ACT_PARTITION: {
        struct grudge *g = net_grudge(s->net);
        if (e->node_count > 0 && e->target == TARGET_LIST) {
            /* A scenario's explicit cut: the listed nodes against the rest, both ways. */
            uint32_t *rest = xmalloc(s->node_count * sizeof(uint32_t));
            uint32_t nrest = 0;
            for (uint32_t i = 0; i < s->node_count; i++) {
                bool listed = false;
                for (uint32_t j = 0; j < e->node_count && !listed; j++)
                    listed = e->nodes[j] == i;
                if (!listed)
                    rest[nrest++] = i;
            }
            grudge_clear(g);
            grudge_cut_oneway(g, e->nodes, e->node_count, rest, nrest);
            if (e->shape != SHAPE_ONE_WAY)
                grudge_cut_oneway(g, rest, nrest, e->nodes, e->node_count);
            free(rest);
        } else {
            grudge_make(g, e->shape, &s->nemesis_rng);
        }
        grudge_describe(g, s->cfg->node_names, s->partition_desc, sizeof(s->partition_desc));
        s->faults_active |= 1u << FAULT_PARTITION;
        fault_log(s, e->action, true, "%s: %s", partition_shape_name(e->shape), s->partition_desc);
        return;
    }
    case ACT_HEAL:
        grudge_clear(net_grudge(s->net));
        snprintf(s->partition_desc, sizeof(s->partition_desc), "none");
        s->faults_active &= ~(1u << FAULT_PARTITION);
        fault_log(s, e->action, true, "network healed");
        return;
    case ACT_CLOCK_BUMP:
    case ACT_CLOCK_STROBE:
    case ACT_CLOCK_DRIFT:
    case ACT_CLOCK_SET:
    case ACT_CLOCK_RESET:
        apply_clock(s, e);
        return;
    case ACT_KILL:
        for (uint32_t i = 0; i < e->node_count; i++) {
            struct sim_node *n = &s->nodes[e->nodes[i]];
            if (n->down) {
                fault_log(s, e->action, false, "kill %s: already down", n->name);
                continue;
            }
            n->down = true;
            n->initialised = false;
            proc_signal(&n->proc, SIGKILL);
            /* What was queued but not yet written is kept for the next incarnation; what the
             * process had read died with it. */
            buf_append(&n->down_q, buf_peek(&n->proc.in_q), buf_len(&n->proc.in_q));
            buf_clear(&n->proc.in_q);
            traffic_fail_node_ops(s, n->index, "the node was killed; its reply can never come");
            s->faults_active |= 1u << FAULT_KILL;
            fault_log(s, e->action, true, "kill %s (SIGKILL to its process group)", n->name);
        }
        return;
    case ACT_RESTART:
        apply_restart(s, e);
        return;
    case ACT_PAUSE:
        for (uint32_t i = 0; i < e->node_count; i++) {
            struct sim_node *n = &s->nodes[e->nodes[i]];
            if (n->down || n->paused) {
                fault_log(s, e->action, false, "pause %s: %s", n->name,
                          n->down ? "down" : "already paused");
                continue;
            }
            n->paused = true;
            proc_signal(&n->proc, SIGSTOP);
            s->faults_active |= 1u << FAULT_PAUSE;
            fault_log(s, e->action, true, "pause %s (SIGSTOP)", n->name);
        }
        return;
    case ACT_RESUME: {
        bool any = false;
        for (uint32_t i = 0; i < s->node_count; i++) {
            struct sim_node *n = &s->nodes[i];
            if (!n->paused)
                continue;
            n->paused = false;
            any = true;
            proc_signal(&n->proc, SIGCONT);
            fault_log(s, e->action, true, "resume %s (SIGCONT)", n->name);
        }
        if (!any)
            fault_log(s, e->action, true, "resume: no node was paused");
        s->faults_active &= ~(1u << FAULT_PAUSE);
        return;
    }
    case ACT_LOSS:
    case ACT_LOSS_STOP:
        net_set_loss(s->net, e->action == ACT_LOSS ? (uint32_t)(e->probability * 1e6) : 0);
        if (e->action == ACT_LOSS)
            s->faults_active |= 1u << FAULT_LOSS;
        else
            s->faults_active &= ~(1u << FAULT_LOSS);
        fault_log(s, e->action, true, "inter-node message loss %.1f%%",
                  e->action == ACT_LOSS ? e->probability * 100 : 0.0);
        return;
    case ACT_DUPLICATE:
    case ACT_DUPLICATE_STOP:
        net_set_duplicate(s->net,
                          e->action == ACT_DUPLICATE ? (uint32_t)(e->probability * 1e6) : 0);
        if (e->action == ACT_DUPLICATE)
            s->faults_active |= 1u << FAULT_DUPLICATE;
        else
            s->faults_active &= ~(1u << FAULT_DUPLICATE);
        fault_log(s, e->action, true, "inter-node message duplication %.1f%%",
                  e->action == ACT_DUPLICATE ? e->probability * 100 : 0.0);
        return;
    case ACT_COUNT:
        break;
    }
    ASSERT(!"unknown fault action");
}

static void arm_nemesis(struct sim *s)
{
    if (s->plan_next >= s->plan.len || s->stopping)
        return;
    double at = s->plan.events[s->plan_next].at_s - (double)s->now_ns / 1e9;
    ev_timer_set(&s->nemesis_timer, at > 0 ? at : 0, 0);
    ev_timer_start(s->loop, &s->nemesis_timer);
}

static void nemesis_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct sim *s = container_of(w, struct sim, nemesis_timer);
    sim_update_now(s);
    while (s->plan_next < s->plan.len &&
           s->plan.events[s->plan_next].at_s * 1e9 <= (double)s->now_ns && !s->stopping &&
           !s->exit_code)
        apply_event(s, &s->plan.events[s->plan_next++]);
    arm_nemesis(s);
}

/* Everything heals at the end of the client phase: partitions, clocks, pauses, loss and
 * duplication; killed nodes are started again. */
static void heal_all(struct sim *s)
{
    if (!s->faults_active)
        return;
    static const enum fault_action heals[] = {ACT_HEAL, ACT_RESUME, ACT_LOSS_STOP,
                                              ACT_DUPLICATE_STOP};
    for (size_t i = 0; i < ARRAY_LEN(heals); i++) {
        enum fault_kind k = fault_action_kind(heals[i]);
        if (s->faults_active & (1u << k))
            apply_event(s, &(struct fault_event){.action = heals[i]});
    }
    if (s->faults_active & (1u << FAULT_CLOCK)) {
        int64_t now = clockctl_real_now_ns();
        for (uint32_t i = 0; i < s->node_count; i++) {
            struct sim_node *n = &s->nodes[i];
            if (n->clock) {
                clockctl_reset(n->clock, now);
                clock_sample(s, n);
            }
        }
        s->faults_active &= ~(1u << FAULT_CLOCK);
        fault_log(s, ACT_CLOCK_RESET, true, "every clock reset to the real time");
    }
    if (s->faults_active & (1u << FAULT_KILL))
        apply_event(s, &(struct fault_event){.action = ACT_RESTART});
}

/* ==== Clock samples ==== */

static void clock_sample(struct sim *s, struct sim_node *n)
{
    report_clock_sample(s, n->index, s->now_ns,
                        n->clock ? clockctl_offset_at(n->clock, clockctl_real_now_ns()) : 0);
}

/* ==== Nodes ==== */

static const char *resolved_bin; /* --bin made absolute, as Maelstrom canonicalises it */

static void node_exit_cb(struct proc *p, int status)
{
    struct sim *s = p->ctx;
    struct sim_node *n = &s->nodes[p->index];
    sim_update_now(s);
    proc_release(p);
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

static const char *const *node_env(struct sim *s, struct sim_node *n, char *buf, size_t cap)
{
    static const char *env[4];
    if (!n->clock || !s->clock_lib) {
        env[0] = NULL;
        return env;
    }
    /* LD_PRELOAD keeps whatever the user preloads; ASan must not insist on coming first. */
    const char *pre = getenv("LD_PRELOAD");
    const char *asan = getenv("ASAN_OPTIONS");
    char path[300];
    snprintf(path, sizeof(path), "%s/%u.clk", s->clock_dir, n->index);
    int a = snprintf(buf, cap, "LD_PRELOAD=%s%s%s", s->clock_lib, pre && *pre ? ":" : "",
                     pre ? pre : "");
    int b = snprintf(buf + a + 1, cap - (size_t)a - 1, "%s=%s", CLOCKCTL_ENV, path);
    snprintf(buf + a + b + 2, cap - (size_t)(a + b) - 2,
             "ASAN_OPTIONS=verify_asan_link_order=0%s%s", asan && *asan ? ":" : "",
             asan ? asan : "");
    env[0] = buf;
    env[1] = buf + a + 1;
    env[2] = buf + a + b + 2;
    env[3] = NULL;
    return env;
}

static void spawn_node(struct sim *s, struct sim_node *n)
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
    int rc = proc_spawn(&n->proc, s->loop,
                        &(struct proc_spawn_opts){
                            .path = resolved_bin,
                            .argv = argv,
                            .env_extra = node_env(s, n, envbuf, sizeof(envbuf)),
                            .cwd = tmp && *tmp ? tmp : "/tmp",
                            .log_path = log_path,
                            .pipe_bytes = s->node_count <= 16 ? (1u << 20) : 0,
                        },
                        err, sizeof(err));
    if (rc < 0) {
        sim_crash(s, "%s", err);
        return;
    }
    n->pids[n->pid_count++ % ARRAY_LEN(n->pids)] = n->proc.pid;
}

void sim_node_initialised(struct sim *s, struct sim_node *n)
{
    n->initialised = true;
    s->clients[n->init_client].open = false; /* Maelstrom closes the init client at once */
    if (n->clock) {
        pid_t pid = 0;
        n->clock_loaded = clockctl_loaded(n->clock, &pid);
        if (!n->clock_loaded && s->init_done)
            fault_log(s, ACT_RESTART, false,
                      "%s restarted without libeddyclock.so: clock faults cannot reach it",
                      n->name);
        if (s->init_done)
            clock_sample(s, n); /* the first samples are taken when the client phase starts */
    }
    if (s->init_done)
        return;
    for (uint32_t i = 0; i < s->node_count; i++)
        if (!s->nodes[i].initialised)
            return;
    /* Every node answered: Jepsen's setup clients come next (one per node, idle, closed), then
     * the client phase, whose clock starts now. */
    for (uint32_t i = 0; i < s->node_count; i++) {
        int64_t k = traffic_open_client(s, i, -1);
        s->clients[k].open = false;
    }
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
    for (uint32_t i = 0; i < s->node_count; i++)
        clock_sample(s, &s->nodes[i]);
    arm_nemesis(s);
    if (s->cfg->rate_max || s->cfg->rate > 0)
        traffic_issue_ops(s);
}

/* ==== Watchers ==== */

static void flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct proc *p = proc_take_dirty();
    while (p) {
        struct proc *next = p->next_dirty;
        proc_flush(p);
        p = next;
    }
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
    heal_all(s);
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

static void setup_clock(struct sim *s)
{
    s->clock_lib = store_find_clock_lib();
    if (!s->clock_lib) {
        fprintf(stderr,
                "eddy: warning: %s not found next to eddy (or in $EDDY_CLOCK_LIB): clock "
                "faults will be reported as not applied\n",
                CLOCKCTL_LIB_NAME);
        return;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(s->clock_dir, sizeof(s->clock_dir), "%s/eddy-clock-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s->clock_dir)) {
        fprintf(stderr, "eddy: warning: cannot create a private directory for clock control: %s\n",
                strerror(errno));
        s->clock_dir[0] = '\0';
        return;
    }
    for (uint32_t i = 0; i < s->node_count; i++) {
        char path[300];
        snprintf(path, sizeof(path), "%s/%u.clk", s->clock_dir, i);
        if (clockctl_create(path, &s->nodes[i].clock) < 0)
            s->nodes[i].clock = NULL;
    }
}

static void cleanup_clock(struct sim *s)
{
    if (!s->clock_dir[0])
        return;
    for (uint32_t i = 0; i < s->node_count; i++) {
        char path[300];
        snprintf(path, sizeof(path), "%s/%u.clk", s->clock_dir, i);
        if (s->nodes[i].clock)
            clockctl_destroy(s->nodes[i].clock, path);
        s->nodes[i].clock = NULL;
    }
    rmdir(s->clock_dir);
}

static void build_plan(struct sim *s, const struct nemesis_plan *scenario)
{
    const struct config *c = s->cfg;
    nemesis_plan_init(&s->plan);
    for (size_t i = 0; scenario && i < scenario->len; i++) {
        struct fault_event e = scenario->events[i];
        if (e.node_count) {
            e.nodes = xmalloc(e.node_count * sizeof(uint32_t));
            memcpy(e.nodes, scenario->events[i].nodes, e.node_count * sizeof(uint32_t));
        } else {
            e.nodes = NULL;
        }
        e.target_names = NULL; /* resolved already; the scenario keeps its own copy */
        nemesis_plan_add(&s->plan, &e);
    }
    struct nemesis_opts o = {
        .node_count = s->node_count,
        .time_limit_s = c->time_limit_s,
        .interval_s = c->nemesis_interval_s,
        .kinds = c->nemesis,
        .shapes = c->partition_shapes ? c->partition_shapes : SHAPES_MAELSTROM,
        .restart_modes = c->restart_modes ? c->restart_modes : 1u << RESTART_CLOCK_NOW,
        .seed = c->seed,
        .weighted_interval_s = c->weighted_interval_s,
        .weighted_from_s = c->weighted_from_s,
        .weighted_until_s = c->weighted_until_s,
    };
    memcpy(o.weights, c->weights, sizeof(o.weights));
    nemesis_plan_random(&s->plan, &o);
}

static uint64_t random_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
        seed = (uint64_t)mono_ns();
    return seed % 1000000000000ull; /* short enough to type */
}

static void sim_free(struct sim *s)
{
    for (uint32_t i = 0; s->nodes && i < s->node_count; i++) {
        proc_release(&s->nodes[i].proc);
        proc_fini(&s->nodes[i].proc);
        buf_fini(&s->nodes[i].down_q);
        free(s->nodes[i].name_json);
    }
    cleanup_clock(s);
    free(s->nodes);
    free(s->node_map);
    free(s->clients);
    free(s->workers);
    free(s->free_workers);
    net_free(s->net);
    checkq_finish(s->checkq);
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
    if (!cfg->seed_given)
        cfg->seed = random_seed();

    proc_become_subreaper();
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
    check_init(s->check, cfg->workload, cfg->time_limit_s);
    s->checkq = checkq_new(s->check);
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
    build_plan(s, scenario_events);
    for (size_t i = 0; i < s->plan.len; i++) {
        enum fault_action a = s->plan.events[i].action;
        s->clock_needed |= fault_action_kind(a) == FAULT_CLOCK ||
                           (a == ACT_RESTART && s->plan.events[i].restart != RESTART_CLOCK_NOW);
    }
    if (s->clock_needed)
        setup_clock(s);

    if (history_open(&s->hist, cfg->history ? store_path(s, "history.jsonl") : NULL) < 0) {
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
    ev_init(&s->nemesis_timer, nemesis_cb);
    ev_init(&s->limit_timer, limit_cb);
    ev_init(&s->teardown_timer, teardown_cb);
    ev_timer_init(&s->init_timer, init_cb, 0.05, 0.05);
    ev_timer_start(s->loop, &s->init_timer);
    ev_signal_init(&s->sigint_w, signal_cb, SIGINT);
    ev_signal_init(&s->sigterm_w, signal_cb, SIGTERM);
    s->sigint_w.data = s->sigterm_w.data = s;
    ev_signal_start(s->loop, &s->sigint_w);
    ev_signal_start(s->loop, &s->sigterm_w);
    if (cfg->progress && isatty(STDERR_FILENO)) {
        ev_timer_init(&s->progress_timer, progress_cb, 0.25, 0.25);
        ev_timer_start(s->loop, &s->progress_timer);
    }

    for (uint32_t i = 0; i < s->node_count && !s->exit_code; i++)
        spawn_node(s, &s->nodes[i]);
    for (uint32_t i = 0; i < s->node_count && !s->exit_code; i++)
        traffic_send_init(s, &s->nodes[i]);

    ev_run(s->loop, 0);

    ev_check_stop(s->loop, &reap_check);
    ev_prepare_stop(s->loop, &s->flush_w);
    ev_signal_stop(s->loop, &s->sigint_w);
    ev_signal_stop(s->loop, &s->sigterm_w);
    ev_timer_stop(s->loop, &s->teardown_timer);
    ev_timer_stop(s->loop, &s->init_timer);
    if (!all_reaped(s))
        proc_kill_all_emergency();
    s->orphans_killed = proc_kill_orphans();
    report_progress(s, true);
    checkq_finish(s->checkq);
    s->checkq = NULL;
    history_close(&s->hist);
    int code = report_write(s);
    sim_free(s);
    free(s);
    return code;
}
