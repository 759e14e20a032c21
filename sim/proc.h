/*
 * proc.h: one node process: spawn, pipes, bounded stdin queue, stdout lines, stderr log, death.
 *
 * A node runs in its own process group with PR_SET_PDEATHSIG(SIGKILL), exec'd from an argv
 * (never a shell). Its stdin is fed from a bounded queue that is flushed once per loop
 * iteration, so a burst of messages costs one write(2); its stdout is framed into lines handed to
 * a callback; its stderr goes to node-logs/<node>.log (capped) and a ring of recent lines, kept
 * with the last stdout lines for crash reports. Nothing here knows the Maelstrom protocol.
 * Depends on: buf, line, contain, libev. Used by: run.
 */
#ifndef EDDY_SIM_PROC_H
#define EDDY_SIM_PROC_H

#include "eddy/buf.h"
#include "eddy/line.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PROC_LINE_MAX (1u << 20)             /* longest stdout line accepted: 1 MiB */
#define PROC_READ_CHUNK (256u << 10)         /* one read(2) */
#define PROC_READS_PER_EVENT 8               /* reads per readiness event, for fairness */
#define PROC_STDIN_MAX (8u << 20)            /* bytes queued for a node's stdin */
#define PROC_LOG_MAX (256ull << 20)          /* bytes of stderr kept per node log, unless... */
#define PROC_LOG_MAX_ENV "EDDY_NODE_LOG_MAX" /* ...this says otherwise (bytes; for tests) */
#define PROC_RING_LINES 32                   /* recent lines kept, as Maelstrom's debug buffers */
#define PROC_RING_LINE_MAX 512               /* bytes kept of each of them */

/* All node logs together: a cap per log alone lets a thousand nodes write 256 GB. */
#define PROC_LOGS_MAX (1ull << 30)             /* bytes of stderr kept in all node logs... */
#define PROC_LOGS_MAX_ENV "EDDY_NODE_LOGS_MAX" /* ...unless this says otherwise (bytes; tests) */

#define PROC_CUT_KEPT 160   /* bytes kept of a stdout line cut by SIGKILL */
#define PROC_FDS_PER_NODE 5 /* held per node: stdin, stdout, stderr, log, exec pipe */
#define PROC_FDS_OWN 64     /* eddy's own, spawning included: store files, libev, threads */

struct proc;

/* A complete stdout line (newline excluded, valid during the call). len > PROC_LINE_MAX is
 * signalled with line == NULL and len = the line's full length. */
typedef void proc_line_cb(struct proc *p, const char *line, size_t len);
/* The process has exited (status as from waitpid). */
typedef void proc_exit_cb(struct proc *p, int status);
/* A complete stderr line, for --log-stderr. */
typedef void proc_err_cb(struct proc *p, const char *line, size_t len);

struct proc_ring {
    char line[PROC_RING_LINES][PROC_RING_LINE_MAX];
    uint16_t len[PROC_RING_LINES];
    unsigned next;  /* slot for the next line */
    unsigned count; /* lines held, up to PROC_RING_LINES */
};

struct proc {
    /* Set by the owner before proc_spawn. */
    uint32_t index;   /* node index */
    const char *name; /* node name, for messages */
    void *ctx;        /* owner's pointer */
    proc_line_cb *on_line;
    proc_exit_cb *on_exit;
    proc_err_cb *on_err; /* may be NULL */

    /* Private. */
    struct ev_loop *loop;
    pid_t pid; /* 0 when not running */
    int in_fd, out_fd, err_fd, log_fd;
    int exec_fd;    /* close-on-exec pipe carrying a failed exec's errno */
    int exec_errno; /* set when the exec failed (the exit follows with status 127) */
    ev_io in_w, out_w, err_w, exec_w;
    ev_child child_w;
    struct buf in_q; /* bytes waiting for the node's stdin */
    struct line_reader out_lr;
    struct line_reader err_lr;
    bool dirty;        /* on the dirty list: in_q got bytes since the last flush */
    bool stdin_closed; /* the node closed its stdin (EPIPE) */
    bool stdout_eof;
    bool paused;     /* SIGSTOPped */
    bool out_paused; /* eddy stopped reading stdout (back-pressure), see proc_stdout_pause */
    bool running;
    uint64_t log_bytes;
    bool log_truncated;
    uint64_t stdin_dropped; /* messages refused because in_q was full */
    uint64_t stdout_lines;  /* lines read on stdout (the line number of the last one) */
    bool killed;            /* eddy sent SIGKILL to this incarnation */
    /* Unterminated last stdout lines of incarnations eddy killed: its SIGKILL cut them, so they
     * are counted and kept for the results, never handed to on_line. */
    uint64_t cut_count, cut_bytes;
    char cut_last[PROC_CUT_KEPT];
    size_t cut_last_len;
    struct proc_ring out_ring, err_ring;
    struct proc *next_dirty;
};

