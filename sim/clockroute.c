/*
 * clockroute.c: which way clock faults reach each node (see clockroute.h).
 *
 * With --clock-via auto, a node whose program is dynamically linked and not Go gets the preload
 * library, which costs a few nanoseconds a read, and the filter as well, which catches its raw
 * clock system calls (and any program it execs that the library cannot reach) at no cost to the
 * reads the library serves. A static or Go program gets the system-call route: the filter, and
 * its vDSO hidden at the exec stop. The route's set-up happens in proc_spawn's hooks: the child
 * installs the filter before its execve, and eddy takes the listener and handles the exec stop
 * before the event loop runs again, so libev never sees the stop. The listeners then go to
 * clocksrv's thread, which answers each trapped call at once. Failures are per node, said once
 * on stderr, and make that node's clock faults "not applied" with the reason.
 * Depends on: sim, clocksrv, clocksys, clocktrap, exekind, clockctl, proc, cJSON.
 * Used by: run, faults, report.
 */
#include "clockroute.h"
#include "exekind.h"
#include "vdsomap.h"
#include "sim.h"
#include "eddy/alloc.h"
#include "eddy/clockctl.h"
#include "eddy/util.h"
#include "eddy/vdso.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SERVE_MAX 64 /* notifications answered per wake-up, so one node cannot starve the rest */
#define ENVIRON_MAX (256u << 10) /* bytes of a program's environment read to find the library */

const char *clockroute_name(enum clock_route r)
{
    switch (r) {
    case CLOCK_ROUTE_PRELOAD:
        return "preload";
    case CLOCK_ROUTE_SYSCALL:
        return "syscall";
    case CLOCK_ROUTE_VDSO:
        return "vdso";
    case CLOCK_ROUTE_NONE:
        break;
    }
    return "none";
}

/* ==== Choosing ==== */

__attribute__((format(printf, 6, 7))) static void set_route(struct clockroute_node *r,
                                                            enum clock_route route, bool preload,
                                                            bool trap, enum clocksys_vdso first,
                                                            const char *fmt, ...)
{
    r->route = route;
    r->preload = preload;
    r->trap = trap;
    r->first = first;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
}

/* The route for a program the library cannot reach: eddy's vDSO where eddy has one, else the
 * hidden vDSO. */
static void set_unreachable_by_library(struct clockroute_node *r, const struct sim *s,
                                       const char *what, const char *because)
{
    if (!clocktrap_supported())
        set_route(r, CLOCK_ROUTE_NONE, false, false, CLOCKSYS_VDSO_KEEP,
                  "%s%s, and the system-call routes are built for x86-64 only", what, because);
    else if (s->vdso_image)
        set_route(r, CLOCK_ROUTE_VDSO, s->clock_lib != NULL, true, CLOCKSYS_VDSO_REPLACE,
                  "%s%s: eddy's vDSO, raw clock system calls trapped", what, because);
    else
        set_route(r, CLOCK_ROUTE_SYSCALL, s->clock_lib != NULL, true, CLOCKSYS_VDSO_HIDE,
                  "%s%s: system calls, vDSO hidden (eddy's vDSO: %s)", what, because,
                  s->vdso_missing);
}

/* The route for a program of kind k (rc: exekind_file's result) under --clock-via auto. */
static void choose_auto(struct clockroute_node *r, const struct sim *s, const struct exekind *k,
                        int rc, bool script)
{
    bool can_trap = clocktrap_supported(), lib = s->clock_lib != NULL;
    char what[160];
    snprintf(what, sizeof(what), "%s%s", script ? "a script run by " : "",
             rc < 0 ? "a program eddy could not read" : exekind_describe(k));
    if (rc < 0 || k->type == EXEKIND_UNKNOWN)
        set_route(r, CLOCK_ROUTE_PRELOAD, lib, false, CLOCKSYS_VDSO_KEEP,
                  "%s: only the preload library can try", what);
    else if (k->type == EXEKIND_STATIC || k->go)
        set_unreachable_by_library(r, s, what, ", which the preload library cannot reach");
    else if (!lib)
        set_unreachable_by_library(r, s, what, ", but libeddyclock.so was not found");
    else
        set_route(r, CLOCK_ROUTE_PRELOAD, lib, can_trap, CLOCKSYS_VDSO_KEEP,
                  can_trap ? "%s: the preload library, and raw clock system calls trapped"
                           : "%s: the preload library",
                  what);
}

