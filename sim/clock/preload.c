/*
 * preload.c: libeddyclock.so, an LD_PRELOAD library that fakes one node process's wall clock.
 *
 * It interposes clock_gettime, gettimeofday, time and timespec_get. Its constructor maps the
 * control block named by EDDY_CLOCK_FILE if, and only if, the file passes every check below;
 * otherwise the library stays a pure pass-through to the next definitions (libc's, or a sanitizer
 * runtime's). Once loaded, a clock read costs the real vDSO read, a seqlock read of the block and
 * a relaxed increment: no allocation, no locks, no syscalls, so it is async-signal-safe. In a
 * process whose vDSO eddy hid or replaced (the system-call routes), it stays a pass-through.
 * Depends on: clockctl_time (compiled in). Used by: the simulator, through LD_PRELOAD.
 */
#include "eddy/clockctl.h"
#include "eddy/vdso.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Only the interposed functions leave the library; the build hides everything else. */
#define EDDYCLOCK_EXPORT __attribute__((visibility("default")))

typedef int clock_gettime_fn(clockid_t id, struct timespec *ts);
typedef int gettimeofday_fn(struct timeval *restrict tv, void *restrict tz);
typedef time_t time_fn(time_t *tloc);
typedef int timespec_get_fn(struct timespec *ts, int base);

/*
 * Written once by the constructor, before main() and before any thread of the program exists,
 * and never again, so plain variables are enough. Reads that happen earlier (another library's
 * constructor) find them NULL and go to the kernel directly rather than risk dlsym there.
 * The block stays mapped until exit: unmapping in a destructor would fault threads still
 * reading the clock. A forked child inherits the mapping and keeps the node's fake clock, as a
 * child on the same machine would; it shares the reads counter and leaves loaded_pid alone.
 */
static clock_gettime_fn *next_clock_gettime;
static gettimeofday_fn *next_gettimeofday;
static time_fn *next_time;
static timespec_get_fn *next_timespec_get;
static struct clockctl *ctl;

/* ==== Real clocks ==== */

static int real_clock_gettime(clockid_t id, struct timespec *ts)
{
    if (next_clock_gettime)
        return next_clock_gettime(id, ts);
    /* glibc's syscall() sets errno and returns -1 itself. */
    return (int)syscall(SYS_clock_gettime, id, ts);
}

static int64_t ts_to_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * CLOCKCTL_NS_PER_SEC + ts->tv_nsec;
}

static void ns_to_ts(int64_t ns, struct timespec *ts)
{
    ts->tv_sec = (time_t)(ns / CLOCKCTL_NS_PER_SEC);
    ts->tv_nsec = (long)(ns % CLOCKCTL_NS_PER_SEC);
}

/* ==== Faking ==== */

/*
 * Reads clock id into *ts, faked through block c with clockctl_fake_reading, the computation
 * eddy's system-call route uses too. TAI, and monotonic clocks when the flag is set, need a
 * second read of CLOCK_REALTIME for the offset; the _ALARM clocks are read through their plain
 * twins (clockctl_read_id), which the vDSO serves.
 */
static int fake_clock_gettime(struct clockctl *c, clockid_t id, struct timespec *ts)
{
    atomic_fetch_add_explicit(&c->reads, 1, memory_order_relaxed);
    enum clockctl_kind kind = clockctl_kind_of(id);
    if (kind == CLOCKCTL_KIND_PASS)
        return real_clock_gettime(id, ts);

    struct clockctl_params p;
    if (!clockctl_params_read(c, &p))
        return real_clock_gettime(id, ts); /* the writer died mid-write: stay real */
    if (kind == CLOCKCTL_KIND_MONO && !(p.flags & CLOCKCTL_F_MONOTONIC))
        return real_clock_gettime(id, ts);

    int rc = real_clock_gettime(clockctl_read_id(id), ts);
    if (rc != 0)
        return rc;
    int64_t real = 0;
    if (kind != CLOCKCTL_KIND_REAL) {
        struct timespec rt;
        rc = real_clock_gettime(CLOCK_REALTIME, &rt);
        if (rc != 0)
            return rc;
        real = ts_to_ns(&rt);
    }
    ns_to_ts(clockctl_fake_reading(&p, kind, ts_to_ns(ts), real), ts);
    return 0;
}

/* ==== Interposed functions ==== */

EDDYCLOCK_EXPORT int clock_gettime(clockid_t id, struct timespec *ts)
{
    struct clockctl *c = ctl;
    if (!c)
        return real_clock_gettime(id, ts);
    return fake_clock_gettime(c, id, ts);
}

/*
 * glibc declares gettimeofday with __nonnull((1)), which would let the compiler delete the NULL
 * check below; this definition therefore gets its own C name and takes the symbol by asm label.
 * Linux accepts a NULL tv, and a non-NULL tz (obsolete) is filled by the real function.
 */
