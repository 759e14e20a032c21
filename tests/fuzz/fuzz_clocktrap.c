/*
 * fuzz_clocktrap.c: libFuzzer target for the pure core of the system-call clock route.
 *
 * The first byte picks what the rest is:
 *   0  a seccomp notification with everything around it: filter options, the exempt execve's
 *      arguments, the block's parameters, eddy's clock readings and what the writes achieved.
 *      The built filter must decide as its specification says; the answer must write only to
 *      the caller's own pointers, encode the faked time exactly (checked against 128-bit
 *      arithmetic where the rate is 1), and the reply must follow from the writes.
 *   1  the words at a new program's stack pointer: the auxiliary vector search must point at
 *      an AT_SYSINFO_EHDR entry inside the vector it found, and ask for more on every prefix.
 *   2  a file: the program classification must stay within its bounds and say only what the
 *      bytes support.
 *   3  a vDSO image: the check eddy makes before copying one into a node reads only the bytes.
 * Depends on: clocktrap, exekind, clockctl (clockctl_time), fuzzkit.
 */
#include "clocktrap.h"
#include "exekind.h"
#include "vdsomap.h"
#include "fuzzkit.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#define CHECK(cond, ...) FUZZ_CHECK(cond, __VA_ARGS__)

/* Reads fixed-size fields off the input, zero past its end. */
struct take {
    const uint8_t *p;
    size_t left;
};

static void take(struct take *t, void *out, size_t n)
{
    size_t k = n < t->left ? n : t->left;
    memset(out, 0, n);
    memcpy(out, t->p, k);
    t->p += k;
    t->left -= k;
}

/* ==== 0: a notification ==== */

static int64_t expected_rate1(const struct clockctl_params *p, int64_t real)
{
    __int128 v = (__int128)p->anchor_fake_ns + ((__int128)real - p->anchor_real_ns);
    if (v > INT64_MAX)
        v = INT64_MAX;
    if (v < 0)
        v = 0;
    return (int64_t)v;
}

static void check_answer(const struct clocktrap_call *c, const struct clockctl_params *p,
                         const struct clocktrap_readings *r, const struct clocktrap_answer *a)
{
    CHECK(a->writes <= 2, "%u writes", a->writes);
    for (unsigned i = 0; i < a->writes; i++) {
        CHECK(a->w[i].len <= CLOCKTRAP_WRITE_MAX && a->w[i].len > 0, "write %u of %u bytes", i,
              a->w[i].len);
        CHECK(a->w[i].addr != 0 && (a->w[i].addr == c->addr[0] || a->w[i].addr == c->addr[1]),
              "write %u to %llx, not the caller's pointer", i, (unsigned long long)a->w[i].addr);
    }
    if (c->sys == CLOCKTRAP_SYS_OTHER || c->sys == CLOCKTRAP_SYS_EXEC) {
        CHECK(a->let_run && a->writes == 0, "calls not ours run as they are");
        return;
    }
    CHECK(!a->let_run, "a trapped clock call is answered");
    if (r->read_errno) {
        CHECK(a->error == -r->read_errno && a->writes == 0, "eddy's read error is the answer");
        return;
    }
    int64_t fake = clockctl_fake_reading(p, c->kind, r->value_ns, r->realtime_ns);
    CHECK(fake >= 0 || (c->kind == CLOCKCTL_KIND_MONO && !(p->flags & CLOCKCTL_F_MONOTONIC) &&
                        fake == r->value_ns),
          "fake time %lld before 1970", (long long)fake);
    if (fake < 0)
        fake = 0; /* a reading left alone is passed on, clamped at 0 */
    bool exact = p->rate == 1.0 && p->strobe_period_ns <= 0 && c->kind == CLOCKCTL_KIND_REAL;
    if (exact)
        CHECK(fake == expected_rate1(p, r->value_ns), "rate 1: %lld, want %lld", (long long)fake,
              (long long)expected_rate1(p, r->value_ns));
    if (c->sys == CLOCKTRAP_SYS_CLOCK_GETTIME) {
        if (!c->addr[0]) {
            CHECK(a->error == -EFAULT && a->writes == 0, "NULL tp: EFAULT");
            return;
        }
        CHECK(a->writes == 1 && a->w[0].len == sizeof(struct timespec), "one timespec");
        struct timespec ts;
        memcpy(&ts, a->w[0].bytes, sizeof(ts));
        CHECK(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000, "tv_nsec %ld", ts.tv_nsec);
        CHECK((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec == fake, "timespec encodes the fake");
    } else if (c->sys == CLOCKTRAP_SYS_GETTIMEOFDAY) {
        CHECK(a->writes == (unsigned)(c->addr[0] != 0) + (unsigned)(c->addr[1] != 0),
              "a write per pointer");
        if (c->addr[0]) {
            struct timeval tv;
            memcpy(&tv, a->w[0].bytes, sizeof(tv));
            CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "tv_usec %ld", (long)tv.tv_usec);
            CHECK(tv.tv_sec == fake / 1000000000 && tv.tv_usec == fake % 1000000000 / 1000,
                  "timeval encodes the fake");
        }
        if (c->addr[1]) {
            struct timezone tz;
            memcpy(&tz, a->w[a->writes - 1].bytes, sizeof(tz));
            CHECK(tz.tz_minuteswest == r->tz_minuteswest && tz.tz_dsttime == r->tz_dsttime,
                  "the kernel's timezone");
        }
    } else {
        CHECK(c->sys == CLOCKTRAP_SYS_TIME, "sys %d", c->sys);
        CHECK(a->val == fake / 1000000000, "time() returns the fake seconds");
        CHECK(a->writes == (unsigned)(c->addr[0] != 0), "tloc written if given");
    }
}

