/*
 * proc.c: node processes (see proc.h).
 *
 * Spawning follows libuv's pattern: pipes are created close-on-exec, and a further
 * close-on-exec pipe carries errno back from a failed execve, so the parent learns "No such file"
 * at once instead of seeing an exit status 127 later. The child puts itself in its own process
 * group (so a kill reaches anything it forks) and asks for SIGKILL when eddy dies, so not even a
 * SIGKILLed eddy leaves a node behind.
 * Depends on: buf, line, alloc, contain, utf8, libev. Used by: run.
 */
#include "proc.h"
#include "contain.h"
#include "utf8.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ==== Emergency registry ==== */

/* Process groups alive now, for proc_kill_all_emergency(). Slots are claimed and released
 * from the event loop only; the signal handler just reads them. */
#define REGISTRY_MAX 8192
static volatile pid_t registry[REGISTRY_MAX];

static void registry_set(uint32_t index, pid_t pgid)
{
    if (index < REGISTRY_MAX)
        registry[index] = pgid;
}

void proc_kill_all_emergency(void)
{
    contain_kill_emergency();
    for (int i = 0; i < REGISTRY_MAX; i++) {
        pid_t g = registry[i];
        if (g > 0)
            kill(-g, SIGKILL);
    }
}

/* ==== Descriptors ==== */

static struct rlimit nofile_given; /* the limit eddy was started with, for its nodes */
static bool nofile_raised;

int proc_reserve_fds(uint32_t nodes, char *err, size_t elen)
{
    rlim_t need = (rlim_t)nodes * PROC_FDS_PER_NODE + PROC_FDS_OWN;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        snprintf(err, elen,
                 "%u nodes need about %llu file descriptors, and the limit is %llu (ulimit -n; "
                 "at most %llu nodes)",
                 nodes, (unsigned long long)need, (unsigned long long)rl.rlim_max,
                 (unsigned long long)(rl.rlim_max > PROC_FDS_OWN
                                          ? (rl.rlim_max - PROC_FDS_OWN) / PROC_FDS_PER_NODE
                                          : 0));
        return -EMFILE;
    }
    struct rlimit up = {.rlim_cur = need, .rlim_max = rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &up) < 0) {
        snprintf(err, elen,
                 "%u nodes need about %llu file descriptors: cannot raise the limit "
                 "from %llu: %s",
                 nodes, (unsigned long long)need, (unsigned long long)rl.rlim_cur, strerror(errno));
        return -EMFILE;
    }
    if (!nofile_raised)
        nofile_given = rl;
    nofile_raised = true;
    return 0;
}

/* ==== Dirty list ==== */

/* Processes with queued stdin bytes. A process is on the list exactly while p->dirty is set:
 * only proc_flush_dirty() takes it off and clears the flag. proc_flush() may run for a listed
 * process too (its writability watcher fires before the loop's prepare phase), so it must not
 * touch the flag: clearing it there would let mark_dirty() link the process a second time and
 * close the list into a cycle that proc_flush_dirty() would walk for ever. */
static struct proc *dirty_head;

unsigned proc_flush_dirty(void)
{
    unsigned n = 0;
    struct proc *p = dirty_head;
    dirty_head = NULL;
    while (p) {
        struct proc *next = p->next_dirty;
        p->next_dirty = NULL;
        p->dirty = false;
        proc_flush(p);
        n++;
        p = next;
    }
    return n;
}

/* ==== Rings of recent lines ==== */

static void ring_push(struct proc_ring *r, const char *line, size_t len)
{
    size_t n = EDDY_MIN(len, (size_t)PROC_RING_LINE_MAX);
    memcpy(r->line[r->next], line, n);
    r->len[r->next] = (uint16_t)n;
    r->next = (r->next + 1) % PROC_RING_LINES;
    if (r->count < PROC_RING_LINES)
        r->count++;
}

static void ring_describe(const struct proc_ring *r, const char *what, struct buf *out)
{
    char head[64];
    int n = snprintf(head, sizeof(head), "  last %u lines of %s:\n", r->count, what);
    buf_append(out, head, (size_t)n);
    unsigned first = (r->next + PROC_RING_LINES - r->count) % PROC_RING_LINES;
    for (unsigned i = 0; i < r->count; i++) {
        unsigned k = (first + i) % PROC_RING_LINES;
        /* For people and for results.json: well-formed UTF-8, NUL bytes shown as U+FFFD. */
        char shown[utf8_repaired_max(PROC_RING_LINE_MAX)];
        buf_append(out, "    ", 4);
        buf_append(out, shown, utf8_repair(shown, r->line[k], r->len[k], true));
        buf_append(out, "\n", 1);
    }
}

