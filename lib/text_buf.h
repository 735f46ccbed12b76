/*
 * A growable text buffer with a size limit, for documents built on the control lcore (the
 * metrics page, the status page). An append that runs out of memory or past the limit marks
 * the buffer failed and every later append is ignored: callers check once, at the end.
 */
#ifndef DPDK_LB_TEXT_BUF_H
#define DPDK_LB_TEXT_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct text_buf {
	char *data; /* NUL-terminated when len > 0 */
	size_t len, cap, limit;
	bool failed;
};

/* An empty buffer that will hold at most limit bytes. */
void text_buf_init(struct text_buf *b, size_t limit);

/* Appends n bytes of s. */
void text_buf_append(struct text_buf *b, const char *s, size_t n);

/* Appends printf-formatted text. */
void text_buf_printf(struct text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s with the characters special in a Prometheus label value escaped (\\, ", newline). */
void text_buf_prom_label(struct text_buf *b, const char *s);

/* Appends s with the characters special in HTML text and attributes escaped. */
void text_buf_html(struct text_buf *b, const char *s);

/* Frees the data and leaves b empty (not failed). */
void text_buf_free(struct text_buf *b);

#endif
