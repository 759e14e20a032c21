/*
 * options.c: the option table of `eddy test` (see options.h).
 *
 * The rows follow `maelstrom test`: Jepsen's test-opt-spec (jepsen src/jepsen/cli.clj at 0.3.7)
 * merged with Maelstrom's test-opt-spec and opt-spec (maelstrom src/maelstrom/core.clj), with
 * their value names and defaults; eddy's own rows come last. Help texts are eddy's words.
 * Depends on: nothing. Used by: cli.
 */
#include "options.h"
#include "eddy/util.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ==== The table ==== */

#define SSH_NOTE                                                                                   \
    "eddy runs every node as a local process and never uses SSH (Maelstrom does not either)"
#define TXN_NOTE                                                                                   \
    "is for Maelstrom's transactional and kafka workloads; echo and unique-ids ignore it"

/* In --help order: Maelstrom's options as `maelstrom test --help` groups them, then eddy's. */
static const struct option_spec options[] = {
    {"--workload", "-w", "NAME", NULL,
     "echo or unique-ids (required: Maelstrom's default lin-kv is not simulated)", OPTION_MAELSTROM,
     NULL, OPT_WORKLOAD},
    {"--bin", NULL, "FILE", NULL,
     "the node binary, made absolute against the working directory and run with an argv, never a "
     "shell (required)",
     OPTION_MAELSTROM, NULL, OPT_BIN},
    {"--node-count", NULL, "NUM", NULL,
     "run nodes n0..n(NUM-1); replaces --nodes (--node and --nodes-file add to it)",
     OPTION_MAELSTROM, NULL, OPT_NODE_COUNT},
    {"--nodes", NULL, "NODE_LIST", NULL, "comma-separated node names (the last --nodes counts)",
     OPTION_MAELSTROM, NULL, OPT_NODES},
    {"--node", "-n", "NAME", "n1..n5", "a node name; repeat the option for more nodes",
     OPTION_MAELSTROM, NULL, OPT_NODE},
    {"--nodes-file", NULL, "FILENAME", NULL, "a file of node names, one per line", OPTION_MAELSTROM,
     NULL, OPT_NODES_FILE},
    {"--time-limit", NULL, "SECONDS", "60",
     "length of the client phase (eddy also takes fractions)", OPTION_MAELSTROM, NULL,
     OPT_TIME_LIMIT},
    {"--rate", NULL, "RATE", "5",
     "requests per second; 0 for none; max (eddy's) for as fast as the nodes answer",
     OPTION_MAELSTROM, NULL, OPT_RATE},
    {"--concurrency", NULL, "NUMBER", "1n", "client workers: an integer, or Nn for N per node",
     OPTION_MAELSTROM, NULL, OPT_CONCURRENCY},
    {"--latency", NULL, "MILLIS", "0", "mean inter-node latency, integer milliseconds",
     OPTION_MAELSTROM, NULL, OPT_LATENCY},
    {"--latency-dist", NULL, "TYPE", "constant", "constant, uniform or exponential",
     OPTION_MAELSTROM, NULL, OPT_LATENCY_DIST},
    {"--nemesis", NULL, "FAULTS", NULL,
     "comma-separated faults: partition (Maelstrom's), and eddy's clock, kill, pause, loss, "
     "duplicate",
     OPTION_MAELSTROM, NULL, OPT_NEMESIS},
    {"--nemesis-interval", NULL, "SECONDS", "10",
     "mean seconds between fault operations (a number or a ratio like 1/2)", OPTION_MAELSTROM, NULL,
     OPT_NEMESIS_INTERVAL},
    {"--availability", NULL, "EXPECTED", NULL,
     "total, or the fraction of ops (0 to 1, or a ratio) that must be ok; unchecked when absent",
     OPTION_MAELSTROM, NULL, OPT_AVAILABILITY},
    {"--log-stderr", NULL, NULL, NULL, "copy node stderr to the console", OPTION_MAELSTROM, NULL,
     OPT_LOG_STDERR},
    {"--log-net-send", NULL, NULL, NULL, "print every message as it is sent", OPTION_MAELSTROM,
     NULL, OPT_LOG_NET_SEND},
    {"--log-net-recv", NULL, NULL, NULL, "print every message as it is delivered", OPTION_MAELSTROM,
     NULL, OPT_LOG_NET_RECV},
    {"--test-count", NULL, "NUMBER", "1",
     "run the test NUMBER times, each into its own run directory, stopping at the first run that "
     "is not valid",
     OPTION_MAELSTROM, NULL, OPT_TEST_COUNT},
    {"--topology", NULL, "SPEC", "grid", "line, grid, tree, tree2, tree3, tree4 or total",
     OPTION_MAELSTROM,
     "--topology is for Maelstrom's broadcast workload; echo and unique-ids ignore it",
     OPT_TOPOLOGY},
    {"--consistency-models", NULL, "MODELS", "strict-serializable", "consistency models to check",
     OPTION_MAELSTROM, "--consistency-models " TXN_NOTE, OPT_CONSISTENCY_MODELS},
    {"--key-count", NULL, "INT", NULL, "keys per transaction test", OPTION_MAELSTROM,
     "--key-count " TXN_NOTE, OPT_KEY_COUNT},
    {"--max-txn-length", NULL, "INT", "4", "most operations per transaction", OPTION_MAELSTROM,
     "--max-txn-length " TXN_NOTE, OPT_MAX_TXN_LENGTH},
    {"--max-writes-per-key", NULL, "INT", "16", "most writes per key", OPTION_MAELSTROM,
     "--max-writes-per-key " TXN_NOTE, OPT_MAX_WRITES_PER_KEY},
    {"--leave-db-running", NULL, NULL, NULL, "leave the nodes running after the test",
     OPTION_MAELSTROM,
     "--leave-db-running: eddy never leaves a node running after the run; every node is killed",
     OPT_LEAVE_DB_RUNNING},
    {"--logging-json", NULL, NULL, NULL, "JSON logging in jepsen.log", OPTION_MAELSTROM,
     "--logging-json: eddy writes no jepsen.log; results.json and history.jsonl are JSON already",
     OPT_LOGGING_JSON},
    {"--no-ssh", NULL, NULL, NULL, "do not connect to nodes over SSH", OPTION_MAELSTROM,
     "--no-ssh: " SSH_NOTE, OPT_NO_SSH},
    {"--username", NULL, "USER", "root", "SSH user name", OPTION_MAELSTROM, "--username: " SSH_NOTE,
     OPT_USERNAME},
    {"--password", NULL, "PASS", "root", "SSH and sudo password", OPTION_MAELSTROM,
     "--password: " SSH_NOTE, OPT_PASSWORD},
    {"--strict-host-key-checking", NULL, NULL, NULL, "check SSH host keys", OPTION_MAELSTROM,
     "--strict-host-key-checking: " SSH_NOTE, OPT_STRICT_HOST_KEY_CHECKING},
    {"--ssh-private-key", NULL, "FILE", NULL, "SSH identity file", OPTION_MAELSTROM,
     "--ssh-private-key: " SSH_NOTE, OPT_SSH_PRIVATE_KEY},
    {"--help", "-h", NULL, NULL, "print this help and exit", OPTION_MAELSTROM, NULL, OPT_HELP},
    {"--seed", NULL, "N", "random",
     "seed of every random choice, printed first (with --test-count, run i uses N+i)", OPTION_EDDY,
     NULL, OPT_SEED},
    {"--store", NULL, "DIR", "store", "where results go", OPTION_EDDY, NULL, OPT_STORE},
    {"--scenario", NULL, "FILE", NULL,
     "a scenario file (scenarios/README.md); options given here override it", OPTION_EDDY, NULL,
     OPT_SCENARIO},
    {"--junit", NULL, "FILE", NULL, "also write JUnit XML, one test case per checker", OPTION_EDDY,
     NULL, OPT_JUNIT},
    {"--strict", NULL, NULL, NULL,
     "protocol violations fail the run (by default they are warnings: Maelstrom's verdict does not "
     "count them)",
     OPTION_EDDY, NULL, OPT_STRICT},
    {"--fail-fast", NULL, NULL, NULL,
     "end the run at its first anomaly (a duplicate, an echo error, with --strict a protocol "
     "violation), every output and the verdict written",
     OPTION_EDDY, NULL, OPT_FAIL_FAST},
    {"--no-history", NULL, NULL, NULL, "do not write history.jsonl (for benchmarks)", OPTION_EDDY,
     NULL, OPT_NO_HISTORY},
    {"--checker-memory", NULL, "SIZE", "1G",
     "memory for the set of IDs (at least 2M, such as 512M); past it the checker spills to the run "
     "directory",
     OPTION_EDDY, NULL, OPT_CHECKER_MEMORY},
    {"--history-max", NULL, "SIZE", "1G",
     "history.jsonl stops at this size, on a whole line, and says so (0: no limit)", OPTION_EDDY,
     NULL, OPT_HISTORY_MAX},
    {"--clock-via", NULL, "ROUTE", "auto",
     "how clock faults reach the nodes: auto (the preload library where it works, else eddy's "
     "vDSO), preload, vdso or syscall",
     OPTION_EDDY, NULL, OPT_CLOCK_VIA},
    {"--allow-unapplied-faults", NULL, NULL, NULL,
     "a fault kind that could not reach some node does not make the verdict unknown", OPTION_EDDY,
     NULL, OPT_ALLOW_UNAPPLIED},
    {"--no-progress", NULL, NULL, NULL, "no progress bar, even on a terminal", OPTION_EDDY, NULL,
     OPT_NO_PROGRESS},
};

