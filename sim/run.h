/*
 * run.h: one `eddy test` run.
 * Depends on: config, nemesis. Used by: main, matrix.
 */
#ifndef EDDY_SIM_RUN_H
#define EDDY_SIM_RUN_H

#include "config.h"
#include "nemesis.h"

/* Runs the test described by cfg, plus a scenario's fault events (may be NULL; copied), and
 * returns the exit status: 0 valid, 1 invalid, 2 unknown, 254 bad store, 255 the run broke,
 * 128+signal when interrupted. cmdline is the command that reproduces the run. */
int sim_run(struct config *cfg, const struct nemesis_plan *scenario_events, const char *cmdline);

#endif /* EDDY_SIM_RUN_H */