void proc_describe_last_lines(const struct proc *p, struct buf *out)
{
    ring_describe(&p->out_ring, "stdout", out);
    ring_describe(&p->err_ring, "stderr", out);
}

/* ==== Watchers ==== */

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void proc_stdout_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct proc *p = container_of(w, struct proc, out_w);
    for (int r = 0; r < PROC_READS_PER_EVENT; r++) {
        if (p->out_paused && p->running)
            return; /* back-pressure, perhaps from a line just handed over */
        size_t room;
        char *space = line_reader_space(&p->out_lr, &room);
        ssize_t n = read(p->out_fd, space, EDDY_MIN(room, (size_t)PROC_READ_CHUNK));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            /* EOF (or an error, which means the same here): hand over an unterminated last
             * line, then stop watching. The exit itself arrives through the child watcher. */
            const char *line;
            size_t len;
            int rc = line_reader_finish(&p->out_lr, &line, &len);
            if (rc > 0 && p->killed) {
                /* Cut by eddy's own SIGKILL (a line longer than a pipe's atomic write, written
                 * in pieces): Maelstrom only logs such a fragment. */
                p->cut_count++;
                p->cut_bytes += len;
                p->cut_last_len = EDDY_MIN(len, sizeof(p->cut_last));
                memcpy(p->cut_last, line, p->cut_last_len);
            } else if (rc != 0) {
                p->stdout_lines++;
                if (rc > 0)
                    ring_push(&p->out_ring, line, len);
                p->on_line(p, rc > 0 ? line : NULL, rc > 0 ? len : p->out_lr.discarded);
            }
            p->stdout_eof = true;
            ev_io_stop(loop, &p->out_w);
            return;
        }
        line_reader_commit(&p->out_lr, (size_t)n);
        const char *line;
        size_t len;
        int rc;
        while ((rc = line_reader_next(&p->out_lr, &line, &len)) != 0) {
            p->stdout_lines++;
            if (rc > 0) {
                ring_push(&p->out_ring, line, len);
                p->on_line(p, line, len);
            } else {
                p->on_line(p, NULL, p->out_lr.discarded);
            }
            if (!p->running && p->out_fd < 0)
                return; /* the callback released us */
        }
        if ((size_t)n < room && (size_t)n < PROC_READ_CHUNK)
            return; /* drained: the pipe had less than we asked for */
    }
}

static uint64_t env_bytes(const char *name, uint64_t fallback)
{
    const char *env = getenv(name);
    char *end;
    unsigned long long v = env ? strtoull(env, &end, 10) : 0;
    return env && *env && !*end && v > 0 ? v : fallback;
}

static uint64_t log_max(void)
{
    static uint64_t max;
    if (!max)
        max = env_bytes(PROC_LOG_MAX_ENV, PROC_LOG_MAX);
    return max;
}

/* A cap per log alone lets a thousand nodes write 256 GB: the logs share a total too. */
static uint64_t logs_total;
static bool logs_full;

bool proc_logs_full(void)
{
    return logs_full;
}

static void log_write(struct proc *p, const char *data, size_t n)
{
    if (p->log_fd < 0 || p->log_truncated)
        return;
    static uint64_t total_max;
    if (!total_max)
        total_max = env_bytes(PROC_LOGS_MAX_ENV, PROC_LOGS_MAX);
    if (logs_total + n > total_max && p->log_bytes + n <= log_max()) {
        static const char note[] = "\n[eddy: log truncated: the node logs together reached "
                                   "their size limit]\n";
        n = (size_t)(total_max - logs_total);
        p->log_truncated = true;
        logs_full = true;
        logs_total += n;
        if (write(p->log_fd, data, n) < 0 || write(p->log_fd, note, sizeof(note) - 1) < 0)
            return;
        return;
    }
    uint64_t max = log_max();
    if (p->log_bytes + n > max) {
        static const char note[] = "\n[eddy: log truncated at its size limit]\n";
        n = (size_t)(max - p->log_bytes);
        logs_total += n;
        p->log_truncated = true;
        if (write(p->log_fd, data, n) < 0 || write(p->log_fd, note, sizeof(note) - 1) < 0)
            return;
        return;
    }
    while (n > 0) {
        ssize_t k = write(p->log_fd, data, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            /* A full or broken disk: keep draining the pipe, say so once in the log file's
             * place in the results (log_truncated), and lose nothing else. */
            p->log_truncated = true;
            return;
        }
        data += k;
        n -= (size_t)k;
        p->log_bytes += (uint64_t)k;
        logs_total += (uint64_t)k;
    }
}