const struct option_spec *options_table(size_t *count)
{
    *count = ARRAY_LEN(options);
    return options;
}

const struct option_spec *options_find(const char *name, size_t len, bool is_short)
{
    for (size_t i = 0; i < ARRAY_LEN(options); i++) {
        const char *o = is_short ? options[i].short_name : options[i].name;
        if (o && strlen(o) == len && memcmp(o, name, len) == 0)
            return &options[i];
    }
    return NULL;
}

/* ==== --help ==== */

/* Prints text starting at column col, continuation lines indented to column indent, wrapped
 * before column 100 (a word longer than the line is printed whole). */
static void print_wrapped(FILE *f, const char *text, int col, int indent)
{
    bool line_empty = true;
    const char *p = text;
    while (*p) {
        int len = (int)strcspn(p, " ");
        if (!line_empty && col + 1 + len > 100) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
            line_empty = true;
        }
        if (!line_empty) {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, (size_t)len, f);
        col += len;
        line_empty = false;
        p += len;
        while (*p == ' ')
            p++;
    }
    fputc('\n', f);
}

static void usage_section(FILE *f, enum option_origin origin)
{
    for (size_t i = 0; i < ARRAY_LEN(options); i++) {
        const struct option_spec *o = &options[i];
        if (o->origin != origin)
            continue;
        char head[64];
        snprintf(head, sizeof(head), "  %s%s%s%s%s", o->short_name ? o->short_name : "",
                 o->short_name ? ", " : "", o->name, o->value ? " " : "", o->value ? o->value : "");
        fputs(head, f);
        int col = (int)strlen(head);
        int pad = col < 32 ? 32 - col : 1;
        fprintf(f, "%*s", pad, "");
        col += pad;
        char help[400];
        snprintf(help, sizeof(help), "%s%s%s%s%s", o->help, o->def ? " (default " : "",
                 o->def ? o->def : "", o->def ? ")" : "",
                 o->ignored ? "; accepted and ignored" : "");
        print_wrapped(f, help, col, 32);
    }
}

