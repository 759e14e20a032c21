/*
 * clockroute.h: which way clock faults reach each node, and the system-call route's life in a run.
 *
 * Two routes. The preload library (libeddyclock.so through LD_PRELOAD) reaches a dynamically
 * linked program that reads the clock through libc, for a few nanoseconds a read. The system-call
 * route reaches everything else (Go programs, static binaries, raw clock system calls): a seccomp
 * filter traps the clock calls, the vDSO is hidden from the program, and eddy answers from its
 * event loop, for a few microseconds a read. `--clock-via auto` chooses per node from its binary
 * (and follows script interpreters); preload and syscall force one route. Both routes fake from
 * the node's one control block, so every clock operation works the same through either.
 * Depends on: sim, clocksys, clocktrap, exekind, clockctl, proc, libev. Used by: run, faults,
 * report.
 */
#ifndef EDDY_SIM_CLOCKROUTE_H
#define EDDY_SIM_CLOCKROUTE_H

#include "clocksys.h"
#include "proc.h"

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct sim;
struct sim_node;

enum clock_route {
    CLOCK_ROUTE_NONE,    /* no clock control for this node */
    CLOCK_ROUTE_PRELOAD, /* the library, with or without the filter for raw calls */
    CLOCK_ROUTE_SYSCALL, /* the filter, with the vDSO hidden */
};

#define CLOCKROUTE_WHY_MAX 240

/* One node's route, over all its incarnations. */
struct clockroute_node {
    enum clock_route route;
    char why[CLOCKROUTE_WHY_MAX];     /* why this route, in plain words */
    bool preload;                     /* LD_PRELOAD and EDDY_CLOCK_FILE in its environment */
    bool trap;                        /* the seccomp filter is installed */
    bool hide;                        /* its first program's vDSO is hidden */
    char failure[CLOCKROUTE_WHY_MAX]; /* why the current incarnation's set-up failed, or "" */
    bool warned;                      /* the failure was said on stderr (once per node) */
    int listener;                     /* the seccomp listener of the current incarnation, or -1 */
    ev_io listener_w;
    struct clocksys_child child; /* what the next child does; sock is its end of the pair */
    int sock;                    /* eddy's end of the pair during a spawn, else -1 */
    struct clocksys_stats st;    /* over every incarnation */
    struct sim *sim;
    struct sim_node *node;
};

/* Decides every node's route (the binary is classified once) and allocates their state; call
 * after the control blocks exist. Nodes without a block get CLOCK_ROUTE_NONE. */
void clockroute_setup(struct sim *s, const char *bin);

/* Adds what the node's spawn needs to o: the environment (written into envbuf) and the hooks. */
void clockroute_spawn_opts(struct sim *s, struct sim_node *n, struct proc_spawn_opts *o,
                           char *envbuf, size_t cap);

/* The node's process is gone: its listener closes. */
void clockroute_node_exit(struct sim *s, struct sim_node *n);

/* Whether clock faults reach node n now; if not, why (in plain words) into why. */
bool clockroute_reaches(struct sim *s, struct sim_node *n, char *why, size_t cap);

/* Clock reads eddy faked for n through the system-call route, over every incarnation. */
uint64_t clockroute_trapped_reads(const struct sim_node *n);

const char *clockroute_name(enum clock_route r);

struct cJSON;

/* Adds node n's route to its entry in results.json's faults.clocks. */
void clockroute_json(const struct sim_node *n, struct cJSON *o);

/* Prints the summary's "Clocks:" lines: nodes grouped by route and reason. */
void clockroute_summary(const struct sim *s, FILE *out);

/* Frees every node's route state (closing listeners). */
void clockroute_fini(struct sim *s);

#endif /* EDDY_SIM_CLOCKROUTE_H */
