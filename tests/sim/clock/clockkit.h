/*
 * clockkit.h: live-process helpers shared by the clock tests (header-only, everything static
 * inline).
 *
 * A fixture with a private directory and one control block; children (clock_probe, python3)
 * spawned on pipes, optionally with the system-call route set up by clocksys (filter, hidden
 * vDSO), whose listener is then served while the test waits for a reply; and expectations that
 * check an answer against the fake clock evaluated at real clock reads taken just before the
 * request and just after the reply: the child's read happened between the two, so no sleep and
 * almost no tolerance is needed. Every child is killed in the fixture's teardown, and dies with
 * the test process (PR_SET_PDEATHSIG) if that never runs.
 * Depends on: clockctl, clocksys, Criterion. Used by: test_preload.c, test_clocksys.c.
 */
#ifndef EDDY_TESTS_CLOCKKIT_H
#define EDDY_TESTS_CLOCKKIT_H

#include "clocksys.h"
#include "eddy/clockctl.h"
#include "eddy/util.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SEC CLOCKCTL_NS_PER_SEC
#define MS (SEC / 1000)
#define HOUR (3600 * SEC)
#define TOL (2 * MS) /* slack around the bracketing reads */
#define REPLY_TIMEOUT_MS 15000
#define KIDS_MAX 4

/* ==== Fixture: a private directory, a block, and every child killed at the end ==== */

struct kid {
    pid_t pid;    /* 0 once reaped */
    int to_fd;    /* its stdin, -1 once closed */
    int from_fd;  /* its stdout */
    int listener; /* the seccomp listener of the system-call route, or -1 */
    struct clocksys_stats st;
    struct clocksys_exec ex; /* what happened at its exec stop */
};

/* What the exec stop of the next kid_spawn_route does with the vDSO (tests set it). */
static struct clocksys_plan kit_plan = {.vdso = CLOCKSYS_VDSO_HIDE};

static char tmp_dir[64];
static char blk_path[128];
static struct clockctl *blk;
static struct kid kids[KIDS_MAX];

static inline void kid_kill(struct kid *k)
{
    if (k->pid > 0) {
        kill(k->pid, SIGKILL);
        waitpid(k->pid, NULL, 0);
        k->pid = 0;
    }
    if (k->to_fd >= 0)
        close(k->to_fd);
    if (k->from_fd >= 0)
        close(k->from_fd);
    if (k->listener >= 0)
        close(k->listener);
    k->to_fd = k->from_fd = k->listener = -1;
}

static inline void tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmp_dir, name);
}

static inline void kit_setup(void)
{
    signal(SIGPIPE, SIG_IGN); /* a dead child must fail an assertion, not kill the test */
    for (size_t i = 0; i < KIDS_MAX; i++)
        kids[i] = (struct kid){.pid = 0, .to_fd = -1, .from_fd = -1, .listener = -1};
    kit_plan = (struct clocksys_plan){.vdso = CLOCKSYS_VDSO_HIDE};
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/eddy-clock-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp_dir));
    tmp_path(blk_path, sizeof(blk_path), "n1.clock");
    cr_assert_eq(clockctl_create(blk_path, &blk), 0);
}

/* names: other files the test made in tmp_dir, removed too. */
static inline void kit_teardown(const char (*names)[16], size_t count)
{
    for (size_t i = 0; i < KIDS_MAX; i++)
        kid_kill(&kids[i]);
    cr_assert_eq(clockctl_destroy(blk, blk_path), 0);
    for (size_t i = 0; i < count; i++) {
        char p[128];
        tmp_path(p, sizeof(p), names[i]);
        unlink(p);
    }
    rmdir(tmp_dir);
}

/* ==== Child processes ==== */

/* The child's environment: PATH, ASan's consent to being preloaded, and the given extras. */
struct env {
    char path[4096];
    char asan[512];
    char preload[512];
    char file[256];
    char *vec[5];
};

/* lib: preload it; file: EDDY_CLOCK_FILE's value, or NULL to leave the variable out. */
static inline char *const *env_build(struct env *e, bool lib, const char *file)
{
    size_t n = 0;
    const char *path = getenv("PATH");
    const char *asan = getenv("ASAN_OPTIONS");
    snprintf(e->path, sizeof(e->path), "PATH=%s", path ? path : "/usr/bin:/bin");
    /* Ours last, since ASan lets later options win. */
    snprintf(e->asan, sizeof(e->asan), "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
             asan ? asan : "", asan && *asan ? ":" : "");
    snprintf(e->preload, sizeof(e->preload), "LD_PRELOAD=%s", CLOCK_LIB);
    snprintf(e->file, sizeof(e->file), "%s=%s", CLOCKCTL_ENV, file ? file : "");
    e->vec[n++] = e->path;
    e->vec[n++] = e->asan;
    if (lib)
        e->vec[n++] = e->preload;
    if (file)
        e->vec[n++] = e->file;
    e->vec[n] = NULL;
    return e->vec;
}

