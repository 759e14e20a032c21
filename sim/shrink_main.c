/*
 * shrink_main.c: `eddy shrink` (see shrink_main.h).
 *
 * Every candidate is an explicit scenario file run by this same binary as `eddy test
 * --fail-fast` in a child process, into a private store that is emptied after each try: a
 * failing try ends moments after its first anomaly, so the search pays for passing tries only.
 * Those are bounded too: while faults are dropped, a candidate runs until its last fault event,
 * or the original's first anomaly, plus SHRINK_TAIL_S, whichever is later (at most the time
 * limit); a bug that needs longer than that after its cause is missed by this step, never
 * invented. No try starts once --budget is spent: the best scenario so far is written.
 * Depends on: cli, scenario, nemesis, shrink, store, alloc, cJSON. Used by: main.
 */
#include "shrink_main.h"
#include "cli.h"
#include "scenario.h"
#include "shrink.h"
#include "store.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHRINK_TAIL_S 2.0 /* see the header comment */
#define ARGS_MAX 256
#define REVERTS_MAX 3 /* accepted steps the confirmation may undo */

struct step {
    char what[160];
    int fails, tries;
    bool kept;
    double secs;
};

/* One accepted candidate, for the confirmation to fall back on. */
struct accepted {
    struct shrink_knobs knobs;
    size_t *kept;
    size_t kept_len;
    double anomaly_s;
};

struct shrinker {
    char self[PATH_MAX];
    struct config cfg;
    char *argv_owned[ARGS_MAX]; /* the recorded command, split (cfg points into it) */
    int argc_owned;
    char bin_abs[PATH_MAX];
    struct nemesis_plan plan;
    struct shrink_units units;
    size_t *kept; /* the current best's units */
    size_t kept_len;
    size_t *events;            /* scratch: plan indices */
    struct shrink_knobs knobs; /* the current best's */
    char store[1024];          /* where shrink/ goes */
    char dir[1100];
    char trials[1200];
    char target[64];   /* the class of failure the search keeps; "" = any invalid run */
    double anomaly_s;  /* the current best's first anomaly, latest over its failing tries */
    double anomaly0_s; /* the original's */
    int tries, need;
    double budget_s;
    double t0;
    bool stopped; /* out of budget, or interrupted */
    struct step steps[SHRINK_STEPS_MAX];
    size_t nsteps;
    const char *step_name;
    struct accepted history[REVERTS_MAX + 1]; /* the last accepted states, newest last */
    size_t history_len;
};

