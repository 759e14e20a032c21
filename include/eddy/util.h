/*
 * util.h: the few macros every module uses.
 *
 * ASSERT() stays on in every build type (CMake's Release adds -DNDEBUG, which would silence
 * assert()), because a broken invariant in a checker must stop the run rather than produce a
 * wrong verdict. container_of() recovers an owner from an embedded libev watcher.
 * Depends on: nothing. Used by: everything.
 */
#ifndef EDDY_UTIL_H
#define EDDY_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#define EDDY_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define EDDY_NORETURN __attribute__((noreturn))
#define EDDY_LIKELY(x) __builtin_expect(!!(x), 1)
#define EDDY_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Reports the failed condition with its location and aborts. */
EDDY_NORETURN void eddy_assert_fail(const char *cond, const char *file, int line);

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (EDDY_UNLIKELY(!(cond)))                                                                \
            eddy_assert_fail(#cond, __FILE__, __LINE__);                                           \
    } while (0)

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define EDDY_MIN(a, b) ((a) < (b) ? (a) : (b))
#define EDDY_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif /* EDDY_UTIL_H */
