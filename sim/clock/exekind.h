/*
 * exekind.h: what kind of program a file holds, for choosing a node's clock route.
 *
 * The preload library reaches a program only if the dynamic loader runs it and the program reads
 * the clock through libc. So eddy needs to know, before it starts a node: is the file a script
 * (and what is its interpreter), an ELF for this machine, with or without a program interpreter
 * (PT_INTERP), and is it a Go program (a Go build-ID note or a .go.buildinfo section), whose
 * runtime reads the vDSO itself even when it is dynamically linked. The classification reads the
 * file through a callback, so that tests and the fuzzer can hand it any bytes.
 * Depends on: util. Used by: clockroute (sim), tests/sim/clock.
 */
#ifndef EDDY_EXEKIND_H
#define EDDY_EXEKIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum exekind_type {
    EXEKIND_UNKNOWN, /* not a script, not an ELF for this machine */
    EXEKIND_SCRIPT,  /* "#!": interp holds the interpreter */
    EXEKIND_STATIC,  /* ELF without PT_INTERP (static, static-pie) */
    EXEKIND_DYNAMIC, /* ELF with PT_INTERP: the dynamic loader runs it */
};

#define EXEKIND_INTERP_MAX 256 /* the kernel reads the first 256 bytes of a script */
#define EXEKIND_SCRIPT_DEPTH 4 /* the kernel follows at most this many interpreters */

struct exekind {
    enum exekind_type type;
    bool go;                         /* a Go program */
    char interp[EXEKIND_INTERP_MAX]; /* SCRIPT: the interpreter's path, as written */
};

/* Reads up to len bytes at offset off into buf: the count read (short at the end of the file),
 * or a negative errno. */
typedef long exekind_read_fn(void *ctx, uint64_t off, void *buf, size_t len);

/* Classifies the file that read() reads. 0 with *out filled (EXEKIND_UNKNOWN included), or the
 * negative errno of a failed read. Bounded work whatever the bytes: at most 256 program headers,
 * 4096 section headers, 64 KiB of notes and of section names are looked at. */
int exekind_classify(exekind_read_fn *read, void *ctx, struct exekind *out);

/* Classifies the file at path, following script interpreters as the kernel does (up to
 * EXEKIND_SCRIPT_DEPTH): *out describes the program that actually runs, and `script` (if not
 * NULL) is set when path was a script. 0, or a negative errno (the file or an interpreter cannot
 * be opened or read). */
int exekind_file(const char *path, struct exekind *out, bool *script);

/* A few words for the report: "a static binary", "a Go program (dynamically linked)"... */
const char *exekind_describe(const struct exekind *k);

#endif /* EDDY_EXEKIND_H */
