/*
 * test_cli.c: `eddy test` flag parsing (cli.h).
 *
 * Defaults and flag meanings are Maelstrom's (reference §3): nodes n1..n5 when no flag names
 * nodes, n0..n(N-1) with --node-count, --concurrency N or Nn. Every option of `maelstrom test`
 * is accepted. Every invalid value must give -EINVAL and a one-line message that names the
 * flag; arguments that are not flags and everything after "--" go to the node; an unknown
 * option anywhere before "--" is refused with the nearest known one suggested.
 * Depends on: cli, config, scenario, unitkit.h.
 */
#include "unitkit.h"
#include "cli.h"
#include "config.h"
#include "scenario.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define MAX_ARGS 80

struct parsed {
    struct config c;
    int rc;
    bool help;
    char err[512];
};

/* Parses the NULL-terminated list of arguments. The config keeps pointers into `args`, which
 * must outlive it (string literals do). */
static void parse(struct parsed *p, const char *const *args)
{
    char *argv[MAX_ARGS];
    int argc = 0;
    while (args[argc]) {
        cr_assert_lt(argc, MAX_ARGS - 1);
        argv[argc] = (char *)args[argc];
        argc++;
    }
    argv[argc] = NULL;
    config_defaults(&p->c);
    p->err[0] = '\0';
    p->help = false;
    p->rc = cli_parse_test(argc, argv, &p->c, &p->help, p->err, sizeof(p->err));
}

#define PARSE(p, ...) parse((p), (const char *const[]){__VA_ARGS__, NULL})

static void expect_ok(const struct parsed *p)
{
    cr_assert_eq(p->rc, 0, "rc %d: %s", p->rc, p->err);
}

static void expect_node_names(const struct config *c, const char *const *names, uint32_t n)
{
    cr_assert_eq(c->node_count, n, "%u nodes, want %u", c->node_count, n);
    for (uint32_t i = 0; i < n; i++)
        cr_expect_str_eq(c->node_names[i], names[i], "node %u", i);
}

/* ==== Defaults ==== */

Test(cli, maelstrom_defaults_without_node_flags)
{
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "./node");
    expect_ok(&p);
    cr_expect_eq(p.c.workload, WORKLOAD_ECHO);
    cr_expect_str_eq(p.c.bin, "./node");
    static const char *const names[] = {"n1", "n2", "n3", "n4", "n5"};
    expect_node_names(&p.c, names, 5);
    cr_expect_eq(p.c.time_limit_s, 60);
    cr_expect_eq(p.c.rate, 5);
    cr_expect(!p.c.rate_max);
    cr_expect_eq(p.c.concurrency, 5, "1n with five nodes");
    cr_expect_str_eq(p.c.concurrency_text, "1n");
    cr_expect_eq(p.c.latency_ms, 0);
    cr_expect_eq(p.c.latency_dist, LATENCY_CONSTANT);
    cr_expect_eq(p.c.nemesis, 0);
    cr_expect_eq(p.c.nemesis_interval_s, 10);
    cr_expect_eq(p.c.availability, AVAILABILITY_NONE);
    cr_expect_eq(p.c.client_timeout_ms, 5000);
    cr_expect_eq(p.c.init_timeout_ms, 10000);
    cr_expect(p.c.history);
    cr_expect(!p.c.seed_given);
    cr_expect_str_eq(p.c.store, "store");
    cr_expect_eq(p.c.node_arg_count, 0);
    cr_expect(!p.help);
    config_fini(&p.c);
    ASSERT_NO_LEAKS();
}

Test(cli, node_count_names_nodes_from_n0)
{
    struct parsed p;
    PARSE(&p, "-w", "unique-ids", "--bin", "x", "--node-count", "3");
    expect_ok(&p);
    static const char *const names[] = {"n0", "n1", "n2"};
    expect_node_names(&p.c, names, 3);
    cr_expect_eq(p.c.workload, WORKLOAD_UNIQUE_IDS);
    cr_expect_eq(p.c.concurrency, 3);
    config_fini(&p.c);
}

Test(cli, nodes_and_node_give_explicit_names)
{
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", "--nodes", "a, b,c");
    expect_ok(&p);
    static const char *const abc[] = {"a", "b", "c"};
    expect_node_names(&p.c, abc, 3);
    config_fini(&p.c);

    PARSE(&p, "-w", "echo", "--node", "x1", "-n", "x2", "--bin", "x");
    expect_ok(&p);
    static const char *const xs[] = {"x1", "x2"};
    expect_node_names(&p.c, xs, 2);
    cr_expect_eq(p.c.concurrency, 2);
    config_fini(&p.c);
}

