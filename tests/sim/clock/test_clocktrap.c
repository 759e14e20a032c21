/*
 * test_clocktrap.c: the pure core of the system-call clock route, in-process.
 *
 * The filter program against its specification, call by call; the answers to each trapped call
 * (bytes, return value, errors) against what the kernel would give; and the search of the
 * auxiliary vector on stacks built here, cut short at every word.
 * Depends on: clocktrap, clockctl.
 */
#include "clocktrap.h"
#include "eddy/util.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <linux/audit.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#define SEC CLOCKCTL_NS_PER_SEC
#define HOUR (3600 * SEC)

/* ==== The filter ==== */

static const struct clocktrap_exempt own = {.args = {0x7ffd12345678, 0x55aa00001000, 0x1234}};

static void check_filter(unsigned flags, const struct clocktrap_exempt *ex)
{
    struct clocktrap_filter f;
    clocktrap_filter_build(&f, flags, ex);
    cr_assert_gt(f.len, 0);
    cr_assert_leq(f.len, CLOCKTRAP_FILTER_MAX);
    static const uint32_t arches[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0};
    static const uint64_t hi[] = {0, 0xffffffff00000000ull, 0x100000000ull};
    unsigned notified = 0;
    for (size_t a = 0; a < ARRAY_LEN(arches); a++)
        for (int nr = -1; nr < 460; nr++)
            for (int id = -3; id < 16; id++)
                for (size_t h = 0; h < ARRAY_LEN(hi); h++) {
                    struct seccomp_data d = {.nr = nr, .arch = arches[a]};
                    d.args[0] = hi[h] | (uint32_t)id;
                    uint32_t got = clocktrap_filter_eval(&f, &d);
                    uint32_t want = clocktrap_filter_expect(&d, flags, ex);
                    cr_assert_eq(got, want, "flags %u arch %x nr %d id %d hi %zu: %x, want %x",
                                 flags, arches[a], nr, id, h, got, want);
                    notified += got == SECCOMP_RET_USER_NOTIF;
                }
    cr_assert_gt(notified, 0);
}

Test(clocktrap, filter_agrees_with_its_specification)
{
    for (unsigned flags = 0; flags < 4; flags++) {
        check_filter(flags, NULL);
        check_filter(flags, &own);
    }
}

