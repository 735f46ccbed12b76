#include "text_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_buf_init(struct text_buf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

/* Room for n more bytes and the terminator; false (and failed) when there is none. */
static bool reserve(struct text_buf *b, size_t n)
{
	if (b->failed)
		return false;
	if (n > b->limit || b->len > b->limit - n) {
		b->failed = true;
		return false;
	}
	if (b->len + n + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *d = realloc(b->data, cap);
	if (d == NULL) {
		b->failed = true;
		return false;
	}
	b->data = d;
	b->cap = cap;
	return true;
}

void text_buf_append(struct text_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void text_buf_printf(struct text_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		text_buf_append(b, small, (size_t)n);
		return;
	}
	if (!reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Appends s, replacing each character that escape() maps to a string. */
static void append_escaped(struct text_buf *b, const char *s, const char *(*escape)(char))
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *e = escape(*s);
		if (e == NULL)
			continue;
		text_buf_append(b, run, (size_t)(s - run));
		text_buf_append(b, e, strlen(e));
		run = s + 1;
	}
	text_buf_append(b, run, (size_t)(s - run));
}

static const char *prom_escape(char c)
{
	return c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n" : NULL;
}

static const char *html_escape(char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	default: return NULL;
	}
}

void text_buf_prom_label(struct text_buf *b, const char *s)
{
	append_escaped(b, s, prom_escape);
}

void text_buf_html(struct text_buf *b, const char *s)
{
	append_escaped(b, s, html_escape);
}

void text_buf_free(struct text_buf *b)
{
	free(b->data);
	size_t limit = b->limit;
	text_buf_init(b, limit);
}
