/*
 * traffic.c: every message of a run: node output, routing, clients, workers and ops.
 *
 * Each line a node prints is checked as Maelstrom checks it (JSON, closed envelope, registered
 * src and dest, closed reply schema, in_reply_to matching the awaited request) and then routed:
 * to another node through the net, or to a client, where it completes an op. Where Maelstrom
 * would stop reading the node (its stdout thread dies on the exception), eddy reports the line,
 * mutes the node the same way and marks the run invalid; where Maelstrom's client would throw or
 * silently discard, eddy does the same and says so.
 * The common path (a worker's request out, its reply in) allocates nothing: requests are
 * formatted straight into the node's stdin queue, replies are slices of the read buffer, and the
 * history line is formatted into the history's buffer.
 * Depends on: sim, proc, net, check, history, msg, json, utf8. Used by: run.
 */
#include "sim.h"
#include "utf8.h"
#include "validate.h"
#include "eddy/alloc.h"
#include "eddy/errors.h"
#include "eddy/json.h"
#include "eddy/out.h"
#include "eddy/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== Violations ==== */

static const char *const consequences[] = {
    [VIOLATION_MUTE] = "Maelstrom's reader for this node throws here and never reads its stdout "
                       "again: every later reply is lost",
    [VIOLATION_RPC] = "Maelstrom's client throws malformed-rpc-response: the op is recorded as "
                      "info with an exception",
    [VIOLATION_DROP] = "Maelstrom's client discards the reply silently: the op times out",
    [VIOLATION_WARNING] = "Maelstrom accepts this line, but it is almost certainly a mistake",
};

static const char early_reply_diagnosis[] =
    "this node answered a request before its init_ok: it handled the request before init had "
    "given it its node id, which a runtime that handles every message in a goroutine, init "
    "included (Maelstrom's Go library), does when a request arrives right behind init";
static const char early_line_diagnosis[] =
    "this node wrote the line before its init_ok, while its node id was not set yet";

/* What to say about a line that a node wrote before answering init. Re-parses the line: this
 * path runs once per violation, never per message. */
static const char *diagnose(const struct sim_node *n, const char *line, size_t len)
{
    if (!n->init_pending)
        return NULL;
    struct msg m;
    struct json_err e = {0};
    if (line && msg_parse(line, len, &m, &e) >= 0 && m.f[MSG_IN_REPLY_TO].type != JSON_NONE)
        return early_reply_diagnosis;
    return early_line_diagnosis;
}

void traffic_violation(struct sim *s, struct sim_node *n, enum violation_class cls,
                       const char *line, size_t len, const char *fmt, ...)
{
    s->violation_counts[cls]++;
    n->violations++;
    if (cls == VIOLATION_MUTE)
        n->muted = true;
    if (s->violations_kept < VIOLATIONS_KEPT) {
        struct violation *v = &s->violations[s->violations_kept++];
        v->node = n->index;
        v->cls = cls;
        v->line_no = n->proc.stdout_lines;
        v->time_ns = s->now_ns;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
        va_end(ap);
        size_t k = line ? utf8_prefix(line, len, sizeof(v->line) - 1) : 0;
        if (k)
            memcpy(v->line, line, k);
        v->line[k] = '\0';
        v->line_kept = k;
        v->line_len = line ? len : 0;
        v->before_init_ok = n->init_pending;
        v->diagnosis = diagnose(n, line, len);
        /* The first violation of each node is also said at once: it is usually the bug. */
        if (n->violations == 1) {
            char shown[utf8_repaired_max(sizeof(v->line))];
            size_t k2 = utf8_repair(shown, v->line, utf8_prefix(v->line, k, 200), true);
            fprintf(stderr, "eddy: %s%s, stdout line %llu: %s\n  line: %.*s%s\n  %s%s%s\n",
                    s->cfg->strict ? "" : "warning: ", n->name, (unsigned long long)v->line_no,
                    v->reason, (int)k2, shown, len > 200 ? "..." : "",
                    v->diagnosis ? v->diagnosis : "", v->diagnosis ? "\n  " : "",
                    consequences[cls]);
        }
    }
    /* A violation is an anomaly of the run only when the verdict counts it (--strict). */
    if (cls != VIOLATION_WARNING && s->cfg->strict)
        sim_fail_fast(s, "a protocol violation by %s (stdout line %llu)", n->name,
                      (unsigned long long)n->proc.stdout_lines);
}

const char *traffic_consequence(enum violation_class cls)
{
    return consequences[cls];
}

/* ==== Endpoints ==== */

enum ep_kind {
    EP_UNKNOWN,
    EP_NODE,
    EP_CLIENT,
    EP_SERVICE,
};

static const char *const services[] = {"lin-kv", "seq-kv", "lww-kv", "lin-tso"};

static uint64_t name_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    return h;
}

