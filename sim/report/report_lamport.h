/*
 * report_lamport.h: the Lamport diagram of report.html, like Maelstrom's messages.svg.
 *
 * One vertical timeline per process (nodes first, then clients), time flowing downward, and
 * an arrow from (sender, send time) to (receiver, receive time) per delivered message, labelled
 * with its type; a message that never arrived ends in a cross halfway. Time is warped so that
 * every distinct instant gets a readable row however bursty the traffic is: gaps between rows
 * are proportional to real time within limits, and longer pauses are drawn as marked breaks.
 * Depends on: report_page, cJSON. Used by: report_html.
 */
#ifndef EDDY_SIM_REPORT_LAMPORT_H
#define EDDY_SIM_REPORT_LAMPORT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LAMPORT_MESSAGES_MAX 1000 /* messages read from the map; results.json holds 400 */
#define LAMPORT_COLUMNS_MAX 40    /* timelines drawn; messages of other processes are left out */
#define LAMPORT_HEIGHT_MAX 9000.0 /* pixels; rows are squeezed beyond it */

struct lamport_stats {
    size_t drawn;       /* messages drawn */
    size_t delivered;   /* of them, with an arrow (they have a receive time) */
    size_t omitted;     /* messages left out: malformed, past the maximum, or of omitted columns */
    uint32_t columns;   /* timelines drawn */
    uint32_t processes; /* processes seen, drawn or not */
};

/* Writes an <svg id="plot-messages"> for messages (results["plot"]["messages"]), ordering node
 * timelines as in nodes (results["nodes"]), and returns what it drew. Writes nothing (and
 * drawn == 0) when there are no well-formed messages. */
struct lamport_stats lamport_write(FILE *f, const cJSON *messages, const cJSON *nodes);

#endif /* EDDY_SIM_REPORT_LAMPORT_H */
