/*
 * cli.c: `eddy test` flags, parsed as Maelstrom parses them.
 *
 * Maelstrom (tools.cli) takes options anywhere, collects non-option words as arguments for the
 * node binary, and stops at "--". eddy does the same, and accepts one more form: an unknown
 * option after --bin starts the node's arguments, so `--bin eddy-node --ids counter` works
 * (Maelstrom needs `--bin eddy-node -- --ids counter`). A scenario file, if named, is loaded
 * first; flags on the command line then override it. Every error is one line naming the flag.
 * Depends on: config, scenario. Used by: main.
 */
#include "cli.h"
#include "scenario.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== Defaults ==== */

static const char *const fault_names[] = {
#define XX(e, name) name,
    FAULT_MAP(XX)
#undef XX
};

const char *fault_kind_name(enum fault_kind k)
{
    ASSERT(k < FAULT_KIND_COUNT);
    return fault_names[k];
}

int fault_kind_parse(const char *name, size_t len, enum fault_kind *out)
{
    for (int k = 0; k < FAULT_KIND_COUNT; k++) {
        if (strlen(fault_names[k]) == len && memcmp(fault_names[k], name, len) == 0) {
            *out = (enum fault_kind)k;
            return 0;
        }
    }
    return -EINVAL;
}

const char *workload_name(enum workload_kind w)
{
    switch (w) {
    case WORKLOAD_ECHO:
        return "echo";
    case WORKLOAD_UNIQUE_IDS:
        return "unique-ids";
    case WORKLOAD_NONE:
        break;
    }
    return "none";
}

void config_set_node_names(struct config *c, char **names, uint32_t count)
{
    for (uint32_t i = 0; i < c->node_count; i++)
        free(c->node_names[i]);
    free(c->node_names);
    c->node_names = names;
    c->node_count = count;
}

void config_set_node_count(struct config *c, uint32_t count)
{
    char **names = xcalloc(count, sizeof(*names));
    for (uint32_t i = 0; i < count; i++) {
        char tmp[16];
        snprintf(tmp, sizeof(tmp), "n%u", i);
        names[i] = xstrdup(tmp);
    }
    config_set_node_names(c, names, count);
}

void config_defaults(struct config *c)
{
    *c = (struct config){
        .time_limit_s = 60,
        .rate = 5,
        .latency_ms = 0,
        .latency_dist = LATENCY_CONSTANT,
        .nemesis_interval_s = 10,
        .store = "store",
        .history = true,
        .client_timeout_ms = 5000,
        .init_timeout_ms = 10000,
        .progress = true,
    };
    snprintf(c->concurrency_text, sizeof(c->concurrency_text), "1n");
}

void config_fini(struct config *c)
{
    config_set_node_names(c, NULL, 0);
    for (size_t i = 0; i < c->owned_len; i++)
        free(c->owned[i]);
    free(c->owned);
    c->owned = NULL;
    c->owned_len = 0;
}

/* ==== Value parsers (shared with scenario.c through cli.h) ==== */

int cli_parse_double(const char *s, double *out)
{
    /* strtod skips leading space; a strict parser must not. */
    if (!*s || *s == ' ' || (*s >= '\t' && *s <= '\r'))
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v))
        return -EINVAL;
    *out = v;
    return 0;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return -EINVAL;
    *out = v;
    return 0;
}

int cli_set_workload(struct config *c, const char *v)
{
    if (strcmp(v, "echo") == 0)
        c->workload = WORKLOAD_ECHO;
    else if (strcmp(v, "unique-ids") == 0)
        c->workload = WORKLOAD_UNIQUE_IDS;
    else
        return -EINVAL;
    return 0;
}

int cli_set_latency_dist(struct config *c, const char *v)
{
    if (strcmp(v, "constant") == 0)
        c->latency_dist = LATENCY_CONSTANT;
    else if (strcmp(v, "uniform") == 0)
        c->latency_dist = LATENCY_UNIFORM;
    else if (strcmp(v, "exponential") == 0)
        c->latency_dist = LATENCY_EXPONENTIAL;
    else
        return -EINVAL;
    return 0;
}

int cli_set_nemesis(struct config *c, const char *v)
{
    unsigned mask = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ' ')
            p++;
        if (p == start)
            break;
        enum fault_kind k;
        if (fault_kind_parse(start, (size_t)(p - start), &k) < 0)
            return -EINVAL;
        mask |= 1u << k;
    }
    c->nemesis = mask;
    return 0;
}

