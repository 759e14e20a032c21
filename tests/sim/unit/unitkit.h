/*
 * unitkit.h: helpers shared by the unit suites of the simulator's pure modules (header-only,
 * everything static).
 *
 * ASSERT_NO_LEAKS() makes a leak fail the test under LeakSanitizer (Criterion alone only prints
 * it) and is a no-op in other builds. CHECK() reports only failures, for loops over millions of
 * values (every passing cr_assert costs a message to the runner). scan() turns a C string into a
 * scanned JSON value, and the tmp_* helpers give each test a private mkdtemp() directory.
 * Depends on: Criterion, json, libc. Used by: tests/sim/unit/test_*.c.
 */
#ifndef EDDY_TESTS_SIM_UNIT_UNITKIT_H
#define EDDY_TESTS_SIM_UNIT_UNITKIT_H

#include "eddy/json.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define ASSERT_NO_LEAKS() cr_assert(__lsan_do_recoverable_leak_check() == 0, "memory leaked")
#else
#define ASSERT_NO_LEAKS() ((void)0)
#endif

/* An assertion that reports only failures. The message arguments are required. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            cr_assert_fail(__VA_ARGS__);                                                           \
    } while (0)

/* Scans the whole of `text` as one JSON value; the value points into text. */
static inline struct json_val scan(const char *text)
{
    struct json_val v = {0};
    struct json_err e = {0};
    ssize_t n = json_scan(text, strlen(text), true, &v, &e);
    CHECK(n > 0, "test input is not JSON: %s (%s at %zu)", text, e.what ? e.what : "?", e.offset);
    return v;
}

/* A private temporary directory, removed with everything in it by tmp_dir_remove(). */
static inline void tmp_dir_make(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/eddy-unit-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp failed for %s", dir);
}

static inline void tmp_dir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char path[4096];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Reads a whole file into a NUL-terminated malloc'd buffer (NULL if it cannot be read). */
static inline char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *p = malloc(cap);
    size_t k;
    while ((k = fread(p + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n - 1 == 0) {
            cap *= 2;
            p = realloc(p, cap);
        }
    }
    fclose(f);
    p[n] = '\0';
    *len = n;
    return p;
}

/* Writes text to dir/name and returns the path in out. */
static inline void write_file(const char *dir, const char *name, const char *text, char *out,
                              size_t cap)
{
    snprintf(out, cap, "%s/%s", dir, name);
    FILE *f = fopen(out, "wb");
    CHECK(f != NULL, "cannot create %s", out);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
}

#endif /* EDDY_TESTS_SIM_UNIT_UNITKIT_H */