Test(cli, node_count_overrides_nodes_in_either_order)
{
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", "--nodes", "a,b", "--node-count", "4");
    expect_ok(&p);
    cr_expect_eq(p.c.node_count, 4);
    cr_expect_str_eq(p.c.node_names[0], "n0");
    config_fini(&p.c);
    PARSE(&p, "-w", "echo", "--bin", "x", "--node-count", "4", "--nodes", "a,b");
    expect_ok(&p);
    cr_expect_eq(p.c.node_count, 4);
    cr_expect_str_eq(p.c.node_names[3], "n3");
    config_fini(&p.c);
    ASSERT_NO_LEAKS();
}

Test(cli, node_lists_combine_as_in_jepsen)
{
    /* jepsen cli.clj parse-nodes after maelstrom's parse-node-count: the nodes file, then
     * --nodes (or --node-count's names), then every --node. */
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", "--node-count", "3", "--node", "x");
    expect_ok(&p);
    static const char *const counted[] = {"n0", "n1", "n2", "x"};
    expect_node_names(&p.c, counted, 4);
    config_fini(&p.c);
    PARSE(&p, "-w", "echo", "--bin", "x", "--nodes", "a,b", "--nodes", "c", "-n", "d");
    expect_ok(&p);
    static const char *const last[] = {"c", "d"};
    expect_node_names(&p.c, last, 2);
    config_fini(&p.c);

    char dir[256], path[512];
    tmp_dir_make(dir, sizeof(dir));
    write_file(dir, "nodes", "f1\n  f2  \n\nf3\n", path, sizeof(path));
    PARSE(&p, "-w", "echo", "--bin", "x", "--node", "z", "--nodes-file", path, "--nodes", "a");
    expect_ok(&p);
    static const char *const all[] = {"f1", "f2", "f3", "a", "z"};
    expect_node_names(&p.c, all, 5);
    config_fini(&p.c);
    tmp_dir_remove(dir);
    ASSERT_NO_LEAKS();
}

Test(cli, ratios_as_clojure_reads_them)
{
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", "--nemesis-interval", "1/2", "--availability", "3/4");
    expect_ok(&p);
    cr_expect_eq(p.c.nemesis_interval_s, 0.5);
    cr_expect_eq(p.c.availability, AVAILABILITY_FRACTION);
    cr_expect_eq(p.c.availability_min, 0.75);
    config_fini(&p.c);
    double d;
    cr_expect_eq(cli_parse_ratio("0.25", &d), 0);
    cr_expect_eq(d, 0.25);
    cr_expect_eq(cli_parse_ratio("1/0", &d), -EINVAL);
    cr_expect_eq(cli_parse_ratio("/2", &d), -EINVAL);
    cr_expect_eq(cli_parse_ratio("1/2/3", &d), -EINVAL);
    cr_expect_eq(cli_parse_ratio("0.5/2", &d), -EINVAL);
}

/* ==== Values ==== */

Test(cli, concurrency_per_node_and_absolute)
{
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", "--concurrency", "3n");
    expect_ok(&p);
    cr_expect_eq(p.c.concurrency, 15, "3n with the default five nodes");
    cr_expect_str_eq(p.c.concurrency_text, "3n");
    config_fini(&p.c);
    PARSE(&p, "-w", "echo", "--bin", "x", "--concurrency", "1n", "--node-count", "2");
    expect_ok(&p);
    cr_expect_eq(p.c.concurrency, 2);
    config_fini(&p.c);
    PARSE(&p, "-w", "echo", "--bin", "x", "--concurrency", "7");
    expect_ok(&p);
    cr_expect_eq(p.c.concurrency, 7);
    config_fini(&p.c);
    PARSE(&p, "-w", "echo", "--bin", "x", "--concurrency=10n", "--node-count=3");
    expect_ok(&p);
    cr_expect_eq(p.c.concurrency, 30);
    config_fini(&p.c);
}

Test(cli, rate_max_and_numbers)
{
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", "--rate", "max");
    expect_ok(&p);
    cr_expect(p.c.rate_max);
    config_fini(&p.c);
    PARSE(&p, "-w", "echo", "--bin", "x", "--rate", "max", "--rate", "12.5");
    expect_ok(&p);
    cr_expect(!p.c.rate_max, "a later number replaces max");
    cr_expect_eq(p.c.rate, 12.5);
    config_fini(&p.c);
    PARSE(&p, "-w", "echo", "--bin", "x", "--rate", "0");
    expect_ok(&p);
    cr_expect_eq(p.c.rate, 0, "rate 0 means no ops, as in Maelstrom");
    config_fini(&p.c);
}