/* Remembers the current best (after each accepted step). */
static void remember(struct shrinker *sh)
{
    if (sh->history_len == REVERTS_MAX + 1) {
        free(sh->history[0].kept);
        memmove(sh->history, sh->history + 1, REVERTS_MAX * sizeof(sh->history[0]));
        sh->history_len--;
    }
    struct accepted *a = &sh->history[sh->history_len++];
    a->knobs = sh->knobs;
    a->kept_len = sh->kept_len;
    a->kept = xmalloc((sh->kept_len ? sh->kept_len : 1) * sizeof(*a->kept));
    memcpy(a->kept, sh->kept, sh->kept_len * sizeof(*a->kept));
    a->anomaly_s = sh->anomaly_s;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void shrink_print_usage(FILE *f)
{
    fputs("usage: eddy shrink RUN_DIR [--budget S] [--tries N] [--need K] [--store DIR]\n"
          "       eddy shrink [--budget S] [--tries N] [--need K] EDDY-TEST-ARGUMENTS...\n"
          "\n"
          "Searches for the smallest run that still fails like the given one: drops fault\n"
          "events (delta debugging over the run's resolved fault timeline), cuts the time limit\n"
          "to just past the first anomaly, then lowers the node count, rate and concurrency.\n"
          "Each candidate is kept only if it fails, with the same class of diagnosis, in K of\n"
          "N tries of `eddy test --fail-fast`.\n"
          "\n"
          "  RUN_DIR      a run directory (its results.json has the command)\n"
          "  --budget S   seconds of search; no try starts after them (default 180)\n"
          "  --tries N    tries per candidate (default 3)\n"
          "  --need K     failing tries a candidate needs (default 2)\n"
          "  --store DIR  where STORE/shrink/<time>/ goes (default: the run's store, or store)\n"
          "\n"
          "Writes STORE/shrink/<time>/minimal.json (a scenario with an explicit timeline and no\n"
          "random schedule) and shrink.json (the steps), links STORE/shrink/latest, prints the\n"
          "steps and the command that runs the minimal scenario; progress goes to stderr.\n"
          "\n"
          "Exit status: 0 a smaller failing scenario was written, 1 nothing could be removed,\n"
          "2 the original run no longer fails, 254 bad arguments, 255 eddy could not run.\n",
          f);
}

/* ==== Files ==== */

static cJSON *read_json(const char *path)
{
    char *text = store_read_text(path, 256u << 20);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

static int write_json(const char *path, const cJSON *j)
{
    char *text = cJSON_Print(j);
    FILE *f = fopen(path, "w");
    int rc = f && fprintf(f, "%s\n", text) >= 0 ? 0 : -EIO;
    if (f && fclose(f) != 0)
        rc = -EIO;
    cJSON_free(text);
    return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Empties a directory (keeps it). */
static void empty_dir(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    mkdir(dir, 0755);
}

static int mkdirs(const char *path)
{
    char tmp[1200];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* ==== The run to shrink ==== */

/* Splits a command as report.c's reproduction quoted it (plain words, or single quotes with
 * '\'' inside). Returns the word count, or -1 when it does not parse. */
static int split_command(const char *cmd, char **out, int max)
{
    int n = 0;
    const char *p = cmd;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (n == max)
            return -1;
        char *w = xmalloc(strlen(p) + 1), *o = w;
        while (*p && *p != ' ') {
            if (*p == '\'') {
                p++;
                while (*p && *p != '\'')
                    *o++ = *p++;
                if (*p != '\'') {
                    free(w);
                    return -1;
                }
                p++;
            } else if (*p == '\\' && p[1]) {
                *o++ = p[1];
                p += 2;
            } else {
                *o++ = *p++;
            }
        }
        *o = '\0';
        out[n++] = w;
    }
    return n;
}

/* The test arguments of the run in run_dir, and its first finding's class. */
static int from_run_dir(struct shrinker *sh, const char *run_dir, char ***argv, int *argc,
                        char *err, size_t elen)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/results.json", run_dir);
    cJSON *r = read_json(path);
    if (!r) {
        snprintf(err, elen, "cannot read %s", path);
        return -ENOENT;
    }
    const cJSON *cmd =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "eddy"), "command");
    int n = cJSON_IsString(cmd) ? split_command(cmd->valuestring, sh->argv_owned, ARGS_MAX) : -1;
    if (n < 2 || strcmp(sh->argv_owned[1], "test") != 0) {
        snprintf(err, elen, "%s: no eddy test command recorded", path);
        cJSON_Delete(r);
        return -EINVAL;
    }
    sh->argc_owned = n;
    *argv = sh->argv_owned + 2;
    *argc = n - 2;
    /* No target from the run's diagnosis: its first class is the most frequent over the whole
     * run, but every try stops at its first anomaly (--fail-fast), which may be of another
     * class (a snowflake node under chaos: a replayed restart's duplicate at 2.7 s, before the
     * frozen clock's many). The original's first failing try sets the target instead. */
    cJSON_Delete(r);
    return 0;
}

/* ==== One candidate ==== */

struct outcome {
    int fails, tries;
    double anomaly_s; /* latest first anomaly among the failing tries */
    bool stop;
    struct step *step; /* its row in the table, NULL past SHRINK_STEPS_MAX */
};

