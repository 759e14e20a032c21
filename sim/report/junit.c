/*
 * junit.c: JUnit XML from the result map (see junit.h).
 *
 * JUnit has no "unknown": an unknown verdict becomes an <error> (the checker could not decide),
 * an invalid one a <failure> whose message is the checker's own summary, so CI front ends show
 * eddy's verdicts as test results without any plug-in. Faults that could not reach a node (a
 * verdict made unknown by them) are an <error> of a testcase named faults.
 * Depends on: cJSON. Used by: report.
 */
#include "junit.h"
#include "report_page.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Escaped XML text: the report's escaper also repairs invalid UTF-8 and drops the control
 * characters XML 1.0 forbids, so a hostile node name cannot break the file. */
static void xml_text(FILE *f, const char *s)
{
    page_text(f, s, SIZE_MAX);
}

/* A checker that the run's verdict does not count ("strict": false: protocol, unless --strict)
 * is a passing test case whose output carries the warnings. */
static bool warns_only(const cJSON *checker)
{
    return cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(checker, "strict"));
}

static const char *const checkers[] = {"workload",   "stats", "availability", "protocol",
                                       "exceptions", "net",   "perf",         "timeline"};

/* Which checker a diagnosis finding explains, by its class. */
static const char *finding_checker(const char *cls)
{
    if (strcmp(cls, "availability") == 0)
        return "availability";
    if (strncmp(cls, "protocol-", 9) == 0)
        return "protocol";
    return "workload";
}

/* The findings that explain `checker`: the first one's class, count and cause go into the
 * failure's message (what CI front ends show in one line), all of them into its text. */
static const cJSON *first_finding(const cJSON *results, const char *checker)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(results, "diagnosis"))
    {
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(x, "class");
        if (cJSON_IsString(cls) && strcmp(finding_checker(cls->valuestring), checker) == 0 &&
            strcmp(cls->valuestring, "protocol-warning") != 0)
            return x;
    }
    return NULL;
}

static void finding_line(FILE *f, const cJSON *x)
{
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(x, "class");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(x, "count");
    const cJSON *cause = cJSON_GetObjectItemCaseSensitive(x, "cause");
    xml_text(f, cJSON_IsString(cls) ? cls->valuestring : "?");
    if (cJSON_IsNumber(n))
        fprintf(f, " (%.0f)", n->valuedouble);
    fputs(": ", f);
    xml_text(f, cJSON_IsString(cause) ? cause->valuestring : "");
}

int junit_write(const cJSON *results, const char *path, char *err, size_t elen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, elen, "--junit: cannot write %s: %s", path, strerror(errno));
        return -errno;
    }
    const cJSON *eddy = cJSON_GetObjectItemCaseSensitive(results, "eddy");
    const cJSON *wl = cJSON_GetObjectItemCaseSensitive(eddy, "workload");
    const char *name = cJSON_IsString(wl) ? wl->valuestring : "test";
    int failures = 0, errors = 0, tests = 0;
    for (size_t i = 0; i < sizeof(checkers) / sizeof(checkers[0]); i++) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(results, checkers[i]);
        if (!c)
            continue;
        tests++;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "valid?");
        if (warns_only(c))
            continue;
        failures += cJSON_IsFalse(v);
        errors += cJSON_IsString(v);
    }
    const cJSON *crash = cJSON_GetObjectItemCaseSensitive(results, "error");
    if (cJSON_IsString(crash) && !cJSON_GetObjectItemCaseSensitive(results, "interrupted")) {
        tests++;
        errors++;
    }
    /* Faults that could not reach a node made the verdict unknown: an error of its own. */
    const cJSON *faults = cJSON_GetObjectItemCaseSensitive(results, "faults");
    const cJSON *unreached = cJSON_GetObjectItemCaseSensitive(faults, "unreached");
    bool unreached_error =
        cJSON_IsString(unreached) &&
        !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(faults, "unreached-allowed"));
    tests += unreached_error;
    errors += unreached_error;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites tests=\"%d\" failures=\"%d\" errors=\"%d\">\n", tests, failures,
            errors);
    fprintf(f, "  <testsuite name=\"eddy.");
    xml_text(f, name);
    fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\">\n", tests, failures, errors);
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(results, "seed");
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(eddy, "command");
    fprintf(f, "    <properties>\n");
    if (cJSON_IsNumber(seed))
        fprintf(f, "      <property name=\"seed\" value=\"%.0f\"/>\n", seed->valuedouble);
    if (cJSON_IsString(cmd)) {
        fprintf(f, "      <property name=\"command\" value=\"");
        xml_text(f, cmd->valuestring);
        fprintf(f, "\"/>\n");
    }
    fprintf(f, "    </properties>\n");
    for (size_t i = 0; i < sizeof(checkers) / sizeof(checkers[0]); i++) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(results, checkers[i]);
        if (!c)
            continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "valid?");
        fprintf(f, "    <testcase classname=\"eddy.");
        xml_text(f, name);
        fprintf(f, "\" name=\"%s\"", checkers[i]);
        if (cJSON_IsTrue(v)) {
            fprintf(f, "/>\n");
            continue;
        }
        if (warns_only(c)) {
            /* Passes, with what Maelstrom would do with each violation in its output. */
            char *detail = cJSON_Print(c);
            fprintf(f, ">\n      <system-out>");
            xml_text(f, detail ? detail : "");
            fprintf(f, "</system-out>\n    </testcase>\n");
            cJSON_free(detail);
            continue;
        }
        char *detail = cJSON_Print(c);
        const cJSON *why = first_finding(results, checkers[i]);
        fprintf(f, ">\n      <%s message=\"%s %s", cJSON_IsFalse(v) ? "failure" : "error",
                checkers[i], cJSON_IsFalse(v) ? "invalid" : "unknown");
        if (why) {
            fputs(": ", f);
            finding_line(f, why);
        }
        fputs("\">", f);
        /* Every finding of this checker first, then the checker's own map. */
        const cJSON *x;
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(results, "diagnosis"))
        {
            const cJSON *cls = cJSON_GetObjectItemCaseSensitive(x, "class");
            if (cJSON_IsString(cls) &&
                strcmp(finding_checker(cls->valuestring), checkers[i]) == 0) {
                finding_line(f, x);
                fputs("\n", f);
            }
        }
        xml_text(f, detail ? detail : "");
        fprintf(f, "</%s>\n    </testcase>\n", cJSON_IsFalse(v) ? "failure" : "error");
        cJSON_free(detail);
    }
    if (cJSON_IsString(crash) && !cJSON_GetObjectItemCaseSensitive(results, "interrupted")) {
        fprintf(f, "    <testcase classname=\"eddy.");
        xml_text(f, name);
        fprintf(f, "\" name=\"run\">\n      <error message=\"the run broke\">");
        xml_text(f, crash->valuestring);
        fprintf(f, "</error>\n    </testcase>\n");
    }
    if (unreached_error) {
        fprintf(f, "    <testcase classname=\"eddy.");
        xml_text(f, name);
        fprintf(f, "\" name=\"faults\">\n      <error message=\"faults could not be applied\">");
        xml_text(f, unreached->valuestring);
        fprintf(f, "</error>\n    </testcase>\n");
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    if (fclose(f) != 0) {
        snprintf(err, elen, "--junit: cannot write %s: %s", path, strerror(errno));
        return -EIO;
    }
    return 0;
}