Test(cli, every_flag_sets_its_field)
{
    struct parsed p;
    PARSE(&p, "--workload", "unique-ids", "--bin", "/bin/node", "--node-count", "3", "--time-limit",
          "2.5", "--rate", "1000", "--concurrency", "2n", "--latency", "7", "--latency-dist",
          "exponential", "--nemesis", "partition,kill", "--nemesis-interval", "0.5",
          "--availability", "total", "--log-stderr", "--log-net-send", "--log-net-recv", "--seed",
          "18446744073709551615", "--store", "out", "--junit", "j.xml", "--no-history",
          "--no-progress");
    expect_ok(&p);
    cr_expect_eq(p.c.time_limit_s, 2.5);
    cr_expect_eq(p.c.rate, 1000);
    cr_expect_eq(p.c.concurrency, 6);
    cr_expect_eq(p.c.latency_ms, 7);
    cr_expect_eq(p.c.latency_dist, LATENCY_EXPONENTIAL);
    cr_expect_eq(p.c.nemesis, (1u << FAULT_PARTITION) | (1u << FAULT_KILL));
    cr_expect_eq(p.c.nemesis_interval_s, 0.5);
    cr_expect_eq(p.c.availability, AVAILABILITY_TOTAL);
    cr_expect(p.c.log_stderr && p.c.log_net_send && p.c.log_net_recv);
    cr_expect(p.c.seed_given);
    cr_expect_eq(p.c.seed, UINT64_MAX);
    cr_expect_str_eq(p.c.store, "out");
    cr_expect_str_eq(p.c.junit, "j.xml");
    cr_expect(!p.c.history);
    cr_expect(!p.c.progress);
    config_fini(&p.c);

    PARSE(&p, "-w", "echo", "--bin", "x", "--availability", "0.99", "--latency-dist", "uniform",
          "--nemesis", "clock pause,loss, duplicate");
    expect_ok(&p);
    cr_expect_eq(p.c.availability, AVAILABILITY_FRACTION);
    cr_expect_eq(p.c.availability_min, 0.99);
    cr_expect_eq(p.c.latency_dist, LATENCY_UNIFORM);
    cr_expect_eq(p.c.nemesis, (1u << FAULT_CLOCK) | (1u << FAULT_PAUSE) | (1u << FAULT_LOSS) |
                                  (1u << FAULT_DUPLICATE));
    config_fini(&p.c);
}

Test(cli, inline_values_with_equals)
{
    struct parsed p;
    PARSE(&p, "--workload=echo", "--bin=./n", "--time-limit=3", "--rate=max");
    expect_ok(&p);
    cr_expect_eq(p.c.workload, WORKLOAD_ECHO);
    cr_expect_str_eq(p.c.bin, "./n");
    cr_expect_eq(p.c.time_limit_s, 3);
    cr_expect(p.c.rate_max);
    config_fini(&p.c);
}

Test(cli, help_stops_parsing)
{
    struct parsed p;
    PARSE(&p, "--help", "--bogus");
    cr_expect_eq(p.rc, 0);
    cr_expect(p.help);
    config_fini(&p.c);
    PARSE(&p, "-h");
    cr_expect(p.help);
    config_fini(&p.c);
}

/* ==== Invalid values: -EINVAL and a message naming the flag ==== */

struct bad_flag {
    char flag[24];  /* the flag the message must name */
    char value[48]; /* the value given to it */
};

