/*
 * test_spill.c: the append-only scratch file (spill.h): what is appended reads back the same
 * from memory or from disk, across block boundaries; a small spill never touches the disk; the
 * file leaves nothing behind; a full disk (a file-size limit: EFBIG) is kept and reported.
 * Depends on: spill, unitkit.h.
 */
#include "unitkit.h"
#include "spill.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Byte i of the test stream. */
static uint8_t pattern(uint64_t i)
{
    return (uint8_t)(i * 2654435761u >> 13);
}

static void fill(uint8_t *p, uint64_t at, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pattern(at + i);
}

static size_t entries_in(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

Test(spill, small_spills_stay_in_memory)
{
    char dir[256];
    tmp_dir_make(dir, sizeof(dir));
    struct spill *f = spill_new(dir, 2);
    uint8_t buf[1000];
    uint64_t at;
    cr_assert_eq(SPILL_BLOCK % sizeof(buf) != 0, true, "records straddle blocks");
    for (int i = 0; spill_size(f) + sizeof(buf) <= 2 * SPILL_BLOCK; i++) { /* the window */
        fill(buf, spill_size(f), sizeof(buf));
        cr_assert_eq(spill_append(f, buf, sizeof(buf), &at), 0);
        CHECK(at == (uint64_t)i * sizeof(buf), "offset %llu", (unsigned long long)at);
    }
    cr_expect_eq(spill_disk_bytes(f), 0, "nothing written while the window holds it all");
    const uint8_t *p = spill_peek(f, 12345, 100);
    cr_assert(p, "in the window");
    for (int i = 0; i < 100; i++)
        CHECK(p[i] == pattern(12345 + (uint64_t)i), "byte %d", i);
    cr_expect_null(spill_peek(f, SPILL_BLOCK - 10, 20), "straddles two blocks");
    uint8_t back[20];
    cr_assert_eq(spill_read(f, SPILL_BLOCK - 10, back, sizeof(back)), 0);
    for (int i = 0; i < 20; i++)
        CHECK(back[i] == pattern(SPILL_BLOCK - 10 + (uint64_t)i), "byte %d", i);
    spill_free(f);
    cr_expect_eq(entries_in(dir), 0, "no file");
    tmp_dir_remove(dir);
    ASSERT_NO_LEAKS();
}

Test(spill, what_leaves_the_window_reads_back_from_disk, .timeout = 120)
{
    char dir[256];
    tmp_dir_make(dir, sizeof(dir));
    struct spill *f = spill_new(dir, 2);
    enum { CHUNK = 100003 }; /* never a divisor of the block */
    uint8_t *buf = malloc(CHUNK);
    uint64_t at;
    while (spill_size(f) < 10ull * SPILL_BLOCK + 5) {
        fill(buf, spill_size(f), CHUNK);
        cr_assert_eq(spill_append(f, buf, CHUNK, &at), 0);
    }
    cr_expect_geq(spill_disk_bytes(f), 8ull * SPILL_BLOCK, "old blocks went to disk");
    cr_expect_eq(spill_disk_bytes(f) % SPILL_BLOCK, 0, "whole blocks");
    cr_expect_leq(spill_memory(f), 2 * SPILL_BLOCK + 4096, "the window stays two blocks");
    cr_expect_eq(entries_in(dir), 0, "the file has no name");
    /* Reads from the disk, across the disk/window boundary, and from the window. */
    uint64_t starts[] = {0, 3 * SPILL_BLOCK - 7, spill_disk_bytes(f) - 50000,
                         spill_size(f) - CHUNK};
    for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
        cr_assert_eq(spill_read(f, starts[k], buf, CHUNK), 0);
        for (size_t i = 0; i < CHUNK; i++)
            CHECK(buf[i] == pattern(starts[k] + i), "byte %llu",
                  (unsigned long long)(starts[k] + i));
    }
    cr_expect_null(spill_peek(f, 0, 10), "not in the window any more");
    free(buf);
    spill_free(f);
    tmp_dir_remove(dir);
    ASSERT_NO_LEAKS();
}

Test(spill, a_full_disk_is_kept_and_reported, .timeout = 120)
{
    signal(SIGXFSZ, SIG_IGN);
    char dir[256];
    tmp_dir_make(dir, sizeof(dir));
    struct rlimit lim = {.rlim_cur = 3 * SPILL_BLOCK, .rlim_max = RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    struct spill *f = spill_new(dir, 1);
    uint8_t buf[4096];
    uint64_t at;
    int rc = 0;
    while (rc == 0 && spill_size(f) < 10ull * SPILL_BLOCK) {
        fill(buf, spill_size(f), sizeof(buf));
        rc = spill_append(f, buf, sizeof(buf), &at);
    }
    cr_expect_eq(rc, -EFBIG, "the write error comes back: %d", rc);
    cr_expect_eq(spill_error(f), -EFBIG);
    cr_expect_eq(spill_append(f, buf, 1, &at), -EFBIG, "and every append after it fails");
    cr_expect_eq(spill_disk_bytes(f), 3ull * SPILL_BLOCK, "what fitted was written");
    cr_expect_eq(spill_read(f, 0, buf, 100), 0, "and reads back");
    cr_expect_eq(buf[99], pattern(99));
    /* The block that could not be written stays in its slot: nothing is appended any more, so
     * nothing overwrites it. */
    cr_expect_eq(spill_read(f, 3ull * SPILL_BLOCK, buf, 100), 0);
    cr_expect_eq(buf[99], pattern(3ull * SPILL_BLOCK + 99));
    spill_free(f);
    tmp_dir_remove(dir);
}
