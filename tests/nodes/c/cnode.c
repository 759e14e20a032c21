/*
 * cnode.c: a Gossip Glomers node for echo and unique-ids, written as a C user would write one,
 * for eddy's clock tests: a loop over stdin lines, a little string scanning, replies with write.
 *
 *     cnode [-ids unique|ms-seq] [-flood THREADS]
 *
 * Built twice (tests/nodes/CMakeLists.txt): cnode-static, linked statically, reads the wall clock
 * with clock_gettime (static glibc reads the vDSO itself: LD_PRELOAD never reaches it), and
 * cnode-raw, linked dynamically, reads it with syscall(SYS_clock_gettime), which no libc
 * function sees.
 *   unique   node id, 64 random bits drawn at start, a counter: unique under every fault
 *   ms-seq   node id, wall-clock milliseconds, a sequence within the millisecond, and no guard
 *            against a clock that goes back or replays: a clock fault repeats IDs
 *   -flood T starts T threads that read the clock as fast as they can, for ever
 * It handles only what eddy sends (one JSON object per line, string values without escaped
 * quotes in the fields it reads), as a quick user node would.
 * Depends on: libc. Used by: tests/e2e/test_clocks.py.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static char me[64];
static uint64_t incarnation, counter;
static int64_t last_ms = -1, seq;

static int64_t wall_ns(void)
{
    struct timespec ts = {0, 0};
#ifdef CNODE_RAW
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
#else
    clock_gettime(CLOCK_REALTIME, &ts);
#endif
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *flood(void *arg)
{
    volatile int64_t sink = 0;
    for (;;)
        sink += wall_ns();
    return arg;
}

/* The value after "key": in line, or NULL. */
static const char *value_of(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\"", key);
    /* A key is a quoted word followed by a colon; the same word as a value is not. */
    for (const char *p = strstr(line, pat); p; p = strstr(p + 1, pat)) {
        const char *v = p + strlen(pat);
        while (*v == ' ')
            v++;
        if (*v != ':')
            continue;
        v++;
        while (*v == ' ')
            v++;
        return v;
    }
    return NULL;
}

/* Copies the string value of key (quotes excluded) into out. */
static bool string_of(const char *line, const char *key, char *out, size_t cap)
{
    const char *p = value_of(line, key);
    if (!p || *p != '"')
        return false;
    const char *end = strchr(p + 1, '"');
    if (!end || (size_t)(end - p - 1) >= cap)
        return false;
    memcpy(out, p + 1, (size_t)(end - p - 1));
    out[end - p - 1] = '\0';
    return true;
}

/* The raw text of a JSON value starting at p (a string, or a scalar). */
static size_t value_len(const char *p)
{
    if (*p == '"') {
        size_t i = 1;
        while (p[i] && p[i] != '"')
            i += p[i] == '\\' && p[i + 1] ? 2 : 1;
        return p[i] ? i + 1 : i;
    }
    size_t i = 0;
    while (p[i] && p[i] != ',' && p[i] != '}')
        i++;
    return i;
}

static void reply(const char *src, long long msg_id, const char *body_rest)
{
    char out[1200];
    int n = snprintf(out, sizeof(out),
                     "{\"src\":\"%s\",\"dest\":\"%s\",\"body\":{%s,"
                     "\"in_reply_to\":%lld}}\n",
                     me, src, body_rest, msg_id);
    if (n > 0 && (size_t)n < sizeof(out) && write(STDOUT_FILENO, out, (size_t)n) != n)
        exit(1);
}

static void generate(char *out, size_t cap, bool ms_seq)
{
    if (!ms_seq) {
        snprintf(out, cap, "%s-%016" PRIx64 "-%" PRIu64, me, incarnation, ++counter);
        return;
    }
    int64_t ms = wall_ns() / 1000000;
    if (ms != last_ms) {
        last_ms = ms;
        seq = 0;
    }
    snprintf(out, cap, "%s-%" PRId64 "-%" PRId64, me, ms, ++seq);
}

static void handle(const char *line, bool ms_seq)
{
    char src[64], type[64], id[160], body[1100];
    const char *mid = value_of(line, "msg_id");
    if (!string_of(line, "src", src, sizeof(src)) || !string_of(line, "type", type, sizeof(type)) ||
        !mid)
        return;
    long long msg_id = strtoll(mid, NULL, 10);
    if (strcmp(type, "init") == 0) {
        if (!string_of(line, "node_id", me, sizeof(me)))
            return;
        reply(src, msg_id, "\"type\":\"init_ok\"");
    } else if (strcmp(type, "generate") == 0) {
        generate(id, sizeof(id), ms_seq);
        snprintf(body, sizeof(body), "\"type\":\"generate_ok\",\"id\":\"%s\"", id);
        reply(src, msg_id, body);
    } else if (strcmp(type, "echo") == 0) {
        const char *v = value_of(line, "echo");
        size_t n = v ? value_len(v) : 0;
        if (!v || n > 1000)
            return;
        snprintf(body, sizeof(body), "\"type\":\"echo_ok\",\"echo\":%.*s", (int)n, v);
        reply(src, msg_id, body);
    }
}

int main(int argc, char **argv)
{
    bool ms_seq = false;
    long threads = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-ids") == 0)
            ms_seq = strcmp(argv[i + 1], "ms-seq") == 0;
        else if (strcmp(argv[i], "-flood") == 0)
            threads = strtol(argv[i + 1], NULL, 10);
    }
    if (getrandom(&incarnation, sizeof(incarnation), 0) != (ssize_t)sizeof(incarnation))
        return 1;
    for (long t = 0; t < threads; t++) {
        pthread_t th;
        if (pthread_create(&th, NULL, flood, NULL) != 0)
            return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, stdin) > 0)
        handle(line, ms_seq);
    free(line);
    return 0;
}