ParameterizedTestParameters(cli, every_invalid_value_names_its_flag)
{
    static struct bad_flag cases[] = {
        {"--workload", "lin-kv"},
        {"--workload", ""},
        {"--node-count", "0"},
        {"--node-count", "-1"},
        {"--node-count", "3x"},
        {"--node-count", "4097"},
        {"--node-count", "1.5"},
        {"--node-count", "99999999999999999999999"},
        {"--time-limit", "0"},
        {"--time-limit", "-3"},
        {"--time-limit", "ten"},
        {"--time-limit", "nan"},
        {"--time-limit", "inf"},
        {"--time-limit", "1e999"},
        {"--time-limit", ""},
        {"--rate", "-1"},
        {"--rate", "fast"},
        {"--rate", "MAX"},
        {"--rate", "5/s"},
        {"--concurrency", "n"},
        {"--concurrency", "3m"},
        {"--concurrency", "n3"},
        {"--concurrency", "-1"},
        {"--concurrency", ""},
        {"--concurrency", "1.5"},
        {"--concurrency", "100001"},
        {"--concurrency", "30000n"},
        {"--concurrency", "12345678901234567890123"},
        {"--latency", "-1"},
        {"--latency", "5ms"},
        {"--latency", "1.5"},
        {"--test-count", "0"},
        {"--test-count", "x"},
        {"--test-count", "10001"},
        {"--topology", "star"},
        {"--key-count", "0"},
        {"--max-txn-length", "-4"},
        {"--max-writes-per-key", "many"},
        {"--consistency-models", ""},
        {"--nodes-file", "/nonexistent/eddy/nodes"},
        {"--nemesis-interval", "1/0"},
        {"--latency-dist", "normal"},
        {"--latency-dist", ""},
        {"--nemesis", "partition,flood"},
        {"--nemesis", "partitions"},
        {"--nemesis-interval", "0"},
        {"--nemesis-interval", "x"},
        {"--availability", "1.5"},
        {"--availability", "-0.1"},
        {"--availability", "most"},
        {"--seed", "-1"},
        {"--seed", "abc"},
        {"--seed", "18446744073709551616"},
        {"--seed", "1.0"},
        {"--store", ""},
        {"--junit", ""},
        {"--nodes", "a,,b"},
        {"--nodes", "a,b,a"},
        {"--nodes", ","},
    };
    return cr_make_param_array(struct bad_flag, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_flag *b, cli, every_invalid_value_names_its_flag)
{
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", b->flag, b->value);
    cr_expect_eq(p.rc, -EINVAL, "%s '%s' gave %d", b->flag, b->value, p.rc);
    cr_expect(strstr(p.err, b->flag) != NULL, "%s '%s': message \"%s\" does not name the flag",
              b->flag, b->value, p.err);
    cr_expect(strchr(p.err, '\n') == NULL, "the message is one line: \"%s\"", p.err);
    config_fini(&p.c);
    ASSERT_NO_LEAKS();
}

Test(cli, repeated_node_names_the_flag)
{
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", "--node", "a", "--node", "a");
    cr_expect_eq(p.rc, -EINVAL);
    cr_expect(strstr(p.err, "--node") != NULL, "message: %s", p.err);
    cr_expect(strstr(p.err, "'a'") != NULL, "message names the node: %s", p.err);
    config_fini(&p.c);
}

Test(cli, a_node_name_that_is_not_utf8_is_refused)
{
    /* Node ids go to the nodes, and into every output, as JSON strings. */
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", "--node", "a", "--node", "b\xff");
    cr_expect_eq(p.rc, -EINVAL);
    cr_expect(strstr(p.err, "node 2") && strstr(p.err, "UTF-8"), "message: %s", p.err);
    config_fini(&p.c);
    PARSE(&p, "-w", "echo", "--bin", "x", "--nodes", "n\xc3\xa9,b");
    expect_ok(&p);
    config_fini(&p.c);
}

Test(cli, empty_node_list_is_an_error)
{
    /* "a,,b" is refused for its empty name; an empty list is no better, yet it silently fell
     * back to the default n1..n5. */
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", "--nodes", "");
    cr_expect_eq(p.rc, -EINVAL, "accepted with %u nodes (%s...)", p.c.node_count,
                 p.c.node_count ? p.c.node_names[0] : "");
    cr_expect(strstr(p.err, "--nodes") != NULL, "message: %s", p.err);
    config_fini(&p.c);
}

Test(cli, missing_value_names_the_flag)
{
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", "--rate");
    cr_expect_eq(p.rc, -EINVAL);
    cr_expect(strstr(p.err, "--rate") != NULL, "message: %s", p.err);
    config_fini(&p.c);
    PARSE(&p, "-w", "echo", "--bin");
    cr_expect_eq(p.rc, -EINVAL);
    cr_expect(strstr(p.err, "--bin") != NULL, "message: %s", p.err);
    config_fini(&p.c);
}

Test(cli, switch_with_a_value_names_the_flag)
{
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", "--log-stderr=yes");
    cr_expect_eq(p.rc, -EINVAL);
    cr_expect(strstr(p.err, "--log-stderr") != NULL, "message: %s", p.err);
    config_fini(&p.c);
}

Test(cli, workload_and_bin_are_required)
{
    struct parsed p;
    PARSE(&p, "--bin", "x");
    cr_expect_eq(p.rc, -EINVAL);
    cr_expect(strstr(p.err, "--workload") != NULL, "message: %s", p.err);
    config_fini(&p.c);
    PARSE(&p, "-w", "echo");
    cr_expect_eq(p.rc, -EINVAL);
    cr_expect(strstr(p.err, "--bin") != NULL, "message: %s", p.err);
    config_fini(&p.c);
}

Test(cli, unknown_option_is_an_error_anywhere_before_double_dash)
{
    struct parsed p;
    PARSE(&p, "-w", "echo", "--frobnicate", "--bin", "x");
    cr_expect_eq(p.rc, -EINVAL);
    cr_expect(strstr(p.err, "Unknown option") != NULL, "message: %s", p.err);
    cr_expect(strstr(p.err, "--frobnicate") != NULL, "message: %s", p.err);
    config_fini(&p.c);
    PARSE(&p, "-x", "-w", "echo", "--bin", "x");
    cr_expect_eq(p.rc, -EINVAL);
    cr_expect(strstr(p.err, "-x") != NULL, "message: %s", p.err);
    config_fini(&p.c);
    /* After --bin too: Maelstrom refuses it, and eddy no longer hands it to the node, which ran
     * `--bin ./node --time-limt 10` for the default 60 s. */
    PARSE(&p, "-w", "echo", "--bin", "./node", "--time-limt", "10");
    cr_expect_eq(p.rc, -EINVAL);
    cr_expect(strstr(p.err, "\"--time-limt\"") != NULL, "names the option: %s", p.err);
    cr_expect(strstr(p.err, "did you mean --time-limit?") != NULL, "suggests: %s", p.err);
    cr_expect(strchr(p.err, '\n') == NULL, "one line: %s", p.err);
    config_fini(&p.c);
    PARSE(&p, "-w", "echo", "--bin", "eddy-node", "counter", "--ids", "counter");
    cr_expect_eq(p.rc, -EINVAL, "a node's own option needs --");
    cr_expect(strstr(p.err, "\"--ids\"") != NULL, "message: %s", p.err);
    config_fini(&p.c);
}

Test(cli, every_maelstrom_option_is_accepted)
{
    /* jepsen cli.clj test-opt-spec and maelstrom core.clj test-opt-spec and opt-spec. */
    char dir[256], path[512];
    tmp_dir_make(dir, sizeof(dir));
    write_file(dir, "nodes", "a\nb\n", path, sizeof(path));
    struct parsed p;
    PARSE(&p, "--bin", "x", "-w", "unique-ids", "--nodes-file", path, "--username", "u",
          "--password", "p", "--strict-host-key-checking", "--no-ssh", "--ssh-private-key", "k",
          "--concurrency", "2n", "--leave-db-running", "--logging-json", "--test-count", "3",
          "--time-limit", "5", "--availability", "0.5", "--consistency-models", "serializable",
          "--key-count", "3", "--latency", "1", "--latency-dist", "uniform", "--log-net-send",
          "--log-net-recv", "--log-stderr", "--max-txn-length", "5", "--max-writes-per-key", "9",
          "--nemesis", "partition", "--nemesis-interval", "3", "--rate", "9", "--topology",
          "tree4");
    expect_ok(&p);
    cr_expect_eq(p.c.node_count, 2);
    cr_expect_eq(p.c.test_count, 3);
    cr_expect_eq(p.c.concurrency, 4);
    cr_expect_eq(p.c.latency_ms, 1);
    cr_expect_eq(p.c.node_arg_count, 0);
    /* The options that mean nothing here leave one note each, naming the option. */
    static const char *const noted[] = {
        "--username",       "--password",           "--strict-host-key-checking",
        "--no-ssh",         "--ssh-private-key",    "--leave-db-running",
        "--logging-json",   "--consistency-models", "--key-count",
        "--max-txn-length", "--max-writes-per-key", "--topology"};
    cr_expect_eq(p.c.note_count, sizeof(noted) / sizeof(noted[0]));
    for (size_t i = 0; i < sizeof(noted) / sizeof(noted[0]); i++) {
        bool found = false;
        for (unsigned k = 0; k < p.c.note_count; k++)
            found |= strncmp(p.c.notes[k], noted[i], strlen(noted[i])) == 0;
        cr_expect(found, "a note for %s", noted[i]);
    }
    config_fini(&p.c);
    PARSE(&p, "-w", "echo", "--bin", "x", "--topology", "line", "--topology", "grid");
    expect_ok(&p);
    cr_expect_eq(p.c.note_count, 1, "one note per option, however often it is given");
    config_fini(&p.c);
    tmp_dir_remove(dir);
    ASSERT_NO_LEAKS();
}

Test(cli, concurrency_that_overflows_is_refused)
{
    /* 2^62 + 1 workers per node on four nodes wraps around 2^64 to 4. */
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", "--node-count", "4", "--concurrency",
          "4611686018427387905n");
    cr_expect_eq(p.rc, -EINVAL, "accepted as %u workers", p.c.concurrency);
    cr_expect(strstr(p.err, "--concurrency") != NULL, "message: %s", p.err);
    config_fini(&p.c);
}

