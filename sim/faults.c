/*
 * faults.c: the nemesis of a run: applying each fault as its time comes, healing.
 *
 * The plan (nemesis.c) decides what happens when; this file does it to real processes and
 * clocks and records what it did, one fault_record per event and node, with `applied` false
 * and the reason whenever it could not: a clock fault that cannot reach a node (no route to its
 * clock: those are marked unreached, which makes the verdict unknown), a kill of a node already
 * down. Nothing is reported as injected that was not.
 * Depends on: sim, nemesis, grudge, net, proc, clockroute, clockctl, traffic, history, utf8.
 * Used by: run.
 */
#include "clockroute.h"
#include "sim.h"
#include "store.h"
#include "utf8.h"
#include "eddy/alloc.h"
#include "eddy/clockctl.h"
#include "eddy/json.h"
#include "eddy/util.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ==== Faults ==== */

__attribute__((format(printf, 5, 0))) static void faults_vlog(struct sim *s, enum fault_action a,
                                                              bool applied, int32_t unreached_node,
                                                              const char *fmt, va_list ap)
{
    if (s->fault_log_len >= FAULT_LOG_MAX)
        return;
    struct fault_record *r = &s->fault_log[s->fault_log_len++];
    r->time_ns = s->now_ns;
    r->action = a;
    r->applied = applied;
    r->timeline = s->fault_timeline;
    r->unreached = unreached_node >= 0;
    r->node = unreached_node;
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    /* Cut where a character ends, never inside one (node names may be any UTF-8). */
    r->detail[utf8_prefix(r->detail, strlen(r->detail), sizeof(r->detail) - 1)] = '\0';
    char value[600];
    size_t n = json_escape(value, r->detail, utf8_prefix(r->detail, strlen(r->detail), 90));
    if (!applied) {
        /* Say plainly in the history that nothing was injected. */
        char tmp[700];
        int k = snprintf(tmp, sizeof(tmp), "{\"applied\":false,\"detail\":%.*s}", (int)n, value);
        history_nemesis(&s->hist, s->now_ns, fault_action_name(a), tmp, (size_t)k);
        return;
    }
    history_nemesis(&s->hist, s->now_ns, fault_action_name(a), value, n);
}

void faults_log(struct sim *s, enum fault_action a, bool applied, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    faults_vlog(s, a, applied, -1, fmt, ap);
    va_end(ap);
}

void faults_log_unreached(struct sim *s, enum fault_action a, uint32_t node, const char *fmt, ...)
{
    ASSERT(node < s->node_count);
    va_list ap;
    va_start(ap, fmt);
    faults_vlog(s, a, false, (int32_t)node, fmt, ap);
    va_end(ap);
}

enum clock_reach { CLOCK_REACHES, CLOCK_NODE_DOWN, CLOCK_UNREACHED };

/* Whether a clock fault can be applied to n now, and if not, why and whether it ever could. A
 * node that is down, or restarting (its library may not have loaded yet: that is known once it
 * answers init), is a matter of the moment, as a kill of a node already down is. */
static enum clock_reach clock_usable(struct sim *s, struct sim_node *n, char *why, size_t cap)
{
    if (n->down) {
        snprintf(why, cap, "%s is down", n->name);
        return CLOCK_NODE_DOWN;
    }
    if (clockroute_reaches(s, n, why, cap))
        return CLOCK_REACHES;
    if (!n->initialised) {
        snprintf(why, cap, "%s is restarting (its init is not answered yet)", n->name);
        return CLOCK_NODE_DOWN;
    }
    return CLOCK_UNREACHED;
}

/* True when e would set n's clock before 1970, which the clock library can only read as 0: not
 * the fault asked for, so it is refused rather than reported as applied. */
static bool clock_before_epoch(const struct sim_node *n, const struct fault_event *e, int64_t now)
{
    int64_t from = e->action == ACT_CLOCK_SET ? now : clockctl_fake_at(n->clock, now), to;
    if (e->action != ACT_CLOCK_BUMP && e->action != ACT_CLOCK_SET && e->action != ACT_CLOCK_STROBE)
        return false;
    return !__builtin_add_overflow(from, (int64_t)(e->delta_ms * 1e6), &to) && to < 0;
}

