/*
 * clockprobe.c: a stand-in node for the clock tests, and the benchmark's workload.
 *
 * For each line on stdin it answers one line "pid time_s tod_us realtime_ns timespec_get_ns
 * monotonic_ns" read through time(NULL), gettimeofday, clock_gettime(CLOCK_REALTIME),
 * timespec_get(TIME_UTC) and clock_gettime(CLOCK_MONOTONIC). A line "fork" is answered by a
 * forked child instead. `clockprobe bench N` times N calls of each clock function and prints
 * "name ns_per_call" lines, timing itself with the raw syscall so the preload cannot skew it.
 * Output goes through write(2), never stdio, so a forked child cannot duplicate buffered bytes.
 * Depends on: nothing. Used by: tests/sim/clock (test_clockctl, bench_clock).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static int probe_answer(void)
{
    struct timeval tv;
    struct timespec rt, tg, mono;
    time_t t = time(NULL);
    if (gettimeofday(&tv, NULL) != 0 || clock_gettime(CLOCK_REALTIME, &rt) != 0 ||
        timespec_get(&tg, TIME_UTC) != TIME_UTC || clock_gettime(CLOCK_MONOTONIC, &mono) != 0)
        return -1;
    /* A NULL tv with a non-NULL tz, and time() with a pointer, must work as well. glibc declares
     * tv non-null, so the call goes through a pointer the compiler cannot see through. */
    int (*volatile gtod)(struct timeval *restrict, void *restrict) = gettimeofday;
    struct timezone tz;
    time_t t2;
    if (gtod(NULL, &tz) != 0 || time(&t2) != t2)
        return -1;
    char out[160];
    int n = snprintf(out, sizeof(out), "%ld %lld %lld %lld %lld %lld\n", (long)getpid(),
                     (long long)t, (long long)tv.tv_sec * 1000000 + tv.tv_usec,
                     (long long)ts_ns(&rt), (long long)ts_ns(&tg), (long long)ts_ns(&mono));
    return write(STDOUT_FILENO, out, (size_t)n) == n ? 0 : -1;
}

static int probe_fork_answer(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(probe_answer() == 0 ? 0 : 1);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return 0;
}

static int64_t raw_monotonic_ns(void)
{
    struct timespec ts;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return ts_ns(&ts);
}

static void probe_bench(long n)
{
    static const struct {
        const char name[32];
        int kind;
    } cases[] = {
        {"clock_gettime_realtime", 0},
        {"clock_gettime_monotonic", 1},
        {"gettimeofday", 2},
        {"time", 3},
    };
    volatile int64_t sink = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t t0 = raw_monotonic_ns();
        for (long k = 0; k < n; k++) {
            struct timespec ts = {0, 0};
            struct timeval tv = {0, 0};
            switch (cases[i].kind) {
            case 0:
                clock_gettime(CLOCK_REALTIME, &ts);
                break;
            case 1:
                clock_gettime(CLOCK_MONOTONIC, &ts);
                break;
            case 2:
                gettimeofday(&tv, NULL);
                ts.tv_nsec = tv.tv_usec;
                break;
            default:
                ts.tv_sec = time(NULL);
                break;
            }
            sink += ts.tv_nsec;
        }
        int64_t t1 = raw_monotonic_ns();
        printf("%s %.1f\n", cases[i].name, (double)(t1 - t0) / (double)n);
    }
    (void)sink;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "bench") == 0) {
        long n = strtol(argv[2], NULL, 10);
        if (n <= 0)
            return 2;
        probe_bench(n);
        return 0;
    }
    char line[64];
    while (fgets(line, sizeof(line), stdin)) {
        int rc = strncmp(line, "fork", 4) == 0 ? probe_fork_answer() : probe_answer();
        if (rc != 0)
            return 1;
    }
    return 0;
}
