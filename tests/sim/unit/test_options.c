/*
 * test_options.c: the option table of `eddy test` (options.h).
 *
 * The table holds every option of `maelstrom test` with Maelstrom's value names and defaults,
 * each once; --help prints every row; lookups and suggestions work on it.
 * Depends on: options, unitkit.h.
 */
#include "unitkit.h"
#include "options.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every option of `maelstrom test`: jepsen cli.clj test-opt-spec (0.3.7), maelstrom core.clj
 * test-opt-spec and opt-spec. */
static const char *const maelstrom_options[] = {
    "--help",
    "--node",
    "--nodes",
    "--nodes-file",
    "--username",
    "--password",
    "--strict-host-key-checking",
    "--no-ssh",
    "--ssh-private-key",
    "--concurrency",
    "--leave-db-running",
    "--logging-json",
    "--test-count",
    "--time-limit",
    "--bin",
    "--workload",
    "--availability",
    "--consistency-models",
    "--key-count",
    "--latency",
    "--latency-dist",
    "--log-net-send",
    "--log-net-recv",
    "--log-stderr",
    "--max-txn-length",
    "--max-writes-per-key",
    "--node-count",
    "--nemesis",
    "--nemesis-interval",
    "--rate",
    "--topology",
};

Test(options, every_maelstrom_option_is_a_row)
{
    for (size_t i = 0; i < sizeof(maelstrom_options) / sizeof(maelstrom_options[0]); i++) {
        const char *name = maelstrom_options[i];
        const struct option_spec *o = options_find(name, strlen(name), false);
        cr_expect(o != NULL, "%s is missing", name);
        if (o)
            cr_expect_eq(o->origin, OPTION_MAELSTROM, "%s is Maelstrom's", name);
    }
    size_t n;
    const struct option_spec *t = options_table(&n);
    size_t maelstrom = 0;
    for (size_t i = 0; i < n; i++)
        maelstrom += t[i].origin == OPTION_MAELSTROM;
    cr_expect_eq(maelstrom, sizeof(maelstrom_options) / sizeof(maelstrom_options[0]),
                 "no option is called Maelstrom's that is not");
}

Test(options, rows_are_well_formed_and_unique)
{
    size_t n;
    const struct option_spec *t = options_table(&n);
    cr_assert_eq(n, (size_t)OPT_COUNT, "one row per option id");
    for (size_t i = 0; i < n; i++) {
        cr_expect(strncmp(t[i].name, "--", 2) == 0, "%s", t[i].name);
        cr_expect(t[i].help && *t[i].help, "%s has help", t[i].name);
        cr_expect(!t[i].short_name || strlen(t[i].short_name) == 2, "%s", t[i].name);
        cr_expect(!t[i].ignored || strstr(t[i].ignored, t[i].name) == t[i].ignored,
                  "the note of %s starts with its name", t[i].name);
        for (size_t j = 0; j < i; j++) {
            cr_expect(strcmp(t[i].name, t[j].name) != 0, "%s twice", t[i].name);
            cr_expect(t[i].id != t[j].id, "%s and %s share an id", t[i].name, t[j].name);
        }
    }
    cr_expect_eq(options_find("-w", 2, true)->id, OPT_WORKLOAD);
    cr_expect_eq(options_find("-n", 2, true)->id, OPT_NODE);
    cr_expect_eq(options_find("-h", 2, true)->id, OPT_HELP);
    cr_expect_null(options_find("--rat", 5, false), "no prefix matching, as in tools.cli");
    cr_expect_eq(options_find("--rate=9", 6, false)->id, OPT_RATE, "only len bytes count");
}

Test(options, defaults_are_maelstroms)
{
    static const struct {
        const char *name, *def;
    } want[] = {{"--time-limit", "60"},         {"--rate", "5"},
                {"--concurrency", "1n"},        {"--latency", "0"},
                {"--latency-dist", "constant"}, {"--nemesis-interval", "10"},
                {"--test-count", "1"},          {"--topology", "grid"},
                {"--max-txn-length", "4"},      {"--max-writes-per-key", "16"}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct option_spec *o = options_find(want[i].name, strlen(want[i].name), false);
        cr_assert(o);
        cr_expect(o->def && strcmp(o->def, want[i].def) == 0, "%s defaults to %s, table says %s",
                  want[i].name, want[i].def, o->def ? o->def : "nothing");
    }
}

Test(options, the_nearest_option_is_suggested)
{
    cr_expect_str_eq(options_nearest("--time-limt"), "--time-limit");
    cr_expect_str_eq(options_nearest("--time-limt=2"), "--time-limit");
    cr_expect_str_eq(options_nearest("--rtae"), "--rate");
    cr_expect_str_eq(options_nearest("--node-cuont"), "--node-count");
    cr_expect_str_eq(options_nearest("--nemesis-intervall"), "--nemesis-interval");
    cr_expect_str_eq(options_nearest("-W"), "--workload");
    cr_expect(options_nearest(
                  "--xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") != NULL);
}

Test(options, help_prints_every_row)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert(f);
    options_print_usage(f);
    fclose(f);
    size_t n;
    const struct option_spec *t = options_table(&n);
    for (size_t i = 0; i < n; i++) {
        cr_expect(strstr(text, t[i].name) != NULL, "%s is in --help", t[i].name);
        if (t[i].value) {
            char head[96];
            snprintf(head, sizeof(head), "%s %s", t[i].name, t[i].value);
            cr_expect(strstr(text, head) != NULL, "%s is in --help", head);
        }
    }
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t l = nl ? (size_t)(nl - line) : strlen(line);
        cr_expect(l <= 100, "a line of %zu columns: %.*s", l, (int)l, line);
        line = nl ? nl + 1 : NULL;
    }
    free(text);
}