/* One `eddy test --fail-fast` of the scenario at path: 1 it failed as wanted, 0 not, -1 stop. */
static int try_once(struct shrinker *sh, const char *path, double *anomaly_s)
{
    char log[1200];
    snprintf(log, sizeof(log), "%s/last-try.log", sh->dir);
    const char *argv[] = {sh->self,   "test",          "--scenario",  path, "--store",
                          sh->trials, "--no-progress", "--fail-fast", NULL};
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execv(sh->self, (char *const *)argv);
        _exit(255);
    }
    if (pid < 0)
        return -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code >= 128 && code != 255)
        return -1; /* interrupted: the user wants out */
    char rpath[1300];
    snprintf(rpath, sizeof(rpath), "%s/latest/results.json", sh->trials);
    cJSON *r = read_json(rpath);
    bool failed = code == 1 && r;
    if (failed && sh->target[0]) {
        bool same = false;
        const cJSON *d;
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(r, "diagnosis"))
        {
            const cJSON *cls = cJSON_GetObjectItemCaseSensitive(d, "class");
            same |= cJSON_IsString(cls) && strcmp(cls->valuestring, sh->target) == 0;
        }
        failed = same;
    } else if (failed) {
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "diagnosis"), 0), "class");
        if (cJSON_IsString(cls))
            snprintf(sh->target, sizeof(sh->target), "%s", cls->valuestring);
    }
    if (failed) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(r, "first-anomaly"), "time");
        if (!cJSON_IsNumber(t))
            t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "fail-fast"),
                                                 "time");
        *anomaly_s = cJSON_IsNumber(t) ? t->valuedouble : NAN;
    }
    cJSON_Delete(r);
    empty_dir(sh->trials);
    return failed ? 1 : 0;
}

static void describe(const struct shrinker *sh, const struct shrink_knobs *k, size_t events,
                     char *out, size_t cap)
{
    char rate[32];
    if (k->rate_max)
        snprintf(rate, sizeof(rate), "max");
    else
        snprintf(rate, sizeof(rate), "%g", k->rate);
    snprintf(out, cap, "%zu fault event%s, %g s, %u node%s, rate %s, concurrency %s", events,
             events == 1 ? "" : "s", k->time_limit_s, k->node_count, k->node_count == 1 ? "" : "s",
             rate, k->concurrency);
    (void)sh;
}

/* Writes the candidate (units, knobs) and tries it until it is decided. */
static int candidate(struct shrinker *sh, const size_t *units, size_t n,
                     const struct shrink_knobs *k, const char *what, struct outcome *o)
{
    memset(o, 0, sizeof(*o));
    o->anomaly_s = -1;
    size_t ne = shrink_units_events(&sh->units, units, n, sh->plan.len, sh->events);
    cJSON *sc = shrink_scenario(&sh->cfg, sh->bin_abs, k, &sh->plan, sh->events, ne,
                                "A candidate of eddy shrink.");
    char path[1200];
    snprintf(path, sizeof(path), "%s/candidate.json", sh->dir);
    int rc = write_json(path, sc);
    cJSON_Delete(sc);
    if (rc < 0) {
        fprintf(stderr, "eddy shrink: cannot write %s\n", path);
        sh->stopped = true;
        return -1;
    }
    double start = mono();
    for (int i = 0; i < sh->tries; i++) {
        if (o->fails >= sh->need || o->fails + (sh->tries - i) < sh->need)
            break; /* decided */
        if (mono() - sh->t0 >= sh->budget_s) {
            sh->stopped = true;
            o->stop = true;
            break;
        }
        double a = NAN;
        int r = try_once(sh, path, &a);
        if (r < 0) {
            sh->stopped = true;
            o->stop = true;
            break;
        }
        o->tries++;
        o->fails += r;
        if (r == 1 && !isnan(a))
            o->anomaly_s = EDDY_MAX(o->anomaly_s, a);
        fprintf(stderr, "eddy shrink: [%5.1f s] %s: %s: try %d of %d %s\n", mono() - sh->t0,
                sh->step_name, what, i + 1, sh->tries, r ? "fails" : "passes");
    }
    bool kept = !o->stop && o->fails >= sh->need;
    if (sh->nsteps < SHRINK_STEPS_MAX) {
        struct step *s = o->step = &sh->steps[sh->nsteps++];
        snprintf(s->what, sizeof(s->what), "%s", what);
        s->fails = o->fails;
        s->tries = o->tries;
        s->kept = kept;
        s->secs = mono() - start;
    }
    return o->stop ? -1 : kept ? 1 : 0;
}