void options_print_usage(FILE *f)
{
    fputs(
        "usage: eddy test -w echo|unique-ids --bin FILE [OPTIONS] [NODE-ARGS...] [-- "
        "NODE-ARGS...]\n"
        "\n"
        "Runs node processes as Maelstrom does, drives a workload, injects faults and checks\n"
        "the results. Every option of `maelstrom test` is accepted, with Maelstrom's meaning and\n"
        "default; those that mean nothing for echo and unique-ids print a note. Options may\n"
        "come anywhere; words that are not options, and everything after --, are the node's\n"
        "arguments; an unknown option is refused.\n"
        "\n"
        "Maelstrom's options:\n",
        f);
    usage_section(f, OPTION_MAELSTROM);
    fputs("\neddy's options:\n", f);
    usage_section(f, OPTION_EDDY);
    fputs("\nExit status: 0 valid, 1 invalid, 2 unknown, 254 bad arguments, 255 the run broke\n"
          "(a node crashed, failed init, or could not be started).\n",
          f);
}

/* ==== Suggestions ==== */

/* Edit distance with transpositions (optimal string alignment), for suggestions. Names are
 * short: O(len^2) on the stack. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63)
        return SIZE_MAX;
    size_t d[64][64];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = EDDY_MIN(d[i - 1][j] + 1, d[i][j - 1] + 1);
            best = EDDY_MIN(best, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                best = EDDY_MIN(best, d[i - 2][j - 2] + 1);
            d[i][j] = best;
        }
    }
    return d[n][m];
}

const char *options_nearest(const char *arg)
{
    char name[64];
    size_t n = strcspn(arg, "=");
    snprintf(name, sizeof(name), "%.*s", (int)EDDY_MIN(n, sizeof(name) - 1), arg);
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < ARRAY_LEN(options); i++) {
        size_t d = edit_distance(name, options[i].name);
        if (options[i].short_name)
            d = EDDY_MIN(d, edit_distance(name, options[i].short_name));
        if (d < best_d) {
            best_d = d;
            best = options[i].name;
        }
    }
    return best;
}
