/*
 * report_lamport.c: the Lamport diagram (see report_lamport.h).
 *
 * The rows: every distinct send or receive time is one row. The first messages of a run are
 * bursty (a request and its reply microseconds apart, then milliseconds of nothing, then
 * seconds while a node is down), so a linear axis would stack them in one line. The gap to the
 * next row grows with the logarithm of the real gap over the median gap, within
 * ROW_MIN..ROW_MAX, and a gap 50 times the 90th percentile is marked as a labelled break. Process
 * lookups are linear, O(messages x processes), fine for the 400 messages results.json keeps.
 * Depends on: report_page, cJSON, alloc. Used by: report_html.
 */
#include "report_lamport.h"
#include "report_page.h"
#include "report_svg.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ROW_MIN 13.0 /* pixels between rows at distinct times */
#define ROW_LOG 6.0  /* more pixels per doubling of the gap over the median gap */
#define ROW_MAX 40.0
#define TOP 44.0 /* room for the process names */
#define LEFT 96.0

struct proc {
    const char *name; /* borrowed from the map */
    bool node;        /* listed in results["nodes"] */
    bool seen;        /* in some message */
    int col;          /* timeline index, or -1 when not drawn */
};

struct msg {
    uint32_t from, to; /* indices into procs */
    double send_s, recv_s;
    bool delivered, dropped;
    const char *type;
};

struct diagram {
    struct proc *procs;
    uint32_t procs_len, procs_cap;
    struct msg *msgs;
    size_t msgs_len;
    double *times; /* distinct event times, ascending */
    double *ys;    /* their rows */
    size_t times_len;
    double median_s; /* median gap between rows */
    double break_s;  /* gaps this long are drawn as breaks */
    double col_w;    /* pixels between timelines */
    double height;
    size_t omitted;
};

/* ==== Reading the messages ==== */

static uint32_t proc_find(struct diagram *d, const char *name, bool node)
{
    for (uint32_t i = 0; i < d->procs_len; i++)
        if (strcmp(d->procs[i].name, name) == 0)
            return i;
    if (d->procs_len == d->procs_cap) {
        d->procs_cap = d->procs_cap ? d->procs_cap * 2 : 16;
        d->procs = xrealloc(d->procs, d->procs_cap * sizeof(*d->procs));
    }
    d->procs[d->procs_len] = (struct proc){.name = name, .node = node, .col = -1};
    return d->procs_len++;
}

static bool msg_read(struct diagram *d, const cJSON *m, struct msg *out)
{
    const char *from = page_str(m, "from"), *to = page_str(m, "to");
    double send = page_num(m, "send", NAN), recv = page_num(m, "recv", NAN);
    if (!from || !to || isnan(send))
        return false;
    const char *type = page_str(m, "type");
    *out = (struct msg){.from = proc_find(d, from, false),
                        .to = proc_find(d, to, false),
                        .send_s = send,
                        .recv_s = isnan(recv) ? send : recv,
                        .delivered = !isnan(recv),
                        .dropped = cJSON_IsTrue(page_get(m, "dropped")),
                        .type = type ? type : "?"};
    d->procs[out->from].seen = d->procs[out->to].seen = true;
    return true;
}

static int client_order(const void *a, const void *b)
{
    const struct proc *x = *(struct proc *const *)a, *y = *(struct proc *const *)b;
    return strverscmp(x->name, y->name);
}

/* Picks the timelines: every node when there are few, else the nodes that talk, in the map's
 * order; then the other processes (clients) in natural order ("c2" before "c10"); at most
 * LAMPORT_COLUMNS_MAX in all. Returns how many. */
static uint32_t columns_assign(struct diagram *d, size_t node_count)
{
    struct proc **order = xmalloc((d->procs_len + 1) * sizeof(*order));
    bool all_nodes = node_count <= 16;
    uint32_t nodes = 0;
    for (uint32_t i = 0; i < d->procs_len; i++)
        if (d->procs[i].node && (d->procs[i].seen || all_nodes))
            order[nodes++] = &d->procs[i];
    uint32_t n = nodes;
    for (uint32_t i = 0; i < d->procs_len; i++)
        if (!d->procs[i].node && d->procs[i].seen)
            order[n++] = &d->procs[i];
    qsort(order + nodes, n - nodes, sizeof(*order), client_order);
    uint32_t cols = EDDY_MIN(n, (uint32_t)LAMPORT_COLUMNS_MAX);
    for (uint32_t i = 0; i < cols; i++)
        order[i]->col = (int)i;
    free(order);
    return cols;
}

