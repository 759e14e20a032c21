/*
 * report_plot.c: the SVG plots of report.html (see report_plot.h).
 *
 * One element per mark, drawn with report_svg's scales and fault lanes. Sizes are bounded by
 * the inputs' own limits (4000 samples, 240 buckets); the clock steps, which can have 20000
 * points per node, are reduced to at most four path commands per pixel column. Colours come
 * in pairs with shapes or dash patterns, so the plots still read in greyscale.
 * Depends on: report_svg, report_page, report_span, cJSON. Used by: report_html.
 */
#include "report_plot.h"
#include "report_page.h"
#include "eddy/util.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Sample types, in drawing order: the rare ones last, on top. */
enum mark {
    MARK_OK,
    MARK_INFO,
    MARK_FAIL,
    MARK_COUNT,
};

static const char *const mark_names[MARK_COUNT] = {"ok", "info", "fail"};
static const char *const mark_colours[MARK_COUNT] = {"#3366aa", "#e08a00", "#c0182a"};

static const char *const dashes[] = {"", "7 3", "2 2", "9 3 2 3"};

/* A log-scale latency axis: decades from 10^lo_exp to 10^hi_exp milliseconds. */
struct log_axis {
    int lo_exp, hi_exp;
    double y0, y1; /* pixels of the top (hi) and bottom (lo) */
};

static double ly(const struct log_axis *a, double ms)
{
    double e = ms > 0 ? log10(ms) : a->lo_exp;
    e = svg_clamp(e, a->lo_exp, a->hi_exp);
    return a->y1 - (a->y1 - a->y0) * (e - a->lo_exp) / (a->hi_exp - a->lo_exp);
}

static void log_axis_draw(FILE *f, const struct log_axis *a, double x0, double x1)
{
    fprintf(f, "<g class=\"axis-y\" stroke=\"#d8dee4\">\n");
    for (int e = a->lo_exp; e <= a->hi_exp; e++)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x0,
                ly(a, pow(10, e)), x1, ly(a, pow(10, e)));
    fprintf(f, "</g>\n<g class=\"ticks-y\" text-anchor=\"end\" fill=\"#57606a\">\n");
    for (int e = a->lo_exp; e <= a->hi_exp; e++) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", x0 - 6, ly(a, pow(10, e)) + 4);
        svg_ms_label(f, pow(10, e));
        fputs("</text>\n", f);
    }
    fputs("</g>\n", f);
}

/* ==== Latency ==== */

struct sample {
    double t_s, latency_ms;
    enum mark mark;
};

static bool sample_read(const cJSON *x, struct sample *s)
{
    const cJSON *t = cJSON_IsArray(x) ? x->child : NULL, *l = t ? t->next : NULL;
    const cJSON *type = l ? l->next : NULL;
    if (!cJSON_IsNumber(t) || !cJSON_IsNumber(l) || !cJSON_IsString(type))
        return false;
    if (!isfinite(t->valuedouble) || !isfinite(l->valuedouble))
        return false;
    for (int m = 0; m < MARK_COUNT; m++) {
        if (strcmp(type->valuestring, mark_names[m]) == 0) {
            *s = (struct sample){
                .t_s = t->valuedouble, .latency_ms = l->valuedouble, .mark = (enum mark)m};
            return true;
        }
    }
    return false;
}

static void widen(double v, double *lo, double *hi)
{
    if (!(v > 0) || !isfinite(v))
        return;
    *lo = EDDY_MIN(*lo, v);
    *hi = EDDY_MAX(*hi, v);
}

static struct log_axis latency_axis(const cJSON *samples, const cJSON *buckets)
{
    double lo = INFINITY, hi = 0;
    const cJSON *x;
    struct sample s;
    cJSON_ArrayForEach(x, samples)
    {
        if (sample_read(x, &s))
            widen(s.latency_ms, &lo, &hi);
    }
    cJSON_ArrayForEach(x, buckets)
    {
        widen(page_num(x, "p50-ms", 0), &lo, &hi);
        widen(page_num(x, "p99-ms", 0), &lo, &hi);
    }
    struct log_axis a = {.lo_exp = -2, .hi_exp = 1};
    if (hi > 0) {
        a.lo_exp = (int)floor(log10(EDDY_MAX(lo, 1e-4)));
        a.hi_exp = (int)ceil(log10(hi));
        if (a.hi_exp <= a.lo_exp)
            a.hi_exp = a.lo_exp + 1;
    }
    return a;
}