/* eddyvdso.so: $EDDY_VDSO, or next to eddy (../lib or ../lib/eddy from its binary), loaded and
 * checked into s->vdso_image; or a reason in s->vdso_missing. */
static void load_vdso(struct sim *s)
{
    char path[PATH_MAX + 64] = "";
    const char *env = getenv("EDDY_VDSO");
    if (env && *env) {
        snprintf(path, sizeof(path), "%s", env);
    } else {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        exe[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        static const char *const rel[] = {"/../lib/" EDDY_VDSO_LIB_NAME,
                                          "/../lib/eddy/" EDDY_VDSO_LIB_NAME};
        for (size_t i = 0; i < ARRAY_LEN(rel) && !path[0]; i++) {
            snprintf(path, sizeof(path), "%s%s", exe, rel[i]);
            if (access(path, R_OK) != 0)
                path[0] = '\0';
        }
    }
    if (!path[0]) {
        snprintf(s->vdso_missing, sizeof(s->vdso_missing), "%s not found next to eddy",
                 EDDY_VDSO_LIB_NAME);
        return;
    }
    struct vdsomap_image *img = xcalloc(1, sizeof(*img));
    if (vdsomap_load(path, img, s->vdso_missing, sizeof(s->vdso_missing)) < 0) {
        free(img);
        return;
    }
    s->vdso_image = img;
}

void clockroute_setup(struct sim *s, const char *bin)
{
    struct exekind k;
    bool script = false;
    int rc = exekind_file(bin, &k, &script);
    if (s->cfg->clock_via == CLOCK_VIA_AUTO || s->cfg->clock_via == CLOCK_VIA_VDSO)
        load_vdso(s);
    for (uint32_t i = 0; i < s->node_count; i++) {
        struct sim_node *n = &s->nodes[i];
        struct clockroute_node *r = xcalloc(1, sizeof(*r));
        r->sock = r->child.sock = -1;
        atomic_init(&r->exec_pid, 0);
        atomic_init(&r->exec_action, CLOCKSYS_VDSO_KEEP);
        snprintf(r->block_path, sizeof(r->block_path), "%s/%u.clk", s->clock_dir, n->index);
        r->sim = s;
        r->node = n;
        n->route = r;
        r->child.flags = (s->cfg->clock_monotonic ? CLOCKTRAP_F_MONOTONIC : 0u) |
                         (clocksys_can_follow_exec() ? CLOCKTRAP_F_EXEC : 0u);
        if (!n->clock) {
            set_route(r, CLOCK_ROUTE_NONE, false, false, CLOCKSYS_VDSO_KEEP, "%s",
                      "eddy could not create its clock control block");
            continue;
        }
        switch (s->cfg->clock_via) {
        case CLOCK_VIA_PRELOAD:
            set_route(r, CLOCK_ROUTE_PRELOAD, s->clock_lib != NULL, false, CLOCKSYS_VDSO_KEEP, "%s",
                      "--clock-via preload");
            break;
        case CLOCK_VIA_SYSCALL:
            if (clocktrap_supported())
                set_route(r, CLOCK_ROUTE_SYSCALL, false, true, CLOCKSYS_VDSO_HIDE, "%s",
                          "--clock-via syscall: every read a trapped call");
            else
                set_route(r, CLOCK_ROUTE_NONE, false, false, CLOCKSYS_VDSO_KEEP, "%s",
                          "--clock-via syscall, but that route is built for x86-64 only");
            break;
        case CLOCK_VIA_VDSO:
            set_unreachable_by_library(r, s, "--clock-via vdso", "");
            r->preload = false;
            break;
        case CLOCK_VIA_AUTO:
            choose_auto(r, s, &k, rc, script);
            break;
        }
    }
    bool any_trap = false;
    for (uint32_t i = 0; i < s->node_count; i++)
        any_trap |= s->nodes[i].route->trap;
    int err = any_trap ? clocksrv_new(&s->clocksrv) : 0;
    if (err < 0)
        fprintf(stderr,
                "eddy: warning: cannot start the thread that answers trapped clock calls "
                "(%s): clock faults reach only the nodes on the preload library\n",
                strerror(-err));
}

/* ==== After an exec inside the node ==== */

/* True if process pid's environment names the library and its block: the library will load. */
static bool environ_has_library(const struct sim *s, pid_t pid)
{
    if (!s->clock_lib)
        return false;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char *env = xmalloc(ENVIRON_MAX + 1);
    size_t len = 0;
    ssize_t n;
    while (len < ENVIRON_MAX && (n = read(fd, env + len, ENVIRON_MAX - len)) > 0)
        len += (size_t)n;
    close(fd);
    env[len] = '\0';
    bool preload = false, file = false;
    for (size_t at = 0; at < len; at += strlen(env + at) + 1) {
        const char *v = env + at;
        if (strncmp(v, "LD_PRELOAD=", 11) == 0)
            preload = strstr(v, s->clock_lib) != NULL;
        else if (strncmp(v, CLOCKCTL_ENV "=", sizeof(CLOCKCTL_ENV)) == 0)
            file = v[sizeof(CLOCKCTL_ENV)] != '\0';
    }
    free(env);
    return preload && file;
}

/* Asked in the server thread when a program of the node execs another (now pid): keep its
 * vDSO if the preload library will reach it (a dynamic program, not Go, with the library in its
 * environment), else replace it with eddy's (or hide it, without one). --clock-via syscall
 * hides it always, vdso replaces it always. Reads only what never changes during a run. */
static void plan_after_exec(void *ctx, pid_t pid, struct clocksys_plan *out)
{
    struct clockroute_node *r = ctx;
    struct sim *s = r->sim;
    enum clock_via via = s->cfg->clock_via;
    struct exekind k;
    char exe[64];
    snprintf(exe, sizeof(exe), "/proc/%ld/exe", (long)pid);
    bool library = via == CLOCK_VIA_AUTO && exekind_file(exe, &k, NULL) == 0 &&
                   k.type == EXEKIND_DYNAMIC && !k.go && environ_has_library(s, pid);
    out->image = s->vdso_image;
    out->block_path = r->block_path;
    if (library)
        out->vdso = CLOCKSYS_VDSO_KEEP;
    else if (via != CLOCK_VIA_SYSCALL && s->vdso_image)
        out->vdso = CLOCKSYS_VDSO_REPLACE;
    else
        out->vdso = CLOCKSYS_VDSO_HIDE;
    if (out->vdso != CLOCKSYS_VDSO_KEEP) {
        atomic_store(&r->exec_action, (int)out->vdso);
        atomic_store(&r->exec_pid, (int)pid);
    }
}

/* ==== Failures ==== */

static void warn_once(struct clockroute_node *r)
{
    if (r->warned || !r->failure[0])
        return;
    r->warned = true;
    fprintf(stderr, "eddy: warning: clock faults cannot reach %s: %s\n", r->node->name, r->failure);
}

/* ==== Spawning ==== */

static int child_hook(void *ctx, const char *path, char *const argv[], char *const envp[])
{
    const struct clockroute_node *r = ctx;
    return clocksys_child_setup(&r->child, path, argv, envp);
}

/* After the fork: the child's report, the exec stop, the listener. */
static void parent_hook(void *ctx, pid_t pid)
{
    struct clockroute_node *r = ctx;
    close(r->child.sock);
    r->child.sock = -1;
    enum clocksys_stage stage = CLOCKSYS_STAGE_OK;
    int err = 0, listener = -1;
    int rc = pid > 0 ? clocksys_receive(r->sock, &stage, &err, &listener) : -ECHILD;
    close(r->sock);
    r->sock = -1;
    if (rc < 0)
        return; /* no child, or it died before its exec: the exit says why */
    if (stage != CLOCKSYS_STAGE_OK)
        clocksys_stage_explain(stage, err, r->failure, sizeof(r->failure));
    r->replaced = false;
    r->replace_error = 0;
    if (r->child.trace && stage != CLOCKSYS_STAGE_PTRACE) {
        /* Traced: the exec stop must be handled, even if the filter failed (then the vDSO
         * stays: without the filter, neither hiding nor replacing it fakes every read). */
        struct clocksys_plan plan = {.vdso =
                                         stage == CLOCKSYS_STAGE_OK ? r->first : CLOCKSYS_VDSO_KEEP,
                                     .image = r->sim->vdso_image,
                                     .block_path = r->block_path};
        struct clocksys_exec ex;
        clocksys_exec_stop(pid, &plan, &ex);
        r->replaced = ex.replaced;
        r->replace_error = ex.replace_error;
        if (ex.not_64bit)
            snprintf(r->failure, sizeof(r->failure),
                     "a 32-bit program, which the system-call route does not handle");
        else if (ex.error && !r->failure[0])
            snprintf(r->failure, sizeof(r->failure), "eddy could not change the vDSO (%s)",
                     strerror(ex.error));
    }
    if (listener >= 0) {
        struct clocksrv_listener *l = xcalloc(1, sizeof(*l));
        l->ctl = r->node->clock;
        l->plan = plan_after_exec;
        l->plan_ctx = r;
        l->next = r->all;
        r->all = r->cur = l;
        int e = r->sim->clocksrv ? clocksrv_add(r->sim->clocksrv, l, listener) : -ESRCH;
        if (e == -ESRCH) {
            close(listener);
            atomic_store(&l->closed, true);
        }
        if (e < 0 && !r->failure[0])
            snprintf(r->failure, sizeof(r->failure),
                     "eddy's thread for trapped clock calls is not running (%s)", strerror(-e));
    }
    if (r->failure[0] && r->route == CLOCK_ROUTE_PRELOAD && r->preload) {
        /* Only the extra was lost: raw calls are not trapped, the library still works. */
        char extra[CLOCKROUTE_WHY_MAX];
        snprintf(extra, sizeof(extra), "%s", r->failure);
        snprintf(r->why, sizeof(r->why),
                 "the preload library; raw clock system calls not "
                 "trapped: %s",
                 extra);
        r->failure[0] = '\0';
    }
    warn_once(r);
}

/* LD_PRELOAD keeps whatever the user preloads; ASan must not insist on coming first. */
static const char *const *preload_env(struct sim *s, struct sim_node *n, char *buf, size_t cap)
{
    static const char *env[4];
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

void clockroute_spawn_opts(struct sim *s, struct sim_node *n, struct proc_spawn_opts *o,
                           char *envbuf, size_t cap)
{
    static const char *const none[] = {NULL};
    struct clockroute_node *r = n->route;
    o->env_extra = none;
    if (!r || r->route == CLOCK_ROUTE_NONE)
        return;
    r->cur = NULL; /* the previous incarnation's listener stays with the server until it hangs up */
    r->failure[0] = '\0';
    if (r->preload && s->clock_lib)
        o->env_extra = preload_env(s, n, envbuf, cap);
    if (!r->trap)
        return;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(r->failure, sizeof(r->failure), "eddy could not create a socket (%s)",
                 strerror(errno));
        warn_once(r);
        return;
    }
    r->sock = sv[0];
    r->child.sock = sv[1];
    r->child.trap = true;
    r->child.trace = r->first != CLOCKSYS_VDSO_KEEP;
    o->child_hook = child_hook;
    o->parent_hook = parent_hook;
    o->hook_ctx = r;
}

/* ==== Questions ==== */

/* The node's last process, alive or not. */
static pid_t last_pid(const struct sim_node *n)
{
    if (n->proc.pid > 0)
        return n->proc.pid;
    return n->pid_count ? n->pids[(n->pid_count - 1) % ARRAY_LEN(n->pids)] : 0;
}

/* The route the node's current program is on. A program on the vdso route whose vDSO could
 * not be replaced had it hidden instead: system calls. A program on the preload route that exec'd
 * one the library cannot reach (a wrapper script running a Go node) went over to eddy's vDSO or
 * to system calls. */
static enum clock_route effective_route(const struct clockroute_node *r, const char **why)
{
    static _Thread_local char buf[CLOCKROUTE_WHY_MAX + 80];
    *why = r->why;
    int pid = atomic_load(&r->exec_pid);
    if (r->route == CLOCK_ROUTE_PRELOAD && pid != 0 && pid == (int)last_pid(r->node)) {
        bool replaced = atomic_load(&r->exec_action) == CLOCKSYS_VDSO_REPLACE;
        *why = replaced ? "it exec'd a program the preload library cannot reach: eddy's vDSO"
                        : "it exec'd a program the preload library cannot reach: system calls, "
                          "vDSO hidden";
        return replaced ? CLOCK_ROUTE_VDSO : CLOCK_ROUTE_SYSCALL;
    }
    if (r->route == CLOCK_ROUTE_VDSO && !r->replaced && r->replace_error) {
        snprintf(buf, sizeof(buf),
                 "eddy's vDSO could not be mapped into it (%s): system calls, "
                 "vDSO hidden",
                 strerror(r->replace_error));
        *why = buf;
        return CLOCK_ROUTE_SYSCALL;
    }
    return r->route;
}

bool clockroute_reaches(struct sim *s, struct sim_node *n, char *why, size_t cap)
{
    struct clockroute_node *r = n->route;
    if (!n->clock || !r || r->route == CLOCK_ROUTE_NONE) {
        snprintf(why, cap, "%s: %s", n->name, r ? r->why : "eddy could not set up clock control");
        return false;
    }
    if (r->failure[0]) {
        snprintf(why, cap, "%s: %s", n->name, r->failure);
        return false;
    }
    const char *because;
    enum clock_route eff = effective_route(r, &because);
    if (eff == CLOCK_ROUTE_SYSCALL || eff == CLOCK_ROUTE_VDSO) {
        int e = r->cur ? atomic_load(&r->cur->error) : 0;
        bool closed = !r->cur || atomic_load(&r->cur->closed);
        if (closed && !e) {
            snprintf(why, cap, "%s: its program has exited", n->name);
            return false;
        }
        if (closed || e) {
            if (closed) /* only when its thread gave up on it, or never started */
                snprintf(r->failure, sizeof(r->failure), "eddy lost its clock listener (%s)",
                         e ? strerror(e) : "closed");
            else
                snprintf(r->failure, sizeof(r->failure),
                         "eddy is not permitted to write into the node's memory (%s): its clock "
                         "reads run on the real clock",
                         strerror(e));
            warn_once(r);
            snprintf(why, cap, "%s: %s", n->name, r->failure);
            return false;
        }
        return true;
    }
    if (!n->clock_loaded)
        n->clock_loaded = clockctl_loaded(n->clock, NULL);
    if (!n->clock_loaded) {
        snprintf(why, cap,
                 "%s did not load libeddyclock.so (a static binary, or a runtime that reads the "
                 "clock without libc): its clock is untouched%s",
                 n->name, s->cfg->clock_via == CLOCK_VIA_PRELOAD ? " (--clock-via preload)" : "");
        return false;
    }
    return true;
}

void clockroute_stop(struct sim *s)
{
    clocksrv_stop(s->clocksrv);
    for (uint32_t i = 0; s->nodes && i < s->node_count; i++) {
        struct clockroute_node *r = s->nodes[i].route;
        if (!r)
            continue;
        memset(&r->st, 0, sizeof(r->st));
        for (const struct clocksrv_listener *l = r->all; l; l = l->next) {
            r->st.answered += l->st.answered;
            r->st.efault += l->st.efault;
            r->st.withdrawn += l->st.withdrawn;
            r->st.let_run += l->st.let_run;
            r->st.execs += l->st.execs;
            r->st.execs_hidden += l->st.execs_hidden;
            r->st.execs_replaced += l->st.execs_replaced;
            r->st.execs_lost += l->st.execs_lost;
            if (l->st.last_error && !r->st.last_error)
                r->st.last_error = l->st.last_error;
        }
    }
}

uint64_t clockroute_trapped_reads(const struct sim_node *n)
{
    return n->route ? n->route->st.answered : 0;
}

/* ==== The report ==== */

void clockroute_json(const struct sim_node *n, cJSON *o)
{
    const struct clockroute_node *r = n->route;
    if (!r)
        return;
    const char *why;
    cJSON_AddStringToObject(o, "route", clockroute_name(effective_route(r, &why)));
    cJSON_AddStringToObject(o, "route-reason", why);
    if (r->failure[0])
        cJSON_AddStringToObject(o, "route-error", r->failure);
    cJSON_AddBoolToObject(o, "raw-syscalls-trapped", r->trap && !r->failure[0]);
    enum clock_route eff = effective_route(r, &why);
    cJSON_AddStringToObject(o, "vdso",
                            r->failure[0] || eff == CLOCK_ROUTE_PRELOAD ? "kept"
                            : eff == CLOCK_ROUTE_VDSO                   ? "eddy's"
                                                                        : "hidden");
    cJSON_AddNumberToObject(o, "trapped-reads", (double)r->st.answered);
    if (!r->trap)
        return;
    cJSON *t = cJSON_AddObjectToObject(o, "trap");
    cJSON_AddNumberToObject(t, "efault", (double)r->st.efault);
    cJSON_AddNumberToObject(t, "withdrawn", (double)r->st.withdrawn);
    cJSON_AddNumberToObject(t, "let-run", (double)r->st.let_run);
    cJSON_AddNumberToObject(t, "execs-followed", (double)r->st.execs);
    cJSON_AddNumberToObject(t, "execs-vdso-hidden", (double)r->st.execs_hidden);
    cJSON_AddNumberToObject(t, "execs-vdso-replaced", (double)r->st.execs_replaced);
    cJSON_AddNumberToObject(t, "execs-lost", (double)r->st.execs_lost);
    if (r->st.last_error)
        cJSON_AddStringToObject(t, "last-error", strerror(r->st.last_error));
}

static bool same_route(const struct clockroute_node *a, const struct clockroute_node *b)
{
    const char *wa, *wb;
    return a && b && effective_route(a, &wa) == effective_route(b, &wb) && strcmp(wa, wb) == 0 &&
           strcmp(a->failure, b->failure) == 0;
}

void clockroute_summary(const struct sim *s, FILE *out)
{
    bool *done = xcalloc(s->node_count ? s->node_count : 1, sizeof(bool));
    unsigned groups = 0;
    for (uint32_t i = 0; i < s->node_count; i++) {
        const struct clockroute_node *r = s->nodes[i].route;
        if (!r || done[i])
            continue;
        if (groups++ == 4) {
            fprintf(out, "Clocks: ... (every node's route is in results.json, faults.clocks)\n");
            break;
        }
        char names[160];
        size_t at = 0;
        uint32_t members = 0;
        for (uint32_t j = i; j < s->node_count; j++) {
            if (done[j] || !same_route(r, s->nodes[j].route))
                continue;
            done[j] = true;
            if (members++ < 6 && at < sizeof(names)) {
                int n = snprintf(names + at, sizeof(names) - at, "%s%s", members > 1 ? " " : "",
                                 s->nodes[j].name);
                at += n > 0 ? (size_t)n : 0;
            }
        }
        const char *why;
        enum clock_route route = effective_route(r, &why);
        if (members > 6)
            snprintf(names + EDDY_MIN(at, sizeof(names) - 1),
                     sizeof(names) - EDDY_MIN(at, sizeof(names) - 1), " ... (%u nodes)", members);
        fprintf(out, "Clocks: %s through %s: %s%s%s\n",
                members == s->node_count ? "every node" : names,
                route == CLOCK_ROUTE_SYSCALL   ? "system calls"
                : route == CLOCK_ROUTE_VDSO    ? "eddy's vDSO"
                : route == CLOCK_ROUTE_PRELOAD ? "the preload library"
                                               : "nothing",
                why, r->failure[0] ? "; failed: " : "", r->failure);
    }
    free(done);
}

void clockroute_fini(struct sim *s)
{
    clocksrv_free(s->clocksrv);
    s->clocksrv = NULL;
    if (s->vdso_image)
        vdsomap_free(s->vdso_image);
    free(s->vdso_image);
    s->vdso_image = NULL;
    for (uint32_t i = 0; s->nodes && i < s->node_count; i++) {
        struct clockroute_node *r = s->nodes[i].route;
        if (!r)
            continue;
        while (r->all) {
            struct clocksrv_listener *next = r->all->next;
            free(r->all);
            r->all = next;
        }
        if (r->sock >= 0)
            close(r->sock);
        if (r->child.sock >= 0)
            close(r->child.sock);
        free(r);
        s->nodes[i].route = NULL;
    }
}
