/*
 * clocksys.h: the kernel side of eddy's system-call clock route: install, hide, serve.
 *
 * Three moments. In the node's child process, before execve: PTRACE_TRACEME (for the exec
 * stop), no_new_privs and the seccomp filter with a user-notification listener, whose descriptor
 * goes to eddy over a socket. In eddy, at the exec stop: the new program's auxiliary vector loses
 * AT_SYSINFO_EHDR (its type becomes AT_IGNORE), so Go's runtime and static libcs fall back to the
 * clock system calls; then eddy detaches and nothing runs traced. In eddy's event loop: each
 * notification is answered with the node's fake time (clocktrap.c computes it), written into the
 * caller with process_vm_writev. An execve inside the node is followed the same way (PTRACE_SEIZE
 * at the trapped call, the exec stop, detach), so the programs it runs are reached too.
 * Nothing here blocks on a node: a caller that died, was paused or was interrupted only makes
 * an ioctl fail with ENOENT, which is counted and passed over.
 * Depends on: clocktrap, clockctl. Used by: clockroute (sim), tests/sim/clock, bench.
 */
#ifndef EDDY_CLOCKSYS_H
#define EDDY_CLOCKSYS_H

#include "clocktrap.h"
#include "vdsomap.h"
#include "eddy/clockctl.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* How far the child got; reported to eddy in its one message. */
enum clocksys_stage {
    CLOCKSYS_STAGE_OK,      /* everything asked for is in place */
    CLOCKSYS_STAGE_PTRACE,  /* PTRACE_TRACEME refused (Yama, a container's profile) */
    CLOCKSYS_STAGE_NNP,     /* PR_SET_NO_NEW_PRIVS refused */
    CLOCKSYS_STAGE_SECCOMP, /* the filter or its listener refused (no user notification) */
};

/* What the child does, prepared by eddy before the fork: read-only in the child, which may
 * share eddy's memory (vfork). */
struct clocksys_child {
    unsigned flags; /* CLOCKTRAP_F_*, for the filter */
    bool trap;      /* install the filter */
    bool trace;     /* PTRACE_TRACEME, so that eddy gets the exec stop */
    int sock;       /* the child's end of a SOCK_SEQPACKET pair */
};

/* Runs in the child just before its execve(path, argv, envp), with exactly the pointers that
 * execve will get (the filter lets that one call through): only system calls, no allocation, no
 * writes to memory it shares with eddy (the filter is built on the child's own stack). Sends
 * one message on c->sock (stage, errno, and the listener descriptor when the filter is in place)
 * and never stops the exec for a set-up that failed: such a node runs with the real clock, and
 * eddy reports why. If tracing was asked for and refused, no filter is installed either (a
 * filter without the hidden vDSO would fake some reads and not others). Returns 0, or the
 * negative errno of a report that could not be sent: the caller must not exec then, since eddy
 * would not know whether to wait for an exec stop. */
int clocksys_child_setup(const struct clocksys_child *c, const char *path, char *const argv[],
                         char *const envp[]);

/* In eddy, after the fork: reads the child's message from sock (eddy's end; the child's end must
 * already be closed in eddy). 0 with *stage, *err (an errno) and *listener (a descriptor eddy
 * owns, close-on-exec and non-blocking, or -1), or -EPIPE if the child sent nothing. */
int clocksys_receive(int sock, enum clocksys_stage *stage, int *err, int *listener);

/* A plain sentence for a failed stage and its errno, e.g. "ptrace is not permitted here
 * (Operation not permitted): Yama's ptrace_scope, or a container's seccomp profile". */
const char *clocksys_stage_explain(enum clocksys_stage stage, int err, char *buf, size_t cap);

/* What to do with a new program's vDSO at its exec stop. */
enum clocksys_vdso {
    CLOCKSYS_VDSO_KEEP,    /* leave it (the preload library will fake this program's reads) */
    CLOCKSYS_VDSO_HIDE,    /* AT_SYSINFO_EHDR becomes AT_IGNORE: every read is a trapped call */
    CLOCKSYS_VDSO_REPLACE, /* eddy's vDSO instead (vdsomap); hidden if that fails */
};

