/*
 * report_html.h: report.html, a self-contained page drawn from the result map.
 * Depends on: cJSON. Used by: report.
 */
#ifndef EDDY_SIM_REPORT_HTML_H
#define EDDY_SIM_REPORT_HTML_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Writes the page for `results` (results.json's map) to path. 0, or a negative errno with a
 * one-line reason in err. */
int report_html_write(const cJSON *results, const char *path, char *err, size_t elen);

#endif /* EDDY_SIM_REPORT_HTML_H */