/* Runs in the child just before execve(path, argv, envp), with exactly those pointers. The
 * child shares eddy's memory until it execs (vfork): system calls only, no allocation. Returns
 * 0, or a negative errno that stops the exec (reported as a failed exec). */
typedef int proc_child_hook(void *ctx, const char *path, char *const argv[], char *const envp[]);
/* Runs in eddy once the child exists (pid), or failed to (pid < 0), before proc_spawn returns. */
typedef void proc_parent_hook(void *ctx, pid_t pid);

struct proc_spawn_opts {
    const char *path;              /* absolute path of the binary */
    const char *const *argv;       /* argv[0] included, NULL-terminated */
    const char *const *env_extra;  /* "K=V" strings added to eddy's environment, NULL-ended */
    const char *cwd;               /* working directory of the node */
    const char *log_path;          /* stderr log file (appended to) */
    size_t pipe_bytes;             /* F_SETPIPE_SZ for stdin and stdout, 0 to leave alone */
    proc_child_hook *child_hook;   /* optional: the clock's system-call route sets up here */
    proc_parent_hook *parent_hook; /* optional: ... and finishes here */
    void *hook_ctx;
};

/* Prepares `p` (no process yet): sets the fields the owner provides and marks every descriptor
 * closed. Call once before the first proc_spawn. */
void proc_init(struct proc *p, uint32_t index, const char *name, void *ctx, proc_line_cb *on_line,
               proc_exit_cb *on_exit, proc_err_cb *on_err);

/* Starts the process. 0, or a negative errno with a one-line reason in err. A failed exec is
 * learnt asynchronously, through a close-on-exec pipe: the exit callback then finds its errno in
 * p->exec_errno rather than a mysterious exit status 127. */
int proc_spawn(struct proc *p, struct ev_loop *loop, const struct proc_spawn_opts *o, char *err,
               size_t elen);

/* Queues bytes for the node's stdin. 0, or -ENOBUFS when the queue is full (nothing queued; the
 * caller counts it as a drop), or -EPIPE when the node cannot take input any more. */
int proc_send(struct proc *p, const char *data, size_t len);

/* Zero-copy form of proc_send: room for n bytes at the end of the stdin queue, or NULL when the
 * queue is full or the node cannot take input (counted as a drop). Follow with proc_commit. */
char *proc_reserve(struct proc *p, size_t n);
void proc_commit(struct proc *p, size_t n);

/* Writes what is queued for one process, as far as its pipe takes it; the rest waits for the
 * pipe's writability watcher. */
void proc_flush(struct proc *p);

/* Flushes every process that has queued bytes since the last call, and empties that list (once
 * per loop iteration, so that a burst of messages costs one write(2)). Returns how many were
 * flushed. */
unsigned proc_flush_dirty(void);

/* Stops (pause true) or resumes reading the node's stdout, for back-pressure: what the node
 * writes waits in the pipe, and a node that fills it blocks. A read under way finishes its
 * chunk's lines. A dead node's last output is still drained. */
void proc_stdout_pause(struct proc *p, bool pause);

/* True once the node logs together reached PROC_LOGS_MAX: every log stopped there. */
bool proc_logs_full(void);

/* Sends a signal to the node's whole process group (its children included). After SIGKILL, an
 * unterminated last stdout line is eddy's doing: it is counted (cut_count) instead of being
 * handed to on_line. */
void proc_signal(struct proc *p, int sig);

/* Stops the watchers and closes the pipes of an exited process. */
void proc_release(struct proc *p);

/* Frees the buffers. The process must have been released. */
void proc_fini(struct proc *p);

/* Appends the last lines of stdout and stderr, formatted for a crash report, to out. */
void proc_describe_last_lines(const struct proc *p, struct buf *out);

/* Makes sure eddy can hold the descriptors of `nodes` nodes: raises the soft RLIMIT_NOFILE up
 * to the hard one when needed (nodes are still started with the limit eddy was given). 0, or
 * -EMFILE with a one-line reason in err when even the hard limit is too low. Call before the
 * first spawn. */
int proc_reserve_fds(uint32_t nodes, char *err, size_t elen);

/* Kills every process group eddy started that is still alive, and the run's cgroup (contain.h).
 * Async-signal-safe: for signal handlers and atexit. */
void proc_kill_all_emergency(void);

#endif /* EDDY_SIM_PROC_H */