/* ==== Step 1: faults ==== */

static double ceil_tenth(double s)
{
    return ceil(s * 10 - 1e-9) / 10;
}

static int test_units(void *ctx, const size_t *units, size_t n)
{
    struct shrinker *sh = ctx;
    size_t ne = shrink_units_events(&sh->units, units, n, sh->plan.len, sh->events);
    double last = 0;
    for (size_t i = 0; i < ne; i++)
        last = EDDY_MAX(last, sh->plan.events[sh->events[i]].at_s);
    struct shrink_knobs k = sh->knobs;
    k.time_limit_s =
        EDDY_MIN(k.time_limit_s, ceil_tenth(EDDY_MAX(last, sh->anomaly0_s) + SHRINK_TAIL_S));
    char what[160];
    snprintf(what, sizeof(what), "%zu of %zu fault units (%zu events), %g s", n, sh->units.len, ne,
             k.time_limit_s);
    struct outcome o;
    int r = candidate(sh, units, n, &k, what, &o);
    if (r == 1) {
        if (n)
            memcpy(sh->kept, units, n * sizeof(*units));
        sh->kept_len = n;
        sh->knobs = k;
        sh->anomaly_s = o.anomaly_s;
        remember(sh);
    }
    return r;
}

static void drop_faults(struct shrinker *sh)
{
    sh->step_name = "drop faults";
    if (sh->units.len == 0)
        return;
    if (test_units(sh, NULL, 0) != 0)
        return; /* none at all still fails (or out of budget) */
    size_t *work = xmalloc(sh->kept_len * sizeof(*work));
    memcpy(work, sh->kept, sh->kept_len * sizeof(*work));
    size_t n = sh->kept_len;
    if (n >= 2)
        shrink_ddmin(work, &n, test_units, sh);
    /* test_units recorded each accepted candidate; ddmin's own result is the same set. */
    free(work);
}

/* ==== Steps 2 and 3: time, nodes, rate, concurrency ==== */

/* With `guard`, a candidate whose first anomaly comes more than halfway from the current one to
 * its time limit is not kept although it failed: fewer nodes or ops push the anomaly later, and
 * a scenario that fails only near its end would not fail reliably. */
static int try_knobs(struct shrinker *sh, const struct shrink_knobs *k, const char *what,
                     bool guard)
{
    struct outcome o;
    int r = candidate(sh, sh->kept, sh->kept_len, k, what, &o);
    if (r == 1 && guard && o.anomaly_s > (sh->anomaly_s + k->time_limit_s) / 2) {
        if (o.step) {
            o.step->kept = false;
            size_t len = strlen(o.step->what);
            snprintf(o.step->what + len, sizeof(o.step->what) - len,
                     " (anomaly at %.3f s: too late)", o.anomaly_s);
        }
        fprintf(stderr, "eddy shrink: %s: the anomaly came at %.3f s, too close to the end\n", what,
                o.anomaly_s);
        return 0;
    }
    if (r == 1) {
        sh->knobs = *k;
        sh->anomaly_s = o.anomaly_s;
        remember(sh);
    }
    return r;
}

