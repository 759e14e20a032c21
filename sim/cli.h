/*
 * cli.h: the `eddy test` command line, and the value parsers scenario files share with it.
 * Depends on: config. Used by: main, scenario.
 */
#ifndef EDDY_SIM_CLI_H
#define EDDY_SIM_CLI_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Parses the arguments after `eddy test` into c (which holds config_defaults). Returns 0, or
 * -EINVAL with a one-line reason in err. Sets *help when --help was asked for (nothing else is
 * then checked). The config keeps pointers into argv. */
int cli_parse_test(int argc, char **argv, struct config *c, bool *help, char *err, size_t elen);

void cli_usage_test(FILE *f);

/* Strict parsers: the whole string must be the value. 0 or -EINVAL. */
int cli_parse_double(const char *s, double *out);
int cli_parse_u64(const char *s, uint64_t *out);

/* Each sets one field from its textual form, as the flag of the same name does. */
int cli_set_workload(struct config *c, const char *v);
int cli_set_latency_dist(struct config *c, const char *v);
int cli_set_nemesis(struct config *c, const char *v);
int cli_set_availability(struct config *c, const char *v);
int cli_set_rate(struct config *c, const char *v);
int cli_set_concurrency(struct config *c, const char *v);

#endif /* EDDY_SIM_CLI_H */
