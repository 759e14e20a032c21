/*
 * report_svg.c: what the SVG plots of report.html share (see report_svg.h).
 *
 * Everything is computed in pixels and written as plain shapes, so the page needs neither a
 * plotting library nor a script. Fault periods are drawn twice: as faint full-height bands
 * (per kind, the union over all nodes, so overlapping kills do not darken the plot) and as
 * strips in one lane per node, which say who was down or cut off. Both are bounded by
 * SPAN_MAX spans.
 * Depends on: report_page, report_span, alloc. Used by: report_plot.
 */
#include "report_svg.h"
#include "report_page.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define STRIP_H 6.0 /* one fault kind within a node's lane */

/* Okabe and Ito's palette: distinct for colour-blind readers. */
static const char *const kind_colours[SPAN_KIND_COUNT] = {
    [SPAN_PARTITION] = "#56b4e9", [SPAN_KILL] = "#d55e00",      [SPAN_PAUSE] = "#e69f00",
    [SPAN_LOSS] = "#cc79a7",      [SPAN_DUPLICATE] = "#009e73", [SPAN_CLOCK] = "#0072b2",
    [SPAN_OTHER] = "#777777",
};

/* ==== Scales and axes ==== */

double svg_clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

double svg_x(const struct svg_frame *fr, double t_s)
{
    return svg_clamp(fr->x0 + (fr->x1 - fr->x0) * t_s / fr->t_end_s, fr->x0, fr->x1);
}

/* A round step (1, 2 or 5 times a power of ten) giving about `target` ticks over range. */
double svg_nice_step(double range, int target)
{
    if (!(range > 0))
        return 1;
    double raw = range / target, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

void svg_open(FILE *f, const char *id, double h, const char *label)
{
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s\" class=\"plot\" "
            "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
            "aria-label=\"%s\" font-family=\"%s\" font-size=\"11\" fill=\"#1f2328\">\n",
            id, SVG_W, h, SVG_W, h, label, SVG_FONT);
}

/* Vertical grid lines of the time axis from the top of the data to y_bottom, their labels at
 * y_labels, and the axis title at the right end of the legend row. */
void svg_time_axis(FILE *f, const struct svg_frame *fr, double y_bottom, double y_labels)
{
    double step = svg_nice_step(fr->t_end_s, 12);
    int decimals = step >= 1 ? 0 : EDDY_MIN((int)ceil(-log10(step) - 1e-9), 9);
    int ticks = (int)floor(fr->t_end_s / step + 1e-6);
    fprintf(f, "<g class=\"axis-x\" stroke=\"#d8dee4\">\n");
    for (int i = 0; i <= ticks; i++)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", svg_x(fr, i * step),
                fr->y0, svg_x(fr, i * step), y_bottom);
    fprintf(f, "</g>\n<g class=\"ticks-x\" text-anchor=\"middle\" fill=\"#57606a\">\n");
    for (int i = 0; i <= ticks; i++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%.*f</text>\n", svg_x(fr, i * step), y_labels,
                decimals, i * step);
    fprintf(f,
            "</g>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#57606a\">time since "
            "the start (s)</text>\n",
            fr->x1, fr->y0 - 10);
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#8c959f\"/>\n",
            fr->x0, fr->y0, fr->x1 - fr->x0, fr->y1 - fr->y0);
}

void svg_ms_label(FILE *f, double ms)
{
    if (ms >= 1000)
        fprintf(f, "%g s", ms / 1000);
    else if (ms >= 1)
        fprintf(f, "%g ms", ms);
    else
        fprintf(f, "%g µs", ms * 1000);
}

/* ==== Fault shading and lanes ==== */

/* Which kinds get a strip in every lane: the periods, not the instants. */
static uint32_t strip_kinds(const struct span_list *l)
{
    uint32_t k = 0;
    for (size_t i = 0; i < l->len; i++)
        if (!l->v[i].instant)
            k |= 1u << l->v[i].kind;
    return k;
}

static int strip_index(uint32_t kinds, enum span_kind k)
{
    int n = 0;
    for (int i = 0; i < (int)k; i++)
        n += (kinds >> i) & 1;
    return n;
}