static void cut_time(struct shrinker *sh)
{
    sh->step_name = "cut time";
    if (sh->anomaly_s < 0 || sh->stopped)
        return;
    struct shrink_knobs k = sh->knobs;
    /* Past the anomaly by half its time (at least 0.5 s): what delays it (starting a node,
     * a loaded machine) varies from run to run. */
    k.time_limit_s = ceil_tenth(sh->anomaly_s + EDDY_MAX(0.5, 0.5 * sh->anomaly_s));
    if (k.time_limit_s >= sh->knobs.time_limit_s)
        return;
    char what[96];
    snprintf(what, sizeof(what), "time limit %g s (first anomaly at %.3f s)", k.time_limit_s,
             sh->anomaly_s);
    try_knobs(sh, &k, what, false);
}

static void fewer_nodes(struct shrinker *sh)
{
    sh->step_name = "fewer nodes";
    size_t ne = shrink_units_events(&sh->units, sh->kept, sh->kept_len, sh->plan.len, sh->events);
    uint32_t lo = EDDY_MAX(shrink_nodes_needed(&sh->plan, sh->events, ne), 1u);
    uint32_t hi = sh->knobs.node_count; /* known to fail */
    while (lo < hi && !sh->stopped) {
        uint32_t mid = lo + (hi - lo) / 2;
        struct shrink_knobs k = sh->knobs;
        k.node_count = mid;
        char what[64];
        snprintf(what, sizeof(what), "%u node%s", mid, mid == 1 ? "" : "s");
        int r = try_knobs(sh, &k, what, true);
        if (r == 1)
            hi = mid;
        else if (r == 0)
            lo = mid + 1;
    }
}

/* Quarter by quarter: each try costs seconds, and a rate matters by its order of magnitude. */
static void lower_rate(struct shrinker *sh)
{
    sh->step_name = "lower rate";
    for (int i = 0; i < 5 && !sh->stopped; i++) {
        struct shrink_knobs k = sh->knobs;
        if (k.rate_max) {
            k.rate_max = false;
            k.rate = 1000;
        } else {
            k.rate = floor(k.rate / 4);
        }
        if (k.rate < 1)
            return;
        char what[64];
        snprintf(what, sizeof(what), "rate %g", k.rate);
        if (try_knobs(sh, &k, what, true) != 1)
            return;
    }
}

static void lower_concurrency(struct shrinker *sh)
{
    sh->step_name = "lower concurrency";
    for (int i = 0; i < 6 && !sh->stopped; i++) {
        struct shrink_knobs k = sh->knobs;
        size_t len = strlen(k.concurrency);
        bool per_node = len > 0 && k.concurrency[len - 1] == 'n';
        unsigned long v = strtoul(k.concurrency, NULL, 10);
        if (v <= 1)
            return;
        snprintf(k.concurrency, sizeof(k.concurrency), "%lu%s", v / 2, per_node ? "n" : "");
        char what[64];
        snprintf(what, sizeof(what), "concurrency %s", k.concurrency);
        if (try_knobs(sh, &k, what, true) != 1)
            return;
    }
}

/* The best found sits where failing stops: tried once more, it must still fail k of n times,
 * or the search falls back to the state accepted before it. */
static void confirm(struct shrinker *sh)
{
    sh->step_name = "confirm";
    for (size_t back = 0; back <= REVERTS_MAX && sh->history_len > 1 && !sh->stopped; back++) {
        struct outcome o;
        if (candidate(sh, sh->kept, sh->kept_len, &sh->knobs, "the best so far, again", &o) != 0)
            return; /* confirmed, or out of budget */
        free(sh->history[--sh->history_len].kept);
        const struct accepted *a = &sh->history[sh->history_len - 1];
        sh->knobs = a->knobs;
        memcpy(sh->kept, a->kept, a->kept_len * sizeof(*sh->kept));
        sh->kept_len = a->kept_len;
        sh->anomaly_s = a->anomaly_s;
    }
}

/* ==== Output ==== */