Test(clocktrap, filter_traps_what_eddy_fakes_and_nothing_else)
{
    const unsigned all = CLOCKTRAP_F_MONOTONIC | CLOCKTRAP_F_EXEC;
    struct seccomp_data d = {.nr = SYS_clock_gettime, .arch = AUDIT_ARCH_X86_64};
    static const int real[] = {CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_REALTIME_ALARM,
                               CLOCK_TAI};
    static const int mono[] = {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE,
                               CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM};
    static const int never[] = {CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, -6, 99};
    for (size_t i = 0; i < ARRAY_LEN(real); i++) {
        d.args[0] = (uint64_t)real[i];
        cr_assert_eq(clocktrap_filter_expect(&d, 0, NULL), SECCOMP_RET_USER_NOTIF);
    }
    for (size_t i = 0; i < ARRAY_LEN(mono); i++) {
        d.args[0] = (uint64_t)mono[i];
        cr_assert_eq(clocktrap_filter_expect(&d, 0, NULL), SECCOMP_RET_ALLOW);
        cr_assert_eq(clocktrap_filter_expect(&d, all, NULL), SECCOMP_RET_USER_NOTIF);
    }
    for (size_t i = 0; i < ARRAY_LEN(never); i++) {
        d.args[0] = (uint64_t)(uint32_t)never[i];
        cr_assert_eq(clocktrap_filter_expect(&d, all, NULL), SECCOMP_RET_ALLOW);
    }
    d = (struct seccomp_data){.nr = SYS_gettimeofday, .arch = AUDIT_ARCH_X86_64};
    cr_assert_eq(clocktrap_filter_expect(&d, 0, NULL), SECCOMP_RET_USER_NOTIF);
    d.nr = SYS_time;
    cr_assert_eq(clocktrap_filter_expect(&d, 0, NULL), SECCOMP_RET_USER_NOTIF);
    d.arch = AUDIT_ARCH_I386; /* 32-bit calls are not ours */
    cr_assert_eq(clocktrap_filter_expect(&d, all, NULL), SECCOMP_RET_ALLOW);
    d = (struct seccomp_data){.nr = SYS_execve, .arch = AUDIT_ARCH_X86_64};
    cr_assert_eq(clocktrap_filter_expect(&d, 0, NULL), SECCOMP_RET_ALLOW);
    cr_assert_eq(clocktrap_filter_expect(&d, CLOCKTRAP_F_EXEC, &own), SECCOMP_RET_USER_NOTIF);
    memcpy(d.args, own.args, sizeof(own.args));
    cr_assert_eq(clocktrap_filter_expect(&d, CLOCKTRAP_F_EXEC, &own), SECCOMP_RET_ALLOW,
                 "the node's own execve passes");
    struct clocktrap_filter f;
    clocktrap_filter_build(&f, CLOCKTRAP_F_EXEC, &own);
    cr_assert_eq(clocktrap_filter_eval(&f, &d), SECCOMP_RET_ALLOW);
    for (int i = 0; i < 3; i++) {
        for (int half = 0; half < 2; half++) {
            struct seccomp_data e = d;
            e.args[i] ^= half ? 1ull << 40 : 1ull; /* one bit off, in either word */
            cr_assert_eq(clocktrap_filter_eval(&f, &e), SECCOMP_RET_USER_NOTIF, "arg %d", i);
        }
    }
    d.nr = SYS_execveat;
    cr_assert_eq(clocktrap_filter_eval(&f, &d), SECCOMP_RET_USER_NOTIF);
}

Test(clocktrap, evaluator_refuses_programs_the_kernel_would)
{
    struct clocktrap_filter f;
    clocktrap_filter_build(&f, 0, NULL);
    struct seccomp_data d = {.nr = SYS_getpid, .arch = AUDIT_ARCH_X86_64};
    cr_assert_eq(clocktrap_filter_eval(&f, &d), SECCOMP_RET_ALLOW);
    struct clocktrap_filter g = f;
    g.len = 3; /* falls off the end */
    cr_assert_eq(clocktrap_filter_eval(&g, &d), SECCOMP_RET_KILL_PROCESS);
    g = f;
    g.insns[0].k = sizeof(struct seccomp_data); /* a load out of range */
    cr_assert_eq(clocktrap_filter_eval(&g, &d), SECCOMP_RET_KILL_PROCESS);
    g = f;
    g.insns[0].code = BPF_ALU | BPF_ADD | BPF_K; /* an instruction it does not run */
    cr_assert_eq(clocktrap_filter_eval(&g, &d), SECCOMP_RET_KILL_PROCESS);
}

/* ==== Answers ==== */

static struct seccomp_notif notif(int nr, uint64_t a0, uint64_t a1)
{
    struct seccomp_notif n;
    memset(&n, 0, sizeof(n));
    n.id = 42;
    n.pid = 1234;
    n.data.nr = nr;
    n.data.arch = AUDIT_ARCH_X86_64;
    n.data.args[0] = a0;
    n.data.args[1] = a1;
    return n;
}

/* Offset +1 h, rate 1. */
static const struct clockctl_params plus_hour = {
    .anchor_real_ns = 0, .anchor_fake_ns = HOUR, .rate = 1.0};

static void answer(const struct seccomp_notif *n, const struct clocktrap_readings *r,
                   const struct clockctl_params *p, struct clocktrap_call *c,
                   struct clocktrap_answer *a)
{
    clocktrap_decode(n, c);
    clocktrap_answer(c, p, r, a);
}

