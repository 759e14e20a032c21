/*
 * test_clocksys.c: the system-call clock route in live processes.
 *
 * clock_probe, static and dynamic, is started with clocksys's set-up (the filter, and the vDSO
 * hidden at its exec stop); the test serves the listener while it waits for each reply, and
 * checks every answer against the fake clock (clockkit.h). Then the callers that go wrong: a bad
 * pointer, a caller killed while eddy writes its answer, a caller paused with a call pending, a
 * flood of calls from many threads, a fork and an exec inside the node. Last, eddy's vDSO in
 * place of the kernel's.
 * Depends on: clockkit, clocksys, clocktrap, clockctl, clock_probe, clock_probe_static.
 */
#include "clockkit.h"
#include "clocktrap.h"
#include "vdsomap.h"

static void setup(void)
{
    kit_setup();
    clocksys_hook_before_write = NULL;
}

static void teardown(void)
{
    kit_teardown(NULL, 0);
}

TestSuite(clocksys, .init = setup, .fini = teardown);

/* A route: the filter (with `flags`), and the vDSO hidden when `hide`. */
static struct clocksys_child route(unsigned flags, bool hide)
{
    return (struct clocksys_child){.flags = flags, .trap = true, .trace = hide, .sock = -1};
}

static struct kid *spawn(const char *exe, bool lib, struct clocksys_child r)
{
    struct env e;
    char *const argv[] = {(char *)exe, NULL};
    return kid_spawn_route(argv, env_build(&e, lib, lib ? blk_path : NULL), &r);
}

/* The probe's "raw" answer: the three clocks read through syscall(2). */
struct raw {
    long pid;
    long long rt_ns, tod_us, time_s;
};

static void raw_ask(struct kid *k, struct raw *r, struct window *w)
{
    char buf[160];
    kid_ask(k, "raw\n", buf, sizeof(buf), w);
    cr_assert_eq(sscanf(buf, "%ld %lld %lld %lld", &r->pid, &r->rt_ns, &r->tod_us, &r->time_s), 4,
                 "bad reply: %s", buf);
}

static void expect_raw_fake(const struct raw *r, const struct window *w)
{
    struct clockctl_params p = clockctl_params_get(blk);
    int64_t lo, hi;
    fake_range(&p, w, &lo, &hi);
    expect_in("raw clock_gettime", r->rt_ns, lo, hi);
    expect_in("raw gettimeofday", r->tod_us * 1000, lo - 1000, hi);
    expect_in("raw time", r->time_s * SEC, lo - SEC - 20 * MS, hi);
}

/* ==== The route ==== */

Test(clocksys, static_probe_reads_the_fake_clock_through_system_calls)
{
    struct kid *k = spawn(CLOCK_PROBE_STATIC, false, route(CLOCKTRAP_F_EXEC, true));
    cr_assert(k->ex.stopped && k->ex.had_vdso && k->ex.hidden, "the vDSO was hidden");
    cr_assert_eq(k->ex.at_base, 0, "a static program has no interpreter");
    struct sample s;
    struct window w;
    probe_ask(k, "\n", &s, &w);
    expect_real(&s, &w);
    uint64_t answered = k->st.answered;
    cr_assert_geq(answered, 4, "time, gettimeofday, clock_gettime and timespec_get trapped");

    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -HOUR), 0);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("offset -1 h", s.rt_ns - w.rt0, -HOUR - TOL, -HOUR + TOL + (w.rt1 - w.rt0));

    /* Frozen: two answers, one exact value. */
    cr_assert_eq(clockctl_drift(blk, clockctl_real_now_ns(), 0.0), 0);
    const int64_t frozen = clockctl_fake_at(blk, clockctl_real_now_ns());
    probe_ask(k, "\n", &s, &w);
    cr_assert_eq(s.rt_ns, frozen);
    cr_assert_eq(s.tg_ns, frozen);
    cr_assert_eq(s.tod_us, frozen / 1000);
    cr_assert_eq(s.time_s, frozen / SEC);

    /* Strobe, anchored 15 s back so that no flip falls inside the request: an odd phase. */
    int64_t now = clockctl_real_now_ns();
    cr_assert_eq(clockctl_set_offset(blk, now, 0), 0);
    cr_assert_eq(clockctl_strobe(blk, now - 15 * SEC, 10 * 60 * SEC, 10 * SEC), 0);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("strobe, odd phase", s.rt_ns - w.rt0, 600 * SEC - TOL, 600 * SEC + SEC);

    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), 5 * HOUR), 0);
    struct raw r;
    raw_ask(k, &r, &w);
    expect_raw_fake(&r, &w);
    cr_assert_gt(k->st.answered, answered);
    cr_assert_eq(k->st.efault, 0);
    kid_finish(k);
}