static void proc_stderr_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct proc *p = container_of(w, struct proc, err_w);
    for (int r = 0; r < PROC_READS_PER_EVENT; r++) {
        size_t room;
        char *space = line_reader_space(&p->err_lr, &room);
        ssize_t n = read(p->err_fd, space, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            const char *line;
            size_t len;
            if (line_reader_finish(&p->err_lr, &line, &len) > 0) {
                log_write(p, line, len);
                log_write(p, "\n", 1);
                ring_push(&p->err_ring, line, len);
                if (p->on_err)
                    p->on_err(p, line, len);
            }
            ev_io_stop(loop, &p->err_w);
            close_fd(&p->err_fd);
            return;
        }
        log_write(p, space, (size_t)n);
        line_reader_commit(&p->err_lr, (size_t)n);
        const char *line;
        size_t len;
        int rc;
        while ((rc = line_reader_next(&p->err_lr, &line, &len)) != 0) {
            if (rc < 0) {
                char note[64];
                int k = snprintf(note, sizeof(note), "[a stderr line of %zu bytes]",
                                 p->err_lr.discarded);
                ring_push(&p->err_ring, note, (size_t)k);
                continue;
            }
            ring_push(&p->err_ring, line, len);
            if (p->on_err)
                p->on_err(p, line, len);
        }
    }
}

static void proc_stdin_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct proc *p = container_of(w, struct proc, in_w);
    proc_flush(p);
}

/* The close-on-exec pipe: EOF means the exec succeeded; four bytes are the errno of a failed
 * one, which the exit callback reports instead of a bare exit status 127. */
static void proc_exec_check(struct proc *p)
{
    if (p->exec_fd < 0)
        return;
    int e = 0;
    ssize_t n = read(p->exec_fd, &e, sizeof(e));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n == (ssize_t)sizeof(e))
        p->exec_errno = e;
    ev_io_stop(p->loop, &p->exec_w);
    close_fd(&p->exec_fd);
}

static void proc_exec_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    proc_exec_check(container_of(w, struct proc, exec_w));
}

static void proc_child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
    struct proc *p = container_of(w, struct proc, child_w);
    proc_exec_check(p);
    ev_child_stop(loop, w);
    registry_set(p->index, 0);
    p->running = false;
    p->pid = 0;
    /* Drain what the node wrote before dying: its last lines matter for the crash report. */
    if (p->out_fd >= 0 && !p->stdout_eof)
        proc_stdout_cb(loop, &p->out_w, EV_READ);
    if (p->err_fd >= 0)
        proc_stderr_cb(loop, &p->err_w, EV_READ);
    p->on_exit(p, w->rstatus);
}

void proc_stdout_pause(struct proc *p, bool pause)
{
    p->out_paused = pause;
    if (!p->loop)
        return; /* not started yet: proc_spawn looks at out_paused */
    if (pause)
        ev_io_stop(p->loop, &p->out_w);
    else if (p->out_fd >= 0 && !p->stdout_eof)
        ev_io_start(p->loop, &p->out_w);
}

/* ==== Output to the node ==== */

static void mark_dirty(struct proc *p)
{
    if (!p->dirty) {
        p->dirty = true;
        p->next_dirty = dirty_head;
        dirty_head = p;
    }
}

int proc_send(struct proc *p, const char *data, size_t len)
{
    if (p->stdin_closed || p->in_fd < 0)
        return -EPIPE;
    if (buf_append(&p->in_q, data, len) < 0) {
        p->stdin_dropped++;
        return -ENOBUFS;
    }
    mark_dirty(p);
    return 0;
}

