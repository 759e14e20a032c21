/*
 * report_html.c: report.html (see report_html.h).
 *
 * The page reads top to bottom as a reader asks: did it pass, how was it run, what did
 * latency and throughput do while which faults were on, what went wrong (duplicates, protocol
 * violations), and then the details (messages, the fault log, the checkers' numbers). The
 * plots are in report_plot.c and report_lamport.c, the tables in report_table.c; this file
 * writes the page around them: style, verdict, key facts, and the plot sections. Markup is
 * XHTML-compatible: every element closed, no named entities beyond XML's, and nothing in
 * <style> that XML would need escaped.
 * Depends on: report_page, report_span, report_plot, report_lamport, report_table, cJSON.
 * Used by: report.
 */
#include "report_html.h"
#include "report_explain.h"
#include "report_lamport.h"
#include "report_page.h"
#include "report_plot.h"
#include "report_span.h"
#include "report_table.h"
#include "eddy/util.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ==== Style ==== */

static const char css[] =
    "body{margin:0;background:#f6f8fa;color:#1f2328;font:14px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'DejaVu Sans',sans-serif}\n"
    "main{max-width:1200px;margin:0 auto;padding:16px 20px 40px}\n"
    "h1{font-size:20px;margin:0 0 10px}h1 small{color:#57606a;font-weight:400;font-size:14px}\n"
    "h2{font-size:17px;margin:0 0 8px}h3{font-size:14px;margin:12px 0 6px}\n"
    "section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 16px;"
    "margin:14px 0}\n"
    ".verdict{display:flex;align-items:center;gap:16px;padding:12px 18px;border-radius:8px;"
    "color:#fff}\n"
    ".verdict .word{font-size:28px;font-weight:800;letter-spacing:.05em}\n"
    ".verdict.valid{background:#1a7f37}.verdict.invalid{background:#cf222e}"
    ".verdict.unknown{background:#9a6700}\n"
    ".alert{margin:10px 0;padding:10px 14px;border:2px solid #cf222e;border-radius:8px;"
    "background:#ffebe9;font-weight:600}\n"
    ".alert.warn{border-color:#bf8700;background:#fff8c5}\n"
    "dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));"
    "gap:8px 18px;margin:12px 0}\n"
    "dl.facts div{border-left:3px solid #d0d7de;padding-left:8px}\n"
    "dt{color:#57606a;font-size:12px}dd{margin:0;font-weight:600;font-variant-numeric:"
    "tabular-nums;overflow-wrap:anywhere}\n"
    "pre.cmd{margin:6px 0 0;background:#0d1117;color:#e6edf3;padding:8px 12px;border-radius:6px;"
    "white-space:pre-wrap;overflow-wrap:anywhere;font-size:13px}\n"
    ".chips{display:flex;flex-wrap:wrap;gap:6px;margin:10px 0 0}\n"
    ".chip{border-radius:12px;padding:1px 10px;font-size:12px;font-weight:600;border:1px solid}\n"
    ".chip.ok{color:#1a7f37;border-color:#1a7f37;background:#dafbe1}\n"
    ".chip.bad{color:#fff;border-color:#cf222e;background:#cf222e}\n"
    ".chip.unk{color:#9a6700;border-color:#9a6700;background:#fff8c5}\n"
    "nav{margin:12px 0 0;font-size:13px}nav a{margin-right:12px;color:#0969da}\n"
    "table{border-collapse:collapse;font-size:13px;margin:4px 0}\n"
    "th,td{border-bottom:1px solid #d8dee4;padding:3px 10px 3px 0;text-align:left;"
    "vertical-align:top}\n"
    "th{color:#57606a;font-weight:600}td.num,th.num{text-align:right;"
    "font-variant-numeric:tabular-nums}\n"
    "tr.not-applied td{color:#6e7781;font-style:italic}\n"
    "td code,p code,li code{font-size:12px;overflow-wrap:anywhere}\n"
    "ol.ops{margin:0;padding-left:18px}\n"
    ".tables{display:flex;flex-wrap:wrap;gap:8px 40px}.tables table{max-width:560px}\n"
    "th{white-space:nowrap}\n"
    ".note{color:#57606a;font-size:13px}\n"
    "svg.plot{display:block;width:100%;height:auto;margin:4px 0}\n"
    ".scroll{max-height:860px;overflow:auto;border:1px solid #d8dee4;border-radius:6px;"
    "padding:0 6px}\n"
    "svg.lamport{display:block}\n"
    "footer{color:#57606a;font-size:12px;text-align:center}\n"
    "#diagnosis{border:2px solid #cf222e}\n"
    ".finding{margin:0 0 12px}.finding h3{margin:4px 0}.finding h3 small{color:#57606a;"
    "font-weight:400}\n"
    "p.cause{margin:4px 0;font-weight:600}\n"
    "table.example td{white-space:nowrap}\n";