Test(clocksys, monotonic_clocks_are_trapped_only_when_asked)
{
    struct kid *k = spawn(CLOCK_PROBE_STATIC, false, route(CLOCKTRAP_F_MONOTONIC, true));
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), 2 * HOUR), 0);
    clockctl_set_monotonic(blk, true);
    struct sample s;
    struct window w;
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("monotonic +2 h", s.mono_ns - w.mono0, 2 * HOUR - TOL, 2 * HOUR + SEC);
    kid_finish(k);

    /* Without the filter option, the monotonic clock is never trapped, whatever the block says. */
    k = spawn(CLOCK_PROBE_STATIC, false, route(0, true));
    probe_ask(k, "\n", &s, &w);
    expect_in("monotonic real", s.mono_ns - w.mono0, -TOL, SEC);
    expect_in("realtime +2 h", s.rt_ns - w.rt0, 2 * HOUR - TOL, 2 * HOUR + SEC);
    kid_finish(k);
}

Test(clocksys, dynamic_program_with_the_library_is_faked_once_and_raw_calls_too)
{
    /* The vDSO stays: libc's reads go through the preload library, raw system calls through the
     * filter, and neither adds its offset twice. */
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -3 * HOUR), 0);
    struct kid *k = spawn(CLOCK_PROBE, true, route(CLOCKTRAP_F_EXEC, false));
    struct sample s;
    struct window w;
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    cr_assert(clockctl_loaded(blk, NULL), "the library loaded");
    cr_assert_eq(k->st.answered, 0, "libc's reads never reached the filter");
    struct raw r;
    raw_ask(k, &r, &w);
    expect_raw_fake(&r, &w);
    cr_assert_eq(k->st.answered, 3);
    kid_finish(k);
}

Test(clocksys, dynamic_program_with_the_vdso_hidden_uses_the_system_calls)
{
    /* The library stands aside where the vDSO is hidden: one offset, from eddy. */
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), 7 * HOUR), 0);
    struct kid *k = spawn(CLOCK_PROBE, true, route(0, true));
    cr_assert(k->ex.hidden);
    cr_assert_neq(k->ex.at_base, 0, "a dynamic program has an interpreter");
    struct sample s;
    struct window w;
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    cr_assert_not(clockctl_loaded(blk, NULL), "the library stood aside");
    cr_assert_geq(k->st.answered, 4);
    kid_finish(k);
}

Test(clocksys, without_the_hidden_vdso_only_raw_calls_are_caught)
{
    /* Why the vDSO must go: a static libc reads it directly, and the filter never sees those. */
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), HOUR), 0);
    struct kid *k = spawn(CLOCK_PROBE_STATIC, false, route(0, false));
    struct sample s;
    struct window w;
    probe_ask(k, "\n", &s, &w);
    expect_in("vDSO read, real", s.rt_ns - w.rt0, -TOL, SEC);
    struct raw r;
    raw_ask(k, &r, &w);
    expect_raw_fake(&r, &w);
    kid_finish(k);
}

/* ==== Inheritance ==== */

Test(clocksys, forked_child_and_exec_inside_the_node_keep_the_fake_clock)
{
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -2 * HOUR), 0);
    struct kid *k = spawn(CLOCK_PROBE_STATIC, false, route(CLOCKTRAP_F_EXEC, true));
    struct sample s;
    struct window w;
    probe_ask(k, "fork\n", &s, &w);
    cr_assert_neq(s.pid, k->pid, "answered by the forked child");
    expect_fake(&s, &w);

    char buf[64];
    cr_assert_eq(write(k->to_fd, "exec\n", 5), 5);
    kid_read_line(k, buf, sizeof(buf));
    long pid = 0;
    cr_assert_eq(sscanf(buf, "execd %ld", &pid), 1, "bad reply: %s", buf);
    cr_assert_eq(pid, k->pid, "the same process, a new program");
    cr_assert_eq(k->st.execs, 1);
    cr_assert_eq(k->st.execs_hidden, 1, "the new program lost its vDSO too");
    cr_assert_eq(k->st.execs_lost, 0);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    kid_finish(k);
}

