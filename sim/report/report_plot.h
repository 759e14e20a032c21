/*
 * report_plot.h: the SVG plots of report.html, drawn from the result map.
 *
 * The two time plots (latency, throughput) share one time axis and one set of fault lanes, so
 * a latency spike lines up with the kill or partition under it. Marks and bars carry their
 * type in class and data-* attributes ("marks" groups with data-type, "bar", "clock", "ops"),
 * so tests can count them.
 * Depends on: report_svg, report_page, report_span, cJSON. Used by: report_html.
 */
#ifndef EDDY_SIM_REPORT_PLOT_H
#define EDDY_SIM_REPORT_PLOT_H

#include "report_svg.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#define PLOT_NODES_MAX 64  /* bars in the ops-per-node chart */
#define PLOT_CLOCKS_MAX 32 /* nodes drawn in the clock-offset plot */

/* Latency over time from plot (results["plot"]): one mark per sample, shaped and coloured by
 * ok/fail/info, on a log axis, with the p50 and p99 lines of the buckets, fault shading and
 * lanes. Writes an <svg id="plot-latency">. */
void plot_latency(FILE *f, const cJSON *plot, const struct svg_time *pt);

/* Throughput over time: ok, info and fail ops/s per bucket, stacked, with the same faults.
 * Writes an <svg id="plot-throughput">. */
void plot_throughput(FILE *f, const cJSON *plot, const struct svg_time *pt);

/* Clock offsets per node from clocks (results["faults"]["clocks"]) as steps on a symmetric
 * log axis. Writes an <svg id="plot-clocks">, or nothing when no node has offsets. */
void plot_clocks(FILE *f, const cJSON *clocks, const struct svg_time *pt);

/* Ops and ok ops per node from nodes (results["nodes"]), as horizontal bars. Writes an
 * <svg id="plot-nodes">, or nothing when nodes is empty. */
void plot_nodes(FILE *f, const cJSON *nodes);

#endif /* EDDY_SIM_REPORT_PLOT_H */
