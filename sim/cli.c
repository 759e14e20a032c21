/*
 * cli.c: `eddy test` options, parsed as Maelstrom parses them, from one table.
 *
 * The options are one table of data (options.c): every option of `maelstrom test` and eddy's
 * additions. As tools.cli does (jepsen src/jepsen/cli.clj at 0.3.7), options may come anywhere,
 * words that are not options are the node's arguments, "--" ends the options, and an unknown
 * option is refused (with the nearest known one suggested). A scenario file, if named, is loaded
 * first; options on the command line then override it. Every error is one line naming the
 * option.
 * Depends on: config, options, scenario, utf8. Used by: main.
 */
#include "cli.h"
#include "options.h"
#include "scenario.h"
#include "utf8.h"
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

static const char *const clock_via_names[] = {"auto", "preload", "syscall", "vdso"};

const char *clock_via_name(enum clock_via v)
{
    ASSERT((size_t)v < ARRAY_LEN(clock_via_names));
    return clock_via_names[v];
}

int clock_via_parse(const char *name, enum clock_via *out)
{
    for (size_t i = 0; i < ARRAY_LEN(clock_via_names); i++) {
        if (strcmp(name, clock_via_names[i]) == 0) {
            *out = (enum clock_via)i;
            return 0;
        }
    }
    return -EINVAL;
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
        .checker_memory = CHECKER_MEMORY_DEFAULT,
        .history_max = HISTORY_MAX_DEFAULT,
        .client_timeout_ms = 5000,
        .init_timeout_ms = 10000,
        .progress = true,
        .test_count = 1,
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

int cli_parse_size(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -EINVAL;
    unsigned shift = 0;
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        break;
    case 'm':
    case 'M':
        shift = 20;
        break;
    case 'g':
    case 'G':
        shift = 30;
        break;
    case 't':
    case 'T':
        shift = 40;
        break;
    }
    if (shift) {
        end++;
        if (end[0] == 'i' && end[1] == 'B')
            end++;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -EINVAL;
    *out = (uint64_t)v << shift;
    return 0;
}

int cli_set_checker_memory(struct config *c, const char *v)
{
    uint64_t n;
    if (cli_parse_size(v, &n) < 0 || n < CHECKER_MEMORY_MIN)
        return -EINVAL;
    c->checker_memory = n;
    return 0;
}

int cli_set_history_max(struct config *c, const char *v)
{
    return cli_parse_size(v, &c->history_max);
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
    if (cli_parse_ratio(v, &f) < 0 || f < 0 || f > 1)
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

/* Rationals as Clojure's read-string gives them to --nemesis-interval and --availability: a
 * decimal number, or an integer ratio such as 1/2. */
int cli_parse_ratio(const char *s, double *out)
{
    const char *slash = strchr(s, '/');
    if (!slash)
        return cli_parse_double(s, out);
    char num[32];
    size_t n = (size_t)(slash - s);
    uint64_t p, q;
    if (n == 0 || n >= sizeof(num))
        return -EINVAL;
    memcpy(num, s, n);
    num[n] = '\0';
    if (cli_parse_u64(num, &p) < 0 || cli_parse_u64(slash + 1, &q) < 0 || q == 0)
        return -EINVAL;
    *out = (double)p / (double)q;
    return 0;
}

void cli_usage_test(FILE *f)
{
    options_print_usage(f);
}

/* ==== Parsing ==== */

EDDY_PRINTF(3, 4) static int cli_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* One argument, classified. */
struct token {
    enum { TOK_OPTION, TOK_WORD, TOK_END, TOK_UNKNOWN } kind;
    const struct option_spec *opt;
    const char *value; /* the option's value (inline or the next argument), or NULL */
    bool value_inline; /* given as --name=value or -wvalue */
};

/* Reads the argument at *i (advancing past a separate value), as tools.cli tokenises:
 * "--name=value", "--name value", "-x value", "-xvalue", "--" and plain words. */
static struct token next_token(int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    struct token t = {.kind = TOK_WORD};
    if (strcmp(a, "--") == 0) {
        t.kind = TOK_END;
        return t;
    }
    if (a[0] != '-' || a[1] == '\0')
        return t;
    if (a[1] == '-') {
        const char *eq = strchr(a, '=');
        t.opt = options_find(a, eq ? (size_t)(eq - a) : strlen(a), false);
        if (t.opt && eq) {
            t.value = eq + 1;
            t.value_inline = true;
        }
    } else {
        t.opt = options_find(a, 2, true);
        if (t.opt && a[2]) {
            if (!t.opt->value)
                t.opt = NULL; /* -hx: no cluster of switches in eddy's table */
            else {
                t.value = a + 2;
                t.value_inline = true;
            }
        }
    }
    if (!t.opt) {
        t.kind = TOK_UNKNOWN;
        return t;
    }
    t.kind = TOK_OPTION;
    if (t.opt->value && !t.value && *i + 1 < argc)
        t.value = argv[++*i];
    return t;
}

struct node_list {
    char **names;
    uint32_t count;
};

static void node_list_free(struct node_list *l)
{
    for (uint32_t i = 0; i < l->count; i++)
        free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->count = 0;
}

static int node_list_add(struct node_list *l, const char *flag, const char *name, size_t len,
                         char *err, size_t elen)
{
    if (len == 0)
        return cli_err(err, elen, "%s: empty node name", flag);
    if (l->count >= NODES_MAX)
        return cli_err(err, elen, "%s: more than %u nodes", flag, NODES_MAX);
    l->names = xrealloc(l->names, (l->count + 1) * sizeof(char *));
    l->names[l->count++] = xstrndup(name, len);
    return 0;
}

/* The node lists as Jepsen and Maelstrom gather them (jepsen cli.clj parse-nodes, maelstrom
 * core.clj parse-node-count): --node-count replaces --nodes, the last --nodes replaces earlier
 * ones, and the final list is the file's names, then --nodes (or --node-count's), then each
 * --node. */
struct node_flags {
    struct node_list file, nodes, node;
    bool any;
};

static int read_nodes_file(struct node_list *l, const char *path, char *err, size_t elen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_err(err, elen, "--nodes-file: cannot read %s: %s", path, strerror(errno));
    node_list_free(l);
    char line[1024];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        size_t n = strlen(line);
        if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
            rc = cli_err(err, elen, "--nodes-file: %s has a line over %zu bytes", path,
                         sizeof(line) - 2);
            break;
        }
        /* Jepsen splits on newlines with the whitespace around them; blank lines name nobody. */
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                         line[n - 1] == '\t'))
            line[--n] = '\0';
        if (*s)
            rc = node_list_add(l, "--nodes-file", s, strlen(s), err, elen);
    }
    if (rc == 0 && ferror(f))
        rc = cli_err(err, elen, "--nodes-file: cannot read %s: %s", path, strerror(errno));
    fclose(f);
    return rc;
}

