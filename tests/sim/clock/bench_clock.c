/*
 * bench_clock.c: what a faked clock read costs, through each route (a benchmark, not a test).
 *
 * Runs `clock_probe bench N` with the preload library: without the library, with it but no
 * block (the pass-through every non-faked process pays), with a block at the real clock, and with
 * a block holding an offset, a drift and monotonic faking (the most work per read). Then the
 * system-call route: the static probe with its vDSO hidden and its calls answered by clocksrv's
 * thread, as in a run, then with eddy's vDSO in place of the kernel's (the vdso route), and the
 * filter alone with the vDSO kept (what a dynamic node pays for
 * having its raw calls trapped: nothing on its vDSO reads, the filter on every other system
 * call). Prints ns per call. The route's rows take fewer calls (N / 50): each is a round trip
 * through eddy. Usage: clock_bench [N], N defaulting to 5,000,000 calls per function.
 * Depends on: clockctl, clocksys, clocksrv, vdsomap, eddyvdso.so. Used by: tests/bench/bench.py,
 * README's figures.
 */
#include "clocksrv.h"
#include "clocksys.h"
#include "vdsomap.h"
#include "eddy/clockctl.h"

#include "eddy/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct clockctl *blk;
static struct clocksys_plan bench_plan = {.vdso = CLOCKSYS_VDSO_HIDE};

/* route: NULL for the preload rows; otherwise the child sets it up and clocksrv serves it. */
static int bench_run(const char *title, const char *exe, char *const envp[], const char *n_arg,
                     struct clocksys_child *route)
{
    int out[2], sv[2] = {-1, -1};
    if (pipe(out) != 0)
        return -errno;
    if (route && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return -errno;
    if (route)
        route->sock = sv[1];
    char *const argv[] = {(char *)exe, (char *)"bench", (char *)n_arg, NULL};
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        if (route && clocksys_child_setup(route, exe, argv, envp) < 0)
            _exit(126);
        execve(exe, argv, envp);
        _exit(127);
    }
    close(out[1]);
    struct clocksrv *srv = NULL;
    struct clocksrv_listener l;
    memset(&l, 0, sizeof(l));
    if (route) {
        close(sv[1]);
        enum clocksys_stage stage;
        int err, fd = -1;
        struct clocksys_exec ex;
        if (clocksys_receive(sv[0], &stage, &err, &fd) < 0 || stage != CLOCKSYS_STAGE_OK ||
            (route->trace && clocksys_exec_stop(pid, &bench_plan, &ex) < 0) ||
            clocksrv_new(&srv) < 0) {
            fprintf(stderr, "the system-call route could not be set up here\n");
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return -EPERM;
        }
        close(sv[0]);
        l.ctl = blk;
        clocksrv_add(srv, &l, fd);
    }
    FILE *f = fdopen(out[0], "r");
    char line[128];
    printf("%s\n", title);
    while (f && fgets(line, sizeof(line), f))
        printf("    %s", line);
    if (f)
        fclose(f);
    int status;
    waitpid(pid, &status, 0);
    if (srv) {
        clocksrv_free(srv);
        printf("    (calls answered by eddy: %llu)\n", (unsigned long long)l.st.answered);
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

int main(int argc, char **argv)
{
    const char *n_arg = argc > 1 ? argv[1] : "5000000";
    char dir[] = "/tmp/eddy-clock-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[sizeof(dir) + 16];
    snprintf(path, sizeof(path), "%s/n1.clock", dir);
    struct clockctl *c;
    int rc = clockctl_create(path, &c);
    blk = c;
    if (rc != 0) {
        fprintf(stderr, "clockctl_create: %s\n", strerror(-rc));
        rmdir(dir);
        return 1;
    }
    char file_env[sizeof(path) + 32];
    snprintf(file_env, sizeof(file_env), "%s=%s", CLOCKCTL_ENV, path);
    char *asan = (char *)"ASAN_OPTIONS=verify_asan_link_order=0";
    char *preload = (char *)"LD_PRELOAD=" CLOCK_LIB;
    char *const plain[] = {asan, NULL};
    char *const passthrough[] = {asan, preload, NULL};
    char *const faked[] = {asan, preload, file_env, NULL};

    rc = bench_run("no preload", CLOCK_PROBE, plain, n_arg, NULL);
    if (rc == 0)
        rc = bench_run("preload, no block (pass-through)", CLOCK_PROBE, passthrough, n_arg, NULL);
    if (rc == 0)
        rc = bench_run("preload, block at real time", CLOCK_PROBE, faked, n_arg, NULL);
    int64_t now = clockctl_real_now_ns();
    clockctl_set_offset(c, now, -3600 * CLOCKCTL_NS_PER_SEC);
    clockctl_drift(c, now, 1.5);
    if (rc == 0) {
        clockctl_set_monotonic(c, true);
        rc =
            bench_run("preload, offset + drift + monotonic faked", CLOCK_PROBE, faked, n_arg, NULL);
        clockctl_set_monotonic(c, false);
    }
    printf("reads counted by the block: %llu\n", (unsigned long long)clockctl_reads(c));
    /* The system-call route: fewer calls, each a round trip through eddy's thread. */
    char few[32];
    snprintf(few, sizeof(few), "%ld", EDDY_MAX(strtol(n_arg, NULL, 10) / 50, 1000L));
    char *const bare[] = {NULL};
    struct clocksys_child hidden = {.flags = 0, .trap = true, .trace = true};
    if (rc == 0)
        rc = bench_run("system calls (static probe, vDSO hidden, offset + drift), answered by eddy",
                       CLOCK_PROBE_STATIC, bare, few, &hidden);
    struct vdsomap_image image;
    char why[200];
    if (rc == 0 && vdsomap_load(CLOCK_VDSO, &image, why, sizeof(why)) == 0) {
        bench_plan = (struct clocksys_plan){
            .vdso = CLOCKSYS_VDSO_REPLACE, .image = &image, .block_path = path};
        rc = bench_run("eddy's vDSO (static probe, offset + drift), in the program",
                       CLOCK_PROBE_STATIC, bare, n_arg, &hidden);
        bench_plan = (struct clocksys_plan){.vdso = CLOCKSYS_VDSO_HIDE};
        vdsomap_free(&image);
    } else if (rc == 0) {
        fprintf(stderr, "eddy's vDSO: %s\n", why);
        rc = -ENOEXEC;
    }
    struct clocksys_child filter_only = {.flags = CLOCKTRAP_F_EXEC, .trap = true, .trace = false};
    if (rc == 0)
        rc = bench_run("filter only, vDSO kept (static probe: its vDSO reads, its getppid)",
                       CLOCK_PROBE_STATIC, bare, n_arg, &filter_only);
    if (rc == 0)
        rc = bench_run("no filter (static probe: the same calls)", CLOCK_PROBE_STATIC, bare, n_arg,
                       NULL);
    clockctl_destroy(c, path);
    rmdir(dir);
    return rc == 0 ? 0 : 1;
}
