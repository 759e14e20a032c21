/*
 * clocksys.c: the kernel side of the system-call clock route (see clocksys.h).
 *
 * Order of a notification, as seccomp_unotify(2) asks: receive it, compute the answer, check
 * that the caller still waits (SECCOMP_IOCTL_NOTIF_ID_VALID), write into it, then send the reply.
 * The check before the write is what keeps a write from landing in another process that reused
 * the caller's pid: the caller cannot be reaped while it waits, so only a death inside the
 * microsecond between the check and the write could free its pid, and the pid space would have
 * to wrap within that microsecond for the write to land elsewhere. eddy's own kills run on this
 * same thread and cannot interleave.
 * Depends on: clocktrap, clockctl, util. Used by: clockroute, tests/sim/clock, bench.
 */
#include "clocksys.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXEC_WAIT_NS (5 * CLOCKCTL_NS_PER_SEC) /* longest wait for a followed exec's stop */

/* ==== In the child ==== */

struct clocksys_report {
    int32_t stage;
    int32_t err;
};

int clocksys_child_setup(const struct clocksys_child *c, const char *path, char *const argv[],
                         char *const envp[])
{
    struct clocksys_report r = {.stage = CLOCKSYS_STAGE_OK, .err = 0};
    int fd = -1;
    struct clocktrap_exempt own = {
        .args = {(uint64_t)(uintptr_t)path, (uint64_t)(uintptr_t)argv, (uint64_t)(uintptr_t)envp}};
    struct clocktrap_filter filter;
    clocktrap_filter_build(&filter, c->flags, &own);
    struct sock_fprog prog = {.len = filter.len, .filter = filter.insns};
    if (c->trace && ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) {
        r = (struct clocksys_report){.stage = CLOCKSYS_STAGE_PTRACE, .err = errno};
    } else if (c->trap && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        r = (struct clocksys_report){.stage = CLOCKSYS_STAGE_NNP, .err = errno};
    } else if (c->trap) {
        fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                          &prog);
        if (fd < 0)
            r = (struct clocksys_report){.stage = CLOCKSYS_STAGE_SECCOMP, .err = errno};
    }
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct iovec iov = {.iov_base = &r, .iov_len = sizeof(r)};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        m.msg_control = ctl.buf;
        m.msg_controllen = sizeof(ctl.buf);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    }
    int rc = 0;
    while (sendmsg(c->sock, &m, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR) {
            rc = -errno;
            break;
        }
    }
    if (fd >= 0)
        close(fd); /* the listener is eddy's alone; the node must not hold it */
    close(c->sock);
    return rc;
}

/* ==== In eddy, after the fork ==== */

int clocksys_receive(int sock, enum clocksys_stage *stage, int *err, int *listener)
{
    struct clocksys_report r;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = &r, .iov_len = sizeof(r)};
    struct msghdr m = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = ctl.buf,
                       .msg_controllen = sizeof(ctl.buf)};
    *listener = -1;
    ssize_t n;
    do
        n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&m) : NULL; cm; cm = CMSG_NXTHDR(&m, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
            cm->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(listener, CMSG_DATA(cm), sizeof(int));
    if (n != (ssize_t)sizeof(r) || r.stage < CLOCKSYS_STAGE_OK ||
        r.stage > CLOCKSYS_STAGE_SECCOMP) {
        if (*listener >= 0)
            close(*listener);
        *listener = -1;
        return -EPIPE;
    }
    *stage = (enum clocksys_stage)r.stage;
    *err = r.err;
    if (r.stage != CLOCKSYS_STAGE_OK && *listener >= 0) {
        close(*listener);
        *listener = -1;
    }
    if (*listener >= 0) {
        int fl = fcntl(*listener, F_GETFL);
        if (fl >= 0)
            fcntl(*listener, F_SETFL, fl | O_NONBLOCK);
    }
    return 0;
}