static void apply_clock(struct sim *s, const struct fault_event *e)
{
    int64_t now = clockctl_real_now_ns();
    for (uint32_t i = 0; i < e->node_count; i++) {
        struct sim_node *n = &s->nodes[e->nodes[i]];
        char why[300];
        enum clock_reach reach = clock_usable(s, n, why, sizeof(why));
        if (reach == CLOCK_UNREACHED) {
            faults_log_unreached(s, e->action, n->index, "%s not applied: %s",
                                 fault_action_name(e->action), why);
            continue;
        }
        if (reach == CLOCK_NODE_DOWN) {
            faults_log(s, e->action, false, "%s not applied: %s", fault_action_name(e->action),
                       why);
            continue;
        }
        if (clock_before_epoch(n, e, now)) {
            faults_log(s, e->action, false,
                       "%s %s not applied: delta %.3f ms would set its clock before 1970",
                       fault_action_name(e->action), n->name, e->delta_ms);
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
            faults_log(s, e->action, false, "%s on %s refused: %s", fault_action_name(e->action),
                       n->name, strerror(-rc));
            continue;
        }
        s->faults_active |= 1u << FAULT_CLOCK;
        faults_log(s, e->action, true,
                   "%s %s: delta %.3f ms, period %.3f ms, rate %.3f; offset now %.3f ms",
                   fault_action_name(e->action), n->name, e->delta_ms, e->period_ms,
                   e->action == ACT_CLOCK_DRIFT ? e->rate : 1.0,
                   (double)clockctl_offset_at(n->clock, now) / 1e6);
        faults_clock_sample(s, n);
    }
}

/* Starts a killed node again, its old process reaped: a new process with the same node id,
 * its clock set as `mode` says, sent init and nothing else until init_ok. */
static void restart_node(struct sim *s, struct sim_node *n, enum restart_clock mode,
                         double behind_ms)
{
    int64_t now = clockctl_real_now_ns();
    char clock_note[160] = "";
    if (mode != RESTART_CLOCK_NOW) {
        if (n->clock) {
            int64_t target = n->start_fake_ns;
            if (mode == RESTART_CLOCK_BEHIND)
                target -= (int64_t)(behind_ms * 1e6);
            int rc = target < 0 ? -ERANGE : clockctl_set_fake(n->clock, now, target);
            if (rc < 0)
                faults_log(s, ACT_RESTART, false,
                           "restart %s into the past not applied: %.3f ms behind %s", n->name,
                           behind_ms,
                           target < 0 ? "would set its clock before 1970" : strerror(-rc));
            else
                snprintf(clock_note, sizeof(clock_note), ", clock %s: starts %.3f s behind now",
                         restart_clock_name(mode),
                         (double)(now - clockctl_fake_at(n->clock, now)) / 1e9);
        } else {
            faults_log_unreached(s, ACT_RESTART, n->index,
                                 "restart %s into the past not applied: no clock control for %s",
                                 n->name, n->name);
        }
    }
    n->down = false;
    n->restart_pending = false;
    n->incarnation++;
    report_incarnation_start(s, n, mode, behind_ms,
                             mode == RESTART_CLOCK_NOW || (n->clock && clock_note[0]));
    sim_spawn_node(s, n);
    if (n->proc.running) {
        /* init, and nothing else until init_ok: what piled up while the node was down (as
         * Maelstrom keeps a dead node's queue) and what comes meanwhile waits in down_q, as at
         * the start of a run, when no client speaks before every node's init_ok. A runtime that
         * handles each message in a goroutine, init included (Maelstrom's Go library), would
         * otherwise answer a request before init has set its node id. */
        n->held = true;
        traffic_send_init(s, n);
    }
    faults_log(s, ACT_RESTART, n->proc.running, "restart %s (incarnation %u)%s", n->name,
               n->incarnation, clock_note);
}

static void update_kill_active(struct sim *s)
{
    bool still_down = false;
    for (uint32_t i = 0; i < s->node_count; i++)
        still_down |= s->nodes[i].down;
    if (!still_down)
        s->faults_active &= ~(1u << FAULT_KILL);
}

static void apply_restart(struct sim *s, const struct fault_event *e)
{
    bool any = false;
    for (uint32_t i = 0; i < s->node_count; i++) {
        struct sim_node *n = &s->nodes[i];
        if (!n->down)
            continue;
        any = true;
        if (n->proc.running) {
            /* SIGKILLed but not reaped yet (a loaded machine): the restart happens as soon as
             * the old process is gone, with this event's settings (faults_restart_reaped). */
            n->restart_pending = true;
            n->restart_mode = e->restart;
            n->restart_behind_ms = e->behind_ms;
            n->restart_timeline = s->fault_timeline;
            continue;
        }
        restart_node(s, n, e->restart, e->behind_ms);
    }
    if (!any)
        faults_log(s, e->action, true, "start: no node was down");
    update_kill_active(s);
}

