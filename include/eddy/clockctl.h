/*
 * clockctl.h: the shared-memory control block of libeddyclock.so, eddy's per-node clock faker.
 *
 * The simulator creates one small file per node (clockctl_create), starts the node with
 * LD_PRELOAD=libeddyclock.so and EDDY_CLOCK_FILE=<file>, and the library maps the file and
 * answers every realtime clock read from it. The node's fake clock is a line through an anchor,
 * fake(r) = anchor_fake + (r - anchor_real) * rate, plus an optional strobe term, all functions of
 * the real CLOCK_REALTIME r; clockctl_fake_ns is that formula, shared by both sides. The simulator
 * is the single writer and publishes changes under a seqlock, so a change takes effect at the
 * node's next clock read: no restart, no signal, and no syscall in the node.
 * Depends on: util (clockctl.c only). Used by: sim (nemesis, proc, report), sim/clock/preload.c.
 */
#ifndef EDDY_CLOCKCTL_H
#define EDDY_CLOCKCTL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The environment variable that names the control block file for libeddyclock.so. */
#define CLOCKCTL_ENV "EDDY_CLOCK_FILE"
/* The library's file name, under ${CMAKE_BINARY_DIR}/lib. */
#define CLOCKCTL_LIB_NAME "libeddyclock.so"

#define CLOCKCTL_MAGIC "EDDYCLK" /* 7 characters and the NUL: fills magic[8] */
#define CLOCKCTL_VERSION 1u

/* flags: also fake CLOCK_MONOTONIC, _RAW, _COARSE and CLOCK_BOOTTIME(_ALARM) by the realtime
 * clock's current offset. Off by default, because a monotonic clock that jumps back breaks the
 * one promise monotonic clocks make (libev timers, for instance, stall for the jump's length). */
#define CLOCKCTL_F_MONOTONIC 0x1u

/* Largest accepted drift rate: fake time at most a thousand times faster than real time. */
#define CLOCKCTL_RATE_MAX 1000.0

#define CLOCKCTL_NS_PER_SEC INT64_C(1000000000)

/*
 * The block, exactly sizeof(struct clockctl) bytes in a file mapped MAP_SHARED by both sides.
 * The parameters are atomics read and written with relaxed order inside the seqlock, so that the
 * seqlock is data-race free in C11 terms; every atomic used here is lock-free (checked at compile
 * time in clockctl_time.c), which is what makes it valid across processes. The library's
 * feedback fields sit on their own cache line, so that counting reads does not evict the
 * parameters from the other readers' caches.
 */
struct clockctl {
    /* Identity: written once by clockctl_create, checked by the library before it maps. */
    char magic[8];    /* CLOCKCTL_MAGIC, NUL included */
    uint32_t version; /* CLOCKCTL_VERSION */
    uint32_t size;    /* sizeof(struct clockctl), bytes */
    /* Parameters: written by the simulator only, between two increments of seq. */
    _Atomic uint32_t seq;             /* seqlock counter; odd while a write is in progress */
    _Atomic uint32_t flags;           /* CLOCKCTL_F_*; 0 by default */
    _Atomic int64_t anchor_real_ns;   /* real CLOCK_REALTIME of the anchor, ns */
    _Atomic int64_t anchor_fake_ns;   /* fake time at anchor_real_ns (strobe excluded), ns */
    _Atomic double rate;              /* fake ns per real ns: 1.0 normal, 0.0 frozen */
    _Atomic int64_t strobe_anchor_ns; /* real time at which the strobe started, ns */
    _Atomic int64_t strobe_delta_ns;  /* added during odd strobe periods, ns (may be < 0) */
    _Atomic int64_t strobe_period_ns; /* strobe half-cycle, ns; 0 = strobe off */
    uint8_t reserved0[56];            /* zero; pads the parameters to two cache lines */
    /* Feedback: written by the library only. */
    _Atomic int32_t loaded_pid; /* pid of the first process that mapped the block, or 0 */
    uint32_t reserved1;         /* zero */
    _Atomic uint64_t reads;     /* intercepted clock reads, all processes together */
    uint8_t reserved2[48];      /* zero */
};

