/*
 * clockroute.h: which way clock faults reach each node, and the system-call route's life in a run.
 *
 * Three routes. The preload library (libeddyclock.so through LD_PRELOAD) reaches a dynamically
 * linked program that reads the clock through libc, for a few nanoseconds a read. The system-call
 * route reaches everything else (Go programs, static binaries, raw clock system calls): a seccomp
 * filter traps the clock calls, the vDSO is hidden from the program, and eddy answers each call,
 * for microseconds a read. The vdso route is the system-call route with eddy's own vDSO mapped
 * in place of the kernel's, so that the program's ordinary reads are faked in the program, about
 * as cheaply as by the library; only raw calls go to eddy. `--clock-via auto` chooses per node
 * from its binary (and follows script interpreters): preload, or vdso; preload, vdso and syscall
 * force one route. Every route fakes from the node's one control block, with one computation,
 * so every clock operation works the same through each.
 * Depends on: sim, clocksrv, clocksys, clocktrap, exekind, clockctl, proc. Used by: run,
 * faults, report.
 */
#ifndef EDDY_SIM_CLOCKROUTE_H
#define EDDY_SIM_CLOCKROUTE_H

#include "clocksrv.h"
#include "clocksys.h"
#include "proc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct sim;
struct sim_node;
struct cJSON;

enum clock_route {
    CLOCK_ROUTE_NONE,    /* no clock control for this node */
    CLOCK_ROUTE_PRELOAD, /* the library, with or without the filter for raw calls */
    CLOCK_ROUTE_VDSO,    /* the filter, with eddy's vDSO in place of the kernel's */
    CLOCK_ROUTE_SYSCALL, /* the filter, with the vDSO hidden: every read a trapped call */
};

#define CLOCKROUTE_WHY_MAX 240

/* One node's route, over all its incarnations. */
struct clockroute_node {
    enum clock_route route;
    char why[CLOCKROUTE_WHY_MAX];     /* why this route, in plain words */
    bool preload;                     /* LD_PRELOAD and EDDY_CLOCK_FILE in its environment */
    bool trap;                        /* the seccomp filter is installed */
    enum clocksys_vdso first;         /* what happens to its first program's vDSO */
    bool replaced;                    /* ... which got eddy's vDSO (this incarnation) */
    int replace_error;                /* errno of a replacement that failed, then hidden */
    char failure[CLOCKROUTE_WHY_MAX]; /* why the current incarnation's set-up failed, or "" */
    bool warned;                      /* a failure was said on stderr (once per node) */
    struct clocksrv_listener *cur;    /* the current incarnation's listener, or NULL */
    struct clocksrv_listener *all;    /* every listener it had, newest first */
    atomic_int exec_pid;    /* the last process of the node whose exec'd program lost its vDSO */
    atomic_int exec_action; /* ... and what happened to it (enum clocksys_vdso) */
    char block_path[300];   /* the node's clock file, for eddy's vDSO */
    struct clocksys_child child; /* what the next child does; sock is its end of the pair */
    int sock;                    /* eddy's end of the pair during a spawn, else -1 */
    struct clocksys_stats st;    /* over every incarnation, summed by clockroute_stop */
    struct sim *sim;
    struct sim_node *node;
};

/* Decides every node's route (the binary is classified once), allocates their state and starts
 * the thread that answers trapped calls; call after the control blocks exist. Nodes without a
 * block get CLOCK_ROUTE_NONE. */
void clockroute_setup(struct sim *s, const char *bin);

/* Adds what the node's spawn needs to o: the environment (written into envbuf) and the hooks. */
void clockroute_spawn_opts(struct sim *s, struct sim_node *n, struct proc_spawn_opts *o,
                           char *envbuf, size_t cap);

/* Whether clock faults reach node n now; if not, why (in plain words) into why. */
bool clockroute_reaches(struct sim *s, struct sim_node *n, char *why, size_t cap);

/* Stops answering trapped calls (every node is dead by then) and sums each node's counters;
 * call before the report. */
void clockroute_stop(struct sim *s);

/* Clock reads eddy faked for n through the system-call route (after clockroute_stop). */
uint64_t clockroute_trapped_reads(const struct sim_node *n);

const char *clockroute_name(enum clock_route r);

/* Adds node n's route to its entry in results.json's faults.clocks (after clockroute_stop). */
void clockroute_json(const struct sim_node *n, struct cJSON *o);

/* Prints the summary's "Clocks:" lines: nodes grouped by route and reason. */
void clockroute_summary(const struct sim *s, FILE *out);

/* Stops the server and frees every node's route state. */
void clockroute_fini(struct sim *s);

#endif /* EDDY_SIM_CLOCKROUTE_H */