static int positive_integer(const char *flag, const char *v, uint64_t *out, char *err, size_t elen)
{
    if (cli_parse_u64(v, out) < 0 || *out == 0)
        return cli_err(err, elen, "%s: must be a positive integer, got '%s'", flag, v);
    return 0;
}

static void add_note(struct config *c, const struct option_spec *o)
{
    for (unsigned i = 0; i < c->note_count; i++)
        if (c->notes[i] == o->ignored)
            return;
    if (c->note_count < ARRAY_LEN(c->notes))
        c->notes[c->note_count++] = o->ignored;
}

static int apply_ignored(struct config *c, const struct option_spec *o, const char *v, char *err,
                         size_t elen)
{
    static const char *const topologies[] = {"line",  "grid",  "tree", "tree2",
                                             "tree3", "tree4", "total"};
    uint64_t u;
    switch (o->id) {
    case OPT_TOPOLOGY: {
        bool known = false;
        for (size_t i = 0; i < ARRAY_LEN(topologies); i++)
            known |= strcmp(v, topologies[i]) == 0;
        if (!known)
            return cli_err(err, elen,
                           "--topology: must be one of grid, line, total, tree, tree2, tree3, "
                           "tree4, got '%s'",
                           v);
        break;
    }
    case OPT_KEY_COUNT:
    case OPT_MAX_TXN_LENGTH:
    case OPT_MAX_WRITES_PER_KEY:
        if (positive_integer(o->name, v, &u, err, elen) < 0)
            return -EINVAL;
        break;
    case OPT_CONSISTENCY_MODELS:
        if (!*v)
            return cli_err(err, elen, "--consistency-models: must not be empty");
        break;
    default:
        break;
    }
    add_note(c, o);
    return 0;
}

