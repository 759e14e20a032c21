/*
 * pipe_bench.c: the ceiling eddy is measured against: round trips of Maelstrom-sized JSON lines
 * between two processes over pipes, batched, with no JSON work at all.
 *
 *     pipe_bench SECONDS WINDOW
 *
 * The parent keeps WINDOW request lines in flight (as eddy's workers do); the child reads
 * whatever has arrived, writes a reply line for every complete request line (framed with
 * memchr, as any line protocol must be), and the parent counts replies and refills the window.
 * Both sides use the same 1 MiB pipes and large reads and writes as eddy, so the figure is what
 * the kernel's pipes allow for this traffic shape. Prints "round trips/s".
 * Depends on: libc. Used by: tests/bench/bench.py.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char request[] = "{\"id\":123456,\"src\":\"c12\",\"dest\":\"n1\",\"body\":{\"type\":"
                              "\"generate\",\"msg_id\":4567}}\n";
static const char reply[] =
    "{\"src\":\"n1\",\"dest\":\"c12\",\"body\":{\"type\":\"generate_ok\",\"id\":"
    "\"01M84W6H7521D2454G81JK10000-n1\",\"in_reply_to\":4567}}\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            exit(1);
        p += k;
        n -= (size_t)k;
    }
}

/* Echo side: one reply per complete request line. */
static void child(int in, int out)
{
    static char buf[1 << 20];
    static char obuf[4 << 20];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(in, buf + have, sizeof(buf) - have);
        if (n <= 0)
            _exit(0);
        have += (size_t)n;
        size_t at = 0, o = 0;
        char *nl;
        while ((nl = memchr(buf + at, '\n', have - at))) {
            memcpy(obuf + o, reply, sizeof(reply) - 1);
            o += sizeof(reply) - 1;
            at = (size_t)(nl - buf) + 1;
        }
        memmove(buf, buf + at, have - at);
        have -= at;
        write_all(out, obuf, o);
    }
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 5;
    long window = argc > 2 ? atol(argv[2]) : 300;
    int to_child[2], from_child[2];
    if (pipe(to_child) < 0 || pipe(from_child) < 0)
        return 1;
    fcntl(to_child[1], F_SETPIPE_SZ, 1 << 20);
    fcntl(from_child[1], F_SETPIPE_SZ, 1 << 20);
    pid_t pid = fork();
    if (pid == 0) {
        close(to_child[1]);
        close(from_child[0]);
        child(to_child[0], from_child[1]);
    }
    close(to_child[0]);
    close(from_child[1]);
    static char out[4 << 20];
    static char in[1 << 20];
    long in_flight = 0, done = 0;
    size_t have = 0;
    double start = now(), end = start + seconds;
    while (now() < end) {
        size_t o = 0;
        while (in_flight < window) {
            memcpy(out + o, request, sizeof(request) - 1);
            o += sizeof(request) - 1;
            in_flight++;
        }
        if (o)
            write_all(to_child[1], out, o);
        ssize_t n = read(from_child[0], in + have, sizeof(in) - have);
        if (n <= 0)
            return 1;
        have += (size_t)n;
        size_t at = 0;
        char *nl;
        while ((nl = memchr(in + at, '\n', have - at))) {
            done++;
            in_flight--;
            at = (size_t)(nl - in) + 1;
        }
        memmove(in, in + at, have - at);
        have -= at;
    }
    double took = now() - start;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    printf("%.0f round trips/s (%ld in %.2f s, window %ld)\n", (double)done / took, done, took,
           window);
    return 0;
}
