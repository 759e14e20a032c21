/*
 * idset_bench.c: the unique-ids checker's memory, measured exactly.
 *
 *     idset_bench [COUNT]        default 10,000,000
 *
 * Generates COUNT IDs as three eddy-node processes would (the default strategy, nodes n0..n2,
 * in turn), adds each to the checker's exact set, and prints the set's bytes per ID at COUNT,
 * the most it reached per ID on the way (while growing it briefly holds two tables), and the
 * insertion rate.
 * Depends on: ids, idset, json. Used by: tests/bench/bench.py.
 */
#include "idset.h"
#include "eddy/ids.h"
#include "eddy/json.h"

#include <stdio.h>
#include <stdlib.h>
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
    struct ids gen[3];
    static const char *const names[] = {"n0", "n1", "n2"};
    for (int i = 0; i < 3; i++)
        ids_init(&gen[i], &(struct ids_opts){.kind = IDS_EDDY, .node = names[i], .node_len = 2});
    struct idset *s = idset_new();
    double worst = 0, start = now();
    for (size_t i = 0; i < count; i++) {
        char text[IDS_TEXT_MAX];
        size_t n = ids_next(&gen[i % 3], text);
        struct json_val v;
        if (json_scan(text, n, true, &v, NULL) < 0)
            return 1;
        uint64_t first, entry;
        if (idset_add(s, &v, i, &first, &entry) != 0)
            return 1; /* a duplicate, or an ID too long: neither may happen */
        if ((i & 0xFFFF) == 0 && i > 1000000) {
            double per = (double)idset_bytes(s) / (double)idset_count(s);
            worst = per > worst ? per : worst;
        }
    }
    double took = now() - start;
    printf("ids=%zu bytes_per_id=%.1f worst_bytes_per_id=%.1f inserts_per_s=%.0f\n", idset_count(s),
           (double)idset_bytes(s) / (double)idset_count(s), worst, (double)count / took);
    idset_free(s);
    return 0;
}
