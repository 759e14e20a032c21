/*
 * report.h: what a run leaves behind: results.json, the summary on stdout, the progress line,
 * and (through report_html.h and junit.h) report.html and JUnit XML.
 *
 * results.json is Maelstrom's result map with the same keys and nesting (valid?, perf, timeline,
 * exceptions, stats, availability, net, workload), plus eddy's own keys (protocol, seed, faults,
 * nodes, latency, plot, eddy). It is the single source for report.html.
 * Depends on: sim, check, cJSON. Used by: run.
 */
#ifndef EDDY_SIM_REPORT_H
#define EDDY_SIM_REPORT_H

#include "sim.h"

#include <stdbool.h>

void report_init(struct sim *s);
void report_fini(struct sim *s);

/* Redraws the progress line on stderr (a terminal only); `final` clears it. */
void report_progress(struct sim *s, bool final);

/* Writes results.json (and report.html, JUnit when asked), prints the summary, and returns the
 * exit status. */
int report_write(struct sim *s);

/* Every string and key of a cJSON tree as well-formed UTF-8 (ill-formed bytes become U+FFFD),
 * so that every output made from it is UTF-8 whatever a node printed. */
struct cJSON;
void report_repair_tree(struct cJSON *item);

#endif /* EDDY_SIM_REPORT_H */
