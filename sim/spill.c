/*
 * spill.c: the append-only scratch file of spill.h.
 *
 * Offsets are file offsets. Block k covers [k * SPILL_BLOCK, (k + 1) * SPILL_BLOCK) and, while it
 * is one of the last `window` blocks, lives in memory slot k % window. A block is written out
 * when its slot is needed for block k + window, so the blocks in the window have not
 * necessarily reached the disk, and those before it all have. The slots are allocated once and
 * reused, so a long run pays no page faults for them after the first round.
 * Depends on: alloc. Used by: idset, check.
 */
#include "spill.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct spill {
    char *dir;
    int fd;          /* -1 until the first block leaves the window */
    uint8_t **slots; /* window memory, allocated as needed */
    size_t window;   /* slots */
    uint64_t size;   /* bytes appended */
    uint64_t disk;   /* bytes written to the file (whole blocks) */
    int error;       /* first error, negative errno */
};

struct spill *spill_new(const char *dir, size_t window_blocks)
{
    ASSERT(window_blocks >= 1);
    struct spill *f = xcalloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    f->dir = xstrdup(dir ? dir : tmp && *tmp ? tmp : "/tmp");
    f->fd = -1;
    f->window = window_blocks;
    f->slots = xcalloc(window_blocks, sizeof(*f->slots));
    return f;
}

void spill_free(struct spill *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    for (size_t i = 0; i < f->window; i++)
        free(f->slots[i]);
    free(f->slots);
    free(f->dir);
    free(f);
}

/* A nameless file in f->dir; where O_TMPFILE is not supported, a named one unlinked at once. */
static int open_file(struct spill *f)
{
    f->fd = open(f->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (f->fd >= 0)
        return 0;
    char path[4096];
    snprintf(path, sizeof(path), "%s/.eddy-spill-XXXXXX", f->dir);
    f->fd = mkostemp(path, O_CLOEXEC);
    if (f->fd < 0)
        return -errno;
    unlink(path);
    return 0;
}

static int write_block(struct spill *f, uint64_t k)
{
    if (f->fd < 0) {
        int rc = open_file(f);
        if (rc < 0)
            return rc;
    }
    const uint8_t *p = f->slots[k % f->window];
    size_t at = 0;
    while (at < SPILL_BLOCK) {
        ssize_t n = pwrite(f->fd, p + at, SPILL_BLOCK - at, (off_t)(k * SPILL_BLOCK + at));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        at += (size_t)n;
    }
    f->disk += SPILL_BLOCK;
    return 0;
}

/* Makes block k's slot ready to be filled: the block that held it goes to the disk first. */
static int enter_block(struct spill *f, uint64_t k)
{
    size_t slot = (size_t)(k % f->window);
    if (!f->slots[slot])
        f->slots[slot] = xmalloc(SPILL_BLOCK);
    else if (k >= f->window) {
        int rc = write_block(f, k - f->window);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int spill_append(struct spill *f, const void *p, size_t n, uint64_t *at)
{
    if (f->error)
        return f->error;
    *at = f->size;
    const uint8_t *src = p;
    while (n > 0) {
        uint64_t k = f->size / SPILL_BLOCK;
        size_t off = (size_t)(f->size % SPILL_BLOCK);
        if (off == 0) {
            int rc = enter_block(f, k);
            if (rc < 0) {
                f->error = rc;
                return rc;
            }
        }
        size_t take = EDDY_MIN(n, (size_t)SPILL_BLOCK - off);
        memcpy(f->slots[k % f->window] + off, src, take);
        src += take;
        n -= take;
        f->size += take;
    }
    return 0;
}

/* Block k is in memory when it is one of the last `window` blocks entered (the block holding
 * the last byte appended, and those before it); a block leaves when block k + window is
 * entered, which writes it out. */
static bool in_window(const struct spill *f, uint64_t k)
{
    if (f->size == 0)
        return false;
    uint64_t last = (f->size - 1) / SPILL_BLOCK;
    return k <= last && last - k < f->window;
}

const uint8_t *spill_peek(const struct spill *f, uint64_t at, size_t n)
{
    uint64_t k = at / SPILL_BLOCK;
    size_t off = (size_t)(at % SPILL_BLOCK);
    if (n == 0 || at + n > f->size || off + n > SPILL_BLOCK || !in_window(f, k))
        return NULL;
    return f->slots[k % f->window] + off;
}

int spill_read(struct spill *f, uint64_t at, void *dst, size_t n)
{
    ASSERT(at + n <= f->size);
    uint8_t *out = dst;
    while (n > 0) {
        uint64_t k = at / SPILL_BLOCK;
        size_t off = (size_t)(at % SPILL_BLOCK);
        size_t take = EDDY_MIN(n, (size_t)SPILL_BLOCK - off);
        if (in_window(f, k)) {
            memcpy(out, f->slots[k % f->window] + off, take);
        } else {
            if (f->fd < 0 || k * SPILL_BLOCK + SPILL_BLOCK > f->disk)
                return f->error ? f->error : -EIO; /* the block never reached the disk */
            size_t got = 0;
            while (got < take) {
                ssize_t r = pread(f->fd, out + got, take - got, (off_t)(at + got));
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0)
                    return r < 0 ? -errno : -EIO;
                got += (size_t)r;
            }
        }
        out += take;
        at += take;
        n -= take;
    }
    return 0;
}

uint64_t spill_size(const struct spill *f)
{
    return f->size;
}

uint64_t spill_disk_bytes(const struct spill *f)
{
    return f->disk;
}

size_t spill_memory(const struct spill *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->window; i++)
        n += f->slots[i] ? SPILL_BLOCK : 0;
    return n + f->window * sizeof(*f->slots) + sizeof(*f);
}

int spill_error(const struct spill *f)
{
    return f->error;
}