/* ==== Rows ==== */

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void rows_build(struct diagram *d)
{
    d->times = xmalloc((2 * d->msgs_len + 1) * sizeof(*d->times));
    size_t n = 0;
    for (size_t i = 0; i < d->msgs_len; i++) {
        d->times[n++] = d->msgs[i].send_s;
        if (d->msgs[i].delivered)
            d->times[n++] = d->msgs[i].recv_s;
    }
    qsort(d->times, n, sizeof(*d->times), dbl_cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || d->times[i] != d->times[u - 1])
            d->times[u++] = d->times[i];
    d->times_len = u;
    d->ys = xmalloc((u + 1) * sizeof(*d->ys));
    /* The median gap sets the scale. */
    double *gaps = xmalloc((u + 1) * sizeof(*gaps));
    for (size_t i = 1; i < u; i++)
        gaps[i - 1] = d->times[i] - d->times[i - 1];
    qsort(gaps, u > 1 ? u - 1 : 0, sizeof(*gaps), dbl_cmp);
    d->median_s = u > 1 ? gaps[(u - 1) / 2] : 1;
    d->break_s = u > 1 ? 50 * gaps[(u - 1) * 9 / 10] : INFINITY;
    free(gaps);
    double y = 0;
    for (size_t i = 0; i < u; i++) {
        if (i > 0) {
            double r = (d->times[i] - d->times[i - 1]) / (d->median_s > 0 ? d->median_s : 1e-9);
            y += EDDY_MIN(ROW_MIN + ROW_LOG * log2(1 + r), ROW_MAX);
        }
        d->ys[i] = y;
    }
    double squeeze = y > LAMPORT_HEIGHT_MAX ? LAMPORT_HEIGHT_MAX / y : 1;
    for (size_t i = 0; i < u; i++)
        d->ys[i] = TOP + 10 + d->ys[i] * squeeze;
    d->height = TOP + 10 + y * squeeze + 24;
}

static double row_y(const struct diagram *d, double t_s)
{
    size_t lo = 0, hi = d->times_len;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (d->times[mid] <= t_s)
            lo = mid;
        else
            hi = mid;
    }
    return d->ys[lo];
}

/* ==== Drawing ==== */

static double col_x(const struct diagram *d, int col)
{
    return LEFT + d->col_w / 2 + col * d->col_w;
}

/* Time labels on the left, where there is room, and a break line for every long pause. */
static void draw_rows(FILE *f, const struct diagram *d, double width)
{
    fprintf(f, "<g class=\"times\" fill=\"#57606a\" text-anchor=\"end\">\n");
    double last = -INFINITY;
    for (size_t i = 0; i < d->times_len; i++) {
        if (i > 0 && d->times[i] - d->times[i - 1] >= d->break_s) {
            double y = (d->ys[i] + d->ys[i - 1]) / 2;
            fprintf(f,
                    "<path class=\"break\" d=\"M%.1f %.1fH%.1f\" stroke=\"#afb8c1\" "
                    "stroke-dasharray=\"6 4\"/><text x=\"%.1f\" y=\"%.1f\" fill=\"#8c959f\">"
                    "+%.3f s</text>\n",
                    LEFT, y, width - 8, width - 8, y - 3, d->times[i] - d->times[i - 1]);
        }
        if (d->ys[i] - last < 26)
            continue;
        last = d->ys[i];
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%.6f s</text>\n", LEFT - 8, d->ys[i] + 4,
                d->times[i]);
    }
    fputs("</g>\n", f);
}

static void draw_lifelines(FILE *f, const struct diagram *d)
{
    fprintf(f, "<g class=\"processes\" text-anchor=\"middle\">\n");
    for (uint32_t i = 0; i < d->procs_len; i++) {
        const struct proc *p = &d->procs[i];
        if (p->col < 0)
            continue;
        double x = col_x(d, p->col);
        fprintf(f,
                "<line class=\"lifeline\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"%s\" stroke-width=\"%s\"/>\n",
                x, TOP, x, d->height - 10, p->node ? "#57606a" : "#afb8c1", p->node ? "1.5" : "1");
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"%s\">", x, TOP - 10,
                p->node ? "700" : "400");
        page_text(f, p->name, d->col_w < 70 ? 6 : 12);
        fputs("<title>", f);
        page_text(f, p->name, PAGE_TEXT_MAX);
        fputs("</title></text>\n", f);
    }
    fputs("</g>\n", f);
}

static void msg_title(FILE *f, const struct diagram *d, const struct msg *m)
{
    fputs("<title>", f);
    page_text(f, d->procs[m->from].name, PAGE_LABEL_MAX);
    fputs(" → ", f);
    page_text(f, d->procs[m->to].name, PAGE_LABEL_MAX);
    fputs(" ", f);
    page_text(f, m->type, PAGE_LABEL_MAX);
    fprintf(f, ": sent %.6f s", m->send_s);
    if (m->delivered)
        fprintf(f, ", received %.6f s", m->recv_s);
    else
        fputs(m->dropped ? ", dropped" : ", never delivered", f);
    fputs("</title>", f);
}