/* ==== Small writers ==== */

static void text(FILE *f, const char *s)
{
    page_text(f, s, PAGE_TEXT_MAX);
}

static void fact(FILE *f, const char *label, const cJSON *v, const char *unit)
{
    fprintf(f, "<div><dt>%s</dt><dd>", label);
    table_value(f, v);
    if (v && unit)
        fputs(unit, f);
    fputs("</dd></div>\n", f);
}

static void fact_num(FILE *f, const char *label, double v, const char *unit)
{
    fprintf(f, "<div><dt>%s</dt><dd>", label);
    if (isnan(v)) {
        fputs("–", f);
    } else {
        page_num_text(f, v);
        fputs(unit, f);
    }
    fputs("</dd></div>\n", f);
}

static void fact_ms(FILE *f, const char *label, double ms)
{
    fprintf(f, "<div><dt>%s</dt><dd>", label);
    if (isnan(ms))
        fputs("–", f);
    else
        fprintf(f, ms >= 100 ? "%.0f ms" : "%.3g ms", ms);
    fputs("</dd></div>\n", f);
}

/* ==== Head and verdict ==== */

static void head(FILE *f, const cJSON *r, int valid)
{
    const cJSON *eddy = page_get(r, "eddy");
    fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\"/>\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>",
          f);
    fprintf(f, "%s: eddy ", valid == 1 ? "valid" : valid == 0 ? "INVALID" : "unknown");
    text(f, page_str(eddy, "workload"));
    fputs(" ", f);
    text(f, page_str(eddy, "run-dir"));
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", css);
}

static void alerts(FILE *f, const cJSON *r)
{
    const char *error = page_str(r, "error");
    if (error) {
        fputs("<div class=\"alert\" id=\"error\">The run broke: ", f);
        text(f, error);
        fputs(". The checkers saw only what happened before.</div>\n", f);
    }
    if (cJSON_IsTrue(page_get(r, "interrupted"))) {
        fputs("<div class=\"alert\" id=\"interrupted\">Interrupted", f);
        if (page_str(r, "interrupted-by")) {
            fputs(" by ", f);
            text(f, page_str(r, "interrupted-by"));
        }
        fputs(": these results are partial.</div>\n", f);
    }
    const char *unreached = page_str(page_get(r, "faults"), "unreached");
    if (unreached) {
        fputs("<div class=\"alert warn\" id=\"unreached\">Faults that could not be applied: ", f);
        text(f, unreached);
        fputs(cJSON_IsTrue(page_get(page_get(r, "faults"), "unreached-allowed"))
                  ? " (allowed by --allow-unapplied-faults).</div>\n"
                  : ". The verdict is unknown: the run did not test what it was asked to.</div>\n",
              f);
    }
    const char *hist = page_str(page_get(r, "eddy"), "history-error");
    const char *plan = page_str(page_get(r, "faults"), "warning");
    for (int i = 0; i < 2; i++) {
        const char *w = i ? plan : hist;
        if (!w)
            continue;
        fputs("<div class=\"alert warn\">", f);
        text(f, w);
        fputs("</div>\n", f);
    }
}

static void verdict(FILE *f, const cJSON *r, int valid)
{
    static const char *const cls[] = {"unknown", "invalid", "valid"};
    static const char *const word[] = {"? UNKNOWN", "✗ INVALID", "✓ VALID"};
    static const char *const line[] = {
        "Errors occurred during analysis, but no anomalies found.",
        "Analysis invalid: at least one checker found a problem.",
        "Everything looks good!",
    };
    const cJSON *eddy = page_get(r, "eddy");
    fputs("<h1>eddy test ", f);
    text(f, page_str(eddy, "workload") ? page_str(eddy, "workload") : "(workload not recorded)");
    fputs(" <small>", f);
    text(f, page_str(eddy, "run-dir"));
    fputs("</small></h1>\n", f);
    fprintf(f,
            "<div id=\"verdict\" class=\"verdict %s\"><span class=\"word\">%s</span>"
            "<span>%s</span></div>\n",
            cls[valid + 1], word[valid + 1], line[valid + 1]);
    alerts(f, r);
}