char *proc_reserve(struct proc *p, size_t n)
{
    if (p->stdin_closed || p->in_fd < 0)
        return NULL;
    char *dst = buf_reserve(&p->in_q, n);
    if (!dst)
        p->stdin_dropped++;
    return dst;
}

void proc_commit(struct proc *p, size_t n)
{
    buf_commit(&p->in_q, n);
    mark_dirty(p);
}

void proc_flush(struct proc *p)
{
    while (buf_len(&p->in_q) > 0 && p->in_fd >= 0) {
        ssize_t n = write(p->in_fd, buf_peek(&p->in_q), buf_len(&p->in_q));
        if (n > 0) {
            buf_consume(&p->in_q, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        /* EPIPE: the node closed its stdin or died. What was queued cannot be delivered. */
        p->stdin_closed = true;
        buf_clear(&p->in_q);
        break;
    }
    if (p->in_fd < 0)
        return;
    if (buf_len(&p->in_q) > 0)
        ev_io_start(p->loop, &p->in_w);
    else
        ev_io_stop(p->loop, &p->in_w);
}

/* ==== Spawning ==== */

void proc_init(struct proc *p, uint32_t index, const char *name, void *ctx, proc_line_cb *on_line,
               proc_exit_cb *on_exit, proc_err_cb *on_err)
{
    memset(p, 0, sizeof(*p));
    p->index = index;
    p->name = name;
    p->ctx = ctx;
    p->on_line = on_line;
    p->on_exit = on_exit;
    p->on_err = on_err;
    p->in_fd = p->out_fd = p->err_fd = p->log_fd = p->exec_fd = -1;
}

/* Runs in the vforked child until exec: only async-signal-safe system calls, no allocation, no
 * writes to eddy's memory. */
EDDY_NORETURN static void proc_spawn_child(const struct proc_spawn_opts *o, int in[2], int out[2],
                                           int errp[2], int errpipe[2], char *const *envp,
                                           pid_t parent)
{
    int e;
    /* Default dispositions while signals are still blocked: when they are unblocked below, none
     * can run one of eddy's handlers in this shared address space. exec would reset caught
     * signals anyway; SIGPIPE, which eddy ignores, would stay ignored without this. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    setpgid(0, 0);
    contain_enter_child(); /* before it can fork anything */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127); /* eddy died before prctl took effect */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(errp[1], 2) < 0)
        goto fail;
    if (nofile_raised)
        setrlimit(RLIMIT_NOFILE, &nofile_given); /* the node gets the limit eddy was given */
    if (o->cwd && chdir(o->cwd) < 0)
        goto fail;
    if (o->child_hook &&
        (e = -o->child_hook(o->hook_ctx, o->path, (char *const *)o->argv, envp)) > 0)
        goto report;
    execve(o->path, (char *const *)o->argv, envp);
fail:
    e = errno;
report:
    if (write(errpipe[1], &e, sizeof(e)) < 0)
        _exit(127);
    _exit(127);
}

static char **build_env(const char *const *extra)
{
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    while (extra && extra[k])
        k++;
    char **env = xcalloc(n + k + 1, sizeof(char *));
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        /* An extra "K=V" replaces eddy's own K. */
        const char *eq = strchr(environ[i], '=');
        size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < k && !replaced; j++)
            replaced = strncmp(extra[j], environ[i], klen) == 0 && extra[j][klen] == '=';
        if (!replaced)
            env[at++] = environ[i];
    }
    for (size_t j = 0; j < k; j++)
        env[at++] = (char *)extra[j];
    env[at] = NULL;
    return env;
}

