/*
 * spill.h: an append-only scratch file whose most recent bytes stay in memory.
 *
 * What the checker would otherwise keep in memory (each ID's bytes, sorted runs of
 * fingerprints) goes here: appended through blocks of SPILL_BLOCK bytes, of which the last
 * few stay in memory as a window, so that recent bytes read back without a system call and a
 * small run never touches the disk at all (the file is created when the first block leaves the
 * window). The file is nameless (O_TMPFILE) in the directory given, so it takes the run
 * directory's disk and vanishes with the process, whatever the exit path. A write error (a full
 * disk) is kept and reported, and every later append fails with it: nothing is silently lost.
 * Depends on: alloc. Used by: idset, check.
 */
#ifndef EDDY_SIM_SPILL_H
#define EDDY_SIM_SPILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPILL_BLOCK (256u << 10)

struct spill;

/* A spill whose file will live in dir (NULL: $TMPDIR or /tmp), keeping the last
 * window_blocks (>= 1) blocks in memory. Nothing is created on disk yet. */
struct spill *spill_new(const char *dir, size_t window_blocks);
void spill_free(struct spill *f);

/* Appends n bytes; *at gets their offset. 0, or the negative errno of the first write error
 * (then nothing is appended, now or later). */
int spill_append(struct spill *f, const void *p, size_t n, uint64_t *at);

/* Room for n (<= SPILL_BLOCK) contiguous bytes at the end: returns where to write them and their
 * offset in *at, or NULL after a write error. Follow with spill_commit(f, n) before any other
 * call. */
uint8_t *spill_reserve(struct spill *f, size_t n, uint64_t *at);
void spill_commit(struct spill *f, size_t n);

/* Reads n bytes at offset at (< spill_size) into dst. 0, or a negative errno. */
int spill_read(struct spill *f, uint64_t at, void *dst, size_t n);

/* The n bytes at offset at if they lie in one block of the window (valid until the next append),
 * else NULL: spill_read them. */
const uint8_t *spill_peek(const struct spill *f, uint64_t at, size_t n);

uint64_t spill_size(const struct spill *f);       /* bytes appended */
uint64_t spill_disk_bytes(const struct spill *f); /* of those, bytes written to the file */
size_t spill_memory(const struct spill *f);       /* bytes of memory it holds */
int spill_error(const struct spill *f);           /* the first write error, or 0 */

#endif /* EDDY_SIM_SPILL_H */
