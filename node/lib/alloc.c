/*
 * alloc.c: xmalloc & co, and the process-wide assertion handler.
 *
 * Both abort: exhaustion and broken invariants leave nothing worth saving, and an abort leaves a
 * core and a clear last line on stderr.
 * Depends on: util. Used by: every module.
 */
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

EDDY_NORETURN static void alloc_fail(size_t size)
{
    /* fprintf may itself allocate; a fixed message through write(2) cannot. */
    static const char msg[] = "eddy: out of memory\n";
    (void)size;
    ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)n;
    abort();
}

void eddy_assert_fail(const char *cond, const char *file, int line)
{
    fprintf(stderr, "eddy: assertion failed: %s (%s:%d)\n", cond, file, line);
    fflush(stderr);
    abort();
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        alloc_fail(size);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        alloc_fail(count * size);
    return p;
}

void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        alloc_fail(size);
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t len)
{
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