/* ==== Node arguments ==== */

Test(cli, words_that_are_not_flags_go_to_the_node)
{
    struct parsed p;
    PARSE(&p, "alpha", "-w", "echo", "-", "--bin", "x", "beta");
    expect_ok(&p);
    cr_assert_eq(p.c.node_arg_count, 3);
    cr_expect_str_eq(p.c.node_args[0], "alpha");
    cr_expect_str_eq(p.c.node_args[1], "-");
    cr_expect_str_eq(p.c.node_args[2], "beta");
    config_fini(&p.c);
}

Test(cli, double_dash_passes_everything_after_it)
{
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", "--", "-w", "--rate", "--", "lin-kv");
    expect_ok(&p);
    cr_expect_eq(p.c.workload, WORKLOAD_ECHO);
    cr_expect_eq(p.c.rate, 5, "--rate after -- is the node's");
    cr_assert_eq(p.c.node_arg_count, 4);
    cr_expect_str_eq(p.c.node_args[0], "-w");
    cr_expect_str_eq(p.c.node_args[1], "--rate");
    cr_expect_str_eq(p.c.node_args[2], "--");
    cr_expect_str_eq(p.c.node_args[3], "lin-kv");
    config_fini(&p.c);
}

Test(cli, options_and_node_words_mix_as_in_maelstrom)
{
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "eddy-node", "counter", "--rate", "9", "-wunique-ids");
    expect_ok(&p);
    cr_expect_eq(p.c.rate, 9, "an option after a node word is still eddy's");
    cr_expect_eq(p.c.workload, WORKLOAD_UNIQUE_IDS, "-wVALUE, as tools.cli reads it");
    cr_assert_eq(p.c.node_arg_count, 1);
    cr_expect_str_eq(p.c.node_args[0], "counter");
    config_fini(&p.c);
}

