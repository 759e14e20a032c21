/*
 * test_preload.c: libeddyclock.so in live processes, driven through the control block.
 *
 * The tests start clock_probe (and python3) with the library preloaded, change the block while the
 * process runs, and check each answer against the fake clock evaluated at real clock reads taken
 * just before the request and just after the reply: the child's read happened between the two, so
 * no sleep and almost no tolerance is needed. Every child is killed in the fixture's teardown,
 * and dies with the test process (PR_SET_PDEATHSIG) if that never runs.
 * Depends on: clockctl, clock_probe, clock_probe_static, libeddyclock.so, python3.
 */
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
    pid_t pid;   /* 0 once reaped */
    int to_fd;   /* its stdin, -1 once closed */
    int from_fd; /* its stdout */
};

static char tmp_dir[64];
static char blk_path[128];
static struct clockctl *blk;
static struct kid kids[KIDS_MAX];

static void kid_kill(struct kid *k)
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
    k->to_fd = k->from_fd = -1;
}

static void tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmp_dir, name);
}

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN); /* a dead child must fail an assertion, not kill the test */
    for (size_t i = 0; i < KIDS_MAX; i++)
        kids[i] = (struct kid){.pid = 0, .to_fd = -1, .from_fd = -1};
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/eddy-preload-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp_dir));
    tmp_path(blk_path, sizeof(blk_path), "n1.clock");
    cr_assert_eq(clockctl_create(blk_path, &blk), 0);
}

static void teardown(void)
{
    static const char names[][16] = {"link.clock"};
    for (size_t i = 0; i < KIDS_MAX; i++)
        kid_kill(&kids[i]);
    cr_assert_eq(clockctl_destroy(blk, blk_path), 0);
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        char p[128];
        tmp_path(p, sizeof(p), names[i]);
        unlink(p);
    }
    rmdir(tmp_dir);
}

TestSuite(preload, .init = setup, .fini = teardown);

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
static char *const *env_build(struct env *e, bool lib, const char *file)
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

static struct kid *kid_spawn(char *const argv[], char *const envp[])
{
    struct kid *k = NULL;
    for (size_t i = 0; i < KIDS_MAX && !k; i++)
        if (kids[i].pid == 0)
            k = &kids[i];
    cr_assert_not_null(k, "too many children");
    int in[2], out[2];
    cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
    cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
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
        execvpe(argv[0], argv, envp);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    *k = (struct kid){.pid = pid, .to_fd = in[1], .from_fd = out[0]};
    return k;
}

static struct kid *probe_spawn(const char *exe, bool lib, const char *file)
{
    struct env e;
    char *const argv[] = {(char *)exe, NULL};
    return kid_spawn(argv, env_build(&e, lib, file));
}

/* Closes the child's stdin and expects a clean exit 0 within the timeout. */
static void kid_finish(struct kid *k)
{
    close(k->to_fd);
    k->to_fd = -1;
    struct pollfd pfd = {.fd = k->from_fd, .events = POLLIN};
    char buf[256];
    for (;;) {
        cr_assert_eq(poll(&pfd, 1, REPLY_TIMEOUT_MS), 1, "child did not exit on EOF");
        if (read(k->from_fd, buf, sizeof(buf)) <= 0)
            break;
    }
    int status;
    cr_assert_eq(waitpid(k->pid, &status, 0), k->pid);
    k->pid = 0;
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    kid_kill(k);
}

static int64_t now_ns(clockid_t id)
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

/* Sends req (a line) and reads exactly one reply line into buf, with poll timeouts. */
static void kid_ask(struct kid *k, const char *req, char *buf, size_t cap, struct window *w)
{
    size_t len = 0;
    w->rt0 = now_ns(CLOCK_REALTIME);
    w->mono0 = now_ns(CLOCK_MONOTONIC);
    cr_assert_eq(write(k->to_fd, req, strlen(req)), (ssize_t)strlen(req), "child gone");
    while (len == 0 || buf[len - 1] != '\n') {
        struct pollfd pfd = {.fd = k->from_fd, .events = POLLIN};
        cr_assert_eq(poll(&pfd, 1, REPLY_TIMEOUT_MS), 1, "no reply from child");
        cr_assert_lt(len, cap - 1, "reply too long");
        ssize_t n = read(k->from_fd, buf + len, cap - 1 - len);
        cr_assert_gt(n, 0, "child closed its stdout");
        len += (size_t)n;
    }
    w->mono1 = now_ns(CLOCK_MONOTONIC);
    w->rt1 = now_ns(CLOCK_REALTIME);
    buf[len] = '\0';
}