void faults_restart_reaped(struct sim *s, struct sim_node *n)
{
    ASSERT(n->down && n->restart_pending && !n->proc.running);
    uint32_t saved = s->fault_timeline;
    s->fault_timeline = n->restart_timeline; /* the record belongs to the event that asked */
    restart_node(s, n, n->restart_mode, n->restart_behind_ms);
    s->fault_timeline = saved;
    update_kill_active(s);
}

static void apply_event(struct sim *s, const struct fault_event *e)
{
    if (fault_action_targeted(e->action) && e->node_count == 0) {
        /* A spec that picks nobody here (a random kill's "minority" of one node): say so
         * rather than do nothing silently. */
        faults_log(s, e->action, false, "%s not applied: \"%s\" picks no node among %u",
                   fault_action_name(e->action), target_spec_name(e->target), s->node_count);
        return;
    }
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
        faults_log(s, e->action, true, "%s: %s", partition_shape_name(e->shape), s->partition_desc);
        return;
    }
    case ACT_HEAL:
        grudge_clear(net_grudge(s->net));
        snprintf(s->partition_desc, sizeof(s->partition_desc), "none");
        s->faults_active &= ~(1u << FAULT_PARTITION);
        faults_log(s, e->action, true, "network healed");
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
                faults_log(s, e->action, false, "kill %s: already down", n->name);
                continue;
            }
            proc_signal(&n->proc, SIGKILL);
            if (n->init_pending) {
                /* Killed before its init_ok: its stdin queue holds at most that init, which dies
                 * with its init client; the held messages stay in down_q. */
                s->clients[n->init_client].open = false;
                s->clients[n->init_client].awaiting = 0;
            } else if (buf_append(&n->down_q, buf_peek(&n->proc.in_q), buf_len(&n->proc.in_q)) <
                       0) {
                /* What was queued but not yet written is kept for the next incarnation; what
                 * the process had read died with it. */
                n->stdin_drops++;
            }
            buf_clear(&n->proc.in_q);
            n->down = true;
            n->held = false;
            n->init_pending = false;
            n->initialised = false;
            traffic_fail_node_ops(s, n->index, "the node was killed; its reply can never come");
            s->faults_active |= 1u << FAULT_KILL;
            faults_log(s, e->action, true, "kill %s (SIGKILL to its process group)", n->name);
        }
        return;
    case ACT_RESTART:
        apply_restart(s, e);
        return;
    case ACT_PAUSE:
        for (uint32_t i = 0; i < e->node_count; i++) {
            struct sim_node *n = &s->nodes[e->nodes[i]];
            if (n->down || n->paused) {
                faults_log(s, e->action, false, "pause %s: %s", n->name,
                           n->down ? "down" : "already paused");
                continue;
            }
            n->paused = true;
            proc_signal(&n->proc, SIGSTOP);
            s->faults_active |= 1u << FAULT_PAUSE;
            faults_log(s, e->action, true, "pause %s (SIGSTOP)", n->name);
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
            faults_log(s, e->action, true, "resume %s (SIGCONT)", n->name);
        }
        if (!any)
            faults_log(s, e->action, true, "resume: no node was paused");
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
        faults_log(s, e->action, true, "inter-node message loss %.1f%%",
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
        faults_log(s, e->action, true, "inter-node message duplication %.1f%%",
                   e->action == ACT_DUPLICATE ? e->probability * 100 : 0.0);
        return;
    case ACT_COUNT:
        break;
    }
    ASSERT(!"unknown fault action");
}

void faults_arm(struct sim *s)
{
    if (s->plan_next >= s->plan.len || s->stopping)
        return;
    double at = s->plan.events[s->plan_next].at_s - (double)s->now_ns / 1e9;
    ev_timer_set(&s->nemesis_timer, at > 0 ? at : 0, 0);
    ev_timer_start(s->loop, &s->nemesis_timer);
}