const char *clocksys_stage_explain(enum clocksys_stage stage, int err, char *buf, size_t cap)
{
    switch (stage) {
    case CLOCKSYS_STAGE_OK:
        snprintf(buf, cap, "in place");
        break;
    case CLOCKSYS_STAGE_PTRACE:
        snprintf(buf, cap,
                 "ptrace is not permitted here (%s): eddy cannot hide the vDSO from the node "
                 "(Yama's ptrace_scope, or a container's seccomp profile)",
                 strerror(err));
        break;
    case CLOCKSYS_STAGE_NNP:
        snprintf(buf, cap, "the node cannot be given no_new_privs (%s)", strerror(err));
        break;
    case CLOCKSYS_STAGE_SECCOMP:
        snprintf(buf, cap,
                 "the kernel refused a seccomp filter with user notification (%s): it needs "
                 "Linux 5.0 or later, and seccomp allowed in this container",
                 strerror(err));
        break;
    }
    return buf;
}

/* ==== The exec stop ==== */

/* Reads the new program's stack from sp until its auxiliary vector ends, and does with the
 * vDSO what plan says: replaced by eddy's (if that fails, hidden), hidden, or kept. */
static int apply_plan(pid_t pid, uint64_t sp, const struct clocksys_plan *plan,
                      struct clocksys_exec *out)
{
    size_t cap = 512, n = 0;
    uint64_t *words = NULL;
    struct clocktrap_auxv aux;
    int rc = -EAGAIN;
    while (rc == -EAGAIN) {
        words = xrealloc(words, cap * sizeof(uint64_t));
        struct iovec local = {.iov_base = words + n, .iov_len = (cap - n) * sizeof(uint64_t)};
        struct iovec remote = {.iov_base = (void *)(uintptr_t)(sp + n * sizeof(uint64_t)),
                               .iov_len = local.iov_len};
        ssize_t got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (got <= 0) {
            rc = got < 0 ? -errno : -EBADMSG; /* ran off the top of the stack */
            break;
        }
        n += (size_t)got / sizeof(uint64_t);
        rc = clocktrap_auxv_find(words, n, &aux);
        if (rc == -EAGAIN && n == cap) {
            if (cap >= CLOCKTRAP_AUXV_WORDS_MAX) {
                rc = -EBADMSG;
                break;
            }
            cap *= 2;
        }
    }
    uint64_t kernel_vdso = rc == 0 && aux.sysinfo_ehdr ? words[aux.sysinfo_ehdr + 1] : 0;
    free(words);
    if (rc < 0)
        return rc;
    out->at_base = aux.at_base;
    out->had_vdso = aux.sysinfo_ehdr != 0;
    if (plan->vdso == CLOCKSYS_VDSO_KEEP || !aux.sysinfo_ehdr)
        return 0;
    uint64_t at = sp + aux.sysinfo_ehdr * sizeof(uint64_t);
    if (plan->vdso == CLOCKSYS_VDSO_REPLACE) {
        uint64_t image = 0;
        int e = vdsomap_inject(pid, plan->image, plan->block_path, kernel_vdso, &image);
        if (e == 0 && ptrace(PTRACE_POKEDATA, pid, (void *)(uintptr_t)(at + sizeof(uint64_t)),
                             (void *)(uintptr_t)image) < 0)
            e = -errno;
        if (e == 0) {
            out->replaced = true;
            return 0;
        }
        out->replace_error = -e; /* then hidden: slower, but still faked */
    }
    if (ptrace(PTRACE_POKEDATA, pid, (void *)(uintptr_t)at, (void *)(uintptr_t)AT_IGNORE) < 0)
        return -errno;
    out->hidden = true;
    return 0;
}

/* The stopped program's stack pointer, or a negative errno; -ENOEXEC for a 32-bit program. */
static int64_t stack_pointer(pid_t pid)
{
#if defined(__x86_64__)
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0)
        return -errno;
    if (regs.cs != 0x33) /* __USER_CS: a 64-bit program; 0x23 is a 32-bit one */
        return -ENOEXEC;
    return (int64_t)regs.rsp;
#else
    return -ENOSYS;
#endif
}

/* At an exec stop of pid: apply the plan, filling *out. Does not detach. */
static int at_exec_stop(pid_t pid, const struct clocksys_plan *plan, struct clocksys_exec *out)
{
    out->stopped = true;
    int64_t sp = stack_pointer(pid);
    if (sp == -ENOEXEC) {
        out->not_64bit = true;
        return 0;
    }
    int rc = sp < 0 ? (int)sp : apply_plan(pid, (uint64_t)sp, plan, out);
    if (rc < 0)
        out->error = -rc;
    return rc;
}

