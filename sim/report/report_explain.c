/*
 * report_explain.c: the diagnosis and ID-properties sections of report.html (see
 * report_explain.h).
 *
 * A finding of a duplicated-ID class has a fixed shape (diagnose.c writes it): its example's
 * two ops become a table row each, clocks included. Any other finding is shown by its cause and
 * its example's members, so a class added later needs no change here.
 * Depends on: report_page, report_table, cJSON. Used by: report_html.
 */
#include "report_explain.h"
#include "report_page.h"
#include "report_table.h"

#include <stdbool.h>
#include <string.h>

static void text(FILE *f, const char *s)
{
    page_text(f, s, PAGE_TEXT_MAX);
}

static void cell(FILE *f, const cJSON *v, bool num)
{
    fputs(num ? "<td class=\"num\">" : "<td>", f);
    table_value(f, v);
    fputs("</td>", f);
}

static void example_ops(FILE *f, const cJSON *example)
{
    static const struct {
        const char *key, *title;
        bool num;
    } cols[] = {
        {"node", "node", false},
        {"incarnation", "incarnation", true},
        {"client", "client", false},
        {"process", "process", true},
        {"time", "time (s)", true},
        {"clock-offset-ms", "clock offset (ms)", true},
        {"clock-rate", "clock rate", true},
        {"clock-faults", "clock faults in force", false},
        {"started", "process started", false},
    };
    fputs("<table class=\"example\"><tr><th>ID</th>", f);
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
        fprintf(f, "<th%s>%s</th>", cols[i].num ? " class=\"num\"" : "", cols[i].title);
    fputs("</tr>\n", f);
    const cJSON *op;
    cJSON_ArrayForEach(op,
                       (cJSON_IsArray(page_get(example, "ops")) ? page_get(example, "ops") : NULL))
    {
        fputs("<tr class=\"example-op\"><td><code>", f);
        text(f, page_str(example, "id"));
        fputs("</code></td>", f);
        for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
            cell(f, page_get(op, cols[i].key), cols[i].num);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void involved(FILE *f, const cJSON *list, double more)
{
    const cJSON *w;
    bool any = false;
    cJSON_ArrayForEach(w, (cJSON_IsArray(list) ? list : NULL))
    {
        fputs(any ? ", " : "<p class=\"note\">Involved: ", f);
        any = true;
        const cJSON *nodes = page_get(w, "nodes");
        if (cJSON_IsArray(nodes)) {
            text(f, cJSON_IsString(cJSON_GetArrayItem(nodes, 0))
                        ? cJSON_GetArrayItem(nodes, 0)->valuestring
                        : "?");
            fputs(" &amp; ", f);
            text(f, cJSON_IsString(cJSON_GetArrayItem(nodes, 1))
                        ? cJSON_GetArrayItem(nodes, 1)->valuestring
                        : "?");
        } else {
            text(f, page_str(w, "node") ? page_str(w, "node") : "?");
            const cJSON *inc;
            int k = 0;
            cJSON_ArrayForEach(
                inc,
                (cJSON_IsArray(page_get(w, "incarnations")) ? page_get(w, "incarnations") : NULL))
            {
                fputs(k++ ? "/#" : "#", f);
                table_value(f, inc);
            }
        }
        const cJSON *n = page_get(w, "pairs") ? page_get(w, "pairs") : page_get(w, "ops-not-ok");
        if (n) {
            fputs(" (", f);
            table_value(f, n);
            fputs(page_get(w, "pairs") ? " pairs)" : " not ok)", f);
        }
    }
    if (any && more > 0) {
        fputs(", and ", f);
        page_num_text(f, more);
        fputs(" more", f);
    }
    if (any)
        fputs("</p>\n", f);
}

void explain_diagnosis(FILE *f, const cJSON *r)
{
    const cJSON *list = page_get(r, "diagnosis"), *x;
    int n = cJSON_GetArraySize(list);
    if (!cJSON_IsArray(list) || n == 0)
        return;
    fputs("<section id=\"diagnosis\"><h2>Diagnosis</h2>\n", f);
    int shown = 0;
    cJSON_ArrayForEach(x, list)
    {
        if (shown++ >= EXPLAIN_FINDINGS_MAX)
            break;
        const char *cls = page_str(x, "class") ? page_str(x, "class") : "?";
        fputs("<div class=\"finding\" data-class=\"", f);
        text(f, cls);
        fputs("\"><h3>", f);
        text(f, cls);
        fputs(" <small>", f);
        table_value(f, page_get(x, "count"));
        if (page_get(x, "pairs")) {
            fputs(" IDs, ", f);
            table_value(f, page_get(x, "pairs"));
            fputs(" pairs of ops", f);
        }
        fputs("</small></h3>\n<p class=\"cause\">", f);
        text(f, page_str(x, "cause") ? page_str(x, "cause") : "");
        fputs("</p>\n", f);
        involved(f, page_get(x, "involved"), page_num(x, "involved-not-listed", 0));
        const cJSON *ex = page_get(x, "example");
        if (cJSON_IsArray(page_get(ex, "ops")))
            example_ops(f, ex);
        else if (cJSON_IsObject(ex))
            table_kv(f, "Example", ex);
        fputs("</div>\n", f);
    }
    if (n > EXPLAIN_FINDINGS_MAX)
        fprintf(f, "<p class=\"note\">%d more findings in results.json.</p>\n",
                n - EXPLAIN_FINDINGS_MAX);
    fputs("</section>\n", f);
}

void explain_id_properties(FILE *f, const cJSON *r)
{
    const cJSON *p = page_get(r, "id-properties");
    if (!cJSON_IsObject(p))
        return;
    fputs("<section id=\"id-properties\"><h2>ID properties</h2>\n", f);
    if (page_str(p, "note")) {
        fputs("<p class=\"note\">", f);
        text(f, page_str(p, "note"));
        fputs("</p>\n", f);
    }
    fputs("<div class=\"tables\">", f);
    table_kv(f, "Within each incarnation", page_get(p, "within-incarnations"));
    table_kv(f, "Across nodes (against real time)", page_get(p, "across-nodes"));
    table_kv(f, "Types", page_get(p, "types"));
    table_kv(f, "Length in bytes", page_get(p, "length-bytes"));
    fputs("</div>\n", f);
    const cJSON *per = page_get(page_get(p, "within-incarnations"), "per-incarnation"), *x;
    if (cJSON_GetArraySize(per) > 0) {
        fputs("<table id=\"id-incarnations\"><tr><th>node</th><th class=\"num\">incarnation</th>"
              "<th class=\"num\">ops</th><th>increasing</th><th class=\"num\">decreases</th>"
              "<th class=\"num\">largest decrease (ms)</th></tr>\n",
              f);
        int k = 0;
        cJSON_ArrayForEach(x, per)
        {
            if (k++ >= TABLE_ROWS_MAX)
                break;
            fputs("<tr class=\"id-incarnation\">", f);
            cell(f, page_get(x, "node"), false);
            cell(f, page_get(x, "incarnation"), true);
            cell(f, page_get(x, "ops"), true);
            cell(f, page_get(x, "increasing"), false);
            cell(f, page_get(x, "decreases"), true);
            cell(f, page_get(x, "largest-decrease-ms"), true);
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    fputs("</section>\n", f);
}