void faults_nemesis_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct sim *s = container_of(w, struct sim, nemesis_timer);
    sim_update_now(s);
    while (s->plan_next < s->plan.len &&
           s->plan.events[s->plan_next].at_s * 1e9 <= (double)s->now_ns && !s->stopping &&
           !s->exit_code) {
        const struct fault_event *e = &s->plan.events[s->plan_next++];
        traffic_thread_turn(s); /* a nemesis op takes a turn of Jepsen's rotation too */
        s->fault_timeline = e->timeline;
        apply_event(s, e);
        s->fault_timeline = 0;
    }
    faults_arm(s);
}

/* Everything heals once the client phase is over and its last op has completed: partitions,
 * clocks, pauses, loss and duplication; killed nodes are started again. */
void faults_heal_all(struct sim *s)
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
                faults_clock_sample(s, n);
            }
        }
        s->faults_active &= ~(1u << FAULT_CLOCK);
        faults_log(s, ACT_CLOCK_RESET, true, "every clock reset to the real time");
    }
    if (s->faults_active & (1u << FAULT_KILL))
        apply_event(s, &(struct fault_event){.action = ACT_RESTART});
}

/* ==== Faults that could not reach a node ==== */

/* The kind an unreached record speaks for: a restart's clock (behind, replay) is a clock fault. */
static enum fault_kind unreached_kind(const struct fault_record *r)
{
    return r->action == ACT_RESTART ? FAULT_CLOCK : fault_action_kind(r->action);
}

size_t faults_unreached(const struct sim *s, char *reason, size_t cap)
{
    size_t count = 0, at = 0;
    reason[0] = '\0';
    bool *seen = xcalloc(s->node_count ? s->node_count : 1, sizeof(bool));
    for (int k = 0; k < FAULT_KIND_COUNT; k++) {
        uint32_t nodes = 0;
        const struct fault_record *first = NULL;
        memset(seen, 0, s->node_count * sizeof(bool));
        for (size_t i = 0; i < s->fault_log_len; i++) {
            const struct fault_record *r = &s->fault_log[i];
            if (!r->unreached || unreached_kind(r) != (enum fault_kind)k)
                continue;
            count++;
            first = first ? first : r;
            if (r->node >= 0 && (uint32_t)r->node < s->node_count && !seen[r->node]) {
                seen[r->node] = true;
                nodes++;
            }
        }
        if (!first)
            continue;
        int n = snprintf(reason + at, cap - at, "%s%s faults could not reach %u of %u node%s (",
                         at ? "; " : "", fault_kind_name((enum fault_kind)k), nodes, s->node_count,
                         s->node_count == 1 ? "" : "s");
        at += n > 0 ? (size_t)n : 0;
        uint32_t listed = 0;
        for (uint32_t i = 0; i < s->node_count && at < cap; i++) {
            if (!seen[i])
                continue;
            if (listed++ == 6) {
                n = snprintf(reason + at, cap - at, ", ...");
                at += n > 0 ? (size_t)n : 0;
                break;
            }
            n = snprintf(reason + at, cap - at, "%s%s", listed > 1 ? ", " : "", s->nodes[i].name);
            at += n > 0 ? (size_t)n : 0;
        }
        n = snprintf(reason + at, cap - at, "): %s", first->detail);
        at += n > 0 ? (size_t)n : 0;
        if (at >= cap)
            at = cap - 1;
    }
    free(seen);
    return count;
}

/* ==== Clock samples ==== */

void faults_clock_sample(struct sim *s, struct sim_node *n)
{
    report_clock_sample(s, n->index, s->now_ns,
                        n->clock ? clockctl_offset_at(n->clock, clockctl_real_now_ns()) : 0);
}

/* ==== Set-up ==== */

void faults_setup_clock(struct sim *s)
{
    s->clock_lib = store_find_clock_lib();
    if (!s->clock_lib && s->cfg->clock_via != CLOCK_VIA_SYSCALL)
        fprintf(stderr,
                "eddy: warning: %s not found next to eddy (or in $EDDY_CLOCK_LIB): clock "
                "faults reach only the nodes on the system-call route\n",
                CLOCKCTL_LIB_NAME);
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
        if (clockctl_create(path, &s->nodes[i].clock) < 0) {
            s->nodes[i].clock = NULL;
            continue;
        }
        if (s->cfg->clock_monotonic)
            clockctl_set_monotonic(s->nodes[i].clock, true);
    }
}

void faults_cleanup_clock(struct sim *s)
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