/* Lanes shown: every node lane, plus the shared one when some span is on it. */
static uint32_t lanes_shown(const struct span_list *l)
{
    for (size_t i = 0; i < l->len; i++)
        if (l->v[i].lane == l->lane_count)
            return l->lane_count + 1;
    return l->lane_count;
}

static double lane_h(const struct span_list *l)
{
    int strips = __builtin_popcount(strip_kinds(l));
    return EDDY_MAX(strips * STRIP_H, 8.0) + 4;
}

/* Height of the lanes block, 0 when the run had no faults. */
double svg_lanes_height(const struct svg_time *pt)
{
    if (!pt->spans || pt->spans->len == 0)
        return 0;
    return 8 + lanes_shown(pt->spans) * lane_h(pt->spans);
}

static int span_cmp(const void *a, const void *b)
{
    const struct span *x = *(const struct span *const *)a, *y = *(const struct span *const *)b;
    if (x->kind != y->kind)
        return (int)x->kind - (int)y->kind;
    return (x->t0_s > y->t0_s) - (x->t0_s < y->t0_s);
}

/* Faint full-height bands: per kind, the union of its applied periods over all lanes. */
void svg_fault_shades(FILE *f, const struct svg_frame *fr, const struct span_list *l)
{
    if (!l || !l->len)
        return;
    const struct span **v = xmalloc(l->len * sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; i < l->len; i++)
        if (!l->v[i].instant)
            v[n++] = &l->v[i];
    qsort(v, n, sizeof(*v), span_cmp);
    fprintf(f, "<g class=\"shades\" fill-opacity=\"0.13\">\n");
    for (size_t i = 0; i < n;) {
        double t0 = v[i]->t0_s, t1 = v[i]->t1_s;
        size_t j = i + 1;
        while (j < n && v[j]->kind == v[i]->kind && v[j]->t0_s <= t1) {
            t1 = EDDY_MAX(t1, v[j]->t1_s);
            j++;
        }
        double x0 = svg_x(fr, t0), w = EDDY_MAX(svg_x(fr, t1) - x0, 1.0);
        fprintf(f,
                "<rect class=\"shade\" data-kind=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%.1f\" fill=\"%s\"/>\n",
                span_kind_name(v[i]->kind), x0, fr->y0, w, fr->y1 - fr->y0,
                kind_colours[v[i]->kind]);
        i = j;
    }
    fputs("</g>\n", f);
    free(v);
}

static void span_title(FILE *f, const struct span *s, const char *lane)
{
    fputs("<title>", f);
    page_text(f, lane, PAGE_LABEL_MAX);
    fprintf(f, ": %s%s %.3f", s->applied ? "" : "not applied: ", span_kind_name(s->kind), s->t0_s);
    if (!s->instant)
        fprintf(f, "–%.3f s%s", s->t1_s, s->open ? " (still in effect at the end)" : "");
    else
        fputs(" s", f);
    if (s->detail) {
        fputs(" (", f);
        page_text(f, s->detail, 160);
        fputs(")", f);
    }
    fputs("</title>", f);
}

static void lane_mark(FILE *f, const struct svg_frame *fr, const struct span *s, const char *lane,
                      double y, double h, uint32_t kinds)
{
    double x = svg_x(fr, s->t0_s);
    const char *name = span_kind_name(s->kind), *colour = kind_colours[s->kind];
    if (!s->applied) {
        /* Not applied: a hollow, dashed box, never filled, so it cannot pass for a fault. */
        fprintf(f,
                "<rect class=\"fault-na\" data-kind=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"6\" "
                "height=\"%.1f\" fill=\"#ffffff\" stroke=\"%s\" stroke-dasharray=\"2 1\">",
                name, x - 3, y + 1, h - 2, colour);
        span_title(f, s, lane);
        fputs("</rect>\n", f);
    } else if (s->instant) {
        double cy = y + h / 2, r = EDDY_MIN(h / 2, 6.0);
        fprintf(f,
                "<path class=\"fault-mark\" data-kind=\"%s\" d=\"M%.1f %.1fl%.1f %.1fl%.1f "
                "%.1fl%.1f %.1fz\" fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"0.5\">",
                name, x, cy - r, r, r, -r, r, -r, -r, colour);
        span_title(f, s, lane);
        fputs("</path>\n", f);
    } else {
        double sy = y + 2 + strip_index(kinds, s->kind) * STRIP_H;
        double w = EDDY_MAX(svg_x(fr, s->t1_s) - x, 1.0);
        fprintf(f,
                "<rect class=\"fault\" data-kind=\"%s\" data-lane=\"%u\" x=\"%.1f\" y=\"%.1f\" "
                "width=\"%.1f\" height=\"%.1f\" fill=\"%s\">",
                name, s->lane, x, sy, w, STRIP_H - 1, colour);
        span_title(f, s, lane);
        fputs("</rect>\n", f);
    }
}

