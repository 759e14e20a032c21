/*
 * test_clockctl.c: the clock control block: arithmetic, setters, seqlock, file handling.
 *
 * Every setter takes now_ns as an argument, so these tests inject it and check continuity and
 * arithmetic exactly, without sleeping and without any process but this one. The live tests of
 * libeddyclock.so are in test_preload.c.
 * Depends on: clockctl.
 */
#include "eddy/clockctl.h"
#include "eddy/util.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEC CLOCKCTL_NS_PER_SEC
#define MS (SEC / 1000)
#define HOUR (3600 * SEC)
#define T0 (INT64_C(1700000000) * SEC) /* an injected "now" */

/* Under LeakSanitizer a leak fails the test (Criterion alone would only print it). */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define ASSERT_NO_LEAKS() cr_assert(__lsan_do_recoverable_leak_check() == 0, "memory leaked")
#else
#define ASSERT_NO_LEAKS() ((void)0)
#endif

/* ==== Fixture: a private directory holding one block ==== */

static char tmp_dir[64];
static char blk_path[128];
static struct clockctl *blk;

static void tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmp_dir, name);
}

static void setup(void)
{
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/eddy-clockctl-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp_dir));
    tmp_path(blk_path, sizeof(blk_path), "n1.clock");
    cr_assert_eq(clockctl_create(blk_path, &blk), 0);
}

static void teardown(void)
{
    char other[128];
    tmp_path(other, sizeof(other), "other.clock");
    unlink(other);
    cr_assert_eq(clockctl_destroy(blk, blk_path), 0);
    rmdir(tmp_dir);
    ASSERT_NO_LEAKS();
}

TestSuite(clockctl, .init = setup, .fini = teardown);

