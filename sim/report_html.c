/*
 * report_html.c: report.html (see report_html.h). Interim: the verdict and the results map;
 * the plots come with the report work.
 * Depends on: cJSON. Used by: report.
 */
#include "report_html.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int report_html_write(const cJSON *results, const char *path, char *err, size_t elen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, elen, "cannot write %s: %s", path, strerror(errno));
        return -errno;
    }
    char *text = cJSON_Print(results);
    fprintf(f, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>eddy</title></head>"
               "<body><pre>");
    for (const char *p = text ? text : ""; *p; p++) {
        if (*p == '<')
            fputs("&lt;", f);
        else if (*p == '&')
            fputs("&amp;", f);
        else
            fputc(*p, f);
    }
    fprintf(f, "</pre></body></html>\n");
    cJSON_free(text);
    if (fclose(f) != 0) {
        snprintf(err, elen, "cannot write %s: %s", path, strerror(errno));
        return -EIO;
    }
    return 0;
}
