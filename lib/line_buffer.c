#include "line_buffer.h"

#include <stdlib.h>
#include <string.h>

int line_buffer_init(struct line_buffer *b, size_t max_line)
{
	memset(b, 0, sizeof(*b));
	b->max_line = max_line;
	b->cap = 4096;
	b->data = malloc(b->cap);
	return b->data ? 0 : -1;
}

void line_buffer_free(struct line_buffer *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

char *line_buffer_write_ptr(struct line_buffer *b, size_t *room)
{
	/* Drop what was consumed before growing, so memory follows the longest line, not the stream. */
	if (b->start > 0) {
		memmove(b->data, b->data + b->start, b->len - b->start);
		b->len -= b->start;
		b->start = 0;
	}
	if (b->len > b->max_line + 1)
		return NULL;
	if (b->cap - b->len < 1024) {
		size_t ncap = b->cap * 2;
		if (ncap > b->max_line + 2 + 4096)
			ncap = b->max_line + 2 + 4096;
		if (ncap <= b->len + 1)
			return NULL;
		char *n = realloc(b->data, ncap);
		if (n == NULL)
			return NULL;
		b->data = n;
		b->cap = ncap;
	}
	/* keep one byte for the NUL that line_buffer_next may write */
	*room = b->cap - b->len - 1;
	return b->data + b->len;
}

void line_buffer_commit(struct line_buffer *b, size_t n)
{
	b->len += n;
}

int line_buffer_next(struct line_buffer *b, char **line, size_t *len)
{
	char *begin = b->data + b->start;
	size_t avail = b->len - b->start;
	/* Resume where the last scan stopped: a line arriving byte by byte stays linear. */
	char *nl = memchr(begin + b->scanned, '\n', avail - b->scanned);

	if (nl == NULL) {
		b->scanned = avail;
		return avail > b->max_line ? -1 : 0;
	}
	b->scanned = 0;
	size_t n = (size_t)(nl - begin);
	if (n > b->max_line)
		return -1;
	b->start += n + 1;
	if (n > 0 && begin[n - 1] == '\r')
		n--;
	begin[n] = '\0';
	*line = begin;
	*len = n;
	return 1;
}
