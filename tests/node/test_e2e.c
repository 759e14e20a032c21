/*
 * test_e2e.c: the built eddy-node binary, driven through pipes as Maelstrom drives it.
 *
 * Each test forks and execs EDDY_BIN_DIR/eddy-node directly (no shell) and talks to it with
 * poll(2): every wait has a deadline, nothing sleeps, and the child is killed on every path (a
 * .fini hook, plus PR_SET_PDEATHSIG in case the test process itself dies). Memory bounds are
 * read from /proc/<pid>/status while the node is still running.
 * Depends on: the eddy-node binary, POSIX, Linux (/proc, pidfd, prctl), testkit.h.
 */
#include "testkit.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NODE_BIN EDDY_BIN_DIR "/eddy-node"
#define WAIT_MS 10000 /* longest wait without any progress */
#define MEM_LIMIT_KB (64 * 1024)

/* Options of every test: kill the child on every path, and one shared .timeout (Criterion 2.4.1's
 * runner leaks a 48-byte record, and so fails under LeakSanitizer, when a test with a shorter
 * timeout finishes before a longer-timeout one running alongside it). */
#define E2E_OPTS .fini = proc_cleanup, .timeout = 120

extern char **environ;

/* ==== Driving a child process ==== */

struct sink {
    char *p;
    size_t len, cap;
    size_t lines; /* complete lines in p[0..len) */
    bool eof;
};

struct proc {
    pid_t pid;
    int pidfd;  /* -1 if pidfd_open is unavailable */
    int in_fd;  /* our end of its stdin, -1 once closed */
    int out_fd; /* our end of its stdout, -1 if not a pipe or closed */
    int err_fd; /* our end of its stderr */
    struct sink out, err;
    const char *wbuf; /* bytes still to write to its stdin (borrowed) */
    size_t wlen, woff;
    bool close_after_write; /* close stdin once wbuf is written */
    bool read_out;          /* false: leave stdout unread, as a stalled peer would */
    int status;             /* wait status, once reaped */
    bool reaped;
};

struct spawn_opts {
    const char *const *args; /* arguments after argv[0], NULL-terminated; NULL for none */
    const char *eddy_ids;    /* value for EDDY_IDS, or NULL to remove it from the environment */
    int stdin_fd;            /* 0: a pipe; otherwise this descriptor */
    int stdout_fd;           /* 0: a pipe; otherwise this descriptor */
};

static struct proc *live; /* the child to kill if the test ends early */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void proc_kill(struct proc *p)
{
    if (p->pid > 0 && !p->reaped) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &p->status, 0);
        p->reaped = true;
    }
}

static void proc_close_fds(struct proc *p)
{
    int *fds[] = {&p->in_fd, &p->out_fd, &p->err_fd, &p->pidfd};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}

static void proc_cleanup(void)
{
    if (!live)
        return;
    proc_kill(live);
    proc_close_fds(live);
    free(live->out.p);
    free(live->err.p);
    free(live);
    live = NULL;
}