/* A consistent copy of the parameters, as plain values (see struct clockctl for the fields). */
struct clockctl_params {
    int64_t anchor_real_ns;
    int64_t anchor_fake_ns;
    double rate;
    int64_t strobe_anchor_ns;
    int64_t strobe_delta_ns;
    int64_t strobe_period_ns;
    uint32_t flags;
};

/* ==== Pure arithmetic (clockctl_time.c, also compiled into the library) ==== */

/* The fake time at real time real_ns: base + strobe, clamped at 0, saturating instead of
 * overflowing. A rate outside [0, CLOCKCTL_RATE_MAX] (a corrupt block) is treated as 1.0. */
int64_t clockctl_fake_ns(const struct clockctl_params *p, int64_t real_ns);

/* The base line alone, unclamped: anchor_fake + (real - anchor_real) * rate. */
int64_t clockctl_base_ns(const struct clockctl_params *p, int64_t real_ns);

/* The strobe term alone: strobe_delta_ns when strobe_period_ns > 0 and
 * floor((real - strobe_anchor) / strobe_period) is odd, else 0. */
int64_t clockctl_strobe_ns(const struct clockctl_params *p, int64_t real_ns);

/* How a clock id is faked. Realtime clocks follow the formula; TAI and (when asked) the
 * monotonic clocks move by the realtime clock's current offset; the rest (CPU-time clocks,
 * dynamic clocks, unknown ids) are never touched. */
enum clockctl_kind {
    CLOCKCTL_KIND_PASS,
    CLOCKCTL_KIND_REAL, /* CLOCK_REALTIME, _COARSE, _ALARM */
    CLOCKCTL_KIND_TAI,  /* CLOCK_TAI */
    CLOCKCTL_KIND_MONO, /* CLOCK_MONOTONIC, _RAW, _COARSE, CLOCK_BOOTTIME, _ALARM */
};

/* The kind of clock id `id`. */
enum clockctl_kind clockctl_kind_of(int id);

/* The clock a faker reads for the real value of id: the id itself, except that the _ALARM
 * clocks read their plain twins (the same time base), which the vDSO serves: a libc reading
 * an _ALARM clock would otherwise make a system call, which the other route would fake again. */
int clockctl_read_id(int id);

/* The faked reading of a clock of kind `kind` (not PASS) whose real value is value_ns, where
 * real_ns is CLOCK_REALTIME read at about the same moment (ignored for KIND_REAL, whose value is
 * the realtime). Applies the monotonic flag: a MONO clock without CLOCKCTL_F_MONOTONIC in
 * p->flags keeps its real value. Clamped at 0, saturating. Both routes, the preload library and
 * eddy's system-call route, compute every faked reading with this one function. */
int64_t clockctl_fake_reading(const struct clockctl_params *p, enum clockctl_kind kind,
                              int64_t value_ns, int64_t real_ns);

/* Copies the parameters under the seqlock, retrying while a write is in progress. Returns false
 * only if the writer seems to have died mid-write (seq odd for seconds); *out is then unspecified
 * and the library falls back to the real clock. Safe in signal handlers; no syscalls unless a
 * write is in progress, and then only sched_yield. */
bool clockctl_params_read(const struct clockctl *c, struct clockctl_params *out);

/* ==== Simulator side (clockctl.c, static library eddy_clockctl) ==== */

/* Creates the block file at path (O_CREAT|O_EXCL, mode 0600, in a directory the caller made
 * private), sizes it, maps it MAP_SHARED and initialises it to the real clock with the monotonic
 * flag off. Returns 0 with *out set, or a negative errno (-EEXIST if path exists); on error
 * nothing is left behind. The caller owns *out: release with clockctl_destroy. */
int clockctl_create(const char *path, struct clockctl **out);

