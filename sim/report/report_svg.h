/*
 * report_svg.h: what the SVG plots of report.html share: the frame of a time plot, its axis,
 * and the fault periods drawn over and under it.
 *
 * Every plot is an inline <svg> in the SVG namespace with plain shapes only; hover text comes
 * from <title> elements, which browsers show without any script. Classes and data-* attributes
 * name what each shape is ("shade", "fault", "fault-na", "fault-mark", data-kind), so tests can
 * count them.
 * Depends on: report_span, cJSON. Used by: report_plot, report_html.
 */
#ifndef EDDY_SIM_REPORT_SVG_H
#define EDDY_SIM_REPORT_SVG_H

#include "report_span.h"

#include <stdio.h>

#define SVG_W 1160.0      /* viewBox width of every plot */
#define SVG_MARGIN_L 92.0 /* room for axis labels and lane names */
#define SVG_MARGIN_R 18.0
#define SVG_LEGEND_H 26.0 /* the legend row above the data */
#define SVG_AXIS_H 20.0   /* tick labels under the data */
#define SVG_FONT "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"

/* The data area of a time plot, in pixels. */
struct svg_frame {
    double x0, x1;  /* left and right */
    double y0, y1;  /* top and bottom */
    double t_end_s; /* the time axis runs from 0 to this (> 0) */
};

/* What the time plots share. */
struct svg_time {
    double t_end_s;                /* the time axis runs from 0 to this (> 0) */
    const char *const *lanes;      /* node lane names, spans->lane_count of them (borrowed) */
    const struct span_list *spans; /* fault spans over those lanes (borrowed) */
};

/* v limited to lo..hi. */
double svg_clamp(double v, double lo, double hi);

/* The x pixel of time t_s, clamped to the frame. */
double svg_x(const struct svg_frame *fr, double t_s);

/* A round step (1, 2 or 5 times a power of ten) giving about `target` ticks over range. */
double svg_nice_step(double range, int target);

/* Opens <svg id="id" class="plot"> of SVG_W x h pixels; the caller closes it. label becomes
 * its aria-label and must be markup-free. */
void svg_open(FILE *f, const char *id, double h, const char *label);

/* Vertical grid lines of the time axis from the top of the frame to y_bottom, their labels at
 * y_labels, and the axis title at the right end of the legend row. */
void svg_time_axis(FILE *f, const struct svg_frame *fr, double y_bottom, double y_labels);

/* Writes a duration in milliseconds in the unit that fits: "100 µs", "5 ms", "10 s". */
void svg_ms_label(FILE *f, double ms);

/* Height of the fault lanes under a time plot, 0 when the run had no faults. */
double svg_lanes_height(const struct svg_time *pt);

/* Faint full-height bands over the frame: per kind, the union of its periods on all lanes
 * (<rect class="shade" data-kind=...>). */
void svg_fault_shades(FILE *f, const struct svg_frame *fr, const struct span_list *l);

/* The lanes, from y down: one row per node (and a shared one), a strip per kind of period
 * (<rect class="fault">), a diamond per instant (<path class="fault-mark">) and a hollow
 * dashed box per event not applied (<rect class="fault-na">). */
void svg_fault_lanes(FILE *f, const struct svg_frame *fr, const struct svg_time *pt, double y);

/* The legend of the fault kinds in l, one row with its baseline at y, from x. */
void svg_fault_legend(FILE *f, const struct span_list *l, double x, double y);

#endif /* EDDY_SIM_REPORT_SVG_H */
