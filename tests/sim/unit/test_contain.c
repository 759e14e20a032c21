/*
 * test_contain.c: descendants that hop sessions as fast as fork allows (contain.h).
 *
 * The test process plays eddy: contain_setup() makes it the subreaper (and, where a cgroup v2 is
 * writable, gives it a cgroup), then it starts chains of "hoppers". Each generation of a chain
 * counts itself in shared memory, forks the next, which calls setsid(), and exits at once: the
 * chain leaves every process group and session and never stays long enough in one process for
 * a kill by pid to land. Once the chains have made thousands of generations, contain_kill_all()
 * must end them all within its bound, or say how many it could not. A chain's processes are
 * named in /proc (comm) so that survivors can be counted independently of contain.c.
 * Depends on: contain, unitkit.h.
 */
#include "unitkit.h"
#include "contain.h"
#include "eddy/util.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHAINS 4
#define GENERATIONS_MIN 1000 /* in all, before the kill */

struct shared {
    _Atomic unsigned long generations;
    _Atomic int stop; /* set by the test to end chains that outlived contain_kill_all */
};

static struct shared *sh;
static char name[16]; /* comm of every hopper: "hop" and the test's pid */

EDDY_NORETURN static void hop(void)
{
    prctl(PR_SET_NAME, name);
    for (;;) {
        atomic_fetch_add(&sh->generations, 1);
        if (atomic_load(&sh->stop))
            _exit(0);
        pid_t next = fork();
        if (next != 0)
            _exit(0); /* the parent (or a failed fork: the chain ends) */
        setsid();
    }
}

/* Hoppers alive now, found by name. */
static unsigned hoppers_alive(void)
{
    unsigned n = 0;
    DIR *d = opendir("/proc");
    cr_assert(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[300], comm[64] = "", stat[512] = "";
        snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        bool ours = fgets(comm, sizeof(comm), f) && strncmp(comm, name, strlen(name)) == 0 &&
                    comm[strlen(name)] == '\n';
        fclose(f);
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        f = fopen(path, "r");
        if (f && fgets(stat, sizeof(stat), f) && ours) {
            const char *rp = strrchr(stat, ')');
            n += rp && rp[1] == ' ' && rp[2] != 'Z';
        }
        if (f)
            fclose(f);
    }
    closedir(d);
    return n;
}

static void start_chains(void)
{
    sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert(sh != MAP_FAILED);
    snprintf(name, sizeof(name), "hop%d", (int)getpid());
    for (int i = 0; i < CHAINS; i++) {
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            contain_enter_child();
            hop();
        }
    }
    /* Until the race has been run thousands of times, however slow the machine. */
    while (atomic_load(&sh->generations) < GENERATIONS_MIN)
        sched_yield();
}

/* Ends chains that outlived the kill, so that a failing test leaves nothing behind. */
static void stop_chains(void)
{
    atomic_store(&sh->stop, 1); /* the next generation of each chain exits */
    for (int tries = 0; tries < 1000 && hoppers_alive(); tries++)
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

/* Starts the chains, kills: the result, and how many hoppers were alive right after. */
static struct contain_result kill_and_check(unsigned *alive)
{
    start_chains();
    struct contain_result r;
    contain_kill_all(CONTAIN_KILL_WAIT_S, &r);
    int wait_errno = waitpid(-1, NULL, WNOHANG) < 0 ? errno : 0;
    *alive = hoppers_alive();
    cr_log_info("%lu generations; %u reaped, %u left, %u alive after, in %.3f s",
                atomic_load(&sh->generations), r.reaped, r.left, *alive, r.seconds);
    stop_chains();
    cr_expect_lt(r.seconds, CONTAIN_KILL_WAIT_S + 1, "bounded: %.3f s", r.seconds);
    cr_expect_gt(r.reaped, 0, "the chains' processes were reaped");
    /* Nothing left reported means nothing left: not a child, not a descendant. */
    cr_expect(r.left > 0 || (*alive == 0 && wait_errno == ECHILD),
              "0 reported left, but %u hoppers alive (waitpid: %s)", *alive, strerror(wait_errno));
    return r;
}

Test(contain, kill_all_ends_chains_that_hop_sessions_as_fast_as_fork_allows, .timeout = 120)
{
    contain_setup();
    cr_log_info("cgroup: %s%s", contain_cgroup() ? contain_cgroup() : "none: ", contain_why_not());
    unsigned alive;
    struct contain_result r = kill_and_check(&alive);
    /* With a cgroup, cgroup.kill takes them all at once, forks included. */
    if (contain_cgroup())
        cr_expect(r.left == 0 && alive == 0, "%u left, %u alive", r.left, alive);
}

Test(contain, without_a_cgroup_the_rounds_are_bounded_and_honest, .timeout = 120)
{
    setenv(CONTAIN_NO_CGROUP_ENV, "1", 1);
    contain_setup();
    cr_expect_null(contain_cgroup());
    cr_expect(strstr(contain_why_not(), CONTAIN_NO_CGROUP_ENV) != NULL, "%s", contain_why_not());
    unsigned alive;
    kill_and_check(&alive);
}

Test(contain, a_cgroup_left_by_a_dead_eddy_is_emptied_and_removed, .timeout = 60)
{
    contain_setup();
    if (!contain_cgroup()) {
        /* No writable cgroup v2 on this machine: nothing can be left behind in one. */
        cr_expect_neq(contain_why_not()[0], '\0');
        return;
    }
    char parent[4096];
    snprintf(parent, sizeof(parent), "%s", contain_cgroup());
    *strrchr(parent, '/') = '\0';
    struct contain_result r;
    contain_kill_all(CONTAIN_KILL_WAIT_S, &r); /* this "eddy" ends */
    /* A stale eddy-N beside it, N a pid that no longer exists, holding a sleeping process. */
    pid_t gone = fork();
    cr_assert_geq(gone, 0);
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    char stale[4200], procs[4300];
    snprintf(stale, sizeof(stale), "%s/eddy-%d", parent, (int)gone);
    cr_assert_eq(mkdir(stale, 0755), 0, "%s: %s", stale, strerror(errno));
    snprintf(procs, sizeof(procs), "%s/cgroup.procs", stale);
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t sleeper = fork();
    cr_assert_geq(sleeper, 0);
    if (sleeper == 0) {
        FILE *f = fopen(procs, "w");
        bool in = f && fprintf(f, "0") > 0 && fclose(f) == 0;
        if (write(ready[1], in ? "y" : "n", 1) != 1 || !in)
            _exit(1);
        pause();
        _exit(0);
    }
    char in = 0;
    cr_assert_eq(read(ready[0], &in, 1), 1);
    cr_assert_eq(in, 'y', "the sleeper moved itself into %s", stale);
    /* The next eddy's set-up sweeps it. */
    contain_setup();
    int status;
    cr_assert_eq(waitpid(sleeper, &status, 0), sleeper);
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "killed through cgroup.kill");
    int tries = 0;
    while (rmdir(stale) < 0 && errno == EBUSY && tries++ < 100000)
        sched_yield(); /* removed by the sweep once empty, or here */
    cr_expect(access(stale, F_OK) != 0, "%s removed", stale);
    contain_kill_all(CONTAIN_KILL_WAIT_S, &r);
    cr_expect_eq(r.left, 0);
}