static void facts(FILE *f, const cJSON *r)
{
    const cJSON *eddy = page_get(r, "eddy"), *st = page_get(r, "stats");
    const cJSON *lat = page_get(r, "latency"), *all = page_get(lat, "all-ms");
    const cJSON *faults = page_get(r, "faults");
    fputs("<dl class=\"facts\">\n", f);
    fact(f, "workload", page_get(eddy, "workload"), NULL);
    fact(f, "nodes", page_get(eddy, "node-count"), NULL);
    fact(f, "concurrency", page_get(eddy, "concurrency"), NULL);
    fact(f, "time limit", page_get(eddy, "time-limit"), " s");
    fact(f, "rate", page_get(eddy, "rate"), " ops/s");
    fact(f, "net latency", page_get(eddy, "latency"), " ms");
    fact(f, "seed", page_get(r, "seed"), NULL);
    fact_num(f, "throughput", round(page_num(lat, "ops-per-second", NAN) * 10) / 10, " ops/s");
    fact(f, "ops", page_get(st, "count"), NULL);
    fact(f, "ok", page_get(st, "ok-count"), NULL);
    fact(f, "fail", page_get(st, "fail-count"), NULL);
    fact(f, "info", page_get(st, "info-count"), NULL);
    fact_ms(f, "latency p50", page_num(all, "p50", NAN));
    fact_ms(f, "latency p99", page_num(all, "p99", NAN));
    fact(f, "faults applied", page_get(faults, "applied-count"), NULL);
    fact(f, "faults not applied", page_get(faults, "not-applied-count"), NULL);
    fact(f, "eddy version", page_get(eddy, "version"), NULL);
    fputs("</dl>\n<div class=\"chips\">", f);
    static const char *const checkers[] = {"workload",   "stats", "availability", "protocol",
                                           "exceptions", "net",   "perf",         "timeline"};
    for (size_t i = 0; i < ARRAY_LEN(checkers); i++) {
        const cJSON *ck = page_get(r, checkers[i]);
        if (!ck)
            continue;
        /* A checker the verdict does not count (protocol, unless --strict) warns, not fails. */
        bool warns = page_valid(ck) == 0 && cJSON_IsFalse(page_get(ck, "strict"));
        table_chip(f, warns ? "protocol: warnings, not counted" : checkers[i],
                   warns ? -1 : page_valid(ck));
    }
    fputs("</div>\n<h3>Reproduce</h3>\n<pre class=\"cmd\" id=\"command\">", f);
    text(f, page_str(eddy, "command") ? page_str(eddy, "command") : "(command not recorded)");
    fputs("</pre>\n", f);
    fputs("<nav><a href=\"#latency\">latency</a><a href=\"#throughput\">throughput</a>"
          "<a href=\"#clocks\">clocks</a><a href=\"#nodes\">nodes</a>"
          "<a href=\"#workload\">workload</a><a href=\"#protocol\">protocol</a>"
          "<a href=\"#messages\">messages</a><a href=\"#faults\">faults</a>"
          "<a href=\"#checkers\">checkers</a></nav>\n",
          f);
}

/* ==== Time plots ==== */

static double last_time(const cJSON *arr, double scale, double plus)
{
    double t = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, (cJSON_IsArray(arr) ? arr : NULL))
    {
        const cJSON *v = cJSON_IsArray(x) ? x->child : page_get(x, "t");
        if (!v && cJSON_IsObject(x))
            v = page_get(x, "time");
        if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
            t = EDDY_MAX(t, v->valuedouble * scale + plus);
    }
    return t;
}

/* The end of the time axis: the time limit, or later if anything happened after it. */
static double time_end(const cJSON *r)
{
    const cJSON *plot = page_get(r, "plot"), *faults = page_get(r, "faults"), *c;
    double t = page_num(page_get(r, "eddy"), "time-limit", 0);
    t = EDDY_MAX(t, last_time(page_get(plot, "samples"), 1, 0));
    t = EDDY_MAX(t, last_time(page_get(plot, "buckets"), 1, page_num(plot, "bucket-seconds", 0)));
    t = EDDY_MAX(t, last_time(page_get(faults, "events"), 1e-9, 0));
    cJSON_ArrayForEach(
        c, (cJSON_IsObject(page_get(faults, "clocks")) ? page_get(faults, "clocks") : NULL))
    {
        t = EDDY_MAX(t, last_time(page_get(c, "offsets"), 1, 0));
    }
    return t > 0 && t < 1e9 ? t : 1;
}

