/*
 * clocksrv.h: threads that answer the trapped clock calls of every node, as soon as they come.
 *
 * A trapped call blocks its caller until eddy answers, so what a node pays per read is the round
 * trip: the caller's wake-up of eddy, eddy's system calls, eddy's wake-up of the caller. From
 * eddy's event loop each call also waited for the loop to come round. Here each listener gets a
 * thread of its own, blocked in SECCOMP_IOCTL_NOTIF_RECV with the kernel's synchronous wake-up
 * (Linux 6.6; ignored before), so that the caller switches straight to the thread and back on
 * one CPU: four system calls and two direct switches per read. Each thread reads its node's
 * control block under the seqlock, as the preload library does, so the loop changes clocks
 * exactly as before.
 * Ownership: eddy's main thread allocates each struct clocksrv_listener and keeps it until
 * clocksrv_free; the server owns the listener's descriptor from clocksrv_add on. A listener
 * whose node is gone is marked closed (its thread leaves; the descriptor is closed at
 * clocksrv_stop). Counters are the thread's until clocksrv_stop.
 * Depends on: clocksys, clockctl. Used by: clockroute (sim), tests/sim/clock, bench.
 */
#ifndef EDDY_CLOCKSRV_H
#define EDDY_CLOCKSRV_H

#include "clocksys.h"
#include "eddy/clockctl.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#define CLOCKSRV_LISTENERS_MAX 8192 /* threads at once; past it, listeners are refused */

struct clocksrv;

/* One listener: a node's filter, for one incarnation. */
struct clocksrv_listener {
    /* Set by the caller before clocksrv_add; read-only afterwards. */
    const struct clockctl *ctl; /* the node's control block */
    clocksys_plan_fn *plan;     /* asked, in the listener's thread, when a program execs */
    void *plan_ctx;
    /* The server's. */
    int fd;
    atomic_bool closed;       /* the thread gave up on it, or it never started */
    atomic_int error;         /* errno that made it give up, 0 if none */
    struct clocksys_stats st; /* read after clocksrv_stop only */
    pthread_t thread;
    bool started;
    struct clocksrv *srv;
    struct clocksrv_listener *next; /* the caller's list, if it wants one */
};

/* Prepares a server (no thread until the first listener). 0 with *out, or a negative errno. */
int clocksrv_new(struct clocksrv **out);

/* Hands fd (a seccomp listener) to the server, for l, and starts its thread. From then on the
 * server owns fd. 0, or a negative errno (fd is then closed and l marked closed). */
int clocksrv_add(struct clocksrv *srv, struct clocksrv_listener *l, int fd);

/* Stops every thread and closes every listener; idempotent. After it, every listener's counters
 * may be read. */
void clocksrv_stop(struct clocksrv *srv);

/* Stops (if needed) and frees the server; NULL is a no-op. The listeners stay the caller's. */
void clocksrv_free(struct clocksrv *srv);

#endif /* EDDY_CLOCKSRV_H */