static void latency_marks(FILE *f, const struct svg_frame *fr, const struct log_axis *a,
                          const cJSON *samples)
{
    for (int m = 0; m < MARK_COUNT; m++) {
        const char *c = mark_colours[m];
        if (m == MARK_FAIL)
            fprintf(f,
                    "<g class=\"marks\" data-type=\"fail\" stroke=\"%s\" stroke-width=\"1.4\">\n",
                    c);
        else
            fprintf(f, "<g class=\"marks\" data-type=\"%s\" fill=\"%s\" fill-opacity=\"0.7\">\n",
                    mark_names[m], c);
        const cJSON *x;
        struct sample s;
        cJSON_ArrayForEach(x, samples)
        {
            if (!sample_read(x, &s) || s.mark != (enum mark)m)
                continue;
            double px = svg_x(fr, s.t_s), py = ly(a, s.latency_ms);
            if (m == MARK_OK)
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\"/>\n", px, py);
            else if (m == MARK_INFO)
                fprintf(f, "<path d=\"M%.1f %.1fl3 5h-6z\"/>\n", px, py - 3);
            else
                fprintf(f, "<path d=\"M%.1f %.1fl6 6m0 -6l-6 6\"/>\n", px - 3, py - 3);
        }
        fputs("</g>\n", f);
    }
}

/* One quantile line over the buckets, broken where buckets are missing (no ops there). */
static void quantile_line(FILE *f, const struct svg_frame *fr, const struct log_axis *a,
                          const cJSON *buckets, double width_s, const char *key, const char *cls,
                          const char *style)
{
    fprintf(f, "<path class=\"%s\" fill=\"none\" %s d=\"", cls, style);
    double last_t = -INFINITY;
    const cJSON *b;
    cJSON_ArrayForEach(b, buckets)
    {
        double t = page_num(b, "t", NAN), v = page_num(b, key, NAN);
        if (isnan(t) || isnan(v))
            continue;
        bool gap = t - last_t > width_s * 1.5;
        fprintf(f, "%s%.1f %.1f", gap ? "M" : "L", svg_x(fr, t + width_s / 2), ly(a, v));
        last_t = t;
    }
    fputs("\"/>\n", f);
}

static void latency_legend(FILE *f, double x, double y)
{
    fprintf(f, "<g class=\"legend\">\n");
    fprintf(f,
            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">"
            "ok</text>\n",
            x + 4, y - 4, mark_colours[MARK_OK], x + 12, y);
    x += 44;
    fprintf(f,
            "<path d=\"M%.1f %.1fl4 7h-8z\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">info "
            "(outcome unknown)</text>\n",
            x + 4, y - 8, mark_colours[MARK_INFO], x + 12, y);
    x += 150;
    fprintf(f,
            "<path d=\"M%.1f %.1fl7 7m0 -7l-7 7\" stroke=\"%s\" stroke-width=\"1.6\"/>"
            "<text x=\"%.1f\" y=\"%.1f\">fail</text>\n",
            x, y - 8, mark_colours[MARK_FAIL], x + 12, y);
    x += 50;
    fprintf(f,
            "<path d=\"M%.1f %.1fh22\" stroke=\"#1f2328\" stroke-width=\"1.6\"/><text "
            "x=\"%.1f\" y=\"%.1f\">p50 per bucket</text>\n",
            x, y - 4, x + 28, y);
    x += 124;
    fprintf(f,
            "<path d=\"M%.1f %.1fh22\" stroke=\"#8250df\" stroke-width=\"1.6\" "
            "stroke-dasharray=\"5 3\"/><text x=\"%.1f\" y=\"%.1f\">p99 per bucket</text>\n",
            x, y - 4, x + 28, y);
    fputs("</g>\n", f);
}

