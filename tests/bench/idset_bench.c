/*
 * idset_bench.c: the unique-ids checker's memory per ID, measured exactly.
 *
 *     idset_bench [COUNT] [ID_BYTES] [DIR]    defaults: 10,000,000, eddy-node's IDs, $TMPDIR
 *
 * Generates COUNT IDs as three eddy-node processes would (the default strategy, nodes n0..n2,
 * in turn), padded to ID_BYTES if given (64 KB IDs: 65536), adds each to the checker's ID set
 * at its default budget (spill files in DIR), and prints: the bytes of slots per ID at COUNT and
 * the most on the way, the set's memory in all (slots plus the fixed window of recent entries),
 * what went to disk, and the insertion rate.
 * Depends on: ids, idset, json. Used by: tests/bench/bench.py.
 */
#include "idset.h"
#include "eddy/ids.h"
#include "eddy/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    size_t count = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000000;
    size_t id_bytes = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
    const char *dir = argc > 3 ? argv[3] : NULL;
    struct ids gen[3];
    static const char *const names[] = {"n0", "n1", "n2"};
    for (int i = 0; i < 3; i++)
        ids_init(&gen[i], &(struct ids_opts){.kind = IDS_EDDY, .node = names[i], .node_len = 2});
    struct idset *s = idset_new(&(struct idset_opts){.dir = dir});
    char *text = malloc(id_bytes > IDS_TEXT_MAX ? id_bytes : IDS_TEXT_MAX);
    double worst = 0, start = now();
    for (size_t i = 0; i < count; i++) {
        size_t n = ids_next(&gen[i % 3], text);
        if (id_bytes > n) {
            /* The same ID, padded inside its quotes to id_bytes in all. */
            memset(text + n - 1, 'x', id_bytes - n);
            text[id_bytes - 1] = '"';
            n = id_bytes;
        }
        struct json_val v;
        if (json_scan(text, n, true, &v, NULL) < 0)
            return 1;
        uint64_t entry;
        if (idset_add(s, &v, &(struct idset_op){.ref = i, .index = i}, &entry) != 0)
            return 1; /* a duplicate, an ID too long or a full disk: none may happen */
        if (i > count / 10 && (i & 0xFFF) == 0) {
            double per = (double)idset_table_bytes(s) / (double)idset_count(s);
            worst = per > worst ? per : worst;
        }
    }
    double took = now() - start;
    size_t ids = idset_count(s);
    printf("ids=%zu id_bytes=%zu bytes_per_id=%.1f worst_bytes_per_id=%.1f memory_bytes=%zu "
           "fixed_bytes=%zu disk_bytes=%llu inserts_per_s=%.0f\n",
           ids, id_bytes, (double)idset_table_bytes(s) / (double)ids, worst, idset_bytes(s),
           idset_bytes(s) - idset_table_bytes(s), (unsigned long long)idset_disk_bytes(s),
           (double)count / took);
    free(text);
    idset_free(s);
    return 0;
}