/* Builds the child's environment: ours, minus EDDY_IDS, plus EDDY_IDS=value if given. */
static char **child_env(const char *eddy_ids, char *ids_var, size_t ids_cap)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof(*env));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "EDDY_IDS=", 9) != 0)
            env[k++] = environ[i];
    if (eddy_ids) {
        snprintf(ids_var, ids_cap, "EDDY_IDS=%s", eddy_ids);
        env[k++] = ids_var;
    }
    env[k] = NULL;
    return env;
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    cr_assert_geq(fl, 0);
    cr_assert_eq(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

static struct proc *proc_spawn(const struct spawn_opts *o)
{
    signal(SIGPIPE, SIG_IGN); /* a child that exits early must not kill the test */
    struct proc *p = calloc(1, sizeof(*p));
    p->in_fd = p->out_fd = p->err_fd = p->pidfd = -1;
    p->read_out = true;
    live = p;

    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2];
    if (!o->stdin_fd)
        cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
    if (!o->stdout_fd)
        cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
    cr_assert_eq(pipe2(err, O_CLOEXEC), 0);

    const char *argv[16] = {NODE_BIN};
    size_t argc = 1;
    for (size_t i = 0; o->args && o->args[i]; i++) {
        cr_assert_lt(argc, 15);
        argv[argc++] = o->args[i];
    }
    char ids_var[64];
    char **env = child_env(o->eddy_ids, ids_var, sizeof(ids_var));
    pid_t parent = getpid();

    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork failed");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        signal(SIGPIPE, SIG_DFL);
        int fd0 = o->stdin_fd ? o->stdin_fd : in[0];
        int fd1 = o->stdout_fd ? o->stdout_fd : out[1];
        if (dup2(fd0, 0) < 0 || dup2(fd1, 1) < 0 || dup2(err[1], 2) < 0)
            _exit(127);
        execve(NODE_BIN, (char *const *)argv, env);
        _exit(127);
    }
    free(env);
    p->pid = pid;
    p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (!o->stdin_fd) {
        close(in[0]);
        p->in_fd = in[1];
        set_nonblock(p->in_fd);
    }
    if (!o->stdout_fd) {
        close(out[1]);
        p->out_fd = out[0];
        set_nonblock(p->out_fd);
    }
    close(err[1]);
    p->err_fd = err[0];
    set_nonblock(p->err_fd);
    return p;
}

static void proc_close_stdin(struct proc *p)
{
    if (p->in_fd >= 0)
        close(p->in_fd);
    p->in_fd = -1;
}

/* Queues bytes for the child's stdin (the buffer is borrowed until written). */
static void proc_write(struct proc *p, const char *data, size_t n, bool then_close)
{
    cr_assert_eq(p->woff, p->wlen, "a previous write is still pending");
    p->wbuf = data;
    p->wlen = n;
    p->woff = 0;
    p->close_after_write = then_close;
    if (n == 0 && then_close)
        proc_close_stdin(p);
}

static void sink_read(struct sink *s, int *fd)
{
    for (;;) {
        if (s->cap - s->len < 65536) {
            s->cap = s->cap ? 2 * s->cap : 1 << 17;
            s->p = realloc(s->p, s->cap);
            cr_assert_not_null(s->p);
        }
        ssize_t n = read(*fd, s->p + s->len, s->cap - s->len);
        if (n > 0) {
            s->lines += count_lines(s->p + s->len, (size_t)n);
            s->len += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EINTR))
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        s->eof = true;
        close(*fd);
        *fd = -1;
        return;
    }
}

/* One poll round: writes pending stdin, reads stdout (when read_out) and stderr. Returns false
 * when nothing happened within timeout_ms or there is nothing left to watch. */
static bool proc_step(struct proc *p, int timeout_ms)
{
    struct pollfd fds[3];
    int n = 0, at_in = -1, at_out = -1, at_err = -1;
    if (p->in_fd >= 0 && p->woff < p->wlen) {
        fds[n] = (struct pollfd){.fd = p->in_fd, .events = POLLOUT};
        at_in = n++;
    }
    if (p->out_fd >= 0 && p->read_out) {
        fds[n] = (struct pollfd){.fd = p->out_fd, .events = POLLIN};
        at_out = n++;
    }
    if (p->err_fd >= 0) {
        fds[n] = (struct pollfd){.fd = p->err_fd, .events = POLLIN};
        at_err = n++;
    }
    if (n == 0)
        return false;
    int r = poll(fds, (nfds_t)n, timeout_ms);
    if (r < 0 && errno == EINTR)
        return true;
    cr_assert_geq(r, 0, "poll: %s", strerror(errno));
    if (r == 0)
        return false;
    if (at_in >= 0 && fds[at_in].revents) {
        ssize_t w = write(p->in_fd, p->wbuf + p->woff, p->wlen - p->woff);
        if (w > 0)
            p->woff += (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EINTR)
            cr_assert_fail("writing to the node's stdin: %s", strerror(errno));
        if (p->woff == p->wlen && p->close_after_write)
            proc_close_stdin(p);
    }
    if (at_out >= 0 && fds[at_out].revents)
        sink_read(&p->out, &p->out_fd);
    if (at_err >= 0 && fds[at_err].revents)
        sink_read(&p->err, &p->err_fd);
    return true;
}

