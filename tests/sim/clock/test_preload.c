/*
 * test_preload.c: libeddyclock.so in live processes, driven through the control block.
 *
 * The tests start clock_probe (and python3) with the library preloaded, change the block while the
 * process runs, and check each answer against the fake clock (clockkit.h brackets every request
 * with real clock reads). Every child is killed in the fixture's teardown.
 * Depends on: clockkit, clockctl, clock_probe, clock_probe_static, libeddyclock.so, python3.
 */
#include "clockkit.h"

static void setup(void)
{
    kit_setup();
}

static void teardown(void)
{
    static const char names[][16] = {"link.clock"};
    kit_teardown(names, ARRAY_LEN(names));
}

TestSuite(preload, .init = setup, .fini = teardown);

/* ==== Live processes ==== */

Test(preload, preload_follows_block_changes_without_restart)
{
    struct kid *k = probe_spawn(CLOCK_PROBE, true, blk_path);
    struct sample s;
    struct window w;
    probe_ask(k, "\n", &s, &w);
    expect_real(&s, &w);
    pid_t pid;
    cr_assert(clockctl_loaded(blk, &pid), "the library did not load");
    cr_assert_eq(pid, k->pid);
    cr_assert_eq(s.pid, k->pid);
    cr_assert_eq(clockctl_mapped_by(blk_path, k->pid), 1);
    uint64_t reads = clockctl_reads(blk);
    cr_assert_gt(reads, 0);

    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -HOUR), 0);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("offset -1 h", s.rt_ns - w.rt0, -HOUR - TOL, -HOUR + TOL + (w.rt1 - w.rt0));

    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), 5 * HOUR), 0);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("offset +5 h", s.rt_ns - w.rt0, 5 * HOUR - TOL, 5 * HOUR + TOL + (w.rt1 - w.rt0));

    /* Frozen: two answers, one exact value. */
    cr_assert_eq(clockctl_drift(blk, clockctl_real_now_ns(), 0.0), 0);
    const int64_t frozen = clockctl_fake_at(blk, clockctl_real_now_ns());
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    cr_assert_eq(s.rt_ns, frozen);
    cr_assert_eq(s.tg_ns, frozen);
    cr_assert_eq(s.tod_us, frozen / 1000);
    cr_assert_eq(s.time_s, frozen / SEC);
    probe_ask(k, "\n", &s, &w);
    cr_assert_eq(s.rt_ns, frozen);

    cr_assert_eq(clockctl_drift(blk, clockctl_real_now_ns(), 2.0), 0);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);

    /* Strobe with a 10 s period anchored in the past, so that no flip falls inside a request:
     * 15 s after its start is the middle of an odd (delta) phase, 25 s an even one. */
    int64_t now = clockctl_real_now_ns();
    cr_assert_eq(clockctl_set_offset(blk, now, 0), 0);
    cr_assert_eq(clockctl_strobe(blk, now - 15 * SEC, 10 * 60 * SEC, 10 * SEC), 0);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("strobe, odd phase", s.rt_ns - w.rt0, 600 * SEC - TOL, 600 * SEC + SEC);
    now = clockctl_real_now_ns();
    cr_assert_eq(clockctl_strobe(blk, now - 25 * SEC, 10 * 60 * SEC, 10 * SEC), 0);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("strobe, even phase", s.rt_ns - w.rt0, -TOL, SEC);

    /* Monotonic faking: same offset as realtime, and off again. */
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), 2 * HOUR), 0);
    clockctl_set_monotonic(blk, true);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("monotonic +2 h", s.mono_ns - w.mono0, 2 * HOUR - TOL, 2 * HOUR + SEC);
    clockctl_set_monotonic(blk, false);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("monotonic real again", s.mono_ns - w.mono0, -TOL, SEC);

    cr_assert_gt(clockctl_reads(blk), reads, "reads kept counting");
    kid_finish(k);
}

Test(preload, forked_child_shares_the_fake_clock)
{
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -3 * HOUR), 0);
    struct kid *k = probe_spawn(CLOCK_PROBE, true, blk_path);
    struct sample s;
    struct window w;
    probe_ask(k, "fork\n", &s, &w);
    cr_assert_neq(s.pid, k->pid, "answered by the forked child");
    expect_fake(&s, &w);
    pid_t pid;
    cr_assert(clockctl_loaded(blk, &pid));
    cr_assert_eq(pid, k->pid, "the fork left loaded_pid alone");
    kid_finish(k);
}

Test(preload, restart_into_the_past_replays_the_previous_start)
{
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -10 * SEC), 0);
    struct kid *a = probe_spawn(CLOCK_PROBE, true, blk_path);
    struct sample s;
    struct window w;
    probe_ask(a, "\n", &s, &w);
    expect_fake(&s, &w);
    const int64_t first_start = s.rt_ns;
    kid_kill(a);

    clockctl_mark_unloaded(blk);
    cr_assert_eq(clockctl_set_fake(blk, clockctl_real_now_ns(), first_start), 0);
    struct kid *b = probe_spawn(CLOCK_PROBE, true, blk_path);
    probe_ask(b, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("replayed start", s.rt_ns, first_start, first_start + 10 * SEC);
    pid_t pid;
    cr_assert(clockctl_loaded(blk, &pid));
    cr_assert_eq(pid, b->pid, "the new incarnation loaded");
    kid_finish(b);
}

Test(preload, static_binary_is_reported_as_not_faked)
{
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -HOUR), 0);
    struct kid *k = probe_spawn(CLOCK_PROBE_STATIC, true, blk_path);
    struct sample s;
    struct window w;
    probe_ask(k, "\n", &s, &w);
    expect_real(&s, &w);
    cr_assert_not(clockctl_loaded(blk, NULL), "a static binary cannot load the library");
    cr_assert_eq(clockctl_reads(blk), 0);
    cr_assert_eq(clockctl_mapped_by(blk_path, k->pid), 0);
    kid_finish(k);
}

