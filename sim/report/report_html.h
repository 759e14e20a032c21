/*
 * report_html.h: report.html, a self-contained page drawn from the result map.
 *
 * The page has no scripts, fonts, images or links outside itself, so it can be mailed or
 * attached to a CI run and read offline. It is well-formed XML as well as HTML5, so tests can
 * parse it with any XML parser. Every part is optional: a key missing from the map leaves its
 * part out or says "not recorded", so maps from older or broken runs still give a page.
 * Depends on: report_page, report_span, report_plot, report_lamport, report_table, cJSON.
 * Used by: report.
 */
#ifndef EDDY_SIM_REPORT_HTML_H
#define EDDY_SIM_REPORT_HTML_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

/* Writes the page for `results` (results.json's map, borrowed) to path, through path.tmp and a
 * rename so that a reader never sees half a page. 0, or a negative errno with a one-line
 * reason in err. */
int report_html_write(const cJSON *results, const char *path, char *err, size_t elen);

/* Writes the same page to an open stream (for tests); the caller checks ferror(). */
void report_html_page(FILE *f, const cJSON *results);

#endif /* EDDY_SIM_REPORT_HTML_H */
