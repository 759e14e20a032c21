/*
 * test_clocksrv.c: the threads that answer trapped calls, with live probes.
 *
 * Each probe is started with the system-call route and its listener handed to a server; the test
 * then only talks to the probe (the server's thread answers the calls), and stops the server
 * while its threads sleep in RECV: after a quiet probe, after a probe that died, mid-flood.
 * Depends on: clockkit, clocksrv, clocksys, clock_probe_static.
 */
#include "clockkit.h"
#include "clocksrv.h"

#include <dirent.h>

static struct clocksrv *srv;
static struct clocksrv_listener lis[KIDS_MAX];

static void setup(void)
{
    kit_setup();
    cr_assert_eq(clocksrv_new(&srv), 0);
    memset(lis, 0, sizeof(lis));
}

static void teardown(void)
{
    clocksrv_free(srv);
    kit_teardown(NULL, 0);
}

TestSuite(clocksrv, .init = setup, .fini = teardown);

/* A static probe on the route, its listener handed to the server (the kid keeps none). */
static struct kid *spawn(struct clocksrv_listener *l)
{
    struct env e;
    char *const argv[] = {(char *)CLOCK_PROBE_STATIC, NULL};
    struct clocksys_child route = {.flags = CLOCKTRAP_F_EXEC, .trap = true, .trace = true};
    struct kid *k = kid_spawn_route(argv, env_build(&e, false, NULL), &route);
    l->ctl = blk;
    cr_assert_eq(clocksrv_add(srv, l, k->listener), 0);
    k->listener = -1;
    return k;
}

Test(clocksrv, answers_without_the_caller_serving_and_stops_cleanly)
{
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), -6 * HOUR), 0);
    struct kid *a = spawn(&lis[0]), *b = spawn(&lis[1]);
    struct sample s;
    struct window w;
    for (int i = 0; i < 3; i++) {
        probe_ask(a, "\n", &s, &w);
        expect_fake(&s, &w);
        probe_ask(b, "fork\n", &s, &w);
        expect_fake(&s, &w);
    }
    /* The clock changes under the server's feet: the next answer follows. */
    cr_assert_eq(clockctl_set_offset(blk, clockctl_real_now_ns(), 9 * HOUR), 0);
    probe_ask(a, "\n", &s, &w);
    expect_fake(&s, &w);
    kid_finish(a);
    /* a is gone: its thread sleeps in RECV for ever; b's waits for more. Both must stop. */
    clocksrv_stop(srv);
    cr_assert(atomic_load(&lis[0].closed) && atomic_load(&lis[1].closed));
    cr_assert_eq(atomic_load(&lis[0].error), 0);
    cr_assert_geq(lis[0].st.answered, 4 * 4, "four reads per answer at least");
    cr_assert_geq(lis[1].st.answered, 3 * 4);
    cr_assert_eq(lis[0].st.last_error, 0);
    struct clocksrv_listener late;
    memset(&late, 0, sizeof(late));
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(clocksrv_add(srv, &late, fds[0]), -ESHUTDOWN, "no thread after the stop");
    cr_assert(atomic_load(&late.closed));
    close(fds[1]);
    kid_kill(b);
}

Test(clocksrv, stops_in_the_middle_of_a_flood, .timeout = 120)
{
    struct kid *k = spawn(&lis[0]);
    cr_assert_eq(write(k->to_fd, "flood 8 1000000\n", 16), 16);
    /* Until the flood is under way: the probe runs its eight threads (the server's counters are
     * its own until the stop). */
    char task[64];
    snprintf(task, sizeof(task), "/proc/%ld/task", (long)k->pid);
    for (;;) {
        DIR *d = opendir(task);
        cr_assert_not_null(d);
        int n = 0;
        while (readdir(d))
            n++;
        closedir(d);
        if (n >= 2 + 9) /* ".", "..", the main thread and eight more */
            break;
        struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000};
        nanosleep(&ms, NULL);
    }
    clocksrv_stop(srv);
    cr_assert(atomic_load(&lis[0].closed));
    cr_assert_gt(lis[0].st.answered, 0);
    cr_assert_eq(lis[0].st.last_error, 0);
    kid_kill(k);
}