enum bad_block {
    BAD_MAGIC,
    BAD_VERSION,
    BAD_SIZE_FIELD,
    BAD_FILE_SIZE,
    BAD_GROUP_WRITABLE,
    BAD_WORLD_WRITABLE,
    BAD_SYMLINK,
    BAD_DIRECTORY,
    BAD_MISSING,
    BAD_EMPTY_VAR,
    BAD_NO_VAR,
    BAD_COUNT
};

/* Spoils the block as case says and returns the path to hand the library (NULL: no variable). */
static const char *bad_block_make(enum bad_block bad, char *link, size_t cap)
{
    switch (bad) {
    case BAD_MAGIC:
        blk->magic[0] = 'X';
        break;
    case BAD_VERSION:
        blk->version = CLOCKCTL_VERSION + 1;
        break;
    case BAD_SIZE_FIELD:
        blk->size = 64;
        break;
    case BAD_FILE_SIZE:
        cr_assert_eq(truncate(blk_path, (off_t)sizeof(struct clockctl) + 8), 0);
        break;
    case BAD_GROUP_WRITABLE:
        cr_assert_eq(chmod(blk_path, 0620), 0);
        break;
    case BAD_WORLD_WRITABLE:
        cr_assert_eq(chmod(blk_path, 0602), 0);
        break;
    case BAD_SYMLINK:
        tmp_path(link, cap, "link.clock");
        cr_assert_eq(symlink(blk_path, link), 0);
        return link;
    case BAD_DIRECTORY:
        return tmp_dir;
    case BAD_MISSING:
        tmp_path(link, cap, "missing.clock");
        return link;
    case BAD_EMPTY_VAR:
        return "";
    case BAD_NO_VAR:
    case BAD_COUNT:
        return NULL;
    }
    return blk_path;
}

static void bad_block_undo(enum bad_block bad, const char *link)
{
    memcpy(blk->magic, CLOCKCTL_MAGIC, sizeof(blk->magic));
    blk->version = CLOCKCTL_VERSION;
    blk->size = sizeof(struct clockctl);
    cr_assert_eq(truncate(blk_path, (off_t)sizeof(struct clockctl)), 0);
    cr_assert_eq(chmod(blk_path, 0600), 0);
    if (bad == BAD_SYMLINK)
        unlink(link);
}

Test(preload, invalid_blocks_leave_the_real_clock)
{
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -HOUR), 0);
    for (int bad = 0; bad < BAD_COUNT; bad++) {
        char link[128];
        const char *file = bad_block_make((enum bad_block)bad, link, sizeof(link));
        struct kid *k = probe_spawn(CLOCK_PROBE, true, file);
        struct sample s;
        struct window w;
        probe_ask(k, "\n", &s, &w);
        expect_real(&s, &w);
        cr_assert_not(clockctl_loaded(blk, NULL), "case %d loaded", bad);
        cr_assert_eq(clockctl_reads(blk), 0, "case %d counted reads", bad);
        kid_finish(k);
        bad_block_undo((enum bad_block)bad, link);
    }
    /* The same block, repaired, loads: the cases above failed for their reason only. */
    struct kid *k = probe_spawn(CLOCK_PROBE, true, blk_path);
    struct sample s;
    struct window w;
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    cr_assert(clockctl_loaded(blk, NULL));
    kid_finish(k);
}

Test(preload, preload_without_a_block_is_a_pass_through)
{
    struct kid *k = probe_spawn(CLOCK_PROBE, true, NULL);
    struct sample s;
    struct window w;
    probe_ask(k, "fork\n", &s, &w);
    expect_real(&s, &w);
    probe_ask(k, "\n", &s, &w);
    expect_real(&s, &w);
    kid_finish(k);
}

static double python_ask(struct kid *k, struct window *w)
{
    char buf[128];
    kid_ask(k, "\n", buf, sizeof(buf), w);
    char *end;
    double t = strtod(buf, &end);
    cr_assert(end != buf && *end == '\n', "bad reply: %s", buf);
    return t;
}

/* A double of ~1.7e9 s resolves ~0.24 us, so the window widens by a microsecond. */
static void expect_python(double t, const struct window *w)
{
    struct clockctl_params p;
    cr_assert(clockctl_params_read(blk, &p));
    double lo = (double)(clockctl_fake_ns(&p, w->rt0) - TOL) / 1e9 - 1e-6;
    double hi = (double)(clockctl_fake_ns(&p, w->rt1) + TOL) / 1e9 + 1e-6;
    cr_assert(t >= lo && t <= hi, "time.time() = %.6f outside [%.6f, %.6f]", t, lo, hi);
}

Test(preload, python_sees_the_fake_time)
{
    struct env e;
    char *const argv[] = {(char *)"/usr/bin/python3", (char *)"-c",
                          (char *)"import sys, time\n"
                                  "while sys.stdin.readline():\n"
                                  "    sys.stdout.write(repr(time.time()) + '\\n')\n"
                                  "    sys.stdout.flush()\n",
                          NULL};
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -HOUR), 0);
    struct kid *k = kid_spawn(argv, env_build(&e, true, blk_path));
    struct window w;
    expect_python(python_ask(k, &w), &w);
    pid_t pid;
    cr_assert(clockctl_loaded(blk, &pid));
    cr_assert_eq(pid, k->pid);
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), 5 * HOUR), 0);
    double t = python_ask(k, &w);
    expect_python(t, &w);
    cr_assert_gt(t * 1e9, (double)(w.rt0 + 5 * HOUR - SEC));
    kid_finish(k);
}
