/*
 * report_page.h: what every part of report.html shares: writing untrusted strings as XML text,
 * and reading the result map without trusting its shape.
 *
 * report.html must parse as XML and as HTML, so every string from the results (node names,
 * IDs, protocol lines, commands) goes through page_text(), which escapes markup, repairs
 * invalid UTF-8 and drops the characters XML forbids. The readers return a default instead of
 * failing, so a map that lacks a key yields a page without that part.
 * Depends on: cJSON, json. Used by: report_html, report_plot, report_lamport, report_table.
 */
#ifndef EDDY_SIM_REPORT_PAGE_H
#define EDDY_SIM_REPORT_PAGE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define PAGE_TEXT_MAX 1000 /* bytes of one untrusted string shown in a table cell */
#define PAGE_LABEL_MAX 24  /* bytes of one untrusted string used as a label inside a plot */

/* Writes s escaped for XML text and attribute values (&, <, >, " and ' become references):
 * at most max bytes of s, then "…" if s was longer. Invalid UTF-8 becomes U+FFFD and control
 * characters other than tab and newline are dropped. NULL writes nothing. */
void page_text(FILE *f, const char *s, size_t max);

/* Writes a string value as page_text() does. A raw JSON string literal (what results.json
 * keeps exactly, such as a protocol line holding NUL bytes) is decoded first, NUL bytes shown
 * as U+2400. Anything else writes nothing. */
void page_string(FILE *f, const cJSON *v, size_t max);

/* Writes the decoded text of a JSON string literal slice (quotes included) as page_string(). */
void page_literal(FILE *f, const char *p, size_t n, size_t max);

/* Writes any JSON value as compact JSON text, escaped and cut as page_text(). A string is
 * written with its quotes, so the ID 1 and the ID "1" stay distinct. */
void page_json(FILE *f, const cJSON *v, size_t max);

/* Member `key` of object o (case-sensitive), or NULL when o is not an object or lacks it. */
const cJSON *page_get(const cJSON *o, const char *key);

/* The number at o[key], or def when absent, not a number or not finite. */
double page_num(const cJSON *o, const char *key, double def);

/* The string at o[key], or NULL when absent or not a string. */
const char *page_str(const cJSON *o, const char *key);

/* A checker's "valid?": 1 for true, 0 for false, -1 for "unknown", anything else or absence. */
int page_valid(const cJSON *checker);

/* Writes a number compactly: integers without a fraction, others with up to 6 significant
 * digits. Non-finite values are written as "–". */
void page_num_text(FILE *f, double v);

/* The n-th of PAGE_PALETTE_LEN distinguishable colours (as "#rrggbb") for per-node series. */
#define PAGE_PALETTE_LEN 8
const char *page_palette(size_t n);

#endif /* EDDY_SIM_REPORT_PAGE_H */
