/*
 * hopper.c: descendants that try to outlive eddy, for test_hardening.py.
 *
 *   hopper NAME hop FILE   a chain: each generation adds one to the count in FILE (a shared
 *                          mapping: two native longs, the count and a stop flag), forks the
 *                          next, which calls setsid(), and exits at once, as fast as fork
 *                          allows
 *   hopper NAME deep N     N processes in a line, each the child of the one before, each in a
 *                          session of its own, all asleep, their pids going down where the
 *                          kernel allows: killing the top one by pid leaves N - 1, and so on
 *
 * Every process is named NAME (its comm in /proc), so that the test can count survivors.
 * Depends on: libc. Used by: tests/e2e/test_hardening.py.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

static void hop(const char *file)
{
    int fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || ftruncate(fd, 2 * sizeof(unsigned long)) < 0) {
        perror(file);
        exit(2);
    }
    /* count[0]: generations so far; count[1]: set by the test to end a chain that outlived
     * eddy (the next generation exits). */
    _Atomic unsigned long *count =
        mmap(NULL, 2 * sizeof(*count), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (count == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    for (;;) {
        atomic_fetch_add(&count[0], 1);
        if (atomic_load(&count[1]))
            _exit(0);
        if (fork() != 0)
            _exit(0); /* the parent, or a failed fork (the next try is the parent's parent's) */
        setsid();
    }
}

/* Asks for the next pid to be below ours, where the kernel lets us (root: ns_last_pid), so
 * that a line runs down the pid space: a scan of /proc in pid order that kills a process and
 * then meets its re-parented child later in the same pass never meets this one's. */
static void next_pid_below(void)
{
    int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    pid_t want = getpid() - 100;
    if (want > 400)
        dprintf(fd, "%d", (int)want);
    close(fd);
}

static void deep(int n)
{
    for (int i = 1; i < n; i++) {
        next_pid_below();
        pid_t pid = fork();
        if (pid < 0)
            break;
        if (pid > 0)
            break; /* the parent stays, asleep */
        setsid();
    }
    for (;;)
        pause();
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: hopper NAME hop FILE | hopper NAME deep N\n");
        return 2;
    }
    prctl(PR_SET_NAME, argv[1]);
    if (strcmp(argv[2], "hop") == 0)
        hop(argv[3]);
    else if (strcmp(argv[2], "deep") == 0)
        deep(atoi(argv[3]));
    return 2;
}