EDDYCLOCK_EXPORT int eddyclock_gettimeofday(struct timeval *restrict tv,
                                            void *restrict tz) __asm__("gettimeofday");
int eddyclock_gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    struct clockctl *c = ctl;
    if (!c) {
        if (next_gettimeofday)
            return next_gettimeofday(tv, tz);
        return (int)syscall(SYS_gettimeofday, tv, tz);
    }
    if (tz) {
        int rc = next_gettimeofday ? next_gettimeofday(NULL, tz)
                                   : (int)syscall(SYS_gettimeofday, NULL, tz);
        if (rc != 0)
            return rc;
    }
    if (tv) {
        struct timespec ts;
        int rc = fake_clock_gettime(c, CLOCK_REALTIME, &ts);
        if (rc != 0)
            return rc;
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = (suseconds_t)(ts.tv_nsec / 1000);
    }
    return 0;
}

EDDYCLOCK_EXPORT time_t time(time_t *tloc)
{
    struct clockctl *c = ctl;
    struct timespec ts;
    int rc;
    if (c) {
        /* The coarse clock is what the real time() reads (the vDSO returns the tick-updated
         * seconds), and it costs a quarter of CLOCK_REALTIME. */
        rc = fake_clock_gettime(c, CLOCK_REALTIME_COARSE, &ts);
    } else if (next_time) {
        return next_time(tloc);
    } else {
        rc = real_clock_gettime(CLOCK_REALTIME, &ts);
    }
    if (rc != 0)
        return (time_t)-1;
    if (tloc)
        *tloc = ts.tv_sec;
    return ts.tv_sec;
}

EDDYCLOCK_EXPORT int timespec_get(struct timespec *ts, int base)
{
    struct clockctl *c = ctl;
    if (!c || base != TIME_UTC) {
        if (next_timespec_get)
            return next_timespec_get(ts, base);
        if (base != TIME_UTC || real_clock_gettime(CLOCK_REALTIME, ts) != 0)
            return 0;
        return base;
    }
    return fake_clock_gettime(c, CLOCK_REALTIME, ts) == 0 ? base : 0;
}

/* ==== Loading ==== */

/*
 * Maps the block named by EDDY_CLOCK_FILE, or returns NULL. The file must be a regular file
 * (not followed through a symlink) owned by our effective uid, writable by nobody else, exactly
 * one block long, and carry the right magic, version and size: a node must never fake its clock
 * from a file the simulator did not make for it. All checks run on the open descriptor, so the
 * file cannot be swapped between check and map.
 */
static struct clockctl *eddyclock_map(void)
{
    const char *path = getenv(CLOCKCTL_ENV);
    if (!path || !*path)
        return NULL;
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & (S_IWGRP | S_IWOTH)) || st.st_size != (off_t)sizeof(struct clockctl)) {
        close(fd);
        return NULL;
    }
    void *map = mmap(NULL, sizeof(struct clockctl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return NULL;
    struct clockctl *c = map;
    if (memcmp(c->magic, CLOCKCTL_MAGIC, sizeof(c->magic)) != 0 || c->version != CLOCKCTL_VERSION ||
        c->size != sizeof(struct clockctl)) {
        munmap(map, sizeof(struct clockctl));
        return NULL;
    }
    return c;
}

__attribute__((constructor)) static void eddyclock_init(void)
{
    /* Resolve first, so that even a process without a block calls the real functions. dlsym
     * returns NULL if there is no next definition; the wrappers then use the syscalls. */
    next_clock_gettime = (clock_gettime_fn *)dlsym(RTLD_NEXT, "clock_gettime");
    next_gettimeofday = (gettimeofday_fn *)dlsym(RTLD_NEXT, "gettimeofday");
    next_time = (time_fn *)dlsym(RTLD_NEXT, "time");
    next_timespec_get = (timespec_get_fn *)dlsym(RTLD_NEXT, "timespec_get");

    /* A process whose vDSO eddy hid, or replaced with its own, is on a system-call route: its
     * libc's clock reads are already faked, by eddy or by eddy's vDSO, and faking them again
     * here would count the offset twice. So the library stands aside there (and does not report
     * itself loaded). eddy's vDSO carries EDDY_VDSO_MARK in its ELF header's padding. */
    const unsigned char *vdso = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
    if (!vdso || memcmp(vdso + 9, EDDY_VDSO_MARK, 4) == 0)
        return;
    struct clockctl *c = eddyclock_map();
    if (!c)
        return;
    /* The first loader since clockctl_mark_unloaded is the node: a wrapper script that execs
     * the node keeps its pid, and helpers it spawns later must not overwrite it. */
    int32_t expected = 0;
    atomic_compare_exchange_strong_explicit(&c->loaded_pid, &expected, (int32_t)getpid(),
                                            memory_order_acq_rel, memory_order_relaxed);
    ctl = c;
}
