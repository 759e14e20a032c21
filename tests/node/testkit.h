/*
 * testkit.h: helpers shared by the node test suites (header-only, everything static).
 *
 * guard_place() copies an input so that its last byte is the last readable byte before a
 * PROT_NONE page, the picohttpparser technique: a parser that reads even one byte past the end
 * of its input faults instead of passing by luck. ASSERT_NO_LEAKS() makes a leak fail the test
 * under LeakSanitizer (Criterion alone only prints it) and is a no-op in other builds.
 * Depends on: Criterion, libc. Used by: tests/node/test_*.c.
 */
#ifndef EDDY_TESTS_NODE_TESTKIT_H
#define EDDY_TESTS_NODE_TESTKIT_H

#include <criterion/criterion.h>

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define ASSERT_NO_LEAKS() cr_assert(__lsan_do_recoverable_leak_check() == 0, "memory leaked")
#else
#define ASSERT_NO_LEAKS() ((void)0)
#endif

/* Criterion sends every passing cr_assert to the runner process as a message; loops that check
 * millions of values use CHECK, which reports only failures. The message arguments are
 * required. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            cr_assert_fail(__VA_ARGS__);                                                           \
    } while (0)

/* Length for "%.*s" when quoting test output in a failure message: Criterion hangs sending a
 * message of megabytes to its runner, so quotes stop at 2000 bytes. */
#define CLIP(len) ((int)((len) < 2000 ? (len) : 2000))

/* A mapping whose readable part ends exactly where a PROT_NONE page begins. */
struct guard {
    char *map;      /* start of the mapping */
    size_t map_len; /* readable pages + the guard page, in bytes */
    char *guard;    /* first byte of the PROT_NONE page */
};

/* Maps room for `n` bytes ending at the guard page and returns where they start (guard - n).
 * The bytes are left as mmap gives them (zero); see guard_place to copy an input there. */
static inline char *guard_alloc(struct guard *g, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t readable = (n + page - 1) / page * page;
    if (readable == 0)
        readable = page;
    g->map_len = readable + page;
    g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(g->map != MAP_FAILED, "mmap failed");
    g->guard = g->map + readable;
    CHECK(mprotect(g->guard, page, PROT_NONE) == 0, "mprotect failed");
    return g->guard - n;
}

/* Copies data[0..n) so that its last byte is the last readable byte; returns the copy. */
static inline char *guard_place(struct guard *g, const void *data, size_t n)
{
    char *p = guard_alloc(g, n);
    if (n > 0)
        memcpy(p, data, n);
    return p;
}

static inline void guard_free(struct guard *g)
{
    munmap(g->map, g->map_len);
    g->map = NULL;
}

/* Number of '\n' bytes in p[0..n). */
static inline size_t count_lines(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += p[i] == '\n';
    return k;
}

#endif /* EDDY_TESTS_NODE_TESTKIT_H */
