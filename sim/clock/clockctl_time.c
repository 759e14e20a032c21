/*
 * clockctl_time.c: the pure half of clockctl.h, the fake-clock arithmetic and the seqlock reader.
 *
 * It is compiled twice: into eddy_clockctl for the simulator and into libeddyclock.so, which must
 * stay self-contained (no eddy_proto, no sanitizer runtime, nothing that allocates or locks). So
 * this file uses no ASSERT and makes no syscall except sched_yield while a write is in progress.
 * All arithmetic saturates instead of overflowing, because the library must never fault on
 * whatever values a block holds.
 * Depends on: nothing. Used by: clockctl.c, preload.c.
 */
#include "eddy/clockctl.h"

#include <sched.h>
#include <stddef.h>
#include <time.h>

/* The block is shared between processes, which is valid only for address-free, lock-free
 * atomics; libatomic's lock-based fallback would lock per process. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert(__atomic_always_lock_free(sizeof(double), 0), "atomic double must be lock-free");
_Static_assert(sizeof(struct clockctl) == 192, "the block layout is an ABI");
_Static_assert(offsetof(struct clockctl, seq) == 16, "the block layout is an ABI");
_Static_assert(offsetof(struct clockctl, loaded_pid) == 128, "feedback on its own cache line");

/* About a second or more of retries before a reader gives up on a writer that died mid-write;
 * after the first 64 spins each retry yields, so that a descheduled writer can finish. */
#define SPIN_MAX (1u << 20)
#define SPIN_BUSY 64u

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static int64_t sat_sub(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

/* Clamps a 128-bit value into int64_t. */
static int64_t clamp64(__int128 v)
{
    if (v > INT64_MAX)
        return INT64_MAX;
    if (v < INT64_MIN)
        return INT64_MIN;
    return (int64_t)v;
}

int64_t clockctl_base_ns(const struct clockctl_params *p, int64_t real_ns)
{
    /* In 128 bits, so that the result saturates only once, at the end: saturating the
     * difference first and the sum after would be wrong when both overflow. */
    __int128 dt = (__int128)real_ns - p->anchor_real_ns;
    double rate = p->rate;
    __int128 scaled;

    /* Rate 1 and 0 are exact integer paths: the common cases stay free of rounding. The
     * negated comparison also sends NaN to 1.0, since (int64_t)NaN is undefined. */
    if (!(rate >= 0.0 && rate <= CLOCKCTL_RATE_MAX))
        rate = 1.0;
    if (rate == 1.0) {
        scaled = dt;
    } else if (rate == 0.0) {
        scaled = 0;
    } else {
        /* A double holds every dt below 2^53 ns (104 days) exactly. The difference is
         * clamped first (no 128-bit to double conversion: the vDSO links no libgcc). */
        double x = (double)clamp64(dt) * rate;
        if (x >= 9.2e18)
            scaled = INT64_MAX;
        else if (x <= -9.2e18)
            scaled = INT64_MIN;
        else
            scaled = (int64_t)x;
    }
    return clamp64((__int128)p->anchor_fake_ns + scaled);
}

int64_t clockctl_strobe_ns(const struct clockctl_params *p, int64_t real_ns)
{
    int64_t period = p->strobe_period_ns;
    if (period <= 0)
        return 0;
    int64_t dt = sat_sub(real_ns, p->strobe_anchor_ns);
    /* Floor division, so that phases continue the same way before the anchor. */
    int64_t k = dt >= 0 ? dt / period : -((-(dt + 1)) / period) - 1;
    return (k & 1) ? p->strobe_delta_ns : 0;
}

int64_t clockctl_fake_ns(const struct clockctl_params *p, int64_t real_ns)
{
    int64_t fake = sat_add(clockctl_base_ns(p, real_ns), clockctl_strobe_ns(p, real_ns));
    return fake < 0 ? 0 : fake;
}

enum clockctl_kind clockctl_kind_of(int id)
{
    switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_REALTIME_ALARM:
        return CLOCKCTL_KIND_REAL;
    case CLOCK_TAI:
        return CLOCKCTL_KIND_TAI;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_BOOTTIME_ALARM:
        return CLOCKCTL_KIND_MONO;
    default:
        /* CPU-time clocks and dynamic clocks (negative ids) are not wall clocks. */
        return CLOCKCTL_KIND_PASS;
    }
}

int clockctl_read_id(int id)
{
    if (id == CLOCK_REALTIME_ALARM)
        return CLOCK_REALTIME;
    if (id == CLOCK_BOOTTIME_ALARM)
        return CLOCK_BOOTTIME;
    return id;
}

/*
 * A realtime clock's value is the real time r the formula takes. TAI, and monotonic clocks when
 * the flag is set, get the realtime clock's current offset fake(r) - r added: TAI is 37 s ahead,
 * and feeding it to the formula as r would skew the offset whenever rate != 1.
 */
int64_t clockctl_fake_reading(const struct clockctl_params *p, enum clockctl_kind kind,
                              int64_t value_ns, int64_t real_ns)
{
    if (kind == CLOCKCTL_KIND_PASS)
        return value_ns;
    if (kind == CLOCKCTL_KIND_REAL)
        return clockctl_fake_ns(p, value_ns);
    if (kind == CLOCKCTL_KIND_MONO && !(p->flags & CLOCKCTL_F_MONOTONIC))
        return value_ns;
    int64_t off = sat_sub(clockctl_fake_ns(p, real_ns), real_ns);
    int64_t fake = sat_add(value_ns, off);
    return fake < 0 ? 0 : fake;
}

bool clockctl_params_read(const struct clockctl *c, struct clockctl_params *out)
{
    for (unsigned spin = 0; spin < SPIN_MAX; spin++) {
        uint32_t s0 = atomic_load_explicit(&c->seq, memory_order_acquire);
        if (!(s0 & 1u)) {
            out->flags = atomic_load_explicit(&c->flags, memory_order_relaxed);
            out->anchor_real_ns = atomic_load_explicit(&c->anchor_real_ns, memory_order_relaxed);
            out->anchor_fake_ns = atomic_load_explicit(&c->anchor_fake_ns, memory_order_relaxed);
            out->rate = atomic_load_explicit(&c->rate, memory_order_relaxed);
            out->strobe_anchor_ns =
                atomic_load_explicit(&c->strobe_anchor_ns, memory_order_relaxed);
            out->strobe_delta_ns = atomic_load_explicit(&c->strobe_delta_ns, memory_order_relaxed);
            out->strobe_period_ns =
                atomic_load_explicit(&c->strobe_period_ns, memory_order_relaxed);
            /* Orders the loads above before the re-check of seq (the seqlock reader's fence). */
            atomic_thread_fence(memory_order_acquire);
            if (atomic_load_explicit(&c->seq, memory_order_relaxed) == s0)
                return true;
        }
        if (spin < SPIN_BUSY)
            cpu_relax();
        else
            sched_yield();
    }
    return false;
}