Test(clocktrap, clock_gettime_realtime_gets_the_fake_time)
{
    const int64_t real = 1700000000 * SEC + 123456789;
    struct seccomp_notif n = notif(SYS_clock_gettime, CLOCK_REALTIME, 0x1000);
    struct clocktrap_readings r = {.value_ns = real};
    struct clocktrap_call c;
    struct clocktrap_answer a;
    answer(&n, &r, &plus_hour, &c, &a);
    cr_assert_eq(c.sys, CLOCKTRAP_SYS_CLOCK_GETTIME);
    cr_assert_not(c.need_realtime);
    cr_assert_eq(a.writes, 1);
    cr_assert_eq(a.w[0].addr, 0x1000);
    cr_assert_eq(a.w[0].len, sizeof(struct timespec));
    struct timespec ts;
    memcpy(&ts, a.w[0].bytes, sizeof(ts));
    cr_assert_eq((int64_t)ts.tv_sec * SEC + ts.tv_nsec, real + HOUR);
    cr_assert_eq(a.val, 0);
    cr_assert_not(a.let_run);

    const long full[2] = {sizeof(struct timespec), -1};
    struct seccomp_notif_resp resp;
    clocktrap_reply(&a, n.id, full, &resp);
    cr_assert_eq(resp.id, 42);
    cr_assert_eq(resp.error, 0);
    cr_assert_eq(resp.flags, 0);
    const long short_write[2] = {8, -1};
    clocktrap_reply(&a, n.id, short_write, &resp);
    cr_assert_eq(resp.error, -EFAULT, "a short write is a bad pointer");
    const long failed[2] = {-1, -1};
    clocktrap_reply(&a, n.id, failed, &resp);
    cr_assert_eq(resp.error, -EFAULT);
}

