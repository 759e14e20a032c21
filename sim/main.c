/*
 * main.c: the eddy command: `eddy test` (one run), `eddy matrix` (node commands against
 * scenarios) and `eddy shrink` (the smallest run that still fails), with Maelstrom's exit
 * statuses.
 *
 * Before anything starts a node, eddy makes sure no node can outlive it: an atexit hook and
 * handlers for fatal signals kill every node process group still alive, and each node asks the
 * kernel for SIGKILL when eddy dies (PR_SET_PDEATHSIG), which covers even SIGKILL of eddy.
 * Depends on: cli, run, scenario, matrix, shrink_main, proc, verdict. Used by: nobody (entry
 * point).
 */
#include "cli.h"
#include "matrix.h"
#include "proc.h"
#include "run.h"
#include "scenario.h"
#include "shrink_main.h"
#include "verdict.h"
#include "eddy/alloc.h"
#include "eddy/util.h"
#include "eddy_commit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: eddy COMMAND [ARGS]\n"
          "\n"
          "A small, fast, local Maelstrom for the echo and unique-ids workloads.\n"
          "\n"
          "Commands:\n"
          "  test     run one test, as `maelstrom test` does (eddy test --help)\n"
          "  matrix   run node commands against scenarios and tabulate the verdicts\n"
          "           (eddy matrix --help)\n"
          "  shrink   find the smallest run that still fails like a given one\n"
          "           (eddy shrink --help)\n"
          "\n"
          "  --help, --version\n"
          "\n"
          "Exit status: 0 valid, 1 invalid, 2 unknown, 254 bad arguments, 255 the run broke.\n",
          f);
}

static void fatal_signal(int sig)
{
    proc_kill_all_emergency();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_safety_nets(void)
{
    atexit(proc_kill_all_emergency);
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < ARRAY_LEN(fatal); i++)
        signal(fatal[i], fatal_signal);
    signal(SIGPIPE, SIG_IGN);
    /* A file-size limit (like a full disk) must fail a write with EFBIG, which eddy reports,
     * not kill eddy and lose the results. */
    signal(SIGXFSZ, SIG_IGN);
}

/* Appends one argument to cmd, shell-quoted when it needs to be. */
static void append_arg(char **cmd, size_t *len, const char *a)
{
    bool plain = *a != '\0';
    for (const char *p = a; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%",
                       *p) != NULL;
    size_t need = *len + 4 * strlen(a) + 4;
    *cmd = xrealloc(*cmd, need);
    char *o = *cmd + *len;
    *o++ = ' ';
    if (plain) {
        strcpy(o, a);
        o += strlen(a);
    } else {
        *o++ = '\'';
        for (const char *p = a; *p; p++) {
            if (*p == '\'') {
                memcpy(o, "'\\''", 4);
                o += 4;
            } else {
                *o++ = *p;
            }
        }
        *o++ = '\'';
    }
    *o = '\0';
    *len = (size_t)(o - *cmd);
}

/* Whether argv[i] is the option `name` given with its value, as "--name V" or "--name=V".
 * Sets *skip to the number of arguments it takes. */
static bool is_option(char **argv, int argc, int i, const char *name, int *skip)
{
    size_t n = strlen(name);
    if (strncmp(argv[i], name, n) != 0)
        return false;
    if (argv[i][n] == '=') {
        *skip = 1;
        return true;
    }
    if (argv[i][n] != '\0')
        return false;
    *skip = i + 1 < argc ? 2 : 1;
    return true;
}

/* The command that reproduces this run: the same arguments with this run's seed made explicit
 * (first) and without --test-count, which would repeat it with other seeds. */
static char *reproduction(int argc, char **argv, const struct config *c)
{
    char *cmd = xstrdup("eddy test");
    size_t len = strlen(cmd);
    char seed[32];
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)c->seed);
    append_arg(&cmd, &len, "--seed");
    append_arg(&cmd, &len, seed);
    bool options = true;
    for (int i = 0; i < argc; i++) {
        int skip = 0;
        options &= strcmp(argv[i], "--") != 0;
        if (options && (is_option(argv, argc, i, "--seed", &skip) ||
                        is_option(argv, argc, i, "--test-count", &skip))) {
            i += skip - 1;
            continue;
        }
        append_arg(&cmd, &len, argv[i]);
    }
    return cmd;
}

static int cmd_test(int argc, char **argv)
{
    struct config c;
    config_defaults(&c);
    char err[1024];
    bool help;
    int rc = cli_parse_test(argc, argv, &c, &help, err, sizeof(err));
    if (help) {
        cli_usage_test(stdout);
        config_fini(&c);
        scenario_reset();
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "eddy: %s\n", err);
        config_fini(&c);
        scenario_reset();
        return 254;
    }
    for (unsigned i = 0; i < c.note_count; i++)
        fprintf(stderr, "eddy: note: %s\n", c.notes[i]);
    bool seeded = c.seed_given;
    uint64_t base = c.seed;
    int worst = 0;
    /* As Jepsen's test command does (jepsen cli.clj, single-test-cmd), runs repeat until one is
     * not valid, whose status is then the worst of them all. */
    for (uint32_t run = 0; run < c.test_count && worst == 0; run++) {
        if (seeded) {
            c.seed = base + run;
        } else {
            uint64_t seed = 0;
            if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
                seed = (uint64_t)getpid() * 2654435761u + run;
            c.seed = seed % 1000000000000ull;
        }
        c.seed_given = true;
        if (c.test_count > 1)
            printf("eddy: run %u of %u\n", run + 1, c.test_count);
        char *cmd = reproduction(argc, argv, &c);
        worst = verdict_worse_status(worst, sim_run(&c, scenario_events(), cmd));
        free(cmd);
    }
    config_fini(&c);
    scenario_reset();
    return worst;
}

int main(int argc, char **argv)
{
    alloc_install_cjson_hooks();
    install_safety_nets();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        usage(stderr);
        return 254;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        /* The commit too when built from git: a bug report then names the exact source. */
        printf("eddy %s%s%s%s\n", EDDY_VERSION, *EDDY_COMMIT ? " (git " : "", EDDY_COMMIT,
               *EDDY_COMMIT ? ")" : "");
        return 0;
    }
    if (strcmp(argv[1], "test") == 0)
        return cmd_test(argc - 2, argv + 2);
    if (strcmp(argv[1], "matrix") == 0)
        return matrix_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "shrink") == 0)
        return shrink_main(argc - 2, argv + 2);
    fprintf(stderr, "eddy: unknown command '%s' (try eddy --help)\n", argv[1]);
    return 254;
}