static double bucket_width(const cJSON *plot, const struct svg_time *pt)
{
    double w = page_num(plot, "bucket-seconds", 0);
    return w > 0 ? w : pt->t_end_s / 100;
}

void plot_latency(FILE *f, const cJSON *plot, const struct svg_time *pt)
{
    const cJSON *samples = page_get(plot, "samples"), *buckets = page_get(plot, "buckets");
    samples = cJSON_IsArray(samples) ? samples : NULL;
    buckets = cJSON_IsArray(buckets) ? buckets : NULL;
    struct svg_frame fr = {.x0 = SVG_MARGIN_L,
                           .x1 = SVG_W - SVG_MARGIN_R,
                           .y0 = SVG_LEGEND_H + 4,
                           .t_end_s = pt->t_end_s};
    fr.y1 = fr.y0 + 300;
    double lanes = svg_lanes_height(pt), h = fr.y1 + SVG_AXIS_H + lanes + (lanes ? 26 : 4);
    struct log_axis a = latency_axis(samples, buckets);
    a.y0 = fr.y0;
    a.y1 = fr.y1;
    svg_open(f, "plot-latency", h, "latency of every sampled operation over time");
    svg_fault_shades(f, &fr, pt->spans);
    log_axis_draw(f, &a, fr.x0, fr.x1);
    svg_time_axis(f, &fr, fr.y1, fr.y1 + 14);
    latency_marks(f, &fr, &a, samples);
    double w = bucket_width(plot, pt);
    quantile_line(f, &fr, &a, buckets, w, "p50-ms", "p50",
                  "stroke=\"#1f2328\" stroke-width=\"1.6\"");
    quantile_line(f, &fr, &a, buckets, w, "p99-ms", "p99",
                  "stroke=\"#8250df\" stroke-width=\"1.6\" stroke-dasharray=\"5 3\"");
    latency_legend(f, fr.x0, 16);
    svg_fault_lanes(f, &fr, pt, fr.y1 + SVG_AXIS_H);
    svg_fault_legend(f, pt->spans, fr.x0, h - 8);
    fputs("</svg>\n", f);
}

/* ==== Throughput ==== */