Test(cli, a_scenario_flag_after_double_dash_is_the_nodes)
{
    /* Everything after "--" is the node's, --scenario included; it must not be loaded as
     * eddy's scenario. */
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "n", "--", "--ids", "x", "--scenario",
          "/nonexistent/node.json");
    cr_expect_eq(p.rc, 0, "rc %d: %s", p.rc, p.err);
    cr_expect_eq(p.c.node_arg_count, 4);
    cr_expect_null(p.c.scenario);
    config_fini(&p.c);
}

Test(cli, too_many_node_args_is_an_error)
{
    const char *args[NODE_ARGS_MAX + 8] = {"-w", "echo", "--bin", "x", "--"};
    int n = 5;
    for (unsigned i = 0; i <= NODE_ARGS_MAX; i++)
        args[n++] = "arg";
    args[n] = NULL;
    struct parsed p;
    parse(&p, args);
    cr_expect_eq(p.rc, -EINVAL);
    cr_expect(strstr(p.err, "arguments for the node") != NULL, "message: %s", p.err);
    config_fini(&p.c);
}

/* ==== Value parsers ==== */

Test(cli, strict_number_parsers)
{
    double d;
    uint64_t u;
    cr_expect_eq(cli_parse_double("1.5", &d), 0);
    cr_expect_eq(d, 1.5);
    cr_expect_eq(cli_parse_double("1e3", &d), 0);
    cr_expect_eq(d, 1000);
    cr_expect_eq(cli_parse_double("", &d), -EINVAL);
    cr_expect_eq(cli_parse_double("1.5x", &d), -EINVAL);
    cr_expect_eq(cli_parse_double("1.5 ", &d), -EINVAL);
    cr_expect_eq(cli_parse_double("inf", &d), -EINVAL);
    cr_expect_eq(cli_parse_double("nan", &d), -EINVAL);
    cr_expect_eq(cli_parse_u64("0", &u), 0);
    cr_expect_eq(u, 0);
    cr_expect_eq(cli_parse_u64("18446744073709551615", &u), 0);
    cr_expect_eq(u, UINT64_MAX);
    cr_expect_eq(cli_parse_u64("18446744073709551616", &u), -EINVAL);
    cr_expect_eq(cli_parse_u64("-1", &u), -EINVAL);
    cr_expect_eq(cli_parse_u64("+1", &u), -EINVAL);
    cr_expect_eq(cli_parse_u64(" 1", &u), -EINVAL);
    cr_expect_eq(cli_parse_u64("1 ", &u), -EINVAL);
    cr_expect_eq(cli_parse_u64("", &u), -EINVAL);
}

