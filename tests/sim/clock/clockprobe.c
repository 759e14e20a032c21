/*
 * clockprobe.c: a stand-in node for the clock tests, and the benchmark's workload.
 *
 * For each line on stdin it answers one line "pid time_s tod_us realtime_ns timespec_get_ns
 * monotonic_ns" read through time(NULL), gettimeofday, clock_gettime(CLOCK_REALTIME),
 * timespec_get(TIME_UTC) and clock_gettime(CLOCK_MONOTONIC). A line "fork" is answered by a
 * forked child instead. `clockprobe bench N` times N calls of each clock function and prints
 * "name ns_per_call" lines, timing itself with the raw syscall so the preload cannot skew it.
 * Output goes through write(2), never stdio, so a forked child cannot duplicate buffered bytes.
 *
 * For the system-call route there are more requests, each answered with one line: "raw" reads
 * the three clocks through syscall(2) ("pid rt_ns tod_us time_s"); "efault" passes each call a
 * bad pointer and prints the three errnos ("efault E1 E2 E3"); "exec" makes the probe execute
 * itself again (the new image prints "execd pid" first); "flood T N" has T threads make N raw
 * clock_gettime calls each and prints "flood count min_ns max_ns".
 * Depends on: nothing. Used by: tests/sim/clock (test_preload, test_clocksys, bench_clock).
 */
#include <errno.h>
#include <pthread.h>
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

static int say(const char *out, int n)
{
    return n > 0 && write(STDOUT_FILENO, out, (size_t)n) == n ? 0 : -1;
}

static int probe_raw(void)
{
    struct timespec ts;
    struct timeval tv;
    if (syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts) != 0 ||
        syscall(SYS_gettimeofday, &tv, NULL) != 0)
        return -1;
    long t = syscall(SYS_time, NULL);
    char out[160];
    return say(out,
               snprintf(out, sizeof(out), "%ld %lld %lld %ld\n", (long)getpid(),
                        (long long)ts_ns(&ts), (long long)tv.tv_sec * 1000000 + tv.tv_usec, t));
}

/* Each call gets an address no program maps (the first page), as a bad pointer would. */
static int probe_efault(void)
{
    void *bad = (void *)16;
    errno = 0;
    long a = syscall(SYS_clock_gettime, CLOCK_REALTIME, bad);
    int ea = a < 0 ? errno : 0;
    errno = 0;
    long b = syscall(SYS_gettimeofday, bad, NULL);
    int eb = b < 0 ? errno : 0;
    errno = 0;
    long c = syscall(SYS_time, bad);
    int ec = c < 0 ? errno : 0;
    char out[64];
    return say(out, snprintf(out, sizeof(out), "efault %d %d %d\n", ea, eb, ec));
}

struct flood {
    pthread_t th;
    long n;
    int64_t min_ns, max_ns;
    long count;
};

static void *flood_run(void *arg)
{
    struct flood *f = arg;
    f->min_ns = INT64_MAX;
    f->max_ns = INT64_MIN;
    for (long i = 0; i < f->n; i++) {
        struct timespec ts;
        if (syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts) != 0)
            continue;
        int64_t v = ts_ns(&ts);
        f->min_ns = v < f->min_ns ? v : f->min_ns;
        f->max_ns = v > f->max_ns ? v : f->max_ns;
        f->count++;
    }
    return NULL;
}

static int probe_flood(const char *line)
{
    long threads = 0, n = 0;
    if (sscanf(line, "flood %ld %ld", &threads, &n) != 2 || threads < 1 || threads > 64 || n < 1)
        return -1;
    struct flood f[64];
    memset(f, 0, sizeof(f));
    for (long i = 0; i < threads; i++) {
        f[i].n = n;
        if (pthread_create(&f[i].th, NULL, flood_run, &f[i]) != 0)
            return -1;
    }
    long count = 0;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (long i = 0; i < threads; i++) {
        pthread_join(f[i].th, NULL);
        count += f[i].count;
        lo = f[i].min_ns < lo ? f[i].min_ns : lo;
        hi = f[i].max_ns > hi ? f[i].max_ns : hi;
    }
    char out[128];
    return say(out, snprintf(out, sizeof(out), "flood %ld %lld %lld\n", count, (long long)lo,
                             (long long)hi));
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
        {"clock_gettime_realtime", 0}, {"clock_gettime_monotonic", 1},
        {"gettimeofday", 2},           {"time", 3},
        {"getppid_syscall", 4},
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
            case 3:
                ts.tv_sec = time(NULL);
                break;
            default:
                /* Not a clock: what any other system call costs (with a filter, or without). */
                ts.tv_nsec = (long)syscall(SYS_getppid);
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
    if (argc == 2 && strcmp(argv[1], "execd") == 0) {
        char out[64];
        if (say(out, snprintf(out, sizeof(out), "execd %ld\n", (long)getpid())) < 0)
            return 1;
    }
    /* Unbuffered line reads: an "exec" must not take the next request with it. */
    char line[64];
    size_t len = 0;
    while (read(STDIN_FILENO, line + len, 1) == 1) {
        if (line[len] != '\n' && len + 1 < sizeof(line) - 1) {
            len++;
            continue;
        }
        line[len + 1] = '\0';
        len = 0;
        int rc;
        if (strncmp(line, "fork", 4) == 0)
            rc = probe_fork_answer();
        else if (strncmp(line, "raw", 3) == 0)
            rc = probe_raw();
        else if (strncmp(line, "efault", 6) == 0)
            rc = probe_efault();
        else if (strncmp(line, "flood", 5) == 0)
            rc = probe_flood(line);
        else if (strncmp(line, "exec", 4) == 0)
            rc = execl("/proc/self/exe", argv[0], "execd", (char *)NULL);
        else
            rc = probe_answer();
        if (rc != 0)
            return 1;
    }
    return 0;
}