static void check_reply(const struct clocktrap_answer *a, uint64_t id, const long written[2])
{
    struct seccomp_notif_resp resp;
    clocktrap_reply(a, id, written, &resp);
    CHECK(resp.id == id, "the reply names its notification");
    if (a->let_run) {
        CHECK(resp.flags == SECCOMP_USER_NOTIF_FLAG_CONTINUE && resp.error == 0, "let run");
        return;
    }
    CHECK(resp.flags == 0, "no flag on an answer");
    bool all = true;
    for (unsigned i = 0; i < a->writes; i++)
        all = all && written[i] == (long)a->w[i].len;
    int32_t want = a->error ? a->error : all ? 0 : -EFAULT;
    CHECK(resp.error == want, "error %d, want %d", resp.error, want);
    CHECK(resp.error != 0 || resp.val == a->val, "value returned");
}

static void notification(struct take *t)
{
    uint8_t flags;
    struct clocktrap_exempt ex;
    struct seccomp_notif n;
    struct clockctl_params p;
    struct clocktrap_readings r;
    long written[2];
    take(t, &flags, 1);
    take(t, &ex, sizeof(ex));
    take(t, &n, sizeof(n));
    take(t, &p, sizeof(p));
    take(t, &r, sizeof(r));
    take(t, written, sizeof(written));
    r.read_errno = r.read_errno & 1 ? EINVAL : 0;
    /* Half the inputs on the architecture and calls the filter cares about. */
    if (flags & 0x80)
        n.data.arch = 0xc000003e; /* AUDIT_ARCH_X86_64 */
    static const int nrs[] = {SYS_clock_gettime, SYS_gettimeofday, SYS_time, SYS_execve,
                              SYS_execveat};
    if (flags & 0x40)
        n.data.nr = nrs[(unsigned)n.data.nr % (sizeof(nrs) / sizeof(nrs[0]))];
    if (flags & 0x20)
        memcpy(n.data.args, ex.args, sizeof(ex.args));
    struct clocktrap_filter f;
    const struct clocktrap_exempt *e = (flags & 0x10) ? &ex : NULL;
    clocktrap_filter_build(&f, flags & 3u, e);
    uint32_t got = clocktrap_filter_eval(&f, &n.data),
             want = clocktrap_filter_expect(&n.data, flags & 3u, e);
    CHECK(got == want, "filter says %x, its specification %x", got, want);
    struct clocktrap_call c;
    struct clocktrap_answer a;
    clocktrap_decode(&n, &c);
    clocktrap_answer(&c, &p, &r, &a);
    check_answer(&c, &p, &r, &a);
    check_reply(&a, n.id, written);
}