static int apply(struct config *c, const struct option_spec *o, const char *v,
                 struct node_flags *nf, bool *node_count_seen, char *err, size_t elen)
{
    uint64_t u;
    double d;
    if (o->ignored)
        return apply_ignored(c, o, v, err, elen);
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
        node_list_free(&nf->nodes);
        for (uint64_t i = 0; i < u; i++) {
            char name[16];
            int k = snprintf(name, sizeof(name), "n%llu", (unsigned long long)i);
            node_list_add(&nf->nodes, "--node-count", name, (size_t)k, err, elen);
        }
        *node_count_seen = true;
        nf->any = true;
        return 0;
    case OPT_NODES: {
        if (!*v)
            return cli_err(err, elen, "--nodes: empty node list");
        if (*node_count_seen)
            return 0; /* --node-count overrides --nodes, in either order */
        node_list_free(&nf->nodes);
        nf->any = true;
        const char *p = v;
        while (*p) {
            const char *start = p;
            while (*p && *p != ',')
                p++;
            const char *end = p;
            while (start < end && *start == ' ')
                start++;
            if (node_list_add(&nf->nodes, "--nodes", start, (size_t)(end - start), err, elen) < 0)
                return -EINVAL;
            if (*p == ',')
                p++;
        }
        return 0;
    }
    case OPT_NODE:
        nf->any = true;
        return node_list_add(&nf->node, "--node", v, strlen(v), err, elen);
    case OPT_NODES_FILE:
        nf->any = true;
        return read_nodes_file(&nf->file, v, err, elen);
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
        /* Maelstrom reads it with parse-long: whole milliseconds. */
        if (cli_parse_u64(v, &u) < 0 || u > 86400000)
            return cli_err(err, elen,
                           "--latency: must be a non-negative integer number of ms, got '%s'", v);
        c->latency_ms = (double)u;
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
        if (cli_parse_ratio(v, &d) < 0 || d <= 0)
            return cli_err(err, elen,
                           "--nemesis-interval: must be a positive number or ratio, got '%s'", v);
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
    case OPT_TEST_COUNT:
        if (positive_integer("--test-count", v, &u, err, elen) < 0)
            return -EINVAL;
        if (u > CLI_TEST_COUNT_MAX)
            return cli_err(err, elen, "--test-count: at most %u, got '%s'", CLI_TEST_COUNT_MAX, v);
        c->test_count = (uint32_t)u;
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
    case OPT_STRICT:
        c->strict = true;
        return 0;
    case OPT_FAIL_FAST:
        c->fail_fast = true;
        return 0;
    case OPT_CLOCK_VIA:
        if (clock_via_parse(v, &c->clock_via) < 0)
            return cli_err(err, elen,
                           "--clock-via: must be auto, preload, vdso or syscall, got '%s'", v);
        return 0;
    case OPT_ALLOW_UNAPPLIED:
        c->allow_unapplied_faults = true;
        return 0;
    case OPT_NO_HISTORY:
        c->history = false;
        return 0;
    case OPT_CHECKER_MEMORY:
        if (cli_set_checker_memory(c, v) < 0)
            return cli_err(err, elen,
                           "--checker-memory: must be a size of at least 2M (such as 512M or "
                           "2G), got '%s'",
                           v);
        return 0;
    case OPT_HISTORY_MAX:
        if (cli_set_history_max(c, v) < 0)
            return cli_err(err, elen,
                           "--history-max: must be a size such as 512M or 2G (0: no limit), got "
                           "'%s'",
                           v);
        return 0;
    case OPT_NO_PROGRESS:
        c->progress = false;
        return 0;
    default:
        return 0; /* --help, and the ignored options handled above */
    }
}

/* Finds --scenario FILE before the real pass, so that the file is applied first and every
 * option overrides it. Stops at "--": what follows is the node's. */
static const char *find_scenario(int argc, char **argv)
{
    const char *found = NULL;
    for (int i = 0; i < argc; i++) {
        struct token t = next_token(argc, argv, &i);
        if (t.kind == TOK_END)
            break;
        if (t.kind == TOK_OPTION && t.opt->id == OPT_SCENARIO && t.value)
            found = t.value;
    }
    return found;
}

static int add_node_arg(struct config *c, const char *a, char *err, size_t elen)
{
    if (c->node_arg_count >= NODE_ARGS_MAX)
        return cli_err(err, elen, "more than %u arguments for the node", NODE_ARGS_MAX);
    c->node_args[c->node_arg_count++] = a;
    return 0;
}