int clocksys_exec_stop(pid_t pid, const struct clocksys_plan *plan, struct clocksys_exec *out)
{
    memset(out, 0, sizeof(*out));
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        /* WNOWAIT: an exit stays for libev to reap; a stop is ours, and detaching clears it. */
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WSTOPPED | __WALL | WNOWAIT) < 0) {
            if (errno == EINTR)
                continue;
            out->error = errno;
            return -errno;
        }
        if (si.si_code != CLD_TRAPPED && si.si_code != CLD_STOPPED)
            return 0; /* exited: the exec failed, and the exit says why */
        if (si.si_status != SIGTRAP) {
            /* A signal before the exec: deliver it and wait on. */
            if (ptrace(PTRACE_CONT, pid, NULL, (void *)(uintptr_t)si.si_status) < 0) {
                out->error = errno;
                return -errno;
            }
            continue;
        }
        int rc = at_exec_stop(pid, plan, out);
        if (ptrace(PTRACE_DETACH, pid, NULL, NULL) < 0 && rc == 0) {
            out->error = errno;
            rc = -errno;
        }
        return rc;
    }
}

/* ==== Following an exec inside the node ==== */

static int64_t mono_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CLOCKCTL_NS_PER_SEC + ts.tv_nsec;
}

/* From an exec event stop of pid, on to the syscall-exit stop of its execve. 0, or a negative
 * errno (it died meanwhile, or stopped for something else). The stop is found without a wait
 * status (vdsomap_wait_stop), which eddy's event loop may take first. */
static int exec_exit_stop(pid_t pid)
{
    if (ptrace(PTRACE_SYSCALL, pid, NULL, NULL) < 0)
        return -errno;
    siginfo_t si;
    int rc = vdsomap_wait_stop(pid, EXEC_WAIT_NS, &si);
    if (rc < 0)
        return rc;
    return si.si_code == (SIGTRAP | 0x80) ? 0 : -EPROTO;
}

/* The thread group of thread tid, from /proc, or tid itself if it cannot be read. */
static pid_t tgid_of(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%ld/status", (long)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tid;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return tid;
    buf[n] = '\0';
    const char *t = strstr(buf, "\nTgid:");
    long v = t ? strtol(t + 6, NULL, 10) : 0;
    return v > 0 ? (pid_t)v : tid;
}

bool clocksys_can_follow_exec(void)
{
    struct utsname u;
    int major = 0, minor = 0;
    if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
        return false;
    return major > 5 || (major == 5 && minor >= 5);
}

/*
 * The caller (thread tid) waits in execve. Seize it (exec events only), let the call run, and
 * interrupt it, so that it stops either at the exec event (the exec succeeded: hide, detach) or,
 * if the exec failed, as soon as it is back in user space (detach, passing on any signal). The
 * stop is found with PTRACE_GETSIGINFO, which succeeds only on a tracee of ours in a ptrace
 * stop, on the thread and on its group leader (whose pid it takes over if it execs from
 * another thread). Waiting is polled and bounded: an exec takes a millisecond or so.
 */