/* ==== Callers that go wrong ==== */

Test(clocksys, bad_pointers_get_efault_as_from_the_kernel)
{
    struct kid *k = spawn(CLOCK_PROBE_STATIC, false, route(0, true));
    char buf[64];
    struct window w;
    kid_ask(k, "efault\n", buf, sizeof(buf), &w);
    cr_assert_str_eq(buf, "efault 14 14 14\n");
    cr_assert_eq(k->st.efault, 3);
    struct sample s;
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    kid_finish(k);
}

static pid_t victim;

static void kill_the_caller(pid_t tid)
{
    cr_assert_eq(tid, victim);
    kill(victim, SIGKILL);
    siginfo_t si;
    /* Until it is dead (a zombie): eddy's write must then find nobody. */
    cr_assert_eq(waitid(P_PID, (id_t)victim, &si, WEXITED | WNOWAIT), 0);
}

Test(clocksys, a_caller_killed_while_eddy_writes_is_passed_over)
{
    struct kid *k = spawn(CLOCK_PROBE_STATIC, false, route(0, true));
    victim = k->pid;
    clocksys_hook_before_write = kill_the_caller;
    cr_assert_eq(write(k->to_fd, "raw\n", 4), 4);
    struct pollfd pf = {.fd = k->listener, .events = POLLIN};
    cr_assert_eq(poll(&pf, 1, REPLY_TIMEOUT_MS), 1, "a call waits");
    int rc = clocksys_serve(k->listener, blk, 64, &k->st, NULL, NULL);
    clocksys_hook_before_write = NULL;
    cr_assert(rc >= 1 || rc == -EPIPE, "serve: %d", rc);
    cr_assert_eq(k->st.answered, 0);
    cr_assert_eq(k->st.last_error, 0, "nothing unexpected: %s", strerror(k->st.last_error));
    cr_assert_geq(k->st.withdrawn, 1);
    /* The listener now has no process behind it: it says so, and eddy can close it. */
    cr_assert_eq(poll(&pf, 1, REPLY_TIMEOUT_MS), 1);
    cr_assert(pf.revents & POLLHUP);
    cr_assert_eq(clocksys_serve(k->listener, blk, 64, &k->st, NULL, NULL), -EPIPE);
}

Test(clocksys, a_caller_paused_with_a_call_pending_never_blocks_eddy)
{
    struct kid *k = spawn(CLOCK_PROBE_STATIC, false, route(0, true));
    struct window w;
    w.rt0 = now_ns(CLOCK_REALTIME);
    cr_assert_eq(write(k->to_fd, "raw\n", 4), 4);
    struct pollfd pf = {.fd = k->listener, .events = POLLIN};
    cr_assert_eq(poll(&pf, 1, REPLY_TIMEOUT_MS), 1, "a call waits");
    cr_assert_eq(kill(k->pid, SIGSTOP), 0);
    siginfo_t si;
    cr_assert_eq(waitid(P_PID, (id_t)k->pid, &si, WSTOPPED | WNOWAIT), 0);
    /* Stopped: the pending call was interrupted. Serving returns at once, whatever it found. */
    int rc = clocksys_serve(k->listener, blk, 64, &k->st, NULL, NULL);
    cr_assert_geq(rc, 0);
    cr_assert_eq(k->st.last_error, 0);
    cr_assert_eq(kill(k->pid, SIGCONT), 0);
    /* Resumed: the call is made again and answered. */
    struct raw r;
    char buf[160];
    kid_read_line(k, buf, sizeof(buf));
    w.rt1 = now_ns(CLOCK_REALTIME);
    cr_assert_eq(sscanf(buf, "%ld %lld %lld %lld", &r.pid, &r.rt_ns, &r.tod_us, &r.time_s), 4);
    expect_raw_fake(&r, &w);
    kid_finish(k);
}

