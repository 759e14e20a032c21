/*
 * report_table.c: the tables of report.html (see report_table.h).
 *
 * Generic writers render any object of scalars, or any object of such objects, so a key that
 * a later eddy adds to results.json shows up without a change here; the sections with a shape
 * of their own (duplicates, violations, the fault log) are written one column at a time.
 * Every table has a row limit, and says so when it cuts.
 * Depends on: report_page, cJSON. Used by: report_html.
 */
#include "report_table.h"
#include "report_page.h"
#include "eddy/json.h"
#include "eddy/util.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ==== Generic tables ==== */

static void text(FILE *f, const char *s)
{
    page_text(f, s, PAGE_TEXT_MAX);
}

/* One cell value: numbers compact, booleans as yes/no, strings escaped, the rest as JSON. */
void table_value(FILE *f, const cJSON *v)
{
    if (cJSON_IsNumber(v))
        page_num_text(f, v->valuedouble);
    else if (cJSON_IsBool(v))
        fputs(cJSON_IsTrue(v) ? "yes" : "no", f);
    else if (cJSON_IsString(v))
        text(f, v->valuestring);
    else if (!v || cJSON_IsNull(v))
        fputs("–", f);
    else
        page_json(f, v, 200);
}

static bool scalar(const cJSON *v)
{
    return cJSON_IsNumber(v) || cJSON_IsBool(v) || cJSON_IsString(v) || cJSON_IsNull(v);
}

void table_chip(FILE *f, const char *name, int valid)
{
    static const char *const cls[] = {"unk", "bad", "ok"}, *const sym[] = {"?", "✗", "✓"};
    fprintf(f, "<span class=\"chip %s\">%s ", cls[valid + 1], sym[valid + 1]);
    text(f, name);
    fputs("</span>", f);
}

/* A two-column table of an object's scalar members, "valid?" first as a chip. */
void table_kv(FILE *f, const char *title, const cJSON *o)
{
    if (!cJSON_IsObject(o))
        return;
    fprintf(f, "<div><h3>%s</h3><table>", title);
    if (page_get(o, "valid?")) {
        fputs("<tr><th>valid?</th><td>", f);
        table_chip(f,
                   page_valid(o) == 1   ? "valid"
                   : page_valid(o) == 0 ? "invalid"
                                        : "unknown",
                   page_valid(o));
        fputs("</td></tr>", f);
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, o)
    {
        if (!scalar(x) || strcmp(x->string, "valid?") == 0)
            continue;
        fputs("<tr><th>", f);
        text(f, x->string);
        fprintf(f, "</th><td class=\"%s\">", cJSON_IsNumber(x) ? "num" : "");
        table_value(f, x);
        fputs("</td></tr>", f);
    }
    fputs("</table></div>\n", f);
}

/* A table with one row per member object of o and one column per scalar key they have (in
 * first-seen order, at most 16). */
