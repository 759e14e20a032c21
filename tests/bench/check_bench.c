/*
 * check_bench.c: the checker thread's cost per op, with and without the ID properties.
 *
 *     check_bench [COUNT [off|on]]   default 3,000,000, both
 *
 * Feeds COUNT ok generate ops, with IDs made as three eddy-node processes make them (the
 * default strategy, nodes n0..n2 in turn, each op invoked 100 us before it completes), through
 * check_complete twice: once as the checker does with idprops off, once with them on
 * (check_track_id_properties), and prints the thread CPU time per op of each and the
 * difference: what measuring ID order and shape adds to the checker thread. With `off` or `on`
 * it runs that mode alone, once (for `perf stat`: instructions are steadier than time on a
 * shared machine).
 * Depends on: check, ids, json. Used by: tests/bench/bench.py.
 */
#include "check.h"
#include "eddy/ids.h"
#include "eddy/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run(size_t count, char *texts, size_t stride, const size_t *lens, bool props)
{
    static struct check c; /* large: not on the stack */
    check_init(&c, WORKLOAD_UNIQUE_IDS, 60);
    if (props)
        check_track_id_properties(&c, 3);
    double start = cpu_now();
    for (size_t i = 0; i < count; i++) {
        struct json_val v;
        if (json_scan(texts + i * stride, lens[i], true, &v, NULL) < 0)
            abort();
        int64_t t = (int64_t)i * 1500; /* about 660,000 ops/s */
        check_complete(&c, &(struct check_op){.type = OP_OK,
                                              .f = F_GENERATE,
                                              .invoke_ns = t,
                                              .complete_ns = t + 100000,
                                              .node = (uint32_t)(i % 3),
                                              .ref = i,
                                              .index = i,
                                              .value = &v});
    }
    double secs = cpu_now() - start;
    check_fini(&c);
    return secs * 1e9 / (double)count;
}

int main(int argc, char **argv)
{
    size_t count = argc > 1 ? strtoul(argv[1], NULL, 10) : 3000000;
    struct ids gen[3];
    static const char *const names[] = {"n0", "n1", "n2"};
    for (int i = 0; i < 3; i++)
        ids_init(&gen[i], &(struct ids_opts){.kind = IDS_EDDY, .node = names[i], .node_len = 2});
    size_t stride = IDS_TEXT_MAX;
    char *texts = malloc(count * stride);
    size_t *lens = malloc(count * sizeof(*lens));
    if (!texts || !lens)
        return 1;
    for (size_t i = 0; i < count; i++)
        lens[i] = ids_next(&gen[i % 3], texts + i * stride);
    if (argc > 2) {
        bool props = strcmp(argv[2], "on") == 0;
        printf("%.1f\n", run(count, texts, stride, lens, props));
        free(texts);
        free(lens);
        return 0;
    }
    /* Alternate, twice each, and keep the faster of each: the machine is shared. */
    double off = 1e9, on = 1e9;
    for (int k = 0; k < 2; k++) {
        double a = run(count, texts, stride, lens, false),
               b = run(count, texts, stride, lens, true);
        off = a < off ? a : off;
        on = b < on ? b : on;
    }
    printf("%.1f %.1f %.1f\n", off, on, on - off);
    fprintf(stderr, "check_bench: %zu ops: %.1f ns/op without ID properties, %.1f with, +%.1f\n",
            count, off, on, on - off);
    free(texts);
    free(lens);
    return 0;
}