static size_t sink_lines(const struct sink *s)
{
    return s->lines;
}

/* Steps until `count` complete lines have arrived in `s` and stdin is written. Fails when
 * nothing at all happens for WAIT_MS: a deadline on progress, so that a long transfer on a loaded
 * machine does not time out while it is moving. */
static void proc_wait_lines(struct proc *p, struct sink *s, size_t count, const char *what)
{
    int64_t deadline = now_ms() + WAIT_MS;
    while (s->lines < count || p->woff < p->wlen) {
        int64_t left = deadline - now_ms();
        CHECK(left > 0, "timed out waiting for %s (have %zu of %zu lines)", what, s->lines, count);
        if (proc_step(p, (int)left))
            deadline = now_ms() + WAIT_MS;
        CHECK(!s->eof || s->lines >= count, "output ended waiting for %s (have %zu of %zu lines)",
              what, s->lines, count);
    }
}

/* Waits (with a deadline) for the child to exit, reading its output meanwhile; returns the
 * wait status. */
static int proc_wait_exit(struct proc *p, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    while ((p->out_fd >= 0 && p->read_out) || p->err_fd >= 0 || p->woff < p->wlen) {
        int64_t left = deadline - now_ms();
        CHECK(left > 0, "the node did not exit (its output stayed open)");
        if (proc_step(p, (int)left))
            deadline = now_ms() + timeout_ms; /* still producing output: not stuck */
    }
    if (p->pidfd >= 0) {
        struct pollfd pf = {.fd = p->pidfd, .events = POLLIN};
        int64_t left = deadline - now_ms();
        cr_assert_gt(left, 0);
        cr_assert_eq(poll(&pf, 1, (int)left), 1, "the node did not exit");
    }
    cr_assert_eq(waitpid(p->pid, &p->status, 0), p->pid);
    p->reaped = true;
    return p->status;
}

static void expect_exit_code(struct proc *p, int code)
{
    int st = proc_wait_exit(p, WAIT_MS);
    cr_assert(WIFEXITED(st), "the node died of signal %d; stderr:\n%.*s",
              WIFSIGNALED(st) ? WTERMSIG(st) : 0, CLIP(p->err.len), p->err.p);
    cr_assert_eq(WEXITSTATUS(st), code, "exit status %d, want %d; stderr:\n%.*s", WEXITSTATUS(st),
                 code, CLIP(p->err.len), p->err.p);
}

/* Line i (0-based) of a sink, without its newline, copied into a NUL-terminated string. */
static char *sink_line(const struct sink *s, size_t i)
{
    const char *p = s->p, *end = s->p + s->len;
    for (size_t k = 0; k < i; k++) {
        p = memchr(p, '\n', (size_t)(end - p));
        cr_assert_not_null(p, "no line %zu", i);
        p++;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    cr_assert_not_null(nl, "line %zu is not terminated", i);
    return strndup(p, (size_t)(nl - p));
}

static void expect_line(const struct sink *s, size_t i, const char *want)
{
    char *got = sink_line(s, i);
    cr_assert(strcmp(got, want) == 0, "line %zu:\n  got  %.*s\n  want %s", i, CLIP(strlen(got)),
              got, want);
    free(got);
}

static void expect_line_matches(const struct sink *s, size_t i, const char *pattern)
{
    regex_t re;
    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    char *got = sink_line(s, i);
    cr_assert_eq(regexec(&re, got, 0, NULL, 0), 0, "line %zu: %.*s\n  does not match %s", i,
                 CLIP(strlen(got)), got, pattern);
    free(got);
    regfree(&re);
}

/* Lines of s containing `needle`. */
static size_t sink_count_matching(const struct sink *s, const char *needle)
{
    size_t k = 0;
    const char *p = s->p, *end = s->p + s->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        if (memmem(p, (size_t)(stop - p), needle, strlen(needle)))
            k++;
        p = stop + 1;
    }
    return k;
}

