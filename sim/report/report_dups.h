/*
 * report_dups.h: the duplicated IDs of a unique-ids run, in results.json, in the summary and in
 * duplicates.jsonl, each output bounded whatever the IDs.
 *
 * The checker lists the first CHECK_DUPS_LISTED duplicated IDs, in the order they were first
 * returned (check.h); each is read back from the ID set's spill with every op the checker kept
 * for it. results.json keeps the first REPORT_DUPS_IN_RESULTS of them and at most
 * REPORT_ID_TEXT_MAX bytes of each ID's text (a longer one becomes {"id-prefix", "id-bytes"});
 * duplicates.jsonl keeps the full IDs, up to REPORT_DUPS_FILE_MAX bytes. Counts stay exact past
 * every bound, and results.json says what was left out.
 * Depends on: sim, check, idset, report_diag, store, cJSON. Used by: report.
 */
#ifndef EDDY_SIM_REPORT_DUPS_H
#define EDDY_SIM_REPORT_DUPS_H

#include "report_diag.h"
#include "sim.h"
#include "eddy/buf.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#define REPORT_DUPS_IN_RESULTS 1000
#define REPORT_ID_TEXT_MAX 1024                        /* bytes of an ID's text in results.json */
#define REPORT_DUPS_FILE_MAX (256ull << 20)            /* duplicates.jsonl */
#define REPORT_DUPS_FILE_MAX_ENV "EDDY_DUPLICATES_MAX" /* ...unless this says (bytes; tests) */

/* An ID's JSON text as results.json keeps it: the value itself when it is at most
 * REPORT_ID_TEXT_MAX bytes, else {"id-prefix": its first bytes as a string, "id-bytes": n}. */
cJSON *report_id_json(const char *text, size_t len);

/* Adds Maelstrom's `duplicated` map and eddy's `duplicates` list to the workload map w, writes
 * duplicates.jsonl, and hands every listed duplicate, op by op, to the diagnosis. */
void report_dups_add(cJSON *w, struct sim *s, struct report_diag *rd);

#endif /* EDDY_SIM_REPORT_DUPS_H */