static void draw_msg(FILE *f, const struct diagram *d, const struct msg *m)
{
    const struct proc *a = &d->procs[m->from], *b = &d->procs[m->to];
    double x0 = col_x(d, a->col), y0 = row_y(d, m->send_s), x1 = col_x(d, b->col);
    double y1 = m->delivered ? row_y(d, m->recv_s) : y0 + ROW_MIN;
    if (a->col == b->col)
        x1 += 14; /* to itself: a short step aside */
    if (!m->delivered)
        x1 = x0 + (x1 - x0) / 2;
    const char *colour = m->dropped ? "#cf222e"
                         : !a->node ? "#3366aa"
                         : b->node  ? "#8250df"
                                    : "#1a7f37";
    fprintf(f, "<g class=\"msg%s\" data-type=\"", m->delivered ? "" : " lost");
    page_text(f, m->type, PAGE_TEXT_MAX);
    fprintf(f, "\" stroke=\"%s\" fill=\"%s\">", colour, colour);
    msg_title(f, d, m);
    fprintf(f, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"%s/>",
            m->delivered ? "arrow" : "stub", x0, y0, x1, y1,
            m->dropped || !m->delivered ? " stroke-dasharray=\"4 3\"" : "");
    double dx = x1 - x0, dy = y1 - y0, len = sqrt(dx * dx + dy * dy);
    if (m->delivered && len > 0) {
        double ux = dx / len, uy = dy / len;
        fprintf(f, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fz\" stroke=\"none\"/>", x1, y1,
                x1 - 8 * ux + 3.5 * uy, y1 - 8 * uy - 3.5 * ux, x1 - 8 * ux - 3.5 * uy,
                y1 - 8 * uy + 3.5 * ux);
    } else if (!m->delivered) {
        fprintf(f, "<path d=\"M%.1f %.1fl8 8m0 -8l-8 8\" stroke-width=\"2\"/>", x1 - 4, y1 - 4);
    }
    fprintf(f,
            "<text x=\"%.1f\" y=\"%.1f\" stroke=\"#ffffff\" stroke-width=\"3\" "
            "paint-order=\"stroke\" text-anchor=\"middle\" font-size=\"10\">",
            (x0 + x1) / 2, (y0 + y1) / 2 - 3);
    page_text(f, m->type, 16);
    fputs("</text></g>\n", f);
}

struct lamport_stats lamport_write(FILE *f, const cJSON *messages, const cJSON *nodes)
{
    struct lamport_stats st = {0};
    struct diagram d = {0};
    const cJSON *x;
    size_t node_count = 0, total = 0;
    cJSON_ArrayForEach(x, (cJSON_IsObject(nodes) ? nodes : NULL))
    {
        proc_find(&d, x->string, true);
        node_count++;
    }
    d.msgs = xmalloc(LAMPORT_MESSAGES_MAX * sizeof(*d.msgs));
    cJSON_ArrayForEach(x, (cJSON_IsArray(messages) ? messages : NULL))
    {
        total++;
        if (d.msgs_len < LAMPORT_MESSAGES_MAX && msg_read(&d, x, &d.msgs[d.msgs_len]))
            d.msgs_len++;
    }
    st.columns = columns_assign(&d, node_count);
    for (uint32_t i = 0; i < d.procs_len; i++)
        st.processes += d.procs[i].seen;
    /* Keep the messages whose both ends are drawn. */
    size_t kept = 0;
    for (size_t i = 0; i < d.msgs_len; i++)
        if (d.procs[d.msgs[i].from].col >= 0 && d.procs[d.msgs[i].to].col >= 0)
            d.msgs[kept++] = d.msgs[i];
    d.msgs_len = kept;
    st.omitted = total - kept;
    if (kept == 0)
        goto done;
    rows_build(&d);
    d.col_w = EDDY_MIN(EDDY_MAX(960.0 / st.columns, 56.0), 200.0);
    double width = LEFT + d.col_w * st.columns + 20;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"plot-messages\" class=\"lamport\" "
            "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
            "aria-label=\"the first messages, one timeline per process\" font-family=\"%s\" "
            "font-size=\"11\" fill=\"#1f2328\">\n",
            width, d.height, width, d.height, SVG_FONT);
    draw_rows(f, &d, width);
    draw_lifelines(f, &d);
    fprintf(f, "<g class=\"msgs\">\n");
    for (size_t i = 0; i < d.msgs_len; i++) {
        draw_msg(f, &d, &d.msgs[i]);
        st.drawn++;
        st.delivered += d.msgs[i].delivered;
    }
    fputs("</g>\n</svg>\n", f);
done:
    free(d.procs);
    free(d.msgs);
    free(d.times);
    free(d.ys);
    return st;
}