/* A field of /proc/<pid>/status in kB (VmRSS, VmHWM). */
static long proc_status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    long kb = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            kb = strtol(line + fl + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    cr_assert_geq(kb, 0, "no %s in %s", field, path);
    return kb;
}

/* Sends one line and waits for the stdout line count to reach `expect_lines`. */
static void send_and_wait(struct proc *p, const char *line, size_t expect_lines)
{
    static char buf[4096];
    size_t n = strlen(line);
    cr_assert_lt(n + 1, sizeof(buf));
    memcpy(buf, line, n);
    buf[n] = '\n';
    proc_write(p, buf, n + 1, false);
    proc_wait_lines(p, &p->out, expect_lines, line);
}

#define INIT_N0                                                                                    \
    "{\"id\":0,\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n0\","     \
    "\"node_ids\":[\"n0\",\"n1\",\"n2\"],\"msg_id\":1}}"
#define INIT_OK_N0                                                                                 \
    "{\"src\":\"n0\",\"dest\":\"c0\",\"body\":{\"type\":\"init_ok\",\"in_reply_to\":1}}"
#define EDDY_ID_RE "\"[0-9A-HJKMNP-TV-Z]{27}-n0\""

/* ==== The scripted exchange ==== */

Test(e2e, answers_a_scripted_maelstrom_exchange, E2E_OPTS)
{
    struct proc *p = proc_spawn(&(struct spawn_opts){0});
    send_and_wait(p, INIT_N0, 1);
    expect_line(&p->out, 0, INIT_OK_N0);

    send_and_wait(p,
                  "{\"id\":5,\"src\":\"c2\",\"dest\":\"n0\",\"body\":{\"echo\":\"Please echo 42\","
                  "\"type\":\"echo\",\"msg_id\":1}}",
                  2);
    expect_line(&p->out, 1,
                "{\"src\":\"n0\",\"dest\":\"c2\",\"body\":{\"type\":\"echo_ok\",\"echo\":"
                "\"Please echo 42\",\"in_reply_to\":1}}");

    send_and_wait(p,
                  "{\"id\":7,\"src\":\"c2\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\","
                  "\"msg_id\":2}}",
                  3);
    expect_line_matches(&p->out, 2,
                        "^\\{\"src\":\"n0\",\"dest\":\"c2\",\"body\":\\{\"type\":\"generate_ok\","
                        "\"id\":" EDDY_ID_RE ",\"in_reply_to\":2\\}\\}$");

    send_and_wait(p,
                  "{\"id\":9,\"src\":\"c2\",\"dest\":\"n0\",\"body\":{\"type\":\"topology\","
                  "\"msg_id\":3}}",
                  4);
    expect_line(&p->out, 3,
                "{\"src\":\"n0\",\"dest\":\"c2\",\"body\":{\"type\":\"error\",\"code\":10,"
                "\"text\":\"unsupported message type\",\"in_reply_to\":3}}");

    /* Garbage: no reply, and one line on stderr that quotes it. */
    proc_write(p, "this is not json at all\n", 24, true);
    expect_exit_code(p, 0);

    cr_assert_eq(sink_lines(&p->out), 4, "stdout has %zu lines:\n%.*s", sink_lines(&p->out),
                 CLIP(p->out.len), p->out.p);
    cr_assert_eq(p->out.p[p->out.len - 1], '\n');
    cr_assert_eq(sink_count_matching(&p->err, "this is not json at all"), 1, "stderr:\n%.*s",
                 CLIP(p->err.len), p->err.p);
}