static size_t events_in(struct shrinker *sh, const struct shrink_knobs *k)
{
    size_t ne = shrink_units_events(&sh->units, sh->kept, sh->kept_len, sh->plan.len, sh->events);
    size_t in = 0;
    for (size_t i = 0; i < ne; i++)
        in += sh->plan.events[sh->events[i]].at_s <= k->time_limit_s;
    return in;
}

static int finish(struct shrinker *sh, const struct shrink_knobs *orig, size_t orig_events,
                  const char *store)
{
    size_t ne = shrink_units_events(&sh->units, sh->kept, sh->kept_len, sh->plan.len, sh->events);
    size_t written = events_in(sh, &sh->knobs);
    char before[200], after[200];
    describe(sh, orig, orig_events, before, sizeof(before));
    describe(sh, &sh->knobs, written, after, sizeof(after));
    char desc[600];
    snprintf(desc, sizeof(desc), "Found by eddy shrink: %s (the original: %s).", after, before);
    cJSON *sc = shrink_scenario(&sh->cfg, sh->bin_abs, &sh->knobs, &sh->plan, sh->events, ne, desc);
    char path[1200];
    snprintf(path, sizeof(path), "%s/minimal.json", sh->dir);
    int rc = write_json(path, sc);
    cJSON_Delete(sc);
    if (rc < 0) {
        fprintf(stderr, "eddy shrink: cannot write %s\n", path);
        return 255;
    }
    double secs = mono() - sh->t0;
    bool smaller = written < orig_events || sh->knobs.time_limit_s < orig->time_limit_s ||
                   sh->knobs.node_count < orig->node_count ||
                   sh->knobs.rate_max != orig->rate_max || sh->knobs.rate < orig->rate ||
                   strcmp(sh->knobs.concurrency, orig->concurrency) != 0;

    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "original", before);
    cJSON_AddStringToObject(j, "minimal", after);
    cJSON_AddNumberToObject(j, "fault-events", (double)written);
    cJSON_AddNumberToObject(j, "original-fault-events", (double)orig_events);
    cJSON_AddStringToObject(j, "class", sh->target);
    cJSON_AddNumberToObject(j, "seconds", secs);
    cJSON_AddBoolToObject(j, "budget-spent", sh->stopped);
    cJSON_AddBoolToObject(j, "smaller", smaller);
    cJSON *st = cJSON_AddArrayToObject(j, "steps");
    for (size_t i = 0; i < sh->nsteps; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "candidate", sh->steps[i].what);
        cJSON_AddNumberToObject(x, "fails", sh->steps[i].fails);
        cJSON_AddNumberToObject(x, "tries", sh->steps[i].tries);
        cJSON_AddBoolToObject(x, "kept", sh->steps[i].kept);
        cJSON_AddNumberToObject(x, "seconds", sh->steps[i].secs);
        cJSON_AddItemToArray(st, x);
    }
    snprintf(path, sizeof(path), "%s/shrink.json", sh->dir);
    write_json(path, j);
    cJSON_Delete(j);
    /* STORE/shrink/latest, relative so that the store can move. */
    char link[1200], tmp[1300];
    snprintf(link, sizeof(link), "%s/shrink/latest", store);
    snprintf(tmp, sizeof(tmp), "%s.tmp%d", link, (int)getpid());
    const char *base = strrchr(sh->dir, '/');
    unlink(tmp);
    if (symlink(base ? base + 1 : sh->dir, tmp) == 0 && rename(tmp, link) != 0)
        unlink(tmp);

    printf("\n| step | candidate | failed | kept | seconds |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < sh->nsteps; i++)
        printf("| %zu | %s | %d of %d | %s | %.1f |\n", i, sh->steps[i].what, sh->steps[i].fails,
               sh->steps[i].tries, sh->steps[i].kept ? "yes" : "no", sh->steps[i].secs);
    printf("\nOriginal: %s\nMinimal:  %s%s\nFailure:  %s\nSearch:   %.1f s%s\n", before, after,
           smaller ? "" : " (nothing could be removed)", sh->target[0] ? sh->target : "invalid",
           secs, sh->stopped ? " (budget spent: the best found so far)" : "");
    printf("Run it:   eddy test --scenario %s/minimal.json\n", sh->dir);
    fflush(stdout);
    return smaller ? 0 : 1;
}

