/*
 * junit.h: the verdicts as JUnit XML, one testcase per checker, for CI systems.
 * Depends on: cJSON. Used by: report.
 */
#ifndef EDDY_SIM_JUNIT_H
#define EDDY_SIM_JUNIT_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Writes JUnit XML for the result map to path: a testsuite "eddy.<workload>" with one testcase
 * per checker (stats, availability, workload, protocol, exceptions, net, perf, timeline), each
 * invalid one with a <failure> and unknown ones with an <error>. 0, or a negative errno with a
 * one-line reason in err. */
int junit_write(const cJSON *results, const char *path, char *err, size_t elen);

#endif /* EDDY_SIM_JUNIT_H */