static int64_t now_ns(clockid_t id)
{
    struct timespec ts;
    cr_assert_eq(clock_gettime(id, &ts), 0);
    return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

/* ==== Pure arithmetic and setters ==== */

Test(clockctl, fake_ns_follows_anchor_rate_and_clamp)
{
    struct clockctl_params p = {.anchor_real_ns = T0, .anchor_fake_ns = T0 - HOUR, .rate = 1.0};
    cr_assert_eq(clockctl_fake_ns(&p, T0 + 5 * SEC), T0 - HOUR + 5 * SEC);
    cr_assert_eq(clockctl_fake_ns(&p, T0 - 5 * SEC), T0 - HOUR - 5 * SEC);
    p.rate = 0.5;
    cr_assert_eq(clockctl_fake_ns(&p, T0 + 10 * SEC), T0 - HOUR + 5 * SEC);
    p.rate = NAN; /* a corrupt block runs at normal speed rather than faulting */
    cr_assert_eq(clockctl_fake_ns(&p, T0 + 10 * SEC), T0 - HOUR + 10 * SEC);
    p = (struct clockctl_params){.anchor_real_ns = T0, .anchor_fake_ns = -5 * SEC, .rate = 1.0};
    cr_assert_eq(clockctl_fake_ns(&p, T0), 0);
    cr_assert_eq(clockctl_fake_ns(&p, T0 + 7 * SEC), 2 * SEC);
    p = (struct clockctl_params){.anchor_real_ns = T0, .anchor_fake_ns = INT64_MAX, .rate = 1.0};
    cr_assert_eq(clockctl_fake_ns(&p, T0 + SEC), INT64_MAX);
    p.rate = 1000.0;
    p.anchor_fake_ns = 0;
    cr_assert_eq(clockctl_fake_ns(&p, INT64_MAX), INT64_MAX);
    cr_assert_eq(clockctl_fake_ns(&p, INT64_MIN), 0);
}

Test(clockctl, new_block_reads_real_time)
{
    struct stat st;
    cr_assert_eq(stat(blk_path, &st), 0);
    cr_assert(S_ISREG(st.st_mode));
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(st.st_size, (off_t)sizeof(struct clockctl));
    cr_assert_eq(memcmp(blk->magic, CLOCKCTL_MAGIC, 8), 0);
    cr_assert_eq(blk->version, CLOCKCTL_VERSION);
    cr_assert_eq(blk->size, sizeof(struct clockctl));
    cr_assert_eq(clockctl_fake_at(blk, T0), T0);
    cr_assert_eq(clockctl_offset_at(blk, T0 + 123), 0);
    pid_t pid = 42;
    cr_assert_not(clockctl_loaded(blk, &pid));
    cr_assert_eq(pid, 0);
    cr_assert_eq(clockctl_reads(blk), 0);
    int64_t now = clockctl_real_now_ns();
    cr_assert(llabs(now - now_ns(CLOCK_REALTIME)) < SEC);
}

Test(clockctl, create_refuses_an_existing_path)
{
    struct clockctl *other = NULL;
    cr_assert_eq(clockctl_create(blk_path, &other), -EEXIST);
    cr_assert_null(other);
    cr_assert_eq(memcmp(blk->magic, CLOCKCTL_MAGIC, 8), 0, "the existing block was touched");
    char missing[160];
    tmp_path(missing, sizeof(missing), "no/such/dir.clock");
    cr_assert_eq(clockctl_create(missing, &other), -ENOENT);
    cr_assert_eq(clockctl_destroy(NULL, missing), 0, "a missing file is not an error");
}

Test(clockctl, bump_back_one_hour_then_forward_three)
{
    cr_assert_eq(clockctl_bump(blk, T0, -HOUR), 0);
    cr_assert_eq(clockctl_fake_at(blk, T0), T0 - HOUR);
    cr_assert_eq(clockctl_fake_at(blk, T0 + 10 * SEC), T0 - HOUR + 10 * SEC);
    cr_assert_eq(clockctl_offset_at(blk, T0 + 10 * SEC), -HOUR);
    cr_assert_eq(clockctl_bump(blk, T0 + 60 * SEC, 3 * HOUR), 0);
    cr_assert_eq(clockctl_fake_at(blk, T0 + 60 * SEC), T0 + 60 * SEC + 2 * HOUR);
    cr_assert_eq(clockctl_offset_at(blk, T0 + 61 * SEC), 2 * HOUR);
    cr_assert_eq(clockctl_bump(blk, T0 + 61 * SEC, 1), 0, "a nanosecond bump");
    cr_assert_eq(clockctl_offset_at(blk, T0 + 61 * SEC), 2 * HOUR + 1);
    cr_assert_eq(clockctl_bump(blk, T0, INT64_MAX), -ERANGE);
    cr_assert_eq(clockctl_offset_at(blk, T0 + 61 * SEC), 2 * HOUR + 1, "unchanged by -ERANGE");
}

Test(clockctl, set_offset_is_absolute_and_clears_rate_and_strobe)
{
    cr_assert_eq(clockctl_drift(blk, T0, 3.0), 0);
    cr_assert_eq(clockctl_strobe(blk, T0, SEC, 10 * MS), 0);
    cr_assert_eq(clockctl_set_offset(blk, T0 + SEC, -90 * SEC), 0);
    for (int64_t t = T0; t < T0 + SEC; t += 7 * MS)
        cr_assert_eq(clockctl_offset_at(blk, t), -90 * SEC);
}

Test(clockctl, strobe_flips_at_period_boundaries)
{
    cr_assert_eq(clockctl_set_offset(blk, T0, 5 * SEC), 0);
    cr_assert_eq(clockctl_strobe(blk, T0, 50 * MS, 100 * MS), 0);
    cr_assert_eq(clockctl_offset_at(blk, T0), 5 * SEC, "starts on the current offset");
    cr_assert_eq(clockctl_offset_at(blk, T0 + 99 * MS), 5 * SEC);
    cr_assert_eq(clockctl_offset_at(blk, T0 + 100 * MS), 5 * SEC + 50 * MS);
    cr_assert_eq(clockctl_offset_at(blk, T0 + 199 * MS), 5 * SEC + 50 * MS);
    cr_assert_eq(clockctl_offset_at(blk, T0 + 200 * MS), 5 * SEC);
    cr_assert_eq(clockctl_offset_at(blk, T0 + 300 * MS), 5 * SEC + 50 * MS);
    cr_assert_eq(clockctl_offset_at(blk, T0 - 1), 5 * SEC + 50 * MS, "phases continue backwards");

    /* A bump inside an odd phase is continuous and keeps the strobe's phase. */
    int64_t before = clockctl_fake_at(blk, T0 + 150 * MS);
    cr_assert_eq(clockctl_bump(blk, T0 + 150 * MS, SEC), 0);
    cr_assert_eq(clockctl_fake_at(blk, T0 + 150 * MS), before + SEC);
    cr_assert_eq(clockctl_offset_at(blk, T0 + 250 * MS), 6 * SEC);
    cr_assert_eq(clockctl_offset_at(blk, T0 + 350 * MS), 6 * SEC + 50 * MS);

    /* Period 0 stops it; the clock returns to its base line. */
    cr_assert_eq(clockctl_strobe(blk, T0 + 350 * MS, 50 * MS, 0), 0);
    cr_assert_eq(clockctl_offset_at(blk, T0 + 350 * MS), 6 * SEC);
    cr_assert_eq(clockctl_offset_at(blk, T0 + 450 * MS), 6 * SEC);

    /* A negative delta strobes backwards. */
    cr_assert_eq(clockctl_strobe(blk, T0, -2 * SEC, SEC), 0);
    cr_assert_eq(clockctl_offset_at(blk, T0 + SEC), 4 * SEC);
    cr_assert_eq(clockctl_offset_at(blk, T0 + 2 * SEC), 6 * SEC);
    cr_assert_eq(clockctl_strobe(blk, T0, SEC, -1), -EINVAL);
}

Test(clockctl, drift_zero_freezes_and_two_doubles)
{
    cr_assert_eq(clockctl_drift(blk, T0, 0.0), 0);
    cr_assert_eq(clockctl_fake_at(blk, T0), T0);
    cr_assert_eq(clockctl_fake_at(blk, T0 + HOUR), T0, "frozen");
    cr_assert_eq(clockctl_offset_at(blk, T0 + HOUR), -HOUR);
    cr_assert_eq(clockctl_drift(blk, T0 + HOUR, 2.0), 0);
    cr_assert_eq(clockctl_fake_at(blk, T0 + HOUR), T0, "continuous at the change");
    cr_assert_eq(clockctl_fake_at(blk, T0 + HOUR + 10 * SEC), T0 + 20 * SEC, "double speed");
    cr_assert_eq(clockctl_drift(blk, T0 + HOUR + 10 * SEC, 1.0), 0);
    cr_assert_eq(clockctl_fake_at(blk, T0 + HOUR + 11 * SEC), T0 + 21 * SEC);
    cr_assert_eq(clockctl_drift(blk, T0, 0.75), 0);
    cr_assert_eq(clockctl_fake_at(blk, T0 + 1000 * SEC), clockctl_fake_at(blk, T0) + 750 * SEC);

    static const double bad[] = {-1.0, NAN, INFINITY, CLOCKCTL_RATE_MAX * 2};
    int64_t ref = clockctl_fake_at(blk, T0 + 5 * SEC);
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        cr_assert_eq(clockctl_drift(blk, T0, bad[i]), -EINVAL, "rate %g", bad[i]);
    cr_assert_eq(clockctl_fake_at(blk, T0 + 5 * SEC), ref, "unchanged by -EINVAL");
}

Test(clockctl, set_fake_replays_an_exact_value)
{
    const int64_t start = T0 - 30 * SEC; /* a previous incarnation's start time */
    cr_assert_eq(clockctl_set_fake(blk, T0, start), 0);
    cr_assert_eq(clockctl_fake_at(blk, T0), start);
    cr_assert_eq(clockctl_fake_at(blk, T0 + 7 * SEC), start + 7 * SEC, "runs on");

    cr_assert_eq(clockctl_drift(blk, T0, 2.0), 0);
    cr_assert_eq(clockctl_set_fake(blk, T0 + SEC, start), 0);
    cr_assert_eq(clockctl_fake_at(blk, T0 + SEC + 7 * SEC), start + 14 * SEC, "keeps its rate");

    cr_assert_eq(clockctl_set_offset(blk, T0, 0), 0);
    cr_assert_eq(clockctl_strobe(blk, T0, 500 * MS, SEC), 0);
    cr_assert_eq(clockctl_set_fake(blk, T0 + 1500 * MS, start), 0); /* odd phase */
    cr_assert_eq(clockctl_fake_at(blk, T0 + 1500 * MS), start, "exact despite the strobe");
    cr_assert_eq(clockctl_fake_at(blk, T0 + 2500 * MS), start + SEC - 500 * MS);

    cr_assert_eq(clockctl_set_fake(blk, T0, -1), -EINVAL);
    cr_assert_eq(clockctl_set_fake(blk, T0, 0), 0, "the epoch itself is fine");
    cr_assert_eq(clockctl_fake_at(blk, T0), 0);
}

Test(clockctl, reset_returns_to_real_time_and_keeps_the_monotonic_flag)
{
    clockctl_set_monotonic(blk, true);
    cr_assert_eq(clockctl_bump(blk, T0, 3 * HOUR), 0);
    cr_assert_eq(clockctl_drift(blk, T0, 0.0), 0);
    cr_assert_eq(clockctl_strobe(blk, T0, SEC, SEC), 0);
    clockctl_reset(blk, T0 + 42 * SEC);
    for (int64_t t = T0; t < T0 + 5 * SEC; t += 333 * MS)
        cr_assert_eq(clockctl_fake_at(blk, t), t);
    struct clockctl_params p;
    cr_assert(clockctl_params_read(blk, &p));
    cr_assert_eq(p.rate, 1.0);
    cr_assert_eq(p.strobe_period_ns, 0);
    cr_assert_eq(p.flags, CLOCKCTL_F_MONOTONIC);
    clockctl_set_monotonic(blk, false);
    cr_assert(clockctl_params_read(blk, &p));
    cr_assert_eq(p.flags, 0);
}

Test(clockctl, clamps_at_zero)
{
    cr_assert_eq(clockctl_set_offset(blk, T0, -T0 - HOUR), 0);
    cr_assert_eq(clockctl_fake_at(blk, T0), 0);
    cr_assert_eq(clockctl_fake_at(blk, T0 + HOUR), 0);
    cr_assert_eq(clockctl_fake_at(blk, T0 + 2 * HOUR), HOUR, "the base line runs on below 0");
    cr_assert_eq(clockctl_bump(blk, T0, INT64_MIN + T0), 0);
    cr_assert_eq(clockctl_fake_at(blk, T0 + 100 * HOUR), 0);
}

Test(clockctl, mark_unloaded_clears_feedback)
{
    atomic_store(&blk->loaded_pid, 1234);
    atomic_store(&blk->reads, 99);
    pid_t pid;
    cr_assert(clockctl_loaded(blk, &pid));
    cr_assert_eq(pid, 1234);
    cr_assert_eq(clockctl_reads(blk), 99);
    clockctl_mark_unloaded(blk);
    cr_assert_not(clockctl_loaded(blk, NULL));
    cr_assert_eq(clockctl_reads(blk), 0);
}

/* The writer publishes (anchor_real k, anchor_fake 2k, rate 1 or 2): a torn read would break
 * anchor_fake == 2 * anchor_real or produce another rate. */
#define SEQ_ROUNDS 200000

static void *seq_reader(void *arg)
{
    _Atomic bool *done = arg;
    unsigned long seen = 0;
    struct clockctl_params p;
    while (!atomic_load(done)) {
        if (!clockctl_params_read(blk, &p))
            return (void *)-1L;
        if (p.anchor_fake_ns != 2 * p.anchor_real_ns || (p.rate != 1.0 && p.rate != 2.0))
            return (void *)-2L;
        seen++;
    }
    return (void *)seen;
}

Test(clockctl, seqlock_readers_never_see_torn_params)
{
    _Atomic bool done = false;
    pthread_t readers[2];
    for (size_t i = 0; i < ARRAY_LEN(readers); i++)
        cr_assert_eq(pthread_create(&readers[i], NULL, seq_reader, &done), 0);
    for (int64_t k = 1; k <= SEQ_ROUNDS; k++) {
        cr_assert_eq(clockctl_set_offset(blk, k, k), 0);
        cr_assert_eq(clockctl_drift(blk, k, (k & 1) ? 2.0 : 1.0), 0);
    }
    atomic_store(&done, true);
    for (size_t i = 0; i < ARRAY_LEN(readers); i++) {
        void *res;
        cr_assert_eq(pthread_join(readers[i], &res), 0);
        cr_assert_geq((long)res, 0, "reader %zu saw a torn read (%ld)", i, (long)res);
    }
}

Test(clockctl, readers_give_up_on_a_seq_stuck_odd_and_the_writer_recovers)
{
    atomic_fetch_add(&blk->seq, 1); /* odd forever, as if the simulator died in publish */
    struct clockctl_params p;
    cr_assert_not(clockctl_params_read(blk, &p));
    /* The simulator does not wait for, or abort on, a seq left odd by someone else: its next
     * change publishes and readers recover. */
    cr_assert_eq(clockctl_bump(blk, T0, SEC), 0);
    cr_assert_eq(atomic_load(&blk->seq) & 1u, 0);
    cr_assert(clockctl_params_read(blk, &p));
    cr_assert_eq(clockctl_offset_at(blk, T0), SEC);
}

Test(clockctl, mapped_by_reads_proc_maps)
{
    cr_assert_eq(clockctl_mapped_by(blk_path, getpid()), 1, "this process maps the block");
    char other[128];
    tmp_path(other, sizeof(other), "other.clock");
    struct clockctl *c2;
    cr_assert_eq(clockctl_create(other, &c2), 0);
    cr_assert_eq(clockctl_destroy(c2, NULL), 0);
    cr_assert_eq(clockctl_mapped_by(other, getpid()), 0, "unmapped again");
    cr_assert_lt(clockctl_mapped_by(blk_path, INT32_MAX), 0, "no such process");
}
