/*
 * options.h: the options of `eddy test`, as one table of data.
 *
 * Every option of `maelstrom test` (Jepsen's generic test options and Maelstrom's own) and each
 * of eddy's additions is one row: long and short name, value, default, help text, whose option
 * it is, and, for Maelstrom's options that mean nothing for echo and unique-ids, the one-line
 * note eddy prints when one is given. `eddy test --help` is printed from the table, cli.c parses
 * with it, and the man pages' option tables are generated from it.
 * Depends on: nothing. Used by: cli.
 */
#ifndef EDDY_SIM_OPTIONS_H
#define EDDY_SIM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum option_origin {
    OPTION_MAELSTROM, /* accepted by `maelstrom test` (jepsen cli.clj, maelstrom core.clj) */
    OPTION_EDDY,      /* eddy's own */
};

enum option_id {
    OPT_HELP,
    OPT_WORKLOAD,
    OPT_BIN,
    OPT_NODE_COUNT,
    OPT_NODES,
    OPT_NODE,
    OPT_NODES_FILE,
    OPT_TIME_LIMIT,
    OPT_RATE,
    OPT_CONCURRENCY,
    OPT_LATENCY,
    OPT_LATENCY_DIST,
    OPT_NEMESIS,
    OPT_NEMESIS_INTERVAL,
    OPT_AVAILABILITY,
    OPT_LOG_STDERR,
    OPT_LOG_NET_SEND,
    OPT_LOG_NET_RECV,
    OPT_TEST_COUNT,
    OPT_TOPOLOGY,
    OPT_CONSISTENCY_MODELS,
    OPT_KEY_COUNT,
    OPT_MAX_TXN_LENGTH,
    OPT_MAX_WRITES_PER_KEY,
    OPT_LEAVE_DB_RUNNING,
    OPT_LOGGING_JSON,
    OPT_NO_SSH,
    OPT_USERNAME,
    OPT_PASSWORD,
    OPT_STRICT_HOST_KEY_CHECKING,
    OPT_SSH_PRIVATE_KEY,
    OPT_SEED,
    OPT_STORE,
    OPT_SCENARIO,
    OPT_JUNIT,
    OPT_STRICT,
    OPT_FAIL_FAST,
    OPT_NO_HISTORY,
    OPT_CHECKER_MEMORY,
    OPT_HISTORY_MAX,
    OPT_CLOCK_VIA,
    OPT_ALLOW_UNAPPLIED,
    OPT_NO_PROGRESS,
    OPT_COUNT,
};

struct option_spec {
    const char *name;          /* "--time-limit" */
    const char *short_name;    /* "-w", or NULL */
    const char *value;         /* the value's name ("SECONDS"), or NULL for a switch */
    const char *def;           /* the default as text, or NULL when there is none */
    const char *help;          /* one sentence, no final full stop */
    enum option_origin origin; /* whose option it is */
    const char *ignored;       /* the note printed when given, for options eddy ignores; or NULL */
    enum option_id id;
};

/* The table, in --help order (Maelstrom's options, then eddy's). Static; count set to its
 * length. */
const struct option_spec *options_table(size_t *count);

/* The option whose long name (is_short false, "--rate") or short name ("-w") is the first len
 * bytes of name, or NULL. */
const struct option_spec *options_find(const char *name, size_t len, bool is_short);

/* The long name of the known option nearest to arg (what precedes any '=') by edit distance,
 * transpositions included: "--time-limt" gives "--time-limit". Never NULL. */
const char *options_nearest(const char *arg);

/* `eddy test --help`. */
void options_print_usage(FILE *f);

#endif /* EDDY_SIM_OPTIONS_H */