/* Moves the gathered node flags into the config: the file's names, then --nodes or
 * --node-count's, then each --node (Jepsen drops its default list once any of them is given).
 * Duplicate names are refused: Maelstrom would start two processes on one queue. */
static int set_nodes(struct config *c, struct node_flags *nf, char *err, size_t elen)
{
    struct node_list all = {0};
    const struct node_list *parts[] = {&nf->file, &nf->nodes, &nf->node};
    int rc = 0;
    for (size_t p = 0; p < ARRAY_LEN(parts) && rc == 0; p++)
        for (uint32_t i = 0; i < parts[p]->count && rc == 0; i++)
            rc = node_list_add(&all, "--node", parts[p]->names[i], strlen(parts[p]->names[i]), err,
                               elen);
    for (uint32_t i = 0; i < all.count && rc == 0; i++)
        for (uint32_t j = 0; j < i && rc == 0; j++)
            if (strcmp(all.names[i], all.names[j]) == 0)
                rc = cli_err(err, elen,
                             "--nodes, --node, --nodes-file: node '%s' named twice (eddy refuses "
                             "duplicate node names)",
                             all.names[i]);
    if (rc == 0 && all.count == 0)
        rc = cli_err(err, elen, "--nodes: no node names");
    if (rc < 0) {
        node_list_free(&all);
        return rc;
    }
    config_set_node_names(c, all.names, all.count);
    return 0;
}

static int resolve(struct config *c, struct node_flags *nf, char *err, size_t elen)
{
    if (c->workload == WORKLOAD_NONE)
        return cli_err(err, elen,
                       "--workload: required (eddy runs echo and unique-ids; "
                       "Maelstrom's default lin-kv is not supported)");
    if (!c->bin)
        return cli_err(err, elen, "Expected a --bin PATH_TO_BINARY to test");
    /* Node flags on the command line override a scenario's node list. */
    if (nf->any && set_nodes(c, nf, err, elen) < 0)
        return -EINVAL;
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
    /* Node ids travel as JSON strings: they must be text. */
    for (uint32_t i = 0; i < c->node_count; i++)
        if (!utf8_valid(c->node_names[i], strlen(c->node_names[i])))
            return cli_err(err, elen, "--node: the name of node %u is not valid UTF-8", i + 1);
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

static int unknown_option(const char *a, char *err, size_t elen)
{
    return cli_err(err, elen,
                   "Unknown option: \"%s\"; did you mean %s? (arguments for the node go after --)",
                   a, options_nearest(a));
}

int cli_parse_test(int argc, char **argv, struct config *c, bool *help, char *err, size_t elen)
{
    struct node_flags nf = {0};
    bool node_count_seen = false;
    int rc = 0;
    *help = false;
    /* --help wins over every error, as in Jepsen's cli (run! prints the usage first). */
    for (int i = 0; i < argc; i++) {
        struct token t = next_token(argc, argv, &i);
        if (t.kind == TOK_END)
            break;
        if (t.kind == TOK_OPTION && t.opt->id == OPT_HELP) {
            *help = true;
            return 0;
        }
    }
    const char *scenario = find_scenario(argc, argv);
    if (scenario) {
        rc = scenario_load_file(scenario, c, err, elen);
        if (rc < 0)
            return rc;
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        struct token t = next_token(argc, argv, &i);
        if (t.kind == TOK_END) {
            for (i++; i < argc && rc == 0; i++)
                rc = add_node_arg(c, argv[i], err, elen);
            break;
        }
        if (t.kind == TOK_WORD) {
            if ((rc = add_node_arg(c, a, err, elen)) < 0)
                break;
            continue;
        }
        if (t.kind == TOK_UNKNOWN) {
            rc = unknown_option(a, err, elen);
            break;
        }
        if (t.opt->value && !t.value) {
            rc = cli_err(err, elen, "Missing required argument for \"%s %s\"", t.opt->name,
                         t.opt->value);
            break;
        }
        if (!t.opt->value && strchr(a, '=')) {
            rc = cli_err(err, elen, "%s takes no value", t.opt->name);
            break;
        }
        if ((rc = apply(c, t.opt, t.value, &nf, &node_count_seen, err, elen)) < 0)
            break;
    }
    if (rc == 0)
        rc = resolve(c, &nf, err, elen);
    node_list_free(&nf.file);
    node_list_free(&nf.nodes);
    node_list_free(&nf.node);
    return rc;
}