static void time_plots(FILE *f, const cJSON *r, const struct svg_time *pt)
{
    const cJSON *plot = page_get(r, "plot"), *st = page_get(r, "stats");
    int samples = cJSON_GetArraySize(page_get(plot, "samples"));
    fputs("<section id=\"latency\"><h2>Latency over time</h2>\n<p class=\"note\">", f);
    if (plot) {
        fprintf(f, "%d operations sampled", samples);
        if (page_num(st, "count", 0) > samples) {
            fputs(" of ", f);
            page_num_text(f, page_num(st, "count", 0));
        }
        fputs(", placed at the time they were invoked. Faults are shaded over the plot and, "
              "per node, in the lanes below it; hover over a shape for its details.",
              f);
    } else {
        fputs("results.json has no \"plot\" section.", f);
    }
    fputs("</p>\n", f);
    if (plot)
        plot_latency(f, plot, pt);
    fputs("</section>\n<section id=\"throughput\"><h2>Throughput over time</h2>\n", f);
    if (plot) {
        fprintf(f,
                "<p class=\"note\">Completed operations per second in buckets of %.3g ms, "
                "stacked by outcome.</p>\n",
                page_num(plot, "bucket-seconds", NAN) * 1000);
        plot_throughput(f, plot, pt);
    }
    fputs("</section>\n", f);
}

/* ==== Clocks and nodes ==== */

static void clocks(FILE *f, const cJSON *r, const struct svg_time *pt)
{
    const cJSON *c, *clk = page_get(page_get(r, "faults"), "clocks");
    fputs("<section id=\"clocks\"><h2>Clock offsets</h2>\n", f);
    if (cJSON_GetArraySize(clk) == 0) {
        fputs("<p class=\"note\">No clock faults in this run.</p></section>\n", f);
        return;
    }
    fputs("<p class=\"note\">How far each node's clock was from the real time (symmetric "
          "log scale: linear within ±1 ms). Each node's clock is reached either through the "
          "preload library or through trapped system calls (route); a node that neither "
          "reaches kept the real time whatever the plan said.</p>\n",
          f);
    plot_clocks(f, clk, pt);
    fputs("<table><tr><th>node</th><th>controlled</th><th>route</th><th>library loaded</th>"
          "<th class=\"num\">clock reads</th><th class=\"num\">offset samples</th>"
          "<th class=\"num\">largest offset</th></tr>\n",
          f);
    size_t shown = 0;
    cJSON_ArrayForEach(c, clk)
    {
        if (shown++ >= TABLE_ROWS_MAX)
            break;
        const cJSON *offs = page_get(c, "offsets"), *p;
        int n = cJSON_GetArraySize(offs);
        double largest = NAN;
        cJSON_ArrayForEach(p, offs)
        {
            const cJSON *v = cJSON_GetArrayItem(p, 1);
            if (cJSON_IsNumber(v) && (isnan(largest) || fabs(v->valuedouble) > fabs(largest)))
                largest = v->valuedouble;
        }
        fputs("<tr><th>", f);
        text(f, c->string);
        fputs("</th><td>", f);
        table_value(f, page_get(c, "controlled"));
        fputs("</td><td title=\"", f);
        text(f, page_str(c, "route-reason") ? page_str(c, "route-reason") : "");
        fputs("\">", f);
        table_value(f, page_get(c, "route"));
        fprintf(f, "</td><td>%s", cJSON_IsFalse(page_get(c, "library-loaded")) ? "<strong>" : "");
        table_value(f, page_get(c, "library-loaded"));
        fprintf(f, "%s</td><td class=\"num\">",
                cJSON_IsFalse(page_get(c, "library-loaded")) ? "</strong>" : "");
        table_value(f, page_get(c, "reads"));
        fprintf(f, "</td><td class=\"num\">%d</td><td class=\"num\">", n);
        page_num_text(f, largest);
        fputs(isnan(largest) ? "" : " ms", f);
        fputs("</td></tr>\n", f);
    }
    fputs("</table></section>\n", f);
}

