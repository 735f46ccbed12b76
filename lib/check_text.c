/* Text-protocol helpers for the check dialogues (see check_text.h). */
#include "check_text.h"

#include <string.h>

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* The length of the line starting at off (line end included), or 0 when not complete. */
static size_t line_at(const struct check_dialogue *d, size_t off)
{
	const uint8_t *nl = memchr(d->rx + off, '\n', d->rx_len - off);

	return nl == NULL ? 0 : (size_t)(nl - (d->rx + off)) + 1;
}

/* The bytes of a line without its LF or CRLF. */
static size_t line_body(const uint8_t *s, size_t len)
{
	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	return len;
}

/* Whether the line at s (body length n) ends a reply with code c: "c text" or just "c". */
static bool is_last_line(const uint8_t *s, size_t n, const uint8_t *code)
{
	return n >= 3 && memcmp(s, code, 3) == 0 && (n == 3 || s[3] == ' ');
}

int check_numbered_reply(const struct check_dialogue *d, size_t *scan,
			 struct check_numbered_reply *r)
{
	const uint8_t *s = d->rx;
	size_t n1;

	/* refuse a line that cannot be a reply as soon as its first bytes show it */
	for (size_t i = 0; i < 3 && i < d->rx_len; i++)
		if (!is_digit(s[i]))
			return -1;
	if (d->rx_len > 3 && s[3] != ' ' && s[3] != '-' && s[3] != '\r' && s[3] != '\n')
		return -1;
	n1 = line_at(d, 0);
	if (n1 == 0)
		return 0;
	size_t body1 = line_body(s, n1);
	if (body1 < 3 || (body1 > 3 && s[3] != ' ' && s[3] != '-'))
		return -1;
	r->code = (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 + (unsigned)(s[2] - '0');
	r->text = body1 > 4 ? s + 4 : s + body1;
	r->text_len = body1 > 4 ? body1 - 4 : 0;
	if (body1 == 3 || s[3] == ' ') {
		r->len = n1;
		return 1;
	}
	if (*scan < n1)
		*scan = n1;
	for (;;) {
		size_t n = line_at(d, *scan);
		if (n == 0)
			return 0;
		if (is_last_line(s + *scan, line_body(s + *scan, n), s)) {
			r->len = *scan + n;
			return 1;
		}
		*scan += n;
	}
}

const char *check_text_quote(char *out, size_t cap, const uint8_t *s, size_t n)
{
	size_t o = 0;

	if (cap == 0)
		return out;
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			break;
		out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	}
	out[o] = '\0';
	return out;
}

bool check_text_is_safe_arg(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int check_next_numbered_reply(struct check_dialogue *d, const char *proto,
			      struct check_numbered_reply *r, char said[CHECK_QUOTE_LEN],
			      enum check_verdict *v)
{
	size_t scan;
	int got;

	memcpy(&scan, d->scratch, sizeof(scan));
	got = check_numbered_reply(d, &scan, r);
	memcpy(d->scratch, &scan, sizeof(scan));
	if (got == 0) {
		*v = CHECK_MORE;
		return 0;
	}
	if (got < 0) {
		*v = check_dialogue_down(d, "not an %s reply: \"%s\"", proto,
					 check_text_quote(said, CHECK_QUOTE_LEN, d->rx, d->rx_len));
		return -1;
	}
	check_text_quote(said, CHECK_QUOTE_LEN, r->text, r->text_len);
	check_dialogue_consume(d, r->len);
	memset(d->scratch, 0, sizeof(scan));
	return 1;
}
