/*
 * contain.h: every process the nodes start stays within eddy's reach, and is gone when eddy is.
 *
 * eddy is the subreaper of its nodes' descendants, so one that leaves its node's process group
 * (setsid, double fork) is re-parented to eddy when its parent dies, never to init. When a
 * cgroup v2 is writable, each node is moved at spawn (between fork and exec, before it can fork
 * anything) into a cgroup of the run's own, eddy-PID under eddy's own cgroup; children inherit
 * it, and writing cgroup.kill kills them all at once, even a chain that forks, calls setsid and
 * exits as fast as fork allows. Without one, eddy kills every descendant it finds in /proc, round
 * after round, and reaps; either way it stops when waitpid reports no child at all (every
 * descendant is re-parented to eddy before it can outlive its parent, so none can be left), or
 * when the time allowed runs out, and says how many were still alive.
 * Depends on: libc. Used by: proc, run, report.
 */
#ifndef EDDY_SIM_CONTAIN_H
#define EDDY_SIM_CONTAIN_H

#include <stdbool.h>

#define CONTAIN_KILL_WAIT_S 5.0                /* the longest contain_kill_all may take */
#define CONTAIN_NO_CGROUP_ENV "EDDY_NO_CGROUP" /* set (non-empty): use no cgroup */

struct contain_result {
    unsigned reaped; /* processes killed (or found dead) and reaped */
    unsigned left;   /* descendants still alive when the time ran out */
    double seconds;  /* how long it took */
};

/* Makes the calling process the subreaper of everything it starts and, unless the environment
 * says CONTAIN_NO_CGROUP_ENV or none is writable, creates the run's cgroup (contain_why_not()
 * says why there is none). Also kills what is left in, and removes, the eddy-N cgroups of
 * eddy processes that died without cleaning up. Call once, before the first spawn. */
void contain_setup(void);

/* The run's cgroup directory, or NULL. */
const char *contain_cgroup(void);

/* Why there is no cgroup ("" when there is one). */
const char *contain_why_not(void);

/* In a child between fork (or vfork) and exec: moves the calling process into the run's
 * cgroup, if there is one. Async-signal-safe; a failure leaves it outside, where the /proc
 * rounds of contain_kill_all still find it. */
void contain_enter_child(void);

/* Kills everything in the run's cgroup. Async-signal-safe: for signal handlers and atexit. */
void contain_kill_emergency(void);

/* Kills every descendant of the calling process and reaps until waitpid reports no child left,
 * for at most timeout_s; then removes the run's cgroup. Not async-signal-safe. */
void contain_kill_all(double timeout_s, struct contain_result *out);

#endif /* EDDY_SIM_CONTAIN_H */