/* One clock_probe answer (see clockprobe.c). */
struct sample {
    long pid;
    long long time_s, tod_us, rt_ns, tg_ns, mono_ns;
};

static void probe_ask(struct kid *k, const char *req, struct sample *s, struct window *w)
{
    char buf[256];
    kid_ask(k, req, buf, sizeof(buf), w);
    int n = sscanf(buf, "%ld %lld %lld %lld %lld %lld", &s->pid, &s->time_s, &s->tod_us, &s->rt_ns,
                   &s->tg_ns, &s->mono_ns);
    cr_assert_eq(n, 6, "bad reply: %s", buf);
}

/* ==== Expectations ==== */

static void expect_in(const char *what, int64_t v, int64_t lo, int64_t hi)
{
    cr_assert(v >= lo && v <= hi,
              "%s = %" PRId64 " outside [%" PRId64 ", %" PRId64 "] (%+.3f s from lo)", what, v, lo,
              hi, (double)(v - lo) / 1e9);
}

/* Expects the answer of a process on the clock that params p describe, with the monotonic clock
 * faked only if p says so. Between two real reads the fake clock is monotone except at a strobe
 * flip, and the tests keep flips seconds away from their requests. */
static void expect_clock(const struct clockctl_params *p, const struct sample *s,
                         const struct window *w)
{
    int64_t f0 = clockctl_fake_ns(p, w->rt0), f1 = clockctl_fake_ns(p, w->rt1);
    int64_t lo = EDDY_MIN(f0, f1) - TOL, hi = EDDY_MAX(f0, f1) + TOL;
    expect_in("clock_gettime(REALTIME)", s->rt_ns, lo, hi);
    expect_in("timespec_get", s->tg_ns, lo, hi);
    expect_in("gettimeofday", s->tod_us * 1000, lo - 1000, hi);
    /* The real time() reads the tick-updated seconds, which may trail by a tick. */
    expect_in("time", s->time_s * SEC, lo - SEC - 20 * MS, hi);
    int64_t off0 = 0, off1 = 0;
    if (p->flags & CLOCKCTL_F_MONOTONIC) {
        off0 = f0 - w->rt0;
        off1 = f1 - w->rt1;
    }
    int64_t mlo = EDDY_MAX(0, w->mono0 + EDDY_MIN(off0, off1));
    int64_t mhi = EDDY_MAX(0, w->mono1 + EDDY_MAX(off0, off1));
    expect_in("clock_gettime(MONOTONIC)", s->mono_ns, mlo - TOL, mhi + TOL);
}

static void expect_fake(const struct sample *s, const struct window *w)
{
    struct clockctl_params p;
    cr_assert(clockctl_params_read(blk, &p));
    expect_clock(&p, s, w);
}

static void expect_real(const struct sample *s, const struct window *w)
{
    const struct clockctl_params real = {.rate = 1.0};
    expect_clock(&real, s, w);
}

/* ==== Live processes ==== */

Test(preload, preload_follows_block_changes_without_restart)
{
    struct kid *k = probe_spawn(CLOCK_PROBE, true, blk_path);
    struct sample s;
    struct window w;
    probe_ask(k, "\n", &s, &w);
    expect_real(&s, &w);
    pid_t pid;
    cr_assert(clockctl_loaded(blk, &pid), "the library did not load");
    cr_assert_eq(pid, k->pid);
    cr_assert_eq(s.pid, k->pid);
    cr_assert_eq(clockctl_mapped_by(blk_path, k->pid), 1);
    uint64_t reads = clockctl_reads(blk);
    cr_assert_gt(reads, 0);

    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -HOUR), 0);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("offset -1 h", s.rt_ns - w.rt0, -HOUR - TOL, -HOUR + TOL + (w.rt1 - w.rt0));

    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), 5 * HOUR), 0);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("offset +5 h", s.rt_ns - w.rt0, 5 * HOUR - TOL, 5 * HOUR + TOL + (w.rt1 - w.rt0));

    /* Frozen: two answers, one exact value. */
    cr_assert_eq(clockctl_drift(blk, clockctl_real_now_ns(), 0.0), 0);
    const int64_t frozen = clockctl_fake_at(blk, clockctl_real_now_ns());
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    cr_assert_eq(s.rt_ns, frozen);
    cr_assert_eq(s.tg_ns, frozen);
    cr_assert_eq(s.tod_us, frozen / 1000);
    cr_assert_eq(s.time_s, frozen / SEC);
    probe_ask(k, "\n", &s, &w);
    cr_assert_eq(s.rt_ns, frozen);

    cr_assert_eq(clockctl_drift(blk, clockctl_real_now_ns(), 2.0), 0);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);

    /* Strobe with a 10 s period anchored in the past, so that no flip falls inside a request:
     * 15 s after its start is the middle of an odd (delta) phase, 25 s an even one. */
    int64_t now = clockctl_real_now_ns();
    cr_assert_eq(clockctl_set_offset(blk, now, 0), 0);
    cr_assert_eq(clockctl_strobe(blk, now - 15 * SEC, 10 * 60 * SEC, 10 * SEC), 0);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("strobe, odd phase", s.rt_ns - w.rt0, 600 * SEC - TOL, 600 * SEC + SEC);
    now = clockctl_real_now_ns();
    cr_assert_eq(clockctl_strobe(blk, now - 25 * SEC, 10 * 60 * SEC, 10 * SEC), 0);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("strobe, even phase", s.rt_ns - w.rt0, -TOL, SEC);

    /* Monotonic faking: same offset as realtime, and off again. */
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), 2 * HOUR), 0);
    clockctl_set_monotonic(blk, true);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("monotonic +2 h", s.mono_ns - w.mono0, 2 * HOUR - TOL, 2 * HOUR + SEC);
    clockctl_set_monotonic(blk, false);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("monotonic real again", s.mono_ns - w.mono0, -TOL, SEC);

    cr_assert_gt(clockctl_reads(blk), reads, "reads kept counting");
    kid_finish(k);
}

