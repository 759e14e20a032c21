/*
 * matrix.c: `eddy matrix`, the offline fault-injection experiment.
 *
 *     eddy matrix --scenario scenarios/chaos.json --scenario scenarios/pause.json \
 *                 --node 'eddy-node' --node 'counter=eddy-node --ids counter' [--seed N]
 *
 * Each cell is one `eddy test` of a node command against a scenario, run as a child process of
 * this same binary (so every run starts from a clean slate, exactly as a user would run it) with
 * the same seed across a row. The table of verdicts and duplicate counts goes to stdout as
 * markdown; matrix.csv and matrix.json go to STORE/matrix/<time>/ with each cell's run
 * directory, so any cell can be opened and re-run.
 * Depends on: store, json, cJSON, alloc. Used by: main.
 */
#include "matrix.h"
#include "cli.h"
#include "store.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MATRIX_MAX 64

struct row {
    char *label;
    char *argv[NODE_ARGS_MAX + 2]; /* bin, args..., NULL */
    int argc;
};

struct cell {
    int code; /* eddy test's exit status */
    char verdict[16];
    double duplicated;
    double acknowledged;
    double faults;
    double not_applied; /* faults the run could not inject (e.g. a clock in a static binary) */
    char run_dir[1024];
    /* The run's id-properties, when it had IDs. */
    bool has_ids;
    char id_type[16];     /* the most common JSON type */
    double id_len_median; /* bytes */
    double id_decreases;  /* within incarnations */
    double id_stray_ms;   /* largest stray from real-time order across nodes */
};

void matrix_print_usage(FILE *f)
{
    fputs("usage: eddy matrix --scenario FILE... --node 'CMD'... [--seed N] [--store DIR]\n"
          "                   [--time-limit S]\n"
          "\n"
          "Runs every node command against every scenario (one `eddy test` each) and prints a\n"
          "markdown table of verdicts and duplicated-ID counts; matrix.csv and matrix.json go to\n"
          "STORE/matrix/<time>/.\n"
          "\n"
          "  --scenario FILE   a scenario file (repeatable)\n"
          "  --node 'CMD'      a node command, split on spaces, run without a shell; name the row\n"
          "                    with 'LABEL=CMD' (repeatable)\n"
          "  --seed N          the seed of every run (default: random, printed)\n"
          "  --store DIR       where the runs and the table go (default store)\n"
          "  --time-limit S    override every scenario's time limit\n"
          "\n"
          "Exit status: 0 when every cell matches its scenario's \"expect\" for the first row and\n"
          "no run broke, 1 otherwise, 254 bad arguments.\n",
          f);
}

static int parse_row(const char *spec, struct row *r)
{
    memset(r, 0, sizeof(*r));
    const char *eq = strchr(spec, '=');
    const char *cmd = spec;
    if (eq && memchr(spec, ' ', (size_t)(eq - spec)) == NULL && eq != spec) {
        r->label = xstrndup(spec, (size_t)(eq - spec));
        cmd = eq + 1;
    } else {
        r->label = xstrdup(spec);
    }
    char *copy = xstrdup(cmd);
    for (char *tok = strtok(copy, " \t"); tok; tok = strtok(NULL, " \t")) {
        if (r->argc >= (int)NODE_ARGS_MAX + 1) {
            free(copy);
            return -E2BIG;
        }
        r->argv[r->argc++] = xstrdup(tok);
    }
    free(copy);
    return r->argc > 0 ? 0 : -EINVAL;
}

static char *read_file(const char *path)
{
    return store_read_text(path, 64u << 20);
}

