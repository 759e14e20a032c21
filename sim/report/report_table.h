/*
 * report_table.h: the tables of report.html: generic renderers of result-map objects, and the
 * sections made of tables (workload, protocol, faults, checkers).
 *
 * Rows carry classes that tests count: "dup" (one per duplicated ID), "violation", "fault-row"
 * (plus "not-applied" for events that were not applied).
 * Depends on: report_page, cJSON. Used by: report_html.
 */
#ifndef EDDY_SIM_REPORT_TABLE_H
#define EDDY_SIM_REPORT_TABLE_H

#include <cjson/cJSON.h>
#include <stdio.h>

#define TABLE_DUPS_MAX 200    /* duplicated IDs listed */
#define TABLE_DUP_OPS_MAX 20  /* ops listed per duplicated ID */
#define TABLE_FAULTS_MAX 1000 /* rows of the fault log */
#define TABLE_ROWS_MAX 200    /* rows of any other table */

/* One cell: numbers compact, booleans as yes/no, strings escaped, "–" for absent or null, any
 * other value as compact JSON. */
void table_value(FILE *f, const cJSON *v);

/* A checker verdict chip: valid is 1 (✓), 0 (✗) or -1 (?); name is escaped. */
void table_chip(FILE *f, const char *name, int valid);

/* A titled two-column table of o's scalar members, "valid?" first as a chip. Nothing when o
 * is not an object. title is markup-free. */
void table_kv(FILE *f, const char *title, const cJSON *o);

/* A titled table with a row per member object of o and a column per scalar key they have
 * (first-seen order, at most 16 columns, TABLE_ROWS_MAX rows). Nothing without such members. */
void table_matrix(FILE *f, const char *title, const char *corner, const cJSON *o);

/* The sections, each a <section> with its id, from the whole result map r:
 * #workload (summary, Maelstrom's "duplicated", every op of each duplicated ID, echo errors),
 * #protocol (counts and the violations), #faults (the fault log), #checkers (stats,
 * availability, latency, net, exceptions). */
void table_workload(FILE *f, const cJSON *r);
void table_protocol(FILE *f, const cJSON *r);
void table_faults(FILE *f, const cJSON *r);
void table_checkers(FILE *f, const cJSON *r);

#endif /* EDDY_SIM_REPORT_TABLE_H */