static bool looks_like_client(const char *name, size_t n)
{
    if (n < 2 || name[0] != 'c' || (n > 2 && name[1] == '0'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (name[i] < '0' || name[i] > '9')
            return false;
    return true;
}

void traffic_build_node_map(struct sim *s)
{
    uint32_t cap = 16;
    while (cap < s->node_count * 2)
        cap *= 2;
    s->node_map = xcalloc(cap, sizeof(uint32_t));
    s->node_map_cap = cap;
    for (uint32_t i = 0; i < s->node_count; i++) {
        const char *name = s->nodes[i].name;
        size_t n = strlen(name);
        uint32_t j = (uint32_t)name_hash(name, n) & (cap - 1);
        while (s->node_map[j])
            j = (j + 1) & (cap - 1);
        s->node_map[j] = i + 1;
        s->client_named_nodes |= looks_like_client(name, n);
    }
}

static bool find_node(const struct sim *s, const char *name, size_t n, uint32_t *index)
{
    uint32_t j = (uint32_t)name_hash(name, n) & (s->node_map_cap - 1);
    while (s->node_map[j]) {
        const char *cand = s->nodes[s->node_map[j] - 1].name;
        if (strlen(cand) == n && memcmp(cand, name, n) == 0) {
            *index = s->node_map[j] - 1;
            return true;
        }
        j = (j + 1) & (s->node_map_cap - 1);
    }
    return false;
}

/* Resolves a src or dest string. A node may be named like a client (Maelstrom would then
 * misclassify it); eddy gives the node precedence. */
static enum ep_kind endpoint(const struct sim *s, const struct json_val *v, uint32_t *index)
{
    char name[256];
    ssize_t n = json_str_decode(v, name, sizeof(name));
    if (n < 0)
        return EP_UNKNOWN;
    if (looks_like_client(name, (size_t)n) &&
        !(s->client_named_nodes && find_node(s, name, (size_t)n, index))) {
        uint64_t k = 0;
        for (ssize_t i = 1; i < n && k <= UINT32_MAX; i++)
            k = k * 10 + (uint64_t)(name[i] - '0');
        if (k >= s->client_count)
            return EP_UNKNOWN;
        *index = (uint32_t)k;
        return EP_CLIENT;
    }
    if (find_node(s, name, (size_t)n, index))
        return EP_NODE;
    for (uint32_t i = 0; i < ARRAY_LEN(services); i++) {
        if (strlen(services[i]) == (size_t)n && memcmp(services[i], name, (size_t)n) == 0) {
            *index = i;
            return EP_SERVICE;
        }
    }
    return EP_UNKNOWN;
}

int64_t traffic_open_client(struct sim *s, uint32_t node, int32_t worker)
{
    if (s->client_count == s->client_cap) {
        s->client_cap = s->client_cap ? s->client_cap * 2 : 256;
        s->clients = xrealloc(s->clients, s->client_cap * sizeof(*s->clients));
    }
    uint32_t k = s->client_count++;
    s->clients[k] = (struct client){.node = node, .worker = worker, .open = true};
    return k;
}

/* ==== The Lamport diagram's record ==== */

static uint32_t record_message(struct sim *s, uint32_t src, uint32_t dest, const struct msg *m)
{
    if (s->messages_len >= MESSAGES_KEPT)
        return UINT32_MAX;
    uint32_t i = s->messages_len++;
    s->messages[i].send_ns = s->now_ns;
    s->messages[i].recv_ns = -1;
    s->messages[i].src = src;
    s->messages[i].dest = dest;
    s->messages[i].dropped = false;
    const struct json_val *type = &m->f[MSG_TYPE];
    ssize_t k = type->type != JSON_STRING
                    ? 0
                    : json_str_decode(type, s->messages[i].type, sizeof(s->messages[i].type) - 1);
    s->messages[i].type[k < 0 ? 0 : k] = '\0';
    return i;
}

static void record_delivery(struct sim *s, uint32_t tag, bool dropped)
{
    if (tag < s->messages_len) {
        s->messages[tag].recv_ns = s->now_ns;
        s->messages[tag].dropped = dropped;
    }
}

/* ==== Requests to nodes ==== */

/* Starts {"id":N,"src":"cK","dest":NODE,"body": */
static void put_client_envelope(struct out *o, uint64_t net_id, uint64_t client,
                                const struct sim_node *n)
{
    OUT_LIT(o, "{\"id\":");
    out_u64(o, net_id);
    OUT_LIT(o, ",\"src\":\"c");
    out_u64(o, client);
    OUT_LIT(o, "\",\"dest\":");
    out_put(o, n->name_json, n->name_json_len);
    OUT_LIT(o, ",\"body\":");
}

static void count_client_message(struct sim *s, bool delivered)
{
    s->net_all.send++;
    s->net_all.msgs++;
    s->net_clients.send++;
    s->net_clients.msgs++;
    if (delivered) {
        s->net_all.recv++;
        s->net_clients.recv++;
    }
}

static void log_net(struct sim *s, bool send, const char *line, size_t len)
{
    if (send ? s->cfg->log_net_send : s->cfg->log_net_recv)
        fprintf(stderr, "eddy: %s %.*s\n", send ? ":send" : ":recv",
                (int)(len && line[len - 1] == '\n' ? len - 1 : len), line);
}

void traffic_send_init(struct sim *s, struct sim_node *n)
{
    int64_t k = traffic_open_client(s, n->index, -1);
    struct client *c = &s->clients[k];
    c->last_msg_id = 1;
    c->awaiting = 1;
    n->init_client = (uint32_t)k;
    n->init_pending = true;
    n->init_deadline_ns = sim_clock_ns(s) + (int64_t)(s->cfg->init_timeout_ms * 1e6);
    size_t ids_len = 2;
    for (uint32_t i = 0; i < s->node_count; i++)
        ids_len += s->nodes[i].name_json_len + 1;
    size_t need = 160 + 2 * n->name_json_len + ids_len;
    char *dst = proc_reserve(&n->proc, need);
    if (!dst) {
        n->stdin_drops++;
        return; /* the init deadline will report it */
    }
    struct out o = {.p = dst};
    put_client_envelope(&o, s->next_net_id++, (uint64_t)k, n);
    OUT_LIT(&o, "{\"type\":\"init\",\"node_id\":");
    out_put(&o, n->name_json, n->name_json_len);
    OUT_LIT(&o, ",\"node_ids\":[");
    for (uint32_t i = 0; i < s->node_count; i++) {
        if (i)
            OUT_LIT(&o, ",");
        out_put(&o, s->nodes[i].name_json, s->nodes[i].name_json_len);
    }
    OUT_LIT(&o, "],\"msg_id\":1}}\n");
    ASSERT(o.n <= need);
    log_net(s, true, dst, o.n);
    proc_commit(&n->proc, o.n);
    count_client_message(s, true);
}

/* ==== Workers ==== */

static void timeout_append(struct sim *s, struct worker *w)
{
    w->next = NULL;
    w->prev = s->timeouts_tail;
    if (s->timeouts_tail)
        s->timeouts_tail->next = w;
    else
        s->timeouts_head = w;
    s->timeouts_tail = w;
    if (!ev_is_active(&s->timeout_timer)) {
        /* Deadlines are in FIFO order (one timeout for all), so the head is the earliest. */
        double at = (double)(s->timeouts_head->deadline_ns - s->now_ns) / 1e9;
        ev_timer_set(&s->timeout_timer, at > 0 ? at : 0, 0);
        ev_timer_start(s->loop, &s->timeout_timer);
    }
}

static void timeout_unlink(struct sim *s, struct worker *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        s->timeouts_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        s->timeouts_tail = w->prev;
    w->prev = w->next = NULL;
}

static void worker_take(struct sim *s, struct worker *w)
{
    ASSERT(!w->busy);
    uint32_t last = s->free_workers[--s->free_count];
    s->free_workers[w->free_pos] = last;
    s->workers[last].free_pos = w->free_pos;
    w->busy = true;
}

/* The invoke's value as JSON text: echo's "Please echo N", generate's null. Returns its length;
 * `out` holds 32 bytes. Completions that are not ok repeat it, as Jepsen's history does. */
static size_t invoke_value(const struct worker *w, char *out)
{
    if (w->f == F_ECHO)
        return (size_t)snprintf(out, 32, "\"Please echo %d\"", w->echo_n);
    memcpy(out, "null", 5);
    return 4;
}

static void issue(struct sim *s, struct worker *w)
{
    worker_take(s, w);
    traffic_thread_turn(s);
    if (w->reopen && w->client >= 0) {
        /* Jepsen's ClientWorker closes a client that is not reusable when an op of a new
         * process arrives (jepsen generator/interpreter.clj): only now, not at the info. */
        s->clients[w->client].open = false;
        w->reopen = false;
    }
    if (w->client < 0 || !s->clients[w->client].open)
        w->client = traffic_open_client(s, w->node, (int32_t)w->index);
    struct client *c = &s->clients[w->client];
    int64_t msg_id = ++c->last_msg_id;
    c->awaiting = msg_id;
    struct sim_node *n = &s->nodes[w->node];
    bool echo = s->cfg->workload == WORKLOAD_ECHO;
    w->f = echo ? F_ECHO : F_GENERATE;
    w->invoke_ns = s->now_ns;
    w->deadline_ns = s->now_ns + (int64_t)(s->cfg->client_timeout_ms * 1e6);
    if (echo)
        w->echo_n = (int)prng_below(&s->workload_rng, 128);
    char value[32];
    size_t value_len = invoke_value(w, value);
    history_op(&s->hist, &(struct op_rec){
                             .time_ns = s->now_ns,
                             .process = w->process,
                             .type = OP_INVOKE,
                             .f = w->f,
                             .value = value,
                             .value_len = value_len,
                             .node = n->name_json,
                             .node_len = n->name_json_len,
                             .client = (uint32_t)w->client,
                         });
    check_invoke(s->check);
    n->ops++;
    s->in_flight++;
    timeout_append(s, w);

    uint64_t net_id = s->next_net_id++;
    size_t need = 128 + n->name_json_len + value_len;
    /* A node that is down keeps its queue, as in Maelstrom's kill fault: the request waits for
     * the next incarnation (and the op times out if that takes too long). A node whose receiver
     * sleeps on a delayed message gets the request after it, as Maelstrom's recv! does. */
    bool holding = sim_node_holding(n);
    bool queued = !holding && net_receiver_busy(s->net, n->index);
    char *dst = holding  ? buf_reserve(&n->down_q, need)
                : queued ? xmalloc(need)
                         : proc_reserve(&n->proc, need);
    if (!dst) {
        /* Not reading its stdin (or its down queue is full): the request is lost and the op
         * will time out. */
        n->stdin_drops++;
        count_client_message(s, false);
        return;
    }
    struct out o = {.p = dst};
    put_client_envelope(&o, net_id, (uint64_t)w->client, n);
    if (echo) {
        OUT_LIT(&o, "{\"echo\":");
        out_put(&o, value, value_len);
        OUT_LIT(&o, ",\"type\":\"echo\",\"msg_id\":");
    } else {
        OUT_LIT(&o, "{\"type\":\"generate\",\"msg_id\":");
    }
    out_u64(&o, (uint64_t)msg_id);
    OUT_LIT(&o, "}}\n");
    ASSERT(o.n <= need);
    log_net(s, true, dst, o.n);
    uint32_t tag = UINT32_MAX;
    if (s->messages_len < MESSAGES_KEPT && s->init_done) {
        tag = s->messages_len++;
        s->messages[tag].send_ns = s->now_ns;
        s->messages[tag].recv_ns = queued ? -1 : s->now_ns;
        s->messages[tag].src = s->node_count + (uint32_t)w->client;
        s->messages[tag].dest = n->index;
        snprintf(s->messages[tag].type, sizeof(s->messages[tag].type), "%s",
                 echo ? "echo" : "generate");
        s->messages[tag].dropped = false;
    }
    if (queued) {
        s->net_all.send++;
        s->net_all.msgs++;
        s->net_clients.send++;
        s->net_clients.msgs++;
        if (!net_send_client(s->net, s->now_ns, n->index, net_id, tag, dst, o.n))
            n->stdin_drops++;
        sim_arm_net_timer(s);
        return;
    }
    if (holding)
        buf_commit(&n->down_q, o.n);
    else
        proc_commit(&n->proc, o.n);
    count_client_message(s, true);
}

void traffic_thread_turn(struct sim *s)
{
    /* jepsen generator/context.clj busy-thread: every op, the nemesis's included, moves the
     * rotation on by one, over the workers and the nemesis thread. */
    s->next_thread = (s->next_thread + 1) % (s->worker_count + 1);
}

/* The worker the next op goes to. unique-ids' generator is a plain map, which Jepsen hands to
 * the first free thread at or after the rotation's position, wrapping around (generator.clj
 * fill-in-op, context.clj some-free-process); the position can be the nemesis thread's, which
 * is never free for clients, so the search then starts again at worker 0. O(workers) at worst,
 * fine for the rates that are not --rate max. echo's generator runs per thread (gen/each-thread)
 * and every free thread offers an op for the same time, a tie Jepsen breaks at random
 * (soonest-op-map): a random free worker. */
static struct worker *next_free_worker(struct sim *s)
{
    ASSERT(s->free_count > 0);
    if (s->cfg->workload == WORKLOAD_ECHO)
        return &s->workers[s->free_workers[prng_below(&s->workload_rng, s->free_count)]];
    for (uint32_t i = s->next_thread; i < s->worker_count; i++)
        if (!s->workers[i].busy)
            return &s->workers[i];
    for (uint32_t i = 0;; i++)
        if (!s->workers[i].busy)
            return &s->workers[i];
}

static void arm_op_timer(struct sim *s)
{
    ev_timer_stop(s->loop, &s->op_timer);
    double at = (double)(s->next_op_ns - s->now_ns) / 1e9;
    ev_timer_set(&s->op_timer, at > 0 ? at : 0, 0);
    ev_timer_start(s->loop, &s->op_timer);
}

static int64_t stagger_gap_ns(struct sim *s)
{
    /* Jepsen's stagger: each op U[0, 2/rate) after the one before it. */
    return (int64_t)(prng_unit(&s->workload_rng) * 2.0 / s->cfg->rate * 1e9);
}

void traffic_issue_ops(struct sim *s)
{
    if (!s->generating || s->stopping)
        return;
    if (s->cfg->rate_max) {
        while (s->free_count > 0)
            issue(s, &s->workers[s->free_workers[s->free_count - 1]]);
        return;
    }
    if (s->op_pending) {
        /* An op waited for a worker: it goes now, and the next gap counts from now (slack lost
         * to busy workers is not made up, as in Jepsen). */
        if (s->free_count == 0)
            return;
        s->op_pending = false;
        issue(s, next_free_worker(s));
        s->next_op_ns = s->now_ns + stagger_gap_ns(s);
    }
    /* Every op whose time has come goes now: the loop's timers are coarser than the gaps at high
     * rates, and scheduled times, unlike timer wake-ups, do not drift. */
    while (s->next_op_ns <= s->now_ns) {
        if (s->free_count == 0) {
            s->op_pending = true;
            return;
        }
        issue(s, next_free_worker(s));
        s->next_op_ns += stagger_gap_ns(s);
    }
    arm_op_timer(s);
}

void traffic_worker_free(struct sim *s, struct worker *w)
{
    w->busy = false;
    w->free_pos = s->free_count;
    s->free_workers[s->free_count++] = w->index;
    if (!s->generating || s->stopping)
        return;
    if (s->cfg->rate_max)
        issue(s, w);
    else if (s->op_pending)
        traffic_issue_ops(s);
}

/* ==== Completing ops ==== */

struct completion {
    enum op_type type;
    const struct json_val *value; /* for the checker */
    const char *hist_value;       /* for the history */
    size_t hist_value_len;
    const char *error; /* JSON text */
    size_t error_len;
    const char *exception;
    const char *exception_text;
    unsigned faults; /* fault kinds that ended it, beyond those in force (a kill) */
};

static void complete(struct sim *s, struct worker *w, const struct completion *c)
{
    struct sim_node *n = &s->nodes[w->node];
    timeout_unlink(s, w);
    s->in_flight--;
    struct client *cl = &s->clients[w->client];
    cl->awaiting = 0;
    uint64_t index = s->hist.index;
    uint64_t ref = history_op(&s->hist, &(struct op_rec){
                                            .time_ns = s->now_ns,
                                            .process = w->process,
                                            .type = c->type,
                                            .f = w->f,
                                            .value = c->hist_value,
                                            .value_len = c->hist_value_len,
                                            .node = n->name_json,
                                            .node_len = n->name_json_len,
                                            .client = (uint32_t)w->client,
                                            .error = c->error,
                                            .error_len = c->error_len,
                                            .exception = c->exception,
                                        });
    checkq_push(s->checkq, &(struct check_op){
                               .type = c->type,
                               .f = w->f,
                               .invoke_ns = w->invoke_ns,
                               .complete_ns = s->now_ns,
                               .node = w->node,
                               .incarnation = n->incarnation,
                               .client = (uint32_t)w->client,
                               .process = w->process,
                               .index = index,
                               .ref = s->cfg->history ? ref : index,
                               .value = c->value,
                               .echo_n = w->echo_n,
                               .exception = c->exception,
                               .exception_text = c->exception_text,
                           });
    if (checkq_full(s->checkq))
        sim_backpressure(s);
    s->progress.count++;
    s->progress.ok += c->type == OP_OK;
    s->progress.fail += c->type == OP_FAIL;
    s->progress.info += c->type == OP_INFO;
    if (c->type == OP_OK)
        n->oks++;
    else
        s->notok_by_faults[(s->faults_active | c->faults) & ((1u << FAULT_KIND_COUNT) - 1)]++;
    if (c->type == OP_INFO) {
        /* Jepsen treats the process as crashed: a new process number, and a client that is not
         * reusable (echo's) is closed and a new one opened for the next op. */
        w->process += s->worker_count;
        if (s->cfg->workload == WORKLOAD_ECHO)
            w->reopen = true; /* echo's client is not reusable */
    }
    traffic_worker_free(s, w);
    if (s->stopping)
        sim_maybe_finish(s);
}

/* Every op in flight (on `node`, or on every node for UINT32_MAX) becomes info at once, with
 * the error [kind, why]: it may or may not have happened. */
static void give_up_ops(struct sim *s, uint32_t node, const char *kind, const char *why)
{
    char err[256];
    int k = snprintf(err, sizeof(err), "[\"%s\",\"%s\"]", kind, why);
    for (uint32_t i = 0; i < s->worker_count; i++) {
        struct worker *w = &s->workers[i];
        if (!w->busy || (node != UINT32_MAX && w->node != node))
            continue;
        char value[32];
        size_t value_len = invoke_value(w, value);
        complete(s, w,
                 &(struct completion){
                     .type = OP_INFO,
                     .hist_value = value,
                     .hist_value_len = value_len,
                     .error = err,
                     .error_len = (size_t)k,
                     .faults = strcmp(kind, "crash") == 0 ? 1u << FAULT_KILL : 0,
                 });
    }
}

void traffic_fail_node_ops(struct sim *s, uint32_t node, const char *why)
{
    /* The requests in flight died with the process, like a client whose connection is reset. */
    give_up_ops(s, node, "crash", why);
}

void traffic_abandon_ops(struct sim *s, const char *why)
{
    give_up_ops(s, UINT32_MAX, "fail-fast", why);
}

/* While eddy does not read node output (back-pressure from the checker), replies wait in the
 * pipes through no fault of the nodes: the ops in flight get that time back. Every deadline
 * moves by the same amount, so the FIFO stays in order. */
void traffic_defer_timeouts(struct sim *s, int64_t by_ns)
{
    for (struct worker *w = s->timeouts_head; w; w = w->next)
        w->deadline_ns += by_ns;
}

void traffic_expire(struct sim *s)
{
    static const char timeout_error[] = "\"net-timeout\"";
    while (s->timeouts_head && s->timeouts_head->deadline_ns <= s->now_ns) {
        struct worker *w = s->timeouts_head;
        char value[32];
        size_t value_len = invoke_value(w, value);
        complete(s, w,
                 &(struct completion){
                     .type = OP_INFO,
                     .hist_value = value,
                     .hist_value_len = value_len,
                     .error = timeout_error,
                     .error_len = sizeof(timeout_error) - 1,
                 });
    }
    /* Completions above may have re-armed the timer for a later op: re-arm for the head. */
    ev_timer_stop(s->loop, &s->timeout_timer);
    if (s->timeouts_head) {
        double at = (double)(s->timeouts_head->deadline_ns - s->now_ns) / 1e9;
        ev_timer_set(&s->timeout_timer, at > 0 ? at : 0, 0);
        ev_timer_start(s->loop, &s->timeout_timer);
    }
}

static void complete_error(struct sim *s, struct worker *w, const struct msg *m)
{
    int64_t code = -1;
    bool known = msg_get_i64(m, MSG_CODE, &code) == 0;
    const char *name = known ? eddy_error_name(code) : "unknown";
    bool definite = known && eddy_error_definite(code);
    /* The error's text whole, as the node wrote it: cut short, a JSON string would lose its
     * closing quote and the history line its validity. */
    const struct json_val *text = &m->f[MSG_TEXT];
    size_t text_len = text->type == JSON_NONE ? 4 : text->len;
    char *err = xmalloc(text_len + 64);
    int k = snprintf(err, text_len + 64, "[\"%s\",%.*s]", name, (int)text_len,
                     text->type == JSON_NONE ? "null" : text->p);
    char value[32];
    size_t value_len = invoke_value(w, value);
    complete(s, w,
             &(struct completion){
                 .type = definite ? OP_FAIL : OP_INFO,
                 .hist_value = value,
                 .hist_value_len = value_len,
                 .error = err,
                 .error_len = (size_t)k,
             });
    free(err);
}

static void client_reply(struct sim *s, struct sim_node *n, uint32_t k, const struct msg *m,
                         const char *line, size_t len)
{
    struct client *c = &s->clients[k];
    int64_t irt;
    int rc = msg_get_i64(m, MSG_IN_REPLY_TO, &irt);
    if (c->awaiting == 0 && !(rc == 0 && irt >= 1 && irt <= c->last_msg_id)) {
        /* An open client that waits for nothing (a setup client, or a worker's between ops):
         * Maelstrom queues the message for it and nobody reads it (maelstrom client.clj recv!
         * skips what does not answer the awaited msg_id). Harmless, and almost surely a bug. */
        traffic_violation(s, n, VIOLATION_WARNING, line, len,
                          "a message to client c%u, which is waiting for no reply (Maelstrom "
                          "leaves it unread in the client's queue)",
                          k);
        return;
    }
    if (rc < 0) {
        traffic_violation(s, n, VIOLATION_DROP, line, len,
                          rc == -ENOENT ? "a message to client c%u without in_reply_to"
                                        : "in_reply_to is not an integer (message to c%u)",
                          k);
        return;
    }
    if (c->awaiting == 0 || irt != c->awaiting) {
        if (irt >= 1 && irt <= c->last_msg_id) {
            n->late_replies++; /* a reply to a request the client gave up on: legitimate */
            return;
        }
        traffic_violation(s, n, VIOLATION_DROP, line, len,
                          "in_reply_to %lld matches no request client c%u sent (it sent msg_ids 1 "
                          "to %lld)",
                          (long long)irt, k, (long long)c->last_msg_id);
        return;
    }
    if (c->worker < 0) {
        /* An init client. */
        struct sim_node *target = &s->nodes[c->node];
        c->awaiting = 0;
        if (msg_type_is(m, "init_ok")) {
            sim_node_initialised(s, target);
            return;
        }
        sim_crash(s, "Expected an init_ok message, but node %s responded with %.*s", target->name,
                  (int)utf8_prefix(m->body.p, m->body.len, 400), m->body.p);
        return;
    }
    struct worker *w = &s->workers[c->worker];
    ASSERT(w->busy);
    if (msg_type_is(m, "error")) {
        complete_error(s, w, m);
        return;
    }
    char why[256];
    if (validate_reply(m, w->f, why, sizeof(why))) {
        traffic_violation(s, n, VIOLATION_RPC, line, len, "malformed RPC response: %s", why);
        /* why quotes the node's own keys and values: escaped, not pasted into the string. */
        char text[320], err[json_escaped_max(sizeof(text))];
        int t = snprintf(text, sizeof(text), "indeterminate: Malformed RPC response: %s", why);
        size_t e = json_escape(err, text, utf8_prefix(text, (size_t)t, sizeof(text) - 1));
        char value[32];
        size_t value_len = invoke_value(w, value);
        complete(s, w,
                 &(struct completion){
                     .type = OP_INFO,
                     .hist_value = value,
                     .hist_value_len = value_len,
                     .error = err,
                     .error_len = e,
                     .exception = "malformed-rpc-response",
                     .exception_text = why,
                 });
        return;
    }
    /* ok: echo's value is the whole reply body (as in Maelstrom's history), generate's the ID. */
    const struct json_val *v = w->f == F_ECHO ? &m->f[MSG_ECHO] : &m->f[MSG_ID];
    const struct json_val *hv = w->f == F_ECHO ? &m->body : v;
    complete(s, w,
             &(struct completion){
                 .type = OP_OK,
                 .value = v,
                 .hist_value = hv->p,
                 .hist_value_len = hv->len,
             });
}

/* ==== Services eddy does not simulate ==== */

static void service_reply(struct sim *s, struct sim_node *n, uint32_t svc, const struct msg *m)
{
    s->service_requests++;
    int64_t msg_id;
    if (msg_get_i64(m, MSG_MSG_ID, &msg_id) < 0 || n->down)
        return;
    bool held = sim_node_holding(n);
    char *dst = held ? buf_reserve(&n->down_q, 256 + n->name_json_len)
                     : proc_reserve(&n->proc, 256 + n->name_json_len);
    if (!dst) {
        n->stdin_drops++;
        return;
    }
    int k = snprintf(dst, 256 + n->name_json_len,
                     "{\"id\":%llu,\"src\":\"%s\",\"dest\":%.*s,\"body\":{\"type\":\"error\","
                     "\"in_reply_to\":%lld,\"code\":10,\"text\":\"eddy does not simulate "
                     "Maelstrom's %s service\"}}\n",
                     (unsigned long long)s->next_net_id++, services[svc], (int)n->name_json_len,
                     n->name_json, (long long)msg_id, services[svc]);
    if (held)
        buf_commit(&n->down_q, (size_t)k);
    else
        proc_commit(&n->proc, (size_t)k);
    s->net_all.send++;
    s->net_all.msgs++;
    s->net_all.recv++;
    s->net_servers.send++;
    s->net_servers.msgs++;
    s->net_servers.recv++;
}

/* ==== Node to node ==== */

static void deliver_to_node(struct sim *s, uint32_t dest, const char *line, size_t len,
                            uint32_t tag, bool client_src)
{
    struct sim_node *d = &s->nodes[dest];
    int rc =
        sim_node_holding(d) ? buf_append(&d->down_q, line, len) : proc_send(&d->proc, line, len);
    if (rc < 0) {
        d->stdin_drops++;
        record_delivery(s, tag, true);
        return;
    }
    log_net(s, false, line, len);
    s->net_all.recv++;
    if (client_src)
        s->net_clients.recv++;
    else
        s->net_servers.recv++;
    record_delivery(s, tag, false);
}

void traffic_release_held(struct sim *s, struct sim_node *n)
{
    /* What waited for this incarnation's init_ok goes now, in the order it came. The held queue
     * and the node's stdin queue have the same maximum, so it fits in one append unless bytes of
     * init are still queued; then it goes line by line, and a line that does not fit is counted
     * as not delivered. */
    n->held = false;
    const char *p = buf_peek(&n->down_q);
    const char *end = p + buf_len(&n->down_q);
    if (p < end && proc_send(&n->proc, p, (size_t)(end - p)) < 0) {
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t k = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
            if (proc_send(&n->proc, p, k) < 0)
                n->stdin_drops++;
            p += k;
        }
    }
    buf_clear(&n->down_q);
    (void)s;
}

/* A message from node n to node dest. Maelstrom judges it by what it says, not by who wrote it
 * (maelstrom src/maelstrom/net.clj): recv! drops it when its src field is in the receiver's
 * grudge, and latency-for gives no latency to a message whose src is a client. So a node that
 * forwards a client's request keeping "src":"c12" crosses partitions at once, and one that
 * writes another node's name as src is cut as that node. `from` is the node its src names, or
 * UINT32_MAX when the src is a client or a service (never partitioned, no latency). */
static void route_to_node(struct sim *s, struct sim_node *n, uint32_t from, uint32_t dest,
                          const struct msg *m)
{
    uint64_t net_id = s->next_net_id++;
    bool client_src = from == UINT32_MAX;
    s->net_all.send++;
    s->net_all.msgs++;
    if (client_src) {
        s->net_clients.send++;
        s->net_clients.msgs++;
    } else {
        s->net_servers.send++;
        s->net_servers.msgs++;
    }
    uint32_t tag = s->init_done ? record_message(s, n->index, dest, m) : UINT32_MAX;
    /* Maelstrom re-serialises the message with its own id; eddy copies src, dest and body as
     * they were written, which keeps every value exact. A missing or null body is {} there
     * (process.clj parse-msg), and so here. */
    bool object = m->body.type == JSON_OBJECT;
    const char *body = object ? m->body.p : "{}";
    size_t body_len = object ? m->body.len : 2;
    size_t need = 64 + m->src.len + m->dest.len + body_len;
    char *line = xmalloc(need);
    int k = snprintf(line, need, "{\"id\":%llu,\"src\":%.*s,\"dest\":%.*s,\"body\":%.*s}\n",
                     (unsigned long long)net_id, (int)m->src.len, m->src.p, (int)m->dest.len,
                     m->dest.p, (int)body_len, body);
    ASSERT(k > 0 && (size_t)k < need);
    log_net(s, true, line, (size_t)k);
    if (client_src && net_receiver_busy(s->net, dest)) {
        /* No latency, but the receiver is busy with a delayed message: behind it. */
        net_send_client(s->net, s->now_ns, dest, net_id, tag, line, (size_t)k);
        sim_arm_net_timer(s);
        return;
    }
    if (client_src || net_is_direct(s->net)) {
        bool cut = !client_src && net_partitioned(s->net, from, dest);
        net_count_direct(s->net, cut);
        if (cut)
            record_delivery(s, tag, true);
        else
            deliver_to_node(s, dest, line, (size_t)k, tag, client_src);
        free(line);
        return;
    }
    net_send(s->net, s->now_ns, from, dest, net_id, tag, line, (size_t)k);
    sim_arm_net_timer(s);
}

void traffic_deliver_due(struct sim *s)
{
    struct net_msg m;
    uint64_t partitioned = net_stats(s->net)->partitioned;
    while (net_pop_due(s->net, s->now_ns, &m)) {
        deliver_to_node(s, m.dest, m.line, m.len, m.tag, m.src == NET_SRC_CLIENT);
        free(m.line);
    }
    (void)partitioned;
}

/* ==== Node output ==== */

/* Judges and routes one line. False, having done nothing, when the line is not valid and not
 * well-formed UTF-8 either: the caller repairs it and calls again with `repaired`. */
static bool node_line(struct sim *s, struct sim_node *n, const char *line, size_t len,
                      bool repaired)
{
    struct msg m;
    bool warning = false;
    char why[256];
    if (!validate_line(line, len, &m, &warning, why, sizeof(why))) {
        if (!repaired && !utf8_valid(line, len))
            return false;
        traffic_violation(s, n, VIOLATION_MUTE, line, len, "%s", why);
        return true;
    }
    if (warning)
        traffic_violation(s, n, VIOLATION_WARNING, line, len, "%s", why);
    uint32_t src, dest;
    enum ep_kind sk = endpoint(s, &m.src, &src);
    if (sk == EP_UNKNOWN || (sk == EP_CLIENT && !s->clients[src].open)) {
        traffic_violation(s, n, VIOLATION_MUTE, line, len,
                          "src %.*s is not a node, an open client or a service (Invalid source "
                          "for message)",
                          (int)utf8_prefix(m.src.p, m.src.len, 80), m.src.p);
        return true;
    }
    switch (endpoint(s, &m.dest, &dest)) {
    case EP_NODE:
        route_to_node(s, n, sk == EP_NODE ? src : UINT32_MAX, dest, &m);
        return true;
    case EP_CLIENT:
        if (!s->clients[dest].open) {
            traffic_violation(s, n, VIOLATION_MUTE, line, len,
                              "dest c%u is a client that has been closed (Maelstrom throws "
                              "node-not-found)",
                              dest);
            return true;
        }
        /* Maelstrom numbers every message it carries, replies to clients included
         * (net.clj send!): the next message a node receives shows the gap. */
        s->next_net_id++;
        log_net(s, true, line, len);
        log_net(s, false, line, len);
        s->net_all.send++;
        s->net_all.msgs++;
        s->net_all.recv++;
        s->net_clients.send++;
        s->net_clients.msgs++;
        s->net_clients.recv++;
        /* Maelstrom's Lamport diagram leaves init out, and so does eddy's. */
        if (s->init_done && s->messages_len < MESSAGES_KEPT && s->clients[dest].worker >= 0) {
            uint32_t i = record_message(s, n->index, s->node_count + dest, &m);
            record_delivery(s, i, false);
        }
        client_reply(s, n, dest, &m, line, len);
        return true;
    case EP_SERVICE:
        s->next_net_id++; /* the request's number, as above */
        service_reply(s, n, dest, &m);
        return true;
    case EP_UNKNOWN:
        traffic_violation(s, n, VIOLATION_MUTE, line, len,
                          "dest %.*s is not a node, a client or a service (Invalid dest for "
                          "message)",
                          (int)utf8_prefix(m.dest.p, m.dest.len, 80), m.dest.p);
        return true;
    }
    return true;
}

void traffic_node_line(struct proc *p, const char *line, size_t len)
{
    struct sim *s = p->ctx;
    struct sim_node *n = &s->nodes[p->index];
    if (n->muted) {
        n->muted_lines++;
        return;
    }
    sim_update_now(s);
    if (!line) {
        traffic_violation(s, n, VIOLATION_MUTE, NULL, 0,
                          "a line of %zu bytes, longer than eddy's limit of %u bytes (Maelstrom "
                          "reads lines of any length; eddy bounds its memory)",
                          len, PROC_LINE_MAX);
        return;
    }
    if (node_line(s, n, line, len, false))
        return;
    /* Maelstrom reads stdout through a UTF-8 Reader that turns each malformed sequence into
     * U+FFFD before its JSON parser sees the line: judge the line as it sees it. Only lines
     * that fail come here, so valid traffic pays nothing. */
    char *fixed = xmalloc(utf8_repaired_max(len));
    size_t fixed_len = utf8_repair(fixed, line, len, false);
    n->lines_repaired++;
    node_line(s, n, fixed, fixed_len, true);
    free(fixed);
}