int proc_spawn(struct proc *p, struct ev_loop *loop, const struct proc_spawn_opts *o, char *err,
               size_t elen)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, ep[2] = {-1, -1};
    int rc = 0;
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
        pipe2(ep, O_CLOEXEC) < 0) {
        rc = -errno;
        snprintf(err, elen, "cannot create pipes for %s: %s", p->name, strerror(errno));
        goto fail;
    }
    if (o->pipe_bytes) {
        fcntl(in[1], F_SETPIPE_SZ, (int)o->pipe_bytes);
        fcntl(out[1], F_SETPIPE_SZ, (int)o->pipe_bytes);
    }
    int log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        rc = -errno;
        snprintf(err, elen, "cannot open %s: %s", o->log_path, strerror(errno));
        goto fail;
    }
    char **envp = build_env(o->env_extra);
    pid_t parent = getpid();
    /* vfork, not fork: copying (and at exec discarding) eddy's page tables for each of a
     * thousand nodes was most of the cost of starting them. The child shares eddy's memory
     * until it execs, so it only makes async-signal-safe system calls, and every signal is
     * blocked around the vfork so that no eddy handler can run on the child's side. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = vfork();
    if (pid == 0)
        proc_spawn_child(o, in, out, errp, ep, envp, parent);
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    free(envp);
    if (o->parent_hook)
        o->parent_hook(o->hook_ctx, pid);
    if (pid < 0) {
        rc = -fork_errno;
        snprintf(err, elen, "cannot fork for %s: %s", p->name, strerror(fork_errno));
        close(log_fd);
        goto fail;
    }
    setpgid(pid, pid); /* also here, so the group exists whichever side runs first */
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&errp[1]);
    close_fd(&ep[1]);
    /* The exec result is read from the loop, not here: waiting for each child to exec would
     * serialise a thousand spawns behind a thousand dynamic links. */
    p->exec_fd = ep[0];
    ep[0] = -1;
    p->exec_errno = 0;
    set_nonblock(p->exec_fd);

    p->loop = loop;
    p->pid = pid;
    p->running = true;
    p->killed = false;
    p->paused = false;
    p->stdin_closed = false;
    p->stdout_eof = false;
    p->in_fd = in[1];
    p->out_fd = out[0];
    p->err_fd = errp[0];
    p->log_fd = log_fd;
    set_nonblock(p->in_fd);
    set_nonblock(p->out_fd);
    set_nonblock(p->err_fd);
    if (!p->in_q.max) {
        buf_init(&p->in_q, PROC_STDIN_MAX);
        line_reader_init(&p->out_lr, PROC_LINE_MAX, PROC_READ_CHUNK);
        line_reader_init(&p->err_lr, 64u << 10, 64u << 10);
    } else {
        buf_clear(&p->in_q);
        p->out_lr.start = p->out_lr.scan = p->out_lr.end = 0;
        p->out_lr.discarding = false;
        p->err_lr.start = p->err_lr.scan = p->err_lr.end = 0;
        p->err_lr.discarding = false;
    }
    registry_set(p->index, pid);
    ev_io_init(&p->exec_w, proc_exec_cb, p->exec_fd, EV_READ);
    ev_io_start(loop, &p->exec_w);
    ev_io_init(&p->in_w, proc_stdin_cb, p->in_fd, EV_WRITE);
    ev_io_init(&p->out_w, proc_stdout_cb, p->out_fd, EV_READ);
    ev_io_init(&p->err_w, proc_stderr_cb, p->err_fd, EV_READ);
    ev_child_init(&p->child_w, proc_child_cb, pid, 0);
    if (!p->out_paused)
        ev_io_start(loop, &p->out_w);
    ev_io_start(loop, &p->err_w);
    ev_child_start(loop, &p->child_w);
    return 0;

fail:
    for (int i = 0; i < 2; i++) {
        close_fd(&in[i]);
        close_fd(&out[i]);
        close_fd(&errp[i]);
        close_fd(&ep[i]);
    }
    return rc < 0 ? rc : -EIO;
}

void proc_signal(struct proc *p, int sig)
{
    if (p->pid > 0) {
        p->killed |= sig == SIGKILL;
        kill(-p->pid, sig);
    }
}

void proc_release(struct proc *p)
{
    if (!p->loop)
        return;
    ev_io_stop(p->loop, &p->exec_w);
    ev_io_stop(p->loop, &p->in_w);
    ev_io_stop(p->loop, &p->out_w);
    ev_io_stop(p->loop, &p->err_w);
    if (p->pid > 0)
        ev_child_stop(p->loop, &p->child_w);
    close_fd(&p->exec_fd);
    close_fd(&p->in_fd);
    close_fd(&p->out_fd);
    close_fd(&p->err_fd);
    close_fd(&p->log_fd);
}

void proc_fini(struct proc *p)
{
    buf_fini(&p->in_q);
    if (p->out_lr.data)
        line_reader_fini(&p->out_lr);
    if (p->err_lr.data)
        line_reader_fini(&p->err_lr);
}