struct clocksys_plan {
    enum clocksys_vdso vdso;
    const struct vdsomap_image *image; /* REPLACE: eddy's vDSO */
    const char *block_path;            /* REPLACE: the node's clock file */
};

/* What happened at an exec stop. */
struct clocksys_exec {
    bool stopped;      /* the program stopped after execve (else it exited: exec failed) */
    bool replaced;     /* its AT_SYSINFO_EHDR now points at eddy's vDSO */
    int replace_error; /* errno of a replacement that failed (the vDSO was hidden instead) */
    bool hidden;       /* its AT_SYSINFO_EHDR is now AT_IGNORE */
    bool had_vdso;     /* the vector had AT_SYSINFO_EHDR */
    bool not_64bit;    /* a 32-bit program: left alone */
    uint64_t at_base;  /* AT_BASE: 0 for a program without an interpreter */
    int error;         /* 0, or the errno of a failed ptrace or read */
};

/* For a child that called PTRACE_TRACEME and then execve: waits for its exec stop (or its exit,
 * which stays for the caller to reap), does with the new program's vDSO what plan says, and
 * detaches. A signal that arrives first is passed on. 0, or a negative errno (*out says more). */
int clocksys_exec_stop(pid_t pid, const struct clocksys_plan *plan, struct clocksys_exec *out);

/* Asked when a node's program execs another (now pid): what to do with its vDSO. */
typedef void clocksys_plan_fn(void *ctx, pid_t pid, struct clocksys_plan *out);

/* Counters of one listener. */
struct clocksys_stats {
    uint64_t answered;       /* calls answered with the fake time */
    uint64_t efault;         /* ... of which failed with EFAULT (a bad pointer from the caller) */
    uint64_t withdrawn;      /* notifications whose caller was interrupted or died (ENOENT) */
    uint64_t let_run;        /* calls handed back to the kernel (not ours) */
    uint64_t execs;          /* execve calls followed */
    uint64_t execs_hidden;   /* ... whose new program had its vDSO hidden */
    uint64_t execs_replaced; /* ... whose new program got eddy's vDSO */
    uint64_t execs_lost;     /* execve calls eddy could not follow (ptrace refused, timeout) */
    int last_error;          /* errno of the last unexpected failure, 0 if none */
    int cannot_write;        /* errno: eddy cannot write into this node's memory at all (a
                                profile that forbids it); its calls then run on the real clock */
};

/* Answers up to `max` pending notifications on listener fd, faking with block ctl, and returns:
 * the number handled (0 when none was pending), or -EPIPE when every process that used the filter
 * is gone (the descriptor can be closed), or another negative errno for a listener that no longer
 * works. Never blocks on a caller. `plan` decides for each followed exec (NULL: hide). */
int clocksys_serve(int fd, const struct clockctl *ctl, unsigned max, struct clocksys_stats *st,
                   clocksys_plan_fn *plan, void *plan_ctx);

/* Waits for one notification on fd (a blocking RECV: for a thread of its own) and answers it as
 * clocksys_serve does. 1 when one was handled, 0 when its caller withdrew it meanwhile (ENOENT),
 * -EINTR when a signal interrupted the wait, -EPIPE when every process behind the filter is gone
 * (the descriptor can be closed), or another negative errno for a listener that no longer works. */
int clocksys_serve_wait(int fd, const struct clockctl *ctl, struct clocksys_stats *st,
                        clocksys_plan_fn *plan, void *plan_ctx);

/* A fault hook for the tests: when set, called with the caller's thread id after a notification
 * was checked valid and before its answer is written, the moment a node can die under eddy's
 * pen. NULL in eddy. */
extern void (*clocksys_hook_before_write)(pid_t tid);

/* Whether this kernel lets eddy follow an exec (SECCOMP_USER_NOTIF_FLAG_CONTINUE, Linux 5.5). */
bool clocksys_can_follow_exec(void);

#endif /* EDDY_CLOCKSYS_H */
