/*
 * report_diag.h: the diagnosis of one run, gathered from its state for results.json's
 * "diagnosis", the first lines of the summary, report.html and JUnit.
 *
 * Duplicated IDs go through diagnose.c, fed op by op as report.c walks them, with the clock of
 * any node at any time computed from the parameters eddy set (report_clock_sample keeps them)
 * and each incarnation's start from report_incarnation_start. The other failures get a finding
 * each, with the same fields (class, count, involved, example, cause): echo replies with the
 * wrong payload, echo ops that were not ok, availability below its target (which nodes, and
 * which faults were in force), protocol problems by class (the first line, and what Maelstrom
 * would do), and IDs that cannot be compared.
 * Depends on: sim, check, diagnose, clockctl, buf, cJSON. Used by: report.
 */
#ifndef EDDY_SIM_REPORT_DIAG_H
#define EDDY_SIM_REPORT_DIAG_H

#include "sim.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#define REPORT_DIAG_LINES_MAX 8 /* summary lines the diagnosis may take */

struct report_diag;

/* A diagnosis of the finished run s (the checker thread done). Free with report_diag_free. */
struct report_diag *report_diag_new(struct sim *s);
void report_diag_free(struct report_diag *r);

/* One op of the duplicated ID being walked, as the checker kept it (the first op of each of the
 * ID set's entries comes with the entry, so every op is known in full). */
void report_diag_op(struct report_diag *r, const struct dup_op *d);

/* Ends the duplicated ID whose ops were just given. */
void report_diag_id(struct report_diag *r, const char *id_text);

/* Every finding into res["diagnosis"] (a list: failures first, each kind largest first, then
 * warnings), and at most REPORT_DIAG_LINES_MAX lines of them into summary. */
void report_diag_finish(struct report_diag *r, cJSON *res, struct buf *summary);

#endif /* EDDY_SIM_REPORT_DIAG_H */
