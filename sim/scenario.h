/*
 * scenario.h: scenario files: every `eddy test` setting plus a fault timeline, in JSON.
 *
 * A scenario fills the same struct config the flags fill (flags given on the command line win)
 * and adds fault events at fixed times, a weighted random fault stream, fault settings that have
 * no flag, and an expectation (valid or invalid) that `eddy matrix` compares with the verdict.
 * Every error names the file, the line and column, and the field; scenarios/README.md documents
 * each field with its unit and default.
 * Depends on: config, cli, nemesis, json. Used by: cli, main, matrix.
 */
#ifndef EDDY_SIM_SCENARIO_H
#define EDDY_SIM_SCENARIO_H

#include "config.h"
#include "nemesis.h"

#include <stddef.h>

#define SCENARIO_FILE_MAX (1u << 20) /* bytes */
#define SCENARIO_CLOCK_MS_MAX 9e12   /* largest clock amount in a fault event, ms */

/* Reads and applies a scenario file. 0, or -EINVAL (bad content) / a negative errno (cannot
 * read) with "FILE:LINE:COL: reason" in err. Events go to the plan returned by
 * scenario_events(); their node names are resolved later by scenario_resolve(). */
int scenario_load_file(const char *path, struct config *c, char *err, size_t elen);

/* The same for text in memory; `name` stands for the file in messages. */
int scenario_load_text(const char *text, size_t len, const char *name, struct config *c, char *err,
                       size_t elen);

/* The events the last load produced (owned by the scenario module until scenario_reset). */
struct nemesis_plan *scenario_events(void);

/* Turns the events' node names into indices of c's final node list, and checks that every
 * event time is within the time limit and that every target spec picks a node among c's (the
 * specs themselves are drawn by nemesis_plan_build, from the seed). 0, or -EINVAL with
 * "FILE:LINE:COL: reason". */
int scenario_resolve(const struct config *c, char *err, size_t elen);

/* Frees the events. */
void scenario_reset(void);

#endif /* EDDY_SIM_SCENARIO_H */