Test(e2e, answers_an_unterminated_last_line_at_eof, E2E_OPTS)
{
    struct proc *p = proc_spawn(&(struct spawn_opts){0});
    static const char input[] =
        INIT_N0 "\n{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":[1],"
                "\"msg_id\":2}}";
    proc_write(p, input, sizeof(input) - 1, true);
    expect_exit_code(p, 0);
    cr_assert_eq(sink_lines(&p->out), 2);
    expect_line(&p->out, 0, INIT_OK_N0);
    expect_line(&p->out, 1,
                "{\"src\":\"n0\",\"dest\":\"c1\",\"body\":{\"type\":\"echo_ok\",\"echo\":[1],"
                "\"in_reply_to\":2}}");
}

/* ==== Bounded memory ==== */

Test(e2e, discards_a_10mb_line_and_stays_bounded, E2E_OPTS)
{
    struct proc *p = proc_spawn(&(struct spawn_opts){0});
    send_and_wait(p, INIT_N0, 1);

    static const char head[] =
        "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"msg_id\":2,\"echo\":\"";
    static const char tail[] =
        "\"}}\n{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":\"after\","
        "\"msg_id\":3}}\n";
    size_t big = 10u << 20;
    size_t n = sizeof(head) - 1 + big + sizeof(tail) - 1;
    char *input = malloc(n);
    memcpy(input, head, sizeof(head) - 1);
    memset(input + sizeof(head) - 1, 'x', big);
    memcpy(input + sizeof(head) - 1 + big, tail, sizeof(tail) - 1);
    proc_write(p, input, n, false);
    proc_wait_lines(p, &p->out, 2, "the echo after the 10 MB line");
    long hwm = proc_status_kb(p->pid, "VmHWM");
    cr_assert_lt(hwm, MEM_LIMIT_KB, "VmHWM %ld kB after a 10 MB line", hwm);
    expect_line(&p->out, 1,
                "{\"src\":\"n0\",\"dest\":\"c1\",\"body\":{\"type\":\"echo_ok\",\"echo\":\"after\","
                "\"in_reply_to\":3}}");
    proc_write(p, "", 0, true);
    expect_exit_code(p, 0);
    cr_assert_eq(sink_lines(&p->out), 2, "the oversized line got a reply");
    /* One log line, giving the oversized line's length (newline excluded). */
    char len_text[32];
    snprintf(len_text, sizeof(len_text), "%zu", sizeof(head) - 1 + big + 3);
    cr_assert_eq(sink_count_matching(&p->err, len_text), 1, "no log line with %s:\n%.*s", len_text,
                 CLIP(p->err.len), p->err.p);
    free(input);
}

/* The n-th generate request (1-based), as a line. */
static size_t generate_request(char *out, size_t cap, int n)
{
    int k = snprintf(out, cap,
                     "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\","
                     "\"msg_id\":%d}}\n",
                     n);
    cr_assert(k > 0 && (size_t)k < cap);
    return (size_t)k;
}

