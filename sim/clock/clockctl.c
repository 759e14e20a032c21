/*
 * clockctl.c: the simulator's side of the clock control block: create, change, observe, destroy.
 *
 * Every setter follows one pattern: read the current parameters, evaluate the base line at the
 * injected now_ns, re-anchor there with the change applied, and publish the whole parameter set
 * under the seqlock (seq odd, release fence, relaxed stores, seq even with release). The strobe
 * keeps its own anchor, so bumps and drifts do not restart its phase.
 * Depends on: clockctl_time, util. Used by: sim (nemesis, proc, report), tests/sim/clock.
 */
#include "eddy/clockctl.h"
#include "eddy/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ==== Creation and destruction ==== */

static void clockctl_init_block(struct clockctl *c)
{
    memset(c, 0, sizeof(*c));
    memcpy(c->magic, CLOCKCTL_MAGIC, sizeof(c->magic));
    c->version = CLOCKCTL_VERSION;
    c->size = (uint32_t)sizeof(*c);
    /* Anchors at 0 with rate 1 read as fake = real at any time, without needing now. */
    atomic_store_explicit(&c->rate, 1.0, memory_order_relaxed);
}

int clockctl_create(const char *path, struct clockctl **out)
{
    ASSERT(path != NULL);
    ASSERT(out != NULL);
    *out = NULL;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    int rc = 0;
    void *map = MAP_FAILED;
    /* fchmod because the umask could have removed bits we rely on, not because it adds any. */
    if (fchmod(fd, 0600) < 0 || ftruncate(fd, (off_t)sizeof(struct clockctl)) < 0) {
        rc = -errno;
        goto fail;
    }
    map = mmap(NULL, sizeof(struct clockctl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        rc = -errno;
        goto fail;
    }
    close(fd);
    clockctl_init_block(map);
    *out = map;
    return 0;
fail:
    close(fd);
    unlink(path);
    return rc;
}

int clockctl_destroy(struct clockctl *c, const char *path)
{
    if (c)
        ASSERT(munmap(c, sizeof(*c)) == 0);
    if (path && unlink(path) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

/* ==== Setters ==== */

/*
 * The node maps the block writable (it must write loaded_pid and reads), so a node that scribbles
 * over memory could change anything in it. The writer therefore trusts nothing it reads back: an
 * odd seq is rounded down rather than asserted on, and the arithmetic saturates on any values.
 */
static void clockctl_publish(struct clockctl *c, const struct clockctl_params *p)
{
    /* Single writer: seq cannot change under us, so a plain read-increment is enough. */
    uint32_t s = atomic_load_explicit(&c->seq, memory_order_relaxed) & ~1u;
    atomic_store_explicit(&c->seq, s + 1, memory_order_relaxed);
    /* Keeps the odd seq ahead of the parameter stores (the seqlock writer's fence). */
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&c->flags, p->flags, memory_order_relaxed);
    atomic_store_explicit(&c->anchor_real_ns, p->anchor_real_ns, memory_order_relaxed);
    atomic_store_explicit(&c->anchor_fake_ns, p->anchor_fake_ns, memory_order_relaxed);
    atomic_store_explicit(&c->rate, p->rate, memory_order_relaxed);
    atomic_store_explicit(&c->strobe_anchor_ns, p->strobe_anchor_ns, memory_order_relaxed);
    atomic_store_explicit(&c->strobe_delta_ns, p->strobe_delta_ns, memory_order_relaxed);
    atomic_store_explicit(&c->strobe_period_ns, p->strobe_period_ns, memory_order_relaxed);
    atomic_store_explicit(&c->seq, s + 2, memory_order_release);
}

/* The writer's own view. The writer never races itself, so it reads without the seqlock (which
 * would spin on a seq left odd by a misbehaving node). */
struct clockctl_params clockctl_params_get(const struct clockctl *c)
{
    ASSERT(c != NULL);
    return (struct clockctl_params){
        .flags = atomic_load_explicit(&c->flags, memory_order_relaxed),
        .anchor_real_ns = atomic_load_explicit(&c->anchor_real_ns, memory_order_relaxed),
        .anchor_fake_ns = atomic_load_explicit(&c->anchor_fake_ns, memory_order_relaxed),
        .rate = atomic_load_explicit(&c->rate, memory_order_relaxed),
        .strobe_anchor_ns = atomic_load_explicit(&c->strobe_anchor_ns, memory_order_relaxed),
        .strobe_delta_ns = atomic_load_explicit(&c->strobe_delta_ns, memory_order_relaxed),
        .strobe_period_ns = atomic_load_explicit(&c->strobe_period_ns, memory_order_relaxed),
    };
}

/* Re-anchors the base line at now with value base_ns; everything else stays. */
static void clockctl_anchor(struct clockctl_params *p, int64_t now_ns, int64_t base_ns)
{
    p->anchor_real_ns = now_ns;
    p->anchor_fake_ns = base_ns;
}

void clockctl_reset(struct clockctl *c, int64_t now_ns)
{
    struct clockctl_params p = clockctl_params_get(c);
    clockctl_anchor(&p, now_ns, now_ns);
    p.rate = 1.0;
    p.strobe_anchor_ns = 0;
    p.strobe_delta_ns = 0;
    p.strobe_period_ns = 0;
    clockctl_publish(c, &p);
}

int clockctl_bump(struct clockctl *c, int64_t now_ns, int64_t delta_ns)
{
    struct clockctl_params p = clockctl_params_get(c);
    int64_t base;
    if (__builtin_add_overflow(clockctl_base_ns(&p, now_ns), delta_ns, &base))
        return -ERANGE;
    clockctl_anchor(&p, now_ns, base);
    clockctl_publish(c, &p);
    return 0;
}

int clockctl_set_offset(struct clockctl *c, int64_t now_ns, int64_t offset_ns)
{
    struct clockctl_params p = clockctl_params_get(c);
    int64_t base;
    if (__builtin_add_overflow(now_ns, offset_ns, &base))
        return -ERANGE;
    clockctl_anchor(&p, now_ns, base);
    p.rate = 1.0;
    p.strobe_period_ns = 0;
    p.strobe_delta_ns = 0;
    clockctl_publish(c, &p);
    return 0;
}

int clockctl_strobe(struct clockctl *c, int64_t now_ns, int64_t delta_ns, int64_t period_ns)
{
    if (period_ns < 0)
        return -EINVAL;
    struct clockctl_params p = clockctl_params_get(c);
    clockctl_anchor(&p, now_ns, clockctl_base_ns(&p, now_ns));
    p.strobe_anchor_ns = now_ns;
    p.strobe_delta_ns = period_ns > 0 ? delta_ns : 0;
    p.strobe_period_ns = period_ns;
    clockctl_publish(c, &p);
    return 0;
}

int clockctl_drift(struct clockctl *c, int64_t now_ns, double rate)
{
    if (!isfinite(rate) || rate < 0.0 || rate > CLOCKCTL_RATE_MAX)
        return -EINVAL;
    struct clockctl_params p = clockctl_params_get(c);
    clockctl_anchor(&p, now_ns, clockctl_base_ns(&p, now_ns));
    p.rate = rate;
    clockctl_publish(c, &p);
    return 0;
}

int clockctl_set_fake(struct clockctl *c, int64_t now_ns, int64_t fake_ns)
{
    if (fake_ns < 0)
        return -EINVAL;
    struct clockctl_params p = clockctl_params_get(c);
    /* The base line absorbs the strobe's current term, so the reading at now_ns is exact. */
    int64_t base;
    if (__builtin_sub_overflow(fake_ns, clockctl_strobe_ns(&p, now_ns), &base))
        return -ERANGE;
    clockctl_anchor(&p, now_ns, base);
    clockctl_publish(c, &p);
    return 0;
}

void clockctl_set_monotonic(struct clockctl *c, bool on)
{
    struct clockctl_params p = clockctl_params_get(c);
    p.flags = on ? (p.flags | CLOCKCTL_F_MONOTONIC) : (p.flags & ~CLOCKCTL_F_MONOTONIC);
    clockctl_publish(c, &p);
}

/* ==== Observation ==== */

int64_t clockctl_fake_at(const struct clockctl *c, int64_t now_ns)
{
    struct clockctl_params p = clockctl_params_get(c);
    return clockctl_fake_ns(&p, now_ns);
}

int64_t clockctl_offset_at(const struct clockctl *c, int64_t now_ns)
{
    int64_t off;
    if (__builtin_sub_overflow(clockctl_fake_at(c, now_ns), now_ns, &off))
        return now_ns > 0 ? INT64_MIN : INT64_MAX;
    return off;
}

bool clockctl_loaded(const struct clockctl *c, pid_t *pid)
{
    ASSERT(c != NULL);
    int32_t v = atomic_load_explicit(&c->loaded_pid, memory_order_acquire);
    if (pid)
        *pid = (pid_t)v;
    return v != 0;
}

uint64_t clockctl_reads(const struct clockctl *c)
{
    ASSERT(c != NULL);
    return atomic_load_explicit(&c->reads, memory_order_relaxed);
}

void clockctl_mark_unloaded(struct clockctl *c)
{
    ASSERT(c != NULL);
    atomic_store_explicit(&c->loaded_pid, 0, memory_order_release);
    atomic_store_explicit(&c->reads, 0, memory_order_relaxed);
}

/* True if a /proc/<pid>/maps line names exactly the file target (possibly "(deleted)"). */
static bool clockctl_maps_line_is(const char *line, const char *target)
{
    /* Fields: address perms offset dev inode, then spaces, then the path. */
    const char *s = line;
    for (int field = 0; field < 5; field++) {
        s = strchr(s, ' ');
        if (!s)
            return false;
        s += strspn(s, " ");
    }
    size_t n = strlen(target);
    if (strncmp(s, target, n) != 0)
        return false;
    return s[n] == '\n' || s[n] == '\0' || strncmp(s + n, " (deleted)", 10) == 0;
}

int clockctl_mapped_by(const char *path, pid_t pid)
{
    ASSERT(path != NULL);
    ASSERT(pid > 0);
    /* By path rather than by device and inode, because overlayfs reports the upper layer's
     * inode in maps but its own in stat; the kernel prints the canonical path. */
    char target[PATH_MAX];
    if (!realpath(path, target))
        return -errno;
    char maps[64];
    snprintf(maps, sizeof(maps), "/proc/%ld/maps", (long)pid);
    FILE *f = fopen(maps, "re");
    if (!f)
        return -errno;
    char *line = NULL;
    size_t cap = 0;
    int found = 0;
    while (!found && getline(&line, &cap, f) > 0)
        found = clockctl_maps_line_is(line, target);
    free(line);
    fclose(f);
    return found;
}

int64_t clockctl_real_now_ns(void)
{
    struct timespec ts;
    ASSERT(clock_gettime(CLOCK_REALTIME, &ts) == 0);
    return (int64_t)ts.tv_sec * CLOCKCTL_NS_PER_SEC + ts.tv_nsec;
}
