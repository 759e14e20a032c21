/*
 * io.h: eddy-node's libev shell around node.c.
 *
 * Reads stdin in large chunks, hands every complete line to node_handle_line, and writes the
 * replies of a whole chunk with as few write(2) calls as the pipe allows. Output is bounded: above
 * IO_OUT_HIGH bytes of unwritten replies the node stops taking lines from stdin until stdout
 * drains, so a reader that stops reading stalls the node instead of growing its memory.
 * Depends on: node, line, buf, libev. Used by: main.
 */
#ifndef EDDY_NODE_IO_H
#define EDDY_NODE_IO_H

#include "node.h"

#define IO_LINE_MAX (1u << 20)     /* longest input line kept: 1 MiB */
#define IO_READ_CHUNK (256u << 10) /* largest single read(2) */
#define IO_OUT_HIGH (1u << 20)     /* stop reading stdin above this much pending output */
#define IO_OUT_LOW (256u << 10)    /* and start again below this */
#define IO_LOG_MAX (64u << 10)     /* pending stderr bytes */

/* Serves until end of input on in_fd, then flushes and returns the exit status (0). Returns 1
 * only if the event loop cannot be set up. */
int io_run(struct node *n, int in_fd, int out_fd, int err_fd);

#endif /* EDDY_NODE_IO_H */