static void nodes(FILE *f, const cJSON *r)
{
    const cJSON *n = page_get(r, "nodes");
    fputs("<section id=\"nodes\"><h2>Nodes</h2>\n", f);
    if (cJSON_GetArraySize(n) == 0) {
        fputs("<p class=\"note\">No nodes recorded.</p></section>\n", f);
        return;
    }
    plot_nodes(f, n);
    if (cJSON_GetArraySize(n) > PLOT_NODES_MAX)
        fprintf(f, "<p class=\"note\">The chart shows the first %d nodes.</p>\n", PLOT_NODES_MAX);
    table_matrix(f, "Per node", "node", n);
    fputs("</section>\n", f);
}

/* ==== Messages ==== */

static void messages(FILE *f, const cJSON *r)
{
    const cJSON *msgs = page_get(page_get(r, "plot"), "messages");
    fputs("<section id=\"messages\"><h2>The first messages</h2>\n", f);
    fputs("<p class=\"note\">One timeline per process, time flowing down; rows are spaced by "
          "real time within limits, and dashed lines mark skipped pauses. Blue: requests from "
          "clients, green: replies, purple: between nodes, red dashed: dropped.</p>\n"
          "<div class=\"scroll\">",
          f);
    struct lamport_stats st = lamport_write(f, msgs, page_get(r, "nodes"));
    fputs("</div>\n", f);
    if (st.drawn == 0)
        fputs("<p class=\"note\">No messages recorded.</p>\n", f);
    else
        fprintf(f,
                "<p class=\"note\">%zu messages drawn, %zu delivered, on %u timelines (%u "
                "processes)%s</p>\n",
                st.drawn, st.delivered, st.columns, st.processes,
                st.omitted ? "; some were left out (malformed, or of processes not drawn)." : ".");
    fputs("</section>\n", f);
}

/* ==== The page ==== */

void report_html_page(FILE *f, const cJSON *r)
{
    ASSERT(f);
    const cJSON *valid = page_get(r, "valid?");
    int v = cJSON_IsTrue(valid) ? 1 : cJSON_IsFalse(valid) ? 0 : -1;
    head(f, r, v);
    verdict(f, r, v);
    explain_diagnosis(f, r);
    facts(f, r);

    /* Node lanes: the nodes' names in the map's order, as many as the lanes allow. */
    const char *lanes[SPAN_LANES_MAX];
    uint32_t lane_count = 0;
    const cJSON *n;
    cJSON_ArrayForEach(n, (cJSON_IsObject(page_get(r, "nodes")) ? page_get(r, "nodes") : NULL))
    {
        if (lane_count < SPAN_LANES_MAX)
            lanes[lane_count++] = n->string;
    }
    struct svg_time pt = {.t_end_s = time_end(r), .lanes = lanes};
    struct span_list spans;
    span_list_build(&spans, page_get(page_get(r, "faults"), "events"), lanes, lane_count,
                    pt.t_end_s);
    pt.spans = &spans;
    time_plots(f, r, &pt);
    clocks(f, r, &pt);
    nodes(f, r);
    table_workload(f, r);
    explain_id_properties(f, r);
    table_protocol(f, r);
    messages(f, r);
    table_faults(f, r);
    table_checkers(f, r);
    span_list_fini(&spans);
    fputs("<footer>Written by eddy from results.json in the same directory. This page is "
          "self-contained: no scripts, no network.</footer>\n</main>\n</body>\n</html>\n",
          f);
}

int report_html_write(const cJSON *results, const char *path, char *err, size_t elen)
{
    ASSERT(results);
    ASSERT(path);
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        snprintf(err, elen, "cannot write %s: path too long", path);
        return -ENAMETOOLONG;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        int e = errno;
        snprintf(err, elen, "cannot write %s: %s", tmp, strerror(e));
        return -e;
    }
    report_html_page(f, results);
    bool failed = ferror(f) != 0;
    int e = errno;
    if (fclose(f) != 0 && !failed) {
        failed = true;
        e = errno;
    }
    if (!failed && rename(tmp, path) != 0) {
        failed = true;
        e = errno;
    }
    if (failed) {
        snprintf(err, elen, "cannot write %s: %s", path, strerror(e ? e : EIO));
        unlink(tmp);
        return -(e ? e : EIO);
    }
    return 0;
}