/* The lanes under a time plot, from y: one row per node, a strip per fault kind. */
void svg_fault_lanes(FILE *f, const struct svg_frame *fr, const struct svg_time *pt, double y)
{
    const struct span_list *l = pt->spans;
    if (!l || !l->len)
        return;
    uint32_t shown = lanes_shown(l), kinds = strip_kinds(l);
    double h = lane_h(l);
    y += 8;
    fprintf(f, "<g class=\"lanes\">\n");
    for (uint32_t i = 0; i < shown; i++) {
        double ry = y + i * h;
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                "fill-opacity=\"0.7\"/>\n",
                fr->x0, ry, fr->x1 - fr->x0, h - 1, i % 2 ? "#f6f8fa" : "#eef1f4");
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#57606a\">", fr->x0 - 10,
                ry + h / 2 + 3.5);
        if (i < l->lane_count)
            page_text(f, pt->lanes[i], 12);
        else
            fputs(l->lane_count ? "all / net" : "faults", f);
        fputs("</text>\n", f);
    }
    /* Periods first, instants over them. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < l->len; i++) {
            const struct span *s = &l->v[i];
            if (s->instant != (pass == 1) || s->lane >= shown)
                continue;
            const char *lane = s->lane < l->lane_count ? pt->lanes[s->lane] : "all nodes";
            lane_mark(f, fr, s, lane, y + s->lane * h, h - 1, kinds);
        }
    }
    fputs("</g>\n", f);
}

/* The legend of fault kinds, one row at y. */
void svg_fault_legend(FILE *f, const struct span_list *l, double x, double y)
{
    if (!l || !l->len)
        return;
    fprintf(f, "<g class=\"legend-faults\">\n");
    /* A kind is shown as it is drawn: a strip for periods, a diamond for applied instants,
     * else (only events not applied) a hollow box in its colour. */
    uint32_t periods = strip_kinds(l), instants = 0;
    for (size_t i = 0; i < l->len; i++)
        if (l->v[i].instant && l->v[i].applied)
            instants |= 1u << l->v[i].kind;
    for (int k = 0; k < SPAN_KIND_COUNT; k++) {
        const char *note = "";
        if (!(l->kinds & (1u << k)))
            continue;
        if (periods & (1u << k)) {
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"8\" fill=\"%s\"/>", x,
                    y - 8, kind_colours[k]);
        } else if (instants & (1u << k)) {
            fprintf(f, "<path d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\" fill=\"%s\"/>", x + 5, y - 9,
                    kind_colours[k]);
            note = " (instant)";
        } else {
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"6\" height=\"10\" fill=\"#ffffff\" "
                    "stroke=\"%s\" stroke-dasharray=\"2 1\"/>",
                    x + 4, y - 9, kind_colours[k]);
            note = " (never applied)";
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s%s</text>\n", x + 18, y,
                span_kind_name((enum span_kind)k), note);
        x += 36 + 7.0 * (double)(strlen(span_kind_name((enum span_kind)k)) + strlen(note));
    }
    if (l->any_not_applied) {
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"6\" height=\"10\" fill=\"#ffffff\" "
                "stroke=\"#57606a\" stroke-dasharray=\"2 1\"/><text x=\"%.1f\" y=\"%.1f\">not "
                "applied</text>\n",
                x, y - 9, x + 12, y);
        x += 90;
    }
    if (l->dropped)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#cf222e\">%zu more not drawn</text>\n", x, y,
                l->dropped);
    fputs("</g>\n", f);
}