void plot_throughput(FILE *f, const cJSON *plot, const struct svg_time *pt)
{
    const cJSON *buckets = page_get(plot, "buckets"), *b;
    buckets = cJSON_IsArray(buckets) ? buckets : NULL;
    double w = bucket_width(plot, pt), top = 0;
    cJSON_ArrayForEach(b, buckets)
    {
        double sum = page_num(b, "ok", 0) + page_num(b, "info", 0) + page_num(b, "fail", 0);
        if (isfinite(sum / w))
            top = EDDY_MAX(top, sum / w);
    }
    /* A hostile map could hold 1e308 ops: keep the axis finite, the bars clamp to it. */
    top = svg_clamp(top, 1, 1e15);
    double step = svg_nice_step(top, 5);
    int ticks = (int)ceil(top / step - 1e-9);
    top = step * ticks;
    struct svg_frame fr = {.x0 = SVG_MARGIN_L,
                           .x1 = SVG_W - SVG_MARGIN_R,
                           .y0 = SVG_LEGEND_H + 4,
                           .t_end_s = pt->t_end_s};
    fr.y1 = fr.y0 + 180;
    double lanes = svg_lanes_height(pt), h = fr.y1 + SVG_AXIS_H + lanes + (lanes ? 26 : 4);
    svg_open(f, "plot-throughput", h, "operations per second over time");
    svg_fault_shades(f, &fr, pt->spans);
    fprintf(f, "<g class=\"axis-y\" stroke=\"#d8dee4\">\n");
    for (int i = 0; i <= ticks; i++)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", fr.x0,
                fr.y1 - (fr.y1 - fr.y0) * i / ticks, fr.x1, fr.y1 - (fr.y1 - fr.y0) * i / ticks);
    fprintf(f, "</g>\n<g class=\"ticks-y\" text-anchor=\"end\" fill=\"#57606a\">\n");
    for (int i = 0; i <= ticks; i++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%g/s</text>\n", fr.x0 - 6,
                fr.y1 - (fr.y1 - fr.y0) * i / ticks + 4, i * step);
    fputs("</g>\n", f);
    svg_time_axis(f, &fr, fr.y1, fr.y1 + 14);
    static const char *const keys[MARK_COUNT] = {"ok", "info", "fail"};
    fprintf(f, "<g class=\"bars\">\n");
    cJSON_ArrayForEach(b, buckets)
    {
        double t = page_num(b, "t", NAN), y = fr.y1;
        if (isnan(t))
            continue;
        double x0 = svg_x(&fr, t), bw = EDDY_MAX(svg_x(&fr, t + w) - x0 - 0.3, 0.6);
        fprintf(f, "<g><title>%.3f–%.3f s:", t, t + w);
        for (int m = 0; m < MARK_COUNT; m++)
            fprintf(f, " %s %g/s", keys[m], page_num(b, keys[m], 0) / w);
        fputs("</title>", f);
        for (int m = 0; m < MARK_COUNT; m++) {
            double hgt = (fr.y1 - fr.y0) * page_num(b, keys[m], 0) / w / top;
            if (!(hgt > 0))
                continue;
            hgt = EDDY_MIN(hgt, y - fr.y0);
            y -= hgt;
            fprintf(f,
                    "<rect class=\"bar\" data-type=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                    "height=\"%.1f\" fill=\"%s\"%s/>",
                    keys[m], x0, y, bw, hgt, mark_colours[m],
                    m == MARK_FAIL ? " stroke=\"#1f2328\" stroke-width=\"0.6\"" : "");
        }
        fputs("</g>\n", f);
    }
    fputs("</g>\n<g class=\"legend\">\n", f);
    for (int m = 0; m < MARK_COUNT; m++)
        fprintf(f,
                "<rect x=\"%.1f\" y=\"8\" width=\"14\" height=\"9\" fill=\"%s\"/><text x=\"%.1f\" "
                "y=\"16\">%s ops/s</text>\n",
                fr.x0 + m * 110, mark_colours[m], fr.x0 + m * 110 + 18, keys[m]);
    fputs("</g>\n", f);
    svg_fault_lanes(f, &fr, pt, fr.y1 + SVG_AXIS_H);
    svg_fault_legend(f, pt->spans, fr.x0, h - 8);
    fputs("</svg>\n", f);
}

/* ==== Clock offsets ==== */

/* Symmetric log: linear within ±1 ms, logarithmic beyond, so 0, 0.2 ms and -236 s fit. */
static double symlog(double ms)
{
    return ms < 0 ? -log10(1 - ms) : log10(1 + ms);
}

struct sym_axis {
    int lo, hi;    /* decades: the axis spans symlog values lo..hi */
    double y0, y1; /* top and bottom pixels */
};

static double sy(const struct sym_axis *a, double ms)
{
    double v = svg_clamp(symlog(ms), a->lo, a->hi);
    return a->y1 - (a->y1 - a->y0) * (v - a->lo) / (a->hi - a->lo);
}

static bool offset_read(const cJSON *p, double *t_s, double *ms)
{
    const cJSON *t = cJSON_IsArray(p) ? p->child : NULL, *v = t ? t->next : NULL;
    if (!cJSON_IsNumber(t) || !cJSON_IsNumber(v) || !isfinite(t->valuedouble) ||
        !isfinite(v->valuedouble))
        return false;
    *t_s = t->valuedouble;
    *ms = v->valuedouble;
    return true;
}