Test(e2e, pauses_input_while_stdout_is_not_read, E2E_OPTS)
{
    enum { COUNT = 200000 };
    struct proc *p = proc_spawn(&(struct spawn_opts){0});
    send_and_wait(p, INIT_N0, 1);

    char *input = malloc((size_t)COUNT * 80);
    size_t n = 0;
    for (int i = 1; i <= COUNT; i++)
        n += generate_request(input + n, 80, i);

    /* Write without reading stdout until the node stops taking input for half a second. */
    p->read_out = false;
    proc_write(p, input, n, true);
    while (p->woff < p->wlen && proc_step(p, 500))
        ;
    cr_assert_lt(p->woff, p->wlen, "the node took all %zu bytes of requests unread", n);
    long rss = proc_status_kb(p->pid, "VmRSS");
    long hwm = proc_status_kb(p->pid, "VmHWM");
    cr_assert_lt(rss, MEM_LIMIT_KB, "VmRSS %ld kB with stdout unread", rss);
    cr_assert_lt(hwm, MEM_LIMIT_KB, "VmHWM %ld kB with stdout unread", hwm);

    /* Now drain: every request gets its reply, in order. */
    p->read_out = true;
    proc_wait_lines(p, &p->out, 1 + COUNT, "all generate replies");
    expect_exit_code(p, 0);
    cr_assert_eq(sink_lines(&p->out), 1 + COUNT);
    static const char prefix[] =
        "{\"src\":\"n0\",\"dest\":\"c1\",\"body\":{\"type\":\"generate_ok\",\"id\":\"";
    const char *line = (const char *)memchr(p->out.p, '\n', p->out.len) + 1;
    char prev_id[40] = "";
    for (int i = 1; i <= COUNT; i++) {
        const char *nl = memchr(line, '\n', (size_t)(p->out.p + p->out.len - line));
        cr_assert_not_null(nl);
        size_t len = (size_t)(nl - line);
        char want_tail[48];
        int tl = snprintf(want_tail, sizeof(want_tail), "-n0\",\"in_reply_to\":%d}}", i);
        size_t pl = sizeof(prefix) - 1;
        if (len != pl + 27 + (size_t)tl || memcmp(line, prefix, pl) != 0 ||
            memcmp(line + pl + 27, want_tail, (size_t)tl) != 0 ||
            memcmp(line + pl, prev_id, 27) <= 0)
            cr_assert_fail("reply %d: %.*s", i, (int)len, line);
        memcpy(prev_id, line + pl, 27);
        line = nl + 1;
    }
    free(input);
}

Test(e2e, answers_every_line_when_stdout_is_a_file, E2E_OPTS)
{
    /* stdin and stdout are files, as in `eddy-node < requests > replies`. A 254-byte node id
     * makes each reply about ten times longer than its request, so one 256 KiB read of input
     * fills the output above IO_OUT_HIGH more than once. */
    enum { COUNT = 20000 };
    char name[255];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    int in = memfd_create("eddy-e2e-in", MFD_CLOEXEC);
    int out = memfd_create("eddy-e2e-out", MFD_CLOEXEC);
    cr_assert(in >= 0 && out >= 0);
    FILE *f = fdopen(dup(in), "w");
    fprintf(f,
            "{\"src\":\"c0\",\"dest\":\"%s\",\"body\":{\"type\":\"init\",\"node_id\":\"%s\","
            "\"node_ids\":[\"%s\"],\"msg_id\":1}}\n",
            name, name, name);
    for (int i = 1; i <= COUNT; i++)
        fprintf(f,
                "{\"src\":\"c1\",\"dest\":\"\",\"body\":{\"type\":\"generate\",\"msg_id\":%d}}\n",
                i);
    fclose(f);
    cr_assert_eq(lseek(in, 0, SEEK_SET), 0);

    struct proc *p = proc_spawn(&(struct spawn_opts){.stdin_fd = in, .stdout_fd = out});
    close(in);
    expect_exit_code(p, 0);
    off_t size = lseek(out, 0, SEEK_END);
    cr_assert_gt(size, 0);
    char *text = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, out, 0);
    cr_assert_neq(text, MAP_FAILED);
    size_t lines = count_lines(text, (size_t)size);
    munmap(text, (size_t)size);
    close(out);
    cr_assert_eq(lines, 1 + COUNT,
                 "%zu replies to %d requests: the node exited before reading all of its input",
                 lines, 1 + COUNT);
}

Test(e2e, keeps_reading_stdin_after_stdout_closes, E2E_OPTS)
{
    struct proc *p = proc_spawn(&(struct spawn_opts){0});
    close(p->out_fd); /* the reader goes away: the node's writes get EPIPE */
    p->out_fd = -1;
    static const char input[] =
        INIT_N0 "\n{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":1,"
                "\"msg_id\":2}}\n";
    proc_write(p, input, sizeof(input) - 1, true);
    expect_exit_code(p, 0);
    cr_assert_geq(sink_count_matching(&p->err, "stdout"), 1, "stderr:\n%.*s", (int)p->err.len,
                  p->err.p);
}

