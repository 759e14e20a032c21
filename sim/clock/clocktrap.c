/*
 * clocktrap.c: the pure core of the system-call clock route (see clocktrap.h).
 *
 * The filter is a short classic-BPF program: check the architecture, dispatch on the system call
 * number, and for clock_gettime compare the clock id (the low 32 bits of the first argument: the
 * kernel takes a clockid_t, an int) against the clocks eddy fakes. Everything not listed is
 * allowed, so a node pays for the filter only in the few instructions it runs per system call.
 * The answer to a trapped call reproduces what the kernel would have written and returned, with
 * the time replaced by clockctl_fake_reading, the computation the preload library uses too.
 * Depends on: clockctl (clockctl_time.c), util. Used by: clocksys, tests, fuzz_clocktrap.
 */
#include "clocktrap.h"
#include "eddy/util.h"

#include <errno.h>
#include <linux/audit.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#if defined(__x86_64__)
#define TRAP_ARCH AUDIT_ARCH_X86_64
#define TRAP_NR_TIME __NR_time
#else
#define TRAP_ARCH 0u
#define TRAP_NR_TIME (-1)
#endif

/* The clock ids trapped: realtime ones always, monotonic ones on request. */
static const int real_ids[] = {CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_REALTIME_ALARM,
                               CLOCK_TAI};
static const int mono_ids[] = {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE,
                               CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM};

_Static_assert(sizeof(struct timespec) == 16, "x86-64 and arm64 timespec");
_Static_assert(sizeof(struct timeval) == 16, "x86-64 and arm64 timeval");
_Static_assert(sizeof(time_t) == 8, "64-bit time_t");
_Static_assert(sizeof(struct timezone) == 8, "struct timezone is two ints");

bool clocktrap_supported(void)
{
    return TRAP_ARCH != 0;
}

/* ==== The filter ==== */

/* Jump targets are resolved after the program is laid out: a label is an instruction index. */
enum { L_NEXT = -1, L_NOTIFY = -2, L_ALLOW = -3, L_CLOCK = -4, L_EXEC = -5 };

struct asm_state {
    struct clocktrap_filter *f;
    int jt[CLOCKTRAP_FILTER_MAX], jf[CLOCKTRAP_FILTER_MAX];
};

static void emit(struct asm_state *a, uint16_t code, uint32_t k, int jt, int jf)
{
    ASSERT(a->f->len < CLOCKTRAP_FILTER_MAX);
    unsigned i = a->f->len++;
    a->f->insns[i] = (struct sock_filter){.code = code, .jt = 0, .jf = 0, .k = k};
    a->jt[i] = jt;
    a->jf[i] = jf;
}

static uint8_t resolve(int label, unsigned from, const int where[5])
{
    int target = label == L_NEXT ? (int)from + 1 : where[-label - 1];
    ASSERT(target > (int)from);
    ASSERT(target - (int)from - 1 <= 255);
    return (uint8_t)(target - (int)from - 1);
}

/* Compares args[i] (64 bits, as two words) with v: falls through on equality, else goes to miss. */
static void emit_arg_eq(struct asm_state *a, unsigned i, uint64_t v, int miss)
{
    const uint32_t lo = (uint32_t)(offsetof(struct seccomp_data, args) + 8 * i);
    emit(a, BPF_LD | BPF_W | BPF_ABS, lo, 0, 0);
    emit(a, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)v, L_NEXT, miss);
    emit(a, BPF_LD | BPF_W | BPF_ABS, lo + 4, 0, 0);
    emit(a, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(v >> 32), L_NEXT, miss);
}

