/*
 * shrink_main.h: `eddy shrink`, the search for the smallest run that still fails.
 *
 *     eddy shrink RUN_DIR [--budget S] [--tries N] [--need K] [--store DIR]
 *     eddy shrink [--budget S] [--tries N] [--need K] EDDY-TEST-ARGUMENTS...
 *
 * The run (a run directory's recorded command, or the arguments of `eddy test`) is turned into an
 * explicit scenario: its resolved fault timeline, no random schedule. Then, each candidate tried
 * as `eddy test --fail-fast` child runs and kept only if it fails (with the same class of
 * diagnosis) in K of N tries: fault events are dropped by delta debugging, the time limit is cut
 * to just past the first anomaly, and the node count, rate and concurrency are lowered.
 * Writes STORE/shrink/<time>/minimal.json (and shrink.json, the steps), STORE/shrink/latest,
 * prints the steps and the command that runs the minimal scenario.
 * Depends on: cli, scenario, nemesis, shrink, store, cJSON. Used by: main, mangen.
 */
#ifndef EDDY_SIM_SHRINK_MAIN_H
#define EDDY_SIM_SHRINK_MAIN_H

#include <stdio.h>

#define SHRINK_TRIES 3      /* tries per candidate, by default */
#define SHRINK_NEED 2       /* of which must fail, by default */
#define SHRINK_BUDGET_S 180 /* seconds of search, by default */
#define SHRINK_STEPS_MAX 256

/* Runs `eddy shrink` with the arguments after "shrink". Exit status: 0 a smaller failing
 * scenario was written, 1 nothing could be removed (minimal.json is the original, made
 * explicit), 2 the original run no longer fails, 254 bad arguments, 255 eddy could not run. */
int shrink_main(int argc, char **argv);

/* `eddy shrink --help`; also the man page's section on it (mangen.c). */
void shrink_print_usage(FILE *f);

#endif /* EDDY_SIM_SHRINK_MAIN_H */