Test(clocktrap, clock_gettime_edge_cases)
{
    struct clocktrap_call c;
    struct clocktrap_answer a;
    struct clocktrap_readings r = {.value_ns = 5 * SEC, .realtime_ns = 100 * SEC};
    /* NULL: EFAULT, nothing written. */
    struct seccomp_notif n = notif(SYS_clock_gettime, CLOCK_REALTIME, 0);
    answer(&n, &r, &plus_hour, &c, &a);
    cr_assert_eq(a.writes, 0);
    cr_assert_eq(a.error, -EFAULT);
    /* eddy could not read the clock (an _ALARM clock without an RTC): the same error. */
    n = notif(SYS_clock_gettime, CLOCK_REALTIME_ALARM, 0x1000);
    struct clocktrap_readings bad = {.read_errno = EINVAL};
    answer(&n, &bad, &plus_hour, &c, &a);
    cr_assert_eq(a.writes, 0);
    cr_assert_eq(a.error, -EINVAL);
    /* TAI moves by the realtime offset. */
    n = notif(SYS_clock_gettime, CLOCK_TAI, 0x1000);
    answer(&n, &r, &plus_hour, &c, &a);
    cr_assert(c.need_realtime);
    struct timespec ts;
    memcpy(&ts, a.w[0].bytes, sizeof(ts));
    cr_assert_eq((int64_t)ts.tv_sec * SEC + ts.tv_nsec, 5 * SEC + HOUR);
    /* Monotonic: real without the flag, moved with it. */
    n = notif(SYS_clock_gettime, CLOCK_MONOTONIC, 0x1000);
    answer(&n, &r, &plus_hour, &c, &a);
    memcpy(&ts, a.w[0].bytes, sizeof(ts));
    cr_assert_eq((int64_t)ts.tv_sec * SEC + ts.tv_nsec, 5 * SEC);
    struct clockctl_params mono = plus_hour;
    mono.flags = CLOCKCTL_F_MONOTONIC;
    answer(&n, &r, &mono, &c, &a);
    memcpy(&ts, a.w[0].bytes, sizeof(ts));
    cr_assert_eq((int64_t)ts.tv_sec * SEC + ts.tv_nsec, 5 * SEC + HOUR);
    /* A CPU-time clock (never trapped by the filter): the kernel answers. */
    n = notif(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, 0x1000);
    answer(&n, &r, &plus_hour, &c, &a);
    cr_assert(a.let_run);
    struct seccomp_notif_resp resp;
    const long none[2] = {-1, -1};
    clocktrap_reply(&a, n.id, none, &resp);
    cr_assert_eq(resp.flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
    /* Far behind: the fake clock stops at 0, never negative. */
    struct clockctl_params past = {
        .anchor_real_ns = 0, .anchor_fake_ns = -1000 * HOUR, .rate = 1.0};
    n = notif(SYS_clock_gettime, CLOCK_REALTIME, 0x1000);
    answer(&n, &r, &past, &c, &a);
    memcpy(&ts, a.w[0].bytes, sizeof(ts));
    cr_assert_eq(ts.tv_sec, 0);
    cr_assert_eq(ts.tv_nsec, 0);
}

Test(clocktrap, gettimeofday_writes_tv_then_tz)
{
    const int64_t real = 1700000000 * SEC + 987654321;
    struct clocktrap_readings r = {.value_ns = real, .tz_minuteswest = -60, .tz_dsttime = 1};
    struct clocktrap_call c;
    struct clocktrap_answer a;
    struct seccomp_notif n = notif(SYS_gettimeofday, 0x2000, 0x3000);
    answer(&n, &r, &plus_hour, &c, &a);
    cr_assert_eq(c.clock_id, CLOCK_REALTIME);
    cr_assert_eq(a.writes, 2);
    struct timeval tv;
    memcpy(&tv, a.w[0].bytes, sizeof(tv));
    cr_assert_eq(a.w[0].addr, 0x2000);
    cr_assert_eq(tv.tv_sec, (real + HOUR) / SEC);
    cr_assert_eq(tv.tv_usec, (real % SEC) / 1000);
    struct timezone tz;
    cr_assert_eq(a.w[1].addr, 0x3000);
    cr_assert_eq(a.w[1].len, sizeof(tz));
    memcpy(&tz, a.w[1].bytes, sizeof(tz));
    cr_assert_eq(tz.tz_minuteswest, -60);
    cr_assert_eq(tz.tz_dsttime, 1);
    n = notif(SYS_gettimeofday, 0, 0x3000); /* NULL tv is allowed: only tz */
    answer(&n, &r, &plus_hour, &c, &a);
    cr_assert_eq(a.writes, 1);
    cr_assert_eq(a.w[0].addr, 0x3000);
    n = notif(SYS_gettimeofday, 0, 0);
    answer(&n, &r, &plus_hour, &c, &a);
    cr_assert_eq(a.writes, 0);
    cr_assert_eq(a.error, 0);
    const long tv_only[2] = {sizeof(tv), -1};
    n = notif(SYS_gettimeofday, 0x2000, 0x3000);
    answer(&n, &r, &plus_hour, &c, &a);
    struct seccomp_notif_resp resp;
    clocktrap_reply(&a, n.id, tv_only, &resp);
    cr_assert_eq(resp.error, -EFAULT, "the tz write failed");
}

Test(clocktrap, time_returns_the_fake_seconds)
{
    struct clocktrap_readings r = {.value_ns = 1700000000 * SEC + 999999999};
    struct clocktrap_call c;
    struct clocktrap_answer a;
    struct seccomp_notif n = notif(SYS_time, 0, 0);
    answer(&n, &r, &plus_hour, &c, &a);
    cr_assert_eq(c.clock_id, CLOCK_REALTIME_COARSE, "the kernel's time() reads the coarse clock");
    cr_assert_eq(a.writes, 0);
    cr_assert_eq(a.val, 1700000000 + 3600);
    n = notif(SYS_time, 0x4000, 0);
    answer(&n, &r, &plus_hour, &c, &a);
    cr_assert_eq(a.writes, 1);
    time_t t;
    memcpy(&t, a.w[0].bytes, sizeof(t));
    cr_assert_eq(t, 1700000000 + 3600);
    struct seccomp_notif_resp resp;
    const long full[2] = {sizeof(t), -1};
    clocktrap_reply(&a, n.id, full, &resp);
    cr_assert_eq(resp.val, 1700000000 + 3600);
}

Test(clocktrap, calls_that_are_not_ours_run_as_they_are)
{
    struct clocktrap_call c;
    struct clocktrap_answer a;
    struct clocktrap_readings r = {0};
    struct seccomp_notif n = notif(SYS_clock_gettime, CLOCK_REALTIME, 0x1000);
    n.data.arch = AUDIT_ARCH_I386;
    answer(&n, &r, &plus_hour, &c, &a);
    cr_assert_eq(c.sys, CLOCKTRAP_SYS_OTHER);
    cr_assert(a.let_run);
    n = notif(SYS_getpid, 0, 0);
    answer(&n, &r, &plus_hour, &c, &a);
    cr_assert(a.let_run);
    n = notif(SYS_execve, 0x1000, 0x2000);
    answer(&n, &r, &plus_hour, &c, &a);
    cr_assert_eq(c.sys, CLOCKTRAP_SYS_EXEC);
    cr_assert(a.let_run);
}

/* ==== The auxiliary vector ==== */

/* A stack: argc 2, two argv pointers, NULL, three envp pointers, NULL, then the vector. */
static size_t stack_build(uint64_t *w, bool vdso)
{
    size_t n = 0;
    w[n++] = 2;
    w[n++] = 0x7fff0010;
    w[n++] = 0x7fff0020;
    w[n++] = 0;
    w[n++] = 0x7fff0030;
    w[n++] = 0x7fff0040;
    w[n++] = 0x7fff0050;
    w[n++] = 0;
    if (vdso) {
        w[n++] = AT_SYSINFO_EHDR;
        w[n++] = 0x7fffa000;
    }
    w[n++] = AT_PAGESZ;
    w[n++] = 4096;
    w[n++] = AT_BASE;
    w[n++] = 0x7f0000000000;
    w[n++] = AT_NULL;
    w[n++] = 0;
    return n;
}

Test(clocktrap, auxv_found_and_every_short_read_asks_for_more)
{
    uint64_t w[32];
    size_t n = stack_build(w, true);
    struct clocktrap_auxv aux;
    cr_assert_eq(clocktrap_auxv_find(w, n, &aux), 0);
    cr_assert_eq(aux.sysinfo_ehdr, 8);
    cr_assert_eq(w[aux.sysinfo_ehdr], AT_SYSINFO_EHDR);
    cr_assert_eq(aux.end, n);
    cr_assert_eq(aux.at_base, 0x7f0000000000);
    for (size_t k = 0; k < n; k++)
        cr_assert_eq(clocktrap_auxv_find(w, k, &aux), -EAGAIN, "%zu words", k);
    n = stack_build(w, false);
    cr_assert_eq(clocktrap_auxv_find(w, n, &aux), 0);
    cr_assert_eq(aux.sysinfo_ehdr, 0, "no vDSO entry: nothing to hide");
}

Test(clocktrap, auxv_refuses_what_cannot_be_a_stack)
{
    uint64_t w[32];
    size_t n = stack_build(w, true);
    struct clocktrap_auxv aux;
    w[3] = 0x1; /* argv[argc] is not NULL */
    cr_assert_eq(clocktrap_auxv_find(w, n, &aux), -EBADMSG);
    n = stack_build(w, true);
    w[0] = CLOCKTRAP_AUXV_WORDS_MAX; /* absurd argc */
    cr_assert_eq(clocktrap_auxv_find(w, n, &aux), -EBADMSG);
    /* A vector that never ends within 512 pairs. */
    static uint64_t big[2048];
    memset(big, 0, sizeof(big));
    big[0] = 0;
    for (size_t i = 3; i < ARRAY_LEN(big); i += 2)
        big[i] = AT_PAGESZ;
    cr_assert_eq(clocktrap_auxv_find(big, ARRAY_LEN(big), &aux), -EBADMSG);
}