/* Runs one cell: this binary's `test` with the scenario, the node command and the seed. */
static void run_cell(const char *self, const char *scenario, const struct row *r, uint64_t seed,
                     const char *store, const char *time_limit, struct cell *out)
{
    memset(out, 0, sizeof(*out));
    char seed_text[32];
    snprintf(seed_text, sizeof(seed_text), "%llu", (unsigned long long)seed);
    const char *argv[NODE_ARGS_MAX + 20];
    int n = 0;
    argv[n++] = self;
    argv[n++] = "test";
    argv[n++] = "--scenario";
    argv[n++] = scenario;
    argv[n++] = "--bin";
    argv[n++] = r->argv[0];
    argv[n++] = "--seed";
    argv[n++] = seed_text;
    argv[n++] = "--store";
    argv[n++] = store;
    argv[n++] = "--no-progress";
    if (time_limit) {
        argv[n++] = "--time-limit";
        argv[n++] = time_limit;
    }
    argv[n++] = "--";
    for (int i = 1; i < r->argc; i++)
        argv[n++] = r->argv[i];
    argv[n] = NULL;

    char out_path[] = "/tmp/eddy-matrix-XXXXXX";
    int fd = mkstemp(out_path);
    pid_t pid = fork();
    if (pid == 0) {
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execv(self, (char *const *)argv);
        _exit(255);
    }
    int status = 0;
    if (pid > 0)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    out->code = pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 255;
    /* The run directory is printed on the summary's "Run:" line. */
    char *text = fd >= 0 ? read_file(out_path) : NULL;
    if (fd >= 0) {
        close(fd);
        unlink(out_path);
    }
    const char *run = text ? strstr(text, "\nRun: ") : NULL;
    if (run) {
        run += 6;
        const char *end = strchr(run, '\n');
        snprintf(out->run_dir, sizeof(out->run_dir), "%.*s",
                 (int)(end ? end - run : (ptrdiff_t)strlen(run)), run);
    }
    free(text);
    snprintf(out->verdict, sizeof(out->verdict), "%s",
             out->code == 0     ? "valid"
             : out->code == 1   ? "INVALID"
             : out->code == 2   ? "unknown"
             : out->code == 254 ? "bad-args"
                                : "crashed");
    if (!out->run_dir[0])
        return;
    char path[1200];
    snprintf(path, sizeof(path), "%s/results.json", out->run_dir);
    char *json = read_file(path);
    cJSON *res = json ? cJSON_Parse(json) : NULL;
    free(json);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(res, "workload");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(w, "duplicated-count");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(w, "acknowledged-count");
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(res, "faults");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(fl, "applied-count");
    const cJSON *na = cJSON_GetObjectItemCaseSensitive(fl, "not-applied-count");
    out->duplicated = cJSON_IsNumber(d) ? d->valuedouble : -1;
    out->acknowledged = cJSON_IsNumber(a) ? a->valuedouble : -1;
    out->faults = cJSON_IsNumber(f) ? f->valuedouble : 0;
    out->not_applied = cJSON_IsNumber(na) ? na->valuedouble : 0;
    const cJSON *ip = cJSON_GetObjectItemCaseSensitive(res, "id-properties");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(ip, "ids");
    if (cJSON_IsNumber(ids) && ids->valuedouble > 0) {
        out->has_ids = true;
        double most = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(ip, "types"))
        {
            if (cJSON_IsNumber(t) && t->valuedouble > most) {
                most = t->valuedouble;
                snprintf(out->id_type, sizeof(out->id_type), "%s", t->string);
            }
        }
        const cJSON *len = cJSON_GetObjectItemCaseSensitive(ip, "length-bytes");
        const cJSON *wi = cJSON_GetObjectItemCaseSensitive(ip, "within-incarnations");
        const cJSON *an = cJSON_GetObjectItemCaseSensitive(ip, "across-nodes");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(len, "median");
        const cJSON *dec = cJSON_GetObjectItemCaseSensitive(wi, "decreases");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(an, "largest-stray-ms");
        out->id_len_median = cJSON_IsNumber(m) ? m->valuedouble : 0;
        out->id_decreases = cJSON_IsNumber(dec) ? dec->valuedouble : 0;
        out->id_stray_ms = cJSON_IsNumber(st) ? st->valuedouble : 0;
    }
    cJSON_Delete(res);
}

/* The row's "IDs" column: the ID properties over its cells (runs with IDs): the type and
 * median length of the first, the decreases within incarnations in all of them, and the
 * largest stray from real-time order across nodes. */