/* Starts argv (argv[0] an absolute path) with envp; with route (not NULL) the child runs
 * clocksys_child_setup first, and the kid gets the listener and, if the route traces, its exec stop
 * handled (vDSO hidden). */
static inline struct kid *kid_spawn_route(char *const argv[], char *const envp[],
                                          struct clocksys_child *route)
{
    struct kid *k = NULL;
    for (size_t i = 0; i < KIDS_MAX && !k; i++)
        if (kids[i].pid == 0)
            k = &kids[i];
    cr_assert_not_null(k, "too many children");
    int in[2], out[2], sv[2] = {-1, -1};
    cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
    cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
    if (route) {
        cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        route->sock = sv[1];
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* Dies with the test process whatever happens to it (a crash, a timeout). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(126);
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        if (route && clocksys_child_setup(route, argv[0], argv, envp) < 0)
            _exit(125);
        execve(argv[0], argv, envp);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    *k = (struct kid){.pid = pid, .to_fd = in[1], .from_fd = out[0], .listener = -1};
    if (route) {
        close(sv[1]);
        enum clocksys_stage stage;
        int err;
        cr_assert_eq(clocksys_receive(sv[0], &stage, &err, &k->listener), 0);
        close(sv[0]);
        char why[256];
        cr_assert_eq(stage, CLOCKSYS_STAGE_OK, "route set-up: %s",
                     clocksys_stage_explain(stage, err, why, sizeof(why)));
        if (route->trap)
            cr_assert_geq(k->listener, 0);
        if (route->trace)
            cr_assert_eq(clocksys_exec_stop(pid, &kit_plan, &k->ex), 0, "exec stop: %s",
                         strerror(k->ex.error));
    }
    return k;
}

static inline struct kid *kid_spawn(char *const argv[], char *const envp[])
{
    return kid_spawn_route(argv, envp, NULL);
}

static inline struct kid *probe_spawn(const char *exe, bool lib, const char *file)
{
    struct env e;
    char *const argv[] = {(char *)exe, NULL};
    return kid_spawn(argv, env_build(&e, lib, file));
}

/* A program the kid execs gets what its first one got. */
static inline void kit_plan_after_exec(void *ctx, pid_t pid, struct clocksys_plan *out)
{
    *out = kit_plan;
}

/* Answers what waits on the kid's listener; fails the test if the listener broke. */
static inline void kid_serve(struct kid *k)
{
    if (k->listener < 0)
        return;
    int rc = clocksys_serve(k->listener, blk, 64, &k->st, kit_plan_after_exec, NULL);
    cr_assert(rc >= 0 || rc == -EPIPE, "serve: %s", strerror(-rc));
    cr_assert_eq(k->st.last_error, 0, "serve: %s", strerror(k->st.last_error));
}

/* Waits for the kid's stdout to be readable, serving its listener meanwhile. */
static inline void kid_wait_readable(struct kid *k, const char *what)
{
    for (;;) {
        struct pollfd pfd[2] = {{.fd = k->from_fd, .events = POLLIN},
                                {.fd = k->listener, .events = POLLIN}};
        int n = poll(pfd, k->listener >= 0 ? 2 : 1, REPLY_TIMEOUT_MS);
        cr_assert_gt(n, 0, "%s", what);
        if (k->listener >= 0 && pfd[1].revents)
            kid_serve(k);
        if (pfd[0].revents)
            return;
    }
}

/* Closes the child's stdin and expects a clean exit 0 within the timeout. */
static inline void kid_finish(struct kid *k)
{
    close(k->to_fd);
    k->to_fd = -1;
    char buf[256];
    for (;;) {
        kid_wait_readable(k, "child did not exit on EOF");
        if (read(k->from_fd, buf, sizeof(buf)) <= 0)
            break;
    }
    int status;
    cr_assert_eq(waitpid(k->pid, &status, 0), k->pid);
    k->pid = 0;
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    kid_kill(k);
}

static inline int64_t now_ns(clockid_t id)
{
    struct timespec ts;
    cr_assert_eq(clock_gettime(id, &ts), 0);
    return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

/* Real clock reads bracketing one request and its reply. */
struct window {
    int64_t rt0, rt1;     /* CLOCK_REALTIME before and after, ns */
    int64_t mono0, mono1; /* CLOCK_MONOTONIC before and after, ns */
};

/* Reads exactly one line into buf (a request already sent), serving the listener meanwhile. */
static inline void kid_read_line(struct kid *k, char *buf, size_t cap)
{
    size_t len = 0;
    while (len == 0 || buf[len - 1] != '\n') {
        kid_wait_readable(k, "no reply from child");
        cr_assert_lt(len, cap - 1, "reply too long");
        /* One byte at a time: the next line, if any, stays in the pipe. */
        ssize_t n = read(k->from_fd, buf + len, 1);
        cr_assert_gt(n, 0, "child closed its stdout");
        len += (size_t)n;
    }
    buf[len] = '\0';
}

/* Sends req (a line) and reads exactly one reply line into buf. */
static inline void kid_ask(struct kid *k, const char *req, char *buf, size_t cap, struct window *w)
{
    w->rt0 = now_ns(CLOCK_REALTIME);
    w->mono0 = now_ns(CLOCK_MONOTONIC);
    cr_assert_eq(write(k->to_fd, req, strlen(req)), (ssize_t)strlen(req), "child gone");
    kid_read_line(k, buf, cap);
    w->mono1 = now_ns(CLOCK_MONOTONIC);
    w->rt1 = now_ns(CLOCK_REALTIME);
}

/* One clock_probe answer (see clockprobe.c). */
struct sample {
    long pid;
    long long time_s, tod_us, rt_ns, tg_ns, mono_ns;
};

static inline void probe_ask(struct kid *k, const char *req, struct sample *s, struct window *w)
{
    char buf[256];
    kid_ask(k, req, buf, sizeof(buf), w);
    int n = sscanf(buf, "%ld %lld %lld %lld %lld %lld", &s->pid, &s->time_s, &s->tod_us, &s->rt_ns,
                   &s->tg_ns, &s->mono_ns);
    cr_assert_eq(n, 6, "bad reply: %s", buf);
}

/* ==== Expectations ==== */

static inline void expect_in(const char *what, int64_t v, int64_t lo, int64_t hi)
{
    cr_assert(v >= lo && v <= hi,
              "%s = %" PRId64 " outside [%" PRId64 ", %" PRId64 "] (%+.3f s from lo)", what, v, lo,
              hi, (double)(v - lo) / 1e9);
}

/* The fake clock's range over a window, with the tolerance. */
static inline void fake_range(const struct clockctl_params *p, const struct window *w, int64_t *lo,
                              int64_t *hi)
{
    int64_t f0 = clockctl_fake_ns(p, w->rt0), f1 = clockctl_fake_ns(p, w->rt1);
    *lo = EDDY_MIN(f0, f1) - TOL;
    *hi = EDDY_MAX(f0, f1) + TOL;
}

/* Expects the answer of a process on the clock that params p describe, with the monotonic clock
 * faked only if p says so. Between two real reads the fake clock is monotone except at a strobe
 * flip, and the tests keep flips seconds away from their requests. */
static inline void expect_clock(const struct clockctl_params *p, const struct sample *s,
                                const struct window *w)
{
    int64_t lo, hi;
    fake_range(p, w, &lo, &hi);
    expect_in("clock_gettime(REALTIME)", s->rt_ns, lo, hi);
    expect_in("timespec_get", s->tg_ns, lo, hi);
    expect_in("gettimeofday", s->tod_us * 1000, lo - 1000, hi);
    /* The real time() reads the tick-updated seconds, which may trail by a tick. */
    expect_in("time", s->time_s * SEC, lo - SEC - 20 * MS, hi);
    int64_t off0 = 0, off1 = 0;
    if (p->flags & CLOCKCTL_F_MONOTONIC) {
        off0 = clockctl_fake_ns(p, w->rt0) - w->rt0;
        off1 = clockctl_fake_ns(p, w->rt1) - w->rt1;
    }
    int64_t mlo = EDDY_MAX(0, w->mono0 + EDDY_MIN(off0, off1));
    int64_t mhi = EDDY_MAX(0, w->mono1 + EDDY_MAX(off0, off1));
    expect_in("clock_gettime(MONOTONIC)", s->mono_ns, mlo - TOL, mhi + TOL);
}

static inline void expect_fake(const struct sample *s, const struct window *w)
{
    struct clockctl_params p;
    cr_assert(clockctl_params_read(blk, &p));
    expect_clock(&p, s, w);
}

static inline void expect_real(const struct sample *s, const struct window *w)
{
    const struct clockctl_params real = {.rate = 1.0};
    expect_clock(&real, s, w);
}

#endif /* EDDY_TESTS_CLOCKKIT_H */
