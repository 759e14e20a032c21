/*
 * clocktrap.h: the pure core of eddy's system-call clock route: what the seccomp filter traps,
 * how a trapped call is answered, and where the vDSO's entry sits in a new program's stack.
 *
 * The route makes a node read its clocks through system calls (the vDSO is hidden from it) and
 * traps those calls with a seccomp filter whose user notifications eddy answers. Everything that
 * decides (the filter program, the decoding of a notification, the faked value and the bytes
 * written into the caller, the reply, the search of the auxiliary vector) lives here and makes
 * no system call, so that the unit tests and the fuzzer drive it with any input; clocksys.c is
 * the shell that talks to the kernel.
 * Depends on: clockctl (the arithmetic), util. Used by: clocksys, tests/sim/clock, tests/fuzz.
 */
#ifndef EDDY_CLOCKTRAP_H
#define EDDY_CLOCKTRAP_H

#include "eddy/clockctl.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Filter options. */
#define CLOCKTRAP_F_MONOTONIC                                                                      \
    0x1u                      /* also trap the monotonic clocks (the clock-monotonic option)       \
                               */
#define CLOCKTRAP_F_EXEC 0x2u /* trap execve and execveat, to hide the vDSO after them */

#define CLOCKTRAP_FILTER_MAX 48 /* instructions; the largest filter uses 35 */

/* True when this build knows the system calls and registers of the machine (x86-64). */
bool clocktrap_supported(void);

/* ==== The filter ==== */

struct clocktrap_filter {
    struct sock_filter insns[CLOCKTRAP_FILTER_MAX];
    unsigned short len;
};

/* The one execve the filter lets through with F_EXEC: the node's own, made by the child that
 * installed the filter, recognised by its three pointer arguments (filename, argv, envp). A
 * program that later passes execve exactly these three addresses again is not followed. */
struct clocktrap_exempt {
    uint64_t args[3];
};

/* Builds the filter for `flags` (CLOCKTRAP_F_*): notify for clock_gettime on the realtime clocks
 * (CLOCK_REALTIME, _COARSE, _ALARM, CLOCK_TAI; and the monotonic ones with F_MONOTONIC),
 * gettimeofday and time (and execve other than `exempt`, and execveat, with F_EXEC), for the
 * native architecture only; allow everything else. No system call, no allocation: safe in a
 * vforked child. */
void clocktrap_filter_build(struct clocktrap_filter *f, unsigned flags,
                            const struct clocktrap_exempt *exempt);

/* What the filter should return for a call, stated directly: the specification that the built
 * program is checked against. */
uint32_t clocktrap_filter_expect(const struct seccomp_data *d, unsigned flags,
                                 const struct clocktrap_exempt *exempt);

/* Runs a filter on d as the kernel would, for the instructions clocktrap_filter_build emits
 * (absolute word loads, jeq with a constant, returns of a constant). Returns the action, or
 * SECCOMP_RET_KILL_PROCESS for a program it cannot run (an unknown instruction, a load out of
 * range, a jump past the end): what the kernel refuses at installation. */
uint32_t clocktrap_filter_eval(const struct clocktrap_filter *f, const struct seccomp_data *d);

/* ==== A trapped call ==== */

enum clocktrap_sys {
    CLOCKTRAP_SYS_OTHER,         /* not ours (another architecture or call): let it run */
    CLOCKTRAP_SYS_CLOCK_GETTIME, /* clock_gettime(id, tp) */
    CLOCKTRAP_SYS_GETTIMEOFDAY,  /* gettimeofday(tv, tz) */
    CLOCKTRAP_SYS_TIME,          /* time(tloc) */
    CLOCKTRAP_SYS_EXEC,          /* execve or execveat: the shell follows the new program */
};

/* A decoded notification: what eddy must read, and where the answer goes. */
struct clocktrap_call {
    enum clocktrap_sys sys;
    int clock_id;            /* the clock the caller asked for (CLOCK_REALTIME for gettimeofday,
                                CLOCK_REALTIME_COARSE for time, as the kernel reads them) */
    enum clockctl_kind kind; /* how that clock is faked */
    bool need_realtime;      /* the answer also needs CLOCK_REALTIME (TAI, monotonic clocks) */
    uint64_t addr[2];        /* tp; tv and tz; tloc (0 = NULL) */
};

/* Decodes a notification. Never fails: a call this route does not answer is SYS_OTHER. */
void clocktrap_decode(const struct seccomp_notif *n, struct clocktrap_call *out);

/* What eddy read for the call, in eddy's own process (the clocks are system-wide). */
struct clocktrap_readings {
    int read_errno;      /* 0, or the errno of eddy's read of clock_id (an invalid clock) */
    int64_t value_ns;    /* clock_id's real value */
    int64_t realtime_ns; /* CLOCK_REALTIME, when need_realtime */
    int32_t tz_minuteswest, tz_dsttime; /* the kernel's timezone, for gettimeofday's tz */
};

#define CLOCKTRAP_WRITE_MAX 16 /* bytes of one write: a timespec or timeval */

/* The answer: bytes to write into the caller, then the reply. */
struct clocktrap_answer {
    struct {
        uint64_t addr;
        uint32_t len;
        uint8_t bytes[CLOCKTRAP_WRITE_MAX];
    } w[2];
    unsigned writes; /* 0 to 2, in the order the kernel would write them */
    int64_t val;     /* the call's return value */
    int32_t error;   /* 0, or the negative errno the call returns */
    bool let_run;    /* SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel runs the call itself */
};

/* Computes the answer to call c with parameters p and readings r: the faked value encoded as
 * the kernel would (struct timespec, struct timeval, time_t), the writes, and the return value.
 * A NULL pointer where the kernel writes unconditionally gives EFAULT without a write. */
void clocktrap_answer(const struct clocktrap_call *c, const struct clockctl_params *p,
                      const struct clocktrap_readings *r, struct clocktrap_answer *a);

/* The reply to notification `id` once the writes are done: written is how many bytes of each
 * write landed (what process_vm_writev reported, -1 for an error). Any short write makes the
 * call fail with EFAULT, as the kernel's own copy would. */
void clocktrap_reply(const struct clocktrap_answer *a, uint64_t id, const long written[2],
                     struct seccomp_notif_resp *out);

/* ==== The auxiliary vector ==== */

/* Where the entries of a new program's auxiliary vector are, found from the words at its initial
 * stack pointer: argc, argc argv pointers, NULL, the envp pointers, NULL, then (type, value)
 * pairs up to AT_NULL. */
struct clocktrap_auxv {
    size_t sysinfo_ehdr; /* word index of AT_SYSINFO_EHDR's type, 0 if absent */
    size_t end;          /* word index just past AT_NULL's pair */
    uint64_t at_base;    /* AT_BASE: the interpreter's address, 0 for a static program */
};

/* Finds the vector in words[0..n). 0, or -EAGAIN when the words end before AT_NULL (read more),
 * or -EBADMSG when they cannot be a stack (argc absurd, no AT_NULL within the limit). */
int clocktrap_auxv_find(const uint64_t *words, size_t n, struct clocktrap_auxv *out);

#define CLOCKTRAP_AUXV_WORDS_MAX (1u << 20) /* 8 MiB of argv and envp pointers at most */

#endif /* EDDY_CLOCKTRAP_H */