/* One node's offsets as a step path, at most four commands per pixel column. */
static void clock_path(FILE *f, const struct svg_frame *fr, const struct sym_axis *a,
                       const cJSON *offsets, double dy)
{
    const cJSON *p;
    double t, ms, col = NAN, y_min = 0, y_max = 0, y_last = 0;
    bool started = false;
    cJSON_ArrayForEach(p, offsets)
    {
        if (!offset_read(p, &t, &ms))
            continue;
        double x = round(svg_x(fr, t) * 2) / 2, y = sy(a, ms) + dy;
        if (!started) {
            fprintf(f, "M%.1f %.1f", x, y);
            started = true;
            col = x;
            y_min = y_max = y_last = y;
            continue;
        }
        if (x != col) {
            if (y_min != y_max)
                fprintf(f, "V%.1fV%.1f", y_min, y_max);
            fprintf(f, "V%.1fH%.1f", y_last, x);
            col = x;
            y_min = y_max = y_last;
        }
        y_min = EDDY_MIN(y_min, y);
        y_max = EDDY_MAX(y_max, y);
        y_last = y;
    }
    if (started) {
        if (y_min != y_max)
            fprintf(f, "V%.1fV%.1f", y_min, y_max);
        fprintf(f, "V%.1fH%.1f", y_last, fr->x1);
    }
}

static struct sym_axis clock_axis(const cJSON *clocks)
{
    double lo = 0, hi = 0, t, ms;
    const cJSON *c, *p;
    cJSON_ArrayForEach(c, clocks)
    {
        cJSON_ArrayForEach(p, page_get(c, "offsets"))
        {
            if (offset_read(p, &t, &ms)) {
                lo = EDDY_MIN(lo, symlog(ms));
                hi = EDDY_MAX(hi, symlog(ms));
            }
        }
    }
    struct sym_axis a = {.lo = (int)floor(lo), .hi = (int)ceil(hi)};
    if (a.lo == a.hi)
        a.hi = a.lo + 1;
    return a;
}

static void clock_tick(FILE *f, const struct svg_frame *fr, const struct sym_axis *a, double ms)
{
    double y = sy(a, ms);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>", fr->x0, y,
            fr->x1, y, ms == 0 ? "#8c959f" : "#d8dee4");
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s", fr->x0 - 6, y + 4,
            ms > 0   ? "+"
            : ms < 0 ? "−"
                     : "");
    if (ms == 0)
        fputs("0", f);
    else
        svg_ms_label(f, fabs(ms));
    fputs("</text>\n", f);
}

/* Ticks at 0 and at ±10^k ms for k >= 1, where symlog is within 0.05 of k; every other decade
 * when there are many. */
static void clock_ticks(FILE *f, const struct svg_frame *fr, const struct sym_axis *a)
{
    int every = a->hi - a->lo > 12 ? 2 : 1;
    fprintf(f, "<g class=\"ticks-y\" text-anchor=\"end\" fill=\"#57606a\">\n");
    clock_tick(f, fr, a, 0);
    for (int k = every; k <= a->hi; k += every)
        clock_tick(f, fr, a, pow(10, k));
    for (int k = every; k <= -a->lo; k += every)
        clock_tick(f, fr, a, -pow(10, k));
    fputs("</g>\n", f);
}