int cli_set_availability(struct config *c, const char *v)
{
    if (strcmp(v, "total") == 0) {
        c->availability = AVAILABILITY_TOTAL;
        return 0;
    }
    double f;
    if (cli_parse_double(v, &f) < 0 || f < 0 || f > 1)
        return -EINVAL;
    c->availability = AVAILABILITY_FRACTION;
    c->availability_min = f;
    return 0;
}

int cli_set_rate(struct config *c, const char *v)
{
    if (strcmp(v, "max") == 0) {
        c->rate_max = true;
        return 0;
    }
    double r;
    if (cli_parse_double(v, &r) < 0 || r < 0)
        return -EINVAL;
    c->rate = r;
    c->rate_max = false;
    return 0;
}

int cli_set_concurrency(struct config *c, const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n >= sizeof(c->concurrency_text))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        bool last_n = i == n - 1 && v[i] == 'n' && i > 0;
        if (!last_n && (v[i] < '0' || v[i] > '9'))
            return -EINVAL;
    }
    memcpy(c->concurrency_text, v, n + 1);
    return 0;
}

/* ==== The flag table ==== */

enum opt_id {
    OPT_WORKLOAD,
    OPT_BIN,
    OPT_NODE_COUNT,
    OPT_NODES,
    OPT_NODE,
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
    OPT_SEED,
    OPT_STORE,
    OPT_SCENARIO,
    OPT_JUNIT,
    OPT_NO_HISTORY,
    OPT_NO_PROGRESS,
    OPT_FAIL_FAST,
    OPT_STRICT,
    OPT_HELP,
};

struct opt {
    const char *shortname; /* NULL when none */
    const char *name;
    bool takes_value;
    enum opt_id id;
};

static const struct opt opts[] = {
    {"-w", "--workload", true, OPT_WORKLOAD},
    {NULL, "--bin", true, OPT_BIN},
    {NULL, "--node-count", true, OPT_NODE_COUNT},
    {NULL, "--nodes", true, OPT_NODES},
    {"-n", "--node", true, OPT_NODE},
    {NULL, "--time-limit", true, OPT_TIME_LIMIT},
    {NULL, "--rate", true, OPT_RATE},
    {NULL, "--concurrency", true, OPT_CONCURRENCY},
    {NULL, "--latency", true, OPT_LATENCY},
    {NULL, "--latency-dist", true, OPT_LATENCY_DIST},
    {NULL, "--nemesis", true, OPT_NEMESIS},
    {NULL, "--nemesis-interval", true, OPT_NEMESIS_INTERVAL},
    {NULL, "--availability", true, OPT_AVAILABILITY},
    {NULL, "--log-stderr", false, OPT_LOG_STDERR},
    {NULL, "--log-net-send", false, OPT_LOG_NET_SEND},
    {NULL, "--log-net-recv", false, OPT_LOG_NET_RECV},
    {NULL, "--seed", true, OPT_SEED},
    {NULL, "--store", true, OPT_STORE},
    {NULL, "--scenario", true, OPT_SCENARIO},
    {NULL, "--junit", true, OPT_JUNIT},
    {NULL, "--no-history", false, OPT_NO_HISTORY},
    {NULL, "--no-progress", false, OPT_NO_PROGRESS},
    {NULL, "--fail-fast", false, OPT_FAIL_FAST},
    {NULL, "--strict", false, OPT_STRICT},
    {"-h", "--help", false, OPT_HELP},
};

