/*
 * bench_clock.c: what libeddyclock.so costs per clock read (a benchmark, not a test).
 *
 * Runs `clock_probe bench N` four times: without the library, with it but no block (the
 * pass-through every non-faked process pays), with a block at the real clock, and with a block
 * holding an offset, a drift and monotonic faking (the most work per read). Prints ns per call.
 * Usage: clock_bench [N], N defaulting to 5,000,000 calls per function.
 * Depends on: clockctl. Used by: people reading README's figures.
 */
#include "eddy/clockctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int bench_run(const char *title, char *const envp[], const char *n_arg)
{
    int out[2];
    if (pipe(out) != 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        char *const argv[] = {(char *)CLOCK_PROBE, (char *)"bench", (char *)n_arg, NULL};
        execve(CLOCK_PROBE, argv, envp);
        _exit(127);
    }
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    char line[128];
    printf("%s\n", title);
    while (f && fgets(line, sizeof(line), f))
        printf("    %s", line);
    if (f)
        fclose(f);
    int status;
    waitpid(pid, &status, 0);
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

    rc = bench_run("no preload", plain, n_arg);
    if (rc == 0)
        rc = bench_run("preload, no block (pass-through)", passthrough, n_arg);
    if (rc == 0)
        rc = bench_run("preload, block at real time", faked, n_arg);
    if (rc == 0) {
        int64_t now = clockctl_real_now_ns();
        clockctl_set_offset(c, now, -3600 * CLOCKCTL_NS_PER_SEC);
        clockctl_drift(c, now, 1.5);
        clockctl_set_monotonic(c, true);
        rc = bench_run("preload, offset + drift + monotonic faked", faked, n_arg);
    }
    printf("reads counted by the block: %llu\n", (unsigned long long)clockctl_reads(c));
    clockctl_destroy(c, path);
    rmdir(dir);
    return rc == 0 ? 0 : 1;
}
