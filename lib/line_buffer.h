/* Newline framing of a byte stream with a cap on line length (JSON-RPC one object per line). */
#ifndef DPDK_LB_LINE_BUFFER_H
#define DPDK_LB_LINE_BUFFER_H

#include <stdbool.h>
#include <stddef.h>

struct line_buffer {
	char *data;
	size_t start; /* first unconsumed byte */
	size_t len;   /* bytes held (from 0) */
	size_t cap;
	size_t max_line; /* longest accepted line, without its newline */
	size_t scanned;  /* bytes after start known to hold no newline */
};

/* Prepares an empty buffer accepting lines up to max_line bytes; 0 or -1. */
int line_buffer_init(struct line_buffer *b, size_t max_line);

/* Frees the buffer. */
void line_buffer_free(struct line_buffer *b);

/*
 * Returns a pointer to writable space for the next read and its size in *room (at least 1
 * byte), growing the buffer as needed; NULL when the pending line already exceeds max_line.
 */
char *line_buffer_write_ptr(struct line_buffer *b, size_t *room);

/* Records that n bytes were written at the pointer write_ptr returned. */
void line_buffer_commit(struct line_buffer *b, size_t n);

/*
 * Takes the next complete line: returns 1 and sets *line (NUL-terminated, newline and a
 * trailing CR removed, valid until the next call) and *len; 0 when no complete line is
 * buffered; -1 when the pending line is longer than max_line.
 */
int line_buffer_next(struct line_buffer *b, char **line, size_t *len);

#endif