/* Unmaps c (if not NULL) and unlinks path (if not NULL). Nodes that still map the file keep
 * their current clock. Returns 0, or the negative errno of unlink (a missing file is not an
 * error). */
int clockctl_destroy(struct clockctl *c, const char *path);

/* The setters below take the current real time (CLOCK_REALTIME, ns) as now_ns, so that tests can
 * inject it. They are continuity-preserving: each evaluates the clock at now_ns and re-anchors
 * there. They publish under the seqlock and must be called from one thread only. */

/* fake = real from now on: offset 0, rate 1, strobe off. The monotonic flag is left alone. */
void clockctl_reset(struct clockctl *c, int64_t now_ns);

/* The fake clock jumps by delta_ns (either sign) at now_ns; rate and strobe carry on.
 * Returns 0, or -ERANGE if the new anchor would overflow. */
int clockctl_bump(struct clockctl *c, int64_t now_ns, int64_t delta_ns);

/* fake = real + offset_ns from now on: rate 1, strobe off. Returns 0 or -ERANGE. */
int clockctl_set_offset(struct clockctl *c, int64_t now_ns, int64_t offset_ns);

/* Strobes, like Jepsen's strobe-time: from now_ns the clock alternates every period_ns between
 * the current base line (first) and the base line + delta_ns. A strobe already running is
 * replaced, and its delta dropped if it was applied at now_ns. period_ns == 0 turns strobing off.
 * Returns 0, or -EINVAL if period_ns < 0. */
int clockctl_strobe(struct clockctl *c, int64_t now_ns, int64_t delta_ns, int64_t period_ns);

/* From now_ns the fake clock advances rate fake ns per real ns (0 freezes it, 2.0 doubles its
 * speed), continuing from its current value; the strobe carries on. Returns 0, or -EINVAL unless
 * 0 <= rate <= CLOCKCTL_RATE_MAX. */
int clockctl_drift(struct clockctl *c, int64_t now_ns, double rate);

/* The fake clock reads exactly fake_ns at now_ns and runs on at its current rate and strobe; for
 * restarting a node "into the past" at a previous incarnation's start time. Returns 0, -EINVAL
 * if fake_ns < 0, or -ERANGE. */
int clockctl_set_fake(struct clockctl *c, int64_t now_ns, int64_t fake_ns);

/* Turns CLOCKCTL_F_MONOTONIC on or off; takes effect at the node's next monotonic read. */
void clockctl_set_monotonic(struct clockctl *c, bool on);

/* The parameters as the writer last published them (no seqlock: the writer is the only thread
 * that changes them). For eddy's own computations, such as answering a trapped clock call. */
struct clockctl_params clockctl_params_get(const struct clockctl *c);

/* The node's fake time and its offset (fake - real) at real time now_ns, for the report. */
int64_t clockctl_fake_at(const struct clockctl *c, int64_t now_ns);
int64_t clockctl_offset_at(const struct clockctl *c, int64_t now_ns);

/* True once a process has loaded the library against this block and validated it; *pid (if not
 * NULL) receives that pid (the first loader since the last clockctl_mark_unloaded), else 0. */
bool clockctl_loaded(const struct clockctl *c, pid_t *pid);

/* Intercepted clock reads since creation or the last clockctl_mark_unloaded. */
uint64_t clockctl_reads(const struct clockctl *c);

/* Clears loaded_pid and reads; call before restarting a node on the same block. */
void clockctl_mark_unloaded(struct clockctl *c);

/* Whether process pid currently maps the block file at path, from /proc/<pid>/maps: 1 yes, 0 no,
 * or a negative errno (-ENOENT when the process is gone). Unlike loaded_pid this also catches a
 * node that exec'd a static binary after the library loaded. */
int clockctl_mapped_by(const char *path, pid_t pid);

/* The real CLOCK_REALTIME in ns, for now_ns (the simulator itself is never preloaded). */
int64_t clockctl_real_now_ns(void);

#endif /* EDDY_CLOCKCTL_H */