static void follow_exec(int fd, const struct seccomp_notif *n, struct clocksys_stats *st,
                        clocksys_plan_fn *plan, void *plan_ctx)
{
    pid_t tid = (pid_t)n->pid, tgid = tgid_of(tid);
    bool seized = ptrace(PTRACE_SEIZE, tid, NULL,
                         (void *)(uintptr_t)(PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD)) == 0;
    struct seccomp_notif_resp resp = {.id = n->id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
        st->last_error = errno;
    if (!seized) {
        st->execs_lost++;
        st->last_error = errno;
        return;
    }
    ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
    int64_t deadline = mono_now_ns() + EXEC_WAIT_NS;
    for (;;) {
        pid_t who[2] = {tid, tgid};
        for (int i = 0; i < (tid == tgid ? 1 : 2); i++) {
            siginfo_t si;
            if (ptrace(PTRACE_GETSIGINFO, who[i], NULL, &si) < 0)
                continue;
            /* Event stops carry SIGTRAP | event << 8; signal-delivery stops carry the signal's
             * own code, which may be negative (SI_TKILL) or 0x80 (SI_KERNEL). */
            int event = si.si_code > 0 && (si.si_code & 0xff) == SIGTRAP ? si.si_code >> 8 : 0;
            int sig = 0;
            if (event == PTRACE_EVENT_EXEC) {
                struct clocksys_exec ex;
                memset(&ex, 0, sizeof(ex));
                struct clocksys_plan p = {.vdso = CLOCKSYS_VDSO_HIDE};
                if (plan)
                    plan(plan_ctx, who[i], &p);
                /* The event stops inside execve, whose return value would then overwrite the
                 * registers eddy sets: go on to the call's exit first. */
                int e = exec_exit_stop(who[i]);
                if (e < 0) {
                    st->execs_lost++;
                    st->last_error = -e;
                } else if (at_exec_stop(who[i], &p, &ex) < 0) {
                    st->last_error = ex.error;
                } else if (ex.replace_error) {
                    st->last_error = ex.replace_error; /* hidden instead: slower, say why */
                }
                st->execs++;
                st->execs_hidden += ex.hidden;
                st->execs_replaced += ex.replaced;
            } else if (event == 0) {
                sig = si.si_signo; /* a signal-delivery stop: the signal goes on */
            }
            ptrace(PTRACE_DETACH, who[i], NULL, (void *)(uintptr_t)sig);
            return;
        }
        siginfo_t dead;
        memset(&dead, 0, sizeof(dead));
        if (waitid(P_PID, (id_t)tgid, &dead, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0 &&
            dead.si_pid == tgid)
            return; /* the program died (its exit stays for whoever reaps it) */
        if (kill(tid, 0) < 0 && kill(tgid, 0) < 0)
            return; /* gone */
        if (mono_now_ns() > deadline) {
            st->execs_lost++;
            st->last_error = ETIMEDOUT;
            return;
        }
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 20000};
        nanosleep(&pause, NULL);
    }
}

/* ==== Serving ==== */

static void read_clocks(const struct clocktrap_call *c, struct clocktrap_readings *r)
{
    memset(r, 0, sizeof(*r));
    struct timespec ts;
    if (clock_gettime(c->clock_id, &ts) < 0) {
        r->read_errno = errno;
        return;
    }
    r->value_ns = (int64_t)ts.tv_sec * CLOCKCTL_NS_PER_SEC + ts.tv_nsec;
    if (c->need_realtime) {
        clock_gettime(CLOCK_REALTIME, &ts);
        r->realtime_ns = (int64_t)ts.tv_sec * CLOCKCTL_NS_PER_SEC + ts.tv_nsec;
    }
    if (c->sys == CLOCKTRAP_SYS_GETTIMEOFDAY && c->addr[1]) {
        /* glibc declares tv non-null; the kernel (and the vDSO) accept NULL. A pointer the
         * compiler cannot see through keeps the call as written. */
        int (*volatile gtod)(struct timeval *restrict, void *restrict) = gettimeofday;
        struct timezone tz = {0, 0};
        gtod(NULL, &tz);
        r->tz_minuteswest = tz.tz_minuteswest;
        r->tz_dsttime = tz.tz_dsttime;
    }
}

void (*clocksys_hook_before_write)(pid_t tid);

/* Writes the answer's bytes into the caller, in order, stopping at the first short write. */
/* The same write through /proc/<pid>/mem, for a system that forbids process_vm_writev alone. */
static long write_mem(pid_t pid, uint64_t addr, const void *bytes, size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/mem", (long)pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    long n = (long)pwrite(fd, bytes, len, (off_t)addr);
    int e = errno;
    close(fd);
    errno = e;
    return n;
}

/* Writes the answer's bytes into the caller, in order, stopping at the first short write.
 * Returns 0, or the errno that says eddy cannot write into this process at all (not a bad
 * pointer, not a caller gone). */
static int write_answer(pid_t pid, const struct clocktrap_answer *a, long written[2])
{
    written[0] = written[1] = -1;
    for (unsigned i = 0; i < a->writes; i++) {
        struct iovec local = {.iov_base = (void *)a->w[i].bytes, .iov_len = a->w[i].len};
        struct iovec remote = {.iov_base = (void *)(uintptr_t)a->w[i].addr, .iov_len = a->w[i].len};
        written[i] = (long)process_vm_writev(pid, &local, 1, &remote, 1, 0);
        if (written[i] < 0 && (errno == EPERM || errno == ENOSYS || errno == EACCES))
            written[i] = write_mem(pid, a->w[i].addr, a->w[i].bytes, a->w[i].len);
        if (written[i] < 0 && (errno == EPERM || errno == ENOSYS || errno == EACCES))
            return errno;
        if (written[i] != (long)a->w[i].len)
            return 0;
    }
    return 0;
}

/* Answers one received notification. */
static void serve_one(int fd, const struct clockctl *ctl, const struct seccomp_notif *n,
                      struct clocksys_stats *st, clocksys_plan_fn *plan, void *plan_ctx)
{
    struct clocktrap_call call;
    clocktrap_decode(n, &call);
    if (call.sys == CLOCKTRAP_SYS_EXEC) {
        follow_exec(fd, n, st, plan, plan_ctx);
        return;
    }
    struct clocktrap_readings r;
    struct clocktrap_answer a;
    /* Under the seqlock, as the library reads: eddy's main thread may be changing the clock. If
     * the block seems stuck mid-write (only a node scribbling on it could do that), the real
     * clock, as the library does. */
    struct clockctl_params p;
    if (!clockctl_params_read(ctl, &p))
        p = (struct clockctl_params){.rate = 1.0};
    if (call.sys != CLOCKTRAP_SYS_OTHER)
        read_clocks(&call, &r);
    else
        memset(&r, 0, sizeof(r));
    clocktrap_answer(&call, &p, &r, &a);
    if (st->cannot_write)
        a.let_run = true; /* the kernel's answer, the real time: never an error for a node */
    long written[2] = {0, 0};
    if (a.writes > 0 && !a.let_run) {
        uint64_t id = n->id;
        if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0) {
            st->withdrawn++;
            return;
        }
        if (clocksys_hook_before_write)
            clocksys_hook_before_write((pid_t)n->pid);
        int e = write_answer((pid_t)n->pid, &a, written);
        if (e) {
            st->cannot_write = e;
            a.let_run = true;
        }
    }
    struct seccomp_notif_resp resp;
    clocktrap_reply(&a, n->id, written, &resp);
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0) {
        if (errno == ENOENT)
            st->withdrawn++;
        else
            st->last_error = errno;
        return;
    }
    if (a.let_run) {
        st->let_run++;
        return;
    }
    st->answered++;
    st->efault += resp.error == -EFAULT;
}

