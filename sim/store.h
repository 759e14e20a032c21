/*
 * store.h: where a run's files go: STORE/<workload>/<time>/, and STORE/latest pointing at it.
 * Depends on: sim. Used by: run, report, matrix, shrink_main.
 */
#ifndef EDDY_SIM_STORE_H
#define EDDY_SIM_STORE_H

#include "sim.h"

#include <stddef.h>

/* Creates the run directory and node-logs/ in it and points the latest links at it. Fails
 * before any node starts, with a one-line reason, when the store cannot be written. */
int store_prepare(struct sim *s, char *err, size_t elen);

/* run_dir/name, in a static buffer valid until the next call. */
const char *store_path(const struct sim *s, const char *name);

/* node-logs/<name>.log, the name made safe for a file name. */
void store_node_log_path(const struct sim *s, const struct sim_node *n, char *out, size_t cap);

/* The path of libeddyclock.so: $EDDY_CLOCK_LIB, else next to the eddy binary (../lib/ or
 * ../lib/eddy/). NULL when none is found. */
const char *store_find_clock_lib(void);

/* The whole of a file of at most max bytes, NUL-terminated (a store's JSON files, a scenario).
 * NULL when it cannot be read or is larger. Caller owns the result; free with free(). */
char *store_read_text(const char *path, size_t max);

#endif /* EDDY_SIM_STORE_H */
