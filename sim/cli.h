/*
 * cli.h: the `eddy test` command line, and the value parsers scenario files share with it.
 * Depends on: config, options. Used by: main, scenario.
 */
#ifndef EDDY_SIM_CLI_H
#define EDDY_SIM_CLI_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_TEST_COUNT_MAX 10000u /* most runs --test-count asks for */

/* Parses the arguments after `eddy test` into c (which holds config_defaults), as `maelstrom
 * test` parses them: options anywhere, words that are not options and everything after "--" go
 * to the node, an unknown option is an error that suggests the nearest known one. Returns 0, or
 * -EINVAL with a one-line reason in err. Sets *help when --help was asked for (nothing else is
 * then checked). The config keeps pointers into argv; options eddy accepts but ignores leave
 * their notes in c->notes. */
int cli_parse_test(int argc, char **argv, struct config *c, bool *help, char *err, size_t elen);

void cli_usage_test(FILE *f);

/* Strict parsers: the whole string must be the value. 0 or -EINVAL. */
int cli_parse_double(const char *s, double *out);
int cli_parse_u64(const char *s, uint64_t *out);
/* A decimal number or an integer ratio ("1/2"), as Clojure's read-string reads Maelstrom's
 * --nemesis-interval and --availability. */
int cli_parse_ratio(const char *s, double *out);
/* A size in bytes: digits, then optionally K, M, G or T (powers of 1024, any case, with an
 * optional "iB" or "B"): "512M", "2GiB", "1048576". 0, or -EINVAL. */
int cli_parse_size(const char *s, uint64_t *out);
int cli_set_checker_memory(struct config *c, const char *v);
int cli_set_history_max(struct config *c, const char *v);

/* Each sets one field from its textual form, as the flag of the same name does. */
int cli_set_workload(struct config *c, const char *v);
int cli_set_latency_dist(struct config *c, const char *v);
int cli_set_nemesis(struct config *c, const char *v);
int cli_set_availability(struct config *c, const char *v);
int cli_set_rate(struct config *c, const char *v);
int cli_set_concurrency(struct config *c, const char *v);

#endif /* EDDY_SIM_CLI_H */
