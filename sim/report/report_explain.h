/*
 * report_explain.h: the sections of report.html that explain a run: the diagnosis (why it
 * failed, at the top of the page) and the ID properties (how the IDs were ordered and shaped).
 *
 * Both are written from the result map alone, like every other section: results.json's
 * "diagnosis" list and its "id-properties" object. Nothing is written for a map without them.
 * Depends on: report_page, report_table, cJSON. Used by: report_html.
 */
#ifndef EDDY_SIM_REPORT_EXPLAIN_H
#define EDDY_SIM_REPORT_EXPLAIN_H

#include <cjson/cJSON.h>
#include <stdio.h>

#define EXPLAIN_FINDINGS_MAX 20 /* findings shown; the rest are counted */

/* <section id="diagnosis">: a <div class="finding"> per finding (class, count, cause, who was
 * involved, the example's ops as a table). Nothing when r has no findings. */
void explain_diagnosis(FILE *f, const cJSON *r);

/* <section id="id-properties">: order within incarnations and across nodes, types and
 * lengths. Nothing when r has no "id-properties". */
void explain_id_properties(FILE *f, const cJSON *r);

#endif /* EDDY_SIM_REPORT_EXPLAIN_H */