void cli_usage_test(FILE *f)
{
    fputs("usage: eddy test -w echo|unique-ids --bin PATH [FLAGS] [-- NODE-ARGS...]\n"
          "\n"
          "Runs node processes as Maelstrom does, drives a workload, injects faults and\n"
          "checks the results. Flags with Maelstrom's names have Maelstrom's meaning and\n"
          "defaults.\n"
          "\n"
          "Maelstrom flags:\n"
          "  -w, --workload NAME        echo or unique-ids (required)\n"
          "  --bin PATH                 node binary, run with an argv, never a shell (required)\n"
          "  --node-count N             nodes n0..n(N-1) (default: Maelstrom's n1..n5)\n"
          "  --nodes A,B,C / --node A   explicit node names\n"
          "  --time-limit SECONDS       length of the client phase (default 60)\n"
          "  --rate OPS                 requests per second, 0 for none (default 5)\n"
          "  --concurrency N|Nn         client workers; Nn = N x nodes (default 1n)\n"
          "  --latency MS               mean inter-node latency (default 0)\n"
          "  --latency-dist DIST        constant, uniform or exponential (default constant)\n"
          "  --nemesis LIST             faults, comma-separated: partition (Maelstrom's only\n"
          "                             fault), and eddy's clock, kill, pause, loss, duplicate\n"
          "  --nemesis-interval SECONDS mean time between fault operations (default 10)\n"
          "  --availability total|F     fraction of ops that must succeed (default: any)\n"
          "  --log-stderr               copy node stderr to the console\n"
          "  --log-net-send             print every message sent\n"
          "  --log-net-recv             print every message delivered\n"
          "\n"
          "eddy extensions:\n"
          "  --rate max                 as fast as the nodes answer\n"
          "  --seed N                   seed for every random choice (printed at start)\n"
          "  --store DIR                where results go (default store)\n"
          "  --scenario FILE            a scenario file; flags given here override it\n"
          "  --junit FILE               also write JUnit XML, one testcase per checker\n"
          "  --no-history               do not write history.jsonl (benchmarks only)\n"
          "  --no-progress              no progress line, even on a terminal\n"
          "  --fail-fast                end the run at the first anomaly (a duplicate, an echo\n"
          "                             error, with --strict a protocol violation), outputs and\n"
          "                             verdict kept\n"
          "  --strict                   protocol violations fail the run (by default they are\n"
          "                             warnings, as Maelstrom's verdict ignores them)\n"
          "\n"
          "Arguments that are not flags, everything after --, and an unknown flag after\n"
          "--bin (with all that follows it) are passed to the node binary.\n"
          "\n"
          "Exit status: 0 valid, 1 invalid, 2 unknown, 254 bad arguments, 255 the run broke\n"
          "(a node crashed, failed init, or could not be started).\n",
          f);
}

EDDY_PRINTF(3, 4) static int cli_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static const struct opt *opt_find(const char *arg, const char **inline_value)
{
    *inline_value = NULL;
    const char *eq = strchr(arg, '=');
    size_t n = eq && arg[1] == '-' ? (size_t)(eq - arg) : strlen(arg);
    for (size_t i = 0; i < ARRAY_LEN(opts); i++) {
        bool full = strlen(opts[i].name) == n && memcmp(opts[i].name, arg, n) == 0;
        bool shrt = opts[i].shortname && strcmp(opts[i].shortname, arg) == 0;
        if (full || shrt) {
            if (full && eq)
                *inline_value = eq + 1;
            return &opts[i];
        }
    }
    return NULL;
}

struct node_list {
    char **names;
    uint32_t count;
};

static int node_list_add(struct node_list *l, const char *name, size_t len, char *err, size_t elen)
{
    if (len == 0)
        return cli_err(err, elen, "--nodes: empty node name");
    if (l->count >= NODES_MAX)
        return cli_err(err, elen, "--nodes: more than %u nodes", NODES_MAX);
    for (uint32_t i = 0; i < l->count; i++)
        if (strlen(l->names[i]) == len && memcmp(l->names[i], name, len) == 0)
            return cli_err(err, elen, "--nodes: node '%.*s' given twice", (int)len, name);
    l->names = xrealloc(l->names, (l->count + 1) * sizeof(char *));
    l->names[l->count++] = xstrndup(name, len);
    return 0;
}

