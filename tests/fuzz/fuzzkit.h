/*
 * fuzzkit.h: what the libFuzzer targets share (header-only, everything static inline).
 *
 * A target states its invariants with FUZZ_CHECK, which prints the broken condition and calls
 * abort(), so that libFuzzer records a crash and saves the input. Each target defines its entry
 * point as FUZZ_ENTRY: LLVMFuzzerTestOneInput in the fuzzing build, and a per-target name when
 * test_fuzz_regressions links all the targets into one Criterion program (no libFuzzer there).
 * Depends on: libc. Used by: tests/fuzz/fuzz_*.c, test_fuzz_regressions.c.
 */
#ifndef EDDY_TESTS_FUZZ_FUZZKIT_H
#define EDDY_TESTS_FUZZ_FUZZKIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

/* The libFuzzer contract: returns 0 (the input may join the corpus). Aborts on a broken
 * invariant. `data` is only read. */
int FUZZ_ENTRY(const uint8_t *data, size_t size);

/* Reports a broken invariant and aborts; never returns. */
__attribute__((noreturn, format(printf, 4, 5))) static inline void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n  ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

/* Aborts with the message when cond is false. The message arguments are required. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                     \
    } while (0)

/* Length for "%.*s" when quoting an input in a message. */
#define FUZZ_CLIP(len) ((int)((len) < 300 ? (len) : 300))

#endif /* EDDY_TESTS_FUZZ_FUZZKIT_H */
