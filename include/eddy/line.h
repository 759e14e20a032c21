/*
 * line.h: an incremental line framer with a maximum line length.
 *
 * The I/O shell reads straight into the framer's buffer (line_reader_space and line_reader_commit)
 * and then takes complete lines out of it as slices (line_reader_next), so a read of 64 KiB holding
 * 900 messages costs one read(2) and no copies. A line longer than max_line is not buffered: its
 * bytes are dropped as they arrive and, when its newline comes, reported once as -EMSGSIZE with
 * its full length. Memory is therefore bounded by max_line + chunk whatever the peer sends.
 * Depends on: alloc. Used by: node io, sim proc.
 */
#ifndef EDDY_LINE_H
#define EDDY_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct line_reader {
    char *data;            /* owned, cap bytes */
    size_t cap;            /* max_line + chunk */
    size_t start;          /* first byte of the current (partial) line */
    size_t scan;           /* bytes before this offset hold no newline */
    size_t end;            /* one past the last byte read */
    size_t max_line;       /* longest line accepted, in bytes, newline excluded */
    bool discarding;       /* inside an oversized line */
    size_t discarded;      /* bytes of the oversized line dropped so far */
    unsigned long line_no; /* lines completed so far (oversized ones included) */
};

/* max_line: longest line kept; chunk: largest single read. Both > 0. */
void line_reader_init(struct line_reader *lr, size_t max_line, size_t chunk);
void line_reader_fini(struct line_reader *lr);

/* Where to read into, and how much room there is (always >= 1). Call line_reader_next until it
 * returns 0 before asking for space again: that is what keeps a partial line under max_line. */
char *line_reader_space(struct line_reader *lr, size_t *room);

/* Records that n bytes were read into the space returned by line_reader_space. */
void line_reader_commit(struct line_reader *lr, size_t n);

/* Takes the next complete line: 1 with *line and *len set (newline excluded, valid until the next
 * space/commit call), 0 when more input is needed, or -EMSGSIZE when an oversized line just
 * ended (its length is in lr->discarded). */
int line_reader_next(struct line_reader *lr, const char **line, size_t *len);

/* At end of input: 1 with the unterminated last line, if any; 0 if there is none; -EMSGSIZE if
 * the input ended inside an oversized line. */
int line_reader_finish(struct line_reader *lr, const char **line, size_t *len);

#endif /* EDDY_LINE_H */