static int apply(struct config *c, const struct opt *o, const char *v, struct node_list *nodes,
                 bool *node_count_seen, char *err, size_t elen)
{
    uint64_t u;
    double d;
    switch (o->id) {
    case OPT_WORKLOAD:
        if (cli_set_workload(c, v) < 0)
            return cli_err(err, elen,
                           "--workload: '%s' is not supported; eddy runs echo and unique-ids", v);
        return 0;
    case OPT_BIN:
        c->bin = v;
        return 0;
    case OPT_NODE_COUNT:
        if (cli_parse_u64(v, &u) < 0 || u == 0 || u > NODES_MAX)
            return cli_err(err, elen, "--node-count: must be an integer from 1 to %u, got '%s'",
                           NODES_MAX, v);
        config_set_node_count(c, (uint32_t)u);
        *node_count_seen = true;
        return 0;
    case OPT_NODES: {
        if (!*v)
            return cli_err(err, elen, "--nodes: empty node list");
        const char *p = v;
        while (*p) {
            const char *start = p;
            while (*p && *p != ',')
                p++;
            const char *end = p;
            while (start < end && *start == ' ')
                start++;
            if (node_list_add(nodes, start, (size_t)(end - start), err, elen) < 0)
                return -EINVAL;
            if (*p == ',')
                p++;
        }
        return 0;
    }
    case OPT_NODE:
        return node_list_add(nodes, v, strlen(v), err, elen);
    case OPT_TIME_LIMIT:
        if (cli_parse_double(v, &d) < 0 || d <= 0)
            return cli_err(err, elen,
                           "--time-limit: must be a positive number of seconds, got '%s'", v);
        c->time_limit_s = d;
        return 0;
    case OPT_RATE:
        if (cli_set_rate(c, v) < 0)
            return cli_err(err, elen, "--rate: must be a non-negative number or 'max', got '%s'",
                           v);
        return 0;
    case OPT_CONCURRENCY:
        if (cli_set_concurrency(c, v) < 0)
            return cli_err(err, elen,
                           "--concurrency: must be an integer, optionally followed by n, got '%s'",
                           v);
        return 0;
    case OPT_LATENCY:
        if (cli_parse_double(v, &d) < 0 || d < 0)
            return cli_err(err, elen, "--latency: must be a non-negative number of ms, got '%s'",
                           v);
        c->latency_ms = d;
        return 0;
    case OPT_LATENCY_DIST:
        if (cli_set_latency_dist(c, v) < 0)
            return cli_err(err, elen,
                           "--latency-dist: must be constant, uniform or exponential, got '%s'", v);
        return 0;
    case OPT_NEMESIS:
        if (cli_set_nemesis(c, v) < 0)
            return cli_err(err, elen,
                           "--nemesis: '%s' names an unknown fault (partition, clock, kill, pause, "
                           "loss, duplicate)",
                           v);
        return 0;
    case OPT_NEMESIS_INTERVAL:
        if (cli_parse_double(v, &d) < 0 || d <= 0)
            return cli_err(err, elen, "--nemesis-interval: must be a positive number, got '%s'", v);
        c->nemesis_interval_s = d;
        return 0;
    case OPT_AVAILABILITY:
        if (cli_set_availability(c, v) < 0)
            return cli_err(err, elen,
                           "--availability: must be 'total' or a number from 0 to 1, got '%s'", v);
        return 0;
    case OPT_LOG_STDERR:
        c->log_stderr = true;
        return 0;
    case OPT_LOG_NET_SEND:
        c->log_net_send = true;
        return 0;
    case OPT_LOG_NET_RECV:
        c->log_net_recv = true;
        return 0;
    case OPT_SEED:
        if (cli_parse_u64(v, &u) < 0)
            return cli_err(err, elen, "--seed: must be a non-negative integer, got '%s'", v);
        c->seed = u;
        c->seed_given = true;
        return 0;
    case OPT_STORE:
        if (!*v)
            return cli_err(err, elen, "--store: must not be empty");
        c->store = v;
        return 0;
    case OPT_SCENARIO:
        c->scenario = v;
        return 0;
    case OPT_JUNIT:
        if (!*v)
            return cli_err(err, elen, "--junit: must not be empty");
        c->junit = v;
        return 0;
    case OPT_NO_HISTORY:
        c->history = false;
        return 0;
    case OPT_NO_PROGRESS:
        c->progress = false;
        return 0;
    case OPT_FAIL_FAST:
        c->fail_fast = true;
        return 0;
    case OPT_STRICT:
        c->strict = true;
        return 0;
    case OPT_HELP:
        return 0;
    }
    return 0;
}

/* Finds --scenario FILE (or --scenario=FILE) before the real pass, so that the file is applied
 * first and every flag overrides it. Walks the arguments as the real pass does, so that a
 * --scenario meant for the node (after "--", or after an unknown flag that follows --bin) is
 * left to the node. */
static const char *find_scenario(int argc, char **argv)
{
    bool bin_seen = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return NULL;
        if (a[0] != '-' || a[1] == '\0')
            continue;
        const char *value;
        const struct opt *o = opt_find(a, &value);
        if (!o)
            return NULL; /* unknown: an error, or the start of the node's arguments */
        if (o->takes_value && !value && i + 1 < argc)
            value = argv[++i];
        if (o->id == OPT_SCENARIO)
            return value;
        bin_seen |= o->id == OPT_BIN;
    }
    (void)bin_seen;
    return NULL;
}