void table_matrix(FILE *f, const char *title, const char *corner, const cJSON *o)
{
    const char *cols[16];
    size_t ncols = 0, rows = 0;
    const cJSON *r, *x;
    cJSON_ArrayForEach(r, (cJSON_IsObject(o) ? o : NULL))
    {
        cJSON_ArrayForEach(x, (cJSON_IsObject(r) ? r : NULL))
        {
            bool known = false;
            for (size_t i = 0; i < ncols && !known; i++)
                known = strcmp(cols[i], x->string) == 0;
            if (!known && scalar(x) && ncols < ARRAY_LEN(cols))
                cols[ncols++] = x->string;
        }
        rows += cJSON_IsObject(r);
    }
    if (!rows)
        return;
    fprintf(f, "<div><h3>%s</h3><table><tr><th>%s</th>", title, corner);
    for (size_t i = 0; i < ncols; i++) {
        fputs("<th class=\"num\">", f);
        text(f, cols[i]);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    size_t shown = 0;
    cJSON_ArrayForEach(r, o)
    {
        if (!cJSON_IsObject(r) || shown++ >= TABLE_ROWS_MAX)
            continue;
        fputs("<tr><th>", f);
        text(f, r->string);
        fputs("</th>", f);
        for (size_t i = 0; i < ncols; i++) {
            fputs("<td class=\"num\">", f);
            table_value(f, page_get(r, cols[i]));
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>", f);
    if (rows > TABLE_ROWS_MAX)
        fprintf(f, "<p class=\"note\">%zu more rows in results.json.</p>", rows - TABLE_ROWS_MAX);
    fputs("</div>\n", f);
}

/* ==== Workload: duplicates and echo errors ==== */

static void dup_op(FILE *f, const cJSON *op)
{
    fputs("<li>", f);
    double t = page_num(op, "time", NAN);
    if (!isnan(t))
        fprintf(f, "%.6f s · ", t / 1e9);
    text(f, page_str(op, "node") ? page_str(op, "node") : "?");
    fputs(" → ", f);
    text(f, page_str(op, "client") ? page_str(op, "client") : "?");
    static const char *const keys[] = {"process", "index", "history-offset"};
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        if (!page_get(op, keys[i]))
            continue;
        fprintf(f, " · %s ", keys[i]);
        table_value(f, page_get(op, keys[i]));
    }
    if (page_str(op, "note")) {
        fputs(" · ", f);
        text(f, page_str(op, "note"));
    }
    fputs("</li>", f);
}

static void duplicates(FILE *f, const cJSON *w)
{
    const cJSON *map = page_get(w, "duplicated"), *list = page_get(w, "duplicates"), *x;
    /* A run keeps this map as raw JSON, so that keys are exact (a cJSON key is a C string), and
     * it is read here with eddy's own scanner; a map parsed back from results.json is printed
     * to the same text first. */
    char *printed = cJSON_IsObject(map) ? cJSON_PrintUnformatted(map) : NULL;
    const char *text = printed                                ? printed
                       : cJSON_IsRaw(map) && map->valuestring ? map->valuestring
                                                              : "{}";
    struct json_val obj, k, v;
    if (json_scan(text, strlen(text), true, &obj, NULL) > 0 && obj.type == JSON_OBJECT &&
        obj.len > 2) {
        fputs("<h3>Maelstrom's <code>duplicated</code> (the most frequent IDs and their "
              "counts)</h3>\n<p class=\"dupmap\">",
              f);
        struct json_iter it;
        json_iter_init(&it, &obj);
        for (bool first = true; json_iter_next(&it, &k, &v); first = false) {
            fputs(first ? "<code>" : ", <code>", f);
            page_literal(f, k.p, k.len, 200);
            fputs("</code> ×", f);
            if (v.type == JSON_NUMBER) /* digits: nothing to escape */
                fprintf(f, "%.*s", (int)v.len, v.p);
        }
        fputs("</p>\n", f);
    }
    cJSON_free(printed);
    int total = cJSON_GetArraySize(list);
    if (total == 0)
        return;
    fputs("<h3>Every op that returned a duplicated ID</h3>\n", f);
    if (total > TABLE_DUPS_MAX)
        fprintf(f,
                "<p class=\"note\">Showing the first %d of %d duplicated IDs in results.json "
                "(duplicates.jsonl in the run directory lists them all).</p>\n",
                TABLE_DUPS_MAX, total);
    fputs("<div class=\"scroll\"><table id=\"duplicates\"><tr><th>ID</th><th "
          "class=\"num\">returned</th><th>by "
          "(time · node → client · process · index in history)</th></tr>\n",
          f);
    int shown = 0;
    cJSON_ArrayForEach(x, list)
    {
        if (shown++ >= TABLE_DUPS_MAX)
            break;
        fputs("<tr class=\"dup\"><td><code>", f);
        page_json(f, page_get(x, "id"), 200);
        fputs("</code></td><td class=\"num\">", f);
        table_value(f, page_get(x, "count"));
        fputs("</td><td><ol class=\"ops\">", f);
        const cJSON *op, *ops = page_get(x, "ops");
        int n = 0;
        cJSON_ArrayForEach(op, (cJSON_IsArray(ops) ? ops : NULL))
        {
            if (n++ < TABLE_DUP_OPS_MAX)
                dup_op(f, op);
        }
        if (n > TABLE_DUP_OPS_MAX)
            fprintf(f, "<li>… %d more</li>", n - TABLE_DUP_OPS_MAX);
        fputs("</ol></td></tr>\n", f);
    }
    fputs("</table></div>\n", f);
}

void table_workload(FILE *f, const cJSON *r)
{
    const cJSON *w = page_get(r, "workload"), *x;
    fputs("<section id=\"workload\"><h2>Workload checker</h2>\n", f);
    if (!w) {
        fputs("<p class=\"note\">No workload result.</p></section>\n", f);
        return;
    }
    fputs("<div class=\"tables\">", f);
    table_kv(f, "Summary", w);
    const cJSON *range = page_get(w, "range");
    if (range) {
        fputs("<div><h3>Range of IDs</h3><p><code>", f);
        page_json(f, range, 400);
        fputs("</code></p></div>", f);
    }
    fputs("</div>\n", f);
    duplicates(f, w);
    const cJSON *errors = page_get(w, "errors");
    if (cJSON_GetArraySize(errors) > 0) {
        fputs("<h3>Echo mismatches</h3>\n<ul id=\"echo-errors\">", f);
        int n = 0;
        cJSON_ArrayForEach(x, errors)
        {
            if (n++ >= TABLE_ROWS_MAX)
                break;
            fputs("<li><code>", f);
            table_value(f, x);
            fputs("</code></li>", f);
        }
        fputs("</ul>\n", f);
    }
    fputs("</section>\n", f);
}

/* ==== Protocol, faults, checkers ==== */

void table_protocol(FILE *f, const cJSON *r)
{
    const cJSON *p = page_get(r, "protocol"), *list = page_get(p, "violations"), *v;
    fputs("<section id=\"protocol\"><h2>Protocol</h2>\n", f);
    if (!p) {
        fputs("<p class=\"note\">No protocol result.</p></section>\n", f);
        return;
    }
    fputs("<div class=\"tables\">", f);
    table_kv(f, "Summary", p);
    table_kv(f, "By class", page_get(p, "by-class"));
    fputs("</div>\n", f);
    if (cJSON_GetArraySize(list) == 0) {
        fputs("<p class=\"note\">No violations: every node line was a well-formed message.</p>"
              "</section>\n",
              f);
        return;
    }
    fputs("<table id=\"violations\"><tr><th>node</th><th class=\"num\">line</th>"
          "<th class=\"num\">time (s)</th><th>class</th><th>reason</th><th>the line</th>"
          "<th>in Maelstrom</th></tr>\n",
          f);
    int n = 0;
    cJSON_ArrayForEach(v, list)
    {
        if (n++ >= TABLE_ROWS_MAX)
            break;
        fputs("<tr class=\"violation\"><td>", f);
        text(f, page_str(v, "node"));
        fputs("</td><td class=\"num\">", f);
        table_value(f, page_get(v, "line-number"));
        fprintf(f, "</td><td class=\"num\">%.6f</td><td>", page_num(v, "time", 0) / 1e9);
        text(f, page_str(v, "class"));
        fputs("</td><td>", f);
        text(f, page_str(v, "reason"));
        fputs("</td><td><code>", f);
        page_string(f, page_get(v, "line"), 300);
        fputs("</code></td><td>", f);
        text(f, page_str(v, "maelstrom"));
        fputs("</td></tr>\n", f);
    }
    fputs("</table></section>\n", f);
}

void table_faults(FILE *f, const cJSON *r)
{
    const cJSON *fl = page_get(r, "faults"), *events = page_get(fl, "events"), *e;
    fputs("<section id=\"faults\"><h2>Faults</h2>\n", f);
    if (!fl) {
        fputs("<p class=\"note\">No fault section.</p></section>\n", f);
        return;
    }
    fputs("<p>Random faults: <strong>", f);
    if (cJSON_GetArraySize(page_get(fl, "random")) > 0)
        page_json(f, page_get(fl, "random"), 200);
    else
        fputs("none", f);
    fputs("</strong>, about every ", f);
    table_value(f, page_get(fl, "interval"));
    fputs(" s; planned events: ", f);
    table_value(f, page_get(fl, "planned"));
    fputs("; applied: ", f);
    table_value(f, page_get(fl, "applied-count"));
    fputs("; not applied: ", f);
    table_value(f, page_get(fl, "not-applied-count"));
    fputs(".</p>\n", f);
    int total = cJSON_GetArraySize(events);
    if (total == 0) {
        fputs("<p class=\"note\">No fault events.</p></section>\n", f);
        return;
    }
    fputs("<table id=\"fault-log\"><tr><th class=\"num\">time (s)</th><th>f</th><th>kind</th>"
          "<th>applied</th><th>detail</th></tr>\n",
          f);
    int n = 0;
    cJSON_ArrayForEach(e, events)
    {
        if (n++ >= TABLE_FAULTS_MAX)
            break;
        bool applied = !cJSON_IsFalse(page_get(e, "applied"));
        fprintf(f, "<tr class=\"fault-row%s\"><td class=\"num\">%.3f</td><td>",
                applied ? "" : " not-applied", page_num(e, "time", 0) / 1e9);
        text(f, page_str(e, "f"));
        fputs("</td><td>", f);
        text(f, page_str(e, "kind"));
        fprintf(f, "</td><td>%s</td><td>", applied ? "yes" : "not applied");
        text(f, page_str(e, "detail"));
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    if (total > TABLE_FAULTS_MAX)
        fprintf(f, "<p class=\"note\">%d more events in results.json.</p>\n",
                total - TABLE_FAULTS_MAX);
    fputs("</section>\n", f);
}

void table_checkers(FILE *f, const cJSON *r)
{
    const cJSON *st = page_get(r, "stats"), *lat = page_get(r, "latency");
    const cJSON *net = page_get(r, "net"), *ex = page_get(r, "exceptions"), *x;
    fputs("<section id=\"checkers\"><h2>Checkers</h2>\n<div class=\"tables\">", f);
    table_kv(f, "Run", page_get(r, "eddy"));
    table_kv(f, "Stats", st);
    table_kv(f, "Availability", page_get(r, "availability"));
    table_kv(f, "Latency", lat);
    table_kv(f, "Net", net);
    table_kv(f, "Net: eddy's faults", page_get(net, "eddy-faults"));
    fputs("</div>\n<div class=\"tables\">", f);
    table_matrix(f, "Stats by f", "f", page_get(st, "by-f"));
    table_matrix(f, "Latency quantiles (ms)", "ops", lat);
    table_matrix(f, "Messages", "between", net);
    fputs("</div>\n", f);
    const cJSON *list = page_get(ex, "exceptions");
    if (cJSON_GetArraySize(list) > 0) {
        fputs("<h3>Exceptions</h3><table id=\"exceptions\"><tr><th class=\"num\">count</th>"
              "<th>class</th><th>example</th></tr>\n",
              f);
        cJSON_ArrayForEach(x, list)
        {
            fputs("<tr><td class=\"num\">", f);
            table_value(f, page_get(x, "count"));
            fputs("</td><td>", f);
            text(f, page_str(x, "class"));
            fputs("</td><td><code>", f);
            text(f, page_str(x, "example"));
            fputs("</code></td></tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    fputs("</section>\n", f);
}