/* ==== Command line ==== */

static void expect_first_generate_is_1(struct proc *p)
{
    send_and_wait(p, INIT_N0, 1);
    send_and_wait(
        p, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":2}}", 2);
    expect_line(&p->out, 1,
                "{\"src\":\"n0\",\"dest\":\"c1\",\"body\":{\"type\":\"generate_ok\",\"id\":1,"
                "\"in_reply_to\":2}}");
    proc_write(p, "", 0, true);
    expect_exit_code(p, 0);
}

Test(e2e, ids_flag_selects_the_counter_strategy, E2E_OPTS)
{
    static const char *const args[] = {"--ids", "counter", NULL};
    expect_first_generate_is_1(proc_spawn(&(struct spawn_opts){.args = args}));
}

Test(e2e, ids_flag_with_equals_selects_the_counter_strategy, E2E_OPTS)
{
    static const char *const args[] = {"--ids=counter", NULL};
    expect_first_generate_is_1(proc_spawn(&(struct spawn_opts){.args = args}));
}

Test(e2e, eddy_ids_variable_selects_the_counter_strategy, E2E_OPTS)
{
    expect_first_generate_is_1(proc_spawn(&(struct spawn_opts){.eddy_ids = "counter"}));
}

Test(e2e, ids_flag_overrides_the_variable, E2E_OPTS)
{
    static const char *const args[] = {"--ids", "counter", NULL};
    expect_first_generate_is_1(
        proc_spawn(&(struct spawn_opts){.args = args, .eddy_ids = "timestamp"}));
}

Test(e2e, default_strategy_is_eddy, E2E_OPTS)
{
    struct proc *p = proc_spawn(&(struct spawn_opts){0});
    send_and_wait(p, INIT_N0, 1);
    send_and_wait(
        p, "{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":2}}", 2);
    expect_line_matches(&p->out, 1, "\"id\":" EDDY_ID_RE ",");
    proc_write(p, "", 0, true);
    expect_exit_code(p, 0);
}

Test(e2e, unknown_ids_value_exits_2, E2E_OPTS)
{
    static const char *const args[] = {"--ids", "bogus-strategy", NULL};
    struct proc *p = proc_spawn(&(struct spawn_opts){.args = args});
    expect_exit_code(p, 2);
    cr_assert_geq(sink_count_matching(&p->err, "bogus-strategy"), 1, "stderr:\n%.*s",
                  CLIP(p->err.len), p->err.p);
    cr_assert_eq(p->out.len, 0, "wrote to stdout: %.*s", CLIP(p->out.len), p->out.p);
}

Test(e2e, unknown_eddy_ids_variable_exits_2, E2E_OPTS)
{
    struct proc *p = proc_spawn(&(struct spawn_opts){.eddy_ids = "uuid9"});
    expect_exit_code(p, 2);
    cr_assert_geq(sink_count_matching(&p->err, "uuid9"), 1, "stderr:\n%.*s", (int)p->err.len,
                  p->err.p);
}

Test(e2e, unknown_argument_exits_2, E2E_OPTS)
{
    static const char *const args[] = {"--frobnicate", NULL};
    struct proc *p = proc_spawn(&(struct spawn_opts){.args = args});
    expect_exit_code(p, 2);
    cr_assert_gt(p->err.len, 0);
}

Test(e2e, help_lists_every_strategy, E2E_OPTS)
{
    static const char *const args[] = {"--help", NULL};
    struct proc *p = proc_spawn(&(struct spawn_opts){.args = args});
    expect_exit_code(p, 0);
    static const char *const names[] = {"eddy",      "counter",  "timestamp", "node-counter-time",
                                        "snowflake", "random32", "uuid4",     "uuid7"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        cr_assert_geq(sink_count_matching(&p->out, names[i]), 1, "--help omits %s", names[i]);
}