Test(cli, strict_double_parser_refuses_leading_space)
{
    /* cli.h: "Strict parsers: the whole string must be the value." strtod skips leading
     * whitespace, so --time-limit " 10" would pass unless the parser refuses it (as
     * cli_parse_u64 does). */
    double d;
    cr_expect_eq(cli_parse_double(" 10", &d), -EINVAL);
    cr_expect_eq(cli_parse_double("\t1", &d), -EINVAL);
}

Test(cli, setters_share_the_flag_rules)
{
    struct config c;
    config_defaults(&c);
    cr_expect_eq(cli_set_workload(&c, "unique-ids"), 0);
    cr_expect_eq(c.workload, WORKLOAD_UNIQUE_IDS);
    cr_expect_eq(cli_set_workload(&c, "broadcast"), -EINVAL);
    cr_expect_eq(cli_set_latency_dist(&c, "uniform"), 0);
    cr_expect_eq(c.latency_dist, LATENCY_UNIFORM);
    cr_expect_eq(cli_set_nemesis(&c, "partition"), 0);
    cr_expect_eq(c.nemesis, 1u << FAULT_PARTITION);
    cr_expect_eq(cli_set_nemesis(&c, ""), 0);
    cr_expect_eq(c.nemesis, 0);
    cr_expect_eq(cli_set_nemesis(&c, "kill,bogus"), -EINVAL);
    cr_expect_eq(cli_set_availability(&c, "0"), 0);
    cr_expect_eq(c.availability, AVAILABILITY_FRACTION);
    cr_expect_eq(cli_set_availability(&c, "1"), 0);
    cr_expect_eq(cli_set_rate(&c, "max"), 0);
    cr_expect(c.rate_max);
    cr_expect_eq(cli_set_concurrency(&c, "12n"), 0);
    cr_expect_str_eq(c.concurrency_text, "12n");
    cr_expect_eq(cli_set_concurrency(&c, "12345678901234567890123n"), -EINVAL, "too long");
    cr_expect_str_eq(c.concurrency_text, "12n", "a refused value changes nothing");
    config_fini(&c);
}

Test(cli, names_of_kinds_and_workloads)
{
    static const char kinds[][12] = {"partition", "clock", "kill", "pause", "loss", "duplicate"};
    for (int k = 0; k < FAULT_KIND_COUNT; k++) {
        enum fault_kind out;
        cr_expect_str_eq(fault_kind_name((enum fault_kind)k), kinds[k]);
        cr_expect_eq(fault_kind_parse(kinds[k], strlen(kinds[k]), &out), 0);
        cr_expect_eq(out, k);
    }
    enum fault_kind out;
    cr_expect_eq(fault_kind_parse("partitionx", 9, &out), 0, "only len bytes count");
    cr_expect_eq(fault_kind_parse("part", 4, &out), -EINVAL);
    cr_expect_str_eq(workload_name(WORKLOAD_ECHO), "echo");
    cr_expect_str_eq(workload_name(WORKLOAD_UNIQUE_IDS), "unique-ids");
    cr_expect_str_eq(workload_name(WORKLOAD_NONE), "none");
}

/* ==== With a scenario file ==== */

