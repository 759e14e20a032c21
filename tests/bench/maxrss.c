/*
 * maxrss.c: runs a command and reports its peak resident set size and wall time.
 *
 *     maxrss CMD [ARGS...]        prints "maxrss_kb=N seconds=S" on stderr at the end
 *
 * A program's ru_maxrss includes what it held before exec, so measuring eddy-node from Python
 * (whose forked or vforked child briefly holds the interpreter's pages) reports Python's size;
 * this launcher is small, so the figure is the command's own.
 * Depends on: libc. Used by: tests/bench/bench.py.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: maxrss CMD [ARGS...]\n");
        return 2;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[1], argv + 1);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    fprintf(stderr, "maxrss_kb=%ld seconds=%.6f\n", ru.ru_maxrss,
            (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