Test(clocksys, a_flood_of_calls_from_many_threads_is_answered_in_full, .timeout = 120)
{
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), 24 * HOUR), 0);
    struct kid *k = spawn(CLOCK_PROBE_STATIC, false, route(0, true));
    char buf[160];
    struct window w;
    kid_ask(k, "flood 16 5000\n", buf, sizeof(buf), &w);
    long count;
    long long lo, hi;
    cr_assert_eq(sscanf(buf, "flood %ld %lld %lld", &count, &lo, &hi), 3, "bad reply: %s", buf);
    cr_assert_eq(count, 16 * 5000, "every call answered");
    struct clockctl_params p = clockctl_params_get(blk);
    int64_t flo, fhi;
    fake_range(&p, &w, &flo, &fhi);
    expect_in("earliest read", lo, flo, fhi);
    expect_in("latest read", hi, flo, fhi);
    cr_assert_geq(k->st.answered, 16 * 5000);
    cr_assert_eq(k->st.efault, 0);
    kid_finish(k);
}

/* ==== eddy's vDSO in place of the kernel's ==== */

static struct vdsomap_image image;

static void replace_with_eddys_vdso(void)
{
    char why[200];
    cr_assert_eq(vdsomap_load(CLOCK_VDSO, &image, why, sizeof(why)), 0, "%s", why);
    kit_plan = (struct clocksys_plan){
        .vdso = CLOCKSYS_VDSO_REPLACE, .image = &image, .block_path = blk_path};
}

Test(clocksys, eddys_vdso_fakes_a_static_program_in_the_program)
{
    replace_with_eddys_vdso();
    struct kid *k = spawn(CLOCK_PROBE_STATIC, false, route(CLOCKTRAP_F_EXEC, true));
    cr_assert(k->ex.replaced && !k->ex.hidden, "replaced (error %d)", k->ex.replace_error);
    struct sample s;
    struct window w;
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -4 * HOUR), 0);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("offset -4 h", s.rt_ns - w.rt0, -4 * HOUR - TOL, -4 * HOUR + TOL + (w.rt1 - w.rt0));
    cr_assert_eq(k->st.answered, 0, "libc's reads never left the program");
    cr_assert_geq(clockctl_reads(blk), 4, "the image counted them in the block");
    /* Frozen: exact values, as through the other routes. */
    cr_assert_eq(clockctl_drift(blk, clockctl_real_now_ns(), 0.0), 0);
    const int64_t frozen = clockctl_fake_at(blk, clockctl_real_now_ns());
    probe_ask(k, "\n", &s, &w);
    cr_assert_eq(s.rt_ns, frozen);
    cr_assert_eq(s.tod_us, frozen / 1000);
    cr_assert_eq(s.time_s, frozen / SEC);
    /* Monotonic, moved only with the flag (the image asks the block). */
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), 2 * HOUR), 0);
    clockctl_set_monotonic(blk, true);
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    expect_in("monotonic +2 h", s.mono_ns - w.mono0, 2 * HOUR - TOL, 2 * HOUR + SEC);
    clockctl_set_monotonic(blk, false);
    /* Raw calls still go to eddy; a fork and an exec keep eddy's vDSO. */
    struct raw r;
    raw_ask(k, &r, &w);
    expect_raw_fake(&r, &w);
    cr_assert_eq(k->st.answered, 3);
    probe_ask(k, "fork\n", &s, &w);
    cr_assert_neq(s.pid, k->pid);
    expect_fake(&s, &w);
    char buf[64];
    cr_assert_eq(write(k->to_fd, "exec\n", 5), 5);
    kid_read_line(k, buf, sizeof(buf));
    cr_assert_eq(k->st.execs_replaced, 1, "the exec'd program got eddy's vDSO too");
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    cr_assert_eq(k->st.answered, 3, "still nothing trapped but the raw calls");
    kid_finish(k);
    vdsomap_free(&image);
}

Test(clocksys, eddys_vdso_in_a_dynamic_program_with_the_library_fakes_once)
{
    /* glibc takes the image from AT_SYSINFO_EHDR as the kernel's; the preload library sees
     * eddy's mark there and stands aside, so the offset counts once. */
    replace_with_eddys_vdso();
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), 3 * HOUR), 0);
    struct kid *k = spawn(CLOCK_PROBE, true, route(0, true));
    cr_assert(k->ex.replaced, "replaced (error %d)", k->ex.replace_error);
    struct sample s;
    struct window w;
    probe_ask(k, "\n", &s, &w);
    expect_fake(&s, &w);
    cr_assert_not(clockctl_loaded(blk, NULL), "the library stood aside");
    cr_assert_eq(k->st.answered, 0);
    kid_finish(k);
    vdsomap_free(&image);
}