/* ==== The command ==== */

static int parse_own(int argc, char **argv, struct shrinker *sh, const char **store, char **rest,
                     int *nrest)
{
    *nrest = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--") == 0) {
            while (i < argc && *nrest < ARGS_MAX)
                rest[(*nrest)++] = argv[i++];
            break;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            shrink_print_usage(stdout);
            return 0;
        }
        uint64_t v;
        double d;
        if (strcmp(a, "--budget") == 0 && has) {
            if (cli_parse_double(argv[++i], &d) < 0 || d <= 0) {
                fprintf(stderr, "eddy shrink: --budget: must be a positive number of seconds\n");
                return 254;
            }
            sh->budget_s = d;
        } else if ((strcmp(a, "--tries") == 0 || strcmp(a, "--need") == 0) && has) {
            if (cli_parse_u64(argv[++i], &v) < 0 || v < 1 || v > 100) {
                fprintf(stderr, "eddy shrink: %s: must be an integer from 1 to 100\n", a);
                return 254;
            }
            *(a[2] == 't' ? &sh->tries : &sh->need) = (int)v;
        } else if (strcmp(a, "--store") == 0 && has) {
            *store = argv[++i];
        } else if (*nrest < ARGS_MAX) {
            rest[(*nrest)++] = argv[i];
        }
    }
    if (sh->need > sh->tries) {
        fprintf(stderr, "eddy shrink: --need %d is more than --tries %d\n", sh->need, sh->tries);
        return 254;
    }
    return -1;
}

static int prepare(struct shrinker *sh, int argc, char **argv, const char **store)
{
    char *rest[ARGS_MAX];
    int nrest;
    int rc = parse_own(argc, argv, sh, store, rest, &nrest);
    if (rc >= 0)
        return rc;
    char err[1024];
    struct stat st;
    char **targv = rest;
    int targc = nrest;
    if (nrest == 1 && stat(rest[0], &st) == 0 && S_ISDIR(st.st_mode)) {
        if (from_run_dir(sh, rest[0], &targv, &targc, err, sizeof(err)) < 0) {
            fprintf(stderr, "eddy shrink: %s\n", err);
            return 254;
        }
        if (!*store) {
            /* RUN_DIR is STORE/<workload>/<time>. */
            char up[1100];
            snprintf(up, sizeof(up), "%s/../..", rest[0]);
            char *real = realpath(up, NULL);
            snprintf(sh->store, sizeof(sh->store), "%s", real ? real : "store");
            free(real);
        }
    } else if (nrest == 0) {
        shrink_print_usage(stderr);
        return 254;
    }
    if (*store)
        snprintf(sh->store, sizeof(sh->store), "%s", *store);
    else if (!sh->store[0])
        snprintf(sh->store, sizeof(sh->store), "store");
    config_defaults(&sh->cfg);
    bool help = false;
    if (cli_parse_test(targc, targv, &sh->cfg, &help, err, sizeof(err)) < 0 || help) {
        fprintf(stderr, "eddy shrink: %s\n", help ? "--help is not a run to shrink" : err);
        return 254;
    }
    if (!sh->cfg.seed_given) {
        uint64_t seed = 0;
        if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
            seed = (uint64_t)getpid() * 2654435761u;
        sh->cfg.seed = seed % 1000000000000ull;
        sh->cfg.seed_given = true;
    }
    char *real = realpath(sh->cfg.bin, NULL);
    if (!real) {
        fprintf(stderr, "eddy shrink: --bin %s: %s\n", sh->cfg.bin, strerror(errno));
        return 254;
    }
    snprintf(sh->bin_abs, sizeof(sh->bin_abs), "%s", real);
    free(real);
    nemesis_plan_build(&sh->plan, scenario_events(), &sh->cfg, sh->cfg.node_count);
    return -1;
}