Test(preload, forked_child_shares_the_fake_clock)
{
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -3 * HOUR), 0);
    struct kid *k = probe_spawn(CLOCK_PROBE, true, blk_path);
    struct sample s;
    struct window w;
    probe_ask(k, "fork\n", &s, &w);
    cr_assert_neq(s.pid, k->pid, "answered by the forked child");
    expect_fake(&s, &w);
    pid_t pid;
    cr_assert(clockctl_loaded(blk, &pid));
    cr_assert_eq(pid, k->pid, "the fork left loaded_pid alone");
    kid_finish(k);
}

Test(preload, restart_into_the_past_replays_the_previous_start)
{
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -10 * SEC), 0);
    struct kid *a = probe_spawn(CLOCK_PROBE, true, blk_path);
    struct sample s;
    struct window w;
    probe_ask(a, "\n", &s, &w);
    expect_fake(&s, &w);
    const int64_t first_start = s.rt_ns;
    kid_kill(a);

    clockctl_mark_unloaded(blk);
    cr_assert_eq(clockctl_set_fake(blk, clockctl_real_now_ns(), first_start), 0);
    struct kid *b = probe_spawn(CLOCK_PROBE, true, blk_path);
    probe_ask(b, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("replayed start", s.rt_ns, first_start, first_start + 10 * SEC);
    pid_t pid;
    cr_assert(clockctl_loaded(blk, &pid));
    cr_assert_eq(pid, b->pid, "the new incarnation loaded");
    kid_finish(b);
}

Test(preload, static_binary_is_reported_as_not_faked)
{
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -HOUR), 0);
    struct kid *k = probe_spawn(CLOCK_PROBE_STATIC, true, blk_path);
    struct sample s;
    struct window w;
    probe_ask(k, "\n", &s, &w);
    expect_real(&s, &w);
    cr_assert_not(clockctl_loaded(blk, NULL), "a static binary cannot load the library");
    cr_assert_eq(clockctl_reads(blk), 0);
    cr_assert_eq(clockctl_mapped_by(blk_path, k->pid), 0);
    kid_finish(k);
}

enum bad_block {
    BAD_MAGIC,
    BAD_VERSION,
    BAD_SIZE_FIELD,
    BAD_FILE_SIZE,
    BAD_GROUP_WRITABLE,
    BAD_WORLD_WRITABLE,
    BAD_SYMLINK,
    BAD_DIRECTORY,
    BAD_MISSING,
    BAD_EMPTY_VAR,
    BAD_NO_VAR,
    BAD_COUNT
};

