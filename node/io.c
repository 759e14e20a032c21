/*
 * io.c: the event loop of eddy-node.
 *
 * State machine: READING (stdin watcher on) -> PAUSED (too much output pending: stdin watcher
 * off, lines already read wait in the framer) -> READING once stdout drains below IO_OUT_LOW.
 * At end of input the node finishes the last unterminated line, flushes and leaves the loop.
 * stdout EPIPE means the reader has gone: replies are dropped from then on (counted and logged
 * once) but stdin is still served, because under Maelstrom a node that exits is a crash.
 * Depends on: node, line, buf, libev. Used by: main.
 */
#include "io.h"
#include "eddy/line.h"
#include "eddy/util.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct io {
    struct ev_loop *loop;
    ev_io in_w;
    ev_io out_w;
    struct line_reader in;
    struct buf out;
    struct buf log;
    struct node *node;
    int in_fd, out_fd, err_fd;
    bool paused;   /* output above IO_OUT_HIGH: not taking lines */
    bool eof;      /* stdin ended */
    bool out_dead; /* stdout gave EPIPE */
    unsigned long long dropped_replies;
};

static void io_flush_log(struct io *io)
{
    /* stderr stays blocking: Maelstrom and eddy always drain it, and a blocking write loses
     * nothing. */
    while (buf_len(&io->log) > 0) {
        ssize_t n = write(io->err_fd, buf_peek(&io->log), buf_len(&io->log));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            buf_clear(&io->log);
            return;
        }
        buf_consume(&io->log, (size_t)n);
    }
}

static void io_take_lines(struct io *io);

static void io_flush_out(struct io *io)
{
    for (;;) {
        while (buf_len(&io->out) > 0) {
            ssize_t n = write(io->out_fd, buf_peek(&io->out), buf_len(&io->out));
            if (n > 0) {
                buf_consume(&io->out, (size_t)n);
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno == EAGAIN)
                break;
            if (!io->out_dead) {
                char line[128];
                int k =
                    snprintf(line, sizeof(line),
                             "eddy-node: stdout is gone (%s); replies are dropped from now on\n",
                             n < 0 ? strerror(errno) : "short write");
                buf_append(&io->log, line, (size_t)k);
            }
            io->out_dead = true;
            buf_clear(&io->out);
        }
        if (!io->paused || buf_len(&io->out) >= IO_OUT_LOW)
            break;
        /* Drained enough: take the lines that waited, then flush what they produced. */
        io->paused = false;
        io_take_lines(io);
        if (!io->paused && !io->eof)
            ev_io_start(io->loop, &io->in_w);
    }
    /* Decided last, after any refill above, so that pending output always has a watcher. */
    if (buf_len(&io->out) > 0)
        ev_io_start(io->loop, &io->out_w);
    else
        ev_io_stop(io->loop, &io->out_w);
}

static void io_handle(struct io *io, const char *line, size_t len)
{
    node_handle_line(io->node, line, len, &io->out, &io->log);
    if (io->out_dead) {
        io->dropped_replies += buf_len(&io->out) > 0;
        buf_clear(&io->out);
    }
}

/* Takes complete lines from the framer until it needs input or output is too full. */
static void io_take_lines(struct io *io)
{
    for (;;) {
        if (buf_len(&io->out) >= IO_OUT_HIGH) {
            io->paused = true;
            ev_io_stop(io->loop, &io->in_w);
            return;
        }
        const char *line;
        size_t len;
        int rc = line_reader_next(&io->in, &line, &len);
        if (rc == 0)
            return;
        if (rc < 0)
            node_handle_oversized(io->node, io->in.line_no, io->in.discarded, &io->log);
        else
            io_handle(io, line, len);
    }
}

static void io_finish(struct io *io)
{
    const char *line;
    size_t len;
    int rc = line_reader_finish(&io->in, &line, &len);
    if (rc < 0)
        node_handle_oversized(io->node, io->in.line_no, io->in.discarded, &io->log);
    else if (rc > 0)
        io_handle(io, line, len);
    io->eof = true;
    ev_io_stop(io->loop, &io->in_w);
}

static void io_in_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct io *io = container_of(w, struct io, in_w);
    size_t room;
    char *space = line_reader_space(&io->in, &room);
    ssize_t n = read(io->in_fd, space, EDDY_MIN(room, (size_t)IO_READ_CHUNK));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > 0) {
        line_reader_commit(&io->in, (size_t)n);
        io_take_lines(io);
    } else {
        if (n < 0) {
            char line[128];
            int k = snprintf(line, sizeof(line), "eddy-node: reading stdin failed: %s\n",
                             strerror(errno));
            buf_append(&io->log, line, (size_t)k);
        }
        io_take_lines(io);
        if (!io->paused)
            io_finish(io);
    }
    io_flush_out(io);
    io_flush_log(io);
    if (io->eof && buf_len(&io->out) == 0)
        ev_break(loop, EVBREAK_ALL);
}

static void io_out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct io *io = container_of(w, struct io, out_w);
    io_flush_out(io);
    io_flush_log(io);
    if (io->eof && buf_len(&io->out) == 0)
        ev_break(loop, EVBREAK_ALL);
}

/* Pipes and sockets become non-blocking; a terminal or file shared with other processes is left
 * alone (its reads and writes complete promptly anyway). */
static void io_set_nonblock(int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
}

int io_run(struct node *n, int in_fd, int out_fd, int err_fd)
{
    struct io io = {.node = n, .in_fd = in_fd, .out_fd = out_fd, .err_fd = err_fd};
    io.loop = ev_default_loop(EVFLAG_AUTO);
    if (!io.loop) {
        fprintf(stderr, "eddy-node: cannot start the event loop\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    io_set_nonblock(in_fd);
    io_set_nonblock(out_fd);
    line_reader_init(&io.in, IO_LINE_MAX, IO_READ_CHUNK);
    buf_init(&io.out, IO_OUT_HIGH + NODE_REPLY_MAX(IO_LINE_MAX + IO_READ_CHUNK));
    buf_init(&io.log, IO_LOG_MAX);
    ev_io_init(&io.in_w, io_in_cb, in_fd, EV_READ);
    ev_io_init(&io.out_w, io_out_cb, out_fd, EV_WRITE);
    ev_io_start(io.loop, &io.in_w);
    ev_run(io.loop, 0);
    ev_io_stop(io.loop, &io.in_w);
    ev_io_stop(io.loop, &io.out_w);
    if (io.dropped_replies) {
        char line[128];
        int k =
            snprintf(line, sizeof(line), "eddy-node: %llu replies dropped after stdout closed\n",
                     io.dropped_replies);
        buf_append(&io.log, line, (size_t)k);
    }
    io_flush_log(&io);
    line_reader_fini(&io.in);
    buf_fini(&io.out);
    buf_fini(&io.log);
    return 0;
}