void clocktrap_filter_build(struct clocktrap_filter *f, unsigned flags,
                            const struct clocktrap_exempt *exempt)
{
    memset(f, 0, sizeof(*f));
    struct asm_state a = {.f = f};
    /* Little-endian: the low half of args[0] comes first. */
    const uint32_t arg0_lo = (uint32_t)offsetof(struct seccomp_data, args);
    emit(&a, BPF_LD | BPF_W | BPF_ABS, (uint32_t)offsetof(struct seccomp_data, arch), 0, 0);
    emit(&a, BPF_JMP | BPF_JEQ | BPF_K, TRAP_ARCH, L_NEXT, L_ALLOW);
    emit(&a, BPF_LD | BPF_W | BPF_ABS, (uint32_t)offsetof(struct seccomp_data, nr), 0, 0);
    emit(&a, BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_gettime, L_CLOCK, L_NEXT);
    emit(&a, BPF_JMP | BPF_JEQ | BPF_K, SYS_gettimeofday, L_NOTIFY, L_NEXT);
    if (TRAP_NR_TIME >= 0)
        emit(&a, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)TRAP_NR_TIME, L_NOTIFY, L_NEXT);
    if (flags & CLOCKTRAP_F_EXEC) {
        emit(&a, BPF_JMP | BPF_JEQ | BPF_K, SYS_execveat, L_NOTIFY, L_NEXT);
        emit(&a, BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, exempt ? L_EXEC : L_NOTIFY, L_NEXT);
    }
    emit(&a, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
    int where[5];
    if ((flags & CLOCKTRAP_F_EXEC) && exempt) {
        where[-L_EXEC - 1] = f->len;
        for (unsigned i = 0; i < 3; i++)
            emit_arg_eq(&a, i, exempt->args[i], L_NOTIFY);
        emit(&a, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
    } else {
        where[-L_EXEC - 1] = 0; /* unused */
    }
    where[-L_CLOCK - 1] = f->len;
    emit(&a, BPF_LD | BPF_W | BPF_ABS, arg0_lo, 0, 0);
    for (size_t i = 0; i < ARRAY_LEN(real_ids); i++)
        emit(&a, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)real_ids[i], L_NOTIFY, L_NEXT);
    if (flags & CLOCKTRAP_F_MONOTONIC)
        for (size_t i = 0; i < ARRAY_LEN(mono_ids); i++)
            emit(&a, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)mono_ids[i], L_NOTIFY, L_NEXT);
    emit(&a, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
    where[-L_NOTIFY - 1] = f->len;
    emit(&a, BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF, 0, 0);
    where[-L_ALLOW - 1] = f->len;
    emit(&a, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
    where[-L_NEXT - 1] = 0; /* unused: L_NEXT is relative */
    for (unsigned i = 0; i < f->len; i++) {
        if (BPF_CLASS(f->insns[i].code) != BPF_JMP)
            continue;
        f->insns[i].jt = resolve(a.jt[i], i, where);
        f->insns[i].jf = resolve(a.jf[i], i, where);
    }
}

static bool id_in(int id, const int *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

uint32_t clocktrap_filter_expect(const struct seccomp_data *d, unsigned flags,
                                 const struct clocktrap_exempt *exempt)
{
    if (TRAP_ARCH == 0 || d->arch != TRAP_ARCH)
        return SECCOMP_RET_ALLOW;
    int id = (int)(uint32_t)d->args[0];
    bool trap = false;
    if (d->nr == SYS_clock_gettime)
        trap = id_in(id, real_ids, ARRAY_LEN(real_ids)) ||
               ((flags & CLOCKTRAP_F_MONOTONIC) && id_in(id, mono_ids, ARRAY_LEN(mono_ids)));
    else if (d->nr == SYS_gettimeofday || (TRAP_NR_TIME >= 0 && d->nr == TRAP_NR_TIME))
        trap = true;
    else if (d->nr == SYS_execveat)
        trap = (flags & CLOCKTRAP_F_EXEC) != 0;
    else if (d->nr == SYS_execve)
        trap = (flags & CLOCKTRAP_F_EXEC) &&
               !(exempt && d->args[0] == exempt->args[0] && d->args[1] == exempt->args[1] &&
                 d->args[2] == exempt->args[2]);
    return trap ? SECCOMP_RET_USER_NOTIF : SECCOMP_RET_ALLOW;
}

uint32_t clocktrap_filter_eval(const struct clocktrap_filter *f, const struct seccomp_data *d)
{
    uint8_t raw[sizeof(*d)];
    memcpy(raw, d, sizeof(raw));
    uint32_t acc = 0;
    unsigned pc = 0;
    /* Jumps go forward only, so the program ends within f->len steps. */
    while (pc < f->len) {
        const struct sock_filter *in = &f->insns[pc];
        switch (in->code) {
        case BPF_LD | BPF_W | BPF_ABS:
            if (in->k > sizeof(raw) - 4 || in->k % 4)
                return SECCOMP_RET_KILL_PROCESS;
            memcpy(&acc, raw + in->k, 4);
            pc++;
            break;
        case BPF_JMP | BPF_JEQ | BPF_K:
            pc += 1u + (acc == in->k ? in->jt : in->jf);
            break;
        case BPF_RET | BPF_K:
            return in->k;
        default:
            return SECCOMP_RET_KILL_PROCESS;
        }
    }
    return SECCOMP_RET_KILL_PROCESS; /* fell off the end: the kernel refuses such a program */
}

/* ==== A trapped call ==== */

void clocktrap_decode(const struct seccomp_notif *n, struct clocktrap_call *out)
{
    memset(out, 0, sizeof(*out));
    out->sys = CLOCKTRAP_SYS_OTHER;
    out->kind = CLOCKCTL_KIND_PASS;
    if (TRAP_ARCH == 0 || n->data.arch != TRAP_ARCH)
        return;
    const __u64 *args = n->data.args;
    if (n->data.nr == SYS_clock_gettime) {
        out->sys = CLOCKTRAP_SYS_CLOCK_GETTIME;
        out->clock_id = (int)(uint32_t)args[0];
        out->addr[0] = args[1];
    } else if (n->data.nr == SYS_gettimeofday) {
        out->sys = CLOCKTRAP_SYS_GETTIMEOFDAY;
        out->clock_id = CLOCK_REALTIME;
        out->addr[0] = args[0];
        out->addr[1] = args[1];
    } else if (TRAP_NR_TIME >= 0 && n->data.nr == TRAP_NR_TIME) {
        /* The kernel's time() returns the seconds of the tick-updated clock. */
        out->sys = CLOCKTRAP_SYS_TIME;
        out->clock_id = CLOCK_REALTIME_COARSE;
        out->addr[0] = args[0];
    } else if (n->data.nr == SYS_execve || n->data.nr == SYS_execveat) {
        out->sys = CLOCKTRAP_SYS_EXEC;
        return;
    } else {
        return;
    }
    out->kind = clockctl_kind_of(out->clock_id);
    if (out->kind == CLOCKCTL_KIND_PASS) {
        /* A clock the filter does not trap (a filter from another build?): the kernel answers. */
        out->sys = CLOCKTRAP_SYS_OTHER;
        return;
    }
    out->need_realtime = out->kind != CLOCKCTL_KIND_REAL;
}

static void put_write(struct clocktrap_answer *a, uint64_t addr, const void *bytes, uint32_t len)
{
    ASSERT(a->writes < 2);
    ASSERT(len <= CLOCKTRAP_WRITE_MAX);
    a->w[a->writes].addr = addr;
    a->w[a->writes].len = len;
    memcpy(a->w[a->writes].bytes, bytes, len);
    a->writes++;
}

void clocktrap_answer(const struct clocktrap_call *c, const struct clockctl_params *p,
                      const struct clocktrap_readings *r, struct clocktrap_answer *a)
{
    memset(a, 0, sizeof(*a));
    if (c->sys == CLOCKTRAP_SYS_OTHER || c->sys == CLOCKTRAP_SYS_EXEC) {
        a->let_run = true;
        return;
    }
    if (r->read_errno) {
        a->error = -r->read_errno; /* eddy could not read that clock: neither could the kernel */
        return;
    }
    /* A clock the block leaves alone keeps its reading, which no kernel gives negative; clamped
     * all the same, so that any reading encodes as a valid timespec. */
    int64_t fake = clockctl_fake_reading(p, c->kind, r->value_ns, r->realtime_ns);
    if (fake < 0)
        fake = 0;
    struct timespec ts = {.tv_sec = fake / CLOCKCTL_NS_PER_SEC,
                          .tv_nsec = fake % CLOCKCTL_NS_PER_SEC};
    switch (c->sys) {
    case CLOCKTRAP_SYS_CLOCK_GETTIME:
        if (!c->addr[0]) {
            a->error = -EFAULT;
            return;
        }
        put_write(a, c->addr[0], &ts, sizeof(ts));
        return;
    case CLOCKTRAP_SYS_GETTIMEOFDAY:
        if (c->addr[0]) {
            struct timeval tv = {.tv_sec = ts.tv_sec, .tv_usec = ts.tv_nsec / 1000};
            put_write(a, c->addr[0], &tv, sizeof(tv));
        }
        if (c->addr[1]) {
            struct timezone tz = {.tz_minuteswest = r->tz_minuteswest, .tz_dsttime = r->tz_dsttime};
            put_write(a, c->addr[1], &tz, sizeof(tz));
        }
        return;
    case CLOCKTRAP_SYS_TIME:
        a->val = (int64_t)ts.tv_sec;
        if (c->addr[0]) {
            time_t t = ts.tv_sec;
            put_write(a, c->addr[0], &t, sizeof(t));
        }
        return;
    case CLOCKTRAP_SYS_OTHER:
    case CLOCKTRAP_SYS_EXEC:
        break;
    }
    ASSERT(!"unreachable");
}

void clocktrap_reply(const struct clocktrap_answer *a, uint64_t id, const long written[2],
                     struct seccomp_notif_resp *out)
{
    memset(out, 0, sizeof(*out));
    out->id = id;
    if (a->let_run) {
        out->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        return;
    }
    if (a->error) {
        out->error = a->error;
        return;
    }
    for (unsigned i = 0; i < a->writes; i++) {
        if (written[i] != (long)a->w[i].len) {
            out->error = -EFAULT;
            return;
        }
    }
    out->val = a->val;
}

/* ==== The auxiliary vector ==== */

int clocktrap_auxv_find(const uint64_t *words, size_t n, struct clocktrap_auxv *out)
{
    memset(out, 0, sizeof(*out));
    if (n < 1)
        return -EAGAIN;
    uint64_t argc = words[0];
    if (argc >= CLOCKTRAP_AUXV_WORDS_MAX)
        return -EBADMSG;
    size_t at = 1 + (size_t)argc; /* argv[argc], which must be NULL */
    if (at >= n)
        return n >= CLOCKTRAP_AUXV_WORDS_MAX ? -EBADMSG : -EAGAIN;
    if (words[at] != 0)
        return -EBADMSG;
    at++;
    while (at < n && words[at] != 0) /* envp */
        at++;
    if (at >= n)
        return n >= CLOCKTRAP_AUXV_WORDS_MAX ? -EBADMSG : -EAGAIN;
    at++;
    /* The kernel writes a few dozen entries; a few hundred means this is not a vector. */
    for (unsigned pairs = 0; pairs < 512; pairs++, at += 2) {
        if (at + 1 >= n)
            return n >= CLOCKTRAP_AUXV_WORDS_MAX ? -EBADMSG : -EAGAIN;
        uint64_t type = words[at];
        if (type == AT_NULL) {
            out->end = at + 2;
            return 0;
        }
        if (type == AT_SYSINFO_EHDR)
            out->sysinfo_ehdr = at;
        else if (type == AT_BASE)
            out->at_base = words[at + 1];
    }
    return -EBADMSG;
}