Test(cli, flags_override_the_scenario_file)
{
    char dir[256], path[512];
    tmp_dir_make(dir, sizeof(dir));
    write_file(dir, "s.json",
               "{\"workload\": \"unique-ids\", \"bin\": \"/from/file\", \"rate\": 100,\n"
               " \"node-count\": 3, \"time-limit\": 20,\n"
               " \"faults\": [{\"at\": 1, \"f\": \"kill\", \"nodes\": [\"n2\"]},\n"
               "            {\"at\": 15, \"f\": \"start\"}]}\n",
               path, sizeof(path));
    struct parsed p;
    PARSE(&p, "--rate", "7", "--scenario", path, "--time-limit", "10");
    expect_ok(&p);
    cr_expect_eq(p.c.workload, WORKLOAD_UNIQUE_IDS, "from the file");
    cr_expect_str_eq(p.c.bin, "/from/file");
    cr_expect_eq(p.c.node_count, 3);
    cr_expect_eq(p.c.rate, 7, "the flag wins, even given before --scenario");
    cr_expect_eq(p.c.time_limit_s, 10);
    struct nemesis_plan *ev = scenario_events();
    cr_assert_eq(ev->len, 1, "the event at 15 s is left out by --time-limit 10");
    cr_expect_eq(ev->events[0].node_count, 1);
    cr_expect_eq(ev->events[0].nodes[0], 2, "n2 is node index 2");
    scenario_reset();
    config_fini(&p.c);
    tmp_dir_remove(dir);
}

Test(cli, a_missing_scenario_file_is_an_error)
{
    struct parsed p;
    PARSE(&p, "-w", "echo", "--bin", "x", "--scenario", "/nonexistent/eddy/s.json");
    cr_expect_lt(p.rc, 0);
    cr_expect(strstr(p.err, "--scenario") != NULL, "message: %s", p.err);
    config_fini(&p.c);
}

/* ==== Sizes (--checker-memory) ==== */

Test(cli, sizes_take_binary_suffixes)
{
    static const struct {
        char text[16];
        uint64_t want;
    } ok[] = {
        {"0", 0},
        {"1048576", 1048576},
        {"512K", 512u << 10},
        {"512k", 512u << 10},
        {"64M", 64u << 20},
        {"64MiB", 64u << 20},
        {"64MB", 64u << 20},
        {"2G", 2ull << 30},
        {"1T", 1ull << 40},
        {"7b", 7},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 1;
        cr_expect_eq(cli_parse_size(ok[i].text, &v), 0, "%s", ok[i].text);
        cr_expect_eq(v, ok[i].want, "%s gave %llu", ok[i].text, (unsigned long long)v);
    }
    static const char bad[][24] = {"",
                                   "M",
                                   "-1M",
                                   " 1M",
                                   "1.5G",
                                   "1MM",
                                   "1Mx",
                                   "1 M",
                                   "1Gi",
                                   "99999999999999999999",
                                   "20000000000T"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v;
        cr_expect_eq(cli_parse_size(bad[i], &v), -EINVAL, "'%s' must be refused", bad[i]);
    }
}

Test(cli, checker_memory_has_a_default_and_a_minimum)
{
    struct parsed p;
    PARSE(&p, "-w", "unique-ids", "--bin", "x");
    expect_ok(&p);
    cr_expect_eq(p.c.checker_memory, CHECKER_MEMORY_DEFAULT);
    config_fini(&p.c);
    PARSE(&p, "-w", "unique-ids", "--checker-memory", "256M", "--bin", "x");
    expect_ok(&p);
    cr_expect_eq(p.c.checker_memory, 256u << 20);
    config_fini(&p.c);
    PARSE(&p, "-w", "unique-ids", "--checker-memory", "1M", "--bin", "x");
    cr_expect_eq(p.rc, -EINVAL, "below the 2M minimum");
    cr_expect(strstr(p.err, "--checker-memory") && strstr(p.err, "'1M'"), "%s", p.err);
    config_fini(&p.c);
}

Test(cli, history_max_has_a_default_and_0_for_none)
{
    struct parsed p;
    PARSE(&p, "-w", "unique-ids", "--bin", "x");
    expect_ok(&p);
    cr_expect_eq(p.c.history_max, HISTORY_MAX_DEFAULT);
    config_fini(&p.c);
    PARSE(&p, "-w", "unique-ids", "--history-max", "0", "--bin", "x");
    expect_ok(&p);
    cr_expect_eq(p.c.history_max, 0);
    config_fini(&p.c);
    PARSE(&p, "-w", "unique-ids", "--history-max=3G", "--bin", "x");
    expect_ok(&p);
    cr_expect_eq(p.c.history_max, 3ull << 30);
    config_fini(&p.c);
    PARSE(&p, "-w", "unique-ids", "--history-max", "lots", "--bin", "x");
    cr_expect_eq(p.rc, -EINVAL);
    cr_expect(strstr(p.err, "--history-max") && strstr(p.err, "'lots'"), "%s", p.err);
    config_fini(&p.c);
}