int clocksys_serve_wait(int fd, const struct clockctl *ctl, struct clocksys_stats *st,
                        clocksys_plan_fn *plan, void *plan_ctx)
{
    ASSERT(fd >= 0);
    ASSERT(ctl != NULL);
    struct seccomp_notif n;
    memset(&n, 0, sizeof(n));
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &n) < 0) {
        if (errno != ENOENT)
            return -errno;
        /* Routine (a caller interrupted), unless nobody is left behind the filter: then every
         * RECV fails at once, and only the hang-up on the descriptor tells the two apart. */
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 0) == 1 && (pf.revents & POLLHUP) && !(pf.revents & POLLIN))
            return -EPIPE;
        st->withdrawn++;
        return 0;
    }
    serve_one(fd, ctl, &n, st, plan, plan_ctx);
    return 1;
}

int clocksys_serve(int fd, const struct clockctl *ctl, unsigned max, struct clocksys_stats *st,
                   clocksys_plan_fn *plan, void *plan_ctx)
{
    ASSERT(fd >= 0);
    ASSERT(ctl != NULL);
    unsigned done = 0;
    while (done < max) {
        /* RECV blocks when nothing waits, so look first; readiness is not a promise either: a
         * caller interrupted since then has withdrawn its notification. */
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int pr = poll(&pf, 1, 0);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -errno;
        if (pr == 0)
            break;
        if (!(pf.revents & POLLIN)) {
            if (pf.revents & (POLLHUP | POLLERR))
                return done ? (int)done : -EPIPE;
            break;
        }
        struct seccomp_notif n;
        memset(&n, 0, sizeof(n));
        if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &n) < 0) {
            if (errno == ENOENT) {
                st->withdrawn++; /* routine: Go's preemption signals interrupt callers */
                done++;
                continue;
            }
            if (errno == EINTR)
                continue;
            return -errno;
        }
        serve_one(fd, ctl, &n, st, plan, plan_ctx);
        done++;
    }
    return (int)done;
}