/* ==== 1: a stack ==== */

static void stack(struct take *t)
{
    size_t n = t->left / sizeof(uint64_t);
    uint64_t *w = malloc((n ? n : 1) * sizeof(uint64_t));
    memcpy(w, t->p, n * sizeof(uint64_t));
    if (n > 0)
        w[0] %= 8; /* small argc, so that vectors are found */
    struct clocktrap_auxv aux;
    int rc = clocktrap_auxv_find(w, n, &aux);
    CHECK(rc == 0 || rc == -EAGAIN || rc == -EBADMSG, "rc %d", rc);
    if (rc == 0) {
        CHECK(aux.end >= 2 && aux.end <= n, "end %zu of %zu", aux.end, n);
        CHECK(w[aux.end - 2] == AT_NULL, "the vector ends with AT_NULL");
        if (aux.sysinfo_ehdr) {
            CHECK(aux.sysinfo_ehdr < aux.end - 2, "entry inside the vector");
            CHECK(w[aux.sysinfo_ehdr] == AT_SYSINFO_EHDR, "the entry found is AT_SYSINFO_EHDR");
            CHECK((aux.end - aux.sysinfo_ehdr) % 2 == 0, "on a pair boundary");
        }
        for (size_t k = 0; k < aux.end; k++) {
            struct clocktrap_auxv part;
            CHECK(clocktrap_auxv_find(w, k, &part) == -EAGAIN, "prefix %zu asks for more", k);
        }
    }
    free(w);
}

/* ==== 2: a file ==== */

struct mem {
    const uint8_t *data;
    size_t len;
};

static long mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    const struct mem *m = ctx;
    if (off >= m->len)
        return 0;
    size_t k = len < m->len - off ? len : (size_t)(m->len - off);
    memcpy(buf, m->data + off, k);
    return (long)k;
}

static void file(struct take *t)
{
    struct mem m = {t->p, t->left};
    struct exekind k;
    CHECK(exekind_classify(mem_read, &m, &k) == 0, "a memory read never fails");
    CHECK(k.type >= EXEKIND_UNKNOWN && k.type <= EXEKIND_DYNAMIC, "type %d", k.type);
    CHECK(memchr(k.interp, '\0', sizeof(k.interp)) != NULL, "interp terminated");
    if (k.type == EXEKIND_SCRIPT)
        CHECK(m.len >= 2 && m.data[0] == '#' && m.data[1] == '!', "a script starts with #!");
    if (k.type == EXEKIND_STATIC || k.type == EXEKIND_DYNAMIC)
        CHECK(m.len >= sizeof(Elf64_Ehdr) && memcmp(m.data, ELFMAG, SELFMAG) == 0 &&
                  m.data[EI_CLASS] == ELFCLASS64,
              "an ELF of ours");
    CHECK(!k.go || k.type == EXEKIND_STATIC || k.type == EXEKIND_DYNAMIC, "Go only for ELFs");
    CHECK(exekind_describe(&k)[0] != '\0', "a description");
}

/* ==== 3: a vDSO image ==== */

static void image(struct take *t)
{
    if (vdsomap_check(t->p, t->left) < 0)
        return;
    /* Accepted: the checks it claims hold. */
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)t->p;
    CHECK(t->left >= sizeof(*eh) && t->left <= VDSOMAP_IMAGE_MAX, "size %zu", t->left);
    CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0, "an ELF");
    CHECK(eh->e_phoff <= t->left &&
              (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) <= t->left - eh->e_phoff,
          "program headers inside");
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct take t = {data + 1, size - 1};
    switch (data[0] % 4) {
    case 3:
        image(&t);
        break;
    case 0:
        notification(&t);
        break;
    case 1:
        stack(&t);
        break;
    default:
        file(&t);
        break;
    }
    return 0;
}