/* Spoils the block as case says and returns the path to hand the library (NULL: no variable). */
static const char *bad_block_make(enum bad_block bad, char *link, size_t cap)
{
    switch (bad) {
    case BAD_MAGIC:
        blk->magic[0] = 'X';
        break;
    case BAD_VERSION:
        blk->version = CLOCKCTL_VERSION + 1;
        break;
    case BAD_SIZE_FIELD:
        blk->size = 64;
        break;
    case BAD_FILE_SIZE:
        cr_assert_eq(truncate(blk_path, (off_t)sizeof(struct clockctl) + 8), 0);
        break;
    case BAD_GROUP_WRITABLE:
        cr_assert_eq(chmod(blk_path, 0620), 0);
        break;
    case BAD_WORLD_WRITABLE:
        cr_assert_eq(chmod(blk_path, 0602), 0);
        break;
    case BAD_SYMLINK:
        tmp_path(link, cap, "link.clock");
        cr_assert_eq(symlink(blk_path, link), 0);
        return link;
    case BAD_DIRECTORY:
        return tmp_dir;
    case BAD_MISSING:
        tmp_path(link, cap, "missing.clock");
        return link;
    case BAD_EMPTY_VAR:
        return "";
    case BAD_NO_VAR:
    case BAD_COUNT:
        return NULL;
    }
    return blk_path;
}

static void bad_block_undo(enum bad_block bad, const char *link)
{
    memcpy(blk->magic, CLOCKCTL_MAGIC, sizeof(blk->magic));
    blk->version = CLOCKCTL_VERSION;
    blk->size = sizeof(struct clockctl);
    cr_assert_eq(truncate(blk_path, (off_t)sizeof(struct clockctl)), 0);
    cr_assert_eq(chmod(blk_path, 0600), 0);
    if (bad == BAD_SYMLINK)
        unlink(link);
}

Test(preload, invalid_blocks_leave_the_real_clock)
{
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -HOUR), 0);
    for (int bad = 0; bad < BAD_COUNT; bad++) {
        char link[128];
        const char *file = bad_block_make((enum bad_block)bad, link, sizeof(link));
        struct kid *k = probe_spawn(CLOCK_PROBE, true, file);
        struct sample s;
        struct window w;
        probe_ask(k, "\n", &s, &w);
        expect_real(&s, &w);
        cr_assert_not(clockctl_loaded(blk, NULL), "case %d loaded", bad);
        cr_assert_eq(clockctl_reads(blk), 0, "case %d counted reads", bad);
        kid_finish(k);
        bad_block_undo((enum bad_block)bad, link);
    }
    /* The same block, repaired, loads: the cases above failed for their reason only. */
    struct kid *k = probe_spawn(CLOCK_PROBE, true, blk_path);
    struct sample s;
    struct window w;
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    cr_assert(clockctl_loaded(blk, NULL));
    kid_finish(k);
}

Test(preload, preload_without_a_block_is_a_pass_through)
{
    struct kid *k = probe_spawn(CLOCK_PROBE, true, NULL);
    struct sample s;
    struct window w;
    probe_ask(k, "fork\n", &s, &w);
    expect_real(&s, &w);
    probe_ask(k, "\n", &s, &w);
    expect_real(&s, &w);
    kid_finish(k);
}

static double python_ask(struct kid *k, struct window *w)
{
    char buf[128];
    kid_ask(k, "\n", buf, sizeof(buf), w);
    char *end;
    double t = strtod(buf, &end);
    cr_assert(end != buf && *end == '\n', "bad reply: %s", buf);
    return t;
}

/* A double of ~1.7e9 s resolves ~0.24 us, so the window widens by a microsecond. */
static void expect_python(double t, const struct window *w)
{
    struct clockctl_params p;
    cr_assert(clockctl_params_read(blk, &p));
    double lo = (double)(clockctl_fake_ns(&p, w->rt0) - TOL) / 1e9 - 1e-6;
    double hi = (double)(clockctl_fake_ns(&p, w->rt1) + TOL) / 1e9 + 1e-6;
    cr_assert(t >= lo && t <= hi, "time.time() = %.6f outside [%.6f, %.6f]", t, lo, hi);
}

Test(preload, python_sees_the_fake_time)
{
    struct env e;
    char *const argv[] = {(char *)"python3", (char *)"-c",
                          (char *)"import sys, time\n"
                                  "while sys.stdin.readline():\n"
                                  "    sys.stdout.write(repr(time.time()) + '\\n')\n"
                                  "    sys.stdout.flush()\n",
                          NULL};
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -HOUR), 0);
    struct kid *k = kid_spawn(argv, env_build(&e, true, blk_path));
    struct window w;
    expect_python(python_ask(k, &w), &w);
    pid_t pid;
    cr_assert(clockctl_loaded(blk, &pid));
    cr_assert_eq(pid, k->pid);
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), 5 * HOUR), 0);
    double t = python_ask(k, &w);
    expect_python(t, &w);
    cr_assert_gt(t * 1e9, (double)(w.rt0 + 5 * HOUR - SEC));
    kid_finish(k);
}