int shrink_main(int argc, char **argv)
{
    struct shrinker *sh = xcalloc(1, sizeof(*sh));
    sh->tries = SHRINK_TRIES;
    sh->need = SHRINK_NEED;
    sh->budget_s = SHRINK_BUDGET_S;
    sh->anomaly_s = sh->anomaly0_s = -1;
    const char *store = NULL;
    int code = prepare(sh, argc, argv, &store);
    ssize_t sl = readlink("/proc/self/exe", sh->self, sizeof(sh->self) - 1);
    if (code < 0 && sl <= 0) {
        fprintf(stderr, "eddy shrink: cannot find my own binary\n");
        code = 255;
    }
    if (code >= 0)
        goto out;
    sh->self[sl] = '\0';
    sh->t0 = mono();

    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(sh->dir, sizeof(sh->dir), "%s/shrink/%s-%d", sh->store, stamp, (int)getpid());
    snprintf(sh->trials, sizeof(sh->trials), "%s/tries", sh->dir);
    if (mkdirs(sh->trials) < 0) {
        fprintf(stderr, "eddy shrink: cannot create %s: %s\n", sh->trials, strerror(errno));
        code = 254;
        goto out;
    }
    shrink_units_build(&sh->units, &sh->plan);
    sh->kept = xmalloc((sh->units.len ? sh->units.len : 1) * sizeof(*sh->kept));
    sh->events = xmalloc((sh->plan.len ? sh->plan.len : 1) * sizeof(*sh->events));
    for (size_t i = 0; i < sh->units.len; i++)
        sh->kept[i] = i;
    sh->kept_len = sh->units.len;
    shrink_knobs_of(&sh->cfg, &sh->knobs);
    struct shrink_knobs orig = sh->knobs;
    size_t orig_events = events_in(sh, &orig);
    char what[200];
    describe(sh, &orig, orig_events, what, sizeof(what));
    fprintf(stderr, "eddy shrink: seed %llu; %s; %zu fault units; budget %g s, %d of %d tries\n",
            (unsigned long long)sh->cfg.seed, what, sh->units.len, sh->budget_s, sh->need,
            sh->tries);

    /* The original, made explicit: it must still fail. */
    sh->step_name = "original";
    struct outcome o;
    int r = candidate(sh, sh->kept, sh->kept_len, &sh->knobs, what, &o);
    if (r != 1) {
        printf("eddy shrink: the original run %s (%d of %d tries failed%s%s%s): nothing to "
               "shrink\n",
               o.stop ? "could not be tried within the budget" : "no longer fails", o.fails,
               o.tries, sh->target[0] ? " as " : "", sh->target, sh->target[0] ? " did" : "");
        code = 2;
        goto out;
    }
    sh->anomaly_s = sh->anomaly0_s = o.anomaly_s;
    remember(sh);
    drop_faults(sh);
    cut_time(sh);
    if (!sh->stopped)
        fewer_nodes(sh);
    if (!sh->stopped)
        lower_rate(sh);
    if (!sh->stopped)
        lower_concurrency(sh);
    confirm(sh);
    code = finish(sh, &orig, orig_events, sh->store);
out:
    if (sh->trials[0])
        nftw(sh->trials, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    shrink_units_fini(&sh->units);
    nemesis_plan_fini(&sh->plan);
    config_fini(&sh->cfg);
    scenario_reset();
    for (int i = 0; i < sh->argc_owned; i++)
        free(sh->argv_owned[i]);
    for (size_t i = 0; i < sh->history_len; i++)
        free(sh->history[i].kept);
    free(sh->kept);
    free(sh->events);
    free(sh);
    return code;
}