void plot_clocks(FILE *f, const cJSON *clocks, const struct svg_time *pt)
{
    size_t n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, (cJSON_IsObject(clocks) ? clocks : NULL))
    {
        n += cJSON_GetArraySize(page_get(c, "offsets")) > 0;
    }
    if (n == 0)
        return;
    n = EDDY_MIN(n, (size_t)PLOT_CLOCKS_MAX);
    struct svg_frame fr = {
        .x0 = SVG_MARGIN_L, .x1 = SVG_W - SVG_MARGIN_R, .y0 = SVG_LEGEND_H, .t_end_s = pt->t_end_s};
    fr.y1 = fr.y0 + 220;
    double legend_rows = ceil((double)n / 8), h = fr.y1 + SVG_AXIS_H + 6 + legend_rows * 18;
    struct sym_axis a = clock_axis(clocks);
    a.y0 = fr.y0;
    a.y1 = fr.y1;
    svg_open(f, "plot-clocks", h, "clock offset of every node over time");
    clock_ticks(f, &fr, &a);
    svg_time_axis(f, &fr, fr.y1, fr.y1 + 14);
    size_t i = 0;
    cJSON_ArrayForEach(c, clocks)
    {
        const cJSON *offsets = page_get(c, "offsets");
        if (cJSON_GetArraySize(offsets) == 0 || i >= n)
            continue;
        double lx = fr.x0 + (double)(i % 8) * 130,
               lyy = fr.y1 + SVG_AXIS_H + 16 + (double)(i / 8) * 18;
        const char *dash = dashes[i % ARRAY_LEN(dashes)];
        fprintf(f, "<path class=\"clock\" data-node=\"");
        page_text(f, c->string, PAGE_TEXT_MAX);
        fprintf(f, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"%s\" d=\"",
                page_palette(i), dash);
        /* Nodes with equal offsets would hide each other: shift each line a little. */
        clock_path(f, &fr, &a, offsets, ((double)i - (double)(n - 1) / 2) * 1.5);
        fprintf(f, "\"><title>");
        page_text(f, c->string, PAGE_LABEL_MAX);
        fputs("</title></path>\n", f);
        fprintf(f,
                "<path d=\"M%.1f %.1fh24\" stroke=\"%s\" stroke-width=\"2\" "
                "stroke-dasharray=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">",
                lx, lyy - 4, page_palette(i), dash, lx + 30, lyy);
        page_text(f, c->string, 12);
        fprintf(f, "%s</text>\n",
                cJSON_IsFalse(page_get(c, "library-loaded")) ? " (not loaded)" : "");
        i++;
    }
    fputs("</svg>\n", f);
}

/* ==== Ops per node ==== */

void plot_nodes(FILE *f, const cJSON *nodes)
{
    size_t n = 0;
    double top = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, (cJSON_IsObject(nodes) ? nodes : NULL))
    {
        if (n++ < PLOT_NODES_MAX)
            top = EDDY_MAX(top, page_num(x, "ops", 0));
    }
    if (n == 0)
        return;
    n = EDDY_MIN(n, (size_t)PLOT_NODES_MAX);
    double row = 20, x0 = SVG_MARGIN_L, x1 = SVG_W - 150, h = 30 + row * (double)n;
    top = top > 0 ? top : 1;
    svg_open(f, "plot-nodes", h, "operations handled per node");
    fprintf(f,
            "<g class=\"legend\"><rect x=\"%.1f\" y=\"6\" width=\"14\" height=\"9\" "
            "fill=\"#b6cbe6\"/><text x=\"%.1f\" y=\"14\">ops routed to the node</text><rect "
            "x=\"%.1f\" y=\"6\" width=\"14\" height=\"9\" fill=\"#3366aa\"/><text x=\"%.1f\" "
            "y=\"14\">of which ok</text></g>\n",
            x0, x0 + 18, x0 + 180, x0 + 198);
    size_t i = 0;
    cJSON_ArrayForEach(x, nodes)
    {
        if (i >= n)
            break;
        double y = 24 + row * (double)i, ops = page_num(x, "ops", 0), ok = page_num(x, "ok", 0);
        bool muted = cJSON_IsTrue(page_get(x, "muted"));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\"%s>", x0 - 6, y + 12,
                muted ? " fill=\"#cf222e\"" : "");
        page_text(f, x->string, 12);
        fprintf(f, "%s</text>\n", muted ? " (muted)" : "");
        fprintf(f, "<rect class=\"ops\" data-node=\"");
        page_text(f, x->string, PAGE_TEXT_MAX);
        fprintf(f, "\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" fill=\"#b6cbe6\"/>\n", x0,
                y + 2, (x1 - x0) * svg_clamp(ops / top, 0, 1));
        fprintf(f,
                "<rect class=\"oks\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" "
                "fill=\"#3366aa\"/>\n",
                x0, y + 2, (x1 - x0) * svg_clamp(ok / top, 0, 1));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#57606a\">", x1 + 8, y + 13);
        page_num_text(f, ok);
        fputs(" ok of ", f);
        page_num_text(f, ops);
        fputs("</text>\n", f);
        i++;
    }
    fputs("</svg>\n", f);
}
