/*
 * main.c: eddy-node's command line.
 *
 *     eddy-node [--ids NAME | NAME]      (or EDDY_IDS=NAME in the environment)
 *
 * Maelstrom passes the non-option words after its options on to the node, so the strategy can
 * be chosen per run without recompiling: `maelstrom test ... --bin eddy-node counter`, or
 * `maelstrom test ... --bin eddy-node -- --ids counter`.
 * Depends on: node, io, ids. Used by: nobody (entry point).
 */
#include "io.h"
#include "node.h"
#include "eddy/ids.h"
#include "eddy_commit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef EDDY_VERSION
#define EDDY_VERSION "0.0.0"
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: eddy-node [--ids NAME | NAME]\n"
               "\n"
               "A Maelstrom node for the echo and unique-ids workloads. It reads one JSON\n"
               "message per line on stdin and writes replies on stdout; logs go to stderr.\n"
               "\n"
               "  --ids NAME   ID strategy (default: eddy, or $EDDY_IDS when set):\n");
    for (int k = 0; k < IDS_KIND_COUNT; k++)
        fprintf(f, "      %-18s %s\n", ids_kind_name((enum ids_kind)k),
                ids_kind_doc((enum ids_kind)k));
    fprintf(f, "  --help       this text\n"
               "  --version    print the version\n");
}

static int parse_ids(const char *name, const char *from, enum ids_kind *out)
{
    if (ids_kind_parse(name, out) == 0)
        return 0;
    fprintf(stderr, "eddy-node: unknown ID strategy '%s' in %s (try --help)\n", name, from);
    return -1;
}

int main(int argc, char **argv)
{
    enum ids_kind kind = IDS_EDDY;
    const char *env = getenv("EDDY_IDS");
    if (env && *env && parse_ids(env, "EDDY_IDS", &kind) < 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("eddy-node %s%s%s%s\n", EDDY_VERSION, *EDDY_COMMIT ? " (git " : "", EDDY_COMMIT,
                   *EDDY_COMMIT ? ")" : "");
            return 0;
        }
        if (strcmp(argv[i], "--ids") == 0 && i + 1 < argc) {
            if (parse_ids(argv[++i], "--ids", &kind) < 0)
                return 2;
            continue;
        }
        if (strncmp(argv[i], "--ids=", 6) == 0) {
            if (parse_ids(argv[i] + 6, "--ids", &kind) < 0)
                return 2;
            continue;
        }
        /* A bare strategy name: Maelstrom passes the words after --bin PATH to the node, and
         * `--bin eddy-node counter` is the shortest way to choose one there. */
        if (argv[i][0] != '-' && parse_ids(argv[i], "the arguments", &kind) == 0)
            continue;
        if (argv[i][0] != '-')
            return 2;
        fprintf(stderr, "eddy-node: unknown argument '%s' (try --help)\n", argv[i]);
        return 2;
    }
    struct node n;
    node_init(&n, &(struct node_opts){.ids = kind});
    return io_run(&n, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO);
}
