/*
 * vdso.c: eddyvdso.so, a vDSO of eddy's own that fakes a node's wall clock inside the node.
 *
 * On the system-call route eddy can give a program this image in place of the kernel's vDSO
 * (AT_SYSINFO_EHDR points at it), where Go's runtime and the static libcs look for
 * __vdso_clock_gettime and its kin. Each function reads the real time through the kernel's own
 * vDSO, whose function addresses eddy writes into the page just below the image, and fakes it
 * from the node's control block, mapped in the page between, with clockctl_fake_reading: what
 * the preload library computes, for about what the library costs, and no round trip to eddy.
 *
 * The image is copied into the node as the file is: one read-and-execute segment from offset 0,
 * file offsets equal to addresses (the linker script sees to it), no relocation, no libc, no
 * writable data. Layout in the node, from eddy_vdso_slots: [slots page][control block page]
 * [this image].
 * Depends on: clockctl_time (compiled in). Used by: clocksys (maps it), the nodes.
 */
#include "eddy/clockctl.h"
#include "eddy/vdso.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#define VDSO_EXPORT __attribute__((visibility("default")))

/* The image's first byte, placed at address 0 by the linker script (eddy_vdso_start). */

/* The image's address in the node, as an integer: the pages below it are no C object of ours,
 * so the compiler must not reason about them from eddy_vdso_start's bounds. */
static uintptr_t image(void)
{
    uintptr_t at;
    __asm__("lea eddy_vdso_start(%%rip), %0" : "=r"(at));
    return at;
}

static const struct eddy_vdso_slots *slots(void)
{
    return (const struct eddy_vdso_slots *)(image() - 2 * EDDY_VDSO_PAGE);
}

static struct clockctl *block(void)
{
    return (struct clockctl *)(image() - EDDY_VDSO_PAGE);
}

/* ==== System calls, without libc ==== */

static long raw2(long nr, long a, long b)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return ret;
}

/* clockctl_time.c yields while eddy is mid-write; here without libc. */
int eddy_vdso_sched_yield(void);
int eddy_vdso_sched_yield(void)
{
    return (int)raw2(SYS_sched_yield, 0, 0);
}

/* ==== Real clocks ==== */

/* The kernel's clock_gettime, or its system call if the kernel's vDSO lacked it (never on
 * x86-64). A system call would be trapped and faked by eddy, so its answer is not faked here
 * again: the caller learns through *faked. */
static int real_clock_gettime(clockid_t id, struct timespec *ts, int *faked)
{
    const struct eddy_vdso_slots *s = slots();
    if (s->clock_gettime)
        return s->clock_gettime(id, ts);
    *faked = 1;
    return (int)raw2(SYS_clock_gettime, id, (long)ts);
}

static int64_t ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * CLOCKCTL_NS_PER_SEC + ts->tv_nsec;
}

/* As the preload library fakes: see clockctl_fake_reading. Errors are returned as the kernel's
 * vDSO returns them, negative. */
static int fake_clock_gettime(clockid_t id, struct timespec *ts)
{
    struct clockctl *c = block();
    enum clockctl_kind kind = clockctl_kind_of(id);
    int faked = 0;
    if (kind == CLOCKCTL_KIND_PASS)
        return real_clock_gettime(id, ts, &faked);
    atomic_fetch_add_explicit(&c->reads, 1, memory_order_relaxed);
    struct clockctl_params p;
    if (!clockctl_params_read(c, &p))
        return real_clock_gettime(id, ts, &faked); /* eddy died mid-write: stay real */
    if (kind == CLOCKCTL_KIND_MONO && !(p.flags & CLOCKCTL_F_MONOTONIC))
        return real_clock_gettime(id, ts, &faked);
    int rc = real_clock_gettime(clockctl_read_id(id), ts, &faked);
    if (rc != 0 || faked)
        return rc;
    int64_t real = 0;
    if (kind != CLOCKCTL_KIND_REAL) {
        struct timespec rt;
        rc = real_clock_gettime(CLOCK_REALTIME, &rt, &faked);
        if (rc != 0)
            return rc;
        real = ts_ns(&rt);
    }
    int64_t fake = clockctl_fake_reading(&p, kind, ts_ns(ts), real);
    ts->tv_sec = (time_t)(fake / CLOCKCTL_NS_PER_SEC);
    ts->tv_nsec = (long)(fake % CLOCKCTL_NS_PER_SEC);
    return 0;
}

/* ==== The exported functions, under the kernel's names and version ==== */

VDSO_EXPORT int __vdso_clock_gettime(clockid_t id, struct timespec *ts);
int __vdso_clock_gettime(clockid_t id, struct timespec *ts)
{
    return fake_clock_gettime(id, ts);
}

VDSO_EXPORT int __vdso_gettimeofday(struct timeval *tv, void *tz);
int __vdso_gettimeofday(struct timeval *tv, void *tz)
{
    if (tz) {
        /* The timezone is the kernel's: ask the kernel's vDSO for it alone. */
        const struct eddy_vdso_slots *s = slots();
        int rc =
            s->gettimeofday ? s->gettimeofday(NULL, tz) : (int)raw2(SYS_gettimeofday, 0, (long)tz);
        if (rc != 0)
            return rc;
    }
    if (tv) {
        struct timespec ts;
        int rc = fake_clock_gettime(CLOCK_REALTIME, &ts);
        if (rc != 0)
            return rc;
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = (suseconds_t)(ts.tv_nsec / 1000);
    }
    return 0;
}

VDSO_EXPORT time_t __vdso_time(time_t *t);
time_t __vdso_time(time_t *t)
{
    struct timespec ts;
    /* The coarse clock is what the kernel's time() reads. */
    if (fake_clock_gettime(CLOCK_REALTIME_COARSE, &ts) != 0)
        return (time_t)-1;
    if (t)
        *t = ts.tv_sec;
    return ts.tv_sec;
}

VDSO_EXPORT int __vdso_clock_getres(clockid_t id, struct timespec *res);
int __vdso_clock_getres(clockid_t id, struct timespec *res)
{
    const struct eddy_vdso_slots *s = slots();
    return s->clock_getres ? s->clock_getres(id, res) : (int)raw2(SYS_clock_getres, id, (long)res);
}

VDSO_EXPORT long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused);
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
    const struct eddy_vdso_slots *s = slots();
    if (s->getcpu)
        return s->getcpu(cpu, node, unused);
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"((long)SYS_getcpu), "D"(cpu), "S"(node), "d"(unused)
                     : "rcx", "r11", "memory");
    return ret;
}

/* The kernel exports each function under its plain name too. */
VDSO_EXPORT int clock_gettime(clockid_t, struct timespec *)
    __attribute__((weak, alias("__vdso_clock_gettime")));
VDSO_EXPORT int gettimeofday(struct timeval *, void *)
    __attribute__((weak, alias("__vdso_gettimeofday")));
VDSO_EXPORT time_t time(time_t *) __attribute__((weak, alias("__vdso_time")));
VDSO_EXPORT int clock_getres(clockid_t, struct timespec *)
    __attribute__((weak, alias("__vdso_clock_getres")));
VDSO_EXPORT long getcpu(unsigned *, unsigned *, void *)
    __attribute__((weak, alias("__vdso_getcpu")));