static int add_node_arg(struct config *c, const char *a, char *err, size_t elen)
{
    if (c->node_arg_count >= NODE_ARGS_MAX)
        return cli_err(err, elen, "more than %u arguments for the node", NODE_ARGS_MAX);
    c->node_args[c->node_arg_count++] = a;
    return 0;
}

static int resolve(struct config *c, struct node_list *nodes, bool node_count_seen, char *err,
                   size_t elen)
{
    if (c->workload == WORKLOAD_NONE)
        return cli_err(err, elen,
                       "--workload: required (eddy runs echo and unique-ids; "
                       "Maelstrom's default lin-kv is not supported)");
    if (!c->bin)
        return cli_err(err, elen, "Expected a --bin PATH_TO_BINARY to test");
    /* --node-count overrides --nodes and --node, as in Maelstrom; either overrides a scenario. */
    if (!node_count_seen && nodes->count > 0) {
        config_set_node_names(c, nodes->names, nodes->count);
        nodes->names = NULL;
        nodes->count = 0;
    }
    if (c->node_count == 0) {
        /* Jepsen's default node list, which Maelstrom inherits when no flag names nodes. */
        char **names = xcalloc(5, sizeof(*names));
        for (int i = 0; i < 5; i++) {
            char tmp[8];
            snprintf(tmp, sizeof(tmp), "n%d", i + 1);
            names[i] = xstrdup(tmp);
        }
        config_set_node_names(c, names, 5);
    }
    const char *t = c->concurrency_text;
    size_t n = strlen(t);
    bool per_node = t[n - 1] == 'n';
    char digits[24];
    memcpy(digits, t, n - per_node);
    digits[n - per_node] = '\0';
    uint64_t k;
    if (cli_parse_u64(digits, &k) < 0)
        return cli_err(err, elen, "--concurrency: '%s' is not an integer", t);
    uint64_t workers = k > CONCURRENCY_MAX ? UINT64_MAX : per_node ? k * c->node_count : k;
    if (workers > CONCURRENCY_MAX)
        return cli_err(err, elen, "--concurrency: %s means more than %u workers", t,
                       CONCURRENCY_MAX);
    c->concurrency = (uint32_t)workers;
    if (c->scenario && scenario_resolve(c, err, elen) < 0)
        return -EINVAL;
    return 0;
}

int cli_parse_test(int argc, char **argv, struct config *c, bool *help, char *err, size_t elen)
{
    struct node_list nodes = {0};
    bool node_count_seen = false;
    bool bin_seen = false;
    int rc = 0;
    *help = false;

    const char *scenario = find_scenario(argc, argv);
    if (scenario) {
        rc = scenario_load_file(scenario, c, err, elen);
        if (rc < 0)
            return rc;
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++)
                if ((rc = add_node_arg(c, argv[i], err, elen)) < 0)
                    goto out;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if ((rc = add_node_arg(c, a, err, elen)) < 0)
                goto out;
            continue;
        }
        const char *value;
        const struct opt *o = opt_find(a, &value);
        if (!o && bin_seen) {
            /* eddy extension: the node's own flags may follow --bin PATH directly. */
            for (; i < argc; i++)
                if ((rc = add_node_arg(c, argv[i], err, elen)) < 0)
                    goto out;
            break;
        }
        if (!o) {
            rc = cli_err(err, elen, "Unknown option: %s (see eddy test --help)", a);
            goto out;
        }
        if (o->id == OPT_HELP) {
            *help = true;
            goto out;
        }
        if (o->takes_value && !value) {
            if (i + 1 >= argc) {
                rc = cli_err(err, elen, "Missing required argument for \"%s\"", o->name);
                goto out;
            }
            value = argv[++i];
        } else if (!o->takes_value && value) {
            rc = cli_err(err, elen, "%s takes no value", o->name);
            goto out;
        }
        if ((rc = apply(c, o, value, &nodes, &node_count_seen, err, elen)) < 0)
            goto out;
        bin_seen |= o->id == OPT_BIN;
    }
    rc = resolve(c, &nodes, node_count_seen, err, elen);
out:
    for (uint32_t i = 0; i < nodes.count; i++)
        free(nodes.names[i]);
    free(nodes.names);
    return rc;
}