static void ids_column(const struct cell *cells, int ns)
{
    const struct cell *first = NULL;
    double dec = 0, stray = 0;
    for (int c = 0; c < ns; c++) {
        if (!cells[c].has_ids)
            continue;
        first = first ? first : &cells[c];
        dec += cells[c].id_decreases;
        stray = cells[c].id_stray_ms > stray ? cells[c].id_stray_ms : stray;
    }
    if (!first) {
        printf(" - |");
        return;
    }
    printf(" %s, %.0f B; ", first->id_type, first->id_len_median);
    if (dec > 0)
        printf("%.0f decreases in incarnations; ", dec);
    else
        printf("increasing in every incarnation; ");
    printf("stray <= %.0f ms |", stray);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int expectation(const char *scenario)
{
    char *text = read_file(scenario);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "expect");
    int want = cJSON_IsString(e) ? (strcmp(e->valuestring, "valid") == 0 ? 0 : 1) : -1;
    cJSON_Delete(j);
    return want;
}

int matrix_main(int argc, char **argv)
{
    const char *scenarios[MATRIX_MAX];
    struct row rows[MATRIX_MAX];
    int ns = 0, nr = 0;
    uint64_t seed = 0;
    bool seeded = false;
    const char *store = "store", *time_limit = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            matrix_print_usage(stdout);
            return 0;
        }
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--scenario") == 0 && has_value && ns < MATRIX_MAX) {
            scenarios[ns++] = argv[++i];
        } else if (strcmp(a, "--node") == 0 && has_value && nr < MATRIX_MAX) {
            if (parse_row(argv[++i], &rows[nr]) < 0) {
                fprintf(stderr, "eddy matrix: --node: '%s' is not a command\n", argv[i]);
                return 254;
            }
            nr++;
        } else if (strcmp(a, "--seed") == 0 && has_value) {
            if (cli_parse_u64(argv[++i], &seed) < 0) {
                fprintf(stderr, "eddy matrix: --seed: must be a non-negative integer\n");
                return 254;
            }
            seeded = true;
        } else if (strcmp(a, "--store") == 0 && has_value) {
            store = argv[++i];
        } else if (strcmp(a, "--time-limit") == 0 && has_value) {
            time_limit = argv[++i];
            double t;
            if (cli_parse_double(time_limit, &t) < 0 || t <= 0) {
                fprintf(stderr, "eddy matrix: --time-limit: must be a positive number\n");
                return 254;
            }
        } else {
            fprintf(stderr, "eddy matrix: unknown or incomplete argument '%s' (try --help)\n", a);
            return 254;
        }
    }
    if (ns == 0 || nr == 0) {
        fprintf(stderr, "eddy matrix: needs at least one --scenario and one --node\n");
        return 254;
    }
    for (int i = 0; i < ns; i++) {
        if (access(scenarios[i], R_OK) < 0) {
            fprintf(stderr, "eddy matrix: --scenario: cannot read %s: %s\n", scenarios[i],
                    strerror(errno));
            return 254;
        }
    }
    if (!seeded)
        seed = (uint64_t)time(NULL) % 1000000000ull;
    char self[PATH_MAX];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (sl <= 0) {
        fprintf(stderr, "eddy matrix: cannot find my own binary\n");
        return 255;
    }
    self[sl] = '\0';
    printf("eddy matrix: seed %llu, %d node commands x %d scenarios\n", (unsigned long long)seed,
           nr, ns);
    fflush(stdout);

    struct cell *cells = xcalloc((size_t)(nr * ns), sizeof(*cells));
    for (int r = 0; r < nr; r++) {
        for (int c = 0; c < ns; c++) {
            struct cell *x = &cells[r * ns + c];
            run_cell(self, scenarios[c], &rows[r], seed, store, time_limit, x);
            fprintf(stderr, "  %s x %s: %s\n", rows[r].label, base_name(scenarios[c]), x->verdict);
        }
    }

    /* The table. */
    printf("\n| node \\ scenario |");
    for (int c = 0; c < ns; c++)
        printf(" %s |", base_name(scenarios[c]));
    printf(" IDs |\n|---|");
    for (int c = 0; c < ns; c++)
        printf("---|");
    printf("---|\n");
    for (int r = 0; r < nr; r++) {
        printf("| `%s` |", rows[r].label);
        for (int c = 0; c < ns; c++) {
            const struct cell *x = &cells[r * ns + c];
            printf(" %s", x->verdict);
            if (x->duplicated > 0)
                printf(" (%.0f dup of %.0f)", x->duplicated, x->acknowledged);
            /* A verdict reached without some of the scenario's faults says so in its cell. */
            if (x->not_applied > 0)
                printf(" [%.0f fault%s not applied]", x->not_applied,
                       x->not_applied == 1 ? "" : "s");
            printf(" |");
        }
        ids_column(&cells[r * ns], ns);
        printf("\n");
    }

    /* CSV and JSON next to the runs. */
    char dir[1100];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(dir, sizeof(dir), "%s/matrix", store);
    mkdir(store, 0755);
    mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/matrix/%s-%d", store, stamp, (int)getpid());
    int rc = 0;
    if (mkdir(dir, 0755) < 0) {
        fprintf(stderr, "eddy matrix: cannot create %s: %s\n", dir, strerror(errno));
        rc = 1;
    }
    char path[1200];
    snprintf(path, sizeof(path), "%s/matrix.csv", dir);
    FILE *csv = rc ? NULL : fopen(path, "w");
    cJSON *json = cJSON_CreateArray();
    if (csv)
        fprintf(csv, "node,scenario,verdict,exit,acknowledged,duplicated,faults_applied,"
                     "faults_not_applied,run,id_type,id_length_median,id_decreases,"
                     "id_largest_stray_ms\n");
    bool all_as_expected = true;
    for (int r = 0; r < nr; r++) {
        for (int c = 0; c < ns; c++) {
            const struct cell *x = &cells[r * ns + c];
            if (csv)
                fprintf(csv, "\"%s\",%s,%s,%d,%.0f,%.0f,%.0f,%.0f,%s,%s,%.0f,%.0f,%.3f\n",
                        rows[r].label, base_name(scenarios[c]), x->verdict, x->code,
                        x->acknowledged, x->duplicated, x->faults, x->not_applied, x->run_dir,
                        x->id_type, x->id_len_median, x->id_decreases, x->id_stray_ms);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "node", rows[r].label);
            cJSON_AddStringToObject(o, "scenario", scenarios[c]);
            cJSON_AddStringToObject(o, "verdict", x->verdict);
            cJSON_AddNumberToObject(o, "exit", x->code);
            cJSON_AddNumberToObject(o, "acknowledged", x->acknowledged);
            cJSON_AddNumberToObject(o, "duplicated", x->duplicated);
            cJSON_AddNumberToObject(o, "faults-applied", x->faults);
            cJSON_AddNumberToObject(o, "faults-not-applied", x->not_applied);
            cJSON_AddStringToObject(o, "run", x->run_dir);
            if (x->has_ids) {
                cJSON *ip = cJSON_AddObjectToObject(o, "ids");
                cJSON_AddStringToObject(ip, "type", x->id_type);
                cJSON_AddNumberToObject(ip, "length-median", x->id_len_median);
                cJSON_AddNumberToObject(ip, "decreases-in-incarnations", x->id_decreases);
                cJSON_AddNumberToObject(ip, "largest-stray-ms", x->id_stray_ms);
            }
            cJSON_AddItemToArray(json, o);
            if (x->code >= 254)
                all_as_expected = false;
            if (r == 0) {
                int want = expectation(scenarios[c]);
                if (want >= 0 && want != (x->code == 0 ? 0 : 1))
                    all_as_expected = false;
            }
        }
    }
    if (csv && fclose(csv) != 0)
        fprintf(stderr, "eddy matrix: writing %s failed\n", path);
    snprintf(path, sizeof(path), "%s/matrix.json", dir);
    char *text = cJSON_Print(json);
    FILE *jf = rc ? NULL : fopen(path, "w");
    if (jf) {
        fprintf(jf, "%s\n", text);
        fclose(jf);
    }
    cJSON_free(text);
    cJSON_Delete(json);
    if (!rc)
        printf("\nmatrix.csv and matrix.json: %s\n", dir);
    for (int r = 0; r < nr; r++) {
        free(rows[r].label);
        for (int i = 0; i < rows[r].argc; i++)
            free(rows[r].argv[i]);
    }
    free(cells);
    return all_as_expected && !rc ? 0 : 1;
}
